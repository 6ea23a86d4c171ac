/**
 * ELF facts for inspection, from the layer index when it has them: the index pass summarises
 * every ELF file as it streams by (summarizeElfForIndex below is what it runs), so the closure of
 * a program whose libraries are spread over many layers reads no layer again. A RootFs without
 * heads, or a file the pass did not summarise (over 64 MiB, damaged), is opened and parsed here:
 * by ranges when it is big, so a 900 MB program is never held in memory whole.
 */
import type { ByteSource } from '../core/byte-source.js'
import type { RootFs } from '../layers/rootfs.js'
import { isElf, parseElf } from './elf/index.js'
import type { ElfInfo } from './elf/types.js'

/** Bump when parseElf's output changes: the layer index cache keeps summaries by this version. */
export const ELF_SUMMARY_VERSION = 'elf-2'

/** The summariser the layer index runs on each ELF file during its pass (plain JSON data out). */
export function summarizeElfForIndex(bytes: Buffer | ByteSource): ElfInfo {
  return parseElf(bytes)
}

export interface ElfReader {
  /** parseElf of the file at a real path, once per path. */
  readElf(realPath: string): Promise<ElfInfo>
  /** Whether the file starts with the ELF magic (false when it cannot be read). */
  isElfFile(path: string): Promise<boolean>
}

export function elfReader(rootfs: RootFs, open: (path: string) => Promise<ByteSource>): ElfReader {
  const cache = new Map<string, Promise<ElfInfo>>()
  const readElf = (realPath: string): Promise<ElfInfo> => {
    let p = cache.get(realPath)
    if (!p) {
      p = (async () => {
        const summary = rootfs.head?.(realPath)?.summary
        if (summary) return summary as ElfInfo
        return parseElf(await open(realPath), { name: realPath })
      })()
      cache.set(realPath, p)
    }
    return p
  }
  const isElfFile = async (path: string): Promise<boolean> => {
    if (rootfs.head) return rootfs.head(path)?.magic === 'elf'
    try {
      const src = await open(path)
      return isElf(src.read(0, Math.min(4, src.size)))
    } catch {
      return false
    }
  }
  return { readElf, isElfFile }
}
