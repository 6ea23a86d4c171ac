/**
 * The push side of `slim build --output docker://` with a real docker-registry: chunked uploads
 * (POST, PATCH with Content-Range per chunk, PUT ?digest=) to a plain and a token-auth registry,
 * read back by skopeo (which verifies every digest); and, through the fault proxy, a chunk that
 * fails once is retried, a chunk whose answer is lost (the registry holds it, the client does not
 * know) makes the upload start over, and a chunk that keeps failing is one clear line.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Assembled } from '../src/build/assemble.js'
import { pushImage, type PushOptions } from '../src/build/push.js'
import { SlimError } from '../src/core/errors.js'
import { startFaultProxy, type FaultProxy } from './infra/fault-proxy.js'
import { randomFile, writeOciLayout } from './infra/layout.js'
import { startRegistry, type RunningRegistry } from './infra/registry.js'

const exec = promisify(execFile)
const skopeo = existsSync('/usr/bin/skopeo')
const CHUNK = 256 * 1024
/** Recorded waits instead of sleeps: retries are counted, not timed. */
const waits: number[] = []
const FAST: PushOptions = { retries: 3, backoffMs: 20, timeoutMs: 10_000, sleep: async (ms) => void waits.push(ms), chunkBytes: CHUNK }

let tmp: string
let layout: string
let image: Assembled
let plain: RunningRegistry
let token: RunningRegistry
let proxy: FaultProxy

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'slim-push-'))
  layout = join(tmp, 'layout')
  const w = await writeOciLayout(layout, '1', { 'data.bin': randomFile(1024 * 1024 + 1234) })
  const blob = (d: string) => readFile(join(layout, 'blobs/sha256', d.slice(7)))
  const manifest = await blob(w.manifestDigest)
  const m = JSON.parse(manifest.toString()) as { config: { digest: string }; layers: { mediaType: string; digest: string; size: number }[] }
  image = { config: await blob(m.config.digest), configDigest: m.config.digest, manifest, manifestDigest: w.manifestDigest, layers: m.layers }
  ;[plain, token] = await Promise.all([startRegistry('plain'), startRegistry('token')])
  proxy = await startFaultProxy(plain.url)
}, 60_000)

afterAll(async () => {
  await proxy?.stop()
  await Promise.all([plain, token].filter(Boolean).map((r) => r.stop()))
  if (tmp) await rm(tmp, { recursive: true, force: true })
})

const push = (dest: string, opts: PushOptions = {}) => pushImage(dest, layout, [{ platform: { os: 'linux', architecture: 'amd64' }, assembled: image }], { ...FAST, ...opts })

/** skopeo copies the pushed image back (verifying every blob's digest) and reports its manifest digest. */
async function pullBack(ref: string, creds: string[] = []): Promise<string> {
  const dir = join(tmp, `back-${Math.random().toString(36).slice(2)}`)
  await exec('skopeo', ['copy', '--quiet', '--src-tls-verify=false', ...creds, `docker://${ref}`, `oci:${dir}:x`])
  const { stdout } = await exec('skopeo', ['inspect', '--format', '{{.Digest}}', `oci:${dir}:x`])
  const layer = image.layers[0].digest.slice(7)
  expect((await readFile(join(dir, 'blobs/sha256', layer))).equals(await readFile(join(layout, 'blobs/sha256', layer)))).toBe(true)
  return stdout.trim()
}

const patches = (path: RegExp) => proxy.log.filter((e) => e.method === 'PATCH' && path.test(e.path))

describe.skipIf(!skopeo)('chunked blob upload to a real registry', () => {
  it('plain registry: the layer goes in PATCH chunks of --chunk-size, the config in one PUT; skopeo pulls it back with every digest verified', async () => {
    proxy.log.length = 0
    const r = await push(`${proxy.host}/chunked/plain:1`)
    expect(r).toMatchObject({ uploaded: 2, chunked: 1, recoveries: 0, mounted: 0, existing: 0 })
    const layerSize = image.layers[0].size
    expect(patches(/\/chunked\/plain\/blobs\/uploads\//)).toHaveLength(Math.ceil(layerSize / CHUNK))
    expect(await pullBack(`${plain.host}/chunked/plain:1`)).toBe(image.manifestDigest)
    // Pushed again: every blob is found by HEAD, nothing uploaded.
    expect(await push(`${plain.host}/chunked/plain:1`)).toMatchObject({ uploaded: 0, existing: 2 })
  }, 60_000)

  it('token registry with credentials: chunks carry the bearer token of the push scope', async () => {
    const dest = `${token.host}/chunked/tok:1`
    const r = await push(dest, { username: token.username, password: token.password })
    expect(r).toMatchObject({ uploaded: 2, chunked: 1 })
    expect(await pullBack(dest, ['--src-creds', `${token.username}:${token.password}`])).toBe(image.manifestDigest)
  }, 60_000)

  it('a chunk answered with 500 once is sent again with the same Content-Range, and the push succeeds', async () => {
    proxy.log.length = 0
    proxy.clearFaults()
    proxy.addFault({ path: /\/chunked\/retry\/blobs\/uploads\//, method: 'PATCH', skip: 1, fault: { kind: 'status', status: 500 } })
    const r = await push(`${proxy.host}/chunked/retry:1`)
    const sent = patches(/\/chunked\/retry\//)
    const failed = sent.find((e) => e.fault === 'status')
    expect(failed).toBeDefined()
    expect(sent.filter((e) => e.status === 202)).toHaveLength(Math.ceil(image.layers[0].size / CHUNK))
    expect(r.recoveries).toBe(0)
    expect(await pullBack(`${plain.host}/chunked/retry:1`)).toBe(image.manifestDigest)
  }, 60_000)

  it('a chunk whose answer is lost after the registry stored it: the upload starts over and the pushed image is intact', async () => {
    proxy.log.length = 0
    proxy.clearFaults()
    proxy.addFault({ path: /\/chunked\/lost\/blobs\/uploads\//, method: 'PATCH', skip: 2, fault: { kind: 'reset', afterBytes: 0 } })
    const r = await push(`${proxy.host}/chunked/lost:1`)
    expect(r.recoveries).toBeGreaterThanOrEqual(1)
    // The upload session was opened twice (POST), once for the start-over.
    expect(proxy.log.filter((e) => e.method === 'POST' && /\/chunked\/lost\/blobs\/uploads\/$/.test(e.path.split('?')[0]))).toHaveLength(3)
    expect(await pullBack(`${plain.host}/chunked/lost:1`)).toBe(image.manifestDigest)
  }, 60_000)

  it('a chunk that keeps failing is one line naming the blob, the byte range and the cause', async () => {
    proxy.clearFaults()
    proxy.addFault({ path: /\/chunked\/broken\/blobs\/uploads\//, method: 'PATCH', times: 1000, fault: { kind: 'status', status: 503 } })
    const e = await push(`${proxy.host}/chunked/broken:1`).then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(e).toBeInstanceOf(SlimError)
    const msg = (e as SlimError).message
    expect(msg).not.toContain('\n')
    expect(msg).toMatch(new RegExp(`^docker://${proxy.host}/chunked/broken:1: uploading blob ${image.layers[0].digest} failed at bytes 0-${CHUNK - 1} of ${image.layers[0].size} after 4 attempt\\(s\\): .*503`))
    proxy.clearFaults()
  }, 60_000)
})

describe('upload and readiness parsing', () => {
  it('reads the Range a registry reports, and the port prober\'s verdict', async () => {
    const { rangeEnd } = await import('../src/image/registry/upload.js')
    const { parseProberOutput } = await import('../src/build/readiness.js')
    expect(rangeEnd('0-262143')).toBe(262143)
    expect(rangeEnd('bytes=0-99')).toBe(99)
    expect(rangeEnd('5-9')).toBeUndefined()
    expect(rangeEnd(undefined)).toBeUndefined()
    expect(parseProberOutput('ready 6379 3\n')).toEqual({ ready: true, port: 6379, attempts: 3 })
    expect(parseProberOutput('not-ready 50\n')).toEqual({ ready: false, attempts: 50, reason: 'nothing accepted a connection' })
    expect(parseProberOutput('')).toBeUndefined()
  })
})
