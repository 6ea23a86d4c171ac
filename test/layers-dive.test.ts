/**
 * dive parity. The expected figures are computed HERE, independently of slim's code, from GNU tar's
 * listing of each layer (`tar -tvf`) and the rules in shared/reference/anchors.md section 1:
 * per-layer leaves, whiteouts weighing what they delete from the stack below (when it was a
 * directory), efficiency = sum(min) / sum(cum), wasted = sum(cum) over paths in 2+ layers, layer
 * size = sum of tar header sizes, user size = layers 1..n. dive itself reports efficiency 98.44 %
 * and 32 kB wasted for its test image.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openImage } from '../src/image/open.js'
import { buildIndex } from '../src/layers/build-index.js'
import { computeMetrics } from '../src/layers/metrics.js'
import { fileLayer, makeImage, makeTar, type TarEntrySpec } from './helpers/tar-layers.js'
import { SHARED } from './helpers/shared.js'

const C = `${SHARED}/corpus`
const CACHE = join(process.env.SLIM_TEST_CACHE ?? '/var/tmp/slim-test-cache', 'layers-dive')

interface Listed {
  type: string
  size: number
  path: string
}

/** GNU tar's verbose listing: "drwxr-xr-x 0/0 0 2018-12-24 21:26 bin/" (+ " link to X" / " -> X"). */
function listTar(file: string): Listed[] {
  const out = execFileSync('tar', ['--numeric-owner', '-tvf', file], { encoding: 'utf8' })
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^(\S)\S*\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(.*)$/.exec(line)
      if (!m) throw new Error(`unexpected tar listing line: ${line}`)
      const name = m[3].replace(/ (link to|->) .*$/, '')
      const path = name.split('/').filter((p) => p !== '' && p !== '.').join('/')
      return { type: m[1], size: Number(m[2]), path }
    })
    .filter((e) => e.path !== '')
}

/** dive's efficiency over layer listings, written as plainly as possible. */
function diveByHand(layers: Listed[][]): { efficiency: number; wasted: number; size: number; userSize: number } {
  const perPath = new Map<string, { n: number; cum: number; min: number }>()
  let stack = new Map<string, { dir: boolean; size: number }>() // dive's stacked tree: no opaque handling
  for (const entries of layers) {
    const last = new Map<string, Listed>()
    const parents = new Set<string>()
    for (const e of entries) {
      const parts = e.path.split('/')
      for (let i = 1; i < parts.length; i++) parents.add(parts.slice(0, i).join('/'))
      if (parts[parts.length - 1] !== '.wh..wh..opq') last.set(e.path, e)
    }
    for (const [path, e] of last) {
      if (parents.has(path)) continue
      const base = path.split('/').pop()!
      let key = path
      let size = e.size
      if (base.startsWith('.wh.')) {
        key = [...path.split('/').slice(0, -1), base.slice(4)].join('/')
        const below = stack.get(key)
        size = 0
        if (below?.dir) for (const [p, s] of stack) if (p === key || p.startsWith(`${key}/`)) size += s.size
      }
      const t = perPath.get(key) ?? { n: 0, cum: 0, min: Infinity }
      t.n++
      t.cum += size
      t.min = Math.min(t.min, size)
      perPath.set(key, t)
    }
    const next = new Map(stack)
    for (const e of entries) {
      const base = e.path.split('/').pop()!
      if (base === '.wh..wh..opq') continue
      if (base.startsWith('.wh.')) {
        const key = [...e.path.split('/').slice(0, -1), base.slice(4)].join('/')
        for (const p of [...next.keys()]) if (p === key || p.startsWith(`${key}/`)) next.delete(p)
        continue
      }
      const parts = e.path.split('/')
      for (let i = 1; i < parts.length; i++) {
        const d = parts.slice(0, i).join('/')
        if (!next.has(d)) next.set(d, { dir: true, size: 0 })
      }
      next.set(e.path, { dir: e.type === 'd', size: e.size })
    }
    stack = next
  }
  let sumMin = 0
  let sumCum = 0
  let wasted = 0
  for (const t of perPath.values()) {
    sumMin += t.min
    sumCum += t.cum
    if (t.n >= 2) wasted += t.cum
  }
  const sizes = layers.map((l) => l.reduce((s, e) => s + e.size, 0))
  return {
    efficiency: sumCum === 0 ? 1 : sumMin / sumCum,
    wasted,
    size: sizes.reduce((a, b) => a + b, 0),
    userSize: sizes.slice(1).reduce((a, b) => a + b, 0),
  }
}

/** The layer files of a docker-archive, unpacked into the test cache, in manifest order. */
function layerFiles(archive: string, name: string): string[] {
  const dir = join(CACHE, name)
  mkdirSync(dir, { recursive: true })
  execFileSync('tar', ['-xf', archive, '-C', dir])
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Array<{ Layers: string[] }>
  return manifest[0].Layers.map((l) => join(dir, l))
}

describe('dive parity', () => {
  it.each([
    ['test-docker-image.tar', 'docker'],
    ['test-kaniko-image.tar', 'kaniko'],
  ])('dive %s: efficiency, wasted bytes, sizes match a by-hand computation', async (file, name) => {
    const archive = `${C}/wagoodman__dive/.data/${file}`
    const expected = diveByHand(layerFiles(archive, name).map(listTar))
    const img = await openImage(`docker-archive:${archive}`)
    const idx = await buildIndex(img)
    const dive = computeMetrics(idx).dive
    await img.close()

    expect(dive.wastedBytes).toBe(expected.wasted)
    expect(dive.sizeBytes).toBe(expected.size)
    expect(dive.userSizeBytes).toBe(expected.userSize)
    expect(dive.efficiency).toBeCloseTo(expected.efficiency, 12)
    expect(dive.userWastedPercent).toBeCloseTo(expected.wasted / expected.userSize, 12)
  })

  it("dive's own figures for its test image: efficiency 98.44 %, 32 kB wasted", async () => {
    const img = await openImage(`docker-archive:${C}/wagoodman__dive/.data/test-docker-image.tar`)
    const dive = computeMetrics(await buildIndex(img)).dive
    await img.close()
    expect(dive.efficiency).toBeCloseTo(0.9844, 4)
    expect(dive.wastedBytes).toBeGreaterThan(31_500)
    expect(dive.wastedBytes).toBeLessThan(32_500)
    expect(dive.inefficientFiles.map((f) => f.path)).toEqual(expect.arrayContaining(['/root/saved.txt', '/root/example/somefile1.txt']))
  })

  it('whiteouts of directories hidden by an opaque marker still weigh what dive sees (dive ignores opaque markers)', async () => {
    const layers: TarEntrySpec[][] = [
      [{ name: 'a/', type: '5' }, { name: 'a/x', data: Buffer.alloc(100, 1) }, { name: 'b', data: Buffer.alloc(7, 2) }],
      [{ name: 'a/', type: '5' }, { name: 'a/.wh..wh..opq' }, { name: 'a/y', data: Buffer.alloc(50, 3) }],
      [{ name: '.wh.a' }, { name: 'b', data: Buffer.alloc(9, 4) }],
      [{ name: 'a', data: Buffer.alloc(10, 5) }],
    ]
    mkdirSync(CACHE, { recursive: true })
    const files = layers.map((l, i) => {
      const f = join(CACHE, `opaque-${i}.tar`)
      writeFileSync(f, makeTar(l))
      return f
    })
    const expected = diveByHand(files.map(listTar))
    const idx = await buildIndex(makeImage(files.map((f, i) => fileLayer(f, i))))
    const dive = computeMetrics(idx).dive
    // /a: whiteout weighing a/x (hidden by the opaque marker, still in dive's stack) + a/y = 150, then a 10-byte file.
    expect(expected.wasted).toBe(150 + 10 + 7 + 9)
    expect(dive.wastedBytes).toBe(expected.wasted)
    expect(dive.efficiency).toBeCloseTo(expected.efficiency, 12)
    expect(dive.inefficientFiles.find((f) => f.path === '/a')).toEqual({ path: '/a', count: 2, cumulativeSize: 160, minSize: 10 })
  })
})

describe("dive's tally for the top layer", () => {
  it('keeping no entry for a top-layer path seen once gives the same figures as keeping them all', async () => {
    const { DiveTally } = await import('../src/layers/dive.js')
    // Seeded (mulberry32) so a failure can be replayed: random layers over a few paths. As in a
    // layer's leaves, a key is visited at most once as an entry and at most once as a whiteout.
    let seed = 42
    const rand = (n: number): number => {
      seed = (seed + 0x6d2b79f5) | 0
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
      return (((t ^ (t >>> 14)) >>> 0) % n)
    }
    const keys = ['p0', 'p1', 'p2', 'p3', 'p4']
    let inefficientSeen = 0
    for (let round = 0; round < 300; round++) {
      const layers = Array.from({ length: 1 + rand(4) }, () => [
        ...keys.filter(() => rand(2) === 0).map((key) => ({ key, size: rand(3) * 100, whiteout: false })),
        ...keys.filter(() => rand(5) === 0).map((key) => ({ key, size: rand(3) * 100, whiteout: true })),
      ])
      const all = new DiveTally()
      const top = new DiveTally()
      layers.forEach((visits, i) => {
        const whiteouts = new Set(visits.filter((v) => v.whiteout).map((v) => v.key))
        for (const v of visits) {
          all.visit(v.key, v.size)
          if (i === layers.length - 1) top.visitTop(v.key, v.size, whiteouts.has(v.key))
          else top.visit(v.key, v.size)
        }
      })
      const summary = all.summary()
      inefficientSeen += summary.inefficient.length
      expect(top.summary()).toEqual(summary)
    }
    expect(inefficientSeen).toBeGreaterThan(0)
  })
})
