/**
 * An image's merged root filesystem written to a directory, so `slim verify` can run the program
 * in it. Each layer is streamed once (its verified uncompressed stream through the one tar walker)
 * and its entries are applied in order, as a runtime extracts layers: whiteouts and opaque
 * directories remove what lower layers put there, hard links and symlinks are recreated (symlinks
 * as-is, never followed while writing), a parent directory is resolved INSIDE the root the way
 * src/layers/parent-dir.ts describes (a symlink on the way is followed with the root as "/"), and
 * nothing lands outside the root. Device nodes and FIFOs are skipped with a note, setuid/setgid
 * bits are dropped, and every file belongs to the user running slim (the sandbox maps that user to
 * the image's USER, so ownership inside the image does not matter for a probe run).
 *
 * All writes are synchronous inside the walker's entry and body callbacks: the order of operations
 * is the order of the tar, and bytes are charged to the temp budget as they are written.
 */
import { tmpdir } from 'node:os'
import { chmodSync, closeSync, constants, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeSync, type Stats } from 'node:fs'
import { join } from 'node:path'
import type { GuardEntry } from '../layers/tar-guard.js'
import { SlimError } from '../core/errors.js'
import { trackTemp, type TempHandle } from '../core/temp.js'
import type { Image } from '../image/types.js'
import { MAX_SYMLINK_HOPS } from '../layers/resolve.js'
import { walkTar, type BodySink } from '../layers/tar-walk.js'

export interface UnpackResult {
  /** Notes for the user (skipped device nodes, escape attempts), grouped, at most a few each. */
  notes: string[]
  files: number
  bytes: number
}

export interface UnpackOptions {
  /** The temp handle of `root`: file bytes are charged to it against `maxBytes`. */
  handle?: TempHandle
  maxBytes?: number
}

/** Splits a tar path into clean components; undefined when it climbs out with '..'. */
export function tarPathParts(path: string): string[] | undefined {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.')
  if (parts.some((p) => p === '..')) return undefined
  return parts
}

/**
 * A directory applying layers to `root`. Paths handed around are host paths under `root` whose
 * every directory component is a real directory (no symlink), so an open with O_NOFOLLOW on the
 * last component cannot leave the root.
 */
export class RootWriter {
  private readonly notes = new Map<string, string[]>()
  private readonly dirModes = new Map<string, number>()
  /** Host paths created by the current layer (an opaque marker keeps those). */
  private layerPaths = new Set<string>()
  files = 0
  bytes = 0

  constructor(
    readonly root: string,
    private readonly opts: UnpackOptions = {},
  ) {}

  note(kind: string, path: string): void {
    const list = this.notes.get(kind) ?? []
    list.push(path)
    this.notes.set(kind, list)
  }

  noteLines(): string[] {
    return [...this.notes].map(([kind, paths]) => `${kind}: ${paths.slice(0, 3).join(', ')}${paths.length > 3 ? ` and ${paths.length - 3} more` : ''}`)
  }

  startLayer(): void {
    this.layerPaths = new Set()
  }

  /**
   * The real directory that `parts` names inside the root, creating missing directories and
   * replacing a non-directory in the way (as runtimes do); symlinks are followed with the root as
   * "/" and '..' stopping at the root. Undefined on a symlink loop. `create` false: nothing is
   * changed, a missing component gives undefined, and the last component may be a file (every
   * symlink, the last one too, followed inside the root).
   */
  resolveDir(parts: string[], create = true): string | undefined {
    let todo = [...parts]
    const stack: string[] = []
    let hops = 0
    while (todo.length > 0) {
      const name = todo.shift()!
      if (name === '.' || name === '') continue
      if (name === '..') {
        stack.pop()
        continue
      }
      const host = join(this.root, ...stack, name)
      const st = lstatOrUndefined(host)
      if (st?.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) return undefined
        const target = readlinkSync(host)
        if (target.startsWith('/')) stack.length = 0
        todo = [...target.split('/'), ...todo]
        continue
      }
      if (!create) {
        // Read-only lookup (files of the unpacked root): the last component may be a file.
        if (!st || (!st.isDirectory() && todo.length > 0)) return undefined
        stack.push(name)
        continue
      }
      if (st && !st.isDirectory()) rmSync(host, { force: true })
      if (!st || !st.isDirectory()) {
        mkdirSync(host, { mode: 0o755 })
        this.layerPaths.add(host)
      }
      stack.push(name)
    }
    return join(this.root, ...stack)
  }

  /** Host path of an entry's own name (its parent resolved), or undefined with a note. */
  private place(path: string): { dir: string; name: string; host: string } | undefined {
    const parts = tarPathParts(path)
    if (!parts) {
      this.note('skipped entries escaping the root', path)
      return undefined
    }
    if (parts.length === 0) return undefined
    const dir = this.resolveDir(parts.slice(0, -1))
    if (dir === undefined) {
      this.note('skipped entries under a symlink loop', path)
      return undefined
    }
    const name = parts[parts.length - 1]
    return { dir, name, host: join(dir, name) }
  }

  /** Applies one entry; returns where a regular file's body goes (null for every other entry). */
  apply(info: GuardEntry): BodySink | null {
    // Name, link and mode as the layer index read them (slim's header decoder), so the unpacked
    // root holds the files the advice was computed from.
    const path = info.path
    const parts = tarPathParts(path)
    const base = parts?.[parts.length - 1] ?? ''
    if (parts && base.startsWith('.wh.')) {
      const at = this.place(path)
      if (!at) return null
      if (base === '.wh..wh..opq') this.emptyLowerChildren(at.dir)
      else rmSync(join(at.dir, base.slice('.wh.'.length)), { recursive: true, force: true })
      return null
    }
    const at = this.place(path)
    if (!at) return null
    const mode = (info.mode ?? 0o644) & 0o1777 // setuid/setgid dropped
    let body: BodySink | null = null
    switch (info.type) {
      case 'Directory': {
        const st = lstatOrUndefined(at.host)
        if (st && !st.isDirectory()) rmSync(at.host, { force: true })
        if (!st?.isDirectory()) mkdirSync(at.host, { mode: 0o755 })
        this.dirModes.set(at.host, mode)
        break
      }
      case 'File':
      case 'OldFile':
      case 'ContiguousFile':
        body = this.writeFile(at.host, mode)
        break
      case 'SymbolicLink':
        this.clear(at.host)
        symlinkSync(info.linkpath, at.host)
        break
      case 'Link': {
        const target = tarPathParts(info.linkpath)
        const from = target && target.length > 0 ? this.place(info.linkpath) : undefined
        const st = from ? lstatOrUndefined(from.host) : undefined
        if (!from || !st || st.isDirectory()) {
          this.note('skipped hard links to a missing or outside target', path)
          break
        }
        this.clear(at.host)
        linkSync(from.host, at.host)
        break
      }
      case 'CharacterDevice':
      case 'BlockDevice':
      case 'FIFO':
        this.note('skipped device nodes and FIFOs (the sandbox provides /dev)', path)
        break
    }
    this.layerPaths.add(at.host)
    return body
  }

  private clear(host: string): void {
    const st = lstatOrUndefined(host)
    if (st) rmSync(host, { recursive: st.isDirectory(), force: true })
  }

  /** A regular file's body, written as it streams by; a failure (the temp budget) ends the walk. */
  private writeFile(host: string, mode: number): BodySink {
    this.clear(host)
    const fd = openSync(host, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    this.files++
    return {
      data: (chunk) => {
        this.opts.handle?.charge(chunk.length, this.opts.maxBytes ?? Number.MAX_SAFE_INTEGER, 'unpacking the image for verify')
        writeSync(fd, chunk)
        this.bytes += chunk.length
      },
      end: () => {
        closeSync(fd)
        chmodSync(host, mode)
      },
      // The walk failed inside this body (a cut layer, the temp budget): the unpack fails, the fd must not stay open.
      abort: () => closeSync(fd),
    }
  }

  /** An opaque marker: what lower layers put in `dir` goes; this layer's entries stay. */
  private emptyLowerChildren(dir: string): void {
    for (const name of readdirSync(dir)) {
      const host = join(dir, name)
      if (!this.layerPaths.has(host)) rmSync(host, { recursive: true, force: true })
    }
  }

  /** Directory modes last (a read-only directory must not stop later entries); never setuid. */
  finish(): void {
    const dirs = [...this.dirModes].sort((a, b) => b[0].length - a[0].length)
    for (const [host, mode] of dirs) {
      if (lstatOrUndefined(host)?.isDirectory()) chmodSync(host, mode | 0o700)
    }
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path)
  } catch {
    return undefined
  }
}

/** Writes the merged root filesystem of `image` into the existing empty directory `root`. */
export async function unpackImage(image: Image, root: string, opts: UnpackOptions = {}): Promise<UnpackResult> {
  const w = new RootWriter(root, opts)
  for (const layer of image.layers) {
    w.startLayer()
    const what = `layer ${layer.index + 1} (${layer.digest.slice(0, 19)}…)`
    try {
      await walkTar(await layer.uncompressed(), what, { onEntry: (info) => w.apply(info) })
    } catch (e) {
      if (e instanceof SlimError) throw e
      throw new SlimError('format', `${image.reference}: unpacking ${what} failed: ${(e as Error).message}`)
    }
  }
  w.finish()
  return { notes: w.noteLines(), files: w.files, bytes: w.bytes }
}

/** Unpacks `image` into a fresh registered temp directory (slim-LABEL-*); returns it and the unpack notes (labelled). */
export async function unpackTemp(image: Image, label: string, maxBytes: number): Promise<{ root: string; notes: string[]; remove: () => Promise<void> }> {
  const root = mkdtempSync(join(tmpdir(), `slim-${label}-`))
  chmodSync(root, 0o755) // the image's "/" (mkdtemp's 0700 would lock a non-root USER out under chroot)
  const handle = trackTemp(root, { dir: true })
  try {
    const r = await unpackImage(image, root, { handle, maxBytes })
    return { root, notes: r.notes.map((n) => `${label.replace(/^verify-/, '')}: ${n}`), remove: () => handle.remove() }
  } catch (e) {
    await handle.remove()
    throw e
  }
}
