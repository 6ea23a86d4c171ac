/**
 * slim's one tar header decoder: node-tar's `Header` and `Pax` classes (the common header is read
 * by ./tar-header-fast.ts, with node-tar's values and without its cost), applied with the rules of
 * Go's archive/tar (the reader of Docker, containerd and skopeo), plus the checks a hostile archive
 * needs. Both tar readers use it: the outer-archive index (./tar-index.ts, by offset) and the layer
 * walk (layers/tar-guard.ts, streaming), which decodes each header once, here.
 *
 * What happens to a malformed number depends on whether it moves bytes:
 * - The size decides where the next header is. A header size that is not plain octal (leading
 *   spaces, digits, trailing spaces or NULs) or positive base-256 below 2^53, and a PAX `size` that
 *   is not plain decimal digits below 2^53, is `badSize`: the caller refuses the archive. So is a
 *   size node-tar's Parser and Go would read differently: a `size` in a global PAX header (node-tar
 *   applies it to every later entry, Go to none), a PAX size given by an earlier of two extended
 *   headers (node-tar merges them, Go keeps the last), a PAX size before an entry type node-tar
 *   does not apply extended headers to, and a body on a link, device or FIFO (Go reads none).
 * - mode, uid, gid, mtime, atime, ctime, devmajor and devminor do not move bytes. A malformed
 *   header field is listed in `ignoredFields` and read as absent (mode, uid and gid as 0); a
 *   malformed PAX record for uid, gid or a time is listed and dropped, so the header's field stands.
 */
import { Header, Pax, types, type HeaderData } from 'tar'
import { fastHeader, headerSum, POSIX_MAGIC, type HeaderFields } from './tar-header-fast.js'

export const TAR_BLOCK = 512
/** Longest extended header body (PAX, GNU long name) applied: Go refuses longer ones (maxSpecialFileSize). */
export const MAX_META_BYTES = 1024 * 1024

/** Headers that describe the next entry instead of being one (node-tar's type names). */
const META_TYPES = new Set([
  'NextFileHasLongLinkpath',
  'NextFileHasLongPath',
  'OldGnuLongPath',
  'GlobalExtendedHeader',
  'ExtendedHeader',
  'OldExtendedHeader',
])
/** Go's isHeaderOnlyType: these never have a body there (node-tar skips the bytes their size claims). */
const HEADER_ONLY_TYPES = new Set(['Link', 'SymbolicLink', 'CharacterDevice', 'BlockDevice', 'FIFO'])

/** One header, as node-tar decodes it with the pending extended headers applied (Go's way). */
export interface TarHeader {
  path: string
  linkpath: string
  /** The header's own link field, which the layer walk checks (an extended linkpath aside; tar-guard.ts). */
  fieldLinkpath: string
  /** node-tar's type name: 'File', 'Directory', 'SymbolicLink', 'ExtendedHeader', 'Unsupported', ... */
  type: string
  /** Bytes of body after the header (0 for directories, as node-tar and Go read them). */
  size: number
  mode?: number
  uid?: number
  gid?: number
  checksumValid: boolean
  /** A PAX or GNU long-name header: its body applies to the next entry. */
  meta: boolean
  /** Why tar readers would disagree on where this entry's body ends; set means refuse. */
  badSize?: string
  /** Malformed fields that do not move bytes, ignored (e.g. "uid field (\"12x\")"). */
  ignoredFields: string[]
  /** GNU sparse file (type 'S', or PAX GNU.sparse.* records), with what the headers say it really is. */
  sparse: boolean
  sparseName?: string
  realSize?: number
}

export type DecodedBlock =
  | { kind: 'zero' }
  /**
   * node-tar's Header throws on it; `checksumValid` tells a damaged header from noise. `complaint` is
   * how the layer walk words the block when it skips it: the decoding error, or a checksum failure
   * when only slim's stricter reading of the numbers found it unreadable.
   */
  | { kind: 'unreadable'; why: string; path: string; type: string; checksumValid: boolean; complaint: { why: string; path?: string } }
  | { kind: 'header'; header: TarHeader }

interface NumericField {
  name: string
  offset: number
  length: number
  /** Read by node-tar only in POSIX ustar headers (and atime/ctime only without a long prefix). */
  ustar?: 'always' | 'short-prefix'
}
const FIELDS: NumericField[] = [
  { name: 'mode', offset: 100, length: 8 },
  { name: 'uid', offset: 108, length: 8 },
  { name: 'gid', offset: 116, length: 8 },
  { name: 'size', offset: 124, length: 12 },
  { name: 'mtime', offset: 136, length: 12 },
  { name: 'devmajor', offset: 329, length: 8, ustar: 'always' },
  { name: 'devminor', offset: 337, length: 8, ustar: 'always' },
  { name: 'atime', offset: 476, length: 12, ustar: 'short-prefix' },
  { name: 'ctime', offset: 488, length: 12, ustar: 'short-prefix' },
]
const CHECKSUM = { offset: 148, length: 8 }
const DECIMAL = /^\d{1,16}$/
const PAX_TIME = /^-?\d{1,16}(\.\d{1,9})?$/

export class TarHeaderDecoder {
  /** `fast: false` decodes every block with node-tar's Header (the tests compare the two). */
  constructor(private readonly options: { fast?: boolean } = {}) {}

  /** PAX records of the last 'x' header (Go: each replaces the one before), minus dropped ones. */
  private pax: HeaderData | undefined
  private paxProblems: string[] = []
  private paxBadSize: string | undefined
  private paxSparse: { name?: string; realSize?: number } | undefined
  /** The size node-tar's Parser would use: it merges successive 'x' headers. */
  private mergedPaxSize: number | undefined
  private longPath: string | undefined
  private longLink: string | undefined
  /** A global PAX header set a size: node-tar applies it to every later entry, Go ignores it. */
  private globalSize: string | undefined

  /** Extended headers are waiting for their entry. */
  get pending(): boolean {
    return this.pax !== undefined || this.longPath !== undefined || this.longLink !== undefined
  }

  decode(block: Buffer): DecodedBlock {
    const problems = fieldProblems(block)
    const unreadable = problems.find((p) => p.why.startsWith('base-256'))
    const ex = this.extended()
    // The common header is read without node-tar (./tar-header-fast.ts), with node-tar's result.
    let h: HeaderFields | undefined = problems === NO_PROBLEMS && !ex && this.options.fast !== false ? fastHeader(block) : undefined
    let failure = unreadable ? `${unreadable.field} field that is not a readable number (${unreadable.why})` : ''
    let complaint: { why: string; path?: string } | undefined
    if (!unreadable && !h) {
      try {
        h = new Header(block, 0, ex)
      } catch (e) {
        complaint = { why: errorMessage(e) }
        failure = `header node-tar cannot read (${complaint.why})`
      }
    }
    if (!h) {
      // node-tar cannot decode the block: its name and type come from a copy without numbers.
      const probe = Buffer.from(block)
      for (const f of [...FIELDS, CHECKSUM]) probe.fill(0, f.offset, f.offset + f.length)
      const named = new Header(probe)
      complaint ??= complaintAbout(block, ex)
      return { kind: 'unreadable', why: failure, path: named.path ?? '', type: named.type, checksumValid: checksumMatches(block), complaint }
    }
    if (h.nullBlock) return { kind: 'zero' }
    const type = h.type
    const meta = META_TYPES.has(type)
    // node-tar applies extended headers only to ordinary file-system entries.
    const extended = !meta && h.typeKey !== 'Unsupported' && (types.normalFsTypes as Set<string>).has(h.typeKey)
    // A malformed field is read as absent, unless a PAX record gave the value instead.
    const sane = (field: 'mode' | 'uid' | 'gid', value: number | undefined): number | undefined =>
      problems.some((p) => p.field === field && p.why) && !(extended && ex?.[field] !== undefined) ? undefined : value
    const ignoredFields: string[] = []
    let badSize: string | undefined
    for (const p of problems) {
      if (!p.why) continue
      if (p.field === 'size') badSize = `has an invalid size field (${p.why})`
      else ignoredFields.push(`${p.field} field (${p.why})`)
    }
    // node-tar's Header re-reads the link field and prepends the ustar prefix after applying the
    // extended path and link (its ReadEntry applies them again): the extended values win here.
    const header: TarHeader = {
      path: (extended ? ex?.path : undefined) ?? h.path ?? '',
      linkpath: (extended ? ex?.linkpath : undefined) ?? h.linkpath ?? '',
      fieldLinkpath: h.linkpath ?? '',
      type,
      size: h.size ?? 0,
      mode: sane('mode', h.mode),
      uid: sane('uid', h.uid),
      gid: sane('gid', h.gid),
      checksumValid: h.cksumValid,
      meta,
      ignoredFields,
      sparse: type === 'SparseFile',
    }
    if (!meta) {
      badSize ??= this.sizeDisagreement(extended, header)
      if (extended) {
        ignoredFields.push(...this.paxProblems)
        if (this.paxSparse) Object.assign(header, { sparse: true, sparseName: this.paxSparse.name, realSize: this.paxSparse.realSize })
      }
      if (type === 'SparseFile') header.realSize = gnuSparseRealSize(block)
    }
    if (badSize) header.badSize = badSize
    return { kind: 'header', header }
  }

  /** The body of a meta header (PAX records, a GNU long name or link), for the entries after it. */
  applyMeta(header: TarHeader, body: Buffer): void {
    const text = body.toString('utf8')
    switch (header.type) {
      case 'ExtendedHeader':
      case 'OldExtendedHeader':
        this.setPax(text)
        break
      case 'GlobalExtendedHeader':
        // Go gives global records to no later entry, and so does slim; node-tar would apply a size.
        this.globalSize = paxRecord(text, 'size') ?? this.globalSize
        break
      case 'NextFileHasLongPath':
      case 'OldGnuLongPath':
        this.longPath = text.replace(/\0.*/s, '')
        break
      case 'NextFileHasLongLinkpath':
        this.longLink = text.replace(/\0.*/s, '')
        break
    }
  }

  /** The entry took the pending extended headers (node-tar's Parser and Go apply them to one entry). */
  endEntry(): void {
    this.pax = undefined
    this.paxProblems = []
    this.paxBadSize = undefined
    this.paxSparse = undefined
    this.mergedPaxSize = undefined
    this.longPath = undefined
    this.longLink = undefined
  }

  private setPax(text: string): void {
    const parsed = Pax.parse(text, undefined, false)
    const nodeTarSize = parsed.size
    const size = paxRecord(text, 'size')
    const fields: HeaderData = {}
    // `type` is left out: Go ignores it, and node-tar's Header throws on an unknown one.
    for (const [k, v] of Object.entries(parsed)) if (v !== undefined && k !== 'global' && k !== 'type') Object.assign(fields, { [k]: v })
    this.paxProblems = []
    this.paxBadSize = undefined
    if (size !== undefined && !(DECIMAL.test(size) && Number.isSafeInteger(Number(size)))) {
      this.paxBadSize = `has an invalid PAX size record (size=${size.slice(0, 40)})`
    } else if (size !== undefined && splitsDifferently(text)) {
      this.paxBadSize = 'has PAX records that tar readers split differently (a value with a line break) and a size'
    } else if (size === undefined && this.mergedPaxSize !== undefined) {
      this.paxBadSize = 'has two PAX headers and only the first sets its size (tar readers take different ones)'
    }
    for (const key of ['uid', 'gid', 'mtime', 'atime', 'ctime'] as const) {
      const v = paxRecord(text, key)
      if (v === undefined || (key === 'uid' || key === 'gid' ? DECIMAL.test(v) && Number.isSafeInteger(Number(v)) : PAX_TIME.test(v))) continue
      this.paxProblems.push(`PAX ${key} record (${key}=${v.slice(0, 40)})`)
      delete fields[key]
    }
    if (nodeTarSize !== undefined) this.mergedPaxSize = nodeTarSize
    this.pax = fields
    this.paxSparse = paxSparseInfo(text) ?? this.paxSparse
  }

  /** The extended fields node-tar's Header applies to this block: the last PAX header, GNU names over PAX ones (Go). */
  private extended(): HeaderData | undefined {
    if (!this.pending) return undefined
    const ex: HeaderData = { ...this.pax }
    if (this.longPath !== undefined) ex.path = this.longPath
    if (this.longLink !== undefined) ex.linkpath = this.longLink
    return ex
  }

  /** Why node-tar's Parser and Go would skip different numbers of bytes after this entry. */
  private sizeDisagreement(extended: boolean, header: TarHeader): string | undefined {
    if (this.globalSize !== undefined) return `follows a global PAX header that sets a size (size=${this.globalSize.slice(0, 40)})`
    if (extended && this.paxBadSize) return this.paxBadSize
    if (!extended && this.mergedPaxSize !== undefined) return 'has a PAX size record on an entry type node-tar applies none to'
    if (header.size > 0 && HEADER_ONLY_TYPES.has(header.type)) return 'is a link or device with a body'
    return undefined
  }
}

/**
 * What a block slim found unreadable before decoding it says when decoded: node-tar's error, or
 * (an extended header gave the unreadable field, so it was never read) a bad checksum.
 */
function complaintAbout(block: Buffer, ex: HeaderData | undefined): { why: string; path?: string } {
  try {
    return { why: 'checksum failure', path: new Header(block, 0, ex).path }
  } catch (e) {
    return { why: errorMessage(e) }
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/**
 * Go reads PAX records by their length prefix, node-tar line by line: a record whose value holds a
 * line break is one record for Go, and its lines may be records of their own for node-tar.
 */
function splitsDifferently(text: string): boolean {
  return text
    .replace(/\n$/, '')
    .split('\n')
    .some((line) => parseInt(line, 10) !== Buffer.byteLength(line) + 1)
}

/** The value of the last `key` record in PAX text, as written (undefined when absent). */
function paxRecord(text: string, key: string): string | undefined {
  let value: string | undefined
  for (const m of text.matchAll(new RegExp(`^\\d+ ${key}=(.*)$`, 'gm'))) value = m[1]
  return value
}

const NO_PROBLEMS: ReadonlyArray<{ field: string; why: string }> = []

/** The malformed numeric fields of a block, in field order (the one shared empty list for almost every header). */
function fieldProblems(block: Buffer): ReadonlyArray<{ field: string; why: string }> {
  let problems: Array<{ field: string; why: string }> | undefined
  let ustar: boolean | undefined
  for (const f of FIELDS) {
    if (f.ustar && !((ustar ??= block.compare(POSIX_MAGIC, 0, POSIX_MAGIC.length, 257, 265) === 0) && (f.ustar === 'always' || block[475] === 0))) continue
    const why = fieldProblem(block, f)
    if (why) (problems ??= []).push({ field: f.name, why })
  }
  if (block[CHECKSUM.offset] & 0x80) (problems ??= []).push({ field: 'checksum', why: 'base-256' })
  return problems ?? NO_PROBLEMS
}

/**
 * What Go's parseOctal accepts and node-tar reads the same: digits between spaces, then spaces or
 * NULs. Checked byte by byte: every header has nine such fields.
 */
function isPlainOctal(block: Buffer, start: number, end: number): boolean {
  let i = start
  while (i < end && block[i] === 0x20) i++
  while (i < end && block[i] >= 0x30 && block[i] <= 0x37) i++
  while (i < end && (block[i] === 0x20 || block[i] === 0)) i++
  return i === end
}

/** Why a numeric header field is malformed, or undefined. Base-256 values are judged by node-tar itself. */
function fieldProblem(block: Buffer, f: NumericField): string | undefined {
  // The common case first, without a view of the field: every header has nine of them.
  if (!(block[f.offset]! & 0x80) && isPlainOctal(block, f.offset, f.offset + f.length)) return undefined
  const raw = block.subarray(f.offset, f.offset + f.length)
  if (raw[0] & 0x80) {
    const probe = Buffer.alloc(TAR_BLOCK)
    raw.copy(probe, f.offset)
    if (f.ustar) {
      POSIX_MAGIC.copy(probe, 257)
    }
    let h: Header
    try {
      h = new Header(probe)
    } catch (e) {
      return `base-256 ${e instanceof Error && /safe integer/.test(e.message) ? 'above 2^53' : 'with an invalid first byte'}`
    }
    // node-tar turns a negative size into "no size"; a negative id or mode is no id or mode.
    const value = f.name === 'size' ? h.size : f.name === 'mode' ? h.mode : f.name === 'uid' ? h.uid : f.name === 'gid' ? h.gid : 0
    return value === undefined || value < 0 ? 'negative' : undefined
  }
  const text = raw.toString('latin1')
  return `"${text.replace(/\0+$/, '').replace(/[^\x20-\x7e]/g, '?')}" is not octal`
}

/**
 * node-tar computes a header's checksum only for blocks it can decode; for one it cannot, the same
 * unsigned sum (the checksum field counted as spaces) against the stored value, which node-tar reads.
 */
function checksumMatches(block: Buffer): boolean {
  const probe = Buffer.alloc(TAR_BLOCK)
  block.copy(probe, CHECKSUM.offset, CHECKSUM.offset, CHECKSUM.offset + CHECKSUM.length)
  let stored: number | undefined
  try {
    stored = new Header(probe).cksum
  } catch {
    return false
  }
  return headerSum(block) === stored
}

/**
 * Old GNU sparse headers keep the real size at offset 483, where node-tar's Header does not look:
 * the 12 bytes are decoded by moving them into the size field of an empty block.
 */
function gnuSparseRealSize(block: Buffer): number | undefined {
  const probe = Buffer.alloc(TAR_BLOCK)
  block.copy(probe, 124, 483, 495)
  try {
    return new Header(probe).size
  } catch {
    return undefined
  }
}

/** GNU.sparse.* PAX records (formats 0.1 and 1.0) name the real file and its real size. */
function paxSparseInfo(text: string): { name?: string; realSize?: number } | undefined {
  if (!text.includes('GNU.sparse.')) return undefined
  const size = paxRecord(text, 'GNU\\.sparse\\.realsize') ?? paxRecord(text, 'GNU\\.sparse\\.size')
  const n = size === undefined ? NaN : Number(size)
  return { name: paxRecord(text, 'GNU\\.sparse\\.name'), realSize: Number.isSafeInteger(n) && n >= 0 ? n : undefined }
}
