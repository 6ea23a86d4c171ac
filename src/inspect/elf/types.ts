/** Facts read from one ELF file. Field names follow the ELF spec and ld.so's manual. */
export type ElfClass = 32 | 64
export type ElfMachine = 'x86-64' | 'aarch64' | 'arm' | 'i386' | 'riscv64' | 'riscv32' | 's390x' | 'ppc64le' | 'ppc64' | 'ppc' | 'mips' | 'loongarch64' | `unknown(${number})`
export type ElfType = 'EXEC' | 'DYN' | 'PIE' | 'static-pie' | 'REL' | 'CORE' | `unknown(${number})`
export type LibcFlavour = 'glibc' | 'musl' | 'static-glibc' | 'static-musl' | 'none' | 'unknown'

export interface VersionNeed {
  /** The library the versions are needed from (vn_file), e.g. "libc.so.6". */
  file: string
  /** Version names, e.g. ["GLIBC_2.2.5", "GLIBC_2.34"]. */
  versions: string[]
}

export interface ElfInfo {
  class: ElfClass
  endianness: 'little' | 'big'
  machine: ElfMachine
  /** Raw e_machine, so closure resolution can compare compatibility exactly. */
  machineCode: number
  /** OS/ABI byte (EI_OSABI). */
  osabi: number
  type: ElfType
  /** PT_INTERP, e.g. "/lib64/ld-linux-x86-64.so.2". */
  interpreter?: string
  needed: string[]
  soname?: string
  rpath: string[] // DT_RPATH entries, split on ':' (tokens like $ORIGIN left as written)
  runpath: string[] // DT_RUNPATH entries
  flags1: string[] // DT_FLAGS_1 names, e.g. ["NOW", "PIE", "NODEFLIB"]
  stripped: boolean // no .symtab
  hasDynamic: boolean
  versionNeeds: VersionNeed[]
  /** Dynamic-symbol imports (undefined symbols in .dynsym), names only, without @version. */
  importedSymbols: string[]
  /** Library names from `.note.dlopen` notes (systemd ELF_DLOPEN_METADATA). */
  dlopenNotes: { soname: string[]; feature?: string; priority?: string; description?: string }[]
  libc: LibcFlavour
  /** Evidence for `libc` ("PT_INTERP /lib/ld-musl-x86_64.so.1", "static, contains 'GLIBC_' and '__libc_start_main'"). */
  libcEvidence: string
  /** Section names (empty for section-less "super-stripped" files). */
  sections: string[]
  /** Problems found while reading (lying offsets, truncated tables); the fields above hold what could be read. */
  warnings: string[]
  /** e_entry (0 for most shared libraries and relocatable objects). */
  entry?: number
  /** DT_FLAGS names, e.g. ["BIND_NOW", "ORIGIN"]. */
  flags?: string[]
  /** GNU build ID (NT_GNU_BUILD_ID) as lowercase hex. */
  buildId?: string
  /** Go build ID from the "Go" note (.note.go.buildid), present in every Go binary that kept its notes. */
  goBuildId?: string
  /** True when the file carries Go runtime metadata (.go.buildinfo, .gopclntab, the Go note or the buildinfo magic). */
  isGo?: boolean
  /** Undefined dynamic symbols as "name@VERSION" where the version is known (from .gnu.version/DT_VERSYM). */
  importedSymbolVersions?: string[]
  /** Symbols the file exports (defined, global or weak, in .dynsym): useful for shared libraries. Count only. */
  exportedSymbolCount?: number
}
