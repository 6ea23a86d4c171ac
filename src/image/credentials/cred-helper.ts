import { spawn } from 'node:child_process'
import { registerSecret } from '../../core/redact.js'
import { SlimError } from '../../core/errors.js'
import type { Credential } from './types.js'

const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const HELPER_TIMEOUT_MS = 15_000
/** Docker's helpers print this (on stdout) when they have nothing for the server. */
const NOT_FOUND = /credentials not found/i
/** A helper that answers with this user name is returning an identity (refresh) token. */
const TOKEN_USERNAME = '<token>'

/**
 * Runs `docker-credential-NAME get` with the server URL on stdin (Docker's credential helper
 * protocol) and returns the credential, or undefined when the helper has none.
 */
export async function credentialFromHelper(name: string, serverUrl: string, env: NodeJS.ProcessEnv = process.env): Promise<Credential | undefined> {
  if (!HELPER_NAME.test(name)) {
    throw new SlimError('auth', `credential helper name "${name.slice(0, 60)}" is not valid; fix credsStore/credHelpers in your Docker config`)
  }
  const program = `docker-credential-${name}`
  const { code, stdout, stderr, spawnError, timedOut } = await run(program, ['get'], `${serverUrl}\n`, env)
  if (spawnError) {
    const why = spawnError.code === 'ENOENT' ? 'is not installed (not found in PATH)' : `could not start (${spawnError.code ?? spawnError.message})`
    throw new SlimError('auth', `credential helper ${program} ${why}; install it, or remove credsStore/credHelpers for ${serverUrl} from your Docker config`)
  }
  if (timedOut) throw new SlimError('auth', `credential helper ${program} did not answer within ${HELPER_TIMEOUT_MS / 1000} s; check that it works: echo ${serverUrl} | ${program} get`)
  if (code !== 0) {
    if (NOT_FOUND.test(stdout) || NOT_FOUND.test(stderr)) return undefined
    throw new SlimError('auth', `credential helper ${program} failed (exit ${code}); check it with: echo ${serverUrl} | ${program} get`)
  }
  let parsed: { Username?: unknown; Secret?: unknown }
  try {
    parsed = JSON.parse(stdout) as typeof parsed
  } catch {
    throw new SlimError('auth', `credential helper ${program} printed something that is not JSON; check it with: echo ${serverUrl} | ${program} get`)
  }
  const username = typeof parsed.Username === 'string' ? parsed.Username : ''
  const secret = typeof parsed.Secret === 'string' ? parsed.Secret : ''
  registerSecret(secret)
  if (!secret) return undefined
  const source = `credential helper ${program}`
  if (username === TOKEN_USERNAME) return { identityToken: secret, source }
  return { username, password: secret, source }
}

interface RunResult {
  code: number | null
  stdout: string
  stderr: string
  spawnError?: NodeJS.ErrnoException
  timedOut: boolean
}

function run(program: string, args: string[], input: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, HELPER_TIMEOUT_MS)
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < 1 << 20) stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 1 << 16) stderr += d
    })
    child.stdin.on('error', () => {
      /* the helper may exit before reading stdin; its exit code tells the story */
    })
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      resolve({ code: null, stdout, stderr, spawnError: e, timedOut })
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, timedOut })
    })
    child.stdin.end(input)
  })
}
