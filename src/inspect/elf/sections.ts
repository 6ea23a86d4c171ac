/**
 * Section headers. Optional at run time (the loader never reads them, and "super-stripped" files
 * drop them), so every failure here is a warning and the rest of the reader falls back to the
 * program headers and the dynamic segment.
 */
import { ElfBytes, guarded } from './bytes.js'
import { SHN_XINDEX, SHT } from './constants.js'
import type { ElfHeader } from './header.js'

export interface Section {
  index: number
  name: string
  type: number
  flags: number
  addr: number
  offset: number
  size: number
  link: number
  info: number
  addralign: number
  entsize: number
}

/** More than real files use (object files built with -ffunction-sections reach ~100k), small enough
 * that a lying count cannot make us build millions of objects. */
const MAX_SECTIONS = 262_144

export interface SectionTable {
  sections: Section[]
  /** sh_info of section 0: the real program-header count when e_phnum is PN_XNUM. */
  section0Info?: number
}

function readOne(bytes: ElfBytes, off: number, index: number): Section {
  if (bytes.is64) {
    return {
      index,
      name: '',
      type: bytes.u32(off + 4),
      flags: bytes.u64(off + 8),
      addr: bytes.u64(off + 16),
      offset: bytes.u64(off + 24),
      size: bytes.u64(off + 32),
      link: bytes.u32(off + 40),
      info: bytes.u32(off + 44),
      addralign: bytes.u64(off + 48),
      entsize: bytes.u64(off + 56),
    }
  }
  return {
    index,
    name: '',
    type: bytes.u32(off + 4),
    flags: bytes.u32(off + 8),
    addr: bytes.u32(off + 12),
    offset: bytes.u32(off + 16),
    size: bytes.u32(off + 20),
    link: bytes.u32(off + 24),
    info: bytes.u32(off + 28),
    addralign: bytes.u32(off + 32),
    entsize: bytes.u32(off + 36),
  }
}

export function readSections(bytes: ElfBytes, header: ElfHeader, warnings: string[]): SectionTable {
  if (header.shoff === 0) return { sections: [] }
  const entsize = bytes.is64 ? 64 : 40
  if (header.shentsize < entsize) {
    if (header.shnum !== 0) warnings.push(`section headers ignored: e_shentsize ${header.shentsize} is smaller than ${entsize}`)
    return { sections: [] }
  }
  if (!bytes.has(header.shoff, header.shentsize)) {
    warnings.push(`section headers ignored: e_shoff ${header.shoff} is past the end of the ${bytes.size}-byte file`)
    return { sections: [] }
  }
  const section0 = guarded(warnings, 'section header 0', () => readOne(bytes, header.shoff, 0), undefined)
  // e_shnum 0 with a non-zero e_shoff means "more than 0xff00 sections; the count is in section 0's sh_size".
  let count = header.shnum === 0 ? (section0?.size ?? 0) : header.shnum
  const fit = Math.floor((bytes.size - header.shoff) / header.shentsize)
  if (count > fit) {
    warnings.push(`section header table claims ${count} entries but only ${fit} fit in the file; reading ${fit}`)
    count = fit
  }
  if (count > MAX_SECTIONS) {
    warnings.push(`section header table claims ${count} entries; reading the first ${MAX_SECTIONS}`)
    count = MAX_SECTIONS
  }
  const sections: Section[] = []
  for (let i = 0; i < count; i++) {
    const s = guarded(warnings, `section header ${i}`, () => readOne(bytes, header.shoff + i * header.shentsize, i), undefined)
    if (!s) break
    sections.push(s)
  }
  const shstrndx = header.shstrndx === SHN_XINDEX ? (section0?.link ?? 0) : header.shstrndx
  const strtab = shstrndx !== 0 ? sections[shstrndx] : undefined
  if (shstrndx !== 0 && (!strtab || strtab.type === SHT.NOBITS)) {
    warnings.push(`section names unavailable: e_shstrndx ${shstrndx} is not a valid string table (${sections.length} sections)`)
  } else if (strtab) {
    const limit = strtab.offset + strtab.size
    if (!bytes.has(strtab.offset, strtab.size)) warnings.push(`section name table (offset ${strtab.offset}, size ${strtab.size}) runs past the end of the file`)
    for (const s of sections) {
      const nameOff = bytes.u32(header.shoff + s.index * header.shentsize)
      s.name = bytes.cstr(strtab.offset + nameOff, limit) ?? ''
    }
  }
  return { sections, section0Info: section0?.info }
}

/** Where a section's bytes are, clipped to the file (NOBITS sections have none). */
export function sectionRange(bytes: ElfBytes, s: Section, warnings: string[]): { off: number; len: number } {
  if (s.type === SHT.NOBITS || s.size === 0) return { off: 0, len: 0 }
  if (!bytes.has(s.offset, s.size)) {
    warnings.push(`section ${s.name || `#${s.index}`} (offset ${s.offset}, size ${s.size}) runs past the end of the ${bytes.size}-byte file; using the part inside it`)
    return bytes.clipRange(s.offset, s.size)
  }
  return { off: s.offset, len: s.size }
}
