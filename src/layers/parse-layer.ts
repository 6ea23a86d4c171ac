/**
 * Reads one layer tar into a list of changes (adds, whiteouts, opaque directories) with compact
 * nodes, hashing every regular file on the way (the bytes flow anyway; duplicates need it). Layers
 * are parsed concurrently; merge.ts applies the lists in layer order.
 */
import { createHash, type Hash } from 'node:crypto'
import type { Readable } from 'node:stream'
import type { ReadEntry } from 'tar'
import { SlimError } from '../core/errors.js'
import { humanBytes } from '../core/format.js'
import { AUFS_META_PREFIX, OPAQUE_MARKER, WHITEOUT_PREFIX, baseName, cleanEntryPath, cleanLinkTarget, parentOf } from './paths.js'
import type { GuardEntry } from './tar-guard.js'
import { walkTar } from './tar-walk.js'
import { Flag, Kind, Node } from './tree.js'
import { WarningSet } from './warnings.js'

export const Op = { Add: 0, Whiteout: 1, Opaque: 2 } as const
export type Op = (typeof Op)[keyof typeof Op]

export interface ParsedEntry {
  /** Index path: the added path, the path a whiteout deletes, or the opaque directory. */
  path: string
  op: Op
  node: Node | null
  /** Hard links: the cleaned target path (undefined when it leaves the root). */
  linkPath?: string
}

export interface ParsedLayer {
  index: number
  entries: ParsedEntry[]
  /** Directories that have something below them in this layer's own tree (dive's "not a leaf"). */
  parents: Set<string>
  /** dive's layer size: sum of tar header sizes. */
  size: number
  entryCount: number
  tarBytes: number
  fileBytes: number
  /** Contents kept from this pass (facts files and the caller's capture list). */
  captured: Map<Node, Buffer>
  warnings: WarningSet
}

/** Shared across the layers of one image: the bound on expanded bytes. */
export interface ExpansionBudget {
  used: number
  max: number
}

export interface ParseLayerOptions {
  index: number
  what: string
  budget: ExpansionBudget
  capture: (path: string, size: number) => boolean
  /** Largest single file kept by `capture`. */
  captureMax: number
  /** sha256 every regular file (duplicate detection). */
  hash: boolean
  onBytes?: (total: number) => void
  signal?: AbortSignal
}

const TYPE_KIND: Record<string, Kind> = {
  File: Kind.File,
  OldFile: Kind.File,
  ContiguousFile: Kind.File,
  Link: Kind.Hardlink,
  SymbolicLink: Kind.Symlink,
  CharacterDevice: Kind.Char,
  BlockDevice: Kind.Block,
  Directory: Kind.Dir,
  GNUDumpDir: Kind.Dir,
  FIFO: Kind.Fifo,
}

export async function parseLayer(stream: Readable, opts: ParseLayerOptions): Promise<ParsedLayer> {
  const out: ParsedLayer = {
    index: opts.index,
    entries: [],
    parents: new Set(),
    size: 0,
    entryCount: 0,
    tarBytes: 0,
    fileBytes: 0,
    captured: new Map(),
    warnings: new WarningSet(),
  }
  const warn = out.warnings

  const addParents = (path: string): void => {
    for (let d = parentOf(path); d !== '' && !out.parents.has(d); d = parentOf(d)) out.parents.add(d)
  }

  /** Turns one tar entry into a change; returns the node when the caller should read its body. */
  const record = (rawPath: string, info: GuardEntry, kind: Kind, header: HeaderFields, ordinal: number): Node | null => {
    out.size += kind === Kind.Dir ? 0 : info.sparse ? (info.realSize ?? info.size) : info.size
    const clean = cleanEntryPath(rawPath)
    if (!clean.ok) {
      warn.add(`entries skipped: ${clean.reason}`, rawPath)
      return null
    }
    const path = clean.path
    if (path === '') return null // the root itself ("./", "/"): its metadata is not part of any path
    if (clean.note === 'absolute') warn.add('entries with absolute names, kept relative to the image root', rawPath)
    if (clean.note === 'dotdot') warn.add("entries with '..' in their names, folded inside the image root", rawPath)
    addParents(path)
    const base = baseName(path)
    if (base.startsWith(WHITEOUT_PREFIX)) {
      if (base === OPAQUE_MARKER) {
        out.entries.push({ path: parentOf(path), op: Op.Opaque, node: null })
      } else if (base.startsWith(AUFS_META_PREFIX)) {
        // aufs bookkeeping (.wh..wh.plnk and the like): not content, not a deletion.
      } else if (base === WHITEOUT_PREFIX) {
        warn.add('whiteout entries without a name, ignored', rawPath)
      } else {
        const dir = parentOf(path)
        const name = base.slice(WHITEOUT_PREFIX.length)
        out.entries.push({ path: dir === '' ? name : `${dir}/${name}`, op: Op.Whiteout, node: null })
      }
      return null
    }
    const node = new Node(base, kind, header.mode, header.uid, header.gid, kind === Kind.Dir ? 0 : info.size, opts.index, ordinal)
    const entry: ParsedEntry = { path, op: Op.Add, node }
    if (kind === Kind.Symlink) {
      node.link = header.linkpath ?? ''
      if (escapesRoot(path, node.link)) warn.add('symlinks whose target climbs above the image root (resolved inside the root, as chroot(2) would)', `/${path}`)
    } else if (kind === Kind.Hardlink) {
      entry.linkPath = cleanLinkTarget(header.linkpath ?? '')
      if (entry.linkPath === undefined) warn.add('hard links whose target is outside the image root (kept dangling, never followed)', `/${path} -> ${header.linkpath ?? ''}`)
    } else if (kind === Kind.Char || kind === Kind.Block) {
      warn.add('device nodes (recorded; a container gets its devices from the runtime)', `/${path}`)
    }
    if (info.sparse) {
      node.flags |= Flag.Sparse
      if (info.realSize !== undefined) node.size = info.realSize
      out.fileBytes += node.size
      warn.add('sparse files (recorded with their real size; their content is not readable by slim)', `/${path}`)
    }
    out.entries.push(entry)
    return kind === Kind.File && !info.sparse ? node : null
  }

  const fileData = (entry: ReadEntry, node: Node, path: string): void => {
    out.fileBytes += node.size
    const keep = node.size <= opts.captureMax && opts.capture(`/${path}`, node.size)
    const chunks: Buffer[] | null = keep ? [] : null
    const hash: Hash | null = opts.hash && node.size > 0 ? createHash('sha256') : null
    let got = 0
    entry.on('data', (c: Buffer) => {
      got += c.length
      hash?.update(c)
      chunks?.push(c)
    })
    entry.on('end', () => {
      // A short body means the tar was cut: walkTar reports that as an error for the whole layer.
      if (hash) node.hash = hash.digest('binary')
      if (chunks && got === node.size) out.captured.set(node, Buffer.concat(chunks, got))
    })
  }

  const result = await walkTar(stream, opts.what, {
    signal: opts.signal,
    onBytes: (n) => {
      opts.budget.used += n
      if (opts.budget.used > opts.budget.max) {
        throw new SlimError(
          'limit',
          `${opts.what}: the image expands to more than ${humanBytes(opts.budget.max)} of tar data (a decompression bomb, or a very large image); raise it with --max-expanded-size`,
        )
      }
      out.tarBytes += n
      opts.onBytes?.(out.tarBytes)
    },
    onWarn: (message, path) => warn.add(message, path),
    onIgnored: (info) => {
      out.entryCount++
      if (info.sparse) {
        // node-tar skips GNU sparse entries: the guard's reading of the header stands in for it.
        record(info.sparseName ?? info.path, info, Kind.File, { mode: safeInt(info.mode) & 0o7777, uid: safeInt(info.uid), gid: safeInt(info.gid) }, -1)
      } else {
        out.size += info.size
        warn.add(`entries of a type runtimes do not extract (${info.type}), ignored`, info.path)
      }
    },
    onEntry: (entry, info, ordinal) => {
      out.entryCount++
      const kind = TYPE_KIND[entry.type] ?? Kind.Other
      const header: HeaderFields = {
        mode: safeInt(entry.mode) & 0o7777,
        uid: safeInt(entry.uid),
        gid: safeInt(entry.gid),
        linkpath: entry.linkpath,
      }
      const rawPath = info.sparse && info.sparseName ? info.sparseName : entry.path
      const node = record(rawPath, info, kind, header, ordinal)
      if (node) fileData(entry, node, out.entries[out.entries.length - 1].path)
      else entry.resume()
    },
  })
  out.tarBytes = result.bytes
  return out
}

interface HeaderFields {
  mode: number
  uid: number
  gid: number
  linkpath?: string
}

/** Header numbers can be missing, NaN, negative or absurd in hostile tars: keep what is sane. */
function safeInt(n: unknown): number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : 0
}

/** True when a relative symlink target climbs above the root from where the link sits. */
function escapesRoot(linkPath: string, target: string): boolean {
  if (target.startsWith('/')) return false
  let depth = linkPath.split('/').length - 1
  for (const part of target.split('/')) {
    if (part === '..') {
      if (--depth < 0) return true
    } else if (part !== '' && part !== '.') depth++
  }
  return false
}
