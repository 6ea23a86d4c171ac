/**
 * Bounds-checked reads over an ELF file held in a Buffer. Every offset and length in an ELF file is
 * attacker-controlled, so nothing here trusts them: a read past the end throws OutOfRange, which
 * the table readers catch and turn into a warning. Nothing allocates based on a count read from
 * the file; callers bound every loop by the file size first.
 */
export class OutOfRange extends Error {
  constructor(what: string) {
    super(what)
    this.name = 'OutOfRange'
  }
}

export class ElfBytes {
  constructor(
    readonly buf: Buffer,
    readonly little: boolean,
    readonly is64: boolean,
  ) {}

  get size(): number {
    return this.buf.length
  }

  /** Size of an address/offset/xword in this class. */
  get wordSize(): 4 | 8 {
    return this.is64 ? 8 : 4
  }

  /** True when [off, off+len) lies inside the file. */
  has(off: number, len: number): boolean {
    return Number.isSafeInteger(off) && Number.isSafeInteger(len) && off >= 0 && len >= 0 && off + len <= this.buf.length
  }

  private check(off: number, len: number): void {
    if (!this.has(off, len)) throw new OutOfRange(`read of ${len} bytes at offset ${off} is outside the ${this.buf.length}-byte file`)
  }

  u8(off: number): number {
    this.check(off, 1)
    return this.buf[off]!
  }

  u16(off: number): number {
    this.check(off, 2)
    return this.little ? this.buf.readUInt16LE(off) : this.buf.readUInt16BE(off)
  }

  u32(off: number): number {
    this.check(off, 4)
    return this.little ? this.buf.readUInt32LE(off) : this.buf.readUInt32BE(off)
  }

  /** A 64-bit value as a Number. Values above 2^53 lose precision, which is harmless: no valid
   * offset, size or address we use is that large, and every use is range-checked afterwards. */
  u64(off: number): number {
    this.check(off, 8)
    return Number(this.little ? this.buf.readBigUInt64LE(off) : this.buf.readBigUInt64BE(off))
  }

  /** An Elf32_Addr/Off/Word or Elf64_Addr/Off/Xword, depending on the class. */
  word(off: number): number {
    return this.is64 ? this.u64(off) : this.u32(off)
  }

  /** A pointer of an explicit size and endianness (Go build info carries its own). */
  ptr(off: number, size: number, little: boolean): number {
    this.check(off, size)
    if (size === 4) return little ? this.buf.readUInt32LE(off) : this.buf.readUInt32BE(off)
    if (size === 8) return Number(little ? this.buf.readBigUInt64LE(off) : this.buf.readBigUInt64BE(off))
    throw new OutOfRange(`unsupported pointer size ${size}`)
  }

  /** A view (not a copy) of [off, off+len); throws when any of it is outside the file. */
  slice(off: number, len: number): Buffer {
    this.check(off, len)
    return this.buf.subarray(off, off + len)
  }

  /** The part of [off, off+len) that lies inside the file (possibly empty). */
  clip(off: number, len: number): Buffer {
    if (!Number.isSafeInteger(off) || off < 0 || off >= this.buf.length || !(len > 0)) return this.buf.subarray(0, 0)
    return this.buf.subarray(off, Math.min(this.buf.length, off + Math.min(len, this.buf.length)))
  }

  /**
   * A NUL-terminated string starting at `off` and ending before `limit` (exclusive, default end of
   * file). Undefined when `off` is out of range or no NUL is found within `maxLen` bytes.
   */
  cstr(off: number, limit = this.buf.length, maxLen = 4096): string | undefined {
    const end = Math.min(limit, this.buf.length, off + maxLen)
    if (!Number.isSafeInteger(off) || off < 0 || off >= end) return undefined
    const nul = this.buf.indexOf(0, off)
    if (nul < 0 || nul >= end) return undefined
    return this.buf.toString('utf8', off, nul)
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
