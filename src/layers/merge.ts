/**
 * Applies one parsed layer on top of the merged tree, following the OCI image spec's changeset
 * rules (image-spec layer.md, "Whiteouts"):
 *  1. whiteouts and opaque markers apply to the LOWER layers only, whatever their position in the
 *     tar, so they are applied first, against the tree as the layers below left it;
 *  2. then the layer's entries are applied in tar order (a later duplicate replaces an earlier one;
 *     a directory over a directory updates it, anything else replaces the path and what was below).
 * So a layer may delete a directory and re-create part of it, and an opaque directory keeps the
 * children its own layer adds. dive's efficiency bookkeeping is fed at the same time (dive.ts).
 */
import type { ChangeTally } from './types.js'
import { DiveTally } from './dive.js'
import { Op, entryPath, type ParsedLayer } from './parse-layer.js'
import { WHITEOUT_PREFIX, parentOf } from './paths.js'
import { resolveParentDir } from './parent-dir.js'
import { Flag, Kind, NO_NODE, type Node, type Tree } from './tree.js'

export interface LayerChanges {
  added: ChangeTally
  modified: ChangeTally
  removed: ChangeTally & { whiteouts: number; opaqueDirs: number }
  overwritten: ChangeTally
}

export function emptyChanges(): LayerChanges {
  return {
    added: { files: 0, bytes: 0 },
    modified: { files: 0, bytes: 0 },
    removed: { files: 0, bytes: 0, whiteouts: 0, opaqueDirs: 0 },
    overwritten: { files: 0, bytes: 0 },
  }
}

/**
 * `top`: no layer comes after this one (dive's tally then keeps less; see DiveTally.visitTop).
 * The layer's nodes are already in `tree` (made by its parse); merging attaches them. The change
 * list is cleared afterwards (layer.entries is empty).
 */
export function mergeLayer(tree: Tree, layer: ParsedLayer, dive: DiveTally, top = false): LayerChanges {
  const changes = emptyChanges()
  const root = tree.root
  const list = layer.entries
  const k = layer.index
  const warn = layer.warnings

  // dive sizes its whiteouts against the stack of lower layers, each independently: measure all
  // of them before any is applied.
  const whiteoutSize = new Map<string, number>()
  for (let i = 0; i < list.length; i++) {
    if (list.op(i) !== Op.Whiteout) continue
    const path = list.path(i)
    if (!whiteoutSize.has(path)) whiteoutSize.set(path, diveWhiteoutSize(tree, path, dive))
  }
  // dive's leaves depend on this layer's list alone (not on slim's tree), so they are counted
  // now, before the tree grows, and what that takes is garbage before the additions.
  visitDiveLeaves(tree, layer, whiteoutSize, dive, top)

  // 1. Deletions, against the lower layers.
  for (let i = 0; i < list.length; i++) {
    if (list.op(i) !== Op.Whiteout) continue
    changes.removed.whiteouts++
    dive.ghosts.under(list.path(i), true)
    const parent = resolveParentDir(tree, list.dir(i), { create: false })
    const node = parent.ok ? tree.child(parent.dir, list.name(i)) : NO_NODE
    if (node !== NO_NODE) removeTree(tree, node, changes.removed)
  }
  for (let i = 0; i < list.length; i++) {
    if (list.op(i) !== Op.Opaque) continue
    changes.removed.opaqueDirs++
    const resolved = resolveParentDir(tree, list.path(i), { create: false })
    if (!resolved.ok) continue
    for (const child of tree.children(resolved.dir)) {
      for (const n of tree.subtree(child)) if (tree.size(n) > 0) dive.ghosts.set(tree.path(n), tree.size(n))
      removeTree(tree, child, changes.removed)
    }
  }

  // 2. Additions, in tar order.
  const pendingLinks: Array<{ node: Node; target: string }> = []
  const lastParent = new LastParent(tree)
  for (let i = 0; i < list.length; i++) {
    if (list.op(i) !== Op.Add) continue
    const node = list.node(i)
    const path = list.path(i)
    const parent = lastParent.lookup(path) ?? lastParent.remember(path, entryParent(tree, path, k, changes, warn))
    if (parent === undefined) continue
    dive.ghosts.delete(path)
    const existing = tree.child(parent, tree.name(node))
    if (existing !== NO_NODE) {
      if (tree.isDir(existing) && tree.isDir(node)) {
        tree.setMode(existing, tree.mode(node))
        tree.setUid(existing, tree.uid(node))
        tree.setGid(existing, tree.gid(node))
        tree.setLayer(existing, k)
        tree.setOrdinal(existing, tree.ordinal(node))
        tree.setFlags(existing, tree.flags(existing) & ~Flag.Implicit)
        continue
      }
      replace(tree, existing, node, k, changes)
    } else if (!tree.isDir(node)) {
      changes.added.files++
      changes.added.bytes += tree.size(node)
    }
    tree.attach(parent, node)
    if (tree.kind(node) === Kind.Hardlink) {
      const linkPath = list.linkPath(node)
      if (linkPath === undefined) continue
      const r = linkHard(tree, node, linkPath)
      if (r === 'missing') pendingLinks.push({ node, target: linkPath })
      else if (r === 'invalid') warn.add('hard links to a directory or to another dangling link (kept dangling)', `/${path}`)
    }
  }
  // A hard link may name an entry that comes later in the same tar; give those a second chance.
  for (const p of pendingLinks) {
    const r = linkHard(tree, p.node, p.target)
    if (r === 'missing') warn.add('hard links whose target does not exist (kept as dangling links)', `/${tree.path(p.node)}`)
    else if (r === 'invalid') warn.add('hard links to a directory or to another dangling link (kept dangling)', `/${tree.path(p.node)}`)
  }

  list.clear()
  return changes
}

/**
 * The parent directory of the previous entry, reused while entries stay in one directory (tars
 * list a directory's files together): resolving it again for each of them allocates its path's
 * components every time, which on a layer of a million files is most of the merge's garbage.
 * Only a plain resolution (no symlink on the way: its warning is per entry) is reused, and only
 * while that directory is still attached to the root by the same names, so the answer is the one
 * resolveParentDir would give.
 */
class LastParent {
  private dirPath: string | undefined
  private dir: Node | undefined

  constructor(private readonly tree: Tree) {}

  lookup(path: string): Node | undefined {
    const d = this.dirPath
    if (d === undefined || this.dir === undefined) return undefined
    const inDir = d === '' ? path.indexOf('/') < 0 : path.length > d.length + 1 && path.charCodeAt(d.length) === 0x2f && path.startsWith(d) && path.indexOf('/', d.length + 1) < 0
    if (!inDir) return undefined
    const t = this.tree
    let n = this.dir
    for (let p = t.parent(n); p !== NO_NODE; p = t.parent(n)) {
      if (t.child(p, t.name(n)) !== n) return undefined
      n = p
    }
    return n === t.root ? this.dir : undefined
  }

  remember(path: string, r: { dir: Node; plain: boolean } | undefined): Node | undefined {
    this.dirPath = r?.plain ? parentOf(path) : undefined
    this.dir = r?.plain ? r.dir : undefined
    return r?.dir
  }
}

/** A path is replaced by a different entry (or a duplicate of the same layer). */
function replace(t: Tree, existing: Node, node: Node, k: number, changes: LayerChanges): void {
  if (t.layer(existing) < k || t.isDir(existing)) {
    if (t.kind(existing) !== Kind.Dir) {
      changes.overwritten.files++
      changes.overwritten.bytes += t.size(existing)
    }
    if (!t.isDir(node)) {
      t.setFlags(node, t.flags(node) | Flag.Modified)
      changes.modified.files++
      changes.modified.bytes += t.size(node)
    }
  } else if (!t.isDir(node)) {
    // The same layer wrote this path twice: the tally keeps one entry with the newer bytes.
    const tally = t.flags(existing) & Flag.Modified ? changes.modified : changes.added
    tally.bytes += t.size(node) - t.size(existing)
    t.setFlags(node, t.flags(node) | (t.flags(existing) & Flag.Modified))
  }
  for (const child of t.children(existing)) removeTree(t, child, changes.overwritten)
  t.detach(existing)
}

/** Detaches a subtree, counting the non-directory entries it held. */
function removeTree(t: Tree, node: Node, tally: ChangeTally): void {
  for (const n of t.subtree(node)) {
    if (t.kind(n) !== Kind.Dir) {
      tally.files++
      tally.bytes += t.size(n)
    }
  }
  t.detach(node)
}

/**
 * The directory an entry goes into, as runtimes find it: symlinks on the way are followed inside
 * the root (parent-dir.ts), missing directories are created (an entry "a/b/c" without "a/" and
 * "a/b/" entries), and a non-directory in the way is replaced, as an overlay upper directory hides
 * a lower file of the same name. undefined (with a warning) when the parent is a symlink loop.
 */
function entryParent(t: Tree, path: string, k: number, changes: LayerChanges, warn: ParsedLayer['warnings']): { dir: Node; plain: boolean } | undefined {
  const r = resolveParentDir(t, parentOf(path), {
    create: true,
    layer: k,
    replaceWithDir: (blocker) => {
      warn.add('entries below a path that is not a directory in the layers below (the path becomes a directory)', `/${t.path(blocker)}`)
      const dir = t.add(t.name(blocker), Kind.Dir, 0o755, 0, 0, 0, k, -1)
      t.setFlags(dir, Flag.Implicit)
      const parent = t.parent(blocker)
      replace(t, blocker, dir, k, changes)
      t.attach(parent, dir)
      return dir
    },
  })
  if (!r.ok) {
    warn.add('entries skipped: their parent directory is a symlink loop (more than 40 links)', `/${path}`)
    return undefined
  }
  if (r.throughLink) warn.add('entries whose parent directory is a symlink, written where the link points (as runtimes do)', `/${path}`)
  return { dir: r.dir, plain: !r.throughLink }
}

/**
 * Resolves a hard link to the entry whose content it shares (chains collapse to the real file).
 * 'missing' when no such entry exists (yet); a link to a directory is impossible on Linux and stays dangling.
 */
function linkHard(tree: Tree, node: Node, target: string): 'ok' | 'missing' | 'invalid' {
  const t = tree.lookupExact(target)
  if (t === NO_NODE || t === node) return 'missing'
  const content = tree.content(t)
  if (tree.isDir(t) || tree.kind(content) === Kind.Hardlink || content === node) {
    tree.setHardlinkTarget(node, NO_NODE)
    return 'invalid'
  }
  tree.setHardlinkTarget(node, content)
  tree.setFlags(content, tree.flags(content) | Flag.Linked)
  return 'ok'
}

/** What a dive whiteout weighs: everything below the path in dive's lower stack when it was a directory. */
function diveWhiteoutSize(t: Tree, path: string, dive: DiveTally): number {
  const node = t.lookupExact(path)
  const ghosts = dive.ghosts.under(path, false)
  if (node !== NO_NODE) {
    if (!t.isDir(node)) return 0
    let total = 0
    for (const n of t.subtree(node)) total += t.size(n)
    return total + ghosts.total
  }
  // Gone from slim's tree but not from dive's (hidden by an opaque directory).
  return ghosts.below && !ghosts.exact ? ghosts.total : 0
}

/**
 * Feeds dive the leaves of this layer's own tree: the last entry per tar path, not a parent of another.
 * The paths seen are kept per directory (an entry's directory string is shared, its name is its
 * node's), so a layer of a million files allocates no string per entry here.
 */
function visitDiveLeaves(tree: Tree, layer: ParsedLayer, whiteoutSize: Map<string, number>, dive: DiveTally, top: boolean): void {
  const list = layer.entries
  const seen = new PathSet(list)
  for (let i = list.length - 1; i >= 0; i--) {
    const op = list.op(i)
    if (op === Op.Opaque) continue
    if (!seen.add(i)) continue
    const dir = list.dir(i)
    const name = list.name(i)
    const rawName = op === Op.Whiteout ? `${WHITEOUT_PREFIX}${name}` : name
    const path = entryPath({ dir, name })
    if (layer.parents.has(op === Op.Whiteout ? (dir === '' ? rawName : `${dir}/${rawName}`) : path)) continue
    const size = op === Op.Whiteout ? (whiteoutSize.get(path) ?? 0) : tree.size(list.node(i))
    // A whiteout's key is also the key of an entry of the same name in this layer.
    if (top) dive.visitTop(path, size, whiteoutSize.has(path))
    else dive.visit(path, size)
  }
}

/**
 * The tar paths seen so far among a layer's entries, as entry numbers in one open-addressed table
 * (a Set of names per directory cost about 20 bytes an entry on a million-file layer). A path is
 * the directory plus the tar name: a whiteout's own name (".wh.name") is distinct from the name
 * it deletes.
 */
class PathSet {
  private readonly table: Int32Array

  constructor(private readonly list: ParsedLayer['entries']) {
    let cap = 16
    while (cap < list.length * 2) cap *= 2
    this.table = new Int32Array(cap).fill(-1)
  }

  /** Adds entry i's path; false when an entry of the same path was added before. */
  add(i: number): boolean {
    const list = this.list
    const dir = list.dirRef(i)
    const name = list.name(i)
    const whiteout = list.op(i) === Op.Whiteout
    let h = Math.imul(dir ^ (whiteout ? 0x9e3779b9 : 0), 0x01000193)
    for (let c = 0; c < name.length; c++) h = Math.imul(h ^ name.charCodeAt(c), 0x01000193)
    h ^= h >>> 15
    const t = this.table
    const mask = t.length - 1
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const j = t[s]!
      if (j < 0) {
        t[s] = i
        return true
      }
      if (list.dirRef(j) === dir && (list.op(j) === Op.Whiteout) === whiteout && list.name(j) === name) return false
    }
  }
}
