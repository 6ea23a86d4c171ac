import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile, mkdir, copyFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { get as httpGet } from 'node:http'
import { get as httpsGet } from 'node:https'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startTokenServer, type TokenServer } from './token-server.js'

const run = promisify(execFile)

export type RegistryMode = 'plain' | 'basic-tls' | 'token'

/**
 * A real registry (Debian's docker-registry, Distribution 2.8) on a free loopback port:
 *  - plain: http, no auth
 *  - basic-tls: https with a self-signed certificate (caCertPath), htpasswd basic auth
 *  - token: http, Bearer tokens from a Node token server (token-server.ts); anonymous may pull
 */
export interface RunningRegistry {
  mode: RegistryMode
  /** `127.0.0.1:PORT` */
  host: string
  /** `http(s)://127.0.0.1:PORT` */
  url: string
  caCertPath?: string
  /** A directory holding `ca.crt` (skopeo's --cert-dir and slim's --cert-dir). */
  certDir?: string
  username?: string
  password?: string
  tokenServer?: TokenServer
  dir: string
  stop(): Promise<void>
}

export const TEST_USER = 'testuser'
export const TEST_PASSWORD = 'testpass-s3cr3t'
const REGISTRY_BIN = '/usr/bin/docker-registry'

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL')
})

export async function startRegistry(mode: RegistryMode, opts: { anonymousPull?: boolean; tokenExpiresIn?: number; privateRepositories?: string[] } = {}): Promise<RunningRegistry> {
  const dir = await mkdtemp(join(tmpdir(), `slim-registry-${mode}-`))
  await mkdir(join(dir, 'data'))
  let auth = ''
  let tls = ''
  let caCertPath: string | undefined
  let certDir: string | undefined
  let tokenServer: TokenServer | undefined

  if (mode === 'basic-tls') {
    const { stdout } = await run('htpasswd', ['-Bbn', TEST_USER, TEST_PASSWORD])
    await writeFile(join(dir, 'htpasswd'), stdout)
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'])
    caCertPath = join(dir, 'cert.pem')
    certDir = join(dir, 'certs')
    await mkdir(certDir)
    await copyFile(caCertPath, join(certDir, 'ca.crt'))
    tls = `  tls: {certificate: "${join(dir, 'cert.pem')}", key: "${join(dir, 'key.pem')}"}\n`
    auth = `auth:\n  htpasswd: {realm: slim-test, path: "${join(dir, 'htpasswd')}"}\n`
  } else if (mode === 'token') {
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'token.key'), '-out', join(dir, 'token.crt'),
      '-days', '2', '-subj', '/CN=slim-test-token-issuer'])
    tokenServer = await startTokenServer({
      keyPath: join(dir, 'token.key'),
      certPath: join(dir, 'token.crt'),
      issuer: 'slim-test-issuer',
      users: { [TEST_USER]: TEST_PASSWORD },
      anonymousPull: opts.anonymousPull,
      expiresIn: opts.tokenExpiresIn,
      privateRepositories: opts.privateRepositories,
    })
    auth = `auth:\n  token: {realm: "${tokenServer.url}", service: slim-test-registry, issuer: slim-test-issuer, rootcertbundle: "${join(dir, 'token.crt')}"}\n`
  }

  // The port is picked after the token server listens: picked before, the token server could be
  // given the same free port, and the registry's readiness probe would then reach the token server.
  const port = await freePort()
  const host = `127.0.0.1:${port}`
  const config = `version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage:
  filesystem: {rootdirectory: "${join(dir, 'data')}"}
  delete: {enabled: true}
http:
  addr: "${host}"
  secret: slim-test-secret
${tls}${auth}`
  await writeFile(join(dir, 'config.yml'), config)

  const child = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] })
  running.add(child)
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 20_000) stderr += d
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const scheme = mode === 'basic-tls' ? 'https' : 'http'
  const url = `${scheme}://${host}`

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    }
    running.delete(child)
    await tokenServer?.stop()
    await rm(dir, { recursive: true, force: true })
  }

  try {
    await waitReady(`${url}/v2/`, caCertPath, () => child.exitCode !== null)
  } catch (e) {
    await stop()
    throw new Error(`docker-registry (${mode}) did not start: ${(e as Error).message}\n${stderr}`)
  }
  return {
    mode,
    host,
    url,
    caCertPath,
    certDir,
    username: mode === 'plain' ? undefined : TEST_USER,
    password: mode === 'plain' ? undefined : TEST_PASSWORD,
    tokenServer,
    dir,
    stop,
  }
}

/** A port nobody listens on right now (listen on 0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

async function waitReady(url: string, ca: string | undefined, dead: () => boolean): Promise<void> {
  const deadline = Date.now() + 15_000
  const caPem = ca ? readFileSync(ca) : undefined
  while (Date.now() < deadline) {
    if (dead()) throw new Error('the process exited')
    const status = await new Promise<number>((resolve) => {
      const done = (res: { statusCode?: number; headers: Record<string, unknown>; resume(): void }): void => {
        res.resume()
        // Only the registry itself counts (another server on the port would answer too).
        resolve(res.headers['docker-distribution-api-version'] === 'registry/2.0' ? (res.statusCode ?? 0) : 0)
      }
      const req = url.startsWith('https') ? httpsGet(url, { ca: caPem }, done) : httpGet(url, done)
      req.on('error', () => resolve(0))
      req.setTimeout(1000, () => req.destroy())
    })
    if (status === 200 || status === 401) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`no answer from ${url} within 15 s`)
}

export interface PushOptions {
  /** Copy every platform of an index (`skopeo copy --all`). Default true. */
  all?: boolean
  /** `v2s2` writes Docker schema 2 manifests (and a Docker manifest list for --all). */
  format?: 'oci' | 'v2s2'
}

/**
 * Pushes an image from an OCI layout to the registry with skopeo. `layoutRef` picks the image in
 * the layout (its ref.name; undefined for the only one); `dest` is `REPO:TAG`.
 */
export async function pushLayout(layoutDir: string, layoutRef: string | undefined, dest: string, reg: RunningRegistry, o: PushOptions = {}): Promise<void> {
  const args = ['copy', '-q', '--retry-times', '0']
  if (o.all !== false) args.push('--all')
  if (o.format) args.push('--format', o.format)
  if (reg.mode === 'basic-tls') args.push('--dest-cert-dir', reg.certDir!, '--dest-tls-verify=true')
  else args.push('--dest-tls-verify=false')
  if (reg.username) args.push('--dest-creds', `${reg.username}:${reg.password}`)
  args.push(`oci:${layoutDir}${layoutRef ? `:${layoutRef}` : ''}`, `docker://${reg.host}/${dest}`)
  try {
    await run('skopeo', args, { timeout: 60_000 })
  } catch (e) {
    const err = e as { stderr?: string; message: string }
    throw new Error(`skopeo push of ${layoutDir} to ${reg.host}/${dest} failed: ${(err.stderr ?? err.message).replaceAll(reg.password ?? '\u0000', '***')}`)
  }
}
