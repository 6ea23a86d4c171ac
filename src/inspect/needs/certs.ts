/**
 * CA certificates: a program that verifies TLS peers reads the system trust store. Who does:
 * Go's crypto/x509 (unless the app ships its own roots), OpenSSL/GnuTLS/NSS/libcurl users, Java
 * (JAVA_HOME/lib/security/cacerts), Python's ssl module and certifi. Where the store is differs per
 * distribution; Go tries a fixed list (crypto/x509/root_linux.go), OpenSSL uses OPENSSLDIR/cert.pem
 * and OPENSSLDIR/certs, and SSL_CERT_FILE / SSL_CERT_DIR override both.
 */
import { posix } from 'node:path'
import { firstMatchIn } from '../../core/byte-source.js'
import type { Confidence, Need } from '../types.js'
import { exists, withChain, type NeedsInput } from './context.js'

/** Go's list (root_linux.go), which also covers the other distributions' conventions. */
export const CA_BUNDLE_FILES = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Gentoo, Alpine
  '/etc/pki/tls/certs/ca-bundle.crt', // Fedora, RHEL 6
  '/etc/ssl/ca-bundle.pem', // openSUSE
  '/etc/pki/tls/cacert.pem', // OpenELEC
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', // CentOS, RHEL 7
  '/etc/ssl/cert.pem', // Alpine
]
export const CA_DIRS = ['/etc/ssl/certs', '/etc/pki/tls/certs']

const TLS_LIBS: [RegExp, string, Confidence][] = [
  [/^libssl\.so/, 'OpenSSL (libssl)', 'likely'],
  [/^libgnutls\.so/, 'GnuTLS', 'likely'],
  [/^libcurl(-gnutls|-nss)?\.so/, 'libcurl', 'likely'],
  [/^libnss3\.so/, 'NSS (libnss3)', 'likely'],
  [/^libmbedtls\.so/, 'mbed TLS', 'likely'],
  [/^libwolfssl\.so/, 'wolfSSL', 'likely'],
  [/^libcrypto\.so/, 'OpenSSL (libcrypto)', 'possible'],
]

export async function caCertificatesNeed(input: NeedsInput): Promise<Need | undefined> {
  const { rootfs } = input
  const evidence: string[] = []
  let confidence: Confidence | undefined
  const raise = (c: Confidence): void => {
    const order: Confidence[] = ['possible', 'likely', 'certain']
    if (!confidence || order.indexOf(c) > order.indexOf(confidence)) confidence = c
  }
  if (input.go?.packages.cryptoX509.linked) {
    evidence.push(`Go crypto/x509 is linked (${input.go.packages.cryptoX509.evidence ?? 'build info'})`)
    raise('likely')
  }
  let opensslDir: string | undefined
  for (const o of input.objects) {
    const name = posix.basename(o.path)
    for (const [re, what, c] of TLS_LIBS) {
      if (!re.test(name)) continue
      evidence.push(`${what} is in the closure (${o.path})`)
      raise(c)
      if (/^libcrypto/.test(name) && !opensslDir) opensslDir = await opensslDirOf(input, o.realPath)
    }
  }
  const rt = input.runtime
  const extra: string[] = []
  if (rt?.language === 'java') {
    const cacerts = `${rt.home}/lib/security/cacerts`
    if (exists(rootfs, cacerts)) extra.push(...withChain(rootfs, cacerts))
    evidence.push(`Java reads its trust store ${cacerts}`)
    raise('likely')
  }
  if (rt?.language === 'python') {
    const certifi = rt.trees.map((t) => `${t}/certifi/cacert.pem`).find((p) => exists(rootfs, p))
    if (certifi) {
      extra.push(...withChain(rootfs, certifi))
      evidence.push(`Python certifi bundle ${certifi}`)
      raise('likely')
    }
    if (rt.home && rootfs.readdir(`${rt.home}/lib-dynload`).some((n) => n.startsWith('_ssl.'))) {
      evidence.push(`Python's ssl module (${rt.home}/lib-dynload/_ssl*) uses the system store`)
      raise('possible')
    }
  }
  const env = input.program.env
  if (env.SSL_CERT_FILE || env.SSL_CERT_DIR) {
    evidence.push(`Env sets ${env.SSL_CERT_FILE ? `SSL_CERT_FILE=${env.SSL_CERT_FILE}` : ''}${env.SSL_CERT_FILE && env.SSL_CERT_DIR ? ' ' : ''}${env.SSL_CERT_DIR ? `SSL_CERT_DIR=${env.SSL_CERT_DIR}` : ''}`)
    raise('likely')
  }
  if (!confidence) return undefined

  // Where this image keeps its store.
  const files = [env.SSL_CERT_FILE, opensslDir ? `${opensslDir}/cert.pem` : undefined, ...CA_BUNDLE_FILES].filter((f): f is string => !!f)
  const bundle = files.find((f) => rootfs.stat(f)?.type === 'file')
  const paths = [...(bundle ? withChain(rootfs, bundle) : [])]
  if (!bundle) {
    const dir = [env.SSL_CERT_DIR, opensslDir ? `${opensslDir}/certs` : undefined, ...CA_DIRS].find((d) => d && rootfs.stat(d)?.type === 'dir' && rootfs.readdir(d).length > 0)
    if (dir) paths.push(...withChain(rootfs, dir))
  }
  paths.push(...extra)
  // OpenSSL 1.1+ loads OPENSSLDIR/openssl.cnf at start-up (Debian's sets the security level).
  if (opensslDir && exists(rootfs, `${opensslDir}/openssl.cnf`)) paths.push(...withChain(rootfs, `${opensslDir}/openssl.cnf`))
  const present = bundle !== undefined || extra.length > 0 || paths.some((p) => rootfs.stat(p)?.type === 'dir')
  return {
    kind: 'ca-certificates',
    paths: [...new Set(paths)],
    present,
    reason: present
      ? `the program verifies TLS certificates against the system trust store, kept here at ${paths[0]}`
      : 'the program verifies TLS certificates, but the image has no CA bundle in any usual place: TLS connections will fail verification',
    evidence,
    confidence,
  }
}

/** OPENSSLDIR compiled into libcrypto ("OPENSSLDIR: \"/usr/lib/ssl\""): OpenSSL reads cert.pem there. */
async function opensslDirOf(input: NeedsInput, libcrypto: string): Promise<string | undefined> {
  try {
    return firstMatchIn(await input.open(libcrypto), /OPENSSLDIR: "([^"]+)"/)?.[1]
  } catch {
    return undefined
  }
}
