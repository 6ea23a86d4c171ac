/**
 * The files of the slim image's one new layer, as plain data: the advice's copy plan applied to the
 * source image's filesystem, with COPY's meaning (a file copy follows a symlink source; a directory
 * copy keeps the symlinks and hard links inside it; new files are owned by 0:0 unless the plan
 * says --chown; --chmod sets the mode), placed over the base so that a base's directory symlink
 * (/lib -> usr/lib) is followed instead of replaced, and existing base directories keep their
 * owner and mode.
 */
import { posix } from 'node:path'
import type { Copy, Plan } from '../advise/types.js'
import { SlimError } from '../core/errors.js'
import type { FileInfo, RootFs } from '../layers/rootfs.js'

export interface LayerEntry {
  /** Absolute path in the final image. */
  path: string
  type: 'file' | 'dir' | 'symlink' | 'link'
  mode: number
  uid: number
  gid: number
  /** Symlink target, or for 'link' the absolute path of the entry it is a hard link to. */
  target?: string
  /** For files: where to read the bytes in the source image... */
  source?: string
  /** ...or the bytes themselves (metadata the build writes)... */
  data?: Buffer
  /** ...or a file on the host the build made (a runtime linked by jlink in the sandbox). */
  hostPath?: string
  size: number
}

/** Bounds a directory copy (a plan that copies / would otherwise walk everything). */
const MAX_TREE_ENTRIES = 500_000

export interface EntryInput {
  plan: Plan
  source: RootFs
  /** The base's merged filesystem; undefined for scratch. */
  base?: RootFs
}

/**
 * Every entry of the new layer, parents before children, sorted by path components. `under` goes
 * in first (a linked Java runtime, which the plan's copies of conf/ and the trust store overlay);
 * `extra` last (metadata, accounts).
 */
export function layerEntries(input: EntryInput, extra: LayerEntry[] = [], under: LayerEntry[] = []): LayerEntry[] {
  const out = new Map<string, LayerEntry>()
  const place = (p: string): string => placeInBase(input.base, p)
  const copies = orderCopies(input.plan.copies)
  // Symlinks named by the plan whose one-hop target is copied too stay links (COPY would duplicate the bytes).
  const copiedFiles = new Set(copies.filter((c) => c.type === 'file' && c.dest === c.source).map((c) => c.source))
  const firstOfInode = new Map<string, string>()

  const put = (e: LayerEntry): void => {
    e.path = place(e.path)
    addParents(out, input.base, e.path)
    out.set(e.path, e)
  }
  const file = (info: FileInfo, inode: string, src: string, dest: string, owner: Owner): LayerEntry => {
    const key = `${inode}\0${owner.uid}:${owner.gid}:${owner.mode ?? info.mode}`
    const first = firstOfInode.get(key)
    if (first && first !== dest) return { path: dest, type: 'link', target: first, mode: owner.mode ?? info.mode, uid: owner.uid, gid: owner.gid, size: 0 }
    firstOfInode.set(key, dest)
    return { path: dest, type: 'file', source: src, mode: owner.mode ?? info.mode, uid: owner.uid, gid: owner.gid, size: info.size }
  }

  for (const e of under) put({ ...e })
  for (const c of copies) {
    const owner = ownerOf(c)
    const l = input.source.lstat(c.source)
    if (!l) throw new SlimError('not-found', `${c.source}: the plan copies it, but the source image has no such path; re-run slim analyze`)
    if (c.type === 'file') {
      if (l.type === 'symlink' && c.dest === c.source) {
        const hop = oneHop(input.source, c.source, l.linkTarget ?? '')
        if (copiedFiles.has(hop) && hop !== c.source) {
          const target = posix.relative(posix.dirname(c.dest), hop) || '.'
          put({ path: c.dest, type: 'symlink', target, mode: 0o777, uid: owner.uid, gid: owner.gid, size: 0 })
          continue
        }
      }
      const info = input.source.stat(c.source)
      if (!info || (info.type !== 'file' && info.type !== 'hardlink')) {
        throw new SlimError('not-found', `${c.source}: the plan copies it as a file, but in the source image it is ${info ? `a ${info.type}` : 'a dangling link'}`)
      }
      put(file(info, info.hardlinkTo ?? input.source.realpath(c.source)?.path ?? c.source, c.source, c.dest, owner))
      continue
    }
    const root = input.source.realpath(c.source)?.path
    if (!root || input.source.stat(root)?.type !== 'dir') throw new SlimError('not-found', `${c.source}: the plan copies it as a directory, but it is not one in the source image`)
    let count = 0
    const walk = (dir: string, dest: string): void => {
      const d = input.source.lstat(dir)!
      put({ path: dest, type: 'dir', mode: owner.mode ?? d.mode, uid: owner.uid, gid: owner.gid, size: 0 })
      for (const name of input.source.readdir(dir).sort()) {
        if (++count > MAX_TREE_ENTRIES) throw new SlimError('limit', `${c.source}: more than ${MAX_TREE_ENTRIES} entries to copy; narrow the plan with --keep`)
        const p = posix.join(dir, name)
        const to = posix.join(dest, name)
        const e = input.source.lstat(p)
        if (!e) continue
        if (e.type === 'dir') walk(p, to)
        else if (e.type === 'symlink') put({ path: to, type: 'symlink', target: e.linkTarget ?? '', mode: 0o777, uid: owner.uid, gid: owner.gid, size: 0 })
        else if (e.type === 'file' || e.type === 'hardlink') {
          // A hard link shares its target's inode: its mode and size are the target's.
          const info = e.hardlinkTo ? (input.source.lstat(e.hardlinkTo) ?? e) : e
          put(file(info, e.hardlinkTo ?? p, p, to, owner))
        }
        // Devices and FIFOs are not copied: a container gets its own /dev.
      }
    }
    walk(root, c.dest)
  }
  for (const e of extra) put(e)
  return [...out.values()].sort((a, b) => comparePaths(a.path, b.path))
}

interface Owner {
  uid: number
  gid: number
  mode?: number
}

function ownerOf(c: Copy): Owner {
  const [uid, gid] = (c.chown ?? '0:0').split(':').map((n) => Number.parseInt(n, 10))
  if (!Number.isInteger(uid) || !Number.isInteger(gid ?? uid)) throw new SlimError('format', `${c.dest}: the plan's owner "${c.chown}" is not uid:gid`)
  const mode = c.chmod ? Number.parseInt(c.chmod, 8) : undefined
  if (mode !== undefined && !(mode >= 0 && mode <= 0o7777)) throw new SlimError('format', `${c.dest}: the plan's mode "${c.chmod}" is not octal`)
  return { uid, gid: gid ?? uid, mode }
}

/** The Dockerfile's order: plain copies first, then --chown/--chmod ones, which win where they overlap. */
function orderCopies(copies: Copy[]): Copy[] {
  return [...copies].sort((a, b) => Number(!!(a.chown || a.chmod)) - Number(!!(b.chown || b.chmod)) || comparePaths(a.dest, b.dest))
}

/** Where a symlink points after one hop, its directories resolved but its last name not followed. */
function oneHop(fs: RootFs, link: string, target: string): string {
  const p = posix.resolve(posix.dirname(link), target)
  const dir = fs.realpath(posix.dirname(p))?.path ?? posix.dirname(p)
  return posix.join(dir, posix.basename(p))
}

/** `path` with every directory symlink of the base in it followed (the layer must not replace them). */
export function placeInBase(base: RootFs | undefined, path: string): string {
  if (!base) return path
  const parts = path.split('/').filter(Boolean)
  let at = '/'
  for (let i = 0; i < parts.length; i++) {
    const next = posix.join(at, parts[i])
    const last = i === parts.length - 1
    if (!last && base.lstat(next)?.type === 'symlink' && base.stat(next)?.type === 'dir') at = base.realpath(next)!.path
    else at = next
  }
  return at
}

function addParents(out: Map<string, LayerEntry>, base: RootFs | undefined, path: string): void {
  for (let dir = posix.dirname(path); dir !== '/' && !out.has(dir); dir = posix.dirname(dir)) {
    const b = base?.lstat(dir)
    const keep = b?.type === 'dir' ? b : undefined
    out.set(dir, { path: dir, type: 'dir', mode: keep?.mode ?? 0o755, uid: keep?.uid ?? 0, gid: keep?.gid ?? 0, size: 0 })
  }
}

/** Path order by components, so a directory always precedes what it holds ("a" < "a/b" < "a-c"). */
export function comparePaths(a: string, b: string): number {
  const x = a.split('/')
  const y = b.split('/')
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1
  return x.length - y.length
}
