/** Numeric values from the System V gABI, the LSB and glibc's <elf.h>; names as readelf prints them. */
import type { ElfClass, ElfMachine } from './types.js'

export const ET = { REL: 1, EXEC: 2, DYN: 3, CORE: 4 } as const

export const PT = {
  LOAD: 1,
  DYNAMIC: 2,
  INTERP: 3,
  NOTE: 4,
  PHDR: 6,
  TLS: 7,
} as const
export const PF_X = 1
export const PF_W = 2
/** sh_flags: the section holds machine code. */
export const SHF_EXECINSTR = 4

export const SHT = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  HASH: 5,
  DYNAMIC: 6,
  NOTE: 7,
  NOBITS: 8,
  REL: 9,
  DYNSYM: 11,
  GNU_HASH: 0x6ffffff6,
  GNU_VERDEF: 0x6ffffffd,
  GNU_VERNEED: 0x6ffffffe,
  GNU_VERSYM: 0x6fffffff,
} as const

/** e_phnum/e_shnum escape values: the real count lives in section header 0. */
export const PN_XNUM = 0xffff
export const SHN_UNDEF = 0
export const SHN_XINDEX = 0xffff

export const DT = {
  NULL: 0,
  NEEDED: 1,
  HASH: 4,
  STRTAB: 5,
  SYMTAB: 6,
  RELA: 7,
  RELASZ: 8,
  STRSZ: 10,
  SYMENT: 11,
  SONAME: 14,
  RPATH: 15,
  REL: 17,
  RELSZ: 18,
  JMPREL: 23,
  RUNPATH: 29,
  FLAGS: 30,
  RELRSZ: 35,
  RELR: 36,
  GNU_HASH: 0x6ffffef5,
  VERSYM: 0x6ffffff0,
  FLAGS_1: 0x6ffffffb,
  VERNEED: 0x6ffffffe,
  VERNEEDNUM: 0x6fffffff,
} as const

/** DT_FLAGS bits. */
export const DF_NAMES: [number, string][] = [
  [0x1, 'ORIGIN'],
  [0x2, 'SYMBOLIC'],
  [0x4, 'TEXTREL'],
  [0x8, 'BIND_NOW'],
  [0x10, 'STATIC_TLS'],
]

/** DT_FLAGS_1 bits, named as readelf prints them. */
export const DF_1_PIE = 0x08000000
export const DF_1_NAMES: [number, string][] = [
  [0x1, 'NOW'],
  [0x2, 'GLOBAL'],
  [0x4, 'GROUP'],
  [0x8, 'NODELETE'],
  [0x10, 'LOADFLTR'],
  [0x20, 'INITFIRST'],
  [0x40, 'NOOPEN'],
  [0x80, 'ORIGIN'],
  [0x100, 'DIRECT'],
  [0x200, 'TRANS'],
  [0x400, 'INTERPOSE'],
  [0x800, 'NODEFLIB'],
  [0x1000, 'NODUMP'],
  [0x2000, 'CONFALT'],
  [0x4000, 'ENDFILTEE'],
  [0x8000, 'DISPRELDNE'],
  [0x10000, 'DISPRELPND'],
  [0x20000, 'NODIRECT'],
  [0x40000, 'IGNMULDEF'],
  [0x80000, 'NOKSYMS'],
  [0x100000, 'NOHDR'],
  [0x200000, 'EDITED'],
  [0x400000, 'NORELOC'],
  [0x800000, 'SYMINTPOSE'],
  [0x1000000, 'GLOBAUDIT'],
  [0x2000000, 'SINGLETON'],
  [0x4000000, 'STUB'],
  [DF_1_PIE, 'PIE'],
  [0x10000000, 'KMOD'],
  [0x20000000, 'WEAKFILTER'],
  [0x40000000, 'NOCOMMON'],
]

export function flagNames(value: number, table: [number, string][]): string[] {
  const names: string[] = []
  let rest = value
  for (const [bit, name] of table) {
    if ((value & bit) !== 0) {
      names.push(name)
      rest &= ~bit
    }
  }
  if (rest !== 0) names.push(`0x${(rest >>> 0).toString(16)}`)
  return names
}

export const EM = {
  I386: 3,
  MIPS: 8,
  PPC: 20,
  PPC64: 21,
  S390: 22,
  ARM: 40,
  X86_64: 62,
  AARCH64: 183,
  RISCV: 243,
  LOONGARCH: 258,
} as const

/** Our machine name: class and endianness matter where one e_machine covers several ABIs. */
export function machineName(code: number, cls: ElfClass, little: boolean): ElfMachine {
  switch (code) {
    case EM.X86_64:
      return 'x86-64'
    case EM.AARCH64:
      return 'aarch64'
    case EM.ARM:
      return 'arm'
    case EM.I386:
      return 'i386'
    case EM.RISCV:
      return cls === 64 ? 'riscv64' : 'riscv32'
    case EM.S390:
      return cls === 64 ? 's390x' : `unknown(${code})`
    case EM.PPC64:
      return little ? 'ppc64le' : 'ppc64'
    case EM.PPC:
      return 'ppc'
    case EM.MIPS:
      return 'mips'
    case EM.LOONGARCH:
      return cls === 64 ? 'loongarch64' : `unknown(${code})`
    default:
      return `unknown(${code})`
  }
}

/** Note types we read. */
export const NT_GNU_BUILD_ID = 3
export const NT_GO_BUILDID = 4
/** systemd's ELF_DLOPEN_METADATA (https://systemd.io/ELF_DLOPEN_METADATA/). */
export const NT_FDO_DLOPEN_METADATA = 0x407c0c0a
