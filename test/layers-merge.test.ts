/**
 * How layers stack: whiteouts, opaque directories, replacements, hard links, implicit directories
 * (OCI image-spec layer.md), with generated layers and with the whiteout layers other projects
 * committed (go-containerregistry mutate fixtures, container-diff, regclient, trivy).
 */
import { describe, expect, it } from 'vitest'
import { openImage } from '../src/image/open.js'
import { buildIndex } from '../src/layers/build-index.js'
import type { LayerIndex } from '../src/layers/layer-index.js'
import { bufferLayer, fileLayer, imageOf, makeImage, makeTar, type TarEntrySpec } from './helpers/tar-layers.js'
import { SHARED } from './helpers/shared.js'

const C = `${SHARED}/corpus`

function build(...layers: TarEntrySpec[][]): Promise<LayerIndex> {
  return buildIndex(imageOf(...layers.map((l) => makeTar(l))))
}

/** The final tree as "path" for dirs/files and "path -> target" for links. */
function listing(idx: LayerIndex): string[] {
  return [...idx.entries()].map((e) =>
    e.type === 'symlink' ? `${e.path} -> ${e.linkTarget}` : e.type === 'hardlink' ? `${e.path} => ${e.hardlinkTo ?? '?'}` : e.type === 'dir' ? `${e.path}/` : e.path,
  )
}

async function text(idx: LayerIndex, path: string): Promise<string> {
  return (await idx.readFile(path)).toString()
}

describe('whiteouts', () => {
  const lower: TarEntrySpec[] = [
    { name: 'a/', type: '5' },
    { name: 'a/x', data: 'xx' },
    { name: 'a/y', data: 'yyy' },
    { name: 'a/sub/', type: '5' },
    { name: 'a/sub/z', data: 'zzzz' },
    { name: 'keep', data: 'k' },
  ]

  it('delete a file or a whole directory of the layers below, counting what they remove', async () => {
    const idx = await build(lower, [{ name: 'a/.wh.x' }, { name: '.wh.keep' }])
    expect(listing(idx)).toEqual(['/a/', '/a/sub/', '/a/sub/z', '/a/y'])
    expect(idx.layers[1].removed).toEqual({ files: 2, bytes: 3, whiteouts: 2, opaqueDirs: 0 })
    const dir = await build(lower, [{ name: '.wh.a' }])
    expect(listing(dir)).toEqual(['/keep'])
    expect(dir.layers[1].removed).toMatchObject({ files: 3, bytes: 9 })
  })

  it.each([
    ['whiteout first', [{ name: '.wh.a' }, { name: 'a/', type: '5' }, { name: 'a/new', data: 'n' }]],
    ['whiteout last', [{ name: 'a/', type: '5' }, { name: 'a/new', data: 'n' }, { name: '.wh.a' }]],
  ])('apply to lower layers only: a layer may delete a directory and re-create it (%s)', async (_name, upper) => {
    const idx = await build(lower, upper as TarEntrySpec[])
    expect(listing(idx)).toEqual(['/a/', '/a/new', '/keep'])
    expect(await text(idx, '/a/new')).toBe('n')
    expect(idx.layers[1].added).toEqual({ files: 1, bytes: 1 })
  })

  it('a whiteout for something that never existed is harmless', async () => {
    const idx = await build(lower, [{ name: 'nope/.wh.nothing' }, { name: '.wh.ghost' }])
    // A whiteout creates nothing, not even its directory.
    expect(listing(idx)).toEqual(['/a/', '/a/sub/', '/a/sub/z', '/a/x', '/a/y', '/keep'])
    expect(idx.layers[1].removed.files).toBe(0)
  })

  it.each([
    ['marker first', [{ name: 'a/', type: '5' }, { name: 'a/.wh..wh..opq' }, { name: 'a/mine', data: 'm' }]],
    ['marker last', [{ name: 'a/', type: '5' }, { name: 'a/mine', data: 'm' }, { name: 'a/.wh..wh..opq' }]],
  ])('an opaque directory hides what lower layers put in it and keeps its own layer\'s children (%s)', async (_n, upper) => {
    const idx = await build(lower, upper as TarEntrySpec[])
    expect(listing(idx)).toEqual(['/a/', '/a/mine', '/keep'])
    expect(idx.layers[1].removed).toMatchObject({ files: 3, bytes: 9, opaqueDirs: 1 })
  })

  it('aufs bookkeeping entries are neither content nor deletions', async () => {
    const idx = await build(lower, [{ name: '.wh..wh.plnk/', type: '5' }, { name: '.wh..wh.aufs' }])
    expect(listing(idx)).toContain('/keep')
    expect(listing(idx).some((p) => p.includes('.wh.'))).toBe(false)
  })
})

describe('replacing paths', () => {
  it('a file over a directory removes what was below it; a directory over a directory keeps it', async () => {
    const idx = await build(
      [{ name: 'd/', type: '5' }, { name: 'd/f', data: '123' }, { name: 'e/', type: '5', mode: 0o700 }, { name: 'e/g', data: 'g' }],
      [{ name: 'd', data: 'now a file' }, { name: 'e/', type: '5', mode: 0o755 }],
    )
    expect(listing(idx)).toEqual(['/d', '/e/', '/e/g'])
    expect(idx.lstat('/e')?.mode).toBe(0o755)
    expect(idx.lstat('/e')?.layer).toBe(1)
    expect(idx.layers[1].overwritten).toEqual({ files: 1, bytes: 3 })
  })

  it('a directory replaced in the middle of its own entries: the later entries go where the path now leads', async () => {
    // merge reuses the previous entry's parent; here it must notice that 'a' became a symlink.
    const idx = await build([
      { name: 'a/', type: '5' },
      { name: 'a/x', data: 'x' },
      { name: 'a', type: '2', linkname: 'b' },
      { name: 'a/y', data: 'y' },
      { name: 'c/d/', type: '5' },
      { name: 'c/d/e', data: 'e' },
      { name: 'c', data: 'now a file' },
      { name: 'c/d/f', data: 'f' },
    ])
    expect(listing(idx)).toEqual(['/a -> b', '/b/', '/b/y', '/c/', '/c/d/', '/c/d/f'])
    expect(idx.layers[0].warnings.join()).toMatch(/parent directory is a symlink/)
  })

  it('an entry below a lower symlink goes where the link points, as umoci and containerd put it', async () => {
    const idx = await build([{ name: 'lib', type: '2', linkname: 'usr/lib' }, { name: 'usr/lib/', type: '5' }], [{ name: 'lib/x.so', data: 'elf' }])
    expect(idx.lstat('/lib')?.type).toBe('symlink')
    expect(await text(idx, '/usr/lib/x.so')).toBe('elf')
    expect(idx.layers[1].warnings.join()).toMatch(/parent directory is a symlink, written where the link points/)
  })

  it('links are followed inside the root: absolute targets, .. at the root, chains, dangling targets', async () => {
    const idx = await build(
      [
        { name: 'abs', type: '2', linkname: '/app' },
        { name: 'up', type: '2', linkname: '../../../opt' },
        { name: 'chain', type: '2', linkname: 'abs' },
        { name: 'f', data: 'file' },
        { name: 'viafile', type: '2', linkname: 'f' },
      ],
      [
        { name: 'abs/hello', data: 'h' },
        { name: 'up/x', data: 'x' },
        { name: 'chain/deep/y', data: 'y' },
        { name: 'viafile/z', data: 'z' },
      ],
    )
    expect(await text(idx, '/app/hello')).toBe('h')
    expect(await text(idx, '/opt/x')).toBe('x')
    expect(await text(idx, '/app/deep/y')).toBe('y')
    // A link to a file in the way: the file is replaced by a directory, as MkdirAll would fail to; slim keeps the entry.
    expect(await text(idx, '/f/z')).toBe('z')
    expect(idx.lstat('/abs')?.type).toBe('symlink')
  })

  it('a parent that is a symlink loop skips the entry with a warning', async () => {
    const idx = await build([{ name: 'a', type: '2', linkname: 'b' }, { name: 'b', type: '2', linkname: 'a' }], [{ name: 'a/x', data: 'x' }, { name: 'ok', data: 'o' }])
    expect(listing(idx)).toEqual(['/a -> b', '/b -> a', '/ok'])
    expect(idx.layers[1].warnings.join()).toMatch(/symlink loop/)
    expect(idx.whyMissing('/a/x')).toBe('loop')
    await expect(idx.readFile('/a')).rejects.toThrow(/symlink loop/)
  })

  it('the last of two entries for one path in one layer wins, and is counted once', async () => {
    const idx = await build([{ name: 'f', data: 'first' }, { name: 'f', data: 'second!' }])
    expect(await text(idx, '/f')).toBe('second!')
    expect(idx.layers[0].added).toEqual({ files: 1, bytes: 7 })
    expect(idx.layers[0].deadBytes).toBe(5)
  })

  it('creates the directories an entry needs when the tar does not list them', async () => {
    const idx = await build([{ name: 'deep/er/file', data: 'x' }])
    expect(listing(idx)).toEqual(['/deep/', '/deep/er/', '/deep/er/file'])
    expect(idx.lstat('/deep/er')).toMatchObject({ type: 'dir', mode: 0o755, layer: 0 })
  })
})

describe('hard links', () => {
  it('resolve to the file they share content with, in the same layer or below', async () => {
    const idx = await build(
      [{ name: 'bin/', type: '5' }, { name: 'bin/busybox', data: 'BUSYBOX', mode: 0o755 }, { name: 'bin/sh', type: '1', linkname: 'bin/busybox' }],
      [{ name: 'usr/bin/ls', type: '1', linkname: 'bin/sh' }],
    )
    expect(idx.lstat('/bin/sh')).toMatchObject({ type: 'hardlink', hardlinkTo: '/bin/busybox', size: 7 })
    expect(idx.lstat('/usr/bin/ls')).toMatchObject({ type: 'hardlink', hardlinkTo: '/bin/busybox', layer: 1 })
    expect(await text(idx, '/usr/bin/ls')).toBe('BUSYBOX')
  })

  it('keep content alive when the original path is deleted later', async () => {
    const idx = await build([{ name: 'orig', data: 'shared' }, { name: 'link', type: '1', linkname: 'orig' }], [{ name: '.wh.orig' }])
    expect(idx.lstat('/orig')).toBeUndefined()
    expect(await text(idx, '/link')).toBe('shared')
    expect(idx.layers[0].deadBytes).toBe(0)
  })

  it('may name an entry that comes later in the same tar; a missing or escaping target is reported', async () => {
    const idx = await build([
      { name: 'early', type: '1', linkname: 'late' },
      { name: 'late', data: 'L' },
      { name: 'dangling', type: '1', linkname: 'nothing/here' },
      { name: 'escape', type: '1', linkname: '../../etc/shadow' },
    ])
    expect(await text(idx, '/early')).toBe('L')
    expect(idx.lstat('/dangling')).toMatchObject({ type: 'hardlink', size: 0 })
    expect(idx.lstat('/dangling')?.hardlinkTo).toBeUndefined()
    await expect(idx.readFile('/dangling')).rejects.toMatchObject({ kind: 'not-found' })
    await expect(idx.readFile('/escape')).rejects.toMatchObject({ kind: 'not-found' })
    const w = idx.layers[0].warnings.join('\n')
    expect(w).toMatch(/hard links whose target does not exist.*\/dangling/)
    expect(w).toMatch(/hard links whose target is outside the image root.*\/escape/)
  })
})

describe('symlinks are resolved inside the image root only', () => {
  const layer: TarEntrySpec[] = [
    { name: 'usr/lib/libc.so.6', data: 'LIBC' },
    { name: 'lib', type: '2', linkname: 'usr/lib' },
    { name: 'abs', type: '2', linkname: '/usr/lib/libc.so.6' },
    { name: 'up', type: '2', linkname: '../../../../usr/lib/libc.so.6' },
    { name: 'etc/passwd-link', type: '2', linkname: '/../../../../etc/passwd' },
    { name: 'loop1', type: '2', linkname: 'loop2' },
    { name: 'loop2', type: '2', linkname: 'loop1' },
    { name: 'dotdot/', type: '5' },
    { name: 'dotdot/parent', type: '2', linkname: '../lib/libc.so.6' },
    { name: 'empty', type: '2', linkname: '' },
  ]

  it('follows relative, absolute and directory links; never above the root; stops on loops', async () => {
    const idx = await build(layer)
    expect(idx.stat('/lib/libc.so.6')).toMatchObject({ type: 'file', size: 4, path: '/lib/libc.so.6' })
    expect(idx.lstat('/lib')).toMatchObject({ type: 'symlink', linkTarget: 'usr/lib' })
    expect(idx.realpath('/abs')).toEqual({ path: '/usr/lib/libc.so.6', chain: ['/abs'] })
    expect(idx.realpath('/up')?.path).toBe('/usr/lib/libc.so.6')
    expect(idx.realpath('/dotdot/parent')).toEqual({ path: '/usr/lib/libc.so.6', chain: ['/dotdot/parent', '/lib'] })
    expect(idx.stat('/etc/passwd-link')).toBeUndefined() // /etc/passwd of the IMAGE: absent, never the host's
    expect(idx.stat('/loop1')).toBeUndefined()
    expect(idx.lstat('/loop1')?.type).toBe('symlink')
    expect(idx.stat('/empty')).toBeUndefined()
    expect(idx.readdir('/lib')).toEqual(['libc.so.6'])
    expect(await text(idx, '/lib/libc.so.6')).toBe('LIBC')
    expect(idx.layers[0].warnings.join()).toMatch(/symlinks whose target climbs above the image root.*\/up/)
  })

  it('gives up after 40 links, as Linux does', async () => {
    const chain: TarEntrySpec[] = [{ name: 'target', data: 't' }]
    for (let i = 0; i < 41; i++) chain.push({ name: `l${i}`, type: '2', linkname: i === 0 ? 'target' : `l${i - 1}` })
    const idx = await build(chain)
    expect(idx.stat('/l39')?.type).toBe('file') // 40 links followed
    expect(idx.stat('/l40')).toBeUndefined() // 41
  })

  it('a later layer\'s entries go through the same walk: 40 parent links followed, the 41st is a loop', async () => {
    const chain: TarEntrySpec[] = [{ name: 'dir/', type: '5' }]
    for (let i = 0; i < 41; i++) chain.push({ name: `l${i}`, type: '2', linkname: i === 0 ? '/dir' : `l${i - 1}` })
    const idx = await build(chain, [{ name: 'l39/ok', data: 'ok' }, { name: 'l40/no', data: 'no' }])
    expect(await text(idx, '/dir/ok')).toBe('ok')
    expect(idx.stat('/dir/no')).toBeUndefined()
    expect(idx.layers[1].warnings.join('\n')).toMatch(/symlink loop \(more than 40 links\).*\/l40\/no/)
    expect(idx.realpath('/l39/ok')).toMatchObject({ path: '/dir/ok' })
    expect(idx.whyMissing('/l40/no')).toBe('loop')
  })
})

describe('whiteout layers from other projects', () => {
  it('go-containerregistry whiteout_image.tar: foo.txt is deleted by .wh.foo.txt', async () => {
    const img = await openImage(`docker-archive:${C}/google__go-containerregistry/pkg/v1/mutate/testdata/whiteout_image.tar`)
    const idx = await buildIndex(img)
    const before = idx.layers[0]
    expect(idx.stat('/foo.txt')).toBeUndefined()
    expect(idx.stat('/bar.txt')?.type).toBe('file')
    expect(idx.layers[1].removed).toMatchObject({ files: 1, whiteouts: 1 })
    expect(before.deadBytes).toBe(idx.layers[1].removed.bytes)
    await img.close()
  })

  it('go-containerregistry whiteout_dir.tar: directory a is deleted (.wh.a), then re-created with a/baz', async () => {
    const img = await openImage(`docker-archive:${C}/google__go-containerregistry/pkg/v1/mutate/testdata/whiteout_dir.tar`)
    const idx = await buildIndex(img)
    expect(listing(idx)).toEqual(['/a/', '/a/baz', '/b/', '/b/bar'])
    expect(idx.layers[2].removed).toMatchObject({ files: 1, whiteouts: 1 })
    expect(idx.lstat('/a')?.layer).toBe(3)
    await img.close()
  })

  it('go-containerregistry overwritten_file.tar: foo.txt becomes a symlink to bar.txt', async () => {
    const img = await openImage(`docker-archive:${C}/google__go-containerregistry/pkg/v1/mutate/testdata/overwritten_file.tar`)
    const idx = await buildIndex(img)
    expect(idx.lstat('/foo.txt')).toMatchObject({ type: 'symlink', linkTarget: 'bar.txt', layer: 1 })
    expect(idx.layers[1].overwritten.files).toBe(1)
    expect(idx.layers[2].entries).toBe(0) // the third layer is an empty tar (just the end marker)
    await img.close()
  })

  it('container-diff la-croix-wh.tar deletes lime.txt and the nest directory of la-croix2.tar', async () => {
    const dir = `${C}/GoogleContainerTools__container-diff/util/testTars`
    const idx = await buildIndex(makeImage([fileLayer(`${dir}/la-croix2.tar`, 0), fileLayer(`${dir}/la-croix-wh.tar`, 1)]))
    expect(listing(idx)).toEqual(['/nest2/', '/nest2/hello', '/passionfruit.txt', '/peach-pear.txt'])
    expect(idx.layers[1].removed).toMatchObject({ files: 2, whiteouts: 2 })
  })

  it('regclient layer-wh.tar on layer.tar: a whiteout and an opaque directory', async () => {
    const dir = `${C}/regclient__regclient/testdata`
    const lowerDir = makeTar([{ name: 'exdir/', type: '5' }, { name: 'exdir/old', data: 'old' }])
    const idx = await buildIndex(
      makeImage([fileLayer(`${dir}/layer.tar`, 0), bufferLayer(lowerDir, 1), fileLayer(`${dir}/layer-wh.tar`, 2)]),
    )
    expect(listing(idx)).toEqual(['/exdir/', '/layer1.txt', '/layer3.txt'])
    expect(idx.layers[2].removed).toMatchObject({ files: 2, whiteouts: 1, opaqueDirs: 1 })
  })

  it('trivy walker test.tar: etc/ is opaque, foo/foo is whited out', async () => {
    const lowerLayer = makeTar([
      { name: 'etc/', type: '5' },
      { name: 'etc/hosts', data: 'h' },
      { name: 'foo/', type: '5' },
      { name: 'foo/foo', data: 'f' },
      { name: 'foo/other', data: 'o' },
    ])
    const idx = await buildIndex(makeImage([bufferLayer(lowerLayer, 0), fileLayer(`${C}/aquasecurity__trivy/pkg/fanal/walker/testdata/test.tar`, 1)]))
    expect(idx.readdir('/etc')).toEqual([])
    expect(idx.readdir('/foo')).toEqual(['other'])
    expect(idx.stat('/vendor/bar')?.size).toBe(4)
  })
})

