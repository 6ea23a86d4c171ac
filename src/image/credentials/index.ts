import { homedir } from 'node:os'
import { join } from 'node:path'
import { registerSecret } from '../../core/redact.js'
import { readAuthFile, helperFor, lookupInlineAuth } from './auth-file.js'
import { credentialFromHelper } from './cred-helper.js'
import { helperServerUrl } from './keys.js'
import type { Credential } from './types.js'

export type { Credential } from './types.js'

export interface CredentialOptions {
  username?: string
  password?: string
  /** Docker config directory (default $DOCKER_CONFIG, else ~/.docker). */
  dockerConfigDir?: string
  /** podman-style auth.json to read before the defaults. */
  authFile?: string
  env?: NodeJS.ProcessEnv
  log?: (msg: string) => void
}

/**
 * Finds credentials for a registry (and repository, for podman's per-repository keys), in the
 * order podman/skopeo use:
 *   1. explicit --username/--password-stdin
 *   2. auth.json: --authfile, $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json
 *   3. Docker's config.json in $DOCKER_CONFIG or ~/.docker
 * Within one file: the credential helper for the host (credHelpers, then credsStore), then the
 * inline `auths` entry. Undefined means "pull anonymously".
 */
export async function resolveCredentials(registry: string, repository: string | undefined, opts: CredentialOptions = {}): Promise<Credential | undefined> {
  const env = opts.env ?? process.env
  const log = opts.log ?? (() => {})
  if (opts.username !== undefined || opts.password !== undefined) {
    registerSecret(opts.password)
    return { username: opts.username ?? '', password: opts.password ?? '', source: 'explicit --username/--password' }
  }
  for (const path of credentialFiles(opts, env)) {
    const file = readAuthFile(path)
    if (!file) continue
    const helper = helperFor(file, registry, repository)
    if (helper) {
      const cred = await credentialFromHelper(helper, helperServerUrl(registry), env)
      if (cred) {
        log(`credentials for ${registry}: from ${cred.source} (configured in ${path})`)
        return cred
      }
    }
    const inline = lookupInlineAuth(file, registry, repository, path)
    if (inline) {
      log(`credentials for ${registry}: from ${inline.source}`)
      return inline
    }
  }
  log(`credentials for ${registry}: none found, pulling anonymously`)
  return undefined
}

/** The files to look in, in order, without duplicates. */
export function credentialFiles(opts: Pick<CredentialOptions, 'authFile' | 'dockerConfigDir'>, env: NodeJS.ProcessEnv = process.env): string[] {
  const files: string[] = []
  if (opts.authFile) files.push(opts.authFile)
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE)
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'))
  const dockerDir = opts.dockerConfigDir ?? env.DOCKER_CONFIG ?? join(env.HOME || homedir(), '.docker')
  files.push(join(dockerDir, 'config.json'))
  return [...new Set(files)]
}
