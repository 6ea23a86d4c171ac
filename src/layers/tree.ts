/**
 * The merged filesystem tree, stored by column: a node is a number (its id), and its fields live
 * in fixed-size chunks of typed arrays, its name in a chunk of strings. A directory's children are
 * a doubly linked list through the nodes (for listing) plus one hash table for the whole tree keyed
 * by (parent, name) (for lookups). Full paths are NOT stored, they are rebuilt by walking up.
 *
 * WHY: a layer of a million files is a million nodes. As objects (a header, nine fields, a Map
 * entry in the parent) each cost about 150 bytes; here a node is about 44 bytes of numbers, 8 of
 * table and its name. Chunks, not one growing array, so growing never holds two copies at once.
 *
 * Every walk here is iterative: hostile tars can nest thousands of directories.
 */
import { NamePool } from './name-pool.js'
import type { FileType } from './rootfs.js'

/** A node of a Tree: its id. */
export type Node = number
/** No node (a missing parent, a dangling hard link). */
export const NO_NODE = -1

/** Entry kinds as small integers (an index into KIND_NAMES). */
export const Kind = { File: 0, Dir: 1, Symlink: 2, Hardlink: 3, Char: 4, Block: 5, Fifo: 6, Other: 7 } as const
export type Kind = (typeof Kind)[keyof typeof Kind]

export const KIND_NAMES: readonly FileType[] = ['file', 'dir', 'symlink', 'hardlink', 'char', 'block', 'fifo', 'other']

/** Bits of a node's flags. */
export const Flag = {
  /** A directory no tar entry described: created because a deeper entry needed it. */
  Implicit: 1,
  /** A GNU/PAX sparse file: its stored bytes are not its content; readFile refuses it. */
  Sparse: 2,
  /** Counted as "modified" (the path existed below) in its layer's tally; else "added". */
  Modified: 4,
  /** Its bytes are visible in the final image (set once the index is built; see countDeadBytes). */
  Alive: 8,
  /** Some hard link shares this file's content. */
  Linked: 16,
} as const

/** Bit layout of the `bits` field: kind (3 bits), Flag bits (5), permission bits (12). */
const KIND_MASK = 0b111
const FLAGS_SHIFT = 3
const FLAGS_MASK = 0b11111
const MODE_SHIFT = 8
const MODE_MASK = 0o7777

/** Int32 fields of a node, interleaved in one chunk. */
const F_PARENT = 0
/** Index of the (uid, gid) pair in the owner table: most files share a few owners. */
const F_OWNER = 1
/** The name's reference in the NamePool. */
const F_NAME = 2
const F_LAYER = 3
const F_ORDINAL = 4
const F_BITS = 5
/** Dir: first child. File: hash slot. Symlink: link target slot. Hard link: target node. -1: none. */
const F_DATA = 6
const F_NEXT = 7
const F_PREV = 8
/** Unsigned; BIG_SIZE means the size is in the side map. */
const F_SIZE = 9
/** Its hash table slot hash (slotOf(parent, name)), set when attached: growing the table and
 * probing then need no name decoded (a million-file layer grew the table ten times). */
const F_SLOT = 10
const FIELDS = 11

const CHUNK_BITS = 14
const CHUNK = 1 << CHUNK_BITS
const LOW = CHUNK - 1

/** Sizes at or past this are kept in a side map (4 GiB files are rare). */
const BIG_SIZE = 0xffffffff

/** Hash table slots: empty, and deleted (a tombstone keeps probe chains whole). */
const EMPTY = -1
const DELETED = -2

export class Tree {
  readonly root: Node
  private count = 0
  private readonly ints: Int32Array[] = []
  private readonly names = new NamePool()
  private readonly bigSizes = new Map<Node, number>()
  /** uid, gid of each owner; an owner's number is its pair's index. */
  private readonly owners: number[] = []
  private readonly ownerIds = new Map<string, number>()
  private lastOwner = -1
  /** sha256 of file contents, 32 bytes a slot, in chunks. */
  private readonly hashes: Uint8Array[] = []
  private hashCount = 0
  private readonly linkTargets: string[] = []
  private table = new Int32Array(1024).fill(EMPTY)
  /** Slots in use, tombstones included. */
  private tableUsed = 0

  constructor() {
    this.root = this.add('', Kind.Dir, 0o755, 0, 0, 0, -1, -1)
  }

  /** Nodes made so far (attached or not). */
  get nodeCount(): number {
    return this.count
  }

  add(name: string, kind: Kind, mode: number, uid: number, gid: number, size: number, layer: number, ordinal: number): Node {
    const id = this.count++
    const c = id >>> CHUNK_BITS
    if (c === this.ints.length) this.ints.push(new Int32Array(CHUNK * FIELDS))
    const ints = this.ints[c]!
    const at = (id & LOW) * FIELDS
    ints[at + F_PARENT] = NO_NODE
    ints[at + F_OWNER] = this.ownerOf(uid, gid)
    ints[at + F_NAME] = this.names.store(name)
    ints[at + F_LAYER] = layer
    ints[at + F_ORDINAL] = ordinal
    ints[at + F_BITS] = (kind & KIND_MASK) | ((mode & MODE_MASK) << MODE_SHIFT)
    ints[at + F_DATA] = NO_NODE
    ints[at + F_NEXT] = NO_NODE
    ints[at + F_PREV] = NO_NODE
    this.setSize(id, size)
    return id
  }

  name(n: Node): string {
    return this.names.get(this.get(n, F_NAME))
  }

  private ownerOf(uid: number, gid: number): number {
    const last = this.lastOwner
    if (last >= 0 && this.owners[last * 2] === uid && this.owners[last * 2 + 1] === gid) return last
    const key = `${uid}:${gid}`
    let o = this.ownerIds.get(key)
    if (o === undefined) {
      o = this.owners.push(uid, gid) / 2 - 1
      this.ownerIds.set(key, o)
    }
    this.lastOwner = o
    return o
  }

  parent(n: Node): Node {
    return this.ints[n >>> CHUNK_BITS]![(n & LOW) * FIELDS + F_PARENT]!
  }

  /** Size from the tar header: the bytes this entry stores (0 for links, dirs, devices). */
  size(n: Node): number {
    const v = this.get(n, F_SIZE) >>> 0
    return v === BIG_SIZE ? this.bigSizes.get(n)! : v
  }

  setSize(n: Node, v: number): void {
    if (v >= BIG_SIZE) this.bigSizes.set(n, v)
    else this.bigSizes.delete(n)
    this.set(n, F_SIZE, Math.min(v, BIG_SIZE) | 0)
  }

  uid(n: Node): number {
    return this.owners[this.get(n, F_OWNER) * 2]!
  }

  gid(n: Node): number {
    return this.owners[this.get(n, F_OWNER) * 2 + 1]!
  }

  setUid(n: Node, v: number): void {
    this.set(n, F_OWNER, this.ownerOf(v, this.gid(n)))
  }

  setGid(n: Node, v: number): void {
    this.set(n, F_OWNER, this.ownerOf(this.uid(n), v))
  }

  layer(n: Node): number {
    return this.get(n, F_LAYER)
  }

  setLayer(n: Node, v: number): void {
    this.set(n, F_LAYER, v)
  }

  /** Position of the entry among the entries of its layer tar, to find it again for readFile. */
  ordinal(n: Node): number {
    return this.get(n, F_ORDINAL)
  }

  setOrdinal(n: Node, v: number): void {
    this.set(n, F_ORDINAL, v)
  }

  kind(n: Node): Kind {
    return (this.get(n, F_BITS) & KIND_MASK) as Kind
  }

  isDir(n: Node): boolean {
    return this.kind(n) === Kind.Dir
  }

  mode(n: Node): number {
    return (this.get(n, F_BITS) >> MODE_SHIFT) & MODE_MASK
  }

  setMode(n: Node, v: number): void {
    const b = this.get(n, F_BITS)
    this.set(n, F_BITS, (b & ~(MODE_MASK << MODE_SHIFT)) | ((v & MODE_MASK) << MODE_SHIFT))
  }

  /** Bits of Flag. */
  flags(n: Node): number {
    return (this.get(n, F_BITS) >> FLAGS_SHIFT) & FLAGS_MASK
  }

  setFlags(n: Node, v: number): void {
    const b = this.get(n, F_BITS)
    this.set(n, F_BITS, (b & ~(FLAGS_MASK << FLAGS_SHIFT)) | ((v & FLAGS_MASK) << FLAGS_SHIFT))
  }

  /** Symlink: the target as written. */
  symlinkTarget(n: Node): string {
    const slot = this.kind(n) === Kind.Symlink ? this.get(n, F_DATA) : NO_NODE
    return slot === NO_NODE ? '' : this.linkTargets[slot]!
  }

  setSymlinkTarget(n: Node, target: string): void {
    if (this.kind(n) !== Kind.Symlink) throw new Error(`a ${KIND_NAMES[this.kind(n)]} has no symlink target`)
    this.set(n, F_DATA, this.linkTargets.push(target) - 1)
  }

  /** Hard link: the node it shares content with; NO_NODE while dangling. */
  hardlinkTarget(n: Node): Node {
    return this.kind(n) === Kind.Hardlink ? this.get(n, F_DATA) : NO_NODE
  }

  setHardlinkTarget(n: Node, target: Node): void {
    if (this.kind(n) !== Kind.Hardlink) throw new Error(`a ${KIND_NAMES[this.kind(n)]} has no hard link target`)
    this.set(n, F_DATA, target)
  }

  /** The node whose bytes this entry has: itself, or a hard link's target (chains already collapsed). */
  content(n: Node): Node {
    const t = this.hardlinkTarget(n)
    return t === NO_NODE ? n : t
  }

  /** sha256 of the content (32 raw bytes as a latin1 string), for regular files of 1 byte or more. */
  hash(n: Node): string | null {
    const slot = this.kind(n) === Kind.File ? this.get(n, F_DATA) : NO_NODE
    if (slot === NO_NODE) return null
    const chunk = this.hashes[slot >>> CHUNK_BITS]!
    const at = (slot & LOW) * 32
    return Buffer.from(chunk.buffer, chunk.byteOffset + at, 32).toString('latin1')
  }

  /** Sets a file's content hash (32 raw bytes, or a latin1 string of them). */
  setHash(n: Node, v: string | Uint8Array | null): void {
    if (this.kind(n) !== Kind.File) throw new Error(`a ${KIND_NAMES[this.kind(n)]} has no content hash`)
    if (v === null) return this.set(n, F_DATA, NO_NODE)
    const slot = this.hashCount++
    const c = slot >>> CHUNK_BITS
    if (c === this.hashes.length) this.hashes.push(new Uint8Array(CHUNK * 32))
    const bytes = typeof v === 'string' ? Buffer.from(v, 'latin1') : v
    if (bytes.length !== 32) throw new Error('a content hash is 32 bytes')
    this.hashes[c]!.set(bytes, (slot & LOW) * 32)
    this.set(n, F_DATA, slot)
  }

  /** Index path without the leading slash ("usr/bin/env"); "" for the root. */
  path(n: Node): string {
    const parts: string[] = []
    for (let x = n; x !== NO_NODE && this.parent(x) !== NO_NODE; x = this.parent(x)) parts.push(this.name(x))
    return parts.reverse().join('/')
  }

  /** The child of directory `dir` named `name`, or NO_NODE. */
  child(dir: Node, name: string): Node {
    const t = this.table
    const mask = t.length - 1
    const slot = slotOf(dir, name) | 0
    for (let i = slot & mask; ; i = (i + 1) & mask) {
      const id = t[i]!
      if (id === EMPTY) return NO_NODE
      if (id !== DELETED && this.get(id, F_SLOT) === slot && this.parent(id) === dir && this.names.is(this.get(id, F_NAME), name)) return id
    }
  }

  /** A directory's children, in no particular order (a copy: the tree may change while it is used). */
  children(dir: Node): Node[] {
    const out: Node[] = []
    if (!this.isDir(dir)) return out
    for (let c = this.get(dir, F_DATA); c !== NO_NODE; c = this.get(c, F_NEXT)) out.push(c)
    return out
  }

  /** Whether a directory has any child (false for anything else). */
  hasChildren(dir: Node): boolean {
    return this.isDir(dir) && this.get(dir, F_DATA) !== NO_NODE
  }

  /** A directory's children sorted by name (UTF-16 code units, as Array.prototype.sort orders strings). */
  sortedChildren(dir: Node): Node[] {
    const named = this.children(dir).map((id) => ({ id, name: this.name(id) }))
    named.sort((a, b) => (a.name < b.name ? -1 : 1))
    return named.map((x) => x.id)
  }

  /** Puts `child` into `parent` (replacing any child of that name, as Map.set would). */
  attach(parent: Node, child: Node): void {
    const name = this.name(child)
    const old = this.child(parent, name)
    if (old !== NO_NODE) this.detach(old)
    this.set(child, F_PARENT, parent)
    this.set(child, F_SLOT, slotOf(parent, name) | 0)
    const first = this.get(parent, F_DATA)
    this.set(child, F_NEXT, first)
    this.set(child, F_PREV, NO_NODE)
    if (first !== NO_NODE) this.set(first, F_PREV, child)
    this.set(parent, F_DATA, child)
    this.tableInsert(child)
  }

  /** Takes a node out of its directory. Its parent is kept so a hard link to a deleted file can still name it. */
  detach(n: Node): void {
    const parent = this.parent(n)
    if (parent === NO_NODE) return
    const t = this.table
    const mask = t.length - 1
    for (let i = this.get(n, F_SLOT) & mask; ; i = (i + 1) & mask) {
      const id = t[i]!
      if (id === EMPTY) return // not attached (already detached)
      if (id === n) {
        t[i] = DELETED
        break
      }
    }
    const prev = this.get(n, F_PREV)
    const next = this.get(n, F_NEXT)
    if (prev !== NO_NODE) this.set(prev, F_NEXT, next)
    else this.set(parent, F_DATA, next)
    if (next !== NO_NODE) this.set(next, F_PREV, prev)
    this.set(n, F_NEXT, NO_NODE)
    this.set(n, F_PREV, NO_NODE)
  }

  /** Every node of a subtree, the root of it included, in no particular order. */
  *subtree(n: Node): Generator<Node> {
    const stack: Node[] = [n]
    while (stack.length > 0) {
      const x = stack.pop()!
      yield x
      if (this.isDir(x)) for (let c = this.get(x, F_DATA); c !== NO_NODE; c = this.get(c, F_NEXT)) stack.push(c)
    }
  }

  /** Finds a node by index path, textually: no symlink is followed (tar semantics for whiteouts). */
  lookupExact(path: string): Node {
    if (path === '') return this.root
    let cur: Node = this.root
    let start = 0
    while (start <= path.length) {
      const end = path.indexOf('/', start)
      const name = end < 0 ? path.slice(start) : path.slice(start, end)
      const next = this.isDir(cur) ? this.child(cur, name) : NO_NODE
      if (next === NO_NODE) return NO_NODE
      cur = next
      if (end < 0) break
      start = end + 1
    }
    return cur
  }

  private get(n: Node, f: number): number {
    return this.ints[n >>> CHUNK_BITS]![(n & LOW) * FIELDS + f]!
  }

  private set(n: Node, f: number, v: number): void {
    this.ints[n >>> CHUNK_BITS]![(n & LOW) * FIELDS + f] = v
  }

  private tableInsert(n: Node): void {
    // At most 3/4 full, tombstones counted: probe chains stay short.
    if ((this.tableUsed + 1) * 4 > this.table.length * 3) this.rehash()
    const t = this.table
    const mask = t.length - 1
    let i = this.get(n, F_SLOT) & mask
    while (t[i] !== EMPTY && t[i] !== DELETED) i = (i + 1) & mask
    if (t[i] === EMPTY) this.tableUsed++
    t[i] = n
  }

  private rehash(): void {
    const old = this.table
    let live = 0
    for (let i = 0; i < old.length; i++) if (old[i]! >= 0) live++
    let cap = old.length
    while ((live + 1) * 2 > cap) cap *= 2
    const t = new Int32Array(cap).fill(EMPTY)
    const mask = cap - 1
    for (let i = 0; i < old.length; i++) {
      const id = old[i]!
      if (id < 0) continue
      let j = this.get(id, F_SLOT) & mask
      while (t[j] !== EMPTY) j = (j + 1) & mask
      t[j] = id
    }
    this.table = t
    this.tableUsed = live
  }
}

/** FNV-1a over the name's UTF-16 units, seeded by the parent id, then mixed. */
function slotOf(parent: Node, name: string): number {
  let h = Math.imul(0x811c9dc5 ^ parent, 0x01000193)
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193)
  h ^= h >>> 15
  h = Math.imul(h, 0x2c1b3c6d)
  h ^= h >>> 12
  return h >>> 0
}
