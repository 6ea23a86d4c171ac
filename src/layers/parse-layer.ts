/**
 * Reads one layer tar into a list of changes (adds, whiteouts, opaque directories) with compact
 * nodes, taking from each regular file's bytes on the way what later stages need (content-tap.ts:
 * hash, kept small files, ELF summaries, script first lines). Layers are parsed concurrently;
 * merge.ts applies the lists in layer order.
 */
import type { Readable } from 'node:stream'
import type { ByteSource } from '../core/byte-source.js'
import { SlimError } from '../core/errors.js'
import { humanBytes } from '../core/format.js'
import { DEFAULT_MAX_TEMP_BYTES } from '../core/temp.js'
import { ContentTap, Scratch } from './content-tap.js'
import { AUFS_META_PREFIX, OPAQUE_MARKER, WHITEOUT_PREFIX, baseName, cleanEntryPath, cleanLinkTarget, parentOf } from './paths.js'
import type { GuardEntry } from './tar-guard.js'
import { walkTar, type BodySink } from './tar-walk.js'
import { EntryList, Op, entryPath, type ParsedEntry } from './entry-list.js'
import { Flag, Kind, NO_NODE, type Node, type Tree } from './tree.js'
import type { FileHead } from './types.js'
import { WarningSet } from './warnings.js'

export { Op, entryPath, type ParsedEntry } from './entry-list.js'

export interface ParsedLayer {
  index: number
  /** The changes in tar order; their nodes are in the image's one Tree, not attached yet. */
  entries: EntryList
  /** Directories that have something below them in this layer's own tree (dive's "not a leaf"). */
  parents: Set<string>
  /** dive's layer size: sum of tar header sizes. */
  size: number
  entryCount: number
  tarBytes: number
  fileBytes: number
  /** Contents kept from this pass (facts files and the caller's capture list). */
  captured: Map<Node, Buffer>
  /** ELF and script heads (content-tap.ts). */
  heads: Map<Node, FileHead>
  warnings: WarningSet
}

/** Shared across the layers of one image: the bound on expanded bytes. */
export interface ExpansionBudget {
  used: number
  max: number
}

export interface ParseLayerOptions {
  index: number
  /** The image's tree: the layer's nodes are made in it (merge.ts attaches them). */
  tree: Tree
  what: string
  budget: ExpansionBudget
  capture: (path: string, size: number) => boolean
  /** Largest single file kept by `capture`. */
  captureMax: number
  /** Bytes kept by `capture` in this layer at most: past it, files are read later if needed. */
  captureTotal: number
  /** sha256 every regular file (duplicate detection). */
  hash: boolean
  summarizeElf?: (bytes: ByteSource) => unknown
  /** Largest ELF file buffered for summarizeElf; bigger ones are summarised from a temp copy. */
  elfMax: number
  /** Bound on temp bytes (the copies of big ELF files count against it). */
  maxTempBytes?: number
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

interface HeaderFields {
  mode: number
  uid: number
  gid: number
  linkpath?: string
}

export async function parseLayer(stream: Readable, opts: ParseLayerOptions): Promise<ParsedLayer> {
  const scratch = Scratch.borrow()
  try {
    const parser = new LayerParser(opts, scratch)
    const result = await walkTar(stream, opts.what, {
      signal: opts.signal,
      onBytes: (n) => parser.countBytes(n),
      onWarn: (message, path) => parser.out.warnings.add(message, path),
      onIgnored: (info) => parser.ignoredEntry(info),
      onEntry: (info, ordinal) => parser.entry(info, ordinal),
    })
    parser.out.tarBytes = result.bytes
    return parser.out
  } finally {
    // walkTar has ended every body (or aborted it, tar-guard.ts): nothing uses the scratch now.
    Scratch.giveBack(scratch)
  }
}

/** The steps of reading one layer: count bytes, classify each entry, record it, tap its content. */
class LayerParser {
  readonly out: ParsedLayer
  private readonly tree: Tree
  /** Bytes of files kept for `capture` so far (bounded by captureTotal). */
  private keptBytes = 0

  constructor(
    private readonly opts: ParseLayerOptions,
    private readonly scratch: Scratch,
  ) {
    this.tree = opts.tree
    this.out = {
    index: opts.index,
    entries: new EntryList(opts.tree),
    parents: new Set(),
    size: 0,
    entryCount: 0,
    tarBytes: 0,
    fileBytes: 0,
    captured: new Map(),
    heads: new Map(),
    warnings: new WarningSet(),
    }
  }

  /** The expansion bound is shared by every layer of the image: a bomb stops wherever it is. */
  countBytes(n: number): void {
    spendBudget(this.opts.budget, n, this.opts.what)
    this.out.tarBytes += n
    this.opts.onBytes?.(this.out.tarBytes)
  }

  /** GNU sparse files are recorded with their real size (no content); unknown types only counted and warned about. */
  ignoredEntry(info: GuardEntry): void {
    this.out.entryCount++
    if (info.sparse) {
      this.record(info.sparseName ?? info.path, info, Kind.File, { mode: safeInt(info.mode) & 0o7777, uid: safeInt(info.uid), gid: safeInt(info.gid) }, -1)
    } else {
      this.out.size += info.size
      this.out.warnings.add(`entries of a type runtimes do not extract (${info.type}), ignored`, info.path)
    }
  }

  /** Records one entry; returns where a regular file's body goes (null: the body is skipped). */
  entry(info: GuardEntry, ordinal: number): BodySink | null {
    this.out.entryCount++
    const kind = TYPE_KIND[info.type] ?? Kind.Other
    // Names, links and owners as slim's header decoder read them (Go's rules: the last of several
    // PAX headers, GNU long names over PAX paths, no global records).
    const header: HeaderFields = { mode: safeInt(info.mode) & 0o7777, uid: safeInt(info.uid), gid: safeInt(info.gid), linkpath: info.linkpath || undefined }
    const rawPath = info.sparse && info.sparseName ? info.sparseName : info.path
    const node = this.record(rawPath, info, kind, header, ordinal)
    return node === null ? null : this.tapContent(node, this.out.entries.path(this.out.entries.length - 1))
  }

  /** Turns one tar entry into a change; returns the node when its body should be read. */
  private record(rawPath: string, info: GuardEntry, kind: Kind, header: HeaderFields, ordinal: number): Node | null {
    const { out } = this
    const warn = out.warnings
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
    this.addParents(path)
    const base = baseName(path)
    if (base.startsWith(WHITEOUT_PREFIX)) {
      this.whiteout(path, base, rawPath)
      return null
    }
    const t = this.tree
    const node = t.add(base, kind, header.mode, header.uid, header.gid, kind === Kind.Dir ? 0 : info.size, this.opts.index, ordinal)
    const entry: ParsedEntry = { dir: parentOf(path), name: base, op: Op.Add, node }
    this.noteLinkOrDevice(entry, path, node, kind, header)
    if (info.sparse) {
      t.setFlags(node, t.flags(node) | Flag.Sparse)
      if (info.realSize !== undefined) t.setSize(node, info.realSize)
      out.fileBytes += t.size(node)
      warn.add('sparse files (recorded with their real size; their content is not readable by slim)', `/${path}`)
    }
    out.entries.push(entry)
    return kind === Kind.File && !info.sparse ? node : null
  }

  private addParents(path: string): void {
    const parents = this.out.parents
    for (let d = parentOf(path); d !== '' && !parents.has(d); d = parentOf(d)) parents.add(d)
  }

  /** `.wh.NAME` deletes NAME below; `.wh..wh..opq` empties its directory below. */
  private whiteout(path: string, base: string, rawPath: string): void {
    const { out } = this
    if (base === OPAQUE_MARKER) {
      const dir = parentOf(path)
      out.entries.push({ dir: parentOf(dir), name: baseName(dir), op: Op.Opaque, node: NO_NODE })
    } else if (base.startsWith(AUFS_META_PREFIX)) {
      // aufs bookkeeping (.wh..wh.plnk and the like): not content, not a deletion.
    } else if (base === WHITEOUT_PREFIX) {
      out.warnings.add('whiteout entries without a name, ignored', rawPath)
    } else {
      out.entries.push({ dir: parentOf(path), name: base.slice(WHITEOUT_PREFIX.length), op: Op.Whiteout, node: NO_NODE })
    }
  }

  private noteLinkOrDevice(entry: ParsedEntry, path: string, node: Node, kind: Kind, header: HeaderFields): void {
    const warn = this.out.warnings
    if (kind === Kind.Symlink) {
      const target = header.linkpath ?? ''
      this.tree.setSymlinkTarget(node, target)
      if (escapesRoot(path, target)) warn.add('symlinks whose target climbs above the image root (resolved inside the root, as chroot(2) would)', `/${path}`)
    } else if (kind === Kind.Hardlink) {
      entry.linkPath = cleanLinkTarget(header.linkpath ?? '')
      if (entry.linkPath === undefined) warn.add('hard links whose target is outside the image root (kept dangling, never followed)', `/${path} -> ${header.linkpath ?? ''}`)
    } else if (kind === Kind.Char || kind === Kind.Block) {
      warn.add('device nodes (recorded; a container gets its devices from the runtime)', `/${path}`)
    }
  }

  /** A regular file's bytes: hashed, kept when asked for, its head summarised. */
  private tapContent(node: Node, path: string): BodySink {
    const { out, opts, tree } = this
    const size = tree.size(node)
    out.fileBytes += size
    // Counted when decided: a hostile layer of many matching files cannot hold more than captureTotal.
    const keep = size <= opts.captureMax && this.keptBytes + size <= opts.captureTotal && opts.capture(`/${path}`, size)
    if (keep) this.keptBytes += size
    const tap = new ContentTap(size, { hash: opts.hash, keep, summarizeElf: opts.summarizeElf, elfMax: opts.elfMax, maxTempBytes: opts.maxTempBytes ?? DEFAULT_MAX_TEMP_BYTES }, this.scratch)
    return {
      data: (c) => tap.data(c),
      end: () => {
        const r = tap.end()
        tree.setHash(node, r.hash)
        if (r.kept) out.captured.set(node, r.kept)
        if (r.head) out.heads.set(node, r.head)
      },
      abort: () => tap.abort(),
    }
  }
}

/** Counts tar bytes against the image's expansion bound; throws past it. */
export function spendBudget(budget: ExpansionBudget, n: number, what: string): void {
  budget.used += n
  if (budget.used > budget.max) {
    throw new SlimError('limit', `${what}: the image expands to more than ${humanBytes(budget.max)} of tar data (a decompression bomb, or a very large image); raise it with --max-expanded-size`)
  }
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
