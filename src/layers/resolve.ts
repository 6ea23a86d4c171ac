/**
 * Path lookup in the merged tree with symlinks resolved the way the kernel resolves them inside a
 * chroot: an absolute target restarts at the image root, '..' never climbs above it, at most 40
 * links are followed (Linux's MAXSYMLINKS). Nothing here can reach the host. One walker serves the
 * read-only lookups below and the layer merge, which creates missing directories (parent-dir.ts).
 */
import { splitPath } from './paths.js'
import { Kind, NO_NODE, type Node, type Tree } from './tree.js'

export const MAX_SYMLINK_HOPS = 40

export interface Resolved {
  node: Node
  /** Index path of the node (no leading slash). */
  path: string
  /** Absolute paths of the symlinks followed, in order. */
  chain: string[]
}

/** Why a path leads nowhere: a symlink loop (ELOOP), or a missing entry (ENOENT, ENOTDIR). */
export interface Unresolved {
  failure: 'loop' | 'missing'
  /** The absolute path of the link at which the loop was given up (loops only). */
  at?: string
}

/** How a walk treats the last component, empty link targets and what it finds missing. */
export interface WalkRules {
  /** Follow a symlink in the last component (stat) or stop at it (lstat); earlier links are always followed. */
  followFinal: boolean
  /** The last component must be a directory too (the walk looks for a directory). */
  finalIsDir: boolean
  /** A symlink with an empty target (the tar reader drops those, so only defensively): a missing
   * entry (the kernel's ENOENT), or the directory the link is in. */
  emptyTarget: 'missing' | 'here'
  /** The directory to enter where the path needs one and has none (`found` is missing or not a
   * directory); without it the path is missing. */
  enter?: (dir: Node, name: string, found: Node | undefined) => Node
}

export interface Walked {
  /** The physical ancestors of where the walk ended, root first, and that node last. */
  dirs: Node[]
  /** Absolute paths of the symlinks followed, in order. */
  chain: string[]
}

/** Walks `path` (an index path) from `root`, following symlinks inside the root. */
export function walkPath(tree: Tree, path: string, rules: WalkRules): Walked | Unresolved {
  let parts = splitPath(path)
  let i = 0
  // The physical ancestors of the current directory, root first, so '..' after a followed link
  // goes to the directory's real parent, as in the kernel.
  const dirs: Node[] = [tree.root]
  const chain: string[] = []
  while (i < parts.length) {
    const name = parts[i++]
    if (name === '..') {
      if (dirs.length > 1) dirs.pop()
      continue
    }
    const cur = dirs[dirs.length - 1]
    const last = i === parts.length
    const found = tree.isDir(cur) ? tree.child(cur, name) : NO_NODE
    let next = found === NO_NODE ? undefined : found
    if (next !== undefined && tree.kind(next) === Kind.Symlink && (!last || rules.followFinal)) {
      const at = `/${joinNames(tree, dirs, name)}`
      if (chain.length >= MAX_SYMLINK_HOPS) return { failure: 'loop', at }
      chain.push(at)
      const target = tree.symlinkTarget(next)
      if (target === '' && rules.emptyTarget === 'missing') return { failure: 'missing' }
      if (target.startsWith('/')) dirs.length = 1
      parts = [...splitPath(target), ...parts.slice(i)]
      i = 0
      continue
    }
    if (next === undefined || (!tree.isDir(next) && (!last || rules.finalIsDir))) {
      if (!rules.enter) return { failure: 'missing' }
      next = rules.enter(cur, name, next)
    }
    dirs.push(next)
  }
  return { dirs, chain }
}

/** `followFinal` false: the last component is returned as is (lstat); intermediate links are always followed. */
export function resolvePath(tree: Tree, path: string, followFinal: boolean): Resolved | undefined {
  const r = resolvePathOrWhy(tree, path, followFinal)
  return 'failure' in r ? undefined : r
}

/** As resolvePath, but says why when the path leads nowhere. */
export function resolvePathOrWhy(tree: Tree, path: string, followFinal: boolean): Resolved | Unresolved {
  const w = walkPath(tree, path, { followFinal, finalIsDir: false, emptyTarget: 'missing' })
  if ('failure' in w) return w
  const node = w.dirs.pop()!
  return { node, path: node === tree.root ? '' : joinNames(tree, w.dirs, tree.name(node)), chain: w.chain }
}

function joinNames(tree: Tree, dirs: Node[], last: string): string {
  const names: string[] = []
  for (let d = 1; d < dirs.length; d++) names.push(tree.name(dirs[d]!))
  names.push(last)
  return names.join('/')
}
