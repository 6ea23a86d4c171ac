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

export class Node {
  name: string
  parent: Node | null = null
  children: Map<string, Node> | null = null
  kind: Kind
  mode: number
  uid: number
  gid: number
  /** Size from the tar header: the bytes this entry stores (0 for links, dirs, devices). */
  size: number
  layer: number
  /** Position of the entry among the entries of its layer tar, to find it again for readFile. */
  ordinal: number
  /** Symlink: the target as written. Hard link: the entry it shares content with (null if missing). */
  link: string | Node | null = null
  /** sha256 of the content (32 raw bytes as a latin1 string), for regular files of 1 byte or more. */
  hash: string | null = null
  flags = 0

  constructor(name: string, kind: Kind, mode: number, uid: number, gid: number, size: number, layer: number, ordinal: number) {
    this.name = name
    this.kind = kind
    this.mode = mode
    this.uid = uid
    this.gid = gid
    this.size = size
    this.layer = layer
    this.ordinal = ordinal
    if (kind === Kind.Dir) this.children = new Map()
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
