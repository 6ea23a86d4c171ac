/**
 * Sits in front of node-tar's Parser and walks the same 512-byte block structure, so that slim knows
 * where the archive really ends. node-tar keeps accepting bytes after the end-of-archive marker (two
 * zero blocks) and its cost grows with the square of those bytes (shared/reference/known-hazards.md):
 * a 1 MB layer of compressed zeros would hang slim. node-tar has no hook to stop at the marker, so
 * the guard finds it and forwards only the bytes before it; the rest is only counted (the caller
 * still drains it, so the blob digest is verified over every byte).
 *
 * Headers are decoded by slim's one decoder (image/archive/tar-header.ts, node-tar's own Header and
 * Pax). To find the marker the guard must skip exactly the blocks the Parser skips, so it follows
 * the Parser's public rules for which headers are invalid (bad checksum, no path, a link field
 * where it does not belong: one block skipped, with a warning) and which carry a body. Where the
 * Parser and Go's archive/tar (Docker, containerd) would disagree on where the next entry starts,
 * the guard refuses the layer instead of choosing a reading. It also queues what it expects the
 * Parser to emit; the walker compares, so a disagreement becomes an error instead of a wrong index.
 */
import { MAX_META_BYTES, TAR_BLOCK, TarHeaderDecoder, type TarHeader } from '../image/archive/tar-header.js'

const BLOCK = TAR_BLOCK
/** Tar writers pad the archive to their record size after the marker (GNU: 10 KiB by default). */
export const PADDING_ALLOWANCE = 64 * 1024

/** Entry types node-tar's Parser emits as 'entry'; others it emits as 'ignoredEntry'. */
const ENTRY_TYPES = new Set([
  'File',
  'OldFile',
  'Link',
  'SymbolicLink',
  'CharacterDevice',
  'BlockDevice',
  'Directory',
  'FIFO',
  'ContiguousFile',
  'GNUDumpDir',
])
const LINK_RE = /^(Symbolic)?Link$/
const EXT_RE = /^(Global)?ExtendedHeader$/

/** What the guard saw for one entry the Parser will emit (or ignore). */
export interface GuardEntry {
  path: string
  type: string
  /** Bytes of body the entry claims (PAX size applied). */
  size: number
  /** GNU sparse file (type 'S', or PAX GNU.sparse.* records). */
  sparse: boolean
  /** For PAX sparse files: the real name and size from GNU.sparse.name / realsize. */
  sparseName?: string
  realSize?: number
  /** The Parser will emit this as 'ignoredEntry' (unknown type), not 'entry'. */
  ignored: boolean
  linkpath: string
  mode?: number
  uid?: number
  gid?: number
  /** Malformed header fields that do not move bytes, ignored (for a warning on the layer). */
  ignoredFields: string[]
}

export class TarGuard {
  /** The end-of-archive marker has been seen; nothing more goes to the parser. */
  ended = false
  /** Bytes pushed in total, and the part after the marker. */
  bytes = 0
  trailingBytes = 0
  trailingNonZero = false
  /** The first block after the marker (eStargz keeps its table of contents there). */
  trailingHead: Buffer = Buffer.alloc(0)
  /** Blocks the Parser will reject as headers (bad checksum, no path, ...), and the first one's offset. */
  invalidBlocks = 0
  firstInvalidAt = -1
  /** A valid header with a body that the Parser refuses (see header()); reading on would be a guess. */
  ambiguous: { path: string; type: string; why: string } | undefined
  /** Whether the first block was a plausible header (or zero); false means "not a tar". */
  firstBlockValid: boolean | undefined
  /** Entries in archive order: those the Parser emits as 'entry' and those it ignores (flagged). */
  private readonly queue: GuardEntry[] = []
  private queueHead = 0

  private mode: 'header' | 'skip' | 'meta' = 'header'
  private remaining = 0
  private metaPadding = 0
  private metaHeader: TarHeader | undefined
  private metaChunks: Buffer[] = []
  private readonly pending = Buffer.alloc(BLOCK)
  private pendingLen = 0
  private sawNull = false
  private readonly decoder = new TarHeaderDecoder()
  /** The entry whose body is being skipped, for the "truncated inside" message. */
  current: GuardEntry | undefined

  /** Feeds bytes; returns the part of `chunk` the parser must see (empty once the marker passed). */
  push(chunk: Buffer): Buffer {
    this.bytes += chunk.length
    if (this.ended) {
      this.countTrailing(chunk)
      return chunk.subarray(0, 0)
    }
    let pos = 0
    const len = chunk.length
    while (pos < len && !this.ended) {
      if (this.mode === 'skip') {
        const n = Math.min(this.remaining, len - pos)
        this.remaining -= n
        pos += n
        if (this.remaining === 0) {
          this.mode = 'header'
          this.current = undefined
        }
      } else if (this.mode === 'meta') {
        const n = Math.min(this.remaining, len - pos)
        this.metaChunks.push(chunk.subarray(pos, pos + n))
        this.remaining -= n
        pos += n
        if (this.remaining === 0) {
          this.applyMeta()
          this.remaining = this.metaPadding
          this.mode = this.remaining > 0 ? 'skip' : 'header'
        }
      } else if (this.pendingLen === 0 && len - pos >= BLOCK) {
        this.header(chunk.subarray(pos, pos + BLOCK))
        pos += BLOCK
      } else {
        const n = Math.min(BLOCK - this.pendingLen, len - pos)
        chunk.copy(this.pending, this.pendingLen, pos, pos + n)
        this.pendingLen += n
        pos += n
        if (this.pendingLen === BLOCK) {
          this.pendingLen = 0
          this.header(Buffer.from(this.pending))
        }
      }
    }
    if (!this.ended) return chunk
    this.countTrailing(chunk.subarray(pos))
    return chunk.subarray(0, pos)
  }

  /** The next entry the Parser should emit as 'entry', or undefined when the guard expected none. */
  next(): GuardEntry | undefined {
    if (this.queueHead >= this.queue.length) return undefined
    const e = this.queue[this.queueHead]
    this.queue[this.queueHead++] = undefined as unknown as GuardEntry
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead)
      this.queueHead = 0
    }
    return e
  }

  get pendingEntries(): number {
    return this.queue.length - this.queueHead
  }

  /** Call at the end of input: what state the archive was left in. */
  finish(): { truncatedEntry?: GuardEntry; missingBytes: number; partialBlock: number; partialNonZero: boolean; noMarker: boolean } {
    const partialNonZero = this.pending.subarray(0, this.pendingLen).some((b) => b !== 0)
    if (this.mode !== 'header' && this.remaining > 0 && !this.ended) {
      const inPadding = this.mode === 'skip' && this.current && this.remaining <= paddingOf(this.current.size)
      if (!inPadding) {
        return {
          truncatedEntry: this.current ?? { path: `(${this.metaHeader?.type} header)`, type: this.metaHeader?.type ?? '', size: 0, sparse: false, ignored: true, linkpath: '', ignoredFields: [] },
          missingBytes: this.remaining,
          partialBlock: 0,
          partialNonZero: false,
          noMarker: true,
        }
      }
    }
    return { missingBytes: 0, partialBlock: this.pendingLen, partialNonZero, noMarker: !this.ended }
  }

  private countTrailing(buf: Buffer): void {
    if (this.trailingHead.length < BLOCK && buf.length > 0) {
      this.trailingHead = Buffer.concat([this.trailingHead, buf.subarray(0, BLOCK - this.trailingHead.length)])
    }
    this.trailingBytes += buf.length
    if (!this.trailingNonZero && buf.length > 0 && !isZero(buf)) this.trailingNonZero = true
  }

  private invalid(): void {
    this.invalidBlocks++
    if (this.firstInvalidAt < 0) this.firstInvalidAt = this.bytes
  }

  private header(block: Buffer): void {
    const decoded = this.decoder.decode(block)
    if (decoded.kind === 'unreadable') {
      // node-tar's Header throws: the Parser warns and skips this one block, leaving its null-block
      // state as it was. With a sound checksum it is a real header that Go reads (or rejects).
      this.firstBlockValid ??= decoded.checksumValid
      this.invalid()
      if (decoded.checksumValid) this.refuse({ path: decoded.path, type: decoded.type, why: `has a ${decoded.why}` })
      return
    }
    if (decoded.kind === 'zero') {
      this.firstBlockValid ??= true
      if (this.sawNull) this.ended = true
      else this.sawNull = true
      return
    }
    this.sawNull = false
    const h = decoded.header
    const { type } = h
    // A sound checksum makes it a tar header, even one the Parser then skips (no name, a link
    // without a target): those are warnings, not "this is not a tar".
    this.firstBlockValid ??= h.checksumValid
    if (!h.checksumValid || !h.path || (LINK_RE.test(type) && !h.fieldLinkpath) || (!LINK_RE.test(type) && !EXT_RE.test(type) && h.fieldLinkpath)) {
      this.invalid()
      if (!h.checksumValid) return
      // A well-formed header the Parser rejects while it declares a body: the Parser would read that
      // body as headers, other tar readers would skip it. Entries could be smuggled either way.
      if (h.size > 0) this.refuse({ path: h.path, type, why: h.path ? 'has a link target where none belongs, and a body' : 'has no name, and a body' })
      // The Parser keeps pending extended headers for the next valid entry; Go gives them to this one.
      if (this.decoder.pending) this.refuse({ path: h.path, type, why: 'is not a valid entry but follows an extended header' })
      return
    }
    if (h.badSize) this.refuse({ path: h.path, type, why: h.badSize })
    const blockSize = BLOCK * Math.ceil(h.size / BLOCK)
    if (h.meta) {
      if (h.size > MAX_META_BYTES) {
        this.queue.push({ path: h.path, type, size: h.size, sparse: false, ignored: true, linkpath: '', ignoredFields: [] })
        this.skip(blockSize)
      } else if (h.size > 0) {
        this.mode = 'meta'
        this.metaHeader = h
        this.metaChunks = []
        this.remaining = h.size
        this.metaPadding = blockSize - h.size
      }
      return
    }
    this.decoder.endEntry()
    const entry: GuardEntry = {
      path: h.path,
      type,
      size: h.size,
      sparse: h.sparse,
      ignored: !ENTRY_TYPES.has(type),
      linkpath: h.linkpath,
      mode: h.mode,
      uid: h.uid,
      gid: h.gid,
      ignoredFields: h.ignoredFields,
    }
    if (h.sparseName !== undefined) entry.sparseName = h.sparseName
    if (h.realSize !== undefined) entry.realSize = h.realSize
    this.queue.push(entry)
    this.current = entry
    this.skip(blockSize)
  }

  /** The first reason to refuse the layer wins (the walker throws it after this chunk). */
  private refuse(why: { path: string; type: string; why: string }): void {
    this.ambiguous ??= why
  }

  private skip(n: number): void {
    if (n > 0) {
      this.mode = 'skip'
      this.remaining = n
    }
  }

  private applyMeta(): void {
    if (this.metaHeader) this.decoder.applyMeta(this.metaHeader, Buffer.concat(this.metaChunks))
    this.metaChunks = []
  }
}

function paddingOf(size: number): number {
  return BLOCK * Math.ceil(size / BLOCK) - size
}

const ZEROS = Buffer.alloc(64 * 1024)

/** All bytes zero? Compared natively in 64 KiB slices (trailing padding can be gigabytes). */
export function isZero(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i += ZEROS.length) {
    const part = buf.subarray(i, i + ZEROS.length)
    if (part.compare(ZEROS, 0, part.length) !== 0) return false
  }
  return true
}
