/**
 * How buildIndex reads: layers concurrently but bounded, merged strictly in layer order; progress;
 * cancellation; one failing layer stops the others; created_by from the history with empty_layer
 * entries skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it, vi } from 'vitest'
import { SlimError } from '../src/core/errors.js'
import { openImage } from '../src/image/open.js'
import type { Layer } from '../src/image/types.js'
import { buildIndex } from '../src/layers/build-index.js'
import { historyByLayer } from '../src/layers/history.js'
import { bufferLayer, makeImage, makeTar } from './helpers/tar-layers.js'
import { SHARED } from './helpers/shared.js'

const C = `${SHARED}/corpus`

/** A layer that delivers its tar slowly, counting how many such streams are open at once. */
interface OpenCount { now: number; max: number; destroyed: number; delivered?: number }

function slowLayer(tar: Buffer, index: number, delayMs: number, open: OpenCount, onBlock?: (delivered: number) => void): Layer {
  const base = bufferLayer(tar, index)
  return {
    ...base,
    uncompressed: async () => {
      open.now++
      open.max = Math.max(open.max, open.now)
      const chunks = Array.from({ length: Math.ceil(tar.length / 512) }, (_, i) => tar.subarray(i * 512, i * 512 + 512))
      const s = Readable.from(
        (async function* () {
          try {
            for (const c of chunks) {
              await sleep(delayMs)
              open.delivered = (open.delivered ?? 0) + 1
              yield c
              onBlock?.(open.delivered)
            }
          } finally {
            open.now--
          }
        })(),
      )
      s.on('close', () => {
        if (!s.readableEnded) open.destroyed++
      })
      return s
    },
  }
}

describe('buildIndex', () => {
  it('reads layers concurrently, at most `concurrency` at a time, and merges them in layer order', async () => {
    const open = { now: 0, max: 0, destroyed: 0 }
    const layers = [0, 1, 2, 3, 4].map((i) =>
      // Layer 0 is by far the slowest: later layers finish first and must wait to be merged.
      slowLayer(makeTar([{ name: 'who', data: `layer${i}` }, { name: `only${i}`, data: 'x' }]), i, i === 0 ? 15 : 1, open),
    )
    const progress: Array<[number, number, number | undefined]> = []
    const idx = await buildIndex(makeImage(layers), { concurrency: 3, onProgress: (l, d, t) => progress.push([l, d, t]) })
    expect((await idx.readFile('/who')).toString()).toBe('layer4')
    expect(open.max).toBe(3)
    expect(idx.readdir('/')).toEqual(['only0', 'only1', 'only2', 'only3', 'only4', 'who'])
    const finals = progress.filter(([, d, t]) => t === d)
    expect(finals.map(([l]) => l)).toEqual([0, 1, 2, 3, 4])
    expect(finals.every(([, d]) => d === makeTar([{ name: 'who', data: 'layer0' }, { name: 'only0', data: 'x' }]).length)).toBe(true)
  })

  it('refills a reading slot as soon as a layer is parsed, at most two layers per slot ahead of the merge', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const tar0 = makeTar([{ name: 'who', data: 'layer0' }])
    const held: Layer = {
      ...bufferLayer(tar0, 0),
      uncompressed: async () =>
        Readable.from(
          (async function* () {
            await gate
            yield tar0
          })(),
        ),
    }
    const opened = [1, 2, 3, 4, 5, 6].map(() => ({ count: 0 }))
    const rest = opened.map((o, i) => bufferLayer(makeTar([{ name: 'who', data: `layer${i + 1}` }]), i + 1, { opened: o }))
    const done = buildIndex(makeImage([held, ...rest]), { concurrency: 2 })
    // Layer 0 is stuck; the other slot goes on to layers 1, 2 and 3 (0 + 2 slots x 2 ahead) ...
    await vi.waitFor(() => expect(opened.map((o) => o.count)).toEqual([1, 1, 1, 0, 0, 0]))
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r))
    // ... and no further while layer 0 is not merged.
    expect(opened.map((o) => o.count)).toEqual([1, 1, 1, 0, 0, 0])
    release()
    const idx = await done
    expect(opened.map((o) => o.count)).toEqual([1, 1, 1, 1, 1, 1])
    expect((await idx.readFile('/who')).toString()).toBe('layer6')
  })

  it('starts reading an uncached top layer at once, before decoding the cached layers below it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slim-schedule-'))
    try {
      const base = [0, 1, 2].map((i) => bufferLayer(makeTar([{ name: `base${i}`, data: 'x'.repeat(3000) }]), i))
      await buildIndex(makeImage(base), { indexCacheDir: dir, concurrency: 1 })
      const events: string[] = []
      const topTar = makeTar([{ name: 'top', data: 'y' }])
      const top: Layer = {
        ...bufferLayer(topTar, 3),
        uncompressed: async () => {
          events.push('read top')
          return Readable.from([topTar])
        },
      }
      const idx = await buildIndex(makeImage([...base, top]), { indexCacheDir: dir, concurrency: 1, onProgress: (l, d, t) => d === t && events.push(`merged ${l}`) })
      expect(idx.layerPasses).toEqual([0, 0, 0, 1])
      expect(events).toEqual(['read top', 'merged 0', 'merged 1', 'merged 2', 'merged 3'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('stops every layer still being read when one fails, and reports that one', async () => {
    const open = { now: 0, max: 0, destroyed: 0 }
    const slow = slowLayer(makeTar(Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, data: 'x' }))), 0, 5, open)
    const broken = bufferLayer(Buffer.from('this is not a tar, just text, long enough to fill one 512-byte block'.repeat(10)), 1)
    const err = await buildIndex(makeImage([slow, broken]), { concurrency: 2 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SlimError)
    expect((err as SlimError).message).toMatch(/^layer 1 \(sha256:.*\) is not a tar archive/)
    expect(open.destroyed).toBe(1) // layer 0 was still being read: stopped, not drained
    // Its generator's finally runs once its pending delay ends: wait for that, assert no time.
    await vi.waitFor(() => expect(open.now).toBe(0))
  })

  it('can be cancelled', async () => {
    const open: OpenCount = { now: 0, max: 0, destroyed: 0 }
    const ac = new AbortController()
    const tar = makeTar(Array.from({ length: 100 }, (_, i) => ({ name: `f${i}`, data: 'x' })))
    // Cancel after 10 of the layer's blocks were delivered: counted work, not a timer.
    const layer = slowLayer(tar, 0, 1, open, (delivered) => {
      if (delivered === 10) ac.abort(new SlimError('usage', 'cancelled by the test'))
    })
    await expect(buildIndex(makeImage([layer]), { signal: ac.signal })).rejects.toThrow('cancelled by the test')
    expect(open.delivered).toBeLessThan(tar.length / 512 / 2) // stopped soon after, not read to the end
    await vi.waitFor(() => expect(open.destroyed).toBe(1)) // 'close' is emitted on a later tick
  })

  it('rejects a nonsensical expansion limit', async () => {
    await expect(buildIndex(makeImage([]), { maxExpandedBytes: 0 })).rejects.toMatchObject({ kind: 'usage' })
  })

  it('lists entries depth first, names sorted', async () => {
    const idx = await buildIndex(makeImage([bufferLayer(makeTar([{ name: 'b/z', data: '' }, { name: 'a-b', data: '' }, { name: 'a/c', data: '' }, { name: 'b/a', data: '' }]), 0)]))
    expect([...idx.entries()].map((e) => e.path)).toEqual(['/a', '/a/c', '/a-b', '/b', '/b/a', '/b/z'])
  })
})

describe('created_by from the config history', () => {
  it('skips empty_layer entries (dive test image: CMD made no layer)', async () => {
    const img = await openImage(`docker-archive:${C}/wagoodman__dive/.data/test-docker-image.tar`)
    const idx = await buildIndex(img)
    await img.close()
    expect(idx.warnings).toEqual([])
    expect(idx.layers[0].createdBy).toMatch(/ADD file:ce026b.* in \//)
    expect(idx.layers[1].createdBy).toMatch(/ADD file:139c37.* in \/somefile.txt/)
    expect(idx.layers[13].createdBy).toBe('/bin/sh -c chmod +x /root/saved.txt')
  })

  it('go-containerregistry source_image_with_empty_layer_history.tar: 2 history entries, 1 layer', async () => {
    const img = await openImage(`docker-archive:${C}/google__go-containerregistry/pkg/v1/mutate/testdata/source_image_with_empty_layer_history.tar`)
    const idx = await buildIndex(img)
    await img.close()
    const withLayer = (img.config.history ?? []).filter((h) => !h.empty_layer)
    expect(img.config.history?.length).toBe(2)
    expect(idx.layers[0].createdBy).toBe(withLayer[0]?.created_by)
    expect(idx.warnings).toEqual([])
  })

  it('says so when the history does not match the layers', () => {
    const h = historyByLayer([{ created_by: 'a' }, { created_by: 'cmd', empty_layer: true }], 3)
    expect(h.layers.map((l) => l.createdBy)).toEqual(['a', undefined, undefined])
    expect(h.warning).toMatch(/history has 1 entries that made a layer but the image has 3 layers.*last 2 layers have none/)
    expect(historyByLayer(undefined, 1).warning).toMatch(/no history/)
    expect(historyByLayer([{ created_by: 'x' }], 1).warning).toBeUndefined()
  })
})

describe('what the index pass keeps is bounded', () => {
  it('per layer and for the whole image: files past the bounds are read from their layer when asked for, with the same bytes', async () => {
    const body = (tag: string) => Buffer.alloc(1000, tag)
    const image = makeImage([
      bufferLayer(makeTar(['a', 'b', 'c'].map((n) => ({ name: `k/${n}`, data: body(`k${n}`) }))), 0),
      bufferLayer(makeTar(['a', 'b', 'c'].map((n) => ({ name: `m/${n}`, data: body(`m${n}`) }))), 1),
    ])
    const index = await buildIndex(image, { concurrency: 1, capture: (p) => p.startsWith('/k/') || p.startsWith('/m/'), maxKeptBytes: { layer: 2500, image: 3500 } })
    expect(index.layerPasses).toEqual([1, 1])
    // Layer 0 keeps two of its three files (2,000 of 2,500 bytes); the image bound lets one of layer 1's two in.
    for (const p of ['/k/a', '/k/b', '/m/a']) expect((await index.readFile(p)).equals(body(p.replace(/\//g, '').slice(0, 2)))).toBe(true)
    expect(index.layerPasses).toEqual([1, 1])
    expect((await index.readFile('/k/c')).equals(body('kc'))).toBe(true)
    expect(index.layerPasses).toEqual([2, 1])
    expect((await index.readFile('/m/b')).equals(body('mb'))).toBe(true)
    expect(index.layerPasses).toEqual([2, 2])
    expect((await index.readFile('/m/c')).equals(body('mc'))).toBe(true)
  })
})
