import { isIP } from 'node:net'

/**
 * Which hosts may be reached over plain http. Like Docker: loopback hosts (localhost, 127.0.0.0/8,
 * ::1) always may, other hosts only when the user names them with --insecure-registry. The
 * decision is made on the name as written, never on what it resolves to, so a DNS entry cannot
 * silently downgrade a registry to plain http.
 */
export function mayUsePlainHttp(registry: string, insecureRegistries: readonly string[] = []): boolean {
  const host = hostOf(registry)
  if (isLoopbackHost(host)) return true
  const wanted = registry.toLowerCase()
  return insecureRegistries.some((entry) => {
    const e = entry.trim().toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '')
    // `HOST` allows every port of HOST; `HOST:PORT` only that port.
    return e === wanted || e === hostOf(wanted)
  })
}

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  if (h === 'localhost' || h.endsWith('.localhost')) return true
  if (isIP(h) === 4) return h.startsWith('127.')
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h)
  return false
}

/** `host:port` -> `host`; `[::1]:5000` -> `[::1]`. */
export function hostOf(registry: string): string {
  if (registry.startsWith('[')) {
    const close = registry.indexOf(']')
    return close >= 0 ? registry.slice(0, close + 1) : registry
  }
  const c = registry.lastIndexOf(':')
  return c >= 0 ? registry.slice(0, c) : registry
}

/**
 * Docker Hub's registry API lives on registry-1.docker.io, while references (and credential
 * keys) say docker.io.
 */
export function apiHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry
}
