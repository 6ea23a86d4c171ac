import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { VerifyStream } from '../src/core/digest.js'
import { SlimError } from '../src/core/errors.js'
import { RegistryClient, type RegistryClientOptions } from '../src/image/registry/client.js'
import { openImage } from '../src/image/open.js'
import { startFaultProxy, type FaultProxy } from './infra/fault-proxy.js'
import { randomFile, writeOciLayout } from './infra/layout.js'
import { freePort, pushLayout, startRegistry, type RunningRegistry } from './infra/registry.js'

/** Retries quick enough for tests, slow enough to be real backoff. */
const FAST: RegistryClientOptions = { retries: 3, backoffMs: 20, timeoutMs: 10_000 }
const BLOB_BYTES = 1024 * 1024

let tmp: string
let plain: RunningRegistry
let token: RunningRegistry
let proxy: FaultProxy
let tokenProxy: FaultProxy
let layer: { layerDigest: string; layerSize: number; manifestDigest: string }
const clients: RegistryClient[] = []

function client(host: string, opts: RegistryClientOptions = {}): RegistryClient {
  const c = new RegistryClient(host, { ...FAST, env: { HOME: tmp }, ...opts })
  clients.push(c)
  return c
}

/** A sleep that records the wait it was asked for and returns at once. */
function recordWait(waits: number[]): (ms: number) => Promise<void> {
  return async (ms) => {
    waits.push(ms)
  }
}

async function failure(p: Promise<unknown>): Promise<SlimError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e, 'expected a failure').toBeInstanceOf(SlimError)
  return e as SlimError
}

/** Reads the layer through digest verification; resolves to the byte count or rejects. */
async function readVerified(c: RegistryClient, repo = 'big'): Promise<number> {
  const desc = { digest: layer.layerDigest, size: layer.layerSize }
  let n = 0
  await pipeline(await c.getBlob(repo, desc, `docker://${c.registry}/${repo}:1 layer`), new VerifyStream(desc, 'layer'), new Writable({
    write(chunk: Buffer, _e, cb) {
      n += chunk.length
      cb()
    },
  }))
  return n
}

const BLOB_PATH = () => new RegExp(`/blobs/${layer.layerDigest}$`)

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'slim-faults-'))
  layer = await writeOciLayout(join(tmp, 'layout'), '1', { 'data.bin': randomFile(BLOB_BYTES) })
  ;[plain, token] = await Promise.all([startRegistry('plain'), startRegistry('token')])
  await Promise.all([pushLayout(join(tmp, 'layout'), '1', 'big:1', plain), pushLayout(join(tmp, 'layout'), '1', 'big:1', token)])
  ;[proxy, tokenProxy] = await Promise.all([startFaultProxy(plain.url), startFaultProxy(token.url)])
}, 60_000)

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await Promise.all([proxy?.stop(), tokenProxy?.stop()])
  await Promise.all([plain, token].filter(Boolean).map((r) => r.stop()))
  await rm(tmp, { recursive: true, force: true })
})

describe('retries', () => {
  it('waits out a 429 with Retry-After, then succeeds', async () => {
    proxy.clearFaults()
    proxy.addFault({ path: /\/manifests\/1$/, fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' } } })
    const before = proxy.log.length
    const waits: number[] = []
    const m = await client(proxy.host, { sleep: recordWait(waits) }).getManifest('big', '1', 'x')
    expect(m.digest).toBe(layer.manifestDigest)
    // Retry-After: 1 was honoured: the one wait asked for is the registry's second, not the
    // test backoff (~20 ms).
    expect(waits).toEqual([1000])
    const manifestHits = proxy.log.slice(before).filter((e) => e.path.endsWith('/manifests/1'))
    expect(manifestHits.map((e) => e.status)).toEqual([429, 200])
  })

  it('retries 500s on a blob, then streams it intact', async () => {
    proxy.clearFaults()
    proxy.addFault({ path: BLOB_PATH(), fault: { kind: 'status', status: 500 }, times: 2 })
    const before = proxy.log.length
    expect(await readVerified(client(proxy.host))).toBe(layer.layerSize)
    expect(proxy.log.slice(before).filter((e) => BLOB_PATH().test(e.path)).map((e) => e.status)).toEqual([500, 500, 200])
  })

  it('gives up after the retry budget with a one-line error naming the image', async () => {
    proxy.clearFaults()
    proxy.addFault({ path: /\/manifests\/1$/, fault: { kind: 'status', status: 503 }, times: 10 })
    const e = await failure(client(proxy.host, { retries: 2 }).getManifest('big', '1', `docker://${proxy.host}/big:1`))
    expect(e.kind).toBe('network')
    expect(e.message).toBe(`docker://${proxy.host}/big:1: ${proxy.host} answered HTTP 503 (after 3 attempts) (registry said: INJECTED: injected 503); the registry is having trouble, try again later`)
  })

  it('does not sit out a long Retry-After: it says when to come back', async () => {
    proxy.clearFaults()
    proxy.addFault({ path: /\/manifests\/1$/, fault: { kind: 'status', status: 429, headers: { 'retry-after': '3600' } }, times: 10 })
    const waits: number[] = []
    const e = await failure(client(proxy.host, { sleep: recordWait(waits) }).getManifest('big', '1', `docker://${proxy.host}/big:1`))
    expect(waits).toEqual([]) // an hour is not sat out: slim says when to come back instead
    expect(e.kind).toBe('rate-limit')
    expect(e.message).toMatch(/rate limiting requests and asks to retry after 3600 s/)

    proxy.clearFaults()
    proxy.addFault({ path: /\/manifests\/1$/, fault: { kind: 'status', status: 429 }, times: 10 })
    const persistent = await failure(client(proxy.host, { retries: 1 }).getManifest('big', '1', `docker://${proxy.host}/big:1`))
    expect(persistent.kind).toBe('rate-limit')
    expect(persistent.message).toMatch(/^docker:\/\/127\.0\.0\.1:\d+\/big:1: .* is rate limiting requests \(HTTP 429 after 2 attempts\)/)
  })
})

describe('broken connections', () => {
  it('resumes a blob whose connection is reset in the middle, with a Range request', async () => {
    proxy.clearFaults()
    proxy.addFault({ path: BLOB_PATH(), fault: { kind: 'reset', afterBytes: 300_000 } })
    const before = proxy.log.length
    expect(await readVerified(client(proxy.host))).toBe(layer.layerSize)
    const hits = proxy.log.slice(before).filter((e) => BLOB_PATH().test(e.path))
    expect(hits).toHaveLength(2)
    expect(hits[0]).toMatchObject({ fault: 'reset', range: undefined })
    const start = Number(/^bytes=(\d+)-$/.exec(hits[1].range ?? '')?.[1])
    expect(start).toBeGreaterThan(0)
    expect(start).toBeLessThanOrEqual(300_000)
    expect(hits[1].status).toBe(206)
  })

  it('retries a manifest whose body is cut off', async () => {
    proxy.clearFaults()
    proxy.addFault({ path: /\/manifests\/1$/, fault: { kind: 'reset', afterBytes: 100 } })
    const m = await client(proxy.host).getManifest('big', '1', 'x')
    expect(m.digest).toBe(layer.manifestDigest)
  })

  it('fails clearly when every attempt is reset', async () => {
    proxy.clearFaults()
    proxy.addFault({ path: BLOB_PATH(), fault: { kind: 'reset', afterBytes: 1000 }, times: 20 })
    const e = await failure(readVerified(client(proxy.host, { retries: 2 })))
    expect(e.kind).toBe('network')
    expect(e.message).toMatch(new RegExp(`^docker://${proxy.host}/big:1 layer: connection to ${proxy.host} was reset \\(3 attempts\\); try again later$`))
  })

  it('times out on a registry that never answers', async () => {
    proxy.clearFaults()
    proxy.addFault({ path: /\/manifests\/1$/, fault: { kind: 'hang' }, times: 5 })
    const t0 = Date.now()
    const e = await failure(client(proxy.host, { retries: 1, timeoutMs: 300 }).getManifest('big', '1', `docker://${proxy.host}/big:1`))
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(e.kind).toBe('network')
    expect(e.message).toBe(`docker://${proxy.host}/big:1: ${proxy.host} did not answer within 300 ms (timeout, 2 attempts); check the network or try again later`)
  })

  it('names an unreachable or unknown host', async () => {
    const port = await freePort()
    const refused = await failure(client(`127.0.0.1:${port}`).getManifest('a', '1', `docker://127.0.0.1:${port}/a:1`))
    expect(refused.message).toBe(`docker://127.0.0.1:${port}/a:1: connection to 127.0.0.1:${port} refused; is the registry running and is the port right?`)
    const unknown = await failure(client('no-such-registry.invalid', { retries: 0 }).getManifest('a', '1', 'docker://no-such-registry.invalid/a:1'))
    expect(unknown.kind).toBe('network')
    expect(unknown.message).toMatch(/^docker:\/\/no-such-registry\.invalid\/a:1: cannot resolve the registry host no-such-registry\.invalid/)
  })
})

describe('wrong data is never returned', () => {
  it('a corrupted blob fails the digest check while streaming', async () => {
    proxy.clearFaults()
    proxy.addFault({ path: BLOB_PATH(), fault: { kind: 'corrupt', offset: 500_000 } })
    const e = await failure(readVerified(client(proxy.host)))
    expect(e.kind).toBe('integrity')
    expect(e.message).toMatch(/digest sha256:[0-9a-f]{64} does not match the expected/)
  })

  it('through openImage: a corrupted layer errors its stream, a corrupted manifest fails the open', async () => {
    proxy.clearFaults()
    const img = await openImage(`docker://${proxy.host}/big:1`, { platform: { os: 'linux', architecture: 'amd64' }, registry: FAST })
    try {
      expect(img.layers[0].digest).toBe(layer.layerDigest)
      proxy.addFault({ path: BLOB_PATH(), fault: { kind: 'corrupt', offset: 10 } })
      const stream = await img.layers[0].compressed()
      const err = await pipeline(stream, new Writable({ write: (_c, _e, cb) => cb() })).then(() => undefined, (x: unknown) => x)
      expect(err).toBeInstanceOf(SlimError)
      expect((err as SlimError).kind).toBe('integrity')
    } finally {
      await img.close()
    }
    proxy.clearFaults()
    proxy.addFault({ path: /\/manifests\/1$/, fault: { kind: 'corrupt', offset: 40 } })
    const bad = await failure(openImage(`docker://${proxy.host}/big:1`, { registry: FAST }))
    expect(bad.kind).toBe('integrity')
    expect(bad.message).toContain(`docker://${proxy.host}/big:1`)
  })
})

describe('redirects to blob storage', () => {
  it('follows the redirect without sending Authorization to the storage host', async () => {
    tokenProxy.clearFaults()
    tokenProxy.addFault({ path: BLOB_PATH(), fault: { kind: 'redirect' } })
    const before = tokenProxy.log.length
    expect(await readVerified(client(tokenProxy.host))).toBe(layer.layerSize)
    const hits = tokenProxy.log.slice(before)
    const registrySide = hits.find((e) => e.side === 'proxy' && BLOB_PATH().test(e.path))
    const storageSide = hits.find((e) => e.side === 'storage')
    expect(registrySide).toMatchObject({ authorization: true, fault: 'redirect' })
    expect(storageSide).toMatchObject({ authorization: false, status: 200 })
  })
})
