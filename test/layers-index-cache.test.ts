/**
 * The layer index cache (src/layers/index-cache.ts): a hit reads no layer and gives the same
 * index; a miss, a corrupt entry and an entry of another format are read again (and the bad entry
 * replaced); a layer whose read fails its digest is never cached; two processes writing
 * the same entry at once leave one whole entry.
 */
import { runTwoAtOnce } from './helpers/two-processes.js'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildIndex } from '../src/layers/build-index.js'
import { INDEX_FORMAT, LayerIndexCache } from '../src/layers/index-cache.js'
import type { LayerIndex } from '../src/layers/layer-index.js'
import { ELF_SUMMARY_VERSION, summarizeElfForIndex } from '../src/inspect/elf-reader.js'
import { bufferLayer, makeImage, makeTar } from './helpers/tar-layers.js'

const dir = mkdtempSync(join(tmpdir(), 'slim-index-cache-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const ELF = readFileSync('/usr/bin/true')
const tars = [
  makeTar([
    { name: 'etc/', type: '5' },
    { name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\n' },
    { name: 'bin/true', data: ELF, mode: 0o755 },
    { name: 'bin/run.sh', data: '#!/bin/sh -e\nexec true\n', mode: 0o755 },
    { name: 'bin/link', type: '2', linkname: 'true' },
  ]),
  makeTar([{ name: 'etc/.wh.passwd' }, { name: 'app/data', data: 'x'.repeat(5000) }, { name: 'app/hard', type: '1', linkname: 'app/data' }]),
]

function image(opened: { count: number }[]) {
  return makeImage(tars.map((t, i) => bufferLayer(t, i, { opened: opened[i] })))
}

const options = (cacheDir: string) => ({ indexCacheDir: cacheDir, summarizeElf: summarizeElfForIndex, summaryVersion: ELF_SUMMARY_VERSION, capture: (p: string) => p === '/etc/passwd' })

/** Everything the index says, as comparable data. */
async function view(idx: LayerIndex): Promise<unknown> {
  return {
    entries: [...idx.entries()],
    layers: idx.layers,
    dive: idx.dive,
    heads: ['/bin/true', '/bin/link', '/bin/run.sh', '/app/data'].map((p) => idx.head(p) ?? null),
    hashes: [...idx.walk()].map(([n]) => idx.tree.hash(n)),
  }
}

describe('layer index cache', () => {
  const cacheDir = join(dir, 'one')
  const counters = () => tars.map(() => ({ count: 0 }))

  it('a miss reads every layer and writes one entry per verified digest; a hit reads none and gives the same index', async () => {
    const cold = counters()
    const a = await buildIndex(image(cold), options(cacheDir))
    expect(cold.map((c) => c.count)).toEqual([1, 1])
    expect(a.layerPasses).toEqual([1, 1])
    expect(readdirSync(join(cacheDir, 'layer-index', 'sha256'))).toHaveLength(2)
    expect(a.head('/bin/true')).toMatchObject({ magic: 'elf', summary: { class: 64 } })
    expect(a.head('/bin/run.sh')).toEqual({ magic: 'script', firstLine: '#!/bin/sh -e' })

    const warm = counters()
    const b = await buildIndex(image(warm), options(cacheDir))
    expect(warm.map((c) => c.count)).toEqual([0, 0])
    expect(b.layerPasses).toEqual([0, 0])
    expect(await view(b)).toEqual(await view(a))
  })

  it('a corrupt entry is removed and the layer read again; the entry is rewritten whole', async () => {
    const cache = new LayerIndexCache(cacheDir)
    const path = cache.pathOf(image(counters()).layers[0]!.verifiedDigest!)
    const bytes = readFileSync(path)
    const text = bytes.toString('latin1')
    expect(text).toContain('root:x') // kept files are stored raw
    writeFileSync(path, Buffer.from(text.replace('root:x', 'evil:x'), 'latin1'))
    const c = counters()
    await buildIndex(image(c), options(cacheDir))
    expect(c.map((x) => x.count)).toEqual([1, 0])
    expect(readFileSync(path).equals(bytes)).toBe(true)
    // An edited header (its length no longer matches) is corrupt too.
    writeFileSync(path, Buffer.from(text.replace(/"size":\d+/, '"size":1'), 'latin1'))
    const h = counters()
    const fixed = await buildIndex(image(h), options(cacheDir))
    expect(h.map((x) => x.count)).toEqual([1, 0])
    expect(fixed.layers[0]!.size).toBeGreaterThan(1)
    // A torn entry (cut mid-way, no digest) too.
    writeFileSync(path, bytes.subarray(0, bytes.length / 2))
    const t = counters()
    await buildIndex(image(t), options(cacheDir))
    expect(t.map((x) => x.count)).toEqual([1, 0])
  })

  it('an entry of another index format (or summariser version) is stale: removed and rebuilt', async () => {
    const cache = new LayerIndexCache(cacheDir)
    const path = cache.pathOf(image(counters()).layers[1]!.verifiedDigest!)
    const bytes = readFileSync(path)
    // A whole, well-formed entry (its digest recomputed): only its format number says it is stale.
    const body = Buffer.from(bytes.subarray(0, bytes.length - 32))
    expect(body.readUInt32LE(8)).toBe(INDEX_FORMAT)
    body.writeUInt32LE(INDEX_FORMAT - 1, 8)
    writeFileSync(path, Buffer.concat([body, createHash('sha256').update(body).digest()]))
    const c = counters()
    await buildIndex(image(c), options(cacheDir))
    expect(c.map((x) => x.count)).toEqual([0, 1])
    expect(readFileSync(path).readUInt32LE(8)).toBe(INDEX_FORMAT)

    const other = counters()
    await buildIndex(image(other), { ...options(cacheDir), summaryVersion: 'elf-next' })
    expect(other.map((x) => x.count)).toEqual([1, 1])
  })

  it('an entry without hashes does not serve a caller that needs them', async () => {
    const d = join(dir, 'hashes')
    await buildIndex(image(counters()), { ...options(d), hashContent: false })
    const c = counters()
    await buildIndex(image(c), options(d))
    expect(c.map((x) => x.count)).toEqual([1, 1])
    const again = counters()
    await buildIndex(image(again), { ...options(d), hashContent: false })
    expect(again.map((x) => x.count)).toEqual([0, 0])
  })

  it('never caches a layer whose bytes fail the digest it is read against', async () => {
    const d = join(dir, 'lying')
    const liar = bufferLayer(tars[0]!, 0, { badDigest: true })
    await expect(buildIndex(makeImage([liar]), options(d))).rejects.toThrow(/does not match/)
    expect(existsSync(join(d, 'layer-index'))).toBe(false)
    // The same bytes read against their true digest are cached, under that digest.
    await buildIndex(makeImage([bufferLayer(tars[0]!, 0)]), options(d))
    expect(readdirSync(join(d, 'layer-index', 'sha256'))).toEqual([bufferLayer(tars[0]!, 0).digest.slice('sha256:'.length)])
  })

  it('a layer that names no verified digest is read but never cached', async () => {
    const d = join(dir, 'unverified')
    const { verifiedDigest: _, ...layer } = bufferLayer(tars[0]!, 0)
    const idx = await buildIndex(makeImage([layer]), options(d))
    expect(idx.layerPasses).toEqual([1])
    expect(existsSync(join(d, 'layer-index'))).toBe(false)
  })

  it('no cache directory: nothing written, every layer read', async () => {
    const c = counters()
    const idx = await buildIndex(image(c), { summarizeElf: summarizeElfForIndex })
    expect(idx.layerPasses).toEqual([1, 1])
  })

  it('two processes writing the same entries at once leave whole entries that a third run hits', async () => {
    const d = join(dir, 'race')
    const tarFiles = tars.map((t, i) => {
      const p = join(dir, `layer${i}.tar`)
      writeFileSync(p, t)
      return p
    })
    const body = `import { buildIndex } from ${JSON.stringify(new URL('../src/layers/build-index.ts', import.meta.url).pathname)}
import { bufferLayer, makeImage } from ${JSON.stringify(new URL('./helpers/tar-layers.ts', import.meta.url).pathname)}
const [cacheDir, ...files] = args
// A layer is opened only after its cache entry was missed; each process waits at every layer for
// the other to open it too, so both read (and then write) every layer, whatever the scheduling.
const layers = files.map((f, i) => {
  const layer = bufferLayer(readFileSync(f), i, { chunkSize: 512 })
  return {
    ...layer,
    uncompressed: async () => {
      writeFileSync(barrier + '.open-' + id + '-' + i, '')
      while (!existsSync(barrier + '.open-' + other + '-' + i)) await new Promise((r) => setTimeout(r, 5))
      return layer.uncompressed()
    },
  }
})
const idx = await buildIndex(makeImage(layers), { indexCacheDir: cacheDir })
console.log(JSON.stringify(idx.layerPasses))
`
    const outs = await runTwoAtOnce(dir, body, [d, ...tarFiles])
    expect(outs.map((o) => JSON.parse(o))).toEqual([[1, 1], [1, 1]])
    expect(readdirSync(join(d, 'tmp'))).toEqual([])
    const c = counters()
    const idx = await buildIndex(image(c), { indexCacheDir: d })
    expect(c.map((x) => x.count)).toEqual([0, 0])
    expect([...idx.entries()].map((e) => e.path)).toContain('/app/hard')
  }, 60_000)
})

