/**
 * RootFs.readFile with a small cache: the same program file is read for its head, its ELF facts,
 * its Go build info and its strings. Only the most recent few files are kept.
 */
import type { RootFs } from '../layers/rootfs.js'

/** Bytes of file contents kept between reads (the closures of real programs are 5 to 80 MB). */
const READ_CACHE_BYTES = 96 * 1024 * 1024
/** Entries kept whatever their size (the last few reads are the likeliest to come again). */
const READ_CACHE_MIN_ENTRIES = 6

/** The same RootFs whose readFile remembers recent contents by real path (LRU, bounded in bytes). */
export function withReadCache(rootfs: RootFs): RootFs {
  const cache = new Map<string, Promise<Buffer>>()
  const sizes = new Map<string, number>()
  let bytes = 0
  const evict = () => {
    while (cache.size > READ_CACHE_MIN_ENTRIES && bytes > READ_CACHE_BYTES) {
      const oldest = cache.keys().next().value!
      cache.delete(oldest)
      bytes -= sizes.get(oldest) ?? 0
      sizes.delete(oldest)
    }
  }
  const readFile = (path: string): Promise<Buffer> => {
    const real = rootfs.realpath(path)?.path ?? path
    const hit = cache.get(real)
    if (hit) {
      cache.delete(real)
      cache.set(real, hit)
      return hit
    }
    const p = rootfs.readFile(real)
    cache.set(real, p)
    p.then(
      (b) => {
        if (cache.get(real) !== p) return
        sizes.set(real, b.length)
        bytes += b.length
        evict()
      },
      () => cache.delete(real),
    )
    return p
  }
  return {
    lstat: (p) => rootfs.lstat(p),
    stat: (p) => rootfs.stat(p),
    realpath: (p) => rootfs.realpath(p),
    whyMissing: (p) => rootfs.whyMissing?.(p) ?? 'missing',
    readdir: (p) => rootfs.readdir(p),
    entries: () => rootfs.entries(),
    readFile,
    ...(rootfs.head ? { head: (p: string) => rootfs.head!(p) } : {}),
  }
}
