import { describe, expect, it } from 'vitest'
import { TarHeaderDecoder, type TarHeader } from '../../../../src/image/archive/tar-header.js'
import { paxBody as pax, tarHeader } from '../../../helpers/tar-layers.js'

/** Feeds extended headers (type, body) and then `block`; returns the entry's decoded header. */
function decodeAfter(meta: Array<[string, Buffer]>, block: Buffer): TarHeader {
  const d = new TarHeaderDecoder()
  for (const [type, body] of meta) {
    const m = d.decode(tarHeader({ name: 'meta', type }, body.length))
    if (m.kind !== 'header' || !m.header.meta) throw new Error('not a meta header')
    d.applyMeta(m.header, body)
  }
  const got = d.decode(block)
  if (got.kind !== 'header') throw new Error(`expected a header, got ${got.kind}`)
  return got.header
}

function withRaw(offset: number, raw: Buffer): Buffer {
  const h = tarHeader({ name: 'f' }, 3)
  raw.copy(h, offset)
  h.fill(0x20, 148, 156)
  let sum = 0
  for (let i = 0; i < 512; i++) sum += h[i]
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1')
  return h
}

describe('TarHeaderDecoder: one reading of a header, with Go archive/tar rules', () => {
  it('applies the last PAX header only and lets a GNU long name win over a PAX path (Go)', () => {
    const h = decodeAfter(
      [
        ['x', pax({ path: 'first', linkpath: 'l1' })],
        ['L', Buffer.from('gnu/long/name\0')],
        ['x', pax({ linkpath: 'l2' })],
      ],
      tarHeader({ name: 'short', type: '2', linkname: 'x' }, 0),
    )
    expect([h.path, h.linkpath, h.fieldLinkpath]).toEqual(['gnu/long/name', 'l2', 'x'])
  })

  it('does not apply global records to later entries; a global size is refused', () => {
    const ok = decodeAfter([['g', pax({ uid: '7', mtime: '1' })]], tarHeader({ name: 'f', uid: 3 }, 0))
    expect([ok.uid, ok.badSize]).toEqual([3, undefined])
    const sized = decodeAfter([['g', pax({ size: '100' })]], tarHeader({ name: 'f' }, 0))
    expect(sized.badSize).toMatch(/global PAX header that sets a size \(size=100\)/)
  })

  it.each(['-1', '+5', ' 5', '5 ', '1e3', '0x10', '', 'abc', '9007199254740993'])('refuses PAX size=%j', (v) => {
    expect(decodeAfter([['x', pax({ size: v })]], tarHeader({ name: 'f' }, 0)).badSize).toMatch(/invalid PAX size record/)
  })

  it('accepts a plain decimal PAX size and applies it', () => {
    const h = decodeAfter([['x', pax({ size: '700' })]], tarHeader({ name: 'f' }, 3))
    expect([h.size, h.badSize]).toEqual([700, undefined])
  })

  it('refuses a size hidden in a record value with a line break (a record for node-tar, part of a path for Go)', () => {
    const inner = '9 size=9'
    const record = ` path=a\n${inner}`
    const body = Buffer.from(`${record.length + 3}${record}\n`)
    expect(body.length).toBe(Number(body.toString().split(' ')[0]))
    const h = decodeAfter([['x', body]], tarHeader({ name: 'f' }, 3))
    expect(h.badSize).toMatch(/split differently/)
  })

  it('refuses a size the Parser and Go would take from different PAX headers', () => {
    const h = decodeAfter([['x', pax({ size: '700' })], ['x', pax({ path: 'f' })]], tarHeader({ name: 'f' }, 3))
    expect(h.badSize).toMatch(/two PAX headers and only the first sets its size/)
  })

  it.each([
    ['not octal', Buffer.from('0000000003x\0', 'latin1'), /"0000000003x" is not octal/],
    ['a NUL before the digits', Buffer.from('\u00000000000003', 'latin1'), /is not octal/],
    ['negative base-256', Buffer.alloc(12, 0xff), /negative/],
  ])('refuses a header size field that is %s', (_name, raw, why) => {
    expect(decodeAfter([], withRaw(124, raw)).badSize).toMatch(why)
  })

  it('reports a header node-tar cannot decode as unreadable, with its checksum verdict', () => {
    const d = new TarHeaderDecoder().decode(withRaw(136, Buffer.from([0x81, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0])))
    expect(d).toMatchObject({ kind: 'unreadable', path: 'f', checksumValid: true, why: expect.stringMatching(/mtime field .*base-256 with an invalid first byte/) })
  })

  it('ignores malformed fields that move no bytes, reading mode/uid/gid as absent', () => {
    const h = decodeAfter([], withRaw(108, Buffer.from('12x\0\0\0\0\0', 'latin1')))
    expect([h.uid, h.badSize, h.ignoredFields]).toEqual([undefined, undefined, ['uid field ("12x" is not octal)']])
    const p = decodeAfter([['x', pax({ uid: '-5', gid: '9', mtime: 'soon' })]], tarHeader({ name: 'f', uid: 4 }, 0))
    // the bad PAX uid is dropped, so the header's own uid stands; the good gid applies
    expect([p.uid, p.gid, p.ignoredFields]).toEqual([4, 9, ['PAX uid record (uid=-5)', 'PAX mtime record (mtime=soon)']])
  })

  it('refuses a body on a link or device (Go reads none, node-tar skips it)', () => {
    expect(decodeAfter([], tarHeader({ name: 'l', type: '2', linkname: 't' }, 512)).badSize).toBe('is a link or device with a body')
  })
})
