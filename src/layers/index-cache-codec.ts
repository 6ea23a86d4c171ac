/**
 * The byte format of one layer index cache entry (index-cache.ts does the files). Binary, because
 * a warm analysis spends its time here: JSON lines with base64-kept files cost more to parse than
 * the merge itself. Layout:
 *
 *   "SLIMLIX\n"  u32 format  u32 n  header (n bytes of JSON: key, layer figures, warnings, counts)
 *   records      one per entry (tar order), then one per parent directory
 *   sha256       32 bytes: the digest of every byte before it
 *
 * Numbers are unsigned LEB128 varints (sizes go past 2^32). A path is stored as its directory,
 * a reference into a string table that grows as the records go (0 = a new string follows; most
 * entries share their directory with the previous ones), plus its base name. Kept small files
 * are stored raw, ELF summaries and script heads as JSON text.
 */
import { EntryList, Op, entryPath, type ParsedEntry } from './entry-list.js'
import type { ParsedLayer } from './parse-layer.js'
import { Kind, NO_NODE, type Tree } from './tree.js'
import type { FileHead } from './types.js'
import { WarningSet } from './warnings.js'

export const MAGIC = Buffer.from('SLIMLIX\n', 'latin1')

export interface EntryHeader {
  /** The layer's verified digest (Layer.verifiedDigest) the entry is stored under. */
  digest: string
  summaryVersion: string
  hashed: boolean
  size: number
  entryCount: number
  tarBytes: number
  fileBytes: number
  warnings: Array<[string, number, string[]]>
  records: number
  parents: number
}

/** Bits of a record's "present" byte: which optional fields follow. */
const Has = { Link: 1, Hash: 2, LinkPath: 4, Head: 8, Kept: 16 } as const

/** Appends to a growing buffer; `takeChunk` hands back what is written so far (for writing out in pieces). */
export class ByteWriter {
  private buf = Buffer.allocUnsafe(1 << 16)
  private at = 0
  private readonly strings = new Map<string, number>()

  get length(): number {
    return this.at
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n))
    this.buf.copy(next, 0, 0, this.at)
    this.buf = next
  }

  u8(v: number): void {
    this.room(1)
    this.buf[this.at++] = v
  }

  u32(v: number): void {
    this.room(4)
    this.buf.writeUInt32LE(v, this.at)
    this.at += 4
  }

  varint(v: number): void {
    this.room(8)
    while (v >= 0x80) {
      this.buf[this.at++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    this.buf[this.at++] = v
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length)
    this.room(b.length)
    this.buf.set(b, this.at)
    this.at += b.length
  }

  raw(b: Uint8Array): void {
    this.room(b.length)
    this.buf.set(b, this.at)
    this.at += b.length
  }

  string(s: string): void {
    const max = s.length * 3
    this.room(max + 8)
    // Length first: write the bytes past a 5-byte gap, then move them if the length is shorter.
    const n = this.buf.write(s, this.at + 5, 'utf8')
    const start = this.at
    this.varint(n)
    if (this.at !== start + 5) this.buf.copy(this.buf, this.at, start + 5, start + 5 + n)
    this.at += n
  }

  /** A string from the growing table: its reference, or 0 and the string the first time. */
  interned(s: string): void {
    const ref = this.strings.get(s)
    if (ref !== undefined) return this.varint(ref)
    this.strings.set(s, this.strings.size + 1)
    this.varint(0)
    this.string(s)
  }

  /** The bytes written since the last take (copied: the writer reuses its buffer). */
  takeChunk(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.at))
    this.at = 0
    return out
  }
}

export function headerBytes(h: EntryHeader, format: number): Buffer {
  const json = Buffer.from(JSON.stringify(h), 'utf8')
  const w = new ByteWriter()
  w.raw(MAGIC)
  w.u32(format)
  w.u32(json.length)
  w.raw(json)
  return w.takeChunk()
}

export function writeEntry(w: ByteWriter, e: ParsedEntry, layer: ParsedLayer): void {
  w.u8(e.op)
  w.interned(e.dir)
  w.string(e.name)
  const n = e.node
  if (e.op !== Op.Add) return
  if (n === NO_NODE) throw new Error(`an added entry without a node (${entryPath(e)})`) // never made by parse-layer.ts; not cached
  const t = layer.entries.tree
  const kind = t.kind(n)
  w.u8(kind)
  w.varint(t.mode(n))
  w.varint(t.uid(n))
  w.varint(t.gid(n))
  w.varint(t.size(n))
  w.varint(t.ordinal(n) + 1) // -1 (a sparse file: never read back) is stored as 0
  w.varint(t.flags(n))
  const head = layer.heads.get(n)
  const kept = layer.captured.get(n)
  const link = kind === Kind.Symlink ? t.symlinkTarget(n) : undefined
  const hash = t.hash(n)
  w.u8((link !== undefined ? Has.Link : 0) | (hash !== null ? Has.Hash : 0) | (e.linkPath !== undefined ? Has.LinkPath : 0) | (head ? Has.Head : 0) | (kept ? Has.Kept : 0))
  if (link !== undefined) w.string(link)
  if (hash !== null) w.raw(Buffer.from(hash, 'latin1'))
  if (e.linkPath !== undefined) w.string(e.linkPath)
  if (head) w.string(JSON.stringify(head))
  if (kept) w.bytes(kept)
}

export function writeParent(w: ByteWriter, dir: string): void {
  w.interned(dir)
}

/** Where the header ends and what it says; undefined when the bytes do not start like an entry. */
export function readHeader(buf: Buffer): { format: number; header?: EntryHeader; bodyAt: number } | undefined {
  if (buf.length < MAGIC.length + 8 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return undefined
  const format = buf.readUInt32LE(MAGIC.length)
  const n = buf.readUInt32LE(MAGIC.length + 4)
  const at = MAGIC.length + 8
  if (at + n > buf.length) return { format, bodyAt: at }
  return { format, header: JSON.parse(buf.toString('utf8', at, at + n)) as EntryHeader, bodyAt: at + n }
}

/** Reads records back; throws on bytes that do not decode (a checked digest makes that a bug, not an attack). */
class ByteReader {
  at: number
  private readonly strings: string[] = []

  private readonly start: number

  constructor(
    private readonly buf: Buffer,
    at: number,
    private readonly end: number,
  ) {
    this.at = at
    this.start = at
  }

  private need(n: number): void {
    if (this.at + n > this.end) throw new Error('a record runs past the end of the entry')
  }

  u8(): number {
    this.need(1)
    return this.buf[this.at++]!
  }

  varint(): number {
    let v = 0
    let scale = 1
    for (;;) {
      const b = this.u8()
      v += (b & 0x7f) * scale
      if (b < 0x80) return v
      scale *= 0x80
      if (scale > 2 ** 56) throw new Error('a number too large for the format')
    }
  }

  /** The bytes of a kept file: a view of the entry when the file is most of it, else a copy. */
  kept(n: number): Buffer {
    const bytes = this.raw(n)
    // A copy lets the entry's buffer go once decoded, but copying (and faulting in) megabytes of a
    // program kept whole costs more than the warm run's merge; a view keeps at most twice its size.
    return n * 2 >= this.end - this.start ? bytes : Buffer.from(bytes)
  }

  raw(n: number): Buffer {
    this.need(n)
    const out = this.buf.subarray(this.at, this.at + n)
    this.at += n
    return out
  }

  string(): string {
    const n = this.varint()
    this.need(n)
    const s = this.buf.toString('utf8', this.at, this.at + n)
    this.at += n
    return s
  }

  interned(): string {
    const ref = this.varint()
    if (ref === 0) {
      const s = this.string()
      this.strings.push(s)
      return s
    }
    const s = this.strings[ref - 1]
    if (s === undefined) throw new Error('a string reference past the table')
    return s
  }
}

/** The layer the records between `bodyAt` and `end` describe, as layer `index` of the current image. */
export function readLayer(buf: Buffer, bodyAt: number, end: number, h: EntryHeader, index: number, tree: Tree): ParsedLayer {
  const r = new ByteReader(buf, bodyAt, end)
  const out: ParsedLayer = {
    index,
    entries: new EntryList(tree),
    parents: new Set(),
    size: h.size,
    entryCount: h.entryCount,
    tarBytes: h.tarBytes,
    fileBytes: h.fileBytes,
    captured: new Map(),
    heads: new Map(),
    warnings: WarningSet.fromData(h.warnings),
  }
  for (let i = 0; i < h.records; i++) out.entries.push(readEntry(r, out, index, tree))
  for (let i = 0; i < h.parents; i++) out.parents.add(r.interned())
  if (r.at !== end) throw new Error('bytes left after the last record')
  return out
}

function readEntry(r: ByteReader, layer: ParsedLayer, index: number, tree: Tree): ParsedEntry {
  const op = r.u8() as Op
  const dir = r.interned()
  const name = r.string()
  if (op !== Op.Add) {
    if (op !== Op.Whiteout && op !== Op.Opaque) throw new Error(`an unknown record type ${op}`)
    return { dir, name, op, node: NO_NODE }
  }
  const kind = r.u8() as Kind
  if (kind > Kind.Other) throw new Error(`an unknown entry kind ${kind}`)
  const node = tree.add(name, kind, r.varint(), r.varint(), r.varint(), r.varint(), index, r.varint() - 1)
  tree.setFlags(node, r.varint())
  const has = r.u8()
  if (has & Has.Link) tree.setSymlinkTarget(node, r.string())
  if (has & Has.Hash) tree.setHash(node, r.raw(32))
  const e: ParsedEntry = { dir, name, op, node }
  if (has & Has.LinkPath) e.linkPath = r.string()
  if (has & Has.Head) layer.heads.set(node, lazyHead(r.string()))
  if (has & Has.Kept) layer.captured.set(node, r.kept(r.varint()))
  return e
}

/**
 * A head whose JSON is parsed when one of its fields is first read. A warm analysis looks at the
 * heads of the program's closure, a few dozen, while a layer can hold thousands of ELF summaries
 * (megabytes of JSON: parsing them all was most of the decode). The entry's digest was checked
 * before this, so the text is what slim wrote.
 */
function lazyHead(json: string): FileHead {
  let parsed: FileHead | undefined
  const get = (): FileHead => (parsed ??= JSON.parse(json) as FileHead)
  return Object.defineProperties({} as FileHead, {
    magic: { enumerable: true, get: () => get().magic },
    firstLine: { enumerable: true, get: () => get().firstLine },
    summary: { enumerable: true, get: () => get().summary },
  })
}
