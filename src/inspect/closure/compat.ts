/**
 * ld.so skips a candidate file whose ELF class or machine differs from the process's ("skipping
 * incompatible ..." under LD_DEBUG) and goes on searching: an i386 libc.so.6 earlier on the path
 * does not stop an x86-64 program from finding its own.
 */
import type { ElfInfo } from '../elf/types.js'

/** Undefined when `candidate` can be loaded into a process of `main`; else why not. */
export function incompatibility(main: ElfInfo, candidate: ElfInfo): string | undefined {
  if (candidate.class !== main.class) return `ELF class ${candidate.class}, the program is ${main.class}-bit`
  if (candidate.endianness !== main.endianness) return `${candidate.endianness}-endian, the program is ${main.endianness}-endian`
  if (candidate.machineCode !== main.machineCode) return `machine ${candidate.machine}, the program is ${main.machine}`
  return undefined
}

/** ld.so only loads shared objects and executables (ET_DYN, ET_EXEC) as libraries. */
export function loadableType(candidate: ElfInfo): boolean {
  return candidate.type === 'DYN' || candidate.type === 'PIE' || candidate.type === 'EXEC' || candidate.type === 'static-pie'
}
