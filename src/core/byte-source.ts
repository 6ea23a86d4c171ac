/**
 * Random access to a file's bytes, whether slim holds them in memory or in a (temp) file on disk:
 * the ELF reader parses through this, so a 900 MB program is read by ranges (header, tables,
 * dynamic section, notes) and never whole. Reads are synchronous: the readers built on it are
 * synchronous, and each read is small (a page cache below serves the many tiny table reads).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'

export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number
  /**
   * The bytes of [offset, offset+len), which the caller has checked lie inside the source. A
   * Buffer source returns a view; a file source returns a copy.
   */
  read(offset: number, len: number): Buffer
  /**
   * Like read, but into a buffer that is reused: valid only until the next window() call (of any
   * source). The scans below read a big file 4 MiB at a time through it and keep nothing, so
   * scanning allocates nothing (a fresh buffer per read left tens of MB of garbage per big program,
   * a third of a cold run's peak).
   */
  window?(offset: number, len: number): Buffer
  /** The whole content when it is in memory already (lets scans over it avoid copies). */
  readonly buffer?: Buffer
}

/** A source over bytes already in memory. */
export function bufferSource(buf: Buffer): ByteSource {
  return { size: buf.length, buffer: buf, read: (offset, len) => buf.subarray(offset, offset + len) }
}

const PAGE = 64 * 1024
/** Pages kept per open file: the tables a parser visits again and again fit easily. */
const PAGES_KEPT = 64

/**
 * FileSource.window's buffer, one for the process: scans are synchronous and never nest, and a
 * buffer kept is also one glibc never sees freed (freeing a big block raises its threshold for
 * using mmap, after which every buffer below that size lands in the heap and fragments it).
 */
let scanBuffer = Buffer.alloc(0)

/** A source over an open file, read with pread; close() when done. */
export class FileSource implements ByteSource {
  readonly size: number
  private fd: number | undefined
  private readonly pages = new Map<number, Buffer>()

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r')
    this.size = fstatSync(this.fd).size
  }

  read(offset: number, len: number): Buffer {
    const first = Math.floor(offset / PAGE)
    const last = Math.floor((offset + Math.max(len, 1) - 1) / PAGE)
    // Small reads come from the page cache; a big one is read straight into a buffer of its own.
    if (last - first > 1) return this.readDirect(offset, len)
    const parts: Buffer[] = []
    for (let p = first; p <= last; p++) parts.push(this.page(p))
    const joined = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
    const start = offset - first * PAGE
    return Buffer.from(joined.subarray(start, start + len))
  }

  window(offset: number, len: number): Buffer {
    // Rounded up so scans whose overlaps differ by a few bytes share one buffer.
    if (scanBuffer.length < len) scanBuffer = Buffer.allocUnsafe(Math.ceil(len / PAGE) * PAGE)
    return this.readInto(scanBuffer.subarray(0, len), offset)
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
    this.pages.clear()
  }

  private page(p: number): Buffer {
    const hit = this.pages.get(p)
    if (hit) {
      this.pages.delete(p)
      this.pages.set(p, hit)
      return hit
    }
    const start = p * PAGE
    const buf = this.readDirect(start, Math.min(PAGE, this.size - start))
    this.pages.set(p, buf)
    if (this.pages.size > PAGES_KEPT) this.pages.delete(this.pages.keys().next().value!)
    return buf
  }

  private readDirect(offset: number, len: number): Buffer {
    return this.readInto(Buffer.allocUnsafe(len), offset)
  }

  /** Fills `buf` from `offset`. */
  private readInto(buf: Buffer, offset: number): Buffer {
    if (this.fd === undefined) throw new Error(`${this.path} is closed`)
    const len = buf.length
    let got = 0
    while (got < len) {
      const n = readSync(this.fd, buf, got, len - got, offset + got)
      if (n === 0) throw new Error(`${this.path} ends at ${offset + got}, before ${offset + len}`)
      got += n
    }
    return buf
  }
}

/** Bytes scanned at once by sourceIndexOf when the source is not in memory. */
const SCAN_CHUNK = 4 * 1024 * 1024

/**
 * Where `needle` first occurs in [from, end) of the source, or -1: chunk by chunk (chunks overlap
 * by the needle's length) so memory stays bounded whatever the file's size.
 */
export function sourceIndexOf(src: ByteSource, needle: Buffer, from = 0, end = src.size): number {
  end = Math.min(end, src.size)
  if (src.buffer) {
    const i = src.buffer.subarray(0, end).indexOf(needle, from)
    return i
  }
  for (let at = from; at + needle.length <= end; at += SCAN_CHUNK) {
    const len = Math.min(end - at, SCAN_CHUNK + needle.length - 1)
    const i = scanRead(src, at, len).indexOf(needle)
    if (i >= 0) return at + i
  }
  return -1
}

/** A scan's read: through the source's reused window when it has one (the caller keeps nothing). */
function scanRead(src: ByteSource, offset: number, len: number): Buffer {
  return src.window ? src.window(offset, len) : src.read(offset, len)
}

/**
 * Calls `visit` on successive chunks of [offset, offset+len) that overlap by `overlap` bytes, so a
 * scan for short strings sees each of them whole in some chunk; `visit` returns true to stop. In
 * memory: one view of the range. A chunk is valid only during its visit (the buffer is reused).
 */
export function forEachChunk(src: ByteSource, offset: number, len: number, overlap: number, visit: (chunk: Buffer, at: number) => boolean | void): void {
  const end = Math.min(src.size, offset + len)
  if (offset >= end) return
  if (src.buffer) {
    visit(src.buffer.subarray(offset, end), offset)
    return
  }
  for (let at = offset; at < end; at += SCAN_CHUNK) {
    if (visit(scanRead(src, at, Math.min(end - at, SCAN_CHUNK + overlap)), at) === true) return
    if (at + SCAN_CHUNK + overlap >= end) return
  }
}

/** A Buffer as a source; a source as itself. */
export function toSource(x: Buffer | ByteSource): ByteSource {
  return Buffer.isBuffer(x) ? bufferSource(x) : x
}

/** The part [offset, offset+len) of a source as a source of its own (no copy). */
export function subSource(src: ByteSource, offset: number, len: number): ByteSource {
  if (src.buffer) return bufferSource(src.buffer.subarray(offset, offset + len))
  const window = src.window?.bind(src)
  return { size: len, read: (o, l) => src.read(offset + o, l), ...(window ? { window: (o: number, l: number) => window(offset + o, l) } : {}) }
}

/**
 * Every match of the global `pattern` in the source read as latin1 text, in order. A source not in
 * memory is read chunk by chunk, each with `context` bytes on both sides so look-behinds and
 * look-aheads see the real neighbours; a match counts in the chunk it starts in (matches must be
 * shorter than `context`).
 */
export function matchesIn(src: ByteSource, pattern: RegExp, context = 256): string[] {
  if (src.buffer) return [...src.buffer.toString('latin1').matchAll(pattern)].map((m) => m[0])
  const found: string[] = []
  for (let at = 0; at < src.size; at += SCAN_CHUNK) {
    const from = Math.max(0, at - context)
    const text = scanRead(src, from, Math.min(src.size, at + SCAN_CHUNK + context) - from).toString('latin1')
    for (const m of text.matchAll(pattern)) {
      const start = from + m.index
      if (start >= at && start < at + SCAN_CHUNK) found.push(m[0])
    }
  }
  return found
}

/**
 * The first match of `re` in the source read as latin1 text (null when none), chunk by chunk when
 * the source is not in memory, with `context` bytes around each chunk as in matchesIn.
 */
export function firstMatchIn(src: ByteSource, re: RegExp, context = 256): RegExpExecArray | null {
  const flags = re.flags.replace('g', '')
  if (src.buffer) return new RegExp(re.source, flags).exec(src.buffer.toString('latin1'))
  const g = new RegExp(re.source, `${flags}g`)
  for (let at = 0; at < src.size; at += SCAN_CHUNK) {
    const from = Math.max(0, at - context)
    const text = scanRead(src, from, Math.min(src.size, at + SCAN_CHUNK + context) - from).toString('latin1')
    g.lastIndex = 0
    for (let m = g.exec(text); m; m = g.exec(text)) {
      const start = from + m.index
      if (start >= at + SCAN_CHUNK) break
      if (start >= at) return m
      if (m[0] === '') g.lastIndex++
    }
  }
  return null
}
