import { readdirSync, readFileSync, statSync } from 'node:fs'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { connect, createSecureContext, rootCertificates, type SecureContext } from 'node:tls'
import { SlimError } from '../../core/errors.js'

/**
 * The TLS material for one registry host. Trust = Node's bundled roots + the system bundle +
 * NODE_EXTRA_CA_CERTS + --cert-dir. --cert-dir follows Docker's certs.d layout when it has a
 * `<host:port>` (or `<host>`) subdirectory, else it is used as a flat directory like skopeo's:
 * `*.crt` are CA certificates, `NAME.cert` + `NAME.key` a client certificate pair.
 */
export interface TlsMaterial {
  ca: string[]
  cert?: string
  key?: string
  /** Human description of where extra trust came from, for debug logs. */
  sources: string[]
}

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem']

let systemCache: string[] | undefined
let systemBundlePath: string | undefined

function systemCertificates(): string[] {
  if (systemCache) return systemCache
  const out = [...rootCertificates]
  const file = process.env.SSL_CERT_FILE ? [process.env.SSL_CERT_FILE] : SYSTEM_BUNDLES
  for (const f of file) {
    const pem = readIfFile(f)
    if (pem) {
      out.push(pem)
      systemBundlePath = f
      break
    }
  }
  systemCache = out
  return out
}

export function tlsMaterialFor(registry: string, certDir?: string): TlsMaterial {
  const ca = [...systemCertificates()]
  const sources: string[] = []
  // Passing `ca` replaces Node's defaults, which would drop NODE_EXTRA_CA_CERTS: add it back.
  const extra = process.env.NODE_EXTRA_CA_CERTS
  if (extra && extra !== systemBundlePath) {
    const pem = readIfFile(extra)
    if (pem) {
      ca.push(pem)
      sources.push(`NODE_EXTRA_CA_CERTS=${extra}`)
    }
  }
  let cert: string | undefined
  let key: string | undefined
  if (certDir) {
    const dir = certDirFor(certDir, registry)
    let names: string[] = []
    try {
      names = readdirSync(dir).sort()
    } catch (e) {
      throw new SlimError('usage', `--cert-dir ${certDir}: cannot read the directory (${(e as NodeJS.ErrnoException).code ?? 'error'}); give a directory with ca.crt or <host:port>/ca.crt`)
    }
    for (const n of names) {
      if (n.endsWith('.crt')) {
        const pem = readIfFile(join(dir, n))
        if (pem) {
          ca.push(pem)
          sources.push(join(dir, n))
        }
      } else if (n.endsWith('.cert')) {
        const keyName = `${n.slice(0, -'.cert'.length)}.key`
        if (!names.includes(keyName)) {
          throw new SlimError('usage', `--cert-dir: client certificate ${join(dir, n)} has no matching ${keyName}`)
        }
        cert = readIfFile(join(dir, n))
        key = readIfFile(join(dir, keyName))
        sources.push(`client cert ${join(dir, n)}`)
      }
    }
  }
  return { ca, cert, key, sources }
}

const contexts = new Map<string, SecureContext>()

/**
 * A TLS context for the host, built once per distinct trust setting: building one from a few
 * hundred CA certificates costs ~100 ms of CPU, too much to pay on every connection.
 */
export function secureContextFor(registry: string, certDir?: string): { context: SecureContext; sources: string[] } {
  const material = tlsMaterialFor(registry, certDir)
  const key = JSON.stringify([material.sources, material.cert ?? '', material.key ?? ''])
  let context = contexts.get(key)
  if (!context) {
    context = createSecureContext({ ca: material.ca, cert: material.cert, key: material.key })
    contexts.set(key, context)
  }
  return { context, sources: material.sources }
}

function certDirFor(certDir: string, registry: string): string {
  const host = registry.replace(/:\d+$/, '')
  for (const sub of [registry, host]) {
    const d = join(certDir, sub)
    if (isDir(d)) return d
  }
  return certDir
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}

function readIfFile(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8')
  } catch {
    return undefined
  }
}

const CERT_CODES: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate chain ends in an untrusted self-signed CA',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate is signed by an unknown authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its certificate is signed by an unknown authority',
  UNABLE_TO_GET_ISSUER_CERT: 'its certificate is signed by an unknown authority',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  CERT_NOT_YET_VALID: 'its certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate does not name this host',
  CERT_REVOKED: 'its certificate is revoked',
  CERT_UNTRUSTED: 'its certificate is not trusted',
}

/** When `e` is a certificate verification failure, a phrase describing it; else undefined. */
export function certificateProblem(e: unknown): string | undefined {
  for (let cur = e, depth = 0; cur instanceof Error && depth < 5; cur = cur.cause, depth++) {
    const code = (cur as NodeJS.ErrnoException).code
    if (code && CERT_CODES[code]) return `${CERT_CODES[code]} (${code})`
    if (code && /^ERR_TLS_|^CERT_|_CERT/.test(code)) return `TLS verification failed (${code})`
  }
  return undefined
}

/** True when the server answered a TLS hello with something that is not TLS (a plain-http server). */
export function isNotTls(e: unknown): boolean {
  for (let cur = e, depth = 0; cur instanceof Error && depth < 5; cur = cur.cause, depth++) {
    const code = (cur as NodeJS.ErrnoException).code
    if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long|http request/i.test(cur.message)) return true
  }
  return false
}

let probeContext: SecureContext | undefined

/**
 * Whether the server at `url` (an https URL) answers a TLS hello with TLS: 'tls', 'not-tls' (it
 * answered with something else: a plain http server), or 'unknown' (refused, timed out, reset).
 * The probe sends a ClientHello and nothing else, so it needs no trust: it uses a context with no
 * CA certificates and no verification, which costs nothing to build, where the real context (a
 * few hundred CA certificates) costs a noticeable part of a warm run. Only a 'not-tls' answer is
 * acted on, and only where plain http is allowed anyway: the same case in which the https
 * request itself would have failed and been retried over http.
 */
export function probeTls(url: URL, timeoutMs: number): Promise<'tls' | 'not-tls' | 'unknown'> {
  probeContext ??= createSecureContext({ ca: [] })
  const host = url.hostname.replace(/^\[|\]$/g, '')
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port: Number(url.port || 443),
      // SNI takes a host name, never an address.
      ...(isIP(host) ? {} : { servername: host }),
      secureContext: probeContext,
      rejectUnauthorized: false,
    })
    const done = (answer: 'tls' | 'not-tls' | 'unknown'): void => {
      socket.destroy()
      resolve(answer)
    }
    socket.setTimeout(timeoutMs, () => done('unknown'))
    socket.once('secureConnect', () => done('tls'))
    socket.once('error', (e) => done(isNotTls(e) ? 'not-tls' : 'unknown'))
  })
}
