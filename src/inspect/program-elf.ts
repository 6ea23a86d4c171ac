/**
 * The program's ELF summary as Inspection reports it: its own facts plus the symbol versions its
 * whole closure needs, and the checks made against the image config (architecture).
 */
import { posix } from 'node:path'
import type { RootFs } from '../layers/rootfs.js'
import type { LoadedObject } from './closure/search.js'
import { highestVersion, needsVersion } from './elf/index.js'
import type { ElfInfo, ElfMachine } from './elf/types.js'
import { isGlibcPart } from './needs/context.js'
import type { ElfSummary, SymbolVersions } from './types.js'

export function summarise(path: string, info: ElfInfo, objects: LoadedObject[]): ElfSummary {
  const glibcProvided = (n: string): boolean => isGlibcPart(n) || /^lib(stdc\+\+|gcc_s)\.so/.test(n)
  const all = objects.filter((o) => o.via === 'root' || !glibcProvided(posix.basename(o.path)))
  const merged = { versionNeeds: all.flatMap((o) => o.info.versionNeeds) }
  return {
    path,
    class: info.class,
    endianness: info.endianness,
    machine: info.machine,
    type: info.type,
    libc: info.libc,
    libcEvidence: info.libcEvidence,
    ...(info.interpreter ? { interpreter: info.interpreter } : {}),
    static: !info.interpreter && info.needed.length === 0,
    stripped: info.stripped,
    needed: info.needed,
    rpath: info.rpath,
    runpath: info.runpath,
    versions: versionsOf(info),
    closureVersions: versionsOf(merged),
    cxx: objects.some((o) => /^libstdc\+\+\.so|^libc\+\+\.so/.test(posix.basename(o.path))) || info.needed.some((n) => /^libstdc\+\+|^libc\+\+/.test(n)),
    warnings: info.warnings,
  }
}

function versionsOf(info: Pick<ElfInfo, 'versionNeeds'>): SymbolVersions {
  const strip = (v: string | undefined, prefix: string): string | undefined => v?.slice(prefix.length)
  const v: SymbolVersions = { glibcPrivate: needsVersion(info, 'GLIBC_PRIVATE'), abiDtRelr: needsVersion(info, 'GLIBC_ABI_DT_RELR') }
  const glibc = strip(highestVersion(info, 'GLIBC_'), 'GLIBC_')
  const glibcxx = strip(highestVersion(info, 'GLIBCXX_'), 'GLIBCXX_')
  const cxxabi = strip(highestVersion(info, 'CXXABI_'), 'CXXABI_')
  const gcc = strip(highestVersion(info, 'GCC_'), 'GCC_')
  if (glibc) v.glibc = glibc
  if (glibcxx) v.glibcxx = glibcxx
  if (cxxabi) v.cxxabi = cxxabi
  if (gcc) v.gcc = gcc
  return v
}

export function standalone(realPath: string, path: string, info: ElfInfo, rootfs: RootFs): LoadedObject {
  return {
    names: new Set([path]),
    path,
    realPath,
    symlinks: rootfs.realpath(path)?.chain ?? [],
    size: rootfs.stat(realPath)?.size ?? 0,
    info,
    origin: posix.dirname(realPath),
    depth: 0,
    rule: 'path',
    via: 'root',
    requestedAs: path,
    neededBy: [],
  }
}

const GOARCH_TO_MACHINE: Record<string, ElfMachine[]> = {
  amd64: ['x86-64'],
  arm64: ['aarch64'],
  arm: ['arm'],
  '386': ['i386'],
  riscv64: ['riscv64'],
  s390x: ['s390x'],
  ppc64le: ['ppc64le'],
  ppc64: ['ppc64'],
  loong64: ['loongarch64'],
  mips: ['mips'],
}

export function foreignArch(architecture: string, machine: ElfMachine): string | undefined {
  const expected = GOARCH_TO_MACHINE[architecture]
  if (!expected || expected.includes(machine)) return undefined
  return `the image says architecture ${architecture} but the program is an ELF file for ${machine}`
}
