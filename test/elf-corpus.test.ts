/**
 * parseElf on every ELF file of the shared corpus (pyelftools' test files, trivy's Go and Rust
 * fixtures), checked against binutils' readelf and against what the corpus README documents.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SlimError } from '../src/core/errors.js'
import { dlopenCandidates, glibcRequirements, highestVersion, parseElf } from '../src/inspect/elf/index.js'
import { readelfFacts, readelfMismatches, superStrip } from './helpers/elf-bins.js'
import { SHARED } from './helpers/shared.js'

const CORPUS = `${SHARED}/corpus`
const PYELF_RE = join(CORPUS, 'eliben__pyelftools/test/testfiles_for_readelf')
const PYELF_UT = join(CORPUS, 'eliben__pyelftools/test/testfiles_for_unittests')
const TRIVY_GO = join(CORPUS, 'aquasecurity__trivy/pkg/dependency/parser/golang/binary/testdata')
const TRIVY_RUST = join(CORPUS, 'aquasecurity__trivy/pkg/dependency/parser/rust/binary/testdata')

/** Well-formed files: every field readelf reports must agree. */
const WELL_FORMED = [
  join(PYELF_RE, 'exe_simple64.elf'),
  join(PYELF_RE, 'exe_stripped64.elf'),
  join(PYELF_RE, 'exe_simple32.elf'),
  join(PYELF_RE, 'tls64.so.elf'),
  join(PYELF_RE, 'note_gnu_property.elf'),
  join(PYELF_RE, 'aarch64-pac-bti.so.elf'),
  join(PYELF_UT, 'aarch64_be_gnu_hash.so.elf'),
  join(PYELF_UT, 'lib_versioned64.so.elf'),
  join(PYELF_UT, 'debuglink'),
  join(PYELF_UT, 'simple_clang.elf.riscv'),
  join(TRIVY_GO, 'test.elf'),
  join(TRIVY_GO, 'main-version-via-ldflags.elf'),
  join(TRIVY_GO, 'goexperiment'),
  join(TRIVY_RUST, 'test.elf'),
]

const read = (p: string) => readFileSync(p)

describe('parseElf agrees with readelf on the corpus', () => {
  for (const path of WELL_FORMED) {
    it(path.slice(CORPUS.length + 1), async () => {
      const info = parseElf(read(path), { name: path })
      const facts = await readelfFacts(path)
      expect(readelfMismatches(info, facts)).toEqual([])
      expect(info.warnings).toEqual([])
    })
  }
})

describe('corpus facts from the README', () => {
  it('exe_simple64: x86-64 EXEC, glibc, not stripped; the stripped copy is stripped', () => {
    const a = parseElf(read(join(PYELF_RE, 'exe_simple64.elf')))
    const b = parseElf(read(join(PYELF_RE, 'exe_stripped64.elf')))
    expect([a.machine, a.type, a.libc, a.stripped, a.interpreter]).toEqual(['x86-64', 'EXEC', 'glibc', false, '/lib64/ld-linux-x86-64.so.2'])
    expect([b.stripped, b.needed]).toEqual([true, ['libc.so.6']])
    expect(a.sections).toContain('.symtab')
    expect(b.sections).not.toContain('.symtab')
  })

  it('exe_simple32: i386 ELF32, loader /lib/ld-linux.so.2', () => {
    const i = parseElf(read(join(PYELF_RE, 'exe_simple32.elf')))
    expect([i.class, i.machine, i.interpreter, i.libc]).toEqual([32, 'i386', '/lib/ld-linux.so.2', 'glibc'])
    expect(highestVersion(i, 'GLIBC_')).toBe('GLIBC_2.0')
  })

  it('tls64.so.elf is a PIE despite its name', () => {
    const i = parseElf(read(join(PYELF_RE, 'tls64.so.elf')))
    expect(i.type).toBe('PIE')
    expect(i.flags1).toEqual(['NOW', 'PIE'])
  })

  it('note_gnu_property: tiny static program with no libc at all', () => {
    const i = parseElf(read(join(PYELF_RE, 'note_gnu_property.elf')))
    expect([i.type, i.hasDynamic, i.needed, i.libc]).toEqual(['EXEC', false, [], 'unknown'])
    expect(i.libcEvidence).toMatch(/no glibc or musl markers/)
  })

  it('aarch64 PAC/BTI PIE: loader under /usr/lib, needs GLIBC_2.34', () => {
    const i = parseElf(read(join(PYELF_RE, 'aarch64-pac-bti.so.elf')))
    expect([i.machine, i.type, i.interpreter, i.stripped]).toEqual(['aarch64', 'PIE', '/usr/lib/ld-linux-aarch64.so.1', true])
    expect(glibcRequirements(i)).toEqual({ glibc: 'GLIBC_2.34', dtRelr: false, private: false })
  })

  it('big-endian aarch64 shared object with GNU hash', () => {
    const i = parseElf(read(join(PYELF_UT, 'aarch64_be_gnu_hash.so.elf')))
    expect([i.endianness, i.machine, i.type, i.libc]).toEqual(['big', 'aarch64', 'DYN', 'glibc'])
    expect(i.versionNeeds).toEqual([{ file: 'libc.so.6', versions: ['GLIBC_2.17'] }])
  })

  it('lib_versioned64.so: SONAME and version needs from two libraries', () => {
    const i = parseElf(read(join(PYELF_UT, 'lib_versioned64.so.elf')))
    expect(i.soname).toBe('lib_versioned.so.1')
    expect(i.needed).toEqual(['libz.so.1', 'libc.so.6'])
    expect(highestVersion(i, 'ZLIB_')).toBe('ZLIB_1.2.3.5')
    // Numeric, not lexical: GLIBC_2.4 < GLIBC_2.2.5 would be wrong.
    expect(highestVersion(i, 'GLIBC_')).toBe('GLIBC_2.4')
  })

  it('RISC-V 64 static clang program is static glibc', () => {
    const i = parseElf(read(join(PYELF_UT, 'simple_clang.elf.riscv')))
    expect([i.machine, i.type, i.libc]).toEqual(['riscv64', 'EXEC', 'static-glibc'])
    expect(i.libcEvidence).toMatch(/GLIBC_TUNABLES/)
  })

  it('trivy Go fixtures: static, no libc, Go', () => {
    for (const f of ['test.elf', 'main-version-via-ldflags.elf', 'goexperiment']) {
      const i = parseElf(read(join(TRIVY_GO, f)))
      expect([f, i.libc, i.isGo, i.hasDynamic]).toEqual([f, 'none', true, false])
      expect(i.goBuildId).toMatch(/^[\w-]+\/[\w-]+\/[\w-]+\/[\w-]+$/)
    }
    expect(parseElf(read(join(TRIVY_GO, 'goexperiment'))).machine).toBe('aarch64')
  })

  it('trivy Rust fixture: glibc PIE with four NEEDED libraries', () => {
    const i = parseElf(read(join(TRIVY_RUST, 'test.elf')))
    expect(i.needed).toEqual(['libgcc_s.so.1', 'libpthread.so.0', 'libc.so.6', 'ld-linux-x86-64.so.2'])
    expect([i.type, i.libc]).toEqual(['PIE', 'glibc'])
    expect(highestVersion(i, 'GLIBC_')).toBe('GLIBC_2.28')
    expect(highestVersion(i, 'GCC_')).toBe('GCC_4.2.0')
  })

  it('debuglink PIE: needs GLIBC_2.34; the GNU build ID matches the one `file` reports', () => {
    const i = parseElf(read(join(PYELF_UT, 'debuglink')))
    expect(i.buildId).toBe('f5d41d8cbc24e069c7e7a9f52cd8ab24a8f19900')
    expect(highestVersion(i, 'GLIBC_')).toBe('GLIBC_2.34')
  })
})

describe('super-stripped (no section headers)', () => {
  it('aarch64_super_stripped: NEEDED, loader, versions and imports from the dynamic segment alone', async () => {
    const path = join(PYELF_UT, 'aarch64_super_stripped.elf')
    const info = parseElf(read(path))
    const facts = await readelfFacts(path)
    // readelf cannot show versions or symbols without section headers; the rest must agree.
    expect(readelfMismatches(info, facts, { symbols: false, versions: false })).toEqual([])
    expect(info.sections).toEqual([])
    expect(info.stripped).toBe(true)
    expect(info.versionNeeds).toEqual([{ file: 'libc.so.6', versions: ['GLIBC_2.17'] }])
    // DT_HASH nchain is 4: the null symbol plus these three.
    expect(info.importedSymbols.sort()).toEqual(['__gmon_start__', '__libc_start_main', 'abort'])
    expect(info.warnings).toEqual([])
  })

  it('every corpus file with a dynamic section reads the same with its section headers zeroed', async () => {
    for (const path of WELL_FORMED) {
      const full = parseElf(read(path))
      if (!full.hasDynamic) continue
      const bare = parseElf(superStrip(read(path)))
      expect([path, bare.sections.length]).toEqual([path, 0])
      expect([path, bare.needed, bare.interpreter, bare.soname, bare.runpath, bare.flags1, bare.type, bare.libc]).toEqual([
        path,
        full.needed,
        full.interpreter,
        full.soname,
        full.runpath,
        full.flags1,
        full.type,
        full.libc,
      ])
      expect([path, bare.versionNeeds]).toEqual([path, full.versionNeeds])
      expect([path, [...bare.importedSymbols].sort()]).toEqual([path, [...full.importedSymbols].sort()])
    }
  })
})

describe('malformed corpus files never throw anything but SlimError', () => {
  it('corrupt_sh.elf: section headers past EOF become a warning; segments still read', async () => {
    const path = join(PYELF_UT, 'corrupt_sh.elf')
    const info = parseElf(read(path))
    expect([info.class, info.machine, info.type]).toEqual([32, 'i386', 'EXEC'])
    expect(info.sections).toEqual([])
    expect(info.warnings.join('\n')).toMatch(/e_shoff 65535 is past the end of the 4504-byte file/)
    const facts = await readelfFacts(path)
    // readelf agrees on where the table is said to be (it reports the overrun on stderr).
    expect(facts.raw).toMatch(/Start of section headers:\s+65535 /)
    expect(facts.raw).toMatch(/Number of section headers:\s+255/)
  })

  it('x64_bad_sections.elf: bad e_shstrndx; NEEDED, versions and imports still come from the dynamic segment', async () => {
    const path = join(PYELF_UT, 'x64_bad_sections.elf')
    const info = parseElf(read(path))
    const facts = await readelfFacts(path)
    expect(readelfMismatches(info, facts, { symbols: false, versions: false })).toEqual([])
    expect(info.warnings.join('\n')).toMatch(/e_shstrndx 39/)
    // Same program as exe_simple64.elf, whose section headers are intact.
    const good = parseElf(read(join(PYELF_RE, 'exe_simple64.elf')))
    expect(info.versionNeeds).toEqual(good.versionNeeds)
    expect(info.importedSymbols.sort()).toEqual(good.importedSymbols.sort())
  })

  it('section_header_bogus_size.elf and section_link_to_self.elf parse with a result', () => {
    for (const f of ['section_header_bogus_size.elf', 'section_link_to_self.elf']) {
      const info = parseElf(read(join(PYELF_UT, f)))
      expect([f, info.class, info.machineCode, info.needed]).toEqual([f, 64, 0, []])
    }
  })

  it('dlopenCandidates and non-ELF input', () => {
    expect(() => parseElf(Buffer.from('#!/bin/sh\necho hi\n'))).toThrow(SlimError)
    expect(() => parseElf(Buffer.alloc(0))).toThrow(/not an ELF file/)
    expect(() => parseElf(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]))).toThrow(/truncated ELF file/)
    expect(() => dlopenCandidates(Buffer.from('MZ'))).toThrow(SlimError)
    for (const f of ['corrupt_sh.elf', 'x64_bad_sections.elf', 'section_header_bogus_size.elf', 'section_link_to_self.elf']) {
      expect(Array.isArray(dlopenCandidates(read(join(PYELF_UT, f))))).toBe(true)
    }
  })
})
