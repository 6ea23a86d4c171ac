/**
 * One layer's list of changes, in tar order, as numbers: per entry its node (an add) or its mark
 * (a whiteout or opaque directory, which have no node) and its directory. Between the parse and
 * the merge a layer of a million files is a million entries: as objects they cost about 60 bytes
 * each on top of their nodes; here 8.
 */
import { NO_NODE, type Node, type Tree } from './tree.js'

export const Op = { Add: 0, Whiteout: 1, Opaque: 2 } as const
export type Op = (typeof Op)[keyof typeof Op]

/**
 * One change, as a plain value (made on demand by EntryList.entry). Its index path (the added
 * path, the path a whiteout deletes, or the opaque directory) is its directory and last name.
 */
export interface ParsedEntry {
  /** The path's directory ('' at the root). */
  dir: string
  /** The path's last component ('' for an opaque root). */
  name: string
  op: Op
  /** The added node; NO_NODE for a whiteout or an opaque directory. */
  node: Node
  /** Hard links: the cleaned target path (undefined when it leaves the root). */
  linkPath?: string
}

export function entryPath(e: { dir: string; name: string }): string {
  return e.dir === '' ? e.name : `${e.dir}/${e.name}`
}

export class EntryList {
  /** Pairs: the node (>= 0) or -(mark + 1), then the directory's number. */
  private items = new Int32Array(2048)
  private count = 0
  /** One string per directory, shared by its entries. */
  private readonly dirs: string[] = []
  private readonly dirIds = new Map<string, number>()
  private readonly marks: Array<{ name: string; op: Op }> = []
  private readonly linkPaths = new Map<Node, string>()

  constructor(readonly tree: Tree) {}

  get length(): number {
    return this.count
  }

  push(e: ParsedEntry): void {
    if (this.count * 2 + 2 > this.items.length) {
      const next = new Int32Array(Math.max(2048, this.items.length * 2))
      next.set(this.items)
      this.items = next
    }
    let d = this.dirIds.get(e.dir)
    if (d === undefined) {
      d = this.dirs.push(e.dir) - 1
      this.dirIds.set(e.dir, d)
    }
    let ref: number
    if (e.op === Op.Add) {
      if (e.node === NO_NODE) throw new Error(`an added entry without a node (${entryPath(e)})`)
      ref = e.node
      if (e.linkPath !== undefined) this.linkPaths.set(e.node, e.linkPath)
    } else ref = -this.marks.push({ name: e.name, op: e.op }) // -(index + 1)
    this.items[this.count * 2] = ref
    this.items[this.count * 2 + 1] = d
    this.count++
  }

  op(i: number): Op {
    const ref = this.items[i * 2]!
    return ref >= 0 ? Op.Add : this.marks[-ref - 1]!.op
  }

  /** The added node; NO_NODE for a mark. */
  node(i: number): Node {
    const ref = this.items[i * 2]!
    return ref >= 0 ? ref : NO_NODE
  }

  /** The number of entry i's directory (equal numbers: the same directory). */
  dirRef(i: number): number {
    return this.items[i * 2 + 1]!
  }

  dir(i: number): string {
    return this.dirs[this.items[i * 2 + 1]!]!
  }

  name(i: number): string {
    const ref = this.items[i * 2]!
    return ref >= 0 ? this.tree.name(ref) : this.marks[-ref - 1]!.name
  }

  path(i: number): string {
    return entryPath({ dir: this.dir(i), name: this.name(i) })
  }

  linkPath(node: Node): string | undefined {
    return this.linkPaths.get(node)
  }

  /** Entry i as a plain value. */
  entry(i: number): ParsedEntry {
    const node = this.node(i)
    const e: ParsedEntry = { dir: this.dir(i), name: this.name(i), op: this.op(i), node }
    const link = node === NO_NODE ? undefined : this.linkPaths.get(node)
    if (link !== undefined) e.linkPath = link
    return e
  }

  *[Symbol.iterator](): Generator<ParsedEntry> {
    for (let i = 0; i < this.count; i++) yield this.entry(i)
  }

  /** Lets go of everything (the tree keeps the nodes). */
  clear(): void {
    this.items = new Int32Array(0)
    this.count = 0
    this.dirs.length = 0
    this.dirIds.clear()
    this.marks.length = 0
    this.linkPaths.clear()
  }
}
