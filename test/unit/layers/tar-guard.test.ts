import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { makeTar, tarEntry, tarHeader } from '../../helpers/tar-layers.js'
import { TarGuard, type GuardEntry } from '../../../src/layers/tar-guard.js'
import { walkTar } from '../../../src/layers/tar-walk.js'

/** The guard over `data` in `chunk`-byte pieces: what it read as archive (before the marker) and the entries it saw. */
function guardOver(data: Buffer, chunk: number): { g: TarGuard; forwarded: number; entries: GuardEntry[] } {
  const entries: GuardEntry[] = []
  const g = new TarGuard({ entry: (e) => (entries.push(e), null), skipped: () => {} })
  for (let i = 0; i < data.length; i += chunk) g.push(data.subarray(i, i + chunk))
  return { g, forwarded: g.bytes - g.trailingBytes, entries }
}

async function walk(data: Buffer, chunk = 65536): Promise<{ paths: string[]; warnings: string[]; trailing: number }> {
  const paths: string[] = []
  const warnings: string[] = []
  const chunks: Buffer[] = []
  for (let i = 0; i < data.length; i += chunk) chunks.push(data.subarray(i, i + chunk))
  const r = await walkTar(Readable.from(chunks), 'layer 0', {
    onEntry: (e) => {
      paths.push(e.path)
      return null
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
    const { g, forwarded, entries } = guardOver(Buffer.concat([tar, Buffer.alloc(10240)]), chunk)
    expect(g.ended).toBe(true)
    expect(forwarded).toBe(tar.length)
    expect(g.trailingBytes).toBe(10240)
    const seen = entries.map((e) => [e.path, e.size])
    expect(seen).toEqual([
      ['a.txt', 5],
      ['dir/', 0],
      ['dir/zeros.bin', 4096],
      [`dir/${'p'.repeat(200)}`, 700], // the PAX size wins over the header's, as in node-tar
      [`gnu/${'g'.repeat(150)}`, 3],
    ])
  })

  it('stops reading at the end marker: 64 MiB of trailing zeros cost no parse work', async () => {
    const one = makeTar([{ name: 'f', data: 'x' }])
    const big = Buffer.concat([one, Buffer.alloc(64 * 1024 * 1024)])
    // gunzip-sized chunks: counted, not timed. Of 64 MiB, only the archive itself is read as tar.
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

  it('skips a header with a bad checksum: one block, then the next header', () => {
    const bad = tarEntry({ name: 'bad', data: '', badChecksum: true })
    const { g, entries } = guardOver(Buffer.concat([tarEntry({ name: 'a', data: 'a' }), bad, makeTar([{ name: 'b', data: 'b' }])]), 100)
    expect(g.invalidBlocks).toBe(1)
    expect(entries.map((e) => e.path)).toEqual(['a', 'b'])
  })

  it('names each header it skips as invalid, and the name the block holds', async () => {
    // A base-256 time with an invalid first byte and a stale checksum: no header can be read from it.
    const unreadable = tarHeader({ name: 'u' }, 0)
    Buffer.from([0x81, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0]).copy(unreadable, 136)
    const skipped = [
      tarEntry({ name: 'bad', badChecksum: true }),
      tarEntry({ name: '' }),
      tarEntry({ name: 'l', type: '2' }),
      tarEntry({ name: 'f', linkname: 'x' }),
      unreadable,
    ]
    const warnings: string[] = []
    const paths: string[] = []
    await walkTar(Readable.from([Buffer.concat([tarEntry({ name: 'a', data: 'a' }), ...skipped, makeTar([{ name: 'b', data: 'b' }])])]), 'layer 0', {
      onEntry: (e) => (paths.push(e.path), null),
      onWarn: (m, p) => warnings.push(`${m}: ${p}`),
    })
    expect(paths).toEqual(['a', 'b'])
    expect(warnings).toEqual([
      'tar headers skipped as invalid (checksum failure): bad',
      'tar headers skipped as invalid (path is required): ',
      'tar headers skipped as invalid (linkpath required): l',
      'tar headers skipped as invalid (linkpath forbidden): f',
      'tar headers skipped as invalid (invalid base256 encoding): undefined',
    ])
  })

  it('reports an ignored entry when the next entry is handed on, after the blocks skipped between them', async () => {
    const tar = Buffer.concat([tarEntry({ name: 'sp', type: 'S', data: 'abc' }), tarEntry({ name: 'bad', badChecksum: true }), makeTar([{ name: 'f', data: 'f' }, { name: 'u', type: 'Z' }])])
    const events: string[] = []
    await walkTar(Readable.from([tar]), 'layer 0', {
      onEntry: (e) => (events.push(`entry ${e.path}`), null),
      onIgnored: (e) => events.push(`ignored ${e.path}`),
      onWarn: (m) => events.push(m),
    })
    // The order layer warnings always had: cached layer indexes keep it.
    expect(events).toEqual(['tar headers skipped as invalid (checksum failure)', 'ignored sp', 'entry f', 'ignored u'])
  })
})
