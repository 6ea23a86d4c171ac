import { canonicalRegistry } from '../reference.js'

/**
 * Credential files key their entries by registry, written in several ways: `https://index.docker.io/v1/`,
 * `docker.io`, `registry.example.com:5000`, `http://host/`, and (podman) `host/namespace/repo`.
 * `normalizeKey` brings any of them to one form so lookups can compare.
 */

/** The server address Docker itself uses (and passes to credential helpers) for Docker Hub. */
export const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/'

export function normalizeKey(key: string): string {
  let k = key.trim().toLowerCase().replace(/^[a-z][a-z0-9+.-]*:\/\//, '')
  k = k.replace(/\/+$/, '')
  const slash = k.indexOf('/')
  const host = canonicalRegistry(slash >= 0 ? k.slice(0, slash) : k)
  let path = slash >= 0 ? k.slice(slash + 1) : ''
  // Docker's legacy `/v1` or `/v2` API path is not a repository.
  if (/^v[12]$/.test(path)) path = ''
  return path ? `${host}/${path}` : host
}

/** Keys to try for a repository, most specific first: host/a/b, host/a, host. */
export function candidateKeys(registry: string, repository?: string): string[] {
  const host = normalizeKey(registry)
  const out: string[] = []
  if (repository) {
    const parts = repository.toLowerCase().split('/')
    for (let i = parts.length; i > 0; i--) out.push(`${host}/${parts.slice(0, i).join('/')}`)
  }
  out.push(host)
  return out
}

/** What to hand a credential helper as the server URL (Docker's convention). */
export function helperServerUrl(registry: string): string {
  return normalizeKey(registry) === 'docker.io' ? DOCKER_HUB_SERVER : registry
}
