/**
 * The final filesystem as the HTML report's treemap shows it: sizes per directory, what slim keeps
 * (program, libraries, needs) and drops, duplicate copies marked, and small entries collapsed so a
 * 100k-file image still makes a page of a few thousand boxes.
 *
 * Built from the layer index and the analysis (the JSON document has no per-file data); the result
 * is plain data the renderer lays out.
 */
import type { Advice, CopyKind } from '../../advise/types.js'
import type { Inspection } from '../../inspect/types.js'
import type { LayerIndex } from '../../layers/index.js'
import { Flag, Kind, type Node } from '../../layers/tree.js'

/** What slim does with a file: keeps it as (part of) the program, a library, a need, or drops it. */
export type KeepClass = 'program' | 'library' | 'need' | 'dropped'
export const KEEP_CLASSES: readonly KeepClass[] = ['program', 'library', 'need', 'dropped']

export interface ReportTreeNode {
  /** Entry name; for a collapsed group, "N small entries". */
  name: string
  /** Absolute path in the image; a collapsed group has its directory's path. */
  path: string
  /** Bytes of regular files below (a file and its hard links counted once). */
  size: number
  /** Non-directory entries below (the entry itself for a file). */
  entries: number
  /** The class with the most bytes below (for a file: its own). */
  cls: KeepClass
  /** Bytes below that slim keeps (program, libraries, needs). */
  kept: number
  /** Bytes below that are extra copies of content found at another path too. */
  dup: number
  /** Set on a group of collapsed small entries: how many entries it stands for. */
  collapsed?: number
  children?: ReportTreeNode[]
}

export interface ReportTree {
  root: ReportTreeNode
  /** Entries below this many bytes were collapsed per directory. */
  threshold: number
  /** Nodes kept in the tree (the page draws one box each). */
  nodes: number
}

const RANK: Record<KeepClass, number> = { program: 3, library: 2, need: 1, dropped: 0 }
const COPY_CLASS: Record<CopyKind, KeepClass> = {
  program: 'program', script: 'program', loader: 'library', library: 'library',
  need: 'need', app: 'need', writable: 'need', 'link-target': 'need', keep: 'need',
}

/**
 * Paths slim keeps, with their class: the program's chain, the library closure (whether copied or
 * provided by the base), every copy of the plan (a directory stands for its tree), and the rest of
 * inspection.files.
 */
export function keptPaths(inspection: Inspection, advice: Pick<Advice, 'plan'>): Map<string, KeepClass> {
  const out = new Map<string, KeepClass>()
  const add = (p: string | undefined, c: KeepClass): void => {
    if (!p) return
    const prev = out.get(p)
    if (!prev || RANK[c] > RANK[prev]) out.set(p, c)
  }
  const pr = inspection.program
  for (const p of [pr.path, pr.realPath, ...pr.executables, ...pr.scripts, ...pr.symlinks]) add(p, 'program')
  for (const l of inspection.closure.libraries) for (const p of [l.path, l.realPath, ...l.symlinks]) add(p, 'library')
  for (const c of advice.plan?.copies ?? []) add(c.source, COPY_CLASS[c.kind])
  for (const p of inspection.files) add(p, 'need')
  return out
}

/** Builds the report tree; `collapseBelow` is a fraction of the total (default 0.1 %). */
export function reportTree(index: LayerIndex, kept: Map<string, KeepClass>, opts: { collapseBelow?: number } = {}): ReportTree {
  const marks = resolveMarks(index, kept)
  const root = mk('/', '/')
  const byNode = new Map<Node, ReportTreeNode>([[index.root, root]])
  const inherited = new Map<Node, KeepClass>()
  const order: Array<[ReportTreeNode, ReportTreeNode]> = [] // [child, parent], parents first
  const counted = new Set<Node>()
  const copies = new Map<string, ReportTreeNode[]>() // content -> one tree node per distinct copy
  const classBytes = new Map<ReportTreeNode, number[]>()

  const tree = index.tree
  for (const [node, rel] of index.walk()) {
    const path = `/${rel}`
    const parentNode = tree.parent(node)
    const parent = byNode.get(parentNode)!
    const t = mk(tree.name(node), path)
    ;(parent.children ??= []).push(t)
    order.push([t, parent])
    const cls = marks.get(path) ?? inherited.get(parentNode) ?? 'dropped'
    if (tree.kind(node) === Kind.Dir) {
      byNode.set(node, t)
      if (cls !== 'dropped') inherited.set(node, cls)
      continue
    }
    t.entries = 1
    t.cls = cls
    const content = tree.content(node)
    if (tree.kind(content) !== Kind.File) continue
    if (tree.flags(content) & Flag.Linked) {
      if (counted.has(content)) continue
      counted.add(content)
    }
    t.size = tree.size(content)
    if (cls !== 'dropped') t.kept = t.size
    const hash = tree.hash(content)
    if (hash !== null) {
      const key = `${t.size}:${hash}`
      const group = copies.get(key)
      if (group) group.push(t)
      else copies.set(key, [t])
    }
    const cb = [0, 0, 0, 0]
    cb[KEEP_CLASSES.indexOf(cls)] = t.size
    classBytes.set(t, cb)
  }
  // Of several copies of one content, the one slim keeps (else the first in path order) is the
  // original; the others are the duplicates.
  for (const group of copies.values()) {
    if (group.length < 2) continue
    const original = group.reduce((best, t) => (RANK[t.cls] > RANK[best.cls] ? t : best))
    for (const t of group) if (t !== original) t.dup = t.size
  }
  // Sums bottom-up: children come after their parents in `order`.
  for (let i = order.length - 1; i >= 0; i--) {
    const [c, p] = order[i]!
    p.size += c.size
    p.entries += c.entries
    p.kept += c.kept
    p.dup += c.dup
    const cb = classBytes.get(c)
    if (cb) {
      let pb = classBytes.get(p)
      if (!pb) classBytes.set(p, (pb = [0, 0, 0, 0]))
      for (let k = 0; k < 4; k++) pb[k]! += cb[k]!
    }
  }
  for (const [t, cb] of classBytes) if (t.children) t.cls = dominant(cb)

  const threshold = Math.max(1, Math.floor(root.size * (opts.collapseBelow ?? 0.001)))
  const nodes = collapse(root, threshold, classBytes)
  return { root, threshold, nodes }
}

function mk(name: string, path: string): ReportTreeNode {
  return { name, path, size: 0, entries: 0, cls: 'dropped', kept: 0, dup: 0 }
}

function dominant(cb: number[]): KeepClass {
  let best = 3
  for (let k = 0; k < 3; k++) if (cb[k]! > 0 && cb[k]! >= cb[best]!) best = k
  return KEEP_CLASSES[best]!
}

/**
 * Kept paths as the tree names them: a path through a directory symlink (/lib/x -> /usr/lib/x)
 * is recorded at its real location, and a symlink both as itself and as its target.
 */
function resolveMarks(index: LayerIndex, kept: Map<string, KeepClass>): Map<string, KeepClass> {
  const out = new Map<string, KeepClass>()
  const put = (p: string | undefined, c: KeepClass): void => {
    if (!p) return
    const prev = out.get(p)
    if (!prev || RANK[c] > RANK[prev]) out.set(p, c)
  }
  for (const [p, c] of kept) {
    const slash = p.lastIndexOf('/')
    const dir = slash <= 0 ? '/' : p.slice(0, slash)
    const realDir = index.realpath(dir)?.path
    if (realDir) put(`${realDir === '/' ? '' : realDir}/${p.slice(slash + 1)}`, c)
    // A symlink to a directory (/lib -> usr/lib, crossed on the way to a library) keeps the link,
    // not the directory's whole tree; a real directory (a copied tree) keeps its tree.
    const target = index.realpath(p)?.path
    if (target && !(index.lstat(p)?.type === 'symlink' && index.stat(p)?.type === 'dir')) put(target, c)
  }
  return out
}

/** Collapses, in every directory, the entries below `threshold` into one group; returns the nodes left. */
function collapse(root: ReportTreeNode, threshold: number, classBytes: Map<ReportTreeNode, number[]>): number {
  let count = 1
  const stack = [root]
  while (stack.length > 0) {
    const dir = stack.pop()!
    if (!dir.children) continue
    const big: ReportTreeNode[] = []
    const small: ReportTreeNode[] = []
    for (const c of dir.children) (c.size >= threshold && c.size > 0 ? big : small).push(c)
    big.sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : 1))
    if (small.length === 1 && !small[0]!.children) big.push(small[0]!)
    else if (small.length > 0) {
      const g = mk('', dir.path)
      const cb = [0, 0, 0, 0]
      for (const s of small) {
        g.size += s.size
        g.entries += s.entries
        g.kept += s.kept
        g.dup += s.dup
        const sb = classBytes.get(s)
        if (sb) for (let k = 0; k < 4; k++) cb[k]! += sb[k]!
      }
      g.collapsed = small.length
      g.name = `${small.length} small ${small.length === 1 ? 'entry' : 'entries'}`
      g.cls = dominant(cb)
      big.push(g)
    }
    dir.children = big
    count += big.length
    for (const c of big) if (c.children) stack.push(c)
  }
  return count
}
