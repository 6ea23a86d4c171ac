/**
 * parseElf: the facts inspection needs from one ELF file, read without executing it.
 *
 * Error contract: input that is not ELF at all (no magic, bad class/encoding byte, header cut
 * short) throws SlimError('format'); callers that only want to skip non-ELF files can test
 * isElf() first. Anything wrong after the header (lying offsets, truncated tables, huge counts,
 * self-referencing links) never throws: the affected field keeps what could be read and the
 * problem is listed in `warnings`. Work is bounded by the file size, never by a count in the file.
 */
import { sourceIndexOf, toSource, type ByteSource } from '../../core/byte-source.js'
import { describe, isSlimError, SlimError } from '../../core/errors.js'
import { DF_1_PIE, ET, PT, SHF_EXECINSTR, SHT, machineName } from './constants.js'
import { readDynamic, type DynamicInfo } from './dynamic.js'
import { findSection, openElf, segmentBytes, type ElfFile } from './elf-file.js'
import { detectLibc } from './libc.js'
import { GO_BUILDINFO_MAGIC, type ByteRange } from './markers.js'
import { buildIdOf, dlopenNotesOf, goBuildIdOf, readNotes } from './notes.js'
import { readDynamicSymbols } from './symbols.js'
import type { ElfInfo, ElfType } from './types.js'
import { readVersionNeeds } from './versions.js'

export interface ParseElfOptions {
  /** Names the file in error messages and warnings (e.g. its path inside the image). */
  name?: string
}

function readInterpreter(file: ElfFile): string | undefined {
  const seg = file.segments.find((s) => s.type === PT.INTERP)
  if (!seg) return undefined
  const data = segmentBytes(file, seg)
  const nul = data.indexOf(0)
  const text = data.toString('utf8', 0, nul < 0 ? data.length : nul)
  if (text === '') {
    file.warnings.push('PT_INTERP is empty or outside the file')
    return undefined
  }
  return text
}

/**
 * EXEC, DYN, PIE or static-pie. A DYN file is an executable (PIE) when DT_FLAGS_1 says PIE, or
 * when it asks for a loader and has no SONAME (older linkers did not set DF_1_PIE; glibc's own
 * libc.so.6 has a PT_INTERP but is a library). static-pie: DYN without PT_INTERP that is an
 * executable (DF_1_PIE, or self-relocating: relocations, an entry point, no SONAME, no NEEDED).
 */
function classify(file: ElfFile, dyn: DynamicInfo | undefined, interpreter: string | undefined): ElfType {
  switch (file.header.type) {
    case ET.REL:
      return 'REL'
    case ET.EXEC:
      return 'EXEC'
    case ET.CORE:
      return 'CORE'
    case ET.DYN: {
      const pieFlag = dyn !== undefined && (dyn.flags1Value & DF_1_PIE) !== 0
      if (interpreter) return pieFlag || !dyn?.soname ? 'PIE' : 'DYN'
      if (pieFlag) return 'static-pie'
      if (dyn && dyn.hasRelocations && file.header.entry !== 0 && !dyn.soname && dyn.needed.length === 0) return 'static-pie'
      return 'DYN'
    }
    default:
      return `unknown(${file.header.type})`
  }
}

function looksLikeGo(file: ElfFile, goBuildId: string | undefined): boolean {
  if (goBuildId !== undefined) return true
  if (findSection(file, '.go.buildinfo') || findSection(file, '.gopclntab') || findSection(file, '.note.go.buildid')) return true
  return file.sections.length === 0 && sourceIndexOf(file.bytes.src, GO_BUILDINFO_MAGIC) >= 0
}

/**
 * The file minus its executable sections: the libc markers are string literals and symbol names,
 * which code sections never hold, and code is most of a static binary (about 40 % of a Go one), so
 * the marker scan skips it. Without executable sections (no section headers), the whole file.
 */
function outsideCode(file: ElfFile): ByteRange[] {
  const size = file.bytes.size
  const code = file.sections
    .filter((s) => (s.flags & SHF_EXECINSTR) !== 0 && s.type !== SHT.NOBITS && s.size > 0 && s.offset < size)
    .map((s) => ({ start: s.offset, end: Math.min(size, s.offset + s.size) }))
    .sort((a, b) => a.start - b.start)
  const out: ByteRange[] = []
  let at = 0
  for (const c of code) {
    if (c.start > at) out.push({ start: at, end: c.start })
    at = Math.max(at, c.end)
  }
  if (at < size) out.push({ start: at, end: size })
  return out
}

function parse(bytes: ByteSource, name: string): ElfInfo {
  const file = openElf(bytes, name)
  const { header } = file
  const interpreter = readInterpreter(file)
  const dyn = readDynamic(file)
  const versions = readVersionNeeds(file, dyn)
  const symbols = readDynamicSymbols(file, dyn, versions.byIndex)
  const notes = readNotes(file)
  const goBuildId = goBuildIdOf(notes)
  const buildId = buildIdOf(notes)
  const isGo = looksLikeGo(file, goBuildId)
  const type = classify(file, dyn, interpreter)
  const needed = dyn?.needed ?? []
  const libc = detectLibc({ type, interpreter, needed, soname: dyn?.soname, versionNeeds: versions.needs, isGo }, bytes, outsideCode(file))

  const info: ElfInfo = {
    class: header.class,
    endianness: header.little ? 'little' : 'big',
    machine: machineName(header.machine, header.class, header.little),
    machineCode: header.machine,
    osabi: header.osabi,
    type,
    needed,
    rpath: dyn?.rpath ?? [],
    runpath: dyn?.runpath ?? [],
    flags1: dyn?.flags1 ?? [],
    stripped: !file.sections.some((s) => s.type === SHT.SYMTAB),
    hasDynamic: dyn !== undefined,
    versionNeeds: versions.needs,
    importedSymbols: symbols.imported,
    dlopenNotes: dlopenNotesOf(notes, file.warnings),
    libc: libc.libc,
    libcEvidence: libc.evidence,
    sections: file.sections.map((s) => s.name).filter((n) => n !== ''),
    warnings: file.warnings,
    entry: header.entry,
    flags: dyn?.flags ?? [],
    importedSymbolVersions: symbols.importedVersions,
    exportedSymbolCount: symbols.exportedCount,
    isGo,
  }
  if (interpreter !== undefined) info.interpreter = interpreter
  if (dyn?.soname !== undefined) info.soname = dyn.soname
  if (buildId !== undefined) info.buildId = buildId
  if (goBuildId !== undefined) info.goBuildId = goBuildId
  return info
}

/** Parses an ELF file held in memory, or read by ranges through a ByteSource (never read whole). */
export function parseElf(bytes: Buffer | ByteSource, options: ParseElfOptions = {}): ElfInfo {
  const name = options.name ?? 'file'
  try {
    return parse(toSource(bytes), name)
  } catch (e) {
    if (isSlimError(e)) throw e
    // Every table reader is guarded, so this is a bug in the reader, not in the file; still a
    // SlimError so one odd binary cannot crash a whole image analysis.
    throw new SlimError('format', `could not read ELF file ${name}: ${describe(e)}; please report this with the file`, { cause: e })
  }
}
