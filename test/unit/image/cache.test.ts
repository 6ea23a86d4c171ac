import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SlimError } from '../../../src/core/errors.js'
import { BlobCache, defaultCacheDir } from '../../../src/image/cache.js'
import type { Descriptor } from '../../../src/image/types.js'

const run = promisify(execFile)

function descriptorOf(data: Buffer): Descriptor {
  return { mediaType: 'application/octet-stream', digest: `sha256:${createHash('sha256').update(data).digest('hex')}`, size: data.length }
}

/** A source that yields `data` in `pieces` chunks with a pause between them (to make writers overlap). */
function slowSource(data: Buffer, pieces = 20, delayMs = 5): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    const step = Math.ceil(data.length / pieces)
    for (let i = 0; i < data.length; i += step) {
      await new Promise((r) => setTimeout(r, delayMs))
      yield data.subarray(i, i + step)
    }
  }
  return Readable.from(gen(), { objectMode: false })
}

async function drain(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of s) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'slim-cache-test-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

const tmpFiles = (): string[] => (existsSync(join(dir, 'tmp')) ? readdirSync(join(dir, 'tmp')) : [])

describe('defaultCacheDir', () => {
  it('uses $XDG_CACHE_HOME/slim, else ~/.cache/slim; a relative XDG value is ignored', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' }, '/home/u')).toBe('/x/cache/slim')
    expect(defaultCacheDir({}, '/home/u')).toBe('/home/u/.cache/slim')
    expect(defaultCacheDir({ XDG_CACHE_HOME: 'rel/cache' }, '/home/u')).toBe('/home/u/.cache/slim')
  })
})

describe('BlobCache', () => {
  it('streams a blob to the consumer and stores it, renamed into place before the stream ends', async () => {
    const cache = new BlobCache(dir)
    const data = randomBytes(300_000)
    const desc = descriptorOf(data)
    const out = await drain(cache.writeThrough(slowSource(data), desc, 'blob'))
    expect(out.equals(data)).toBe(true)
    // No waiting: 'end' is only emitted after the rename.
    expect(readFileSync(cache.blobPath(desc.digest)).equals(data)).toBe(true)
    expect(tmpFiles()).toEqual([])
    const hit = await cache.open(desc, 'blob')
    expect(hit).toBeDefined()
    expect((await drain(hit as Readable)).equals(data)).toBe(true)
  })

  it('stores nothing when the download is corrupt, and the consumer gets an integrity error', async () => {
    const cache = new BlobCache(dir)
    const data = randomBytes(100_000)
    const desc = descriptorOf(data)
    const corrupt = Buffer.from(data)
    corrupt[5000] ^= 0xff
    const err = await drain(cache.writeThrough(slowSource(corrupt), desc, 'layer 2')).catch((e) => e)
    expect(err).toBeInstanceOf(SlimError)
    expect(err.kind).toBe('integrity')
    expect(err.message).toMatch(/^layer 2: digest sha256:[0-9a-f]{64} does not match/)
    expect(existsSync(cache.blobPath(desc.digest))).toBe(false)
    expect(tmpFiles()).toEqual([])
  })

  it('stores nothing for a truncated download, nor when the consumer stops early', async () => {
    const cache = new BlobCache(dir)
    const data = randomBytes(100_000)
    const desc = descriptorOf(data)
    await expect(drain(cache.writeThrough(slowSource(data.subarray(0, 90_000)), desc, 'blob'))).rejects.toThrow(/truncated/)
    const s = cache.writeThrough(slowSource(data), desc, 'blob')
    for await (const _ of s) break // reads one chunk, then destroys the stream
    await new Promise((r) => setTimeout(r, 50))
    expect(existsSync(cache.blobPath(desc.digest))).toBe(false)
    expect(tmpFiles()).toEqual([])
  })

  it('two concurrent writers of the same blob in one process both succeed and leave one entry', async () => {
    const cache = new BlobCache(dir)
    const data = randomBytes(200_000)
    const desc = descriptorOf(data)
    const [a, b] = await Promise.all([drain(cache.writeThrough(slowSource(data), desc, 'a')), drain(cache.writeThrough(slowSource(data), desc, 'b'))])
    expect(a.equals(data) && b.equals(data)).toBe(true)
    expect(readFileSync(cache.blobPath(desc.digest)).equals(data)).toBe(true)
    expect(readdirSync(join(dir, 'blobs', 'sha256'))).toHaveLength(1)
    expect(tmpFiles()).toEqual([])
  })

  it('two slim processes writing the same blob at once end with one intact entry', async () => {
    const data = randomBytes(400_000)
    const desc = descriptorOf(data)
    const input = join(dir, 'input.bin')
    writeFileSync(input, data)
    const script = join(dir, 'writer.mts')
    writeFileSync(
      script,
      `import { createReadStream, existsSync, writeFileSync } from 'node:fs'
import { BlobCache } from ${JSON.stringify(new URL('../../../src/image/cache.ts', import.meta.url).pathname)}
const cache = new BlobCache(process.argv[2])
const desc = JSON.parse(process.argv[3])
// A barrier: both processes are up before either starts writing.
writeFileSync(process.argv[4] + '.ready-' + process.argv[5], '')
while (!existsSync(process.argv[4] + '.ready-0') || !existsSync(process.argv[4] + '.ready-1')) await new Promise((r) => setTimeout(r, 10))
const src = createReadStream(process.argv[4], { highWaterMark: 8192 })
let n = 0
const start = Date.now()
for await (const c of cache.writeThrough(src, desc, 'blob')) { n += c.length; await new Promise((r) => setTimeout(r, 8)) }
console.log(JSON.stringify({ n, start, end: Date.now() }))
`,
    )
    const cacheDir = join(dir, 'cache')
    const tsx = new URL('../../../node_modules/.bin/tsx', import.meta.url).pathname
    const both = await Promise.all([0, 1].map((id) => run(tsx, [script, cacheDir, JSON.stringify(desc), input, String(id)])))
    const [a, b] = both.map((r) => JSON.parse(r.stdout) as { n: number; start: number; end: number })
    expect([a.n, b.n]).toEqual([data.length, data.length])
    // The two writes really overlapped in time.
    expect(a.start < b.end && b.start < a.end).toBe(true)
    const cache = new BlobCache(cacheDir)
    expect(readFileSync(cache.blobPath(desc.digest)).equals(data)).toBe(true)
    expect(readdirSync(join(cacheDir, 'tmp'))).toEqual([])
  })

  it('re-verifies a cache hit and deletes a corrupted entry', async () => {
    const cache = new BlobCache(dir)
    const data = randomBytes(50_000)
    const desc = descriptorOf(data)
    await drain(cache.writeThrough(slowSource(data), desc, 'blob'))
    const path = cache.blobPath(desc.digest)
    const bad = Buffer.from(data)
    bad[100] ^= 0x01
    writeFileSync(path, bad) // same size: only the digest check can notice
    const hit = await cache.open(desc, 'layer 0')
    const err = await drain(hit as Readable).catch((e) => e)
    expect(err).toBeInstanceOf(SlimError)
    expect(err.kind).toBe('integrity')
    expect(err.message).toMatch(/cached copy .* now removed; run again/)
    await new Promise((r) => setTimeout(r, 50))
    expect(existsSync(path)).toBe(false)
  })

  it('treats a cached file of the wrong size as a miss and removes it', async () => {
    const cache = new BlobCache(dir)
    const data = randomBytes(1000)
    const desc = descriptorOf(data)
    await drain(cache.writeThrough(slowSource(data), desc, 'blob'))
    writeFileSync(cache.blobPath(desc.digest), data.subarray(0, 10))
    expect(await cache.open(desc, 'blob')).toBeUndefined()
    expect(existsSync(cache.blobPath(desc.digest))).toBe(false)
  })

  it('read() serves a hit without calling the fetcher', async () => {
    const cache = new BlobCache(dir)
    const data = randomBytes(1000)
    const desc = descriptorOf(data)
    let fetches = 0
    const fetch = async (): Promise<Readable> => {
      fetches++
      return slowSource(data)
    }
    expect((await drain(await cache.read(desc, 'b', fetch))).equals(data)).toBe(true)
    expect((await drain(await cache.read(desc, 'b', fetch))).equals(data)).toBe(true)
    expect(fetches).toBe(1)
  })

  it('never fails a read because the cache cannot be written', async () => {
    const file = join(dir, 'not-a-dir')
    writeFileSync(file, '')
    const logs: string[] = []
    const cache = new BlobCache(join(file, 'cache'), (m) => logs.push(m))
    const data = randomBytes(10_000)
    const out = await drain(cache.writeThrough(slowSource(data), descriptorOf(data), 'blob'))
    expect(out.equals(data)).toBe(true)
    expect(logs.some((l) => /not storing/.test(l))).toBe(true)
  })

  it('sweeps temp files left by crashed processes (older than a day)', async () => {
    const cache = new BlobCache(dir)
    const first = await cache.tempPath()
    expect(first.startsWith(join(dir, 'tmp'))).toBe(true)
    const stale = join(dir, 'tmp', 'stale.partial')
    const fresh = join(dir, 'tmp', 'fresh.partial')
    writeFileSync(stale, 'x')
    writeFileSync(fresh, 'x')
    const old = (Date.now() - 2 * 24 * 3600 * 1000) / 1000
    utimesSync(stale, old, old)
    await new BlobCache(dir).tempPath()
    expect(existsSync(stale)).toBe(false)
    expect(existsSync(fresh)).toBe(true)
  })
})
