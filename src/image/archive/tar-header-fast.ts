/**
 * The common tar header without node-tar: a file, directory or link whose name fields are ASCII
 * and NUL-padded and whose checksum is plain octal, with no extended header pending. node-tar's
 * `Header` decodes every field through a string, a regular expression and parseInt, and builds
 * three Dates; that was 5 µs a header, 5 s of a layer of a million files. This reads only what
 * TarHeaderDecoder uses, and gives exactly node-tar's values (test/tar-header-fast.test.ts
 * compares the two on every header of the corpus's tars and on random blocks). Anything else,
 * and any block where the two could differ, is left to node-tar (undefined).
 *
 * The caller has already checked that mode, uid, gid, size and mtime are plain octal
 * (tar-header.ts fieldProblems).
 */

/** What TarHeaderDecoder reads from node-tar's Header. */
export interface HeaderFields {
  path?: string
  linkpath?: string
  /** node-tar's type name ('File', 'Directory', ...) and its one-character key. */
  type: string
  typeKey: string
  size?: number
  mode?: number
  uid?: number
  gid?: number
  cksumValid: boolean
  nullBlock: boolean
}

const TYPES: Record<number, [key: string, name: string]> = {
  0x00: ['0', 'File'], // node-tar reads a NUL type as '0'
  0x30: ['0', 'File'],
  0x31: ['1', 'Link'],
  0x32: ['2', 'SymbolicLink'],
  0x35: ['5', 'Directory'],
}

/** The magic and version of a POSIX ustar header (bytes 257-264). */
export const POSIX_MAGIC = Buffer.from('ustar\u000000', 'latin1')

/** A header's unsigned byte sum with its checksum field (148-155) counted as spaces: what the checksum must equal. */
export function headerSum(b: Buffer): number {
  let sum = 8 * 0x20
  for (let i = 0; i < 148; i++) sum += b[i]!
  for (let i = 156; i < 512; i++) sum += b[i]!
  return sum
}

export function fastHeader(b: Buffer): HeaderFields | undefined {
  const t = TYPES[b[156]!]
  if (!t) return undefined
  // A base-256 number (high bit set) is read by node-tar's large-number code.
  if ((b[100]! | b[108]! | b[116]! | b[124]!) & 0x80) return undefined
  const cksum = checksumField(b)
  if (cksum === undefined) return undefined
  let path = asciiField(b, 0, 100)
  const linkpath = asciiField(b, 157, 257)
  if (path === undefined || linkpath === undefined) return undefined
  let [typeKey, type] = t
  if (typeKey === '0' && path.endsWith('/')) [typeKey, type] = ['5', 'Directory']
  if (b.compare(POSIX_MAGIC, 0, POSIX_MAGIC.length, 257, 265) === 0) {
    // A prefix reaching byte 475 (node-tar then reads 155 bytes, and prepends even an empty one) is left to node-tar.
    if (b[475] !== 0) return undefined
    const prefix = asciiField(b, 345, 475)
    if (prefix === undefined) return undefined
    if (prefix) path = `${prefix}/${path}`
  }
  return {
    path,
    linkpath,
    type,
    typeKey,
    size: typeKey === '5' ? 0 : octal(b, 124, 136),
    mode: octal(b, 100, 108),
    uid: octal(b, 108, 116),
    gid: octal(b, 116, 124),
    cksumValid: headerSum(b) === cksum,
    nullBlock: false,
  }
}

/**
 * A NUL-terminated ASCII string filling [start, end) with NULs after it, or undefined: node-tar
 * decodes UTF-8 and cuts at the first NUL only up to a line break, which this does not copy.
 */
function asciiField(b: Buffer, start: number, end: number): string | undefined {
  let n = start
  while (n < end && b[n] !== 0) {
    if (b[n]! >= 0x80) return undefined
    n++
  }
  for (let i = n; i < end; i++) if (b[i] !== 0) return undefined
  return b.toString('latin1', start, n)
}

/** A plain octal field (checked by the caller): its digits' value, or undefined when it has none (as parseInt). */
function octal(b: Buffer, start: number, end: number): number | undefined {
  let i = start
  while (i < end && b[i] === 0x20) i++
  let v = 0
  let digits = 0
  for (; i < end && b[i]! >= 0x30 && b[i]! <= 0x37; i++, digits++) v = v * 8 + (b[i]! - 0x30)
  return digits ? v : undefined
}

/**
 * The checksum as node-tar reads it (12 bytes from 148, up to the first NUL, trimmed, parseInt
 * base 8), when the 8-byte field is spaces, octal digits, then a space or NUL: node-tar then
 * stops inside the field as Go does. Anything else is left to node-tar.
 */
function checksumField(b: Buffer): number | undefined {
  let i = 148
  while (i < 156 && b[i] === 0x20) i++
  let v = 0
  let digits = 0
  for (; i < 156 && b[i]! >= 0x30 && b[i]! <= 0x37; i++, digits++) v = v * 8 + (b[i]! - 0x30)
  if (!digits || i >= 156 || (b[i] !== 0x20 && b[i] !== 0)) return undefined
  return v
}
