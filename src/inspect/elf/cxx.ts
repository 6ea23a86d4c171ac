/**
 * C++ runtime facts from ElfInfo: which standard library the file links and the newest
 * GLIBCXX/CXXABI versions it needs (so a base image's libstdc++ can be checked against them).
 */
import { highestVersion } from './needs.js'
import type { ElfInfo } from './types.js'

export interface CxxInfo {
  stdlib: 'libstdc++' | 'libc++'
  /** The NEEDED entry that says so, e.g. "libstdc++.so.6". */
  library: string
  /** Highest GLIBCXX_3.4.x needed (libstdc++ only). */
  glibcxx?: string
  /** Highest CXXABI_1.3.x needed. */
  cxxabi?: string
}

/** Undefined when the file does not link a C++ standard library dynamically. A binary with
 * -static-libstdc++ carries its C++ runtime inside and needs no library for it. */
export function detectCxx(info: Pick<ElfInfo, 'needed' | 'versionNeeds'>): CxxInfo | undefined {
  const gnu = info.needed.find((n) => n.startsWith('libstdc++.so'))
  const llvm = info.needed.find((n) => n.startsWith('libc++.so'))
  const library = gnu ?? llvm
  if (!library) return undefined
  const out: CxxInfo = { stdlib: gnu ? 'libstdc++' : 'libc++', library }
  const glibcxx = highestVersion(info, 'GLIBCXX_')
  const cxxabi = highestVersion(info, 'CXXABI_')
  if (glibcxx) out.glibcxx = glibcxx
  if (cxxabi) out.cxxabi = cxxabi
  return out
}
