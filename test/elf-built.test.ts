/**
 * parseElf on binaries built here with gcc, g++, musl-gcc, go and cargo (test/helpers/elf-bins.ts)
 * and on real Debian binaries, with readelf as the oracle for everything readelf can see.
 */
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { detectCxx, dlopenCandidates, findSection, glibcRequirements, highestVersion, impliedNeeds, openElf, parseElf } from '../src/inspect/elf/index.js'
import type { ElfInfo } from '../src/inspect/elf/types.js'
import {
  ALL_ELF_BINS,
  DLOPEN_NOTE_JSON,
  RPATH_DIRS,
  RUNPATH_DIRS,
  elfBins,
  readelfFacts,
  readelfMismatches,
  readelfSectionBytes,
  superStrip,
  type ElfBinName,
} from './helpers/elf-bins.js'

/** Debian binaries on this machine (installed by the CI line in test-infra.md). */
const DEBIAN = {
  dockerRegistry: '/usr/bin/docker-registry', // cgo Go 1.19
  skopeo: '/usr/bin/skopeo', // cgo Go with real C libraries
  busybox: '/bin/busybox', // static glibc
  libc: '/lib/x86_64-linux-gnu/libc.so.6', // a library with PT_INTERP, and GLIBC_PRIVATE needs
  libstdcxx: '/usr/lib/x86_64-linux-gnu/libstdc++.so.6',
  loader: '/lib64/ld-linux-x86-64.so.2',
}

let bins: Record<ElfBinName, string>
const info = (name: ElfBinName): ElfInfo => parseElf(readFileSync(bins[name]), { name })

beforeAll(async () => {
  bins = await elfBins(ALL_ELF_BINS)
})

/** Numeric ordering by an independent implementation (Intl collation), for oracle "highest version". */
function highestByCollation(versions: string[], prefix: string): string | undefined {
  const numeric = versions.filter((v) => v.startsWith(prefix) && /^\d+(\.\d+)*$/.test(v.slice(prefix.length)))
  return numeric.sort(new Intl.Collator('en', { numeric: true }).compare).at(-1)
}

describe('agreement with readelf', () => {
  it('every built binary', async () => {
    for (const name of ALL_ELF_BINS) {
      const facts = await readelfFacts(bins[name])
      expect([name, readelfMismatches(info(name), facts)]).toEqual([name, []])
      expect([name, info(name).warnings]).toEqual([name, []])
    }
  })

  it('the comparison itself notices differences (RPATH binary against RUNPATH facts)', async () => {
    const diffs = readelfMismatches(info('c-rpath'), await readelfFacts(bins['c-runpath']))
    expect(diffs).toEqual([expect.stringMatching(/^rpath: /), expect.stringMatching(/^runpath: /)])
  })

  it('Debian binaries and libraries', async () => {
    for (const path of Object.values(DEBIAN)) {
      const facts = await readelfFacts(path)
      const i = parseElf(readFileSync(path), { name: path })
      expect([path, readelfMismatches(i, facts)]).toEqual([path, []])
      expect([path, i.warnings]).toEqual([path, []])
    }
  })

  it('super-stripped copies read the same versions and imports as readelf reports for the original', async () => {
    // c-needs and cxx have only DT_GNU_HASH (modern gcc), musl has DT_HASH too, rust is laid out by lld.
    for (const name of ['c-needs', 'cxx-dynamic', 'musl-dynamic', 'rust-dynamic', 'go-cgo', 'c-runpath', 'lib-answer'] as const) {
      const bare = parseElf(superStrip(readFileSync(bins[name])))
      const facts = await readelfFacts(bins[name])
      expect([name, bare.sections]).toEqual([name, []])
      expect([name, readelfMismatches(bare, facts)]).toEqual([name, []])
    }
    const registry = parseElf(superStrip(readFileSync(DEBIAN.dockerRegistry)))
    expect(readelfMismatches(registry, await readelfFacts(DEBIAN.dockerRegistry))).toEqual([])
  })
})

describe('type and libc flavour', () => {
  it('gcc: dynamic PIE, -static EXEC, -static-pie', () => {
    expect([info('c-dynamic').type, info('c-dynamic').libc]).toEqual(['PIE', 'glibc'])
    expect([info('c-static').type, info('c-static').libc, info('c-static').hasDynamic]).toEqual(['EXEC', 'static-glibc', false])
    const spie = info('c-static-pie')
    expect([spie.type, spie.libc, spie.interpreter, spie.needed]).toEqual(['static-pie', 'static-glibc', undefined, []])
    expect(spie.libcEvidence).toMatch(/^static .*GLIBC_TUNABLES/)
  })

  it('musl-gcc: dynamic (ld-musl loader, NEEDED libc.so), static, static and stripped', () => {
    const d = info('musl-dynamic')
    expect([d.libc, d.libcEvidence, d.needed]).toEqual(['musl', 'PT_INTERP /lib/ld-musl-x86_64.so.1', ['libc.so']])
    const s = info('musl-static')
    expect([s.libc, s.stripped]).toEqual(['static-musl', false])
    expect(s.libcEvidence).toMatch(/__init_libc|__libc_start_init/)
    const st = info('musl-static-stripped')
    expect([st.libc, st.stripped]).toEqual(['static-musl', true])
    expect(st.libcEvidence).toContain('-0X+0X 0X-0x+0x 0x') // musl's printf, which the program calls
  })

  it('Go: CGO_ENABLED=0 is static with no libc, cgo is dynamic glibc, netgo+osusergo needs no cgo', () => {
    for (const name of ['go-static-amd64', 'go-static-arm64', 'go-tags'] as const) {
      const i = info(name)
      expect([name, i.type, i.libc, i.isGo, i.needed]).toEqual([name, 'EXEC', 'none', true, []])
    }
    expect(info('go-static-arm64').machine).toBe('aarch64')
    const cgo = info('go-cgo')
    expect([cgo.libc, cgo.needed, cgo.isGo]).toEqual(['glibc', ['libc.so.6'], true])
  })

  it('libc markers count in data, not in code: a glibc marker planted in .text is not seen, in .rodata it is', () => {
    const bytes = readFileSync(bins['go-static-amd64'])
    const file = openElf(bytes)
    const plant = (section: string): Buffer => {
      const s = findSection(file, section)!
      const copy = Buffer.from(bytes)
      copy.write('GLIBC_TUNABLES', s.offset + Math.floor(s.size / 2), 'latin1')
      return copy
    }
    const inCode = parseElf(plant('.text'))
    const inData = parseElf(plant('.rodata'))
    expect([inCode.libc, inData.libc, inData.libcEvidence]).toEqual(['none', 'static-glibc', "static (no PT_INTERP, no NEEDED); contains 'GLIBC_TUNABLES'; a Go program with cgo linked statically"])
  })

  it('Rust: dynamic PIE needs libgcc_s; crt-static is static-pie glibc', () => {
    const d = info('rust-dynamic')
    expect([d.type, d.libc]).toEqual(['PIE', 'glibc'])
    expect(d.needed).toContain('libgcc_s.so.1')
    const s = info('rust-static-pie')
    expect([s.type, s.libc, s.needed]).toEqual(['static-pie', 'static-glibc', []])
  })

  it('Debian: busybox static glibc, docker-registry cgo Go EXEC, libc.so.6 and ld.so are libraries', () => {
    const bb = parseElf(readFileSync(DEBIAN.busybox))
    expect([bb.type, bb.libc]).toEqual(['EXEC', 'static-glibc'])
    const reg = parseElf(readFileSync(DEBIAN.dockerRegistry))
    expect([reg.type, reg.libc, reg.isGo, reg.stripped]).toEqual(['EXEC', 'glibc', true, true])
    const libc = parseElf(readFileSync(DEBIAN.libc))
    // libc.so.6 asks for a loader (it can be run) but has a SONAME: a library, not a PIE.
    expect([libc.type, libc.soname, libc.libc, libc.interpreter]).toEqual(['DYN', 'libc.so.6', 'glibc', '/lib64/ld-linux-x86-64.so.2'])
    const ld = parseElf(readFileSync(DEBIAN.loader))
    expect([ld.type, ld.soname, ld.libc]).toEqual(['DYN', 'ld-linux-x86-64.so.2', 'glibc'])
  })

  it('relocatable object (gcc -c): REL, no program headers, no dynamic section', () => {
    const o = info('c-object')
    expect([o.type, o.hasDynamic, o.needed, o.interpreter]).toEqual(['REL', false, [], undefined])
    expect(o.sections).toContain('.text')
  })

  it('shared library with a SONAME and no libc of its own', () => {
    const lib = info('lib-answer')
    expect([lib.type, lib.soname, lib.entry]).toEqual(['DYN', 'libanswer.so.1', 0])
    expect(lib.exportedSymbolCount).toBeGreaterThanOrEqual(1)
  })
})

describe('search paths', () => {
  it('--enable-new-dtags writes RUNPATH, --disable-new-dtags RPATH; $ORIGIN stays as written', () => {
    expect([info('c-runpath').runpath, info('c-runpath').rpath]).toEqual([RUNPATH_DIRS, []])
    expect([info('c-rpath').rpath, info('c-rpath').runpath]).toEqual([RPATH_DIRS, []])
    expect(info('c-origin-rpath').runpath).toEqual(['$ORIGIN/lib'])
    expect(info('c-origin-rpath').needed).toEqual(['libanswer.so', 'libc.so.6'])
  })
})

describe('symbol versions', () => {
  it('highest GLIBC_/GLIBCXX_/CXXABI_ agree with a collation sort of readelf\'s version needs', async () => {
    for (const path of [bins['cxx-dynamic'], bins['rust-dynamic'], bins['go-cgo'], DEBIAN.skopeo, DEBIAN.libstdcxx]) {
      const i = parseElf(readFileSync(path))
      const all = (await readelfFacts(path)).versionNeeds.flatMap((n) => n.versions)
      for (const prefix of ['GLIBC_', 'GLIBCXX_', 'CXXABI_', 'GCC_']) {
        expect([path, prefix, highestVersion(i, prefix)]).toEqual([path, prefix, highestByCollation(all, prefix)])
      }
    }
  })

  it('GLIBC_ABI_DT_RELR from -z pack-relative-relocs, GLIBC_PRIVATE in libc.so.6', () => {
    expect(glibcRequirements(info('c-relr')).dtRelr).toBe(true)
    expect(glibcRequirements(info('c-dynamic')).dtRelr).toBe(false)
    const libc = glibcRequirements(parseElf(readFileSync(DEBIAN.libc)))
    expect(libc.private).toBe(true)
    expect(glibcRequirements(info('c-dynamic')).private).toBe(false)
  })

  it('C++: libstdc++ with its GLIBCXX/CXXABI needs; C and Rust have none', async () => {
    const cxx = detectCxx(info('cxx-dynamic'))
    const all = (await readelfFacts(bins['cxx-dynamic'])).versionNeeds.flatMap((n) => n.versions)
    expect(cxx).toEqual({ stdlib: 'libstdc++', library: 'libstdc++.so.6', glibcxx: highestByCollation(all, 'GLIBCXX_'), cxxabi: highestByCollation(all, 'CXXABI_') })
    expect(detectCxx(info('c-dynamic'))).toBeUndefined()
    expect(detectCxx(info('rust-dynamic'))).toBeUndefined()
  })
})

describe('run-time needs beyond NEEDED', () => {
  it('impliedNeeds: each kind from the libc calls the program makes, the symbols present in readelf --dyn-syms', async () => {
    const needs = impliedNeeds(info('c-needs'))
    const und = new Set((await readelfFacts(bins['c-needs'])).undefinedSymbols.map(([n]) => n))
    expect(needs.map((n) => [n.kind, n.symbols])).toEqual([
      ['dynamic-loading', ['dlopen']],
      ['nss-hosts', ['getaddrinfo']],
      ['nss-users', ['getpwnam', 'getgrgid']],
      ['services', ['getservbyname']],
      ['gconv', ['iconv_open']],
      ['locales', ['setlocale']],
      ['libgcc_s', ['pthread_cancel', 'pthread_exit']],
      ['tzdata', ['localtime']],
    ])
    for (const n of needs) for (const s of n.symbols) expect(und.has(s)).toBe(true)
    expect(needs.find((n) => n.kind === 'nss-hosts')?.files).toContain('/etc/hosts')
    expect(needs.find((n) => n.kind === 'libgcc_s')?.libraries).toEqual(['libgcc_s.so.1'])
    expect(impliedNeeds(info('c-dynamic'))).toEqual([])
  })

  it('cgo Go (Debian docker-registry) resolves hosts and users through glibc', () => {
    const kinds = impliedNeeds(parseElf(readFileSync(DEBIAN.dockerRegistry))).map((n) => n.kind)
    expect(kinds).toEqual(['nss-hosts', 'nss-users'])
  })

  it('dlopenCandidates: the dlopen("libz.so.1") program names libz; plain programs name nothing', () => {
    expect(dlopenCandidates(readFileSync(bins['c-dlopen']))).toEqual(['libz.so.1'])
    expect(impliedNeeds(info('c-dlopen')).map((n) => n.kind)).toEqual(['dynamic-loading'])
    expect(dlopenCandidates(readFileSync(bins['c-dynamic']))).toEqual([])
    // NEEDED names are excluded: the origin program needs libanswer.so and says so in .dynstr.
    expect(dlopenCandidates(readFileSync(bins['c-origin-rpath']))).toEqual([])
    // Static glibc loads NSS modules with dlopen: busybox carries the module name.
    expect(dlopenCandidates(readFileSync(DEBIAN.busybox))).toContain('libnss_files.so.2')
  })

  it('.note.dlopen: parsed from the section, and from PT_NOTE when section headers are gone; readelf has the same JSON', async () => {
    const expected = JSON.parse(DLOPEN_NOTE_JSON) as Record<string, unknown>[]
    const bytes = await readelfSectionBytes(bins['c-dlopen-note'], '.note.dlopen')
    expect(bytes).toBeDefined()
    const text = bytes!.toString('latin1')
    const json = text.slice(text.indexOf('['), text.indexOf('\0', text.indexOf('[')))
    expect(JSON.parse(json)).toEqual(expected)
    const fromSections = info('c-dlopen-note').dlopenNotes
    expect(fromSections).toEqual(expected)
    expect(parseElf(superStrip(readFileSync(bins['c-dlopen-note']))).dlopenNotes).toEqual(expected)
    expect(info('c-dynamic').dlopenNotes).toEqual([])
  })
})
