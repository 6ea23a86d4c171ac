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
import { Op, entryPath, type ParsedEntry, type ParsedLayer } from './parse-layer.js'
import { WHITEOUT_PREFIX, parentOf } from './paths.js'
import { resolveParentDir } from './parent-dir.js'
import { Flag, Kind, Node, attach, detach, lookupExact, subtree } from './tree.js'

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
 * The layer's change list is consumed: each entry is let go once applied (layer.entries is empty
 * afterwards), so a layer of a million files never has its list and its whole tree live at once.
 */
export function mergeLayer(root: Node, layer: ParsedLayer, dive: DiveTally, top = false): LayerChanges {
  const changes = emptyChanges()
  const k = layer.index
  const warn = layer.warnings

  // dive sizes its whiteouts against the stack of lower layers, each independently: measure all
  // of them before any is applied.
  const whiteoutSize = new Map<string, number>()
  for (const e of layer.entries) {
    if (e.op !== Op.Whiteout) continue
    const path = entryPath(e)
    if (!whiteoutSize.has(path)) whiteoutSize.set(path, diveWhiteoutSize(root, path, dive))
  }
  // dive's leaves depend on this layer's list alone (not on slim's tree), so they are counted
  // now, before the tree grows, and what that takes is garbage before the additions.
  visitDiveLeaves(layer, whiteoutSize, dive, top)

  // 1. Deletions, against the lower layers.
  for (const e of layer.entries) {
    if (e.op !== Op.Whiteout) continue
    changes.removed.whiteouts++
    dive.ghosts.under(entryPath(e), true)
    const parent = resolveParentDir(root, e.dir, { create: false })
    const node = parent.ok ? parent.dir.children!.get(e.name) : undefined
    if (node) removeTree(node, changes.removed)
  }
  for (const e of layer.entries) {
    if (e.op !== Op.Opaque) continue
    changes.removed.opaqueDirs++
    const resolved = resolveParentDir(root, entryPath(e), { create: false })
    if (!resolved.ok) continue
    const dir = resolved.dir
    if (!dir.children) continue
    for (const child of [...dir.children.values()]) {
      for (const n of subtree(child)) if (n.size > 0) dive.ghosts.set(n.path(), n.size)
      removeTree(child, changes.removed)
    }
  }

  // 2. Additions, in tar order.
  const pendingLinks: Array<{ node: Node; target: string }> = []
  const lastParent = new LastParent(root)
  const entries: Array<ParsedEntry | undefined> = layer.entries
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    entries[i] = undefined
    if (e.op !== Op.Add || !e.node) continue
    const node = e.node
    const path = entryPath(e)
    const parent = lastParent.lookup(path) ?? lastParent.remember(path, entryParent(root, path, k, changes, warn))
    if (!parent) continue
    dive.ghosts.delete(path)
    const existing = parent.children!.get(node.name)
    if (existing) {
      if (existing.isDir && node.isDir) {
        existing.mode = node.mode
        existing.uid = node.uid
        existing.gid = node.gid
        existing.layer = k
        existing.ordinal = node.ordinal
        existing.flags &= ~Flag.Implicit
        continue
      }
      replace(existing, node, k, changes)
    } else if (!node.isDir) {
      changes.added.files++
      changes.added.bytes += node.size
    }
    attach(parent, node)
    if (node.kind === Kind.Hardlink) {
      if (e.linkPath === undefined) continue
      const r = linkHard(root, node, e.linkPath)
      if (r === 'missing') pendingLinks.push({ node, target: e.linkPath })
      else if (r === 'invalid') warn.add('hard links to a directory or to another dangling link (kept dangling)', `/${path}`)
    }
  }
  // A hard link may name an entry that comes later in the same tar; give those a second chance.
  for (const p of pendingLinks) {
    const r = linkHard(root, p.node, p.target)
    if (r === 'missing') warn.add('hard links whose target does not exist (kept as dangling links)', `/${p.node.path()}`)
    else if (r === 'invalid') warn.add('hard links to a directory or to another dangling link (kept dangling)', `/${p.node.path()}`)
  }

  layer.entries = []
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

  constructor(private readonly root: Node) {}

  lookup(path: string): Node | undefined {
    const d = this.dirPath
    if (d === undefined || !this.dir) return undefined
    const inDir = d === '' ? path.indexOf('/') < 0 : path.length > d.length + 1 && path.charCodeAt(d.length) === 0x2f && path.startsWith(d) && path.indexOf('/', d.length + 1) < 0
    if (!inDir) return undefined
    let n = this.dir
    while (n.parent) {
      if (n.parent.children?.get(n.name) !== n) return undefined
      n = n.parent
    }
    return n === this.root ? this.dir : undefined
  }

  remember(path: string, r: { dir: Node; plain: boolean } | undefined): Node | undefined {
    this.dirPath = r?.plain ? parentOf(path) : undefined
    this.dir = r?.plain ? r.dir : undefined
    return r?.dir
  }
}

/** A path is replaced by a different entry (or a duplicate of the same layer). */
function replace(existing: Node, node: Node, k: number, changes: LayerChanges): void {
  if (existing.layer < k || existing.isDir) {
    if (existing.kind !== Kind.Dir) {
      changes.overwritten.files++
      changes.overwritten.bytes += existing.size
    }
    if (!node.isDir) {
      node.flags |= Flag.Modified
      changes.modified.files++
      changes.modified.bytes += node.size
    }
  } else if (!node.isDir) {
    // The same layer wrote this path twice: the tally keeps one entry with the newer bytes.
    const tally = existing.flags & Flag.Modified ? changes.modified : changes.added
    tally.bytes += node.size - existing.size
    node.flags |= existing.flags & Flag.Modified
  }
  if (existing.children) for (const child of [...existing.children.values()]) removeTree(child, changes.overwritten)
  detach(existing)
}

/** Detaches a subtree, counting the non-directory entries it held. */
function removeTree(node: Node, tally: ChangeTally): void {
  for (const n of subtree(node)) {
    if (n.kind !== Kind.Dir) {
      tally.files++
      tally.bytes += n.size
    }
  }
  detach(node)
}

/**
 * The directory an entry goes into, as runtimes find it: symlinks on the way are followed inside
 * the root (parent-dir.ts), missing directories are created (an entry "a/b/c" without "a/" and
 * "a/b/" entries), and a non-directory in the way is replaced, as an overlay upper directory hides
 * a lower file of the same name. undefined (with a warning) when the parent is a symlink loop.
 */
function entryParent(root: Node, path: string, k: number, changes: LayerChanges, warn: ParsedLayer['warnings']): { dir: Node; plain: boolean } | undefined {
  const r = resolveParentDir(root, parentOf(path), {
    create: true,
    layer: k,
    replaceWithDir: (blocker) => {
      warn.add('entries below a path that is not a directory in the layers below (the path becomes a directory)', `/${blocker.path()}`)
      const dir = new Node(blocker.name, Kind.Dir, 0o755, 0, 0, 0, k, -1)
      dir.flags |= Flag.Implicit
      const parent = blocker.parent!
      replace(blocker, dir, k, changes)
      attach(parent, dir)
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
function linkHard(root: Node, node: Node, target: string): 'ok' | 'missing' | 'invalid' {
  const t = lookupExact(root, target)
  if (!t || t === node) return 'missing'
  const content = t.content
  if (t.isDir || content.kind === Kind.Hardlink || content === node) {
    node.link = null
    return 'invalid'
  }
  node.link = content
  content.flags |= Flag.Linked
  return 'ok'
}

/** What a dive whiteout weighs: everything below the path in dive's lower stack when it was a directory. */
function diveWhiteoutSize(root: Node, path: string, dive: DiveTally): number {
  const node = lookupExact(root, path)
  const ghosts = dive.ghosts.under(path, false)
  if (node) {
    if (!node.isDir) return 0
    let total = 0
    for (const n of subtree(node)) total += n.size
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
function visitDiveLeaves(layer: ParsedLayer, whiteoutSize: Map<string, number>, dive: DiveTally, top: boolean): void {
  const seen = new Map<string, Set<string>>()
  for (let i = layer.entries.length - 1; i >= 0; i--) {
    const e = layer.entries[i]
    if (e.op === Op.Opaque) continue
    // The whiteout's own tar name (".wh.name") is distinct from the name it deletes.
    const rawName = e.op === Op.Whiteout ? `${WHITEOUT_PREFIX}${e.name}` : e.name
    let names = seen.get(e.dir)
    if (!names) seen.set(e.dir, (names = new Set()))
    if (names.has(rawName)) continue
    names.add(rawName)
    const path = entryPath(e)
    if (layer.parents.has(e.op === Op.Whiteout ? (e.dir === '' ? rawName : `${e.dir}/${rawName}`) : path)) continue
    const size = e.op === Op.Whiteout ? (whiteoutSize.get(path) ?? 0) : e.node!.size
    // A whiteout's key is also the key of an entry of the same name in this layer.
    if (top) dive.visitTop(path, size, whiteoutSize.has(path))
    else dive.visit(path, size)
  }
}
