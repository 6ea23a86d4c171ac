/**
 * Dynamic symbols (.dynsym): which functions the program imports from its libraries. With section
 * headers the table size is known; without them (super-stripped files) the loader never needs the
 * count, so we derive it: DT_HASH's nchain (exact), or else the larger of the highest symbol
 * reachable through DT_GNU_HASH's chains and the room before the next dynamic table (GNU_HASH
 * skips undefined symbols). Every count is bounded by the file size.
 */
import { guarded } from './bytes.js'
import { DT, EM, SHT, SHN_UNDEF } from './constants.js'
import { dynString, dynValue, type DynamicInfo, type StringTable } from './dynamic.js'
import { addressToOffset, sectionsOfType, type ElfFile } from './elf-file.js'

export interface DynamicSymbols {
  imported: string[]
  /** "name@VERSION" for imports whose version is known. */
  importedVersions: string[]
  exportedCount: number
}

interface SymbolTable {
  offset: number
  count: number
  entsize: number
  strtab?: StringTable
  versym?: number // file offset of the .gnu.version array (one u16 per symbol)
}

/** Symbol count from DT_GNU_HASH: one past the highest symbol index any bucket chain reaches. */
function countFromGnuHash(file: ElfFile, off: number): number {
  const { bytes } = file
  const maxWords = Math.floor(bytes.size / 4)
  const nbuckets = bytes.u32(off)
  const symoffset = bytes.u32(off + 4)
  const bloomSize = bytes.u32(off + 8)
  if (nbuckets > maxWords || bloomSize > maxWords) throw new Error(`DT_GNU_HASH claims ${nbuckets} buckets and ${bloomSize} bloom words, more than the file holds`)
  const buckets = off + 16 + bloomSize * bytes.wordSize
  const chains = buckets + nbuckets * 4
  let max = 0
  for (let i = 0; i < nbuckets; i++) max = Math.max(max, bytes.u32(buckets + i * 4))
  if (max < symoffset) return symoffset
  let index = max
  // Each chain ends at an entry with the low bit set; bounded by the words the file can hold.
  for (let steps = 0; steps < maxWords; steps++) {
    const h = bytes.u32(chains + (index - symoffset) * 4)
    index++
    if ((h & 1) !== 0) return index
  }
  throw new Error('DT_GNU_HASH chain never ends')
}

/** Symbol count from DT_HASH: nchain. s390x (64-bit) uses 8-byte hash words. */
function countFromHash(file: ElfFile, off: number): number {
  const wide = file.bytes.is64 && file.header.machine === EM.S390
  return wide ? file.bytes.u64(off + 8) : file.bytes.u32(off + 4)
}

/** Tags whose value is the address of another table the linker places near .dynsym. */
const TABLE_TAGS: number[] = [DT.STRTAB, DT.HASH, DT.GNU_HASH, DT.VERSYM, DT.VERNEED, 0x6ffffffc /* VERDEF */, DT.RELA, DT.REL, DT.JMPREL, DT.RELR]

function symbolsBeforeNextTable(dyn: DynamicInfo, symtab: number, entsize: number): number | undefined {
  let next = Infinity
  for (const e of dyn.entries) if (TABLE_TAGS.includes(e.tag) && e.value > symtab && e.value < next) next = e.value
  return Number.isFinite(next) ? Math.floor((next - symtab) / entsize) : undefined
}

function locate(file: ElfFile, dyn: DynamicInfo | undefined): SymbolTable | undefined {
  const entsizeDefault = file.bytes.is64 ? 24 : 16
  const sec = sectionsOfType(file, SHT.DYNSYM)[0]
  if (sec && file.bytes.has(sec.offset, entsizeDefault)) {
    const entsize = sec.entsize >= entsizeDefault ? sec.entsize : entsizeDefault
    const linked = file.sections[sec.link]
    const strtab =
      linked && linked.type === SHT.STRTAB && file.bytes.has(linked.offset, 1)
        ? { offset: linked.offset, size: Math.min(linked.size, file.bytes.size - linked.offset) }
        : dyn?.strtab
    const versec = sectionsOfType(file, SHT.GNU_VERSYM)[0]
    return { offset: sec.offset, count: Math.floor(sec.size / entsize), entsize, strtab, versym: versec?.offset }
  }
  if (!dyn) return undefined
  const addr = dynValue(dyn.entries, DT.SYMTAB)
  if (addr === undefined) return undefined
  const offset = addressToOffset(file, addr, entsizeDefault)
  if (offset === undefined) {
    file.warnings.push(`DT_SYMTAB address 0x${addr.toString(16)} is not in any loaded segment`)
    return undefined
  }
  const syment = dynValue(dyn.entries, DT.SYMENT) ?? entsizeDefault
  const entsize = syment >= entsizeDefault ? syment : entsizeDefault
  let count: number | undefined
  const gnuHash = dynValue(dyn.entries, DT.GNU_HASH)
  const hash = dynValue(dyn.entries, DT.HASH)
  const gnuOff = gnuHash !== undefined ? addressToOffset(file, gnuHash, 16) : undefined
  const hashOff = hash !== undefined ? addressToOffset(file, hash, 8) : undefined
  // DT_HASH's nchain is the exact count; DT_GNU_HASH only covers exported symbols, so it is the fallback.
  if (hashOff !== undefined) count = guarded(file.warnings, 'DT_HASH', () => countFromHash(file, hashOff), undefined)
  if (count === undefined && gnuOff !== undefined) {
    const hashed = guarded(file.warnings, 'DT_GNU_HASH', () => countFromGnuHash(file, gnuOff), undefined)
    // DT_GNU_HASH only covers exported symbols: undefined ones past the last hashed symbol are
    // invisible to it. Linkers put the next dynamic table right after .dynsym, so the gap up to
    // the nearest table address is the table's real extent; the hash count is a lower bound.
    const gap = symbolsBeforeNextTable(dyn, addr, entsize)
    count = hashed === undefined ? gap : gap !== undefined && gap > hashed ? gap : hashed
  }
  if (count === undefined) {
    file.warnings.push('dynamic symbol count unknown: no section headers and no usable DT_HASH/DT_GNU_HASH')
    return undefined
  }
  const versymAddr = dynValue(dyn.entries, DT.VERSYM)
  const versym = versymAddr !== undefined ? addressToOffset(file, versymAddr, 2) : undefined
  return { offset, count, entsize, strtab: dyn.strtab, versym }
}

export function readDynamicSymbols(file: ElfFile, dyn: DynamicInfo | undefined, versionNames: Map<number, string>): DynamicSymbols {
  const result: DynamicSymbols = { imported: [], importedVersions: [], exportedCount: 0 }
  const table = locate(file, dyn)
  if (!table) return result
  const { bytes } = file
  let count = table.count
  const fit = Math.floor((bytes.size - table.offset) / table.entsize)
  if (count > fit) {
    file.warnings.push(`dynamic symbol table claims ${count} entries but only ${fit} fit in the file; reading ${fit}`)
    count = fit
  }
  guarded(
    file.warnings,
    'dynamic symbols',
    () => {
      for (let i = 1; i < count; i++) {
        const off = table.offset + i * table.entsize
        const nameOff = bytes.u32(off)
        const info = bytes.is64 ? bytes.u8(off + 4) : bytes.u8(off + 12)
        const shndx = bytes.is64 ? bytes.u16(off + 6) : bytes.u16(off + 14)
        const bind = info >> 4
        if (shndx !== SHN_UNDEF) {
          if (bind === 1 || bind === 2 || bind === 10) result.exportedCount++
          continue
        }
        const name = dynString(file, table.strtab, nameOff)
        if (!name) continue
        result.imported.push(name)
        let version: string | undefined
        if (table.versym !== undefined && bytes.has(table.versym + i * 2, 2)) {
          version = versionNames.get(bytes.u16(table.versym + i * 2) & 0x7fff)
        }
        result.importedVersions.push(version ? `${name}@${version}` : name)
      }
    },
    undefined,
  )
  return result
}
