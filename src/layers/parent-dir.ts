/**
 * Where a tar entry's parent directory really is, the way runtimes extract layers (umoci and
 * containerd resolve the parent with securejoin semantics): every symlink on the way is followed
 * INSIDE the image root (an absolute target restarts at the root, '..' stops at the root), so
 * layer 1's `x -> /app` and layer 2's `x/hello` put the file at /app/hello. Missing directories
 * are created (MkdirAll), and at most MAX_SYMLINK_HOPS links are followed, as in the kernel; the
 * walk is resolve.ts's.
 */
import { walkPath } from './resolve.js'
import { Flag, Kind, type Node, type Tree } from './tree.js'

export type ParentDir =
  | { ok: true; dir: Node; throughLink: boolean }
  | { ok: false; reason: 'loop' | 'missing' }

/**
 * The directory that `path` (an index path) names after resolving symlinks inside the root.
 * `create`: missing directories are added (flagged Implicit) and a non-directory in the way is
 * handed to `replaceWithDir`, which must put a directory in its place and return it; without
 * `create` a missing or non-directory component gives 'missing'. A link with an empty target
 * stands for the directory it is in.
 */
export function resolveParentDir(
  tree: Tree,
  path: string,
  opts: { create: false } | { create: true; layer: number; replaceWithDir: (blocker: Node) => Node },
): ParentDir {
  const enter = opts.create
    ? (dir: Node, name: string, found: Node | undefined): Node => {
        if (found) return opts.replaceWithDir(found)
        const made = tree.add(name, Kind.Dir, 0o755, 0, 0, 0, opts.layer, -1)
        tree.setFlags(made, Flag.Implicit)
        tree.attach(dir, made)
        return made
      }
    : undefined
  const w = walkPath(tree, path, { followFinal: true, finalIsDir: true, emptyTarget: 'here', enter })
  if ('failure' in w) return { ok: false, reason: w.failure }
  return { ok: true, dir: w.dirs[w.dirs.length - 1], throughLink: w.chain.length > 0 }
}
