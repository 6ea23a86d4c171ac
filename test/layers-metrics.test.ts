/**
 * slim's own waste figures: dead bytes, duplicate files, largest files and directories, on layers
 * whose answers are worked out by hand, plus the bookkeeping identity that ties them together:
 * every file byte a layer stores is either visible in the final image or dead.
 */
import { describe, expect, it } from 'vitest'
import { openImage } from '../src/image/open.js'
import { buildIndex } from '../src/layers/build-index.js'
import { computeMetrics } from '../src/layers/metrics.js'
import { imageOf, makeTar } from './helpers/tar-layers.js'
import { SHARED } from './helpers/shared.js'

const C = `${SHARED}/corpus`

describe('waste figures', () => {
  it('dead bytes, duplicates (hard links are not duplicates), largest files and directories', async () => {
    const idx = await buildIndex(
      imageOf(
        makeTar([
          { name: 'a/big', data: Buffer.alloc(1000, 'A') },
          { name: 'a/dup1', data: Buffer.alloc(300, 'D') },
          { name: 'b/dup2', data: Buffer.alloc(300, 'D') },
          { name: 'c/hl', type: '1', linkname: 'a/big' },
          { name: 'x', data: Buffer.alloc(100, 'X') },
          { name: 'empty1', data: '' },
          { name: 'empty2', data: '' },
        ]),
        makeTar([
          { name: 'a/.wh.dup1' },
          { name: 'x', data: Buffer.alloc(150, 'Y') },
          { name: 'b/dup3', data: Buffer.alloc(300, 'D') },
        ]),
      ),
    )
    const m = computeMetrics(idx)
    expect(m.deadBytes).toEqual({ total: 400, byLayer: [400, 0] })
    expect(m.duplicates.groupCount).toBe(1) // empty files are not duplicates of each other
    expect(m.duplicates.wastedBytes).toBe(300)
    expect(m.duplicates.groups[0]).toMatchObject({ size: 300, paths: ['/b/dup2', '/b/dup3'], wastedBytes: 300 })
    expect(m.duplicates.groups[0].sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(m.largestFiles.map((f) => [f.path, f.size, f.layer])).toEqual([
      ['/a/big', 1000, 0],
      ['/b/dup2', 300, 0],
      ['/b/dup3', 300, 1],
      ['/x', 150, 1],
      ['/empty1', 0, 0],
      ['/empty2', 0, 0],
    ])
    expect(m.largestDirs).toEqual([
      { path: '/a', size: 1000, files: 1 },
      { path: '/b', size: 600, files: 2 },
    ])
    expect(m.totals).toEqual({ files: 6, dirs: 3, symlinks: 0, hardlinks: 1, other: 0, bytes: 1850 - 100 })
    expect(idx.layers.map((l) => l.fileBytes)).toEqual([1700, 450])
  })

  it('without hashing, duplicates are reported as not checked rather than as none', async () => {
    const tar = makeTar([{ name: 'a', data: 'same' }, { name: 'b', data: 'same' }])
    expect(computeMetrics(await buildIndex(imageOf(tar))).duplicates).toMatchObject({ checked: true, groupCount: 1 })
    const idx = await buildIndex(imageOf(tar), { hashContent: false })
    expect(computeMetrics(idx).duplicates).toEqual({ checked: false, wastedBytes: 0, groupCount: 0, groups: [] })
    expect((await idx.readFile('/b')).toString()).toBe('same')
  })

  it('every stored file byte is visible or dead (dive test image, dockle symbolic.tar, alpine)', async () => {
    for (const ref of [
      `docker-archive:${C}/wagoodman__dive/.data/test-docker-image.tar`,
      `docker-archive:${C}/goodwithtech__dockle/pkg/deckoder/extractor/docker/testdata/symbolic.tar`,
      `docker-archive:${C}/aquasecurity__trivy/pkg/fanal/test/testdata/alpine-310.tar.gz`,
    ]) {
      const img = await openImage(ref)
      const idx = await buildIndex(img)
      const m = computeMetrics(idx)
      await img.close()
      const stored = idx.layers.reduce((s, l) => s + l.fileBytes, 0)
      expect(stored - m.deadBytes.total, ref).toBe(m.totals.bytes)
    }
  })

  it("dive's test image: which copies are dead and what is duplicated", async () => {
    const img = await openImage(`docker-archive:${C}/wagoodman__dive/.data/test-docker-image.tar`)
    const idx = await buildIndex(img)
    const m = computeMetrics(idx)
    await img.close()
    // somefile1 (twice), somefile2 and somefile3 (deleted with /root/example) and layer 7's saved.txt (chmod'ed later).
    expect(m.deadBytes.byLayer).toEqual([0, 0, 0, 6405, 6405, 6405, 6405, 6405, 0, 0, 0, 0, 0, 0])
    expect(m.duplicates.groups[0].paths).toEqual(['/root/.data/saved.again2.txt', '/root/.saved.txt', '/root/saved.txt', '/somefile.txt', '/tmp/saved.again1.txt'])
    expect(m.largestFiles[0]).toEqual({ path: '/bin/[', size: 1_075_464, layer: 0 })
    expect(m.largestDirs[0]).toEqual({ path: '/bin', size: 1_075_464 + 77_880, files: 2 }) // busybox's 400 hard links count once
  })
})
