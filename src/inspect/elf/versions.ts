/**
 * Version needs (.gnu.version_r / DT_VERNEED): which symbol versions each library must provide,
 * e.g. libc.so.6 → GLIBC_2.34. The chain is walked with its own counts and "next" links, each
 * bounded by the table's own size and the file size, so a lying count or link cannot loop.
 */
import { guarded } from './bytes.js'
import { DT, SHT } from './constants.js'
import { dynString, dynValue, type DynamicInfo, type StringTable } from './dynamic.js'
import { addressToOffset, sectionsOfType, type ElfFile } from './elf-file.js'
import type { VersionNeed } from './types.js'

export interface VersionNeeds {
  needs: VersionNeed[]
  /** vna_other → version name, to label imported symbols through .gnu.version. */
  byIndex: Map<number, string>
}

const ENTRY = 16 // sizeof(Elf{32,64}_Verneed) == sizeof(Elf{32,64}_Vernaux) == 16

function locate(file: ElfFile, dyn: DynamicInfo | undefined): { offset: number; count: number; strtab?: StringTable } | undefined {
  const sec = sectionsOfType(file, SHT.GNU_VERNEED)[0]
  if (sec && file.bytes.has(sec.offset, ENTRY)) {
    const linked = file.sections[sec.link]
    const strtab =
      linked && linked.type === SHT.STRTAB && file.bytes.has(linked.offset, 1)
        ? { offset: linked.offset, size: Math.min(linked.size, file.bytes.size - linked.offset) }
        : dyn?.strtab
    return { offset: sec.offset, count: sec.info, strtab }
  }
  if (!dyn) return undefined
  const addr = dynValue(dyn.entries, DT.VERNEED)
  if (addr === undefined) return undefined
  const offset = addressToOffset(file, addr, ENTRY)
  if (offset === undefined) {
    file.warnings.push(`DT_VERNEED address 0x${addr.toString(16)} is not in any loaded segment`)
    return undefined
  }
  return { offset, count: dynValue(dyn.entries, DT.VERNEEDNUM) ?? 0, strtab: dyn.strtab }
}

export function readVersionNeeds(file: ElfFile, dyn: DynamicInfo | undefined): VersionNeeds {
  const result: VersionNeeds = { needs: [], byIndex: new Map() }
  const at = locate(file, dyn)
  if (!at) return result
  const { bytes } = file
  const maxEntries = Math.floor(bytes.size / ENTRY)
  guarded(
    file.warnings,
    'version needs',
    () => {
      let off = at.offset
      const count = Math.min(at.count, maxEntries)
      for (let i = 0; i < count; i++) {
        const cnt = bytes.u16(off + 2)
        const fileName = dynString(file, at.strtab, bytes.u32(off + 4)) ?? ''
        const need: VersionNeed = { file: fileName, versions: [] }
        let aux = off + bytes.u32(off + 8)
        for (let j = 0; j < Math.min(cnt, maxEntries); j++) {
          const name = dynString(file, at.strtab, bytes.u32(aux + 8))
          const other = bytes.u16(aux + 6)
          if (name !== undefined) {
            need.versions.push(name)
            result.byIndex.set(other & 0x7fff, name)
          }
          const next = bytes.u32(aux + 12)
          if (next === 0) break
          aux += next
        }
        result.needs.push(need)
        const next = bytes.u32(off + 12)
        if (next === 0) break
        off += next
      }
    },
    undefined,
  )
  return result
}
