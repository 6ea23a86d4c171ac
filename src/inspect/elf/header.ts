/**
 * The ELF file header (e_ident + Elf32_Ehdr/Elf64_Ehdr). This is the one part that must be sound:
 * without class, endianness and the table offsets nothing else can be read, so a file that is not
 * ELF, or whose header is cut short, is a SlimError('format') rather than a warning.
 */
import { toSource, type ByteSource } from '../../core/byte-source.js'
import { SlimError } from '../../core/errors.js'
import { ElfBytes } from './bytes.js'
import type { ElfClass } from './types.js'

export const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]) // "\x7fELF"

export interface ElfHeader {
  class: ElfClass
  little: boolean
  osabi: number
  type: number
  machine: number
  version: number
  entry: number
  phoff: number
  shoff: number
  flags: number
  ehsize: number
  phentsize: number
  phnum: number
  shentsize: number
  shnum: number
  shstrndx: number
}

/** True when the bytes start with the ELF magic (cheap check before parseElf). */
export function isElf(bytes: Buffer): boolean {
  return bytes.length >= 4 && bytes.subarray(0, 4).equals(ELF_MAGIC)
}

/** Parse the file header. `name` only labels error messages. */
export function readHeader(input: Buffer | ByteSource, name = 'file'): { header: ElfHeader; bytes: ElfBytes } {
  const src = toSource(input)
  // Only the first 64 bytes are looked at here; the rest is read by ranges later.
  const buf = src.read(0, Math.min(64, src.size))
  if (!isElf(buf)) {
    throw new SlimError('format', `${name} is not an ELF file (no \\x7fELF magic); pass a Linux executable or shared library`)
  }
  if (src.size < 16) {
    throw new SlimError('format', `${name} is a truncated ELF file (${src.size} bytes, shorter than e_ident); the file is damaged or was cut short`)
  }
  const eiClass = buf[4]
  const eiData = buf[5]
  if (eiClass !== 1 && eiClass !== 2) {
    throw new SlimError('format', `${name} has an invalid ELF class byte ${eiClass} (expected 1 for ELF32 or 2 for ELF64); the file is damaged`)
  }
  if (eiData !== 1 && eiData !== 2) {
    throw new SlimError('format', `${name} has an invalid ELF data-encoding byte ${eiData} (expected 1 little-endian or 2 big-endian); the file is damaged`)
  }
  const is64 = eiClass === 2
  const bytes = new ElfBytes(src, eiData === 1, is64)
  const ehsize = is64 ? 64 : 52
  if (src.size < ehsize) {
    throw new SlimError('format', `${name} is a truncated ELF file (${src.size} bytes, the ELF${is64 ? 64 : 32} header needs ${ehsize}); the file is damaged or was cut short`)
  }
  // Offsets of the class-dependent fields after e_entry.
  const w = is64 ? 8 : 4
  const afterEntry = 24 + w
  const header: ElfHeader = {
    class: is64 ? 64 : 32,
    little: bytes.little,
    osabi: buf[7]!,
    type: bytes.u16(16),
    machine: bytes.u16(18),
    version: bytes.u32(20),
    entry: bytes.word(24),
    phoff: bytes.word(afterEntry),
    shoff: bytes.word(afterEntry + w),
    flags: bytes.u32(afterEntry + 2 * w),
    ehsize: bytes.u16(afterEntry + 2 * w + 4),
    phentsize: bytes.u16(afterEntry + 2 * w + 6),
    phnum: bytes.u16(afterEntry + 2 * w + 8),
    shentsize: bytes.u16(afterEntry + 2 * w + 10),
    shnum: bytes.u16(afterEntry + 2 * w + 12),
    shstrndx: bytes.u16(afterEntry + 2 * w + 14),
  }
  return { header, bytes }
}
