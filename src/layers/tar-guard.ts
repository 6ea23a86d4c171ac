/**
 * Sits in front of node-tar's Parser and walks the same 512-byte block structure, so that slim knows
 * where the archive really ends. node-tar keeps accepting bytes after the end-of-archive marker (two
 * zero blocks) and its cost grows with the square of those bytes (shared/reference/known-hazards.md):
 * a 1 MB layer of compressed zeros would hang slim. The guard stops forwarding at the marker; the
 * rest is only counted (the caller still drains it, so the blob digest is verified over every byte).
 *
 * The guard decodes headers with node-tar's own Header and Pax classes and follows the Parser's
 * rules (which blocks are skipped as invalid, which entries carry a body, what a PAX or GNU long-name
 * header changes), so both agree on where every header is. It also queues what it expects the
 * Parser to emit; the indexer compares, so a disagreement becomes an error instead of a wrong index.
 */
import { Header, Pax } from 'tar'

const BLOCK = 512
/** node-tar's maxMetaEntrySize default: longer PAX/long-name bodies are skipped, not applied. */
const MAX_META = 1024 * 1024
/** Tar writers pad the archive to their record size after the marker (GNU: 10 KiB by default). */
export const PADDING_ALLOWANCE = 64 * 1024

const META_TYPES = new Set([
  'NextFileHasLongLinkpath',
  'NextFileHasLongPath',
  'OldGnuLongPath',
  'GlobalExtendedHeader',
  'ExtendedHeader',
  'OldExtendedHeader',
])
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
const HEADER_ONLY_TYPES = new Set(['Link', 'SymbolicLink', 'CharacterDevice', 'BlockDevice', 'FIFO'])
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
  mode?: number
  uid?: number
  gid?: number
}

type Ex = Record<string, unknown>

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
  private metaType = ''
  private metaChunks: Buffer[] = []
  private readonly pending = Buffer.alloc(BLOCK)
  private pendingLen = 0
  private sawNull = false
  private ex: Ex | undefined
  private gex: Ex | undefined
  private paxSparse: { name?: string; realSize?: number } | undefined
  /** A PAX size record that is not a decimal number ("size=-1"): node-tar ignores it, Go rejects the archive. */
  private badPaxSize: string | undefined
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
          truncatedEntry: this.current ?? { path: `(${this.metaType} header)`, type: this.metaType, size: 0, sparse: false, ignored: true },
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
    let h: Header
    try {
      h = new Header(block, 0, this.ex as never, this.gex as never)
    } catch {
      // The Parser warns and skips this one block, leaving its null-block state as it was.
      this.firstBlockValid ??= false
      this.invalid()
      return
    }
    if (h.nullBlock) {
      this.firstBlockValid ??= true
      if (this.sawNull) this.ended = true
      else this.sawNull = true
      return
    }
    this.sawNull = false
    const type = h.type
    // A sound checksum makes it a tar header, even one the Parser then skips (no name, a link
    // without a target): those are warnings, not "this is not a tar".
    this.firstBlockValid ??= h.cksumValid
    if (!h.cksumValid || !h.path || (LINK_RE.test(type) && !h.linkpath) || (!LINK_RE.test(type) && !EXT_RE.test(type) && h.linkpath)) {
      this.invalid()
      // A well-formed header the Parser rejects while it declares a body: the Parser would read that
      // body as headers, other tar readers would skip it. Entries could be smuggled either way.
      if (h.cksumValid && (h.size ?? 0) > 0 && !this.ambiguous) {
        this.ambiguous = { path: h.path ?? '', type, why: h.path ? 'has a link target where none belongs, and a body' : 'has no name, and a body' }
      }
      return
    }
    const size = h.size ?? 0
    const blockSize = BLOCK * Math.ceil(size / BLOCK)
    if (META_TYPES.has(type)) {
      if (size > MAX_META) {
        this.queue.push({ path: h.path, type, size, sparse: false, ignored: true })
        this.skip(blockSize)
      } else if (size > 0) {
        this.mode = 'meta'
        this.metaType = type
        this.metaChunks = []
        this.remaining = size
        this.metaPadding = blockSize - size
      }
      return
    }
    this.ex = undefined
    // Links, devices and FIFOs have no body for Go's archive/tar (what Docker and containerd use),
    // but node-tar skips the bytes their size claims: the two would disagree on everything after.
    if (size > 0 && HEADER_ONLY_TYPES.has(type) && !this.ambiguous) this.ambiguous = { path: h.path, type, why: 'is a link or device with a body' }
    // A negative or unreadable size: node-tar reads it as 0, Go's archive/tar rejects the archive.
    if (h.size === undefined && type !== 'Directory' && !this.ambiguous) this.ambiguous = { path: h.path, type, why: 'has a negative or unreadable size' }
    if (this.badPaxSize !== undefined && !this.ambiguous) {
      this.ambiguous = { path: h.path, type, why: `has an invalid PAX size record (size=${this.badPaxSize.slice(0, 40)})` }
    }
    this.badPaxSize = undefined
    const sparse = type === 'SparseFile' || this.paxSparse !== undefined
    const entry: GuardEntry = { path: h.path, type, size, sparse, ignored: !ENTRY_TYPES.has(type), mode: h.mode, uid: h.uid, gid: h.gid }
    if (this.paxSparse) {
      entry.sparseName = this.paxSparse.name
      entry.realSize = this.paxSparse.realSize
      this.paxSparse = undefined
    }
    if (type === 'SparseFile') entry.realSize = gnuRealSize(block)
    this.queue.push(entry)
    this.current = entry
    this.skip(blockSize)
  }

  private skip(n: number): void {
    if (n > 0) {
      this.mode = 'skip'
      this.remaining = n
    }
  }

  private applyMeta(): void {
    const text = Buffer.concat(this.metaChunks).toString('utf8')
    this.metaChunks = []
    switch (this.metaType) {
      case 'ExtendedHeader':
      case 'OldExtendedHeader':
        this.ex = Pax.parse(text, this.ex as never, false) as unknown as Ex
        this.paxSparse = paxSparseInfo(text) ?? this.paxSparse
        this.badPaxSize = invalidPaxSize(text) ?? this.badPaxSize
        break
      case 'GlobalExtendedHeader':
        this.gex = Pax.parse(text, this.gex as never, true) as unknown as Ex
        break
      case 'NextFileHasLongPath':
      case 'OldGnuLongPath':
        this.ex = { ...(this.ex ?? {}), path: text.replace(/\0.*/s, '') }
        break
      case 'NextFileHasLongLinkpath':
        this.ex = { ...(this.ex ?? {}), linkpath: text.replace(/\0.*/s, '') }
        break
    }
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

/**
 * The value of a PAX `size` record that is not a plain decimal number (POSIX: "decimal"; Go's
 * archive/tar rejects anything else), e.g. "-1" or "1e9"; undefined when there is none or it is fine.
 */
export function invalidPaxSize(text: string): string | undefined {
  for (const m of text.matchAll(/^\d+ size=(.*)$/gm)) {
    if (!/^\d{1,19}$/.test(m[1]) || !Number.isSafeInteger(Number(m[1]))) return m[1]
  }
  return undefined
}

/** GNU.sparse.* PAX records (formats 0.1 and 1.0) name the real file and its real size. */
function paxSparseInfo(text: string): { name?: string; realSize?: number } | undefined {
  if (!text.includes('GNU.sparse.')) return undefined
  const rec = (key: string): string | undefined => new RegExp(`(?:^|\\n)\\d+ GNU\\.sparse\\.${key}=([^\\n]*)`).exec(text)?.[1]
  const size = rec('realsize') ?? rec('size')
  const n = size === undefined ? NaN : Number(size)
  return { name: rec('name'), realSize: Number.isSafeInteger(n) && n >= 0 ? n : undefined }
}

/** Old GNU sparse headers keep the real size at offset 483 (12 bytes, octal or base-256). */
function gnuRealSize(block: Buffer): number | undefined {
  const field = block.subarray(483, 495)
  if (field[0] === 0x80) {
    // base-256, positive: big-endian in the remaining bytes
    let n = 0
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]
    return Number.isSafeInteger(n) ? n : undefined
  }
  if (field[0] & 0x80) return undefined
  const n = parseInt(field.toString('latin1').replace(/\0.*$/s, '').trim(), 8)
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined
}
