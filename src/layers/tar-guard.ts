/**
 * Reads a layer's tar stream block by block: decodes each header once (slim's one decoder,
 * image/archive/tar-header.ts), hands each entry and its body, as slices of the incoming chunks, to
 * the walk (tar-walk.ts), and knows where the archive really ends.
 *
 * The rules are chosen so that slim's index lists what a container runtime would extract, and so
 * that no crafted layer can show slim one set of files and the runtime another. Docker, containerd
 * and skopeo read layers with Go's archive/tar, so wherever the position of the next header is at
 * stake the rules are Go's, and where a reading could go two ways the layer is refused instead:
 * - The archive ends at two zero blocks, as in Go; what follows is only counted (the caller still
 *   drains it, so the blob digest covers every byte). A lone zero block is skipped (Go stops with
 *   ErrHeader there).
 * - A header with a bad checksum is skipped, one block, with a warning. Go stops the layer there
 *   (ErrHeader): the entries before it agree, and the warning says that the layer is damaged.
 * - A header with a sound checksum but no name, or a link field where it does not belong (none
 *   on a link, one on anything else), is skipped likewise when it has no body and no pending
 *   extended header. With a body, skipping one block would read that body as headers while Go skips
 *   it (entries could be smuggled either way); after an extended header, slim would give it to the
 *   next entry and Go to this one: both are refused.
 * - A size that tar readers read differently (tar-header.ts: badSize) is refused.
 * - Extended headers (PAX, GNU long names) over 1 MiB are not applied; the entry is listed as
 *   ignored (Go refuses them, so a runtime would not extract the layer either).
 * - Entries of unknown types and GNU sparse files ('S') are reported as ignored, their bodies not
 *   read: no file is made for an unknown type, and a sparse file's body is its data extents, not
 *   its content (the index records it with its real size and no content).
 */
import { MAX_META_BYTES, TAR_BLOCK, TarHeaderDecoder, type TarHeader } from '../image/archive/tar-header.js'

const BLOCK = TAR_BLOCK
/** Tar writers pad the archive to their record size after the marker (GNU: 10 KiB by default). */
export const PADDING_ALLOWANCE = 64 * 1024

/** Entry types whose entries the walk hands on; the others (unknown types, GNU sparse 'S') are reported as ignored. */
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

/** One entry as its headers describe it (extended headers applied). */
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
  /** Not handed on as an entry (an unknown type, a GNU sparse file, an oversized extended header). */
  ignored: boolean
  linkpath: string
  mode?: number
  uid?: number
  gid?: number
  /** Malformed header fields that do not move bytes, ignored (for a warning on the layer). */
  ignoredFields: string[]
}

/**
 * Where an entry's body goes: slices of the pushed chunks (never copies), then end() after the last
 * byte, or abort() when the walk stops inside the body (a cut layer, a refusal, a failing sink, a
 * cancelled read): what end() would have released (a file descriptor, a temp copy) is released then.
 */
export interface BodySink {
  data(chunk: Buffer): void
  end(): void
  abort?(): void
}

/** What the guard reports while it reads, in archive order. */
export interface GuardListener {
  /** Each entry, ignored ones too; returns where its body goes, or null to skip the body. */
  entry(info: GuardEntry): BodySink | null
  /** A block skipped as an invalid header, why (as the decoder words it) and the name it holds. */
  skipped(why: string, path: string | undefined): void
}

export class TarGuard {
  /** The end-of-archive marker has been seen; nothing after it is read. */
  ended = false
  /** Bytes pushed in total, and the part after the marker. */
  bytes = 0
  trailingBytes = 0
  trailingNonZero = false
  /** The first block after the marker (eStargz keeps its table of contents there). */
  trailingHead: Buffer = Buffer.alloc(0)
  /** Blocks skipped as invalid headers (bad checksum, no name, ...). */
  invalidBlocks = 0
  /** A header that tar readers would read differently: the layer is refused, nothing after it is read. */
  ambiguous: { path: string; type: string; why: string } | undefined
  /** Whether the first block was a plausible header (or zero); false means "not a tar", nothing more is read. */
  firstBlockValid: boolean | undefined

  private mode: 'header' | 'entry' | 'meta' = 'header'
  /** Bytes left of the current entry (body and padding), or of an extended header (its body, then its padding). */
  private remaining = 0
  /** Of `remaining`, the padding after the body: the sink gets only what comes before it. */
  private padding = 0
  private sink: BodySink | null = null
  private metaPadding = 0
  private metaHeader: TarHeader | undefined
  private metaChunks: Buffer[] = []
  private readonly pending = Buffer.alloc(BLOCK)
  private pendingLen = 0
  private sawNull = false
  private readonly decoder = new TarHeaderDecoder()
  /** The entry whose body is being read, for the "truncated inside" message. */
  current: GuardEntry | undefined

  constructor(private readonly listener: GuardListener) {}

  /** Reads the bytes; stops at the end marker, a refusal or "not a tar" (the caller checks which). */
  push(chunk: Buffer): void {
    this.bytes += chunk.length
    if (this.ended) return this.countTrailing(chunk)
    let pos = 0
    const len = chunk.length
    while (pos < len && !this.ended && !this.ambiguous && this.firstBlockValid !== false) {
      if (this.mode === 'entry') {
        const n = Math.min(this.remaining, len - pos)
        if (this.sink) this.feed(chunk, pos, n)
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
          this.padding = 0
          this.mode = this.remaining > 0 ? 'entry' : 'header'
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
    if (this.ended) this.countTrailing(chunk.subarray(pos))
  }

  /** The body part of the next `n` bytes of the current entry to its sink; end() once it is whole. */
  private feed(chunk: Buffer, pos: number, n: number): void {
    const body = Math.min(n, this.remaining - this.padding)
    if (body <= 0) return
    this.sink!.data(pos === 0 && body === chunk.length ? chunk : chunk.subarray(pos, pos + body))
    if (body === this.remaining - this.padding) this.endBody()
  }

  private endBody(): void {
    const sink = this.sink!
    this.sink = null
    sink.end()
  }

  /** The walk stops here: a body begun and not ended never will be. */
  abandon(): void {
    const sink = this.sink
    this.sink = null
    sink?.abort?.()
  }

  /** Call at the end of input: what state the archive was left in. */
  finish(): { truncatedEntry?: GuardEntry; missingBytes: number; partialBlock: number; partialNonZero: boolean; noMarker: boolean } {
    const partialNonZero = this.pending.subarray(0, this.pendingLen).some((b) => b !== 0)
    if (this.mode !== 'header' && this.remaining > 0 && !this.ended) {
      // Only the padding of an entry is missing: its data is whole (tar writers that cut the last
      // record short exist). The padding of an extended header counts as truncation.
      const inPadding = this.mode === 'entry' && this.current && this.remaining <= paddingOf(this.current.size)
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

  /** One block skipped as an invalid header, with a warning. */
  private skipBlock(why: string, path: string | undefined): void {
    this.invalidBlocks++
    this.listener.skipped(why, path)
  }

  private header(block: Buffer): void {
    const decoded = this.decoder.decode(block)
    if (decoded.kind === 'unreadable') {
      // A block the decoder cannot read is skipped, and a zero block before it still counts toward
      // the end marker. With a sound checksum it is a real header that Go reads: refused.
      this.firstBlockValid ??= decoded.checksumValid
      if (decoded.checksumValid) return this.refuse({ path: decoded.path, type: decoded.type, why: `has a ${decoded.why}` })
      if (this.firstBlockValid) this.skipBlock(decoded.complaint.why, decoded.complaint.path)
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
    // A sound checksum makes it a tar header, even one that is then skipped (no name, a link
    // without a target): those are warnings, not "this is not a tar".
    this.firstBlockValid ??= h.checksumValid
    const invalid = headerProblem(h)
    if (invalid) {
      if (!h.checksumValid) {
        if (this.firstBlockValid) this.skipBlock(invalid, h.path)
        return
      }
      // A well-formed header skipped while it declares a body: slim would read that body as
      // headers, other tar readers would skip it. Entries could be smuggled either way.
      if (h.size > 0) return this.refuse({ path: h.path, type, why: h.path ? 'has a link target where none belongs, and a body' : 'has no name, and a body' })
      // Skipping it would give pending extended headers to the next entry; Go gives them to this one.
      if (this.decoder.pending) return this.refuse({ path: h.path, type, why: 'is not a valid entry but follows an extended header' })
      return this.skipBlock(invalid, h.path)
    }
    if (h.badSize) return this.refuse({ path: h.path, type, why: h.badSize })
    const blockSize = BLOCK * Math.ceil(h.size / BLOCK)
    if (h.meta) {
      if (h.size > MAX_META_BYTES) {
        this.skip(blockSize, 0)
        this.listener.entry({ path: h.path, type, size: h.size, sparse: false, ignored: true, linkpath: '', ignoredFields: [] })
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
    this.current = entry
    this.skip(blockSize, blockSize - h.size)
    const sink = this.listener.entry(entry)
    if (!sink) return
    this.sink = sink
    if (h.size === 0) this.endBody()
  }

  /** The first reason to refuse the layer wins; reading stops there (the walker throws it). */
  private refuse(why: { path: string; type: string; why: string }): void {
    this.ambiguous ??= why
  }

  /** The next `n` bytes belong to this entry, the last `padding` of them after its body. */
  private skip(n: number, padding: number): void {
    if (n > 0) {
      this.mode = 'entry'
      this.remaining = n
      this.padding = padding
    }
  }

  private applyMeta(): void {
    if (this.metaHeader) this.decoder.applyMeta(this.metaHeader, Buffer.concat(this.metaChunks))
    this.metaChunks = []
  }
}

/**
 * Why a decoded header is skipped as invalid, or undefined: a bad checksum, no name, a link
 * without a target, a link target on anything but a link or an extended header. Checked in this
 * order; the first reason names the warning.
 */
function headerProblem(h: TarHeader): string | undefined {
  if (!h.checksumValid) return 'checksum failure'
  if (!h.path) return 'path is required'
  const link = LINK_RE.test(h.type)
  if (link && !h.fieldLinkpath) return 'linkpath required'
  if (!link && !EXT_RE.test(h.type) && h.fieldLinkpath) return 'linkpath forbidden'
  return undefined
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
