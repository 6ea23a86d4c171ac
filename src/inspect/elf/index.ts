/**
 * slim's ELF reader, written from the System V gABI and glibc's <elf.h> (no ELF library is used).
 * parseElf(bytes) gives the facts the closure and needs stages use: class, machine, type, loader,
 * NEEDED, RPATH/RUNPATH, SONAME, version needs, imported symbols, notes, libc flavour. It reads
 * the way ld.so does (program headers and the dynamic segment first), so files without section
 * headers work. Non-ELF input throws SlimError('format'); damage after the header becomes
 * `warnings`, never an exception, and all work is bounded by the file size. The helpers answer
 * questions about a parsed file: highest symbol versions, implied run-time files, dlopen
 * candidates, the C++ runtime.
 */
export { parseElf, type ParseElfOptions } from './parse.js'
export { isElf } from './header.js'
export { openElf, findSection, sectionBytes, readAtAddress, addressToOffset, type ElfFile } from './elf-file.js'
export { highestVersion, needsVersion, glibcRequirements, impliedNeeds, compareVersions, type ImpliedNeed, type ImpliedNeedKind, type GlibcRequirements } from './needs.js'
export { dlopenCandidates, sonamesIn } from './dlopen-candidates.js'
export { detectCxx, type CxxInfo } from './cxx.js'
export type * from './types.js'
