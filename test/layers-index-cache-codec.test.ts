/**
 * The layer index cache's byte format (src/layers/index-cache-codec.ts) gives back what it was
 * given: every field of every kind of record, numbers past 2^32, paths and links in any script,
 * entries at the root, a root opaque marker, kept files of 0 bytes and more.
 */
import { describe, expect, it } from 'vitest'
import { ByteWriter, headerBytes, readHeader, readLayer, writeEntry, writeParent, type EntryHeader } from '../src/layers/index-cache-codec.js'
import { EntryList } from '../src/layers/entry-list.js'
import { Op, entryPath, type ParsedEntry, type ParsedLayer } from '../src/layers/parse-layer.js'
import { Flag, Kind, NO_NODE, Tree, type Node } from '../src/layers/tree.js'
import { WarningSet } from '../src/layers/warnings.js'

function layerOf(tree: Tree, entries: ParsedEntry[], parents: string[]): ParsedLayer {
  const warnings = new WarningSet()
  warnings.add('sparse files (recorded with their real size; their content is not readable by slim)', '/big')
  const list = new EntryList(tree)
  for (const e of entries) list.push(e)
  return { index: 3, entries: list, parents: new Set(parents), size: 2 ** 40 + 7, entryCount: entries.length, tarBytes: 5 * 2 ** 32, fileBytes: 2 ** 40, captured: new Map(), heads: new Map(), warnings }
}

/** An entry of `path`, split as parse-layer.ts splits it (directory, last name). */
function entry(path: string, op: Op, node: Node, linkPath?: string): ParsedEntry {
  const slash = path.lastIndexOf('/')
  const e: ParsedEntry = { dir: slash < 0 ? '' : path.slice(0, slash), name: path.slice(slash + 1), op, node }
  if (linkPath !== undefined) e.linkPath = linkPath
  return e
}

function add(path: string, node: Node, linkPath?: string): ParsedEntry {
  return entry(path, Op.Add, node, linkPath)
}

describe('layer index cache codec', () => {
  it('round-trips every record kind and field', () => {
    const t = new Tree()
    const big = t.add('big', Kind.File, 0o644, 2 ** 32 + 1, 65534, 2 ** 40, 3, -1)
    t.setFlags(big, Flag.Sparse)
    const elf = t.add('prog', Kind.File, 0o4755, 0, 0, 1234, 3, 2)
    t.setHash(elf, String.fromCharCode(...Array.from({ length: 32 }, (_, i) => 255 - i)))
    const empty = t.add('empty', Kind.File, 0o600, 1, 2, 0, 3, 3)
    const link = t.add('лінк→', Kind.Symlink, 0o777, 0, 0, 0, 3, 4)
    t.setSymlinkTarget(link, '../目录/prog')
    const hard = t.add('hard', Kind.Hardlink, 0o755, 0, 0, 0, 3, 5)
    const dir = t.add('dir', Kind.Dir, 0o1777, 0, 0, 0, 3, 6)
    const entries = [
      add('big', big),
      add('usr/bin/prog', elf),
      add('usr/bin/empty', empty),
      add('usr/lib/лінк→', link),
      add('usr/bin/hard', hard, 'usr/bin/prog'),
      add('a/b/c/dir', dir),
      entry('gone', Op.Whiteout, NO_NODE),
      entry('usr/bin/old', Op.Whiteout, NO_NODE),
      entry('', Op.Opaque, NO_NODE),
      entry('usr/lib', Op.Opaque, NO_NODE),
    ] as ParsedEntry[]
    const layer = layerOf(t, entries, ['usr', 'usr/bin', 'usr/lib', 'a', 'a/b', 'a/b/c'])
    layer.heads.set(elf, { magic: 'elf', summary: { class: 64, needed: ['libc.so.6'], name: 'ü' } })
    layer.captured.set(elf, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]))
    layer.captured.set(empty, Buffer.alloc(0))

    const w = new ByteWriter()
    for (const e of entries) writeEntry(w, e, layer)
    for (const p of layer.parents) writeParent(w, p)
    const header: EntryHeader = {
      digest: 'sha256:00',
      summaryVersion: 'v',
      hashed: true,
      size: layer.size,
      entryCount: layer.entryCount,
      tarBytes: layer.tarBytes,
      fileBytes: layer.fileBytes,
      warnings: layer.warnings.toData(),
      records: entries.length,
      parents: layer.parents.size,
    }
    const buf = Buffer.concat([headerBytes(header, 9), w.takeChunk()])
    const start = readHeader(buf)!
    expect(start.format).toBe(9)
    expect(start.header).toEqual(header)
    const t2 = new Tree()
    const back = readLayer(buf, start.bodyAt, buf.length, start.header!, 5, t2)
    const backEntries = [...back.entries]

    expect(backEntries.map((e) => [entryPath(e), e.dir, e.name, e.op, e.linkPath])).toEqual(entries.map((e) => [entryPath(e), e.dir, e.name, e.op, e.linkPath]))
    const fields = (tr: Tree, n: Node) =>
      n === NO_NODE ? null : { name: tr.name(n), kind: tr.kind(n), mode: tr.mode(n), uid: tr.uid(n), gid: tr.gid(n), size: tr.size(n), ordinal: tr.ordinal(n), flags: tr.flags(n), link: tr.symlinkTarget(n), hardlink: tr.hardlinkTarget(n), hash: tr.hash(n) }
    expect(backEntries.map((e) => fields(t2, e.node))).toEqual(entries.map((e) => fields(t, e.node)))
    expect(backEntries.every((e) => e.node === NO_NODE || t2.layer(e.node) === 5)).toBe(true)
    expect([...back.parents]).toEqual([...layer.parents])
    expect([back.size, back.entryCount, back.tarBytes, back.fileBytes, back.index]).toEqual([layer.size, layer.entryCount, layer.tarBytes, layer.fileBytes, 5])
    expect(back.warnings.lines()).toEqual(layer.warnings.lines())
    const node = (path: string) => backEntries.find((e) => entryPath(e) === path)!.node
    expect(back.heads.get(node('usr/bin/prog'))).toEqual(layer.heads.get(elf))
    expect(back.captured.get(node('usr/bin/prog'))).toEqual(layer.captured.get(elf))
    expect(back.captured.get(node('usr/bin/empty'))).toEqual(Buffer.alloc(0))
    expect(back.captured.has(node('big'))).toBe(false)
  })

  it('gives heads that write back the same, and keeps a program that is most of the entry as a view, a small file as a copy', () => {
    const t = new Tree()
    const prog = t.add('prog', Kind.File, 0o755, 0, 0, 100_000, 0, 0)
    const conf = t.add('conf', Kind.File, 0o644, 0, 0, 10, 0, 1)
    const files = Array.from({ length: 300 }, (_, i) => add(`usr/share/doc/f${i}`, t.add(`f${i}`, Kind.File, 0o644, 0, 0, 1, 0, 2 + i)))
    const entries = [add('usr/bin/prog', prog), add('etc/conf', conf), ...files]
    const layer = layerOf(t, entries, [])
    const head = { magic: 'elf' as const, summary: { needed: ['libc.so.6'], soname: null, note: 'ü' } }
    layer.heads.set(prog, head)
    layer.heads.set(conf, { magic: 'script', firstLine: '#!/bin/sh -e' })
    layer.captured.set(prog, Buffer.alloc(100_000, 7))
    layer.captured.set(conf, Buffer.from('key=value\n'))
    const w = new ByteWriter()
    for (const e of entries) writeEntry(w, e, layer)
    const body = w.takeChunk()
    const header = { records: entries.length, parents: 0, warnings: [] } as unknown as EntryHeader

    const back = readLayer(body, 0, body.length, header, 0, new Tree())
    const [bProg, bConf] = [...back.entries].slice(0, 2).map((e) => e.node) as [Node, Node]
    expect(JSON.stringify(back.heads.get(bProg))).toBe(JSON.stringify(head))
    expect(back.heads.get(bProg)!.summary).toBe(back.heads.get(bProg)!.summary) // parsed once, one object
    expect(back.heads.get(bConf)).toEqual({ magic: 'script', firstLine: '#!/bin/sh -e', summary: undefined })
    expect(back.captured.get(bProg)!.buffer).toBe(body.buffer)
    expect(back.captured.get(bConf)!.buffer).not.toBe(body.buffer)
    expect([back.captured.get(bProg)!.equals(layer.captured.get(prog)!), back.captured.get(bConf)!.toString()]).toEqual([true, 'key=value\n'])
  })

  it('refuses bytes that are not an entry, and records that run past the end', () => {
    expect(readHeader(Buffer.from('{"slimLayerIndex":1}\n'))).toBeUndefined()
    const w = new ByteWriter()
    const t = new Tree()
    writeEntry(w, add('x/y', t.add('y', Kind.File, 0o644, 0, 0, 10, 0, 0)), layerOf(t, [], []))
    const body = w.takeChunk()
    const header = { records: 1, parents: 0, warnings: [] } as unknown as EntryHeader
    expect(() => readLayer(body, 0, body.length - 1, header, 0, new Tree())).toThrow(/past the end/)
    expect(() => readLayer(body, 0, body.length, { ...header, records: 0 }, 0, new Tree())).toThrow(/left after/)
  })
})
