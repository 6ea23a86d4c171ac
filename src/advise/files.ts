/**
 * What a COPY of one path from the source stage brings along, read from the image's filesystem:
 * its kind and bytes, and the symlinks inside a copied tree whose targets lie outside it (they
 * would dangle in the final image).
 *
 * COPY follows a symlink named as a source (BuildKit's dockerfile2llb copies with FollowSymlinks;
 * buildah does the same, checked with buildah 1.28): the link's name receives the target's
 * content. Symlinks *inside* a copied directory are kept as links.
 */
import { posix } from 'node:path'
import type { RootFs } from '../layers/rootfs.js'

export interface PathFacts {
  type: 'file' | 'dir'
  /** Regular-file bytes (a tree's total, hard links counted once); undefined when unknown. */
  bytes?: number
  /** Symlinks inside a copied tree whose target is outside it: [link, resolved target]. */
  outsideLinks: [string, string][]
}

/** Bounds so a hostile or huge tree cannot make advice slow. */
const MAX_ENTRIES = 200_000

export function isInside(path: string, dir: string): boolean {
  return dir === '/' ? path.startsWith('/') : path === dir || path.startsWith(dir + '/')
}

/**
 * Facts already taken, per filesystem and path: ranking plans a dozen bases and each plan copies
 * the same trees (a Python standard library is thousands of entries), and a plan asks again for
 * every copied directory when it closes symlinks. An analysis never changes its filesystem.
 */
const taken = new WeakMap<RootFs, Map<string, Readonly<PathFacts> | undefined>>()

/** Facts about one path; undefined when it does not exist (or is a dangling link). Frozen: shared by every caller. */
export function pathFacts(fs: RootFs, path: string): Readonly<PathFacts> | undefined {
  let byPath = taken.get(fs)
  if (!byPath) taken.set(fs, (byPath = new Map()))
  if (byPath.has(path)) return byPath.get(path)
  const facts = walkFacts(fs, path)
  if (facts) Object.freeze(Object.freeze(facts).outsideLinks)
  byPath.set(path, facts)
  return facts
}

function walkFacts(fs: RootFs, path: string): PathFacts | undefined {
  const st = fs.stat(path)
  if (!st) return undefined
  if (st.type !== 'dir') return { type: 'file', bytes: st.size, outsideLinks: [] }
  const real = fs.realpath(path)?.path ?? path
  let bytes = 0
  let seen = 0
  const hardlinks = new Set<string>()
  const outsideLinks: [string, string][] = []
  const stack = [real]
  while (stack.length) {
    const dir = stack.pop()!
    for (const name of fs.readdir(dir)) {
      if (++seen > MAX_ENTRIES) return { type: 'dir', outsideLinks }
      const p = dir === '/' ? `/${name}` : `${dir}/${name}`
      const info = fs.lstat(p)
      if (!info) continue
      if (info.type === 'dir') stack.push(p)
      else if (info.type === 'file') bytes += info.size
      else if (info.type === 'hardlink') {
        const to = info.hardlinkTo ?? p
        if (!hardlinks.has(to) && !isInside(to, real)) bytes += fs.stat(p)?.size ?? 0
        hardlinks.add(to)
      } else if (info.type === 'symlink') {
        const target = fs.realpath(p)?.path
        if (target && !isInside(target, real)) outsideLinks.push([(path === '/' ? '' : path) + p.slice(real === '/' ? 0 : real.length), target])
      }
    }
  }
  return { type: 'dir', bytes, outsideLinks }
}

/** The parent directories' symlinks resolved, the last component kept: where COPY writes it in a
 * base whose directories are real ("/lib/x.so" in a merged-/usr image is "/usr/lib/x.so"). */
export function canonicalParent(fs: RootFs | undefined, path: string): string {
  if (!fs) return path
  const dir = posix.dirname(path)
  const real = fs.realpath(dir)?.path ?? dir
  return posix.join(real, posix.basename(path))
}
