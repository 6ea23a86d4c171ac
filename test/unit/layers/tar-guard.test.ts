import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { makeTar, tarEntry } from '../../helpers/tar-layers.js'
import { TarGuard } from '../../../src/layers/tar-guard.js'
import { walkTar } from '../../../src/layers/tar-walk.js'

function guardOver(data: Buffer, chunk: number): { g: TarGuard; forwarded: number } {
  const g = new TarGuard()
  let forwarded = 0
  for (let i = 0; i < data.length; i += chunk) forwarded += g.push(data.subarray(i, i + chunk)).length
  return { g, forwarded }
}

async function walk(data: Buffer, chunk = 65536): Promise<{ paths: string[]; warnings: string[]; trailing: number }> {
  const paths: string[] = []
  const warnings: string[] = []
  const chunks: Buffer[] = []
  for (let i = 0; i < data.length; i += chunk) chunks.push(data.subarray(i, i + chunk))
  const r = await walkTar(Readable.from(chunks), 'layer 0', {
    onEntry: (e) => {
      paths.push(e.path)
      e.resume()
    },
    onWarn: (m) => warnings.push(m),
  })
  return { paths, warnings, trailing: r.trailingBytes }
}

describe('TarGuard', () => {
  const tar = makeTar([
    { name: 'a.txt', data: 'hello' },
    { name: 'dir/', type: '5' },
    { name: 'dir/zeros.bin', data: Buffer.alloc(4096) }, // zero blocks INSIDE data must not end the archive
    { name: 'dir/long', pax: { path: `dir/${'p'.repeat(200)}`, size: '700' }, data: Buffer.alloc(700, 1), size: 3 },
    { name: 'x', gnuLongName: `gnu/${'g'.repeat(150)}`, data: 'gnu' },
  ])

  it.each([1, 7, 512, 513, 65536])('finds the real end of the archive whatever the chunking (%i-byte chunks)', (chunk) => {
    const { g, forwarded } = guardOver(Buffer.concat([tar, Buffer.alloc(10240)]), chunk)
    expect(g.ended).toBe(true)
    expect(forwarded).toBe(tar.length)
    expect(g.trailingBytes).toBe(10240)
    const seen = []
    for (let e = g.next(); e; e = g.next()) seen.push([e.path, e.size])
    expect(seen).toEqual([
      ['a.txt', 5],
      ['dir/', 0],
      ['dir/zeros.bin', 4096],
      [`dir/${'p'.repeat(200)}`, 700], // the PAX size wins over the header's, as in node-tar
      [`gnu/${'g'.repeat(150)}`, 3],
    ])
  })

  it('stops feeding node-tar at the end marker: 64 MiB of trailing zeros cost no parse work', async () => {
    const one = makeTar([{ name: 'f', data: 'x' }])
    const big = Buffer.concat([one, Buffer.alloc(64 * 1024 * 1024)])
    // gunzip-sized chunks, the worst case for node-tar's quadratic buffering: counted, not timed.
    // Of 64 MiB, the parser is handed only the archive itself.
    expect(guardOver(big, 16384).forwarded).toBe(one.length)
    const r = await walk(big, 16384)
    expect(r.paths).toEqual(['f'])
    expect(r.trailing).toBe(64 * 1024 * 1024)
    expect(r.warnings.join()).toMatch(/zero bytes follow the end-of-archive marker/)
  })

  it('warns about data hidden after the marker (a second archive container runtimes never see)', async () => {
    const hidden = makeTar([{ name: 'etc/passwd', data: 'root::0:0::/:/bin/sh\n' }])
    const r = await walk(Buffer.concat([makeTar([{ name: 'ok', data: '1' }]), hidden]))
    expect(r.paths).toEqual(['ok'])
    expect(r.warnings.join()).toMatch(/bytes of data follow the end-of-archive marker/)
  })

  it('accepts record padding silently', async () => {
    const r = await walk(Buffer.concat([makeTar([{ name: 'ok', data: '1' }]), Buffer.alloc(8192)]))
    expect(r.warnings).toEqual([])
  })

  it('mirrors node-tar on a header it skips: one block, then the next header', () => {
    const bad = tarEntry({ name: 'bad', data: '', badChecksum: true })
    const { g } = guardOver(Buffer.concat([tarEntry({ name: 'a', data: 'a' }), bad, makeTar([{ name: 'b', data: 'b' }])]), 100)
    expect(g.invalidBlocks).toBe(1)
    expect([g.next()?.path, g.next()?.path]).toEqual(['a', 'b'])
  })
})
