/**
 * File contents on demand: readFile re-reads only the layer holding the file, stops once the file
 * went by, shares one pass between concurrent reads of a layer, and returns exactly the bytes GNU
 * tar extracts (`tar -xOf`).
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openImage } from '../src/image/open.js'
import { buildIndex } from '../src/layers/build-index.js'
import { bufferLayer, makeImage, makeTar } from './helpers/tar-layers.js'
import { SHARED } from './helpers/shared.js'

const C = `${SHARED}/corpus`
const CACHE = join(process.env.SLIM_TEST_CACHE ?? '/var/tmp/slim-test-cache', 'layers-readfile')

function unpackArchive(archive: string, name: string): { dir: string; layers: string[] } {
  const dir = join(CACHE, name)
  mkdirSync(dir, { recursive: true })
  execFileSync('tar', ['-xf', archive, '-C', dir])
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Array<{ Layers: string[] }>
  return { dir, layers: manifest[0].Layers.map((l) => join(dir, l)) }
}

function tarExtract(layerTar: string, member: string): Buffer {
  return execFileSync('tar', ['-xOf', layerTar, member], { maxBuffer: 64 * 1024 * 1024 })
}

describe('readFile', () => {
  it("returns the bytes GNU tar extracts, from the layer that provides the file (dive's test image)", async () => {
    const archive = `${C}/wagoodman__dive/.data/test-docker-image.tar`
    const { layers } = unpackArchive(archive, 'dive')
    const img = await openImage(`docker-archive:${archive}`)
    const idx = await buildIndex(img)
    const cases: Array<[string, number, string]> = [
      ['/bin/[', 0, 'bin/['],
      ['/somefile.txt', 1, 'somefile.txt'],
      ['/root/saved.txt', 13, 'root/saved.txt'], // the chmod layer's copy, not layer 7's
      ['/root/.data/tag.sh', 10, 'root/.data/tag.sh'],
      ['/bin/sh', 0, 'bin/['], // a hard link: the content of its target
    ]
    const got = await Promise.all(cases.map(([p]) => idx.readFile(p)))
    cases.forEach(([path, layer, member], i) => {
      expect(idx.stat(path)?.layer === layer || idx.stat(path)?.type === 'hardlink').toBe(true)
      expect(got[i].equals(tarExtract(layers[layer], member)), path).toBe(true)
    })
    expect(got[0].length).toBe(1_075_464)
    await img.close()
  })

  it('follows absolute symlinks inside the image (alpine /bin/sh -> /bin/busybox)', async () => {
    const archive = `${C}/aquasecurity__trivy/pkg/fanal/test/testdata/alpine-310.tar.gz`
    const dir = join(CACHE, 'alpine-310-rf')
    mkdirSync(dir, { recursive: true })
    execFileSync('tar', ['-xzf', archive, '-C', dir])
    const layer = join(dir, (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Array<{ Layers: string[] }>)[0].Layers[0])
    const img = await openImage(`docker-archive:${archive}`)
    const idx = await buildIndex(img)
    const [sh, release] = await Promise.all([idx.readFile('/bin/sh'), idx.readFile('/etc/os-release')])
    expect(sh.equals(tarExtract(layer, 'bin/busybox'))).toBe(true)
    expect(release.toString()).toContain('ID=alpine')
    await img.close()
  })

  const files = Array.from({ length: 40 }, (_, i) => ({ name: `f/${String(i).padStart(2, '0')}`, data: Buffer.alloc(200_000, i + 1) }))
  const layer = makeTar([{ name: 'first', data: 'FIRST' }, ...files])

  it('shares one pass for concurrent reads of one layer and reads nothing of the others', async () => {
    const opened = [{ count: 0 }, { count: 0 }]
    const idx = await buildIndex(makeImage([bufferLayer(layer, 0, { opened: opened[0] }), bufferLayer(makeTar([{ name: 'other', data: 'o' }]), 1, { opened: opened[1] })]))
    expect(opened.map((o) => o.count)).toEqual([1, 1])
    const got = await Promise.all(files.map((f) => idx.readFile(`/${f.name}`)))
    got.forEach((b, i) => expect(b.equals(files[i].data)).toBe(true))
    expect(opened.map((o) => o.count)).toEqual([2, 1])
  })

  it('readFiles: a batch of late reads costs one pass per layer, counted in layerPasses; a missing file maps to its error', async () => {
    const idx = await buildIndex(makeImage([bufferLayer(layer, 0), bufferLayer(makeTar([{ name: 'other', data: 'o' }]), 1)]))
    expect(idx.layerPasses).toEqual([1, 1])
    const got = await idx.readFiles([...files.map((f) => `/${f.name}`), '/other', '/nope'])
    files.forEach((f) => expect((got.get(`/${f.name}`) as Buffer).equals(f.data)).toBe(true))
    expect(got.get('/nope')).toBeInstanceOf(Error)
    expect(idx.layerPasses).toEqual([2, 2])
  })

  it('serves reads that arrive one after another while a pass is ending (await in a loop)', async () => {
    const opened = { count: 0 }
    const idx = await buildIndex(makeImage([bufferLayer(layer, 0, { opened, chunkSize: 4096 })]))
    for (const f of files.slice(0, 12)) expect((await idx.readFile(`/${f.name}`)).equals(f.data)).toBe(true)
    // in file order, later reads join the pass that is still running
    expect(opened.count - 1).toBe(1)
  })

  it('stops reading a layer once the file went by', async () => {
    const opened = { count: 0, bytes: 0 }
    const idx = await buildIndex(makeImage([bufferLayer(layer, 0, { opened })]))
    const before = opened.bytes
    expect((await idx.readFile('/first')).toString()).toBe('FIRST')
    expect(opened.bytes - before).toBeLessThan(layer.length / 2)
  })

  it('refuses what is not a regular file, sparse files and files over the size limit', async () => {
    const idx = await buildIndex(
      makeImage([
        bufferLayer(
          makeTar([
            { name: 'd/', type: '5' },
            { name: 'link', type: '2', linkname: 'd' },
            { name: 'sparse', type: 'S', data: 'abc' },
            { name: 'big', data: Buffer.alloc(5000) },
            { name: 'empty', data: '' },
          ]),
          0,
        ),
      ]),
    )
    await expect(idx.readFile('/d')).rejects.toMatchObject({ kind: 'not-found', message: '/d is a dir, not a regular file' })
    await expect(idx.readFile('/link')).rejects.toMatchObject({ kind: 'not-found' })
    await expect(idx.readFile('/nope')).rejects.toMatchObject({ kind: 'not-found', message: '/nope: no such file in the image' })
    await expect(idx.readFile('/sparse')).rejects.toMatchObject({ kind: 'unsupported' })
    await expect(idx.readFile('/big', { maxBytes: 4096 })).rejects.toMatchObject({ kind: 'limit' })
    expect((await idx.readFile('/empty')).length).toBe(0)
  })

  it('notices when the layer reads back different from when it was indexed', async () => {
    const original = makeTar([{ name: 'f', data: 'original' }])
    const changed = makeTar([{ name: 'f', data: 'CHANGED!' }])
    const idx = await buildIndex(makeImage([bufferLayer(original, 0, { opened: { count: 0 }, later: changed })]))
    await expect(idx.readFile('/f')).rejects.toMatchObject({ kind: 'integrity', message: expect.stringMatching(/reads back different/) })
  })
})

describe('openFile (reading by ranges)', () => {
  it('copies a big file from its layer into a temp file, shares the pass with readFile, and removes the copy on close', async () => {
    const { liveTempPaths } = await import('../src/core/temp.js')
    const big = Buffer.alloc(3 * 1024 * 1024)
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i)
    const layer = makeTar([{ name: 'small', data: 's' }, { name: 'big', data: big }, { name: 'after', data: 'a' }])
    const opened = { count: 0 }
    const idx = await buildIndex(makeImage([bufferLayer(layer, 0, { opened, chunkSize: 64 * 1024 })]))
    const before = opened.count
    const [file, whole] = await Promise.all([idx.openFile('/big'), idx.readFile('/big')])
    expect(opened.count - before).toBe(1)
    expect(whole.equals(big)).toBe(true)
    expect(file.size).toBe(big.length)
    expect(file.read(2 * 1024 * 1024 + 4096, 8).equals(big.subarray(2 * 1024 * 1024 + 4096, 2 * 1024 * 1024 + 4104))).toBe(true)
    expect(liveTempPaths()).toHaveLength(1)
    await file.close()
    expect(liveTempPaths()).toEqual([])
  })

  it('a copy past the temp budget fails with the flag to raise it, and leaves nothing', async () => {
    const { liveTempPaths } = await import('../src/core/temp.js')
    const { LayerIndex } = await import('../src/layers/layer-index.js')
    const layer = makeTar([{ name: 'big', data: Buffer.alloc(2 * 1024 * 1024) }])
    const idx = await buildIndex(makeImage([bufferLayer(layer, 0)]))
    // The same index with a 1 MiB temp budget (buildIndex ties it to --max-expanded-size).
    const tight = new LayerIndex({ image: idx.image, tree: idx.tree, layers: [...idx.layers], warnings: [...idx.warnings], dive: idx.dive, captured: new Map(), heads: new Map(), hashed: idx.hashed, indexPasses: [0], maxTempBytes: 1024 * 1024 })
    await expect(tight.openFile('/big')).rejects.toMatchObject({ kind: 'limit', message: expect.stringMatching(/--max-expanded-size/) })
    expect(liveTempPaths()).toEqual([])
  })
})
