/**
 * A reader of the jimage format (a runtime image's lib/modules), written from the format: a header
 * in the platform's byte order (magic 0xCAFEDADA, version, flags, resource count, table length,
 * locations size, strings size), then the redirect and offsets tables (table length × 4 bytes
 * each), the location attributes and the strings; resources follow that index. Each location is a
 * run of attributes, one byte (kind << 3 | length - 1) then that many big-endian bytes, ended by
 * kind 0: module, parent, base and extension name a resource (offsets into the strings), offset,
 * compressed and uncompressed give its bytes. slim lists every location (it needs all modules,
 * never one name), so the redirect table's hash lookup is not needed.
 *
 * Read by ranges through a ByteSource (a JRE's lib/modules is over 100 MB): the index once, then
 * each module-info.class. Every count, size and offset is checked against the file.
 */
import type { ByteSource } from '../../core/byte-source.js'

export const JIMAGE_MAGIC = 0xcafedada
const HEADER_BYTES = 7 * 4
/** A JDK's image has about 30,000 resources; this bounds a hostile table. */
const MAX_LOCATIONS = 1_000_000
/** A JDK's index (tables, locations, strings) is about 1.5 MB; this bounds a hostile one. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024

export class JimageError extends Error {}

const enum Attr {
  End = 0,
  Module = 1,
  Parent = 2,
  Base = 3,
  Extension = 4,
  Offset = 5,
  Compressed = 6,
  Uncompressed = 7,
}

export interface JimageResource {
  module: string
  /** The path inside the module ("java/lang/Object.class", "module-info.class"). */
  path: string
  /** Offset of its bytes in the file. */
  offset: number
  /** Bytes stored (compressed size, or the size when stored as is). */
  stored: number
  size: number
  compressed: boolean
}

export interface Jimage {
  version: string
  littleEndian: boolean
  /** Every resource of every module, in the order of the offsets table. */
  resources: JimageResource[]
  /** Module name → its bytes as stored (all of its resources) and its module-info.class, if any. */
  modules: Map<string, { storedBytes: number; moduleInfo?: JimageResource }>
  /** The bytes of a resource stored uncompressed; a compressed one is a JimageError. */
  read(r: JimageResource, max: number): Buffer
}

/** Reads the index of the jimage in `src`; throws JimageError on anything the format does not allow. */
export function readJimage(src: ByteSource): Jimage {
  if (src.size < HEADER_BYTES) throw new JimageError(`${src.size} bytes: shorter than a jimage header`)
  const head = src.read(0, HEADER_BYTES)
  const littleEndian = head.readUInt32LE(0) === JIMAGE_MAGIC
  if (!littleEndian && head.readUInt32BE(0) !== JIMAGE_MAGIC) throw new JimageError(`no jimage magic (0x${head.readUInt32BE(0).toString(16)})`)
  const u32 = (b: Buffer, at: number): number => (littleEndian ? b.readUInt32LE(at) : b.readUInt32BE(at))
  const version = u32(head, 4)
  const [resourceCount, tableLength, locationsSize, stringsSize] = [u32(head, 12), u32(head, 16), u32(head, 20), u32(head, 24)]
  if (version >>> 16 !== 1) throw new JimageError(`jimage version ${version >>> 16}.${version & 0xffff}: slim reads version 1`)
  if (tableLength > MAX_LOCATIONS || resourceCount > MAX_LOCATIONS) throw new JimageError(`${Math.max(tableLength, resourceCount)} resources: more than the ${MAX_LOCATIONS} slim reads`)
  const indexBytes = HEADER_BYTES + tableLength * 8 + locationsSize + stringsSize
  if (indexBytes > MAX_INDEX_BYTES) throw new JimageError(`an index of ${indexBytes} bytes: more than the ${MAX_INDEX_BYTES} slim reads`)
  if (indexBytes > src.size) throw new JimageError(`the index (${indexBytes} bytes) runs past the end of the file (${src.size} bytes)`)
  const index = src.read(0, indexBytes)
  const offsetsAt = HEADER_BYTES + tableLength * 4
  const locationsAt = offsetsAt + tableLength * 4
  const stringsAt = locationsAt + locationsSize
  const strings = index.subarray(stringsAt, stringsAt + stringsSize)
  const locations = index.subarray(locationsAt, stringsAt)
  const text = new Map<number, string>()
  const str = (at: number): string => {
    const hit = text.get(at)
    if (hit !== undefined) return hit
    if (at >= strings.length) throw new JimageError(`a name at string offset ${at}, past the strings (${strings.length} bytes)`)
    const end = strings.indexOf(0, at)
    if (end < 0) throw new JimageError(`the name at string offset ${at} has no end`)
    const s = strings.toString('utf8', at, end)
    text.set(at, s)
    return s
  }
  const resources: JimageResource[] = []
  const modules = new Map<string, { storedBytes: number; moduleInfo?: JimageResource }>()
  for (let i = 0; i < tableLength; i++) {
    const at = u32(index, offsetsAt + i * 4)
    const a = attributes(locations, at)
    const module = str(a[Attr.Module])
    // The /modules/... and /packages/... directory entries have no module: not resources.
    if (!module || module === 'modules' || module === 'packages') continue
    const [parent, base, ext] = [str(a[Attr.Parent]), str(a[Attr.Base]), str(a[Attr.Extension])]
    const path = `${parent ? `${parent}/` : ''}${base}${ext ? `.${ext}` : ''}`
    const size = a[Attr.Uncompressed]
    const stored = a[Attr.Compressed] || size
    const offset = indexBytes + a[Attr.Offset]
    if (offset + stored > src.size) throw new JimageError(`/${module}/${path}: its ${stored} bytes at ${offset} run past the end of the file (${src.size} bytes)`)
    const r: JimageResource = { module, path, offset, stored, size, compressed: a[Attr.Compressed] !== 0 }
    resources.push(r)
    const m = modules.get(module) ?? { storedBytes: 0 }
    m.storedBytes += stored
    if (path === 'module-info.class') m.moduleInfo = r
    modules.set(module, m)
  }
  return {
    version: `${version >>> 16}.${version & 0xffff}`,
    littleEndian,
    resources,
    modules,
    read(r, max) {
      if (r.compressed) throw new JimageError(`/${r.module}/${r.path} is stored compressed (a jlink --compress image): slim reads only uncompressed resources`)
      if (r.size > max) throw new JimageError(`/${r.module}/${r.path} is ${r.size} bytes: more than the ${max} slim reads`)
      return src.read(r.offset, r.size)
    },
  }
}

/** The attribute values of the location at `at` (index = kind; absent ones are 0). */
function attributes(locations: Buffer, at: number): number[] {
  const values = [0, 0, 0, 0, 0, 0, 0, 0]
  for (let p = at; ; ) {
    if (p >= locations.length) throw new JimageError(`a location at ${at} runs past the location attributes (${locations.length} bytes)`)
    const b = locations[p]!
    const kind = b >> 3
    if (kind === Attr.End) return values
    if (kind > Attr.Uncompressed) throw new JimageError(`a location at ${at} has attribute kind ${kind}, not one of the format's 1..7`)
    const len = (b & 7) + 1
    if (p + 1 + len > locations.length) throw new JimageError(`a location at ${at} runs past the location attributes (${locations.length} bytes)`)
    let v = 0
    // Big-endian, up to 8 bytes: offsets beyond 2^53 are not a real file's and fail the bounds check.
    for (let j = 0; j < len; j++) v = v * 256 + locations[p + 1 + j]!
    values[kind] = v
    p += 1 + len
  }
}
