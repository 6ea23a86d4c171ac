import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { lookup } from 'node:dns/promises'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Writable } from 'node:stream'
import { request } from 'undici'
import { VerifyStream, digestOf } from '../src/core/digest.js'
import { SlimError } from '../src/core/errors.js'
import { RegistryClient } from '../src/image/registry/client.js'
import { isLoopbackHost, mayUsePlainHttp } from '../src/image/registry/policy.js'
import { openRegistrySource } from '../src/image/transports/docker.js'
import { openImage } from '../src/image/open.js'
import { MediaType, type Descriptor, type ImageIndex, type ImageManifest } from '../src/image/types.js'
import { startFaultProxy } from './infra/fault-proxy.js'
import { pushLayout, startRegistry, type RunningRegistry } from './infra/registry.js'
import { SHARED } from './helpers/shared.js'

const CORPUS = `${SHARED}/corpus`
const MULTI = `${CORPUS}/anchore__stereoscope/pkg/image/oci/testdata/multiplatform_oci_dir`
const SINGLE = `${CORPUS}/aquasecurity__trivy/pkg/fanal/test/testdata/test_image_tag.oci`
const SINGLE_MANIFEST = 'sha256:afb744871f99e0ff8e6f253244836ed34c5d805fdb096d3a205ffaf5e9073cab'
const MULTI_INDEX = 'sha256:a1a8d08faa5fe3d2ccc0ba54874e39dede9a17120f883c5cb56f2fd9309067c8'
const FAST = { retries: 1, backoffMs: 20, timeoutMs: 10_000 }

let plain: RunningRegistry
let secure: RunningRegistry
let token: RunningRegistry
let closed: RunningRegistry
let tmp: string
const clients: RegistryClient[] = []

function client(reg: RunningRegistry | string, opts: ConstructorParameters<typeof RegistryClient>[1] = {}): RegistryClient {
  const c = new RegistryClient(typeof reg === 'string' ? reg : reg.host, { ...FAST, env: { HOME: tmp }, ...opts })
  clients.push(c)
  return c
}

async function failure(p: Promise<unknown>): Promise<SlimError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e, 'expected a failure').toBeInstanceOf(SlimError)
  return e as SlimError
}

/** Streams a blob through the same verification the image layer uses; returns the byte count. */
async function verifiedLength(c: RegistryClient, repo: string, desc: Pick<Descriptor, 'digest' | 'size'>): Promise<number> {
  const verify = new VerifyStream(desc, `blob ${desc.digest}`)
  let n = 0
  await pipeline(await c.getBlob(repo, desc, `docker://${c.registry}/${repo}`), verify, new Writable({
    write(chunk: Buffer, _e, cb) {
      n += chunk.length
      cb()
    },
  }))
  return n
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'slim-regtest-'))
  ;[plain, secure, token, closed] = await Promise.all([startRegistry('plain'), startRegistry('basic-tls'), startRegistry('token'), startRegistry('token', { anonymousPull: false })])
  await Promise.all([
    (async () => {
      await pushLayout(MULTI, undefined, 'multi:1', plain)
      await pushLayout(MULTI, undefined, 'multi:v2s2', plain, { format: 'v2s2' })
      await pushLayout(SINGLE, '0.0.1', 'single:v2s2', plain, { format: 'v2s2' })
      for (const t of ['t1', 't2', 't3', 't4', 't5']) await pushLayout(SINGLE, '0.0.1', `paged:${t}`, plain)
    })(),
    pushLayout(SINGLE, '0.0.1', 'secure/single:1', secure),
    pushLayout(MULTI, undefined, 'pub/multi:1', token),
    pushLayout(SINGLE, '0.0.1', 'private/single:1', closed),
  ])
}, 120_000)

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await Promise.all([plain, secure, token, closed].filter(Boolean).map((r) => r.stop()))
  await rm(tmp, { recursive: true, force: true })
})

describe('plain http registry', () => {
  it('pings over plain http on loopback and serves an OCI index, its children and blobs', async () => {
    const c = client(plain)
    expect((await c.ping()).protocol).toBe('http:')
    // The layout's index.json points at a nested index; skopeo pushes that inner index as the tag.
    const top = await c.getManifest('multi', '1', 'docker://plain/multi:1')
    expect(top.mediaType).toBe(MediaType.ociIndex)
    expect(top.digest).toBe(MULTI_INDEX)
    expect(digestOf(top.bytes)).toBe(MULTI_INDEX)
    const platforms = (JSON.parse(top.bytes.toString()) as ImageIndex).manifests
    expect(platforms.map((d) => `${d.platform?.os}/${d.platform?.architecture}`).sort()).toEqual(['linux/amd64', 'linux/arm64'])
    const arm = platforms.find((d) => d.platform?.architecture === 'arm64')!
    const m = await c.getManifest('multi', arm.digest, 'arm')
    expect(m.mediaType).toBe(MediaType.ociManifest)
    expect(digestOf(m.bytes)).toBe(arm.digest)
    const manifest = JSON.parse(m.bytes.toString()) as ImageManifest
    expect(await verifiedLength(c, 'multi', manifest.config)).toBe(manifest.config.size)
    expect(await verifiedLength(c, 'multi', manifest.layers[0])).toBe(manifest.layers[0].size)
  })

  it('finds a plain loopback registry by a TLS probe, without an https request; a TLS loopback registry still gets https', async () => {
    const plainLog: string[] = []
    expect((await client(plain, { log: (m) => plainLog.push(m) }).ping()).protocol).toBe('http:')
    expect(plainLog.some((l) => l.includes('answers a TLS hello with plain http'))).toBe(true)
    expect(plainLog.some((l) => l.includes('https failed'))).toBe(false)
    // The probe never decides for TLS servers: the secure registry is on loopback too.
    expect(isLoopbackHost(secure.host.split(':')[0])).toBe(true)
    const secureLog: string[] = []
    const c = client(secure, { certDir: secure.certDir, username: secure.username, password: secure.password, log: (m) => secureLog.push(m) })
    expect((await c.ping()).protocol).toBe('https:')
    expect(secureLog.some((l) => l.includes('plain http'))).toBe(false)
  })

  it('serves Docker schema 2 lists and manifests pushed with --format v2s2', async () => {
    const c = client(plain)
    const list = await c.getManifest('multi', 'v2s2', 'x')
    expect(list.mediaType).toBe(MediaType.dockerList)
    const single = await c.getManifest('single', 'v2s2', 'x')
    expect(single.mediaType).toBe(MediaType.dockerManifest)
    const doc = JSON.parse(single.bytes.toString()) as ImageManifest
    expect(doc.config.mediaType).toBe(MediaType.dockerConfig)
    expect(await verifiedLength(c, 'single', doc.layers[0])).toBe(doc.layers[0].size)
  })

  it('lists tags across pages following the Link header', async () => {
    // Distribution 2.8 ignores ?n= on tag lists, so the proxy pages the registry's real list.
    const proxy = await startFaultProxy(plain.url, { paginateTags: true })
    try {
      const first = await request(`${proxy.url}/v2/paged/tags/list?n=2`)
      expect(first.headers.link).toBe('</v2/paged/tags/list?n=2&last=t2>; rel="next"')
      expect(((await first.body.json()) as { tags: string[] }).tags).toEqual(['t1', 't2'])
      const before = proxy.log.length
      const c = client(proxy.host)
      expect(await c.listTags('paged', 2)).toEqual(['t1', 't2', 't3', 't4', 't5'])
      expect(proxy.log.slice(before).filter((e) => e.path.includes('/tags/list')).map((e) => e.path)).toEqual([
        '/v2/paged/tags/list?n=2',
        '/v2/paged/tags/list?n=2&last=t2',
        '/v2/paged/tags/list?n=2&last=t4',
      ])
    } finally {
      await proxy.stop()
    }
    // Straight from the registry, one page.
    expect((await client(plain).listTags('paged')).sort()).toEqual(['t1', 't2', 't3', 't4', 't5'])
  })

  it('says which image and tag is unknown', async () => {
    const c = client(plain)
    const tag = await failure(c.getManifest('multi', 'nope', `docker://${plain.host}/multi:nope`))
    expect(tag.kind).toBe('not-found')
    expect(tag.message).toMatch(new RegExp(`^docker://${plain.host}/multi:nope: manifest unknown \\(registry said: MANIFEST_UNKNOWN.*\\); check the name and tag$`))
    const repo = await failure(c.getManifest('no/such/repo', 'latest', `docker://${plain.host}/no/such/repo:latest`))
    expect(repo.kind).toBe('not-found')
    expect(repo.message).toMatch(/^docker:\/\/127\.0\.0\.1:\d+\/no\/such\/repo:latest: manifest unknown/)
    const blob = await failure(c.getBlob('multi', { digest: `sha256:${'0'.repeat(64)}`, size: 1 }, 'blob x'))
    expect(blob.kind).toBe('not-found')
    expect(blob.message).toMatch(/blob unknown/)
  })

  it('refuses an OCI artifact (a Helm chart) that is not a container image', async () => {
    const config = Buffer.from('{"name":"chart","version":"1.0.0"}')
    const configDigest = digestOf(config)
    // Distribution 2.8 has no single-POST upload: open a session, then PUT the bytes to it.
    const session = await request(`${plain.url}/v2/charts/demo/blobs/uploads/`, { method: 'POST' })
    expect(session.statusCode).toBe(202)
    await session.body.dump()
    const location = new URL(String(session.headers.location), plain.url)
    location.searchParams.set('digest', configDigest)
    const upload = await request(location, { method: 'PUT', body: config, headers: { 'content-type': 'application/octet-stream' } })
    expect(upload.statusCode).toBe(201)
    await upload.body.dump()
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: configDigest, size: config.length },
      layers: [],
    })
    const put = await request(`${plain.url}/v2/charts/demo/manifests/1.0.0`, { method: 'PUT', body: manifest, headers: { 'content-type': MediaType.ociManifest } })
    expect(put.statusCode).toBe(201)
    await put.body.dump()
    const e = await failure(client(plain).getManifest('charts/demo', '1.0.0', `docker://${plain.host}/charts/demo:1.0.0`))
    expect(e.kind).toBe('unsupported')
    expect(e.message).toBe(`docker://${plain.host}/charts/demo:1.0.0: this is an OCI artifact of type application/vnd.cncf.helm.config.v1+json, not a container image; slim analyses container images only`)
  })

  it('opens as an Image through the docker transport (platform chosen from the nested index)', async () => {
    const img = await openImage(`docker://${plain.host}/multi:1`, { platform: { os: 'linux', architecture: 'arm64' }, registry: FAST })
    try {
      expect(img.transport).toBe('docker')
      expect(img.name).toBe(`${plain.host}/multi`)
      expect(img.platform.architecture).toBe('arm64')
      expect(img.layers).toHaveLength(1)
      expect(img.config.rootfs.diff_ids).toHaveLength(1)
    } finally {
      await img.close()
    }
    const src = await openRegistrySource(`${plain.host}/paged@${SINGLE_MANIFEST}`, { registry: FAST })
    try {
      const root = await src.root()
      expect(root.digest).toBe(SINGLE_MANIFEST)
      expect(digestOf(root.bytes)).toBe(SINGLE_MANIFEST)
    } finally {
      await src.close()
    }
  })
})

describe('insecure-registry policy', () => {
  it('refuses plain http for a host name that is not loopback, unless allowed with --insecure-registry', async () => {
    expect(mayUsePlainHttp(`registry.example.com:${plain.host.split(':')[1]}`)).toBe(false)
    // The machine's own host name usually resolves to 127.0.x.x: a real request by a non-loopback name.
    const name = hostname()
    const addr = await lookup(name).catch(() => undefined)
    expect(isLoopbackHost(name)).toBe(false)
    expect(addr && isLoopbackHost(addr.address), `${name} should resolve to loopback on this test machine (/etc/hosts)`).toBe(true)
    const reg = `${name}:${plain.host.split(':')[1]}`
    const refused = await failure(client(reg).getManifest('multi', '1', `docker://${reg}/multi:1`))
    expect(refused.kind).toBe('network')
    expect(refused.message).toContain(`--insecure-registry ${reg}`)
    expect(refused.message).toMatch(/does not speak TLS/)
    const allowed = await client(reg, { insecureRegistries: [reg] }).getManifest('multi', '1', 'x')
    expect(allowed.mediaType).toBe(MediaType.ociIndex)
  })
})

describe('basic auth over TLS', () => {
  it('works with the CA from --cert-dir and the right password', async () => {
    const c = client(secure, { certDir: secure.certDir, username: secure.username, password: secure.password })
    expect((await c.ping()).protocol).toBe('https:')
    const m = await c.getManifest('secure/single', '1', 'x')
    expect(digestOf(m.bytes)).toBe(SINGLE_MANIFEST)
    const doc = JSON.parse(m.bytes.toString()) as ImageManifest
    expect(await verifiedLength(c, 'secure/single', doc.layers[0])).toBe(doc.layers[0].size)
  })

  it('accepts a Docker certs.d layout (<dir>/<host:port>/ca.crt) and NODE_EXTRA_CA_CERTS', async () => {
    const certsD = join(tmp, 'certs.d')
    await mkdir(join(certsD, secure.host), { recursive: true })
    await writeFile(join(certsD, secure.host, 'ca.crt'), await (await import('node:fs/promises')).readFile(secure.caCertPath!))
    const viaCertsD = client(secure, { certDir: certsD, username: secure.username, password: secure.password })
    expect(digestOf((await viaCertsD.getManifest('secure/single', '1', 'x')).bytes)).toBe(SINGLE_MANIFEST)

    const saved = process.env.NODE_EXTRA_CA_CERTS
    process.env.NODE_EXTRA_CA_CERTS = secure.caCertPath
    try {
      const viaEnv = client(secure, { username: secure.username, password: secure.password })
      expect(digestOf((await viaEnv.getManifest('secure/single', '1', 'x')).bytes)).toBe(SINGLE_MANIFEST)
    } finally {
      if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS
      else process.env.NODE_EXTRA_CA_CERTS = saved
    }
  })

  it('names the certificate problem and the fix when the CA is unknown', async () => {
    const e = await failure(client(secure, { username: secure.username, password: secure.password }).getManifest('secure/single', '1', `docker://${secure.host}/secure/single:1`))
    expect(e.kind).toBe('network')
    expect(e.message).toMatch(new RegExp(`^docker://${secure.host}/secure/single:1: TLS failure talking to ${secure.host}: its certificate is self-signed \\(DEPTH_ZERO_SELF_SIGNED_CERT\\); trust its CA with --cert-dir`))
    expect(e.message).toContain('NODE_EXTRA_CA_CERTS')
  })

  it('reports a wrong password as an auth error without showing it', async () => {
    const wrong = 'wrong-password-123'
    const logs: string[] = []
    const e = await failure(client(secure, { certDir: secure.certDir, username: secure.username, password: wrong, log: (m) => logs.push(m) }).getManifest('secure/single', '1', `docker://${secure.host}/secure/single:1`))
    expect(logs.length).toBeGreaterThan(0)
    expect(logs.join('\n')).not.toMatch(new RegExp(`${wrong}|Basic |Bearer `))
    expect(e.kind).toBe('auth')
    expect(e.message).toMatch(/authentication required/)
    expect(e.message).toMatch(/credentials from explicit --username\/--password were rejected/)
    expect(e.message).not.toContain(wrong)
    expect(e.message).not.toContain(Buffer.from(`${secure.username}:${wrong}`).toString('base64'))
  })

  it('asks for a login when no credentials are configured', async () => {
    const e = await failure(client(secure, { certDir: secure.certDir }).getManifest('secure/single', '1', `docker://${secure.host}/secure/single:1`))
    expect(e.kind).toBe('auth')
    expect(e.message).toMatch(/requires a login; run docker login/)
  })

  it('finds the credentials in a Docker config.json', async () => {
    const cfg = join(tmp, 'docker-config')
    await mkdir(cfg, { recursive: true })
    await writeFile(join(cfg, 'config.json'), JSON.stringify({ auths: { [`https://${secure.host}`]: { auth: Buffer.from(`${secure.username}:${secure.password}`).toString('base64') } } }))
    const logs: string[] = []
    const c = client(secure, { certDir: secure.certDir, env: { DOCKER_CONFIG: cfg }, log: (m) => logs.push(m) })
    expect(digestOf((await c.getManifest('secure/single', '1', 'x')).bytes)).toBe(SINGLE_MANIFEST)
    expect(logs.join('\n')).toContain(join(cfg, 'config.json'))
    expect(logs.join('\n')).not.toContain(secure.password!)
  })
})

describe('Bearer token registry', () => {
  it('pulls anonymously when the token server grants pull, reusing one token per scope', async () => {
    const before = token.tokenServer!.requests.length
    const c = client(token)
    const top = await c.getManifest('pub/multi', '1', 'x')
    expect(top.digest).toBe(MULTI_INDEX)
    const index = JSON.parse(top.bytes.toString()) as ImageIndex
    const m = JSON.parse((await c.getManifest('pub/multi', index.manifests[0].digest, 'x')).bytes.toString()) as ImageManifest
    expect(await verifiedLength(c, 'pub/multi', m.layers[0])).toBe(m.layers[0].size)
    expect(await c.listTags('pub/multi')).toEqual(['1'])
    const asked = token.tokenServer!.requests.slice(before)
    expect(c.tokenFetches).toBe(1)
    expect(asked).toHaveLength(1)
    expect(asked[0]).toMatchObject({ user: undefined, scopes: ['repository:pub/multi:pull'], service: 'slim-test-registry' })
  })

  it('exchanges credentials for a token, and an identity token through the refresh grant', async () => {
    const before = token.tokenServer!.requests.length
    const logs: string[] = []
    const c = client(token, { username: token.username, password: token.password, log: (m) => logs.push(m) })
    expect((await c.getManifest('pub/multi', '1', 'x')).mediaType).toBe(MediaType.ociIndex)
    expect(logs.join('\n')).toMatch(/wants bearer authentication/)
    expect(logs.join('\n')).not.toMatch(new RegExp(`${token.password}|Basic |Bearer |eyJ`))
    expect(token.tokenServer!.requests.slice(before)).toMatchObject([{ user: token.username, method: 'GET' }])

    const cfg = join(tmp, 'idtoken')
    await mkdir(cfg, { recursive: true })
    await writeFile(join(cfg, 'config.json'), JSON.stringify({ auths: { [token.host]: { identitytoken: `refresh:${token.username}` } } }))
    const viaId = client(token, { env: { DOCKER_CONFIG: cfg } })
    expect((await viaId.getManifest('pub/multi', '1', 'x')).mediaType).toBe(MediaType.ociIndex)
    expect(token.tokenServer!.requests.at(-1)).toMatchObject({ user: token.username, method: 'POST' })
  })

  it('reports credentials the token server rejects', async () => {
    const e = await failure(client(token, { username: token.username, password: 'nope-nope' }).getManifest('pub/multi', '1', `docker://${token.host}/pub/multi:1`))
    expect(e.kind).toBe('auth')
    expect(e.message).toMatch(/token service 127\.0\.0\.1:\d+ rejected the credentials from explicit/)
    expect(e.message).not.toContain('nope-nope')
  })

  it('turns a 401 after a fresh token into a clear auth error (anonymous pull not granted)', async () => {
    const anon = client(closed)
    const e = await failure(anon.getManifest('private/single', '1', `docker://${closed.host}/private/single:1`))
    expect(e.kind).toBe('auth')
    expect(e.message).toMatch(new RegExp(`^docker://${closed.host}/private/single:1: authentication required \\(registry said: UNAUTHORIZED`))
    expect(e.message).toMatch(/docker login|--password-stdin/)
    // One retry with a fresh token, then give up: no loop.
    expect(anon.tokenFetches).toBe(2)
    const withCreds = client(closed, { username: closed.username, password: closed.password })
    expect(digestOf((await withCreds.getManifest('private/single', '1', 'x')).bytes)).toBe(SINGLE_MANIFEST)
  })
})
