/**
 * glob(3) over an image's merged tree: `*`, `?` and `[...]` in any component, matched with
 * minimatch one component at a time (a pattern never crosses a `/`), names starting with a dot
 * only when the pattern's component does, results sorted per directory as glob(3) returns them.
 * ld.so.conf `include` lines and program configs (nginx, haproxy, lighttpd, apache) use it.
 */
import { Minimatch } from 'minimatch'
import type { RootFs } from './rootfs.js'

const MAGIC = /[*?[]/

/** The paths in `rootfs` that match the absolute `pattern`; at most `limit` of them. */
export function globInRoot(rootfs: RootFs, pattern: string, limit = Number.POSITIVE_INFINITY): string[] {
  let paths = ['/']
  for (const part of pattern.split('/').filter(Boolean)) {
    const next: string[] = []
    for (const base of paths) {
      if (!MAGIC.test(part)) {
        const p = base === '/' ? `/${part}` : `${base}/${part}`
        if (rootfs.lstat(p)) next.push(p)
        continue
      }
      // Compiled once per component, not once per name as minimatch(name, part) does (and only
      // when there is a name: an over-long pattern throws where it threw before).
      let matcher: Minimatch | undefined
      for (const name of rootfs.readdir(base).slice().sort()) {
        if ((matcher ??= new Minimatch(part, { dot: part.startsWith('.') })).match(name)) next.push(base === '/' ? `/${name}` : `${base}/${name}`)
      }
    }
    paths = next
    if (paths.length > limit) break
  }
  return paths.slice(0, limit)
}
