import { createReadStream } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { posix } from 'node:path'
import type { Readable } from 'node:stream'
import { SlimError } from '../../core/errors.js'
import { readAllLimited } from '../read-all.js'

/**
 * An index of an outer tar file (a docker save, an OCI archive): entry name → byte range. Only the
 * 512-byte headers are read; blobs are later streamed straight from their offsets, so an archive
 * is never extracted to disk and its size does not matter. Handles ustar prefixes, GNU long
 * names/links and PAX path/linkpath/size records.
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

const BLOCK = 512
/** Outer archives of images have tens to thousands of entries; this only stops runaway input. */
const MAX_ENTRIES = 1_000_000
/** PAX and GNU long-name payloads are names, not data. */
const MAX_META_BYTES = 1024 * 1024
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

function cString(buf: Buffer, start: number, length: number): string {
  const field = buf.subarray(start, start + length)
  const nul = field.indexOf(0)
  return field.subarray(0, nul >= 0 ? nul : field.length).toString('utf8')
}

/** Octal, or base-256 (GNU) when the high bit of the first byte is set. */
function parseNumber(buf: Buffer, start: number, length: number): number {
  const field = buf.subarray(start, start + length)
  if (field[0] & 0x80) {
    if (field[0] === 0xff) return -1 // negative base-256: invalid for sizes
    let v = field[0] & 0x7f
    for (let i = 1; i < field.length; i++) {
      v = v * 256 + field[i]
      if (v > Number.MAX_SAFE_INTEGER) return -1
    }
    return v
  }
  const s = field.toString('latin1').replace(/\0.*$/s, '').trim()
  if (s === '') return 0
  if (!/^[0-7]+$/.test(s)) return -1
  return parseInt(s, 8)
}

function checksumOk(h: Buffer): boolean {
  const stored = parseNumber(h, 148, 8)
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : h[i]
    unsigned += v
    signed += v > 127 ? v - 256 : v
  }
  return stored === unsigned || stored === signed
}

/** PAX records: "<len> <key>=<value>\n" repeated. */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  let pos = 0
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos)
    if (space < 0) break
    const len = parseInt(data.subarray(pos, space).toString('latin1'), 10)
    if (!Number.isSafeInteger(len) || len <= 0 || pos + len > data.length) break
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8')
    const eq = record.indexOf('=')
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1)
    pos += len
  }
  return out
}

function entryType(flag: string): TarEntryType {
  switch (flag) {
    case '0':
    case '\0':
    case '':
    case '7': // contiguous file: a regular file everywhere that matters
      return 'file'
    case '1':
      return 'hardlink'
    case '2':
      return 'symlink'
    case '5':
      return 'dir'
    default:
      return 'other'
  }
}

async function scan(fh: FileHandle, fileSize: number, display: string): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>()
  const header = Buffer.alloc(BLOCK)
  let pos = 0
  let longName: string | undefined
  let longLink: string | undefined
  let pax: Record<string, string> = {}
  const notTar = (why: string): SlimError => new SlimError('format', `${display} is not a valid tar archive (${why})`)

  const readMeta = async (offset: number, size: number): Promise<Buffer> => {
    if (size > MAX_META_BYTES) throw notTar(`a ${size}-byte extended header at offset ${offset}`)
    const buf = Buffer.alloc(size)
    const { bytesRead } = await fh.read(buf, 0, size, offset)
    if (bytesRead < size) throw notTar(`truncated extended header at offset ${offset}`)
    return buf
  }

  for (;;) {
    if (pos + BLOCK > fileSize) {
      // Real writers always end with zero blocks, but an archive that simply stops after a whole
      // entry is still readable; a partial header is not.
      if (pos === fileSize && pos > 0) break
      if (pos === 0) throw notTar('the file is smaller than one tar header')
      throw new SlimError('integrity', `${display} is truncated: it ends inside the header at offset ${pos}`)
    }
    const { bytesRead } = await fh.read(header, 0, BLOCK, pos)
    if (bytesRead < BLOCK) throw notTar(`short read at offset ${pos}`)
    if (header.every((b) => b === 0)) break // end-of-archive marker (the second zero block is optional)
    if (!checksumOk(header)) throw notTar(`bad header checksum at offset ${pos}`)
    const size = parseNumber(header, 124, 12)
    if (size < 0) throw notTar(`invalid size field at offset ${pos}`)
    const dataOffset = pos + BLOCK
    if (dataOffset + size > fileSize) {
      throw new SlimError('integrity', `${display} is truncated: an entry at offset ${pos} claims ${size} bytes past the end of the file`)
    }
    const flag = String.fromCharCode(header[156])
    const next = dataOffset + Math.ceil(size / BLOCK) * BLOCK

    if (flag === 'L') longName = (await readMeta(dataOffset, size)).toString('utf8').replace(/\0+$/, '')
    else if (flag === 'K') longLink = (await readMeta(dataOffset, size)).toString('utf8').replace(/\0+$/, '')
    else if (flag === 'x') pax = parsePax(await readMeta(dataOffset, size)) // replaces, as Go's archive/tar does
    else if (flag === 'g') {
      // Global PAX headers only carry defaults slim does not use.
    } else {
      const magic = header.subarray(257, 263).toString('latin1')
      const prefix = magic.startsWith('ustar') ? cString(header, 345, 155) : ''
      const headerName = prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100)
      const rawName = pax.path ?? longName ?? headerName
      const linkname = pax.linkpath ?? longLink ?? cString(header, 157, 100)
      let realSize = size
      if (pax.size !== undefined) {
        const s = Number(pax.size)
        if (!Number.isSafeInteger(s) || s < 0) throw notTar(`invalid PAX size at offset ${pos}`)
        if (dataOffset + s > fileSize) {
          throw new SlimError('integrity', `${display} is truncated: an entry at offset ${pos} claims ${s} bytes past the end of the file`)
        }
        realSize = s
      }
      let type = entryType(flag)
      if (type === 'file' && rawName.endsWith('/')) type = 'dir' // old tars mark directories by name only
      const name = normalizeEntryName(rawName)
      if (name !== '') {
        if (entries.size >= MAX_ENTRIES && !entries.has(name)) throw notTar(`more than ${MAX_ENTRIES} entries`)
        // Later entries replace earlier ones with the same name, as extraction would.
        entries.set(name, { name, type, offset: dataOffset, size: realSize, ...(linkname ? { linkname } : {}) })
      }
      longName = undefined
      longLink = undefined
      pax = {}
      pos = dataOffset + Math.ceil(realSize / BLOCK) * BLOCK
      continue
    }
    pos = next
  }
  return entries
}
