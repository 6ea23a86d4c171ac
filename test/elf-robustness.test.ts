/**
 * Hostile ELF input: truncated copies of real binaries at many lengths, copies with random bytes
 * corrupted in the headers and tables (seeded PRNG, so failures reproduce), and hand-patched
 * headers with absurd counts and offsets. Every reader must return or throw SlimError, quickly,
 * without another exception type and without large allocations.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { isSlimError } from '../src/core/errors.js'
import { readGoBuildInfo } from '../src/inspect/gobuildinfo.js'
import { dlopenCandidates, openElf, parseElf } from '../src/inspect/elf/index.js'
import { readRustInfo } from '../src/inspect/rustinfo.js'
import { elfBins, superStrip } from './helpers/elf-bins.js'
import { SHARED } from './helpers/shared.js'

const PYELF = `${SHARED}/corpus/eliben__pyelftools/test`
const TRIVY_GO = `${SHARED}/corpus/aquasecurity__trivy/pkg/dependency/parser/golang/binary/testdata/test.elf`
/** Generous: a parse of these small files takes about a millisecond. */
const PER_FILE_MS = 2000

let seeds: Record<string, Buffer>

beforeAll(async () => {
  const bins = await elfBins(['c-dynamic', 'musl-dynamic', 'c-dlopen-note', 'rust-dynamic'])
  seeds = {
    'c-dynamic': readFileSync(bins['c-dynamic']),
    'musl-dynamic': readFileSync(bins['musl-dynamic']),
    'c-dlopen-note': readFileSync(bins['c-dlopen-note']),
    'lib_versioned64.so': readFileSync(join(PYELF, 'testfiles_for_unittests/lib_versioned64.so.elf')),
    'exe_simple32 (ELF32)': readFileSync(join(PYELF, 'testfiles_for_readelf/exe_simple32.elf')),
    'aarch64_be (big-endian)': readFileSync(join(PYELF, 'testfiles_for_unittests/aarch64_be_gnu_hash.so.elf')),
    'aarch64_super_stripped': readFileSync(join(PYELF, 'testfiles_for_unittests/aarch64_super_stripped.elf')),
    'c-dynamic super-stripped': superStrip(readFileSync(bins['c-dynamic'])),
  }
})

/** mulberry32: a tiny seeded PRNG, so a failing variant can be reproduced from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Outcome {
  ok: boolean
  slimError: boolean
  other?: string
  ms: number
}

/** Run every reader; anything thrown that is not a SlimError is recorded as a failure. */
function attempt(bytes: Buffer): Outcome {
  const start = performance.now()
  try {
    parseElf(bytes, { name: 'variant' })
    dlopenCandidates(bytes)
    readGoBuildInfo(bytes)
    readRustInfo(bytes)
    return { ok: true, slimError: false, ms: performance.now() - start }
  } catch (e) {
    const ms = performance.now() - start
    if (isSlimError(e)) return { ok: false, slimError: true, ms }
    return { ok: false, slimError: false, other: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e), ms }
  }
}

function expectSafe(label: string, bytes: Buffer): Outcome {
  const o = attempt(bytes)
  expect([label, o.other]).toEqual([label, undefined])
  expect(o.ms, label).toBeLessThan(PER_FILE_MS)
  return o
}

describe('truncated copies', () => {
  it('every seed cut at ~150 lengths (all of the first 128 bytes, then spread out)', () => {
    let slimErrors = 0
    let results = 0
    for (const [name, full] of Object.entries(seeds)) {
      const lengths = new Set<number>()
      for (let n = 0; n <= 128; n++) lengths.add(n)
      for (let k = 1; k <= 24; k++) lengths.add(Math.floor((full.length * k) / 25))
      for (const n of lengths) {
        const o = expectSafe(`${name} cut to ${n} bytes`, full.subarray(0, n))
        if (o.slimError) slimErrors++
        else results++
      }
    }
    // Shorter than the header is a SlimError; longer gives a result with warnings.
    expect(slimErrors).toBeGreaterThan(0)
    expect(results).toBeGreaterThan(0)
  })

  it('a truncated dynamic binary keeps what precedes the cut and says what is missing', () => {
    const full = seeds['c-dynamic']!
    const info = parseElf(full.subarray(0, 0x400))
    expect(info.machine).toBe('x86-64')
    expect(info.warnings.length).toBeGreaterThan(0)
  })
})

describe('random corruption (seeded)', () => {
  it('400 variants: 1-16 random bytes in headers and tables', () => {
    const rand = prng(0x5eed)
    const names = Object.keys(seeds)
    let withWarnings = 0
    let rejected = 0
    for (let v = 0; v < 400; v++) {
      const name = names[v % names.length]!
      const copy = Buffer.from(seeds[name]!)
      // Half the hits in the ELF/program headers, the rest in the first 4 KiB (dynamic, dynsym,
      // verneed, notes live there in small binaries) or at the section header table.
      const shoff = copy.length > 0x40 ? Number(copy[4] === 2 ? copy.readBigUInt64LE(0x28) : BigInt(copy.readUInt32LE(0x20))) : 0
      const hits = 1 + Math.floor(rand() * 16)
      for (let h = 0; h < hits; h++) {
        const zone = rand()
        const at =
          zone < 0.05 ? Math.floor(rand() * 16) // e_ident: magic, class, data encoding
          : zone < 0.5 ? 16 + Math.floor(rand() * Math.min(copy.length - 16, 0x300))
          : zone < 0.85 ? Math.floor(rand() * Math.min(copy.length, 0x1000))
          : shoff > 0 && shoff < copy.length ? shoff + Math.floor(rand() * (copy.length - shoff))
          : Math.floor(rand() * copy.length)
        copy[at] = Math.floor(rand() * 256)
      }
      const o = expectSafe(`${name} variant ${v} (seed 0x5eed)`, copy)
      if (o.slimError) rejected++
      else if (parseElf(copy).warnings.length > 0) withWarnings++
    }
    // The corruption reaches the tables (warnings) and the identification bytes (SlimError).
    expect(withWarnings).toBeGreaterThan(40)
    expect(rejected).toBeGreaterThan(10)
  })

  it('Go build info blob corrupted: the Go 1.15 pointer format with random pointers', () => {
    const full = readFileSync(TRIVY_GO)
    const at = full.indexOf(Buffer.from('\xff Go buildinf:', 'latin1'))
    expect(at).toBeGreaterThan(0)
    const rand = prng(42)
    let warned = 0
    for (let v = 0; v < 40; v++) {
      const copy = Buffer.from(full)
      for (let h = 0; h < 4; h++) copy[at + 14 + Math.floor(rand() * 18)] = Math.floor(rand() * 256)
      const o = expectSafe(`Go blob variant ${v} (seed 42)`, copy)
      expect(o.ok).toBe(true) // the ELF is intact; only the blob is damaged
      if ((readGoBuildInfo(copy)?.warnings.length ?? 0) > 0) warned++
    }
    // Most corrupted pointers resolve nowhere, which must be reported rather than thrown.
    expect(warned).toBeGreaterThan(8)
  })
})

/** Patch helpers over a copy, using the real header layout of an ELF64 little-endian file. */
function patched(base: Buffer, edit: (b: Buffer) => void): Buffer {
  const copy = Buffer.from(base)
  edit(copy)
  return copy
}

describe('hand-patched headers with absurd values', () => {
  it('e_phnum 65535, e_shnum 65535, offsets past EOF or above 2^53: bounded, with warnings', () => {
    const base = seeds['c-dynamic']!
    const cases: [string, (b: Buffer) => void, RegExp][] = [
      ['e_phnum=65535 without sections', (b) => { superStripInPlace(b); b.writeUInt16LE(0xffff, 0x38) }, /program header table claims 65535 entries/],
      ['e_shnum=65535', (b) => b.writeUInt16LE(0xffff, 0x3c), /section header table claims 65535 entries/],
      ['e_shoff past EOF', (b) => b.writeBigUInt64LE(BigInt(b.length + 100), 0x28), /past the end/],
      ['e_phoff = 2^63', (b) => b.writeBigUInt64LE(1n << 63n, 0x20), /program headers ignored/],
      ['e_phentsize 0', (b) => b.writeUInt16LE(0, 0x36), /e_phentsize 0/],
      ['e_shentsize 0', (b) => b.writeUInt16LE(0, 0x3a), /e_shentsize 0/],
      ['e_shnum 0 with e_shoff set (count from section 0, here 0)', (b) => b.writeUInt16LE(0, 0x3c), /e_shstrndx 30 is not a valid string table \(0 sections\)/],
    ]
    for (const [label, edit, warning] of cases) {
      const bytes = patched(base, edit)
      expectSafe(label, bytes)
      const info = parseElf(bytes)
      expect([label, info.warnings.join('\n')]).toEqual([label, expect.stringMatching(warning)])
    }
  })

  it('lying dynamic data: huge DT_VERNEEDNUM, DT_STRTAB past EOF, PT_DYNAMIC size 2^48, .dynsym linked to itself', () => {
    const base = seeds['c-dynamic']!
    const file = openElf(base)
    const dynSeg = file.segments.find((s) => s.type === 2)!
    const phIndex = file.segments.indexOf(dynSeg)
    const dynEntry = (b: Buffer, tag: number): number => {
      for (let off = dynSeg.offset; off + 16 <= dynSeg.offset + dynSeg.filesz; off += 16) if (Number(b.readBigUInt64LE(off)) === tag) return off
      throw new Error(`tag ${tag} not in the test binary`)
    }
    const dynsym = file.sections.find((s) => s.type === 11)!
    const cases: [string, (b: Buffer) => void][] = [
      ['DT_VERNEEDNUM 2^32-1, no sections', (b) => { superStripInPlace(b); b.writeBigUInt64LE(0xffffffffn, dynEntry(b, 0x6fffffff) + 8) }],
      ['DT_STRTAB past EOF, no sections', (b) => { superStripInPlace(b); b.writeBigUInt64LE(BigInt(b.length * 4), dynEntry(b, 5) + 8) }],
      ['DT_STRSZ 2^40', (b) => b.writeBigUInt64LE(1n << 40n, dynEntry(b, 10) + 8)],
      ['PT_DYNAMIC p_filesz 2^48', (b) => b.writeBigUInt64LE(1n << 48n, 0x40 + phIndex * 56 + 32)],
      ['.dynsym sh_link to itself', (b) => b.writeUInt32LE(dynsym.index, file.header.shoff + dynsym.index * 64 + 40)],
      ['.dynsym size 2^40', (b) => b.writeBigUInt64LE(1n << 40n, file.header.shoff + dynsym.index * 64 + 32)],
      ['DT_GNU_HASH nbuckets 2^31, no sections', (b) => {
        superStripInPlace(b)
        const addr = Number(b.readBigUInt64LE(dynEntry(b, 0x6ffffef5) + 8))
        b.writeUInt32LE(0x80000000, addr) // c-dynamic is a PIE: vaddr == file offset in its first segment
      }],
    ]
    for (const [label, edit] of cases) {
      const bytes = patched(base, edit)
      const o = expectSafe(label, bytes)
      expect([label, o.ok]).toEqual([label, true])
      const info = parseElf(bytes)
      expect([label, info.needed]).toEqual([label, label.startsWith('DT_STRTAB') ? [] : ['libc.so.6']])
    }
  })

  it('a note with a huge descsz, and .note.dlopen with invalid JSON, are warnings', () => {
    const base = seeds['c-dlopen-note']!
    const file = openElf(base)
    const note = file.sections.find((s) => s.name === '.note.dlopen')!
    const huge = patched(base, (b) => b.writeUInt32LE(0xfffffff0, note.offset + 4))
    expect(parseElf(huge).warnings.join('\n')).toMatch(/runs past the end of its note area/)
    const badJson = patched(base, (b) => b.write('{', note.offset + 16, 'latin1'))
    const info = parseElf(badJson)
    expect(info.dlopenNotes).toEqual([])
    expect(info.warnings.join('\n')).toMatch(/\.note\.dlopen holds invalid JSON/)
  })
})

function superStripInPlace(b: Buffer): void {
  superStrip(b).copy(b)
}
