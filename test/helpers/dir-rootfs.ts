/**
 * A RootFs over a real directory, for tests: the oracle tests root it at '/' (the host is a real
 * Debian rootfs) or at an unpacked fixture image. Every path is resolved INSIDE the root: absolute
 * symlink targets restart at the root and '..' stops at it, exactly as chroot(2) would see them, so
 * nothing outside `root` is ever read.
 *
 * Several directories stack like overlayfs layers (first = top): an entry comes from the topmost
 * directory that has it, and directory listings merge. Tests put their scripts in a small upper
 * directory over a read-only fixture root.
 */
import { lstatSync, readdirSync, readlinkSync, readFileSync, type Stats } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { posix } from 'node:path'
import type { FileInfo, FileType, RootFs } from '../../src/layers/rootfs.js'

const MAX_HOPS = 40 // Linux's MAXSYMLINKS

export class DirRootFs implements RootFs {
  readonly roots: string[]

  constructor(root: string | string[]) {
    this.roots = (Array.isArray(root) ? root : [root]).map((r) => (r === '/' ? '' : r.replace(/\/+$/, '')))
  }

  get root(): string {
    return this.roots[0]!
  }

  lstat(path: string): FileInfo | undefined {
    const p = normalise(path)
    if (p === '/') return this.info('/')
    const parent = this.resolve(posix.dirname(p), true)
    if (parent === undefined) return undefined
    const info = this.info(posix.join(parent.path, posix.basename(p)))
    return info && { ...info, path: p }
  }

  stat(path: string): FileInfo | undefined {
    const r = this.resolve(normalise(path), true)
    if (!r) return undefined
    const info = this.info(r.path)
    return info && { ...info, path: normalise(path) }
  }

  realpath(path: string): { path: string; chain: string[] } | undefined {
    const r = this.resolve(normalise(path), true)
    return r && this.info(r.path) ? r : undefined
  }

  readdir(path: string): string[] {
    const r = this.resolve(normalise(path), true)
    if (!r) return []
    return this.list(r.path)
  }

  /** Names under a directory, merged over the layers down to the first one where it is not a directory. */
  private list(dir: string): string[] {
    const names = new Set<string>()
    for (const root of this.roots) {
      let st: Stats
      try {
        st = lstatSync(root + dir)
      } catch {
        continue
      }
      if (!st.isDirectory()) break
      try {
        for (const n of readdirSync(root + dir)) names.add(n)
      } catch {
        // unreadable: nothing from this layer
      }
    }
    return [...names].sort()
  }

  async readFile(path: string): Promise<Buffer> {
    const r = this.resolve(normalise(path), true)
    if (!r) throw Object.assign(new Error(`${path}: no such file in the root`), { code: 'ENOENT' })
    return readFile(this.host(r.path))
  }

  /** Sync variant used by tests that build expectations. */
  readFileSync(path: string): Buffer {
    const r = this.resolve(normalise(path), true)
    if (!r) throw Object.assign(new Error(`${path}: no such file in the root`), { code: 'ENOENT' })
    return readFileSync(this.host(r.path))
  }

  *entries(): Iterable<FileInfo> {
    const walk = function* (this: DirRootFs, dir: string): Generator<FileInfo> {
      for (const n of this.list(dir)) {
        const p = dir === '/' ? `/${n}` : `${dir}/${n}`
        const info = this.info(p)
        if (!info) continue
        yield info
        if (info.type === 'dir') yield* walk.call(this, p)
      }
    }
    yield* walk.call(this, '/')
  }

  /** The host path of the topmost layer entry for `p` (no symlink following). */
  private host(p: string): string {
    for (const root of this.roots) {
      try {
        lstatSync(root + p)
        return root + p
      } catch {
        continue
      }
    }
    return this.roots[0] + p
  }

  private info(p: string): FileInfo | undefined {
    let st: Stats | undefined
    for (const root of this.roots) {
      try {
        st = lstatSync(root + p)
        break
      } catch {
        continue
      }
    }
    if (!st) return undefined
    const info: FileInfo = { path: p, type: fileType(st), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: st.isFile() ? st.size : 0, layer: 0 }
    if (st.isSymbolicLink()) {
      try {
        info.linkTarget = readlinkSync(this.host(p))
      } catch {
        return undefined
      }
    }
    return info
  }

  /**
   * Walks `path` component by component, following symlinks inside the root. Returns the real
   * path and the links crossed, or undefined when a component is missing or the links loop.
   */
  private resolve(path: string, followLast: boolean): { path: string; chain: string[] } | undefined {
    const chain: string[] = []
    let hops = 0
    let todo = path.split('/').filter(Boolean)
    let cur = '/'
    while (todo.length > 0) {
      const part = todo.shift()!
      if (part === '.') continue
      if (part === '..') {
        cur = posix.dirname(cur)
        continue
      }
      const next = cur === '/' ? `/${part}` : `${cur}/${part}`
      const info = this.info(next)
      if (!info) return undefined
      if (info.type === 'symlink' && (followLast || todo.length > 0)) {
        if (++hops > MAX_HOPS) return undefined
        chain.push(next)
        const target = info.linkTarget ?? ''
        todo = [...target.split('/').filter(Boolean), ...todo]
        if (target.startsWith('/')) cur = '/'
        continue
      }
      if (todo.length > 0 && info.type !== 'dir') return undefined
      cur = next
    }
    return { path: cur, chain }
  }
}

function normalise(p: string): string {
  const n = posix.normalize('/' + p)
  return n.length > 1 ? n.replace(/\/+$/, '') : '/'
}

function fileType(st: Stats): FileType {
  if (st.isFile()) return 'file'
  if (st.isDirectory()) return 'dir'
  if (st.isSymbolicLink()) return 'symlink'
  if (st.isCharacterDevice()) return 'char'
  if (st.isBlockDevice()) return 'block'
  if (st.isFIFO()) return 'fifo'
  return 'other'
}
