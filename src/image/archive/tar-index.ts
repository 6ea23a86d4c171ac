import { createReadStream } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { posix } from 'node:path'
import type { Readable } from 'node:stream'
import { SlimError } from '../../core/errors.js'
import { escapeControls } from '../../core/text-escape.js'
import { readAllLimited } from '../read-all.js'
import { MAX_META_BYTES, TAR_BLOCK, TarHeaderDecoder } from './tar-header.js'

/**
 * An index of an outer tar file (a docker save, an OCI archive): entry name → byte range. Only the
 * 512-byte headers are read; blobs are later streamed straight from their offsets, so an archive
 * is never extracted to disk and its size does not matter. Headers are decoded by ./tar-header.ts
 * (ustar prefixes, GNU long names/links, PAX records); only names, types, sizes and link targets
 * are used here, so a malformed mode, owner or time in an outer archive changes nothing.
 */

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other'

export interface TarEntry {
  /** Normalised name: no leading `./` or `/`, no trailing `/`. May start with `..` (never served). */
  name: string
  type: TarEntryType
  /** Byte offset of the entry's data in the tar file. */
  offset: number
  size: number
  linkname?: string
}

const BLOCK = TAR_BLOCK
/** Outer archives of images have tens to thousands of entries; this only stops runaway input. */
const MAX_ENTRIES = 1_000_000
/** Symlink hops followed inside an archive, as Linux's limit. */
const MAX_LINK_HOPS = 40

/**
 * `./a/./b//c/` → `a/b/c`. Names that climb out (`../x`) or are absolute (`/x`) keep that shape, so
 * they never equal a lookup (lookups of such names are refused).
 */
export function normalizeEntryName(name: string): string {
  if (name === '') return ''
  const n = posix.normalize(name).replace(/(.)\/+$/, '$1')
  return n === '.' || n === './' ? '' : n
}

/** True when `rel` (relative to the archive root) stays inside it. */
function escapesRoot(rel: string): boolean {
  return rel === '..' || rel.startsWith('../') || posix.isAbsolute(rel)
}

export class TarIndex {
  private constructor(
    /** The tar file on disk. */
    readonly path: string,
    /** How messages name the archive (e.g. `docker-archive:/x.tar`). */
    readonly display: string,
    readonly entries: ReadonlyMap<string, TarEntry>,
  ) {}

  static async open(path: string, display: string): Promise<TarIndex> {
    const fh = await open(path, 'r')
    try {
      const size = (await fh.stat()).size
      return new TarIndex(path, display, await scan(fh, size, display))
    } finally {
      await fh.close()
    }
  }

  /** The entry stored under `name` (normalised), following no links. */
  get(name: string): TarEntry | undefined {
    return this.entries.get(normalizeEntryName(name))
  }

  /**
   * The regular-file entry `name` refers to, following symlinks (relative to the link's directory)
   * and hard links (relative to the root) inside the archive. Names or links that point outside the
   * archive root are refused: a tar is untrusted input.
   */
  resolveFile(name: string, what: string): TarEntry {
    let current = normalizeEntryName(name)
    if (escapesRoot(current) || current === '') {
      throw new SlimError('format', `${this.display}: ${what} path "${name}" points outside the archive`)
    }
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const e = this.entries.get(current)
      if (!e) throw new SlimError('not-found', `${this.display}: ${what} "${name}" is missing from the archive; the archive is incomplete, re-create it (docker save / skopeo copy)`)
      if (e.type === 'file') return e
      if (e.type !== 'symlink' && e.type !== 'hardlink') {
        throw new SlimError('format', `${this.display}: ${what} "${name}" is a ${e.type === 'dir' ? 'directory' : 'special file'}, not a file`)
      }
      const target = e.linkname ?? ''
      const rel = normalizeEntryName(e.type === 'symlink' ? posix.join(posix.dirname(current), target) : target)
      if (target.startsWith('/') || escapesRoot(rel) || rel === '') {
        throw new SlimError('format', `${this.display}: ${what} "${name}" links outside the archive (${e.name} -> ${target})`)
      }
      current = rel
    }
    throw new SlimError('format', `${this.display}: ${what} "${name}" is a symlink loop`)
  }

  /** The data of a regular-file entry (after resolving links), as a stream of its byte range. */
  stream(entry: TarEntry): Readable {
    if (entry.size === 0) return createReadStream(this.path, { start: 1, end: 0 })
    return createReadStream(this.path, { start: entry.offset, end: entry.offset + entry.size - 1 })
  }

  /** The whole entry, for small documents; refused above `limit` bytes. */
  async readFile(name: string, what: string, limit: number): Promise<Buffer> {
    const e = this.resolveFile(name, what)
    if (e.size > limit) throw new SlimError('limit', `${this.display}: ${what} "${name}" is ${e.size} bytes, above the ${limit}-byte limit`)
    return readAllLimited(this.stream(e), limit, `${this.display}: ${what}`)
  }

  /** Reads `length` bytes at the start of an entry (magic numbers). */
  async head(entry: TarEntry, length: number): Promise<Buffer> {
    const fh = await open(this.path, 'r')
    try {
      const buf = Buffer.alloc(Math.min(length, entry.size))
      const { bytesRead } = await fh.read(buf, 0, buf.length, entry.offset)
      return buf.subarray(0, bytesRead)
    } finally {
      await fh.close()
    }
  }
}

/** node-tar's type names → what the index distinguishes. */
function entryType(type: string): TarEntryType {
  switch (type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile': // a regular file everywhere that matters
      return 'file'
    case 'Link':
      return 'hardlink'
    case 'SymbolicLink':
      return 'symlink'
    case 'Directory':
      return 'dir'
    default:
      return 'other'
  }
}

async function scan(fh: FileHandle, fileSize: number, display: string): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>()
  const block = Buffer.alloc(BLOCK)
  let pos = 0
  const notTar = (why: string): SlimError => new SlimError('format', `${display} is not a valid tar archive (${why})`)

  const readMeta = async (offset: number, size: number): Promise<Buffer> => {
    if (size > MAX_META_BYTES) throw notTar(`a ${size}-byte extended header at offset ${offset}`)
    const buf = Buffer.alloc(size)
    const { bytesRead } = await fh.read(buf, 0, size, offset)
    if (bytesRead < size) throw notTar(`truncated extended header at offset ${offset}`)
    return buf
  }

  const decoder = new TarHeaderDecoder()
  for (;;) {
    if (pos + BLOCK > fileSize) {
      // Real writers always end with zero blocks, but an archive that simply stops after a whole
      // entry is still readable; a partial header is not.
      if (pos === fileSize && pos > 0) break
      if (pos === 0) throw notTar('the file is smaller than one tar header')
      throw new SlimError('integrity', `${display} is truncated: it ends inside the header at offset ${pos}`)
    }
    const { bytesRead } = await fh.read(block, 0, BLOCK, pos)
    if (bytesRead < BLOCK) throw notTar(`short read at offset ${pos}`)
    const decoded = decoder.decode(block)
    if (decoded.kind === 'zero') break // end-of-archive marker (the second zero block is optional)
    if (decoded.kind === 'unreadable') throw notTar(`a ${decoded.why} at offset ${pos}`)
    const h = decoded.header
    if (!h.checksumValid) throw notTar(`bad header checksum at offset ${pos}`)
    if (h.badSize) throw notTar(`the entry "${escapeControls(h.path)}" at offset ${pos} ${h.badSize}`)
    const dataOffset = pos + BLOCK
    if (dataOffset + h.size > fileSize) {
      throw new SlimError('integrity', `${display} is truncated: an entry at offset ${pos} claims ${h.size} bytes past the end of the file`)
    }
    if (h.meta) {
      decoder.applyMeta(h, await readMeta(dataOffset, h.size))
    } else {
      decoder.endEntry()
      const name = normalizeEntryName(h.path)
      if (name !== '') {
        if (entries.size >= MAX_ENTRIES && !entries.has(name)) throw notTar(`more than ${MAX_ENTRIES} entries`)
        // Later entries replace earlier ones with the same name, as extraction would.
        entries.set(name, { name, type: entryType(h.type), offset: dataOffset, size: h.size, ...(h.linkpath ? { linkname: h.linkpath } : {}) })
      }
    }
    pos = dataOffset + Math.ceil(h.size / BLOCK) * BLOCK
  }
  return entries
}
