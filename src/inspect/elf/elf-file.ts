/**
 * An opened ELF file: header, program headers and section headers, plus address translation.
 * parseElf builds ElfInfo from it; the Go and Rust readers use it to find sections and to follow
 * virtual addresses. Only the file header can make opening fail (SlimError('format')); damaged
 * tables become warnings.
 */
import { subSource, type ByteSource } from '../../core/byte-source.js'
import { humanBytes } from '../../core/format.js'
import { ElfBytes } from './bytes.js'
import { PF_W, PF_X, PT, SHT } from './constants.js'
import { readHeader, type ElfHeader } from './header.js'
import { readProgramHeaders, vaddrToOffset, type Segment } from './program-headers.js'
import { readSections, sectionRange, type Section } from './sections.js'

/**
 * Largest section or segment read into one Buffer from a file that is read by ranges (a file in
 * memory is never copied). The tables inspection reads (dynamic, versions, notes, build info) are
 * kilobytes; a bigger one in a huge file is hostile, and reading it would undo the range reads.
 * Scans over big regions (strings, markers) go through sectionSource/segmentSource in chunks.
 */
const MAX_WHOLE_READ = 64 * 1024 * 1024

export interface ElfFile {
  name: string
  header: ElfHeader
  bytes: ElfBytes
  segments: Segment[]
  sections: Section[]
  warnings: string[]
}

/** Opens an ELF file held in memory or read by ranges (a ByteSource over a file). */
export function openElf(input: Buffer | ByteSource, name = 'file'): ElfFile {
  const { header, bytes } = readHeader(input, name)
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
  const r = sectionRange(file.bytes, s, file.warnings)
  return wholeRead(file, r.off, r.len, `section ${s.name || `#${s.index}`}`)
}

/** A section's bytes as a source, for scanning in chunks (nothing is read yet). */
export function sectionSource(file: ElfFile, s: Section): ByteSource {
  const r = sectionRange(file.bytes, s, file.warnings)
  return subSource(file.bytes.src, r.off, r.len)
}

/** Reads [off, off+len) (already inside the file) whole, at most MAX_WHOLE_READ of it from a file. */
function wholeRead(file: ElfFile, off: number, len: number, what: string): Buffer {
  if (len > MAX_WHOLE_READ && !file.bytes.src.buffer) {
    file.warnings.push(`${what} is ${humanBytes(len)}; only its first ${humanBytes(MAX_WHOLE_READ)} were read`)
    len = MAX_WHOLE_READ
  }
  return len === 0 ? Buffer.alloc(0) : file.bytes.slice(off, len)
}

export function segmentsOfType(file: ElfFile, type: number): Segment[] {
  return file.segments.filter((s) => s.type === type)
}

/** The file-backed bytes of a segment, clipped to the file. */
export function segmentBytes(file: ElfFile, s: Segment): Buffer {
  const r = segmentRange(file, s)
  return wholeRead(file, r.off, r.len, `segment at offset ${s.offset}`)
}

/** A segment's file-backed bytes as a source, for scanning in chunks. */
export function segmentSource(file: ElfFile, s: Segment): ByteSource {
  const r = segmentRange(file, s)
  return subSource(file.bytes.src, r.off, r.len)
}

function segmentRange(file: ElfFile, s: Segment): { off: number; len: number } {
  if (!file.bytes.has(s.offset, s.filesz)) {
    file.warnings.push(`segment at offset ${s.offset} (size ${s.filesz}) runs past the end of the ${file.bytes.size}-byte file; using the part inside it`)
    return file.bytes.clipRange(s.offset, s.filesz)
  }
  return { off: s.offset, len: s.filesz }
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
export function readOnlyData(file: ElfFile): ByteSource[] {
  const named = file.sections.filter((s) => s.type === SHT.PROGBITS && (s.name === '.rodata' || s.name.startsWith('.rodata.')))
  if (named.length > 0) return named.map((s) => sectionSource(file, s))
  const loads = segmentsOfType(file, PT.LOAD)
  const ro = loads.filter((s) => (s.flags & (PF_W | PF_X)) === 0)
  return (ro.length > 0 ? ro : loads).map((s) => segmentSource(file, s))
}
