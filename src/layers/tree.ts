/**
 * The merged filesystem tree. One small object per entry (name, parent, a few numbers); full paths
 * are NOT stored, they are rebuilt by walking up, so the index costs about one object and one name
 * per file whatever the image size. Directories hold their children in a Map.
 *
 * Every walk here is iterative: hostile tars can nest thousands of directories.
 */
import type { FileType } from './rootfs.js'

/** Entry kinds as small integers (an index into KIND_NAMES): cheaper than strings per node. */
export const Kind = { File: 0, Dir: 1, Symlink: 2, Hardlink: 3, Char: 4, Block: 5, Fifo: 6, Other: 7 } as const
export type Kind = (typeof Kind)[keyof typeof Kind]

export const KIND_NAMES: readonly FileType[] = ['file', 'dir', 'symlink', 'hardlink', 'char', 'block', 'fifo', 'other']

/** Bits of Node.flags. */
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

/**
 * Bit layout of Node.bits: the kind (3 bits), the Flag bits (5) and the permission bits (12) share
 * one small integer, and Node.data holds whichever of children, link target or hash the kind has.
 * A million-file layer is a million nodes: every field is 8 bytes per file, so the rarely-set ones
 * are folded into these two instead of each having a slot.
 */
const KIND_MASK = 0b111
const FLAGS_SHIFT = 3
const FLAGS_MASK = 0b11111
const MODE_SHIFT = 8
const MODE_MASK = 0o7777

export class Node {
  name: string
  parent: Node | null = null
  /** Size from the tar header: the bytes this entry stores (0 for links, dirs, devices). */
  size: number
  uid: number
  gid: number
  layer: number
  /** Position of the entry among the entries of its layer tar, to find it again for readFile. */
  ordinal: number
  private bits: number
  /** Dir: its children. Symlink, hard link: the link. File: the hash. (See the accessors.) */
  private data: Map<string, Node> | string | Node | null

  constructor(name: string, kind: Kind, mode: number, uid: number, gid: number, size: number, layer: number, ordinal: number) {
    this.name = name
    this.size = size
    this.uid = uid
    this.gid = gid
    this.layer = layer
    this.ordinal = ordinal
    this.bits = (kind & KIND_MASK) | ((mode & MODE_MASK) << MODE_SHIFT)
    this.data = kind === Kind.Dir ? new Map() : null
  }

  get kind(): Kind {
    return (this.bits & KIND_MASK) as Kind
  }

  get mode(): number {
    return (this.bits >> MODE_SHIFT) & MODE_MASK
  }

  set mode(v: number) {
    this.bits = (this.bits & ~(MODE_MASK << MODE_SHIFT)) | ((v & MODE_MASK) << MODE_SHIFT)
  }

  /** Bits of Flag. */
  get flags(): number {
    return (this.bits >> FLAGS_SHIFT) & FLAGS_MASK
  }

  set flags(v: number) {
    this.bits = (this.bits & ~(FLAGS_MASK << FLAGS_SHIFT)) | ((v & FLAGS_MASK) << FLAGS_SHIFT)
  }

  /** A directory's entries by name; null for anything else. */
  get children(): Map<string, Node> | null {
    return this.kind === Kind.Dir ? (this.data as Map<string, Node>) : null
  }

  /** Symlink: the target as written. Hard link: the entry it shares content with (null if missing). */
  get link(): string | Node | null {
    const k = this.kind
    return k === Kind.Symlink || k === Kind.Hardlink ? (this.data as string | Node | null) : null
  }

  set link(v: string | Node | null) {
    const k = this.kind
    if (k !== Kind.Symlink && k !== Kind.Hardlink) throw new Error(`a ${KIND_NAMES[k]} has no link`)
    this.data = v
  }

  /** sha256 of the content (32 raw bytes as a latin1 string), for regular files of 1 byte or more. */
  get hash(): string | null {
    return this.kind === Kind.File ? (this.data as string | null) : null
  }

  set hash(v: string | null) {
    if (this.kind !== Kind.File) throw new Error(`a ${KIND_NAMES[this.kind]} has no content hash`)
    this.data = v
  }

  get isDir(): boolean {
    return this.kind === Kind.Dir
  }

  /** The node whose bytes this entry has: itself, or a hard link's target (chains already collapsed). */
  get content(): Node {
    return this.kind === Kind.Hardlink && this.link instanceof Node ? this.link : this
  }

  /** Index path without the leading slash ("usr/bin/env"); "" for the root. */
  path(): string {
    const parts: string[] = []
    for (let n: Node | null = this; n && n.parent; n = n.parent) parts.push(n.name)
    return parts.reverse().join('/')
  }
}

export function newRoot(): Node {
  return new Node('', Kind.Dir, 0o755, 0, 0, 0, -1, -1)
}

export function attach(parent: Node, child: Node): void {
  child.parent = parent
  parent.children!.set(child.name, child)
}

/** Takes a node out of its directory. `parent` is kept so a hard link to a deleted file can still name it. */
export function detach(node: Node): void {
  if (node.parent?.children?.get(node.name) === node) node.parent.children.delete(node.name)
}

/** Finds a node by index path, textually: no symlink is followed (tar semantics for whiteouts). */
export function lookupExact(root: Node, path: string): Node | undefined {
  if (path === '') return root
  let cur: Node = root
  let start = 0
  while (start <= path.length) {
    const end = path.indexOf('/', start)
    const name = end < 0 ? path.slice(start) : path.slice(start, end)
    const next = cur.children?.get(name)
    if (!next) return undefined
    cur = next
    if (end < 0) break
    start = end + 1
  }
  return cur
}

/** Every node of a subtree, the root of it included, in no particular order. */
export function* subtree(node: Node): Generator<Node> {
  const stack: Node[] = [node]
  while (stack.length > 0) {
    const n = stack.pop()!
    yield n
    if (n.children) for (const c of n.children.values()) stack.push(c)
  }
}
