/**
 * The cache as a whole (src/pipeline/cache-store.ts): what `slim cache info` lists and what
 * `slim cache prune` removes. Only files slim writes, under its own parts and names, are touched;
 * entries go oldest-used first; a read marks an entry used (blob, layer index and result caches);
 * temp files go only once a day old. The built CLI is in e2e-cache-command.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { SlimError } from '../src/core/errors.js'
import { parseDuration } from '../src/core/format.js'
import { BlobCache } from '../src/image/cache.js'
import { buildIndex } from '../src/layers/build-index.js'
import { listCache, pruneCache, summarizeCache, type CacheFile } from '../src/pipeline/cache-store.js'
import { analysisKey, ResultCache } from '../src/pipeline/result-cache.js'
import { bufferLayer, makeImage, makeTar } from './helpers/tar-layers.js'

const root = mkdtempSync(join(tmpdir(), 'slim-cache-store-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const DAY = 86_400_000
const NOW = Date.UTC(2026, 11, 7, 12)
const hex = (s: string, n = 64): string => createHash('sha256').update(s).digest('hex').slice(0, n)

/** Writes `bytes` bytes at `rel` under `dir`, last modified `ageDays` before NOW. */
function put(dir: string, rel: string, bytes: number, ageDays: number): string {
  const path = join(dir, rel)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, Buffer.alloc(bytes, 1))
  const t = new Date(NOW - ageDays * DAY)
  utimesSync(path, t, t)
  return path
}

/** A cache with an entry of every part, of known sizes and ages, and things that are not slim's. */
function sampleCache(name: string): { dir: string; foreign: string[]; outside: string } {
  const dir = join(root, name)
  put(dir, `blobs/sha256/${hex('old blob')}`, 4000, 40)
  put(dir, `blobs/sha256/${hex('new blob')}`, 3000, 1)
  put(dir, `layer-index/sha256/${hex('old index')}`, 2000, 20)
  put(dir, `analysis/${hex('result')}`, 500, 10)
  put(dir, 'compile/v22-abc/module1', 300, 5)
  put(dir, `tmp/${hex('stale', 24)}.partial`, 100, 2)
  put(dir, `tmp/${hex('fresh', 24)}.layer-index`, 50, 0.01)
  const outside = put(root, `${name}-outside/precious`, 10, 100)
  const foreign = [
    put(dir, 'notes.txt', 10, 100), // not a part
    put(dir, 'blobs/sha256/not-a-digest', 10, 100), // not a digest name
    put(dir, 'blobs/SHA256/' + hex('x'), 10, 100), // not an algorithm name slim writes
    put(dir, `analysis/${hex('short', 40)}`, 10, 100), // not a result key
    put(dir, 'tmp/someone-elses-file', 10, 100),
  ]
  // A symlink where an entry would be, pointing out of the cache: neither listed nor followed.
  symlinkSync(outside, join(dir, 'blobs', 'sha256', hex('link')))
  symlinkSync(dirname(outside), join(dir, 'analysis-link'))
  foreign.push(join(dir, 'blobs', 'sha256', hex('link')))
  return { dir, foreign, outside }
}

const parts = (files: CacheFile[]): string[] => files.map((f) => `${f.part} ${f.bytes}`).sort()

describe('cache store', () => {
  it('lists only what slim writes, by part, with sizes', async () => {
    const { dir } = sampleCache('list')
    const { exists, files } = await listCache(dir)
    expect(exists).toBe(true)
    expect(parts(files)).toEqual(['analysis 500', 'blobs 3000', 'blobs 4000', 'compile 300', 'layer-index 2000', 'tmp 100', 'tmp 50'])
    const s = await summarizeCache(dir)
    expect(s.files).toBe(7)
    expect(s.bytes).toBe(9950)
    expect(s.parts.find((p) => p.part === 'blobs')).toEqual({ part: 'blobs', files: 2, bytes: 7000 })
    expect(await summarizeCache(join(root, 'missing'))).toMatchObject({ exists: false, files: 0, bytes: 0 })
  })

  it('--older-than removes entries not used for that long, and stale temp files; nothing foreign', async () => {
    const { dir, foreign, outside } = sampleCache('older')
    const r = await pruneCache(dir, { olderThanMs: 15 * DAY }, { now: NOW })
    expect(r.removed.parts.filter((p) => p.files).map((p) => `${p.part} ${p.bytes}`)).toEqual(['blobs 4000', 'layer-index 2000', 'tmp 100'])
    expect(parts((await listCache(dir)).files)).toEqual(['analysis 500', 'blobs 3000', 'compile 300', 'tmp 50'])
    expect(r.left.bytes).toBe(3850)
    for (const f of [...foreign, outside]) expect(existsSync(f), f).toBe(true)
  })

  it('--max-size removes the entries used longest ago until the cache fits; a fresh temp file stays', async () => {
    const { dir } = sampleCache('size')
    const r = await pruneCache(dir, { maxBytes: 3500 }, { now: NOW })
    // Stale temp (100) always; then oldest first: blob 40 d (4000), index 20 d (2000), result 10 d (500): 3350 left.
    expect(r.removed.files).toBe(4)
    expect(r.left.bytes).toBe(3350)
    expect(parts((await listCache(dir)).files)).toEqual(['blobs 3000', 'compile 300', 'tmp 50'])
  })

  it('--all removes every entry but a temp file that may be in use; --dry-run removes nothing and says the same', async () => {
    const { dir, foreign, outside } = sampleCache('all')
    const dry = await pruneCache(dir, { all: true }, { now: NOW, dryRun: true })
    expect(dry.dryRun).toBe(true)
    expect((await listCache(dir)).files).toHaveLength(7)
    const r = await pruneCache(dir, { all: true }, { now: NOW })
    expect({ ...r, dryRun: true }).toEqual(dry)
    expect(parts((await listCache(dir)).files)).toEqual(['tmp 50'])
    for (const f of [...foreign, outside]) expect(existsSync(f), f).toBe(true)
  })

  it('a blob pruned while a run has it open still reads whole and verified', async () => {
    const cache = new BlobCache(join(root, 'open-while-pruned'))
    const data = randomBytes(300_000)
    const desc = { mediaType: 'application/octet-stream', digest: `sha256:${createHash('sha256').update(data).digest('hex')}`, size: data.length }
    for await (const _ of await cache.read(desc, 'b', async () => Readable.from([data]))) void _
    const stream = (await cache.open(desc, 'b'))!
    const r = await pruneCache(cache.dir, { all: true })
    expect(r.removed.parts.find((p) => p.part === 'blobs')?.files).toBe(1)
    expect(existsSync(cache.blobPath(desc.digest))).toBe(false)
    const chunks: Buffer[] = []
    for await (const c of stream) chunks.push(c as Buffer)
    expect(Buffer.concat(chunks).equals(data)).toBe(true)
  })

  it('refuses to prune without a rule, and a --cache-dir that is a file', async () => {
    const { dir } = sampleCache('refuse')
    await expect(pruneCache(dir, {})).rejects.toThrow(/say what to prune/)
    const file = put(root, 'a-file', 1, 0)
    await expect(pruneCache(file, { all: true })).rejects.toBeInstanceOf(SlimError)
    expect(existsSync(file)).toBe(true)
  })

  it('reads durations', () => {
    expect(parseDuration('30d')).toBe(30 * DAY)
    expect(parseDuration('12h')).toBe(DAY / 2)
    expect(parseDuration('1.5m')).toBe(90_000)
    expect(parseDuration('2 w')).toBe(14 * DAY)
    for (const bad of ['30', 'd', '-1d', '3y', '1d2h']) expect(parseDuration(bad), bad).toBeUndefined()
  })
})

describe('a read marks an entry used', () => {
  const old = new Date(NOW - 30 * DAY)
  const usedSince = (path: string, before: number): boolean => statSync(path).mtimeMs >= before - 1000

  it('a blob cache hit', async () => {
    const cache = new BlobCache(join(root, 'used-blob'))
    const data = randomBytes(1000)
    const desc = { mediaType: 'application/octet-stream', digest: `sha256:${createHash('sha256').update(data).digest('hex')}`, size: data.length }
    for await (const _ of await cache.read(desc, 'b', async () => Readable.from([data]))) void _
    const path = cache.blobPath(desc.digest)
    utimesSync(path, old, old)
    const before = Date.now()
    for await (const _ of (await cache.open(desc, 'b'))!) void _
    expect(usedSince(path, before)).toBe(true)
  })

  it('a layer index hit', async () => {
    const cacheDir = join(root, 'used-index')
    const tar = makeTar([{ name: 'etc/hostname', data: 'x\n' }])
    const image = () => makeImage([bufferLayer(tar, 0, { opened: { count: 0 } })])
    await buildIndex(image(), { indexCacheDir: cacheDir })
    const [entry] = readdirSync(join(cacheDir, 'layer-index', 'sha256')).map((n) => join(cacheDir, 'layer-index', 'sha256', n))
    utimesSync(entry!, old, old)
    const before = Date.now()
    const again = await buildIndex(image(), { indexCacheDir: cacheDir })
    expect(again.layerPasses).toEqual([0])
    expect(usedSince(entry!, before)).toBe(true)
  })

  it('an analysis result hit, and not a miss', async () => {
    const cache = new ResultCache(join(root, 'used-result'))
    const key = analysisKey({ image: 'a' })
    await cache.write(key, { a: 1 })
    utimesSync(cache.pathOf(key), old, old)
    expect(await cache.read(analysisKey({ image: 'b' }))).toBeUndefined()
    expect(statSync(cache.pathOf(key)).mtimeMs).toBe(old.getTime())
    const before = Date.now()
    expect(await cache.read(key)).toEqual({ a: 1 })
    expect(usedSince(cache.pathOf(key), before)).toBe(true)
  })
})
