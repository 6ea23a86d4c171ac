/**
 * RootFs.readFile with a small cache: the same program file is read for its head, its ELF facts,
 * its Go build info and its strings. Only the most recent few files are kept. open() gives random
 * access instead: small files from the same cache, big ones (a 900 MB program) opened by ranges
 * once (a temp copy from the layer) and kept open until release().
 */
import { bufferSource, type ByteSource } from '../core/byte-source.js'
import type { OpenedFile, RootFs } from '../layers/rootfs.js'

/** Bytes of file contents kept between reads (the closures of real programs are 5 to 80 MB). */
const READ_CACHE_BYTES = 96 * 1024 * 1024
/** Entries kept whatever their size (the last few reads are the likeliest to come again). */
const READ_CACHE_MIN_ENTRIES = 6

/** Files up to this size are read whole for open(); bigger ones are read by ranges. */
const IN_MEMORY_MAX = 64 * 1024 * 1024

/** The RootFs inspection reads through. */
export interface InspectFs extends RootFs {
  /** Random access to a regular file (follows links): in memory when small, by ranges when big. */
  open(path: string): Promise<ByteSource>
  /** Closes what open() opened by ranges (and removes the temp copies). */
  release(): Promise<void>
}

/** The same RootFs whose readFile remembers recent contents by real path (LRU, bounded in bytes). */
export function withReadCache(rootfs: RootFs): InspectFs {
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
  const opened = new Map<string, Promise<OpenedFile>>()
  const open = async (path: string): Promise<ByteSource> => {
    const real = rootfs.realpath(path)?.path ?? path
    const size = rootfs.stat(real)?.size ?? 0
    if (size <= IN_MEMORY_MAX || !rootfs.openFile) return bufferSource(await readFile(real))
    let p = opened.get(real)
    if (!p) {
      p = rootfs.openFile(real)
      opened.set(real, p)
      p.catch(() => opened.delete(real))
    }
    return p
  }
  const release = async (): Promise<void> => {
    const all = [...opened.values()]
    opened.clear()
    await Promise.all(all.map((p) => p.then((f) => f.close(), () => {})))
  }
  return {
    open,
    release,
    lstat: (p) => rootfs.lstat(p),
    stat: (p) => rootfs.stat(p),
    realpath: (p) => rootfs.realpath(p),
    whyMissing: (p) => rootfs.whyMissing?.(p) ?? 'missing',
    readdir: (p) => rootfs.readdir(p),
    entries: () => rootfs.entries(),
    readFile,
    ...(rootfs.head ? { head: (p: string) => rootfs.head!(p) } : {}),
    ...(rootfs.openFile ? { openFile: (p: string) => rootfs.openFile!(p) } : {}),
  }
}
