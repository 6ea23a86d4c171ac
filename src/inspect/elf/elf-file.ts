/**
 * An opened ELF file: header, program headers and section headers, plus address translation.
 * parseElf builds ElfInfo from it; the Go and Rust readers use it to find sections and to follow
 * virtual addresses. Only the file header can make opening fail (SlimError('format')); damaged
 * tables become warnings.
 */
import { ElfBytes } from './bytes.js'
import { PF_W, PF_X, PT, SHT } from './constants.js'
import { readHeader, type ElfHeader } from './header.js'
import { readProgramHeaders, vaddrToOffset, type Segment } from './program-headers.js'
import { readSections, sectionData, type Section } from './sections.js'

export interface ElfFile {
  name: string
  header: ElfHeader
  bytes: ElfBytes
  segments: Segment[]
  sections: Section[]
  warnings: string[]
}

export function openElf(buf: Buffer, name = 'file'): ElfFile {
  const { header, bytes } = readHeader(buf, name)
  const warnings: string[] = []
  const { sections, section0Info } = readSections(bytes, header, warnings)
  const segments = readProgramHeaders(bytes, header, section0Info, warnings)
  return { name, header, bytes, segments, sections, warnings }
}

export function findSection(file: ElfFile, name: string): Section | undefined {
  return file.sections.find((s) => s.name === name)
}

export function sectionsOfType(file: ElfFile, type: number): Section[] {
  return file.sections.filter((s) => s.type === type)
}

export function sectionBytes(file: ElfFile, s: Section): Buffer {
  return sectionData(file.bytes, s, file.warnings)
}

export function segmentsOfType(file: ElfFile, type: number): Segment[] {
  return file.segments.filter((s) => s.type === type)
}

/** The file-backed bytes of a segment, clipped to the file. */
export function segmentBytes(file: ElfFile, s: Segment): Buffer {
  if (!file.bytes.has(s.offset, s.filesz)) {
    file.warnings.push(`segment at offset ${s.offset} (size ${s.filesz}) runs past the end of the ${file.bytes.size}-byte file; using the part inside it`)
    return file.bytes.clip(s.offset, s.filesz)
  }
  return file.bytes.slice(s.offset, s.filesz)
}

export function addressToOffset(file: ElfFile, addr: number, len = 1): number | undefined {
  return vaddrToOffset(file.segments, file.sections, addr, len)
}

/** `len` bytes at virtual address `addr`, or undefined when they are not all in the file. */
export function readAtAddress(file: ElfFile, addr: number, len: number): Buffer | undefined {
  const off = addressToOffset(file, addr, Math.max(1, len))
  if (off === undefined || !file.bytes.has(off, len)) return undefined
  return file.bytes.slice(off, len)
}

/**
 * The read-only data the program carries: .rodata-like sections when there are section headers,
 * else the loadable segments that are neither writable nor executable (or, for old layouts with
 * text and rodata in one R+X segment, every loadable segment).
 */
export function readOnlyData(file: ElfFile): Buffer[] {
  const named = file.sections.filter((s) => s.type === SHT.PROGBITS && (s.name === '.rodata' || s.name.startsWith('.rodata.')))
  if (named.length > 0) return named.map((s) => sectionBytes(file, s))
  const loads = segmentsOfType(file, PT.LOAD)
  const ro = loads.filter((s) => (s.flags & (PF_W | PF_X)) === 0)
  return (ro.length > 0 ? ro : loads).map((s) => segmentBytes(file, s))
}
