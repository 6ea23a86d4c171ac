import { Flags } from '@oclif/core'
import { loadConfig, parseMirrorFlag, withConfigMirrors } from '../advise/config.js'
import { SlimError } from '../core/errors.js'
import { parseBytes } from '../core/format.js'
import { registerSecret } from '../core/redact.js'
import { defaultCacheDir } from '../image/cache.js'
import { parsePlatform } from '../image/platform.js'
import type { OpenOptions } from '../image/types.js'

/** --cache-dir, here and in `slim cache`. */
export const CACHE_DIR_DESCRIPTION = 'The cache directory: registry blobs, layer indexes, analysis results (default $XDG_CACHE_HOME/slim or ~/.cache/slim).'

/** The cache directory the flags name, else the default one. */
export function cacheDirOf(flags: { 'cache-dir'?: string }): string {
  return flags['cache-dir'] ?? defaultCacheDir()
}

/** Flags shared by every command that opens an image. */
export const imageFlags = {
  platform: Flags.string({ description: 'Platform to pick from a multi-arch image, os/arch[/variant] (default: this host\'s).', helpGroup: 'IMAGE' }),
  username: Flags.string({ description: 'Registry user name (use with --password-stdin).', helpGroup: 'IMAGE' }),
  'password-stdin': Flags.boolean({ description: 'Read the registry password or token from standard input.', default: false, helpGroup: 'IMAGE' }),
  'insecure-registry': Flags.string({ description: 'Allow plain http for this registry host (repeatable). localhost and 127.0.0.0/8 are always allowed.', multiple: true, helpGroup: 'IMAGE' }),
  'cert-dir': Flags.string({ description: 'Directory with extra CA certificates (<host:port>/ca.crt or *.crt) and client certificates.', helpGroup: 'IMAGE' }),
  'auth-file': Flags.string({ description: 'Credentials file in docker config / podman auth.json format.', helpGroup: 'IMAGE' }),
  'cache-dir': Flags.string({ description: CACHE_DIR_DESCRIPTION, helpGroup: 'IMAGE' }),
  'no-cache': Flags.boolean({ description: 'Do not read or write the cache (blobs, layer indexes, analysis results).', default: false, helpGroup: 'IMAGE' }),
  'max-zstd-window': Flags.string({ description: 'Largest window a zstd layer may need (memory the decoder allocates), e.g. 1GiB for zstd --long=30 layers. Default 128MiB.', helpGroup: 'IMAGE' }),
  'registry-mirror': Flags.string({ description: 'Read registry images through a mirror: REGISTRY=MIRROR, e.g. docker.io=registry.internal:5000 (repeatable). Applies to the image and to the bases; the config file\'s mirrors apply too.', multiple: true, helpGroup: 'IMAGE' }),
  'registry-timeout': Flags.string({ description: 'Overall time limit per registry request, in seconds: the base, to which 1 s per MB of expected size is added. Default 30.', helpGroup: 'IMAGE' }),
}

export interface ImageFlagValues {
  platform?: string
  username?: string
  'password-stdin': boolean
  'insecure-registry'?: string[]
  'cert-dir'?: string
  'auth-file'?: string
  'cache-dir'?: string
  'no-cache': boolean
  'max-zstd-window'?: string
  'registry-timeout'?: string
  'registry-mirror'?: string[]
  /** --config (every command that opens an image has it): its mirrors serve the command's images too. */
  config?: string
}

export async function openOptionsFromFlags(flags: ImageFlagValues, log?: (m: string) => void): Promise<OpenOptions> {
  if (flags['password-stdin'] && !flags.username) {
    throw new SlimError('usage', '--password-stdin needs --username')
  }
  let password: string | undefined
  if (flags['password-stdin']) {
    password = (await readStdin()).replace(/\r?\n$/, '')
    if (!password) throw new SlimError('usage', '--password-stdin: standard input was empty; pipe the password in, e.g. `echo "$TOKEN" | slim ... --password-stdin`')
    registerSecret(password)
  }
  const open: OpenOptions = {
    platform: flags.platform ? parsePlatform(flags.platform) : undefined,
    cacheDir: flags['no-cache'] ? undefined : cacheDirOf(flags),
    registry: {
      username: flags.username,
      password,
      insecureRegistries: flags['insecure-registry'],
      certDir: flags['cert-dir'],
      authFile: flags['auth-file'],
      ...(flags['registry-timeout'] === undefined ? {} : { timeoutMs: secondsFlag('--registry-timeout', flags['registry-timeout']) }),
    },
    log,
    ...(flags['registry-mirror']?.length ? { registryMirrors: Object.fromEntries(flags['registry-mirror'].map((f) => parseMirrorFlag(f, '--registry-mirror'))) } : {}),
    ...(flags['max-zstd-window'] === undefined ? {} : { maxZstdWindow: sizeFlag('--max-zstd-window', flags['max-zstd-window']) }),
  }
  return withConfigMirrors(open, loadConfig(flags.config))
}

function secondsFlag(name: string, value: string): number {
  const n = Number(value.trim().replace(/s$/, ''))
  if (!Number.isFinite(n) || n <= 0) throw new SlimError('usage', `${name} "${value}" is not a number of seconds; use e.g. 30 or 120`)
  return Math.round(n * 1000)
}

function sizeFlag(name: string, value: string): number {
  const n = parseBytes(value)
  if (!n) throw new SlimError('usage', `${name} "${value}" is not a size; use e.g. 1GiB or 512MiB`)
  return n
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new SlimError('usage', '--password-stdin: standard input is a terminal; pipe the password in')
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
