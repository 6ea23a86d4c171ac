/**
 * Path lookup in the merged tree with symlinks resolved the way the kernel resolves them inside a
 * chroot: an absolute target restarts at the image root, '..' never climbs above it, at most 40
 * links are followed (Linux's MAXSYMLINKS). Nothing here can reach the host.
 */
import { splitPath } from './paths.js'
import { Kind, type Node } from './tree.js'

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

/** `followFinal` false: the last component is returned as is (lstat); intermediate links are always followed. */
export function resolvePath(root: Node, path: string, followFinal: boolean): Resolved | undefined {
  const r = resolvePathOrWhy(root, path, followFinal)
  return 'failure' in r ? undefined : r
}

/** As resolvePath, but says why when the path leads nowhere. */
export function resolvePathOrWhy(root: Node, path: string, followFinal: boolean): Resolved | Unresolved {
  const missing: Unresolved = { failure: 'missing' }
  let parts = splitPath(path)
  let i = 0
  // The physical ancestors of the current directory, root first, so '..' after a followed link
  // goes to the directory's real parent, as in the kernel.
  const dirs: Node[] = [root]
  const chain: string[] = []
  let hops = 0
  while (i < parts.length) {
    const name = parts[i++]
    const cur = dirs[dirs.length - 1]
    if (name === '..') {
      if (dirs.length > 1) dirs.pop()
      continue
    }
    const next = cur.children?.get(name)
    if (!next) return missing
    if (next.kind === Kind.Symlink && (i < parts.length || followFinal)) {
      if (++hops > MAX_SYMLINK_HOPS) return { failure: 'loop', at: `/${joinNames(dirs, name)}` }
      chain.push(`/${joinNames(dirs, name)}`)
      const target = typeof next.link === 'string' ? next.link : ''
      if (target === '') return missing
      if (target.startsWith('/')) dirs.length = 1
      parts = [...splitPath(target), ...parts.slice(i)]
      i = 0
      continue
    }
    if (i < parts.length && !next.children) return missing // a file in the middle of a path
    dirs.push(next)
  }
  const node = dirs[dirs.length - 1]
  dirs.pop()
  return { node, path: node === root ? '' : joinNames(dirs, node.name), chain }
}

function joinNames(dirs: Node[], last: string): string {
  const names: string[] = []
  for (let d = 1; d < dirs.length; d++) names.push(dirs[d].name)
  names.push(last)
  return names.join('/')
}
