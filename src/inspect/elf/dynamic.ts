/**
 * The dynamic section, read the way ld.so reads it: from the PT_DYNAMIC segment, with strings from
 * DT_STRTAB. Section headers are only a fallback, so super-stripped files (no section headers) and
 * files with lying section headers still give their NEEDED/RUNPATH/SONAME.
 */
import { guarded } from './bytes.js'
import { DF_1_NAMES, DF_NAMES, DT, PT, SHT, flagNames } from './constants.js'
import { addressToOffset, sectionsOfType, type ElfFile } from './elf-file.js'

export interface DynamicEntry {
  tag: number
  value: number
}

export interface StringTable {
  offset: number
  size: number
}

export interface DynamicInfo {
  entries: DynamicEntry[]
  strtab?: StringTable
  needed: string[]
  soname?: string
  rpath: string[]
  runpath: string[]
  flags: string[]
  flags1: string[]
  flags1Value: number
  /** Any relocation table (DT_RELA/DT_REL/DT_JMPREL/DT_RELR) is present. */
  hasRelocations: boolean
}

/** First value of a tag, if present. */
export function dynValue(entries: DynamicEntry[], tag: number): number | undefined {
  return entries.find((e) => e.tag === tag)?.value
}

function locate(file: ElfFile): { offset: number; size: number } | undefined {
  const seg = file.segments.find((s) => s.type === PT.DYNAMIC)
  if (seg && file.bytes.has(seg.offset, 1)) return { offset: seg.offset, size: seg.filesz }
  if (seg) file.warnings.push(`PT_DYNAMIC offset ${seg.offset} is past the end of the file; trying the .dynamic section`)
  const sec = sectionsOfType(file, SHT.DYNAMIC)[0]
  if (sec && file.bytes.has(sec.offset, 1)) return { offset: sec.offset, size: sec.size }
  return undefined
}

function readEntries(file: ElfFile, at: { offset: number; size: number }): DynamicEntry[] {
  const { bytes } = file
  const entsize = bytes.is64 ? 16 : 8
  const count = Math.floor(Math.min(at.size, bytes.size - at.offset) / entsize)
  if (at.size > bytes.size - at.offset) file.warnings.push(`dynamic table (offset ${at.offset}, size ${at.size}) runs past the end of the file`)
  const entries: DynamicEntry[] = []
  for (let i = 0; i < count; i++) {
    const off = at.offset + i * entsize
    const tag = bytes.is64 ? bytes.u64(off) : bytes.u32(off)
    if (tag === DT.NULL) return entries
    entries.push({ tag, value: bytes.word(off + bytes.wordSize) })
  }
  if (count > 0) file.warnings.push('dynamic table has no DT_NULL terminator inside its segment')
  return entries
}

/** DT_STRTAB mapped through the load segments; else the string table the .dynamic section links to. */
function locateStrtab(file: ElfFile, entries: DynamicEntry[]): StringTable | undefined {
  const addr = dynValue(entries, DT.STRTAB)
  const size = dynValue(entries, DT.STRSZ)
  if (addr !== undefined) {
    const off = addressToOffset(file, addr)
    if (off !== undefined) {
      const avail = file.bytes.size - off
      return { offset: off, size: size !== undefined && size <= avail ? size : avail }
    }
    file.warnings.push(`DT_STRTAB address 0x${addr.toString(16)} is not in any loaded segment`)
  }
  const dynSec = sectionsOfType(file, SHT.DYNAMIC)[0]
  const linked = dynSec ? file.sections[dynSec.link] : undefined
  if (linked && linked.type === SHT.STRTAB && file.bytes.has(linked.offset, 1)) {
    return { offset: linked.offset, size: Math.min(linked.size, file.bytes.size - linked.offset) }
  }
  return undefined
}

export function dynString(file: ElfFile, strtab: StringTable | undefined, off: number): string | undefined {
  if (!strtab || off >= strtab.size) return undefined
  return file.bytes.cstr(strtab.offset + off, strtab.offset + strtab.size)
}

/** Colon-separated search path as written (an empty element means the current directory to glibc). */
function splitPath(value: string): string[] {
  return value === '' ? [] : value.split(':')
}

export function readDynamic(file: ElfFile): DynamicInfo | undefined {
  const at = locate(file)
  if (!at) return undefined
  const entries = guarded(file.warnings, 'dynamic table', () => readEntries(file, at), [])
  const strtab = locateStrtab(file, entries)
  const str = (e: DynamicEntry, what: string): string | undefined => {
    const s = dynString(file, strtab, e.value)
    if (s === undefined) file.warnings.push(`${what} string at offset ${e.value} is outside the dynamic string table`)
    return s
  }
  const info: DynamicInfo = {
    entries,
    strtab,
    needed: [],
    rpath: [],
    runpath: [],
    flags: [],
    flags1: [],
    flags1Value: 0,
    hasRelocations: false,
  }
  for (const e of entries) {
    switch (e.tag) {
      case DT.NEEDED: {
        const s = str(e, 'DT_NEEDED')
        if (s !== undefined) info.needed.push(s)
        break
      }
      case DT.SONAME:
        info.soname ??= str(e, 'DT_SONAME')
        break
      case DT.RPATH:
        info.rpath.push(...splitPath(str(e, 'DT_RPATH') ?? ''))
        break
      case DT.RUNPATH:
        info.runpath.push(...splitPath(str(e, 'DT_RUNPATH') ?? ''))
        break
      case DT.FLAGS:
        info.flags = flagNames(e.value, DF_NAMES)
        break
      case DT.FLAGS_1:
        info.flags1Value = e.value
        info.flags1 = flagNames(e.value, DF_1_NAMES)
        break
      case DT.RELA:
      case DT.REL:
      case DT.JMPREL:
      case DT.RELR:
        info.hasRelocations = true
        break
    }
  }
  return info
}
