/**
 * Where a tar entry's parent directory really is, the way runtimes extract layers (umoci and
 * containerd resolve the parent with securejoin semantics): every symlink on the way is followed
 * INSIDE the image root (an absolute target restarts at the root, '..' stops at the root), so
 * layer 1's `x -> /app` and layer 2's `x/hello` put the file at /app/hello. Missing directories
 * are created (MkdirAll), and at most MAX_SYMLINK_HOPS links are followed, as in the kernel.
 */
import { splitPath } from './paths.js'
import { MAX_SYMLINK_HOPS } from './resolve.js'
import { Flag, Kind, Node, attach } from './tree.js'

export type ParentDir =
  | { ok: true; dir: Node; throughLink: boolean }
  | { ok: false; reason: 'loop' | 'missing' }

/**
 * The directory that `path` (an index path) names after resolving symlinks inside the root.
 * `create`: missing directories are added (flagged Implicit) and a non-directory in the way is
 * handed to `replaceWithDir`, which must put a directory in its place and return it; without
 * `create` a missing or non-directory component gives 'missing'.
 */
export function resolveParentDir(
  root: Node,
  path: string,
  opts: { create: false } | { create: true; layer: number; replaceWithDir: (blocker: Node) => Node },
): ParentDir {
  if (path === '') return { ok: true, dir: root, throughLink: false }
  let parts = splitPath(path)
  let i = 0
  // Physical ancestors of the current directory, so '..' after a followed link climbs the real tree.
  const dirs: Node[] = [root]
  let hops = 0
  while (i < parts.length) {
    const name = parts[i++]
    const cur = dirs[dirs.length - 1]
    if (name === '..') {
      if (dirs.length > 1) dirs.pop()
      continue
    }
    let next = cur.children!.get(name)
    if (next?.kind === Kind.Symlink) {
      if (++hops > MAX_SYMLINK_HOPS) return { ok: false, reason: 'loop' }
      const target = typeof next.link === 'string' ? next.link : ''
      if (target.startsWith('/')) dirs.length = 1
      parts = [...splitPath(target), ...parts.slice(i)]
      i = 0
      continue
    }
    if (next && !next.isDir) {
      if (!opts.create) return { ok: false, reason: 'missing' }
      next = opts.replaceWithDir(next)
    }
    if (!next) {
      if (!opts.create) return { ok: false, reason: 'missing' }
      next = new Node(name, Kind.Dir, 0o755, 0, 0, 0, opts.layer, -1)
      next.flags |= Flag.Implicit
      attach(cur, next)
    }
    dirs.push(next)
  }
  return { ok: true, dir: dirs[dirs.length - 1], throughLink: hops > 0 }
}
