/**
 * Bounds-checked reads over an ELF file, in memory or read by ranges from a file (a ByteSource:
 * a 900 MB program is never held whole). Every offset and length in an ELF file is
 * attacker-controlled, so nothing here trusts them: a read past the end throws OutOfRange, which
 * the table readers catch and turn into a warning. Nothing allocates based on a count read from
 * the file; callers bound every loop by the file size first.
 */
import type { ByteSource } from '../../core/byte-source.js'

export class OutOfRange extends Error {
  constructor(what: string) {
    super(what)
    this.name = 'OutOfRange'
  }
}

export class ElfBytes {
  /** The whole file when it is in memory (reads are then views, not copies). */
  private readonly mem: Buffer | undefined

  constructor(
    readonly src: ByteSource,
    readonly little: boolean,
    readonly is64: boolean,
  ) {
    this.mem = src.buffer
  }

  get size(): number {
    return this.src.size
  }

  /** [off, off+len) as a Buffer; the range is checked by the caller. */
  private at(off: number, len: number): { b: Buffer; i: number } {
    return this.mem ? { b: this.mem, i: off } : { b: this.src.read(off, len), i: 0 }
  }

  /** Size of an address/offset/xword in this class. */
  get wordSize(): 4 | 8 {
    return this.is64 ? 8 : 4
  }

  /** True when [off, off+len) lies inside the file. */
  has(off: number, len: number): boolean {
    return Number.isSafeInteger(off) && Number.isSafeInteger(len) && off >= 0 && len >= 0 && off + len <= this.size
  }

  private check(off: number, len: number): void {
    if (!this.has(off, len)) throw new OutOfRange(`read of ${len} bytes at offset ${off} is outside the ${this.size}-byte file`)
  }

  u8(off: number): number {
    this.check(off, 1)
    const { b, i } = this.at(off, 1)
    return b[i]!
  }

  u16(off: number): number {
    this.check(off, 2)
    const { b, i } = this.at(off, 2)
    return this.little ? b.readUInt16LE(i) : b.readUInt16BE(i)
  }

  u32(off: number): number {
    this.check(off, 4)
    const { b, i } = this.at(off, 4)
    return this.little ? b.readUInt32LE(i) : b.readUInt32BE(i)
  }

  /** A 64-bit value as a Number. Values above 2^53 lose precision, which is harmless: no valid
   * offset, size or address we use is that large, and every use is range-checked afterwards. */
  u64(off: number): number {
    this.check(off, 8)
    const { b, i } = this.at(off, 8)
    return Number(this.little ? b.readBigUInt64LE(i) : b.readBigUInt64BE(i))
  }

  /** An Elf32_Addr/Off/Word or Elf64_Addr/Off/Xword, depending on the class. */
  word(off: number): number {
    return this.is64 ? this.u64(off) : this.u32(off)
  }

  /** A pointer of an explicit size and endianness (Go build info carries its own). */
  ptr(off: number, size: number, little: boolean): number {
    this.check(off, size)
    const { b, i } = this.at(off, size)
    if (size === 4) return little ? b.readUInt32LE(i) : b.readUInt32BE(i)
    if (size === 8) return Number(little ? b.readBigUInt64LE(i) : b.readBigUInt64BE(i))
    throw new OutOfRange(`unsupported pointer size ${size}`)
  }

  /**
   * The bytes of [off, off+len) (a view in memory, a copy from a file); throws when any of it is
   * outside the file. Callers that may get a large range use region() and scan it in chunks.
   */
  slice(off: number, len: number): Buffer {
    this.check(off, len)
    return this.src.read(off, len)
  }

  /** The part of [off, off+len) that lies inside the file (possibly empty). */
  clip(off: number, len: number): Buffer {
    const r = this.clipRange(off, len)
    return r.len === 0 ? Buffer.alloc(0) : this.src.read(r.off, r.len)
  }

  /** [off, off+len) clipped to the file, as offsets. */
  clipRange(off: number, len: number): { off: number; len: number } {
    if (!Number.isSafeInteger(off) || off < 0 || off >= this.size || !(len > 0)) return { off: 0, len: 0 }
    return { off, len: Math.min(this.size, off + Math.min(len, this.size)) - off }
  }

  /**
   * A NUL-terminated string starting at `off` and ending before `limit` (exclusive, default end of
   * file). Undefined when `off` is out of range or no NUL is found within `maxLen` bytes.
   */
  cstr(off: number, limit = this.size, maxLen = 4096): string | undefined {
    const end = Math.min(limit, this.size, off + maxLen)
    if (!Number.isSafeInteger(off) || off < 0 || off >= end) return undefined
    if (this.mem) {
      const nul = this.mem.indexOf(0, off)
      if (nul < 0 || nul >= end) return undefined
      return this.mem.toString('utf8', off, nul)
    }
    // Most names are short: look at a small window first, the whole allowed length only if needed.
    for (const len of [Math.min(256, end - off), end - off]) {
      const b = this.src.read(off, len)
      const nul = b.indexOf(0)
      if (nul >= 0) return b.toString('utf8', 0, nul)
      if (len === end - off) break
    }
    return undefined
  }
}

/** Run `read`, turning an OutOfRange (or any other surprise from lying data) into a warning. */
export function guarded<T>(warnings: string[], what: string, read: () => T, fallback: T): T {
  try {
    return read()
  } catch (e) {
    warnings.push(`${what}: ${e instanceof Error ? e.message : String(e)}`)
    return fallback
  }
}
