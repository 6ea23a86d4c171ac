/**
 * Layer tars from strangers: every malformed or hostile tar must give either an honest index with
 * a warning on its layer, or one clear SlimError, never a crash, a hang, or an index that lies.
 * Two tables: the odd tars other projects committed (shared/corpus section 5), and tars generated
 * here byte by byte.
 */
import { describe, expect, it } from 'vitest'
import { isSlimError } from '../src/core/errors.js'
import { buildIndex } from '../src/layers/build-index.js'
import type { LayerIndex } from '../src/layers/layer-index.js'
import { bufferLayer, fileLayer, imageOf, makeImage, makeTar, tarEntry, type TarEntrySpec } from './helpers/tar-layers.js'
import { SHARED } from './helpers/shared.js'

const C = `${SHARED}/corpus`

function listing(idx: LayerIndex): string[] {
  return [...idx.entries()].map((e) => (e.type === 'dir' ? `${e.path}/` : e.type === 'file' ? `${e.path} ${e.size}` : `${e.path} (${e.type})`))
}

interface Expect {
  /** Exact final listing ("path size" for files, "path/" for dirs, "path (type)" otherwise). */
  paths?: string[]
  /** Some of the paths (for big listings). */
  contains?: string[]
  /** Each regex must match one of the layer's warnings; [] means no warning at all. */
  warn?: RegExp[]
  /** The build fails with this SlimError kind and message. */
  error?: [string, RegExp]
}

async function check(idxPromise: Promise<LayerIndex>, want: Expect): Promise<void> {
  if (want.error) {
    const err = await idxPromise.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isSlimError(err), `expected a SlimError, got ${String(err)}`).toBe(true)
    expect(err).toMatchObject({ kind: want.error[0], message: expect.stringMatching(want.error[1]) })
    expect((err as Error).message).not.toContain('\n')
    return
  }
  const idx = await idxPromise
  if (want.paths) expect(listing(idx)).toEqual(want.paths)
  if (want.contains) expect(listing(idx)).toEqual(expect.arrayContaining(want.contains))
  const warnings = idx.layers.flatMap((l) => l.warnings)
  if (want.warn?.length === 0) expect(warnings).toEqual([])
  for (const re of want.warn ?? []) expect(warnings.some((w) => re.test(w)), `no warning matches ${re}: ${JSON.stringify(warnings)}`).toBe(true)
}

const NOT_A_TAR: [string, RegExp] = ['format', /is not a tar archive/]
const AMBIGUOUS: [string, RegExp] = ['format', /tar readers disagree on where the next entry starts/]
const TRUNCATED: [string, RegExp] = ['format', /truncated inside/]
const NO_MARKER = /no end-of-archive marker/
const SKIPPED_HEADER = /tar headers skipped as invalid/

describe('malformed tars from other projects (shared/corpus section 5)', () => {
  const tarSplit = `${C}/vbatts__tar-split/archive/tar/testdata`
  const nodeTar = `${C}/isaacs__node-tar/test/fixtures`
  const tarStream = `${C}/mafintosh__tar-stream/test/fixtures`
  const table: Array<[string, Expect]> = [
    [`${tarSplit}/gnu.tar`, { paths: ['/small.txt 5', '/small2.txt 11'], warn: [] }],
    [`${tarSplit}/pax.tar`, { contains: ['/a/'], warn: [] }],
    [`${tarSplit}/hardlink.tar`, { paths: ['/file.txt 15', '/hard.txt (hardlink)'], warn: [] }],
    [`${tarSplit}/hdr-only.tar`, { error: AMBIGUOUS }], // links and devices with a body: Go and node-tar disagree
    [`${tarSplit}/issue10968.tar`, { error: NOT_A_TAR }],
    [`${tarSplit}/issue11169.tar`, { error: TRUNCATED }],
    [`${tarSplit}/issue12435.tar`, { error: NOT_A_TAR }],
    // Go's fuzz case: a sound checksum, a base-256 mode node-tar cannot decode (its Parser would skip
    // the block and read the body as headers): refused, naming the field.
    [`${tarSplit}/neg-size.tar`, { error: ['format', /has a mode field that is not a readable number .*tar readers disagree/] }],
    [`${tarSplit}/writer-big.tar`, { error: TRUNCATED }], // 512 bytes claiming a 16 GiB file
    [`${tarSplit}/writer-big-long.tar`, { error: TRUNCATED }],
    [`${tarSplit}/gnu-sparse-big.tar`, { paths: ['/gnu-sparse 60000000000'], warn: [/sparse files/] }],
    [`${tarSplit}/pax-sparse-big.tar`, { paths: ['/pax-sparse 60000000000'], warn: [/sparse files/] }],
    [`${tarSplit}/sparse-formats.tar`, { paths: ['/end 4', '/sparse-gnu 200', '/sparse-posix-0.0 200', '/sparse-posix-0.1 200', '/sparse-posix-1.0 200'], warn: [/sparse files/, SKIPPED_HEADER] }],
    [`${tarSplit}/pax-nul-path.tar`, { paths: [`/${'0123456789'.repeat(20)} 0`], warn: [] }], // node-tar cuts the PAX path at the NUL
    [`${tarSplit}/pax-path-hdr.tar`, { paths: [], warn: [NO_MARKER] }],
    [`${tarSplit}/invalid-go17.tar`, { paths: ['/foo 0'], warn: [] }],
    [`${tarSplit}/nil-uid.tar`, { paths: ['/P1050238.JPG.log 14'], warn: [NO_MARKER] }],
    [`${tarSplit}/gnu-incremental.tar`, { paths: ['/test2/', '/test2/foo 64', '/test2/sparse 536870912'], warn: [NO_MARKER, /sparse files/] }],
    [`${tarSplit}/pax-global-records.tar`, { paths: ['/file1 0', '/file2 0', '/file3 0', '/file4 0'], warn: [] }],
    [`${nodeTar}/tars/bad-cksum.tar`, { paths: ['/one-byte.txt 1'], warn: [SKIPPED_HEADER] }],
    [`${nodeTar}/tars/links-invalid.tar`, { error: AMBIGUOUS }], // a file with a link target and a body
    [`${nodeTar}/tars/path-missing.tar`, { error: AMBIGUOUS }], // an entry with no name and a body
    [`${nodeTar}/tars/links.tar`, { paths: ['/hardlink-1 26', '/hardlink-2 (hardlink)', '/symlink (symlink)'], warn: [] }],
    [`${nodeTar}/tars/utf8.tar`, { contains: ['/Ω.txt 2'], warn: [] }],
    [`${nodeTar}/long-linkname.tar`, { paths: ['/test (symlink)'], warn: [] }],
    [`${nodeTar}/excessively-deep.tar`, { paths: [], warn: [/entries skipped: name is 444749 bytes, longer than Linux's PATH_MAX/] }],
    [`${tarStream}/incomplete.tar`, { paths: ['/file-1.txt 12'], warn: [NO_MARKER] }], // cut in the padding: the data is whole
    [`${tarStream}/base-256-size.tar`, { paths: ['/test.txt 12'], warn: [] }],
    [`${tarStream}/space.tar`, { contains: ['/test-0.0.0-SNAPSHOT/package.json 200'], warn: [] }],
    [`${tarStream}/unknown-format.tar`, { paths: ['/file-1.txt 12', '/file-2.txt 12'], warn: [] }],
    [`${tarStream}/invalid.tgz`, { error: ['format', /still gzip-compressed after decompression/] }],
    [`${C}/vbatts__tar-split/tar/asm/testdata/notenoughnils.tar.gz`, { paths: ['/file 0'], warn: [NO_MARKER] }],
    [`${C}/vbatts__tar-split/tar/asm/testdata/extranils.tar.gz`, { paths: ['/file 0'], warn: [] }],
    [`${C}/GoogleContainerTools__container-diff/util/testTars/la-croix-wh.tar`, { paths: ['/nest2/', '/nest2/hello 0'], warn: [] }],
  ]

  it.each(table)('%s', async (file, want) => {
    // invalid.tgz is fed as is: a gzip stream where a tar is due (the .gz helper would unpack it)
    const layer = file.endsWith('invalid.tgz') ? bufferLayer((await import('node:fs')).readFileSync(file), 0) : fileLayer(file, 0)
    await check(buildIndex(makeImage([layer])), want)
  })
})

describe('hostile tars generated here', () => {
  const ok = (name: string, data = 'x'): TarEntrySpec => ({ name, data })
  const big = (n: number): Buffer => {
    const b = Buffer.alloc(12)
    b[0] = 0x80
    b.writeUIntBE(n, 6, 6)
    return b
  }
  const negative = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe])

  const table: Array<[string, Buffer[], Expect]> = [
    ['a name climbing out with ..', [makeTar([ok('../escape'), ok('a/../../x'), ok('fine')])], { paths: ['/fine 1'], warn: [/entries skipped: name climbs out of the image root/] }],
    ['an absolute name', [makeTar([ok('/abs/file')])], { paths: ['/abs/', '/abs/file 1'], warn: [/absolute names, kept relative to the image root: \/abs\/file/] }],
    [
      'a write through a symlink that points out of the root',
      [makeTar([{ name: 'link', type: '2', linkname: '/etc' }]), makeTar([ok('link/passwd')])],
      // Resolved inside the root, as umoci and containerd do: /etc of the image, never the host's.
      { paths: ['/etc/', '/etc/passwd 1', '/link (symlink)'], warn: [/parent directory is a symlink/] },
    ],
    [
      'hard links to the host',
      [makeTar([{ name: 'shadow', type: '1', linkname: '/etc/shadow' }, { name: 'up', type: '1', linkname: '../../../etc/shadow' }])],
      { paths: ['/shadow (hardlink)', '/up (hardlink)'], warn: [/target does not exist.*\/shadow/, /target is outside the image root.*\/up/] },
    ],
    [
      'device nodes',
      [makeTar([{ name: 'dev/sda', type: '4', devmajor: 8 }, { name: 'dev/kmem', type: '3', devmajor: 1, devminor: 2 }, { name: 'dev/fifo', type: '6' }])],
      { paths: ['/dev/', '/dev/fifo (fifo)', '/dev/kmem (char)', '/dev/sda (block)'], warn: [/device nodes \(recorded.*\/dev\/sda/] },
    ],
    ['a 256-byte file name', [makeTar([ok('short'), { name: 'x', pax: { path: 'n'.repeat(256) }, data: 'y' }])], { paths: ['/short 1'], warn: [/NAME_MAX/] }],
    ['a 5000-byte path', [makeTar([{ name: 'x', pax: { path: 'd/'.repeat(2500) + 'f' }, data: 'y' }])], { paths: [], warn: [/PATH_MAX/] }],
    ['a PAX size larger than the header size', [makeTar([{ name: 'p', pax: { size: '700' }, data: Buffer.alloc(700, 1), size: 3 }, ok('after')])], { paths: ['/after 1', '/p 700'], warn: [] }],
    ['a PAX size of -1 (node-tar ignores it, Go rejects the layer)', [makeTar([{ name: 'p', pax: { size: '-1' }, data: 'abc' }, ok('after')])], { error: ['format', /"p" \(File\) has an invalid PAX size record \(size=-1\)/] }],
    ['a PAX size in exponent form', [makeTar([{ name: 'p', pax: { size: '1e3' }, data: 'abc' }])], { error: ['format', /invalid PAX size record \(size=1e3\)/] }],
    ['a GNU long name', [makeTar([{ name: 'x', gnuLongName: `long/${'l'.repeat(200)}/${'m'.repeat(90)}`, data: 'z' }])], { contains: [`/long/${'l'.repeat(200)}/${'m'.repeat(90)} 1`], warn: [] }],
    ['a GNU sparse file', [makeTar([{ name: 'sparse', type: 'S', data: 'abc' }, ok('next')])], { paths: ['/next 1', '/sparse 3'], warn: [/sparse files/] }],
    ['a negative size', [makeTar([ok('first'), { name: 'neg', rawSize: negative, data: '' }, ok('after')])], { error: ['format', /size/] }],
    ['a size of 1 TiB in a small layer', [makeTar([ok('first'), { name: 'huge', rawSize: big(2 ** 40) }])], { error: TRUNCATED }],
    ['a tar cut in the middle of a file', [makeTar([{ name: 'f', data: Buffer.alloc(5000, 1) }]).subarray(0, 2048)], { error: TRUNCATED }],
    ['a symlink with a body', [makeTar([{ name: 'l', type: '2', linkname: 't', size: 512, data: tarEntry(ok('smuggled')) }])], { error: AMBIGUOUS }],
    ['random bytes', [Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251))], { error: NOT_A_TAR }],
    ['an empty (0-byte) layer', [Buffer.alloc(0)], { paths: [], warn: [] }],
    ['a tar of just the end marker', [Buffer.alloc(1024)], { paths: [], warn: [] }],
    ['a second archive hidden after the end marker', [makeTar([ok('seen')], { trailing: makeTar([ok('hidden')]) })], { paths: ['/seen 1'], warn: [/bytes of data follow the end-of-archive marker/] }],
    ['a name with a control character', [makeTar([ok('evil\x1b[2Jname')])], { paths: ['/evil\x1b[2Jname 1'], warn: [] }],
  ]

  it.each(table)('%s', async (_name, tars, want) => {
    await check(buildIndex(imageOf(...tars)), want)
  })

  it('control characters never reach a warning as they are', async () => {
    const idx = await buildIndex(imageOf(makeTar([ok('/\x1b[31mred')])))
    expect(idx.layers[0].warnings.join()).toContain('\\x1b[31mred')
    expect(idx.layers[0].warnings.join()).not.toContain('\x1b')
  })

  it('a decompression bomb stops at the expansion limit with a flag to raise it', async () => {
    const bomb = makeTar([{ name: 'zeros', data: Buffer.alloc(8 * 1024 * 1024) }])
    await check(buildIndex(imageOf(bomb, bomb), { maxExpandedBytes: 12 * 1024 * 1024 }), { error: ['limit', /expands to more than .*--max-expanded-size/] })
    const idx = await buildIndex(imageOf(bomb, bomb), { maxExpandedBytes: 20 * 1024 * 1024 })
    expect(idx.layers.map((l) => l.tarBytes)).toEqual([bomb.length, bomb.length])
  })

  it('a layer whose digest fails at the end gives an integrity error and no index', async () => {
    const good = bufferLayer(makeTar([ok('a')]), 0)
    const bad = bufferLayer(makeTar([ok('b')]), 1, { badDigest: true })
    await check(buildIndex(makeImage([good, bad])), { error: ['integrity', /digest/] })
  })

  it('survives 300 randomly damaged copies of a real layer: an index or a SlimError, nothing else', async () => {
    const base = makeTar([
      { name: 'dir/', type: '5' },
      { name: 'dir/a', data: Buffer.alloc(1500, 0x61) },
      { name: 'dir/l', type: '2', linkname: 'a' },
      { name: 'p', pax: { path: `long/${'q'.repeat(120)}` }, data: 'pax' },
      { name: 'dir/h', type: '1', linkname: 'dir/a' },
      { name: 'dir/.wh.gone' },
    ])
    let seed = 12345
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    let indexes = 0
    let errors = 0
    for (let i = 0; i < 300; i++) {
      const copy = Buffer.from(base)
      for (let k = 0; k < 1 + rand(6); k++) copy[rand(copy.length)] = rand(256)
      const cut = rand(4) === 0 ? copy.subarray(0, rand(copy.length)) : copy
      try {
        const idx = await buildIndex(imageOf(cut))
        for (const e of idx.entries()) expect(e.path.startsWith('/')).toBe(true)
        indexes++
      } catch (e) {
        expect(isSlimError(e), `not a SlimError: ${String(e)}`).toBe(true)
        errors++
      }
    }
    expect(indexes).toBeGreaterThan(0)
    expect(errors).toBeGreaterThan(0)
  })
})
