import { readFileSync } from 'node:fs'
import { registerSecret } from '../../core/redact.js'
import { SlimError } from '../../core/errors.js'
import { candidateKeys, normalizeKey } from './keys.js'
import type { AuthConfigFile, AuthEntry, Credential } from './types.js'

/**
 * Reads a Docker config.json or podman auth.json. A missing file is "no credentials"; a file that
 * exists but is not JSON is an error naming the file (silently ignoring it would turn into a
 * confusing 401 later).
 */
export function readAuthFile(path: string): AuthConfigFile | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw new SlimError('auth', `cannot read credentials file ${path} (${code ?? 'error'}); fix its permissions or point DOCKER_CONFIG/REGISTRY_AUTH_FILE elsewhere`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new SlimError('auth', `credentials file ${path} is not valid JSON; fix or remove it`)
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SlimError('auth', `credentials file ${path} is not a JSON object; fix or remove it`)
  }
  const file = parsed as AuthConfigFile
  // Register every secret up front so nothing from this file can leak into a later message.
  for (const entry of Object.values(file.auths ?? {})) {
    if (entry && typeof entry === 'object') {
      registerSecret(entry.auth)
      registerSecret(entry.password)
      registerSecret(entry.identitytoken)
    }
  }
  return file
}

/** The inline `auths` entry for a registry/repository, most specific key first. */
export function lookupInlineAuth(file: AuthConfigFile, registry: string, repository: string | undefined, source: string): Credential | undefined {
  const byKey = new Map<string, AuthEntry>()
  for (const [key, entry] of Object.entries(file.auths ?? {})) {
    if (entry && typeof entry === 'object' && !byKey.has(normalizeKey(key))) byKey.set(normalizeKey(key), entry)
  }
  for (const key of candidateKeys(registry, repository)) {
    const entry = byKey.get(key)
    if (!entry) continue
    const cred = entryToCredential(entry, `${source} (${key})`, source)
    if (cred) return cred
  }
  return undefined
}

/** The credential helper configured for this registry: credHelpers[host] first, then credsStore. */
export function helperFor(file: AuthConfigFile, registry: string, repository?: string): string | undefined {
  const helpers = new Map<string, string>()
  for (const [key, name] of Object.entries(file.credHelpers ?? {})) {
    if (typeof name === 'string' && name) helpers.set(normalizeKey(key), name)
  }
  for (const key of candidateKeys(registry, repository)) {
    const name = helpers.get(key)
    if (name) return name
  }
  return typeof file.credsStore === 'string' && file.credsStore ? file.credsStore : undefined
}

function entryToCredential(entry: AuthEntry, source: string, file: string): Credential | undefined {
  if (typeof entry.identitytoken === 'string' && entry.identitytoken) {
    return { identityToken: entry.identitytoken, username: decodeAuth(entry.auth, file)?.username ?? entry.username, source }
  }
  if (typeof entry.auth === 'string' && entry.auth) {
    const decoded = decodeAuth(entry.auth, file)
    if (decoded) return { ...decoded, source }
  }
  if (typeof entry.username === 'string' && entry.username && typeof entry.password === 'string') {
    return { username: entry.username, password: entry.password, source }
  }
  return undefined
}

/** `auth` is base64("user:password"); the password may itself contain ':'. */
function decodeAuth(auth: string | undefined, file: string): { username: string; password: string } | undefined {
  if (!auth) return undefined
  const text = Buffer.from(auth, 'base64').toString('utf8')
  const colon = text.indexOf(':')
  if (colon <= 0) {
    throw new SlimError('auth', `credentials file ${file} has an "auth" value that is not base64 of user:password; run docker login again`)
  }
  const password = text.slice(colon + 1)
  registerSecret(password)
  return { username: text.slice(0, colon), password }
}
