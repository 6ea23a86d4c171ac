/**
 * Program headers: what the kernel and the dynamic loader actually use. Each entry is read with
 * bounds checks; a table that claims more entries than fit in the file is cut to what fits.
 */
import { ElfBytes, guarded } from './bytes.js'
import { PN_XNUM, PT } from './constants.js'
import type { ElfHeader } from './header.js'
import type { Section } from './sections.js'

export interface Segment {
  type: number
  flags: number
  offset: number
  vaddr: number
  filesz: number
  memsz: number
  align: number
}

function readOne(bytes: ElfBytes, off: number): Segment {
  if (bytes.is64) {
    return {
      type: bytes.u32(off),
      flags: bytes.u32(off + 4),
      offset: bytes.u64(off + 8),
      vaddr: bytes.u64(off + 16),
      filesz: bytes.u64(off + 32),
      memsz: bytes.u64(off + 40),
      align: bytes.u64(off + 48),
    }
  }
  return {
    type: bytes.u32(off),
    offset: bytes.u32(off + 4),
    vaddr: bytes.u32(off + 8),
    filesz: bytes.u32(off + 16),
    memsz: bytes.u32(off + 20),
    flags: bytes.u32(off + 24),
    align: bytes.u32(off + 28),
  }
}

export function readProgramHeaders(bytes: ElfBytes, header: ElfHeader, section0Info: number | undefined, warnings: string[]): Segment[] {
  let count = header.phnum === PN_XNUM && section0Info !== undefined ? section0Info : header.phnum
  if (count === 0 || header.phoff === 0) return []
  const entsize = bytes.is64 ? 56 : 32
  if (header.phentsize < entsize) {
    warnings.push(`program headers ignored: e_phentsize ${header.phentsize} is smaller than ${entsize}`)
    return []
  }
  if (!bytes.has(header.phoff, header.phentsize)) {
    warnings.push(`program headers ignored: e_phoff ${header.phoff} is past the end of the ${bytes.size}-byte file`)
    return []
  }
  const fit = Math.floor((bytes.size - header.phoff) / header.phentsize)
  if (count > fit) {
    warnings.push(`program header table claims ${count} entries but only ${fit} fit in the file; reading ${fit}`)
    count = fit
  }
  // The kernel refuses more than 64 KiB of program headers; real files have about a dozen.
  if (count > 65_535) {
    warnings.push(`program header table claims ${count} entries; reading the first 65535`)
    count = 65_535
  }
  const segments: Segment[] = []
  for (let i = 0; i < count; i++) {
    const s = guarded(warnings, `program header ${i}`, () => readOne(bytes, header.phoff + i * header.phentsize), undefined)
    if (!s) break
    segments.push(s)
  }
  return segments
}

/**
 * File offset of a virtual address, as the loader maps it: through the PT_LOAD segment that
 * contains it (only its file-backed part). Falls back to allocated sections for files without
 * program headers (relocatable objects). Undefined when nothing maps it.
 */
export function vaddrToOffset(segments: Segment[], sections: Section[], addr: number, len = 1): number | undefined {
  if (!Number.isSafeInteger(addr) || addr < 0) return undefined
  for (const s of segments) {
    if (s.type !== PT.LOAD) continue
    if (addr >= s.vaddr && addr + len <= s.vaddr + s.filesz) return s.offset + (addr - s.vaddr)
  }
  for (const s of sections) {
    if (s.addr === 0 || s.type === 8 /* NOBITS */) continue
    if (addr >= s.addr && addr + len <= s.addr + s.size) return s.offset + (addr - s.addr)
  }
  return undefined
}
