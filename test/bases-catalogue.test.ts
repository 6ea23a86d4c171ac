/**
 * The catalogue against real images: what bases.json says the distroless -debian12 bases and the
 * corpus alpine images ship must be exactly what is in their root filesystems (read by walking
 * the tree and asking readelf), and what `dpkg-deb -c` lists in the packages they were built from.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { builtinBases } from '../src/advise/catalogue/load.js'
import type { Base } from '../src/advise/catalogue/types.js'
import { ALPINE_CORPUS_IMAGES, DEBIAN12_BASES, ensureBases, runInRootfs, type TestBases } from './bases/build.js'
import { deriveDebian12, type Derived } from './bases/derive-catalogue.js'
import { rootfsFacts, type RootfsFacts } from './bases/rootfs-facts.js'
import { ensureRuntimeBase, RUNTIME_BASES } from './bases/runtimes.js'

const catalogue = builtinBases()
const entry = (name: string): Base => catalogue.find((b) => b.name === name)!
let bases: TestBases
const facts: Record<string, RootfsFacts> = {}
let derived: Record<string, Derived>

beforeAll(async () => {
  bases = await ensureBases()
  for (const name of [...DEBIAN12_BASES, ...Object.keys(ALPINE_CORPUS_IMAGES)]) facts[name] = await rootfsFacts(bases.rootfs[name])
  derived = await deriveDebian12(bases.packages['distroless/cc-debian12'])
})

describe.each(DEBIAN12_BASES)('%s: catalogue vs the real rootfs', (name) => {
  it('lists exactly the shared objects present: sonames in the search dirs, modules elsewhere', () => {
    const p = entry(name).provides
    expect(p.sonames).toEqual(facts[name].sonames)
    expect(p.modules).toEqual(facts[name].modules)
  })

  it('states the GLIBC / GLIBCXX ceilings the real libraries define', () => {
    const p = entry(name).provides
    const f = facts[name]
    expect(p.glibcCeiling).toBe(f.glibcCeiling)
    if (f.glibcCeiling) {
      // Independent of highestVersion(): the ceiling is a defined name and no defined GLIBC_2.N is higher.
      expect(f.glibcVersions).toContain(p.glibcCeiling)
      const n = (v: string): number[] => v.slice(6).split('.').map(Number)
      const [cMaj, cMin] = n(p.glibcCeiling!)
      for (const v of f.glibcVersions.filter((x) => /^GLIBC_\d/.test(x))) {
        const [maj, min] = n(v)
        expect(maj < cMaj || (maj === cMaj && min <= cMin), `${v} > ${p.glibcCeiling}`).toBe(true)
      }
      expect(p.glibcExtraVersions).toEqual(f.glibcVersions.filter((v) => !/^GLIBC_\d/.test(v)).sort())
    }
    expect(p.glibcxxCeiling).toBe(f.glibcxxCeiling)
    expect(p.cxxabiCeiling).toBe(f.cxxabiCeiling)
  })

  it('states the files, users and loader paths that are really there', () => {
    const p = entry(name).provides
    const f = facts[name]
    expect(p.caBundle).toBe(f.caBundle)
    expect(p.tzdata).toBe(f.tzdata)
    expect(p.tmp).toBe(f.tmp)
    expect(p.nsswitch).toBe(f.nsswitch)
    expect(p.ldSoCache).toBe(f.ldSoCache)
    expect(p.shell).toBeUndefined()
    expect(f.shell).toBeUndefined()
    expect(p.users).toEqual(f.users)
    expect(p.groups).toEqual(f.groups)
    expect([...(p.interpreters.amd64 ?? [])].sort()).toEqual([...f.interpretersAmd64].sort())
  })

  it('matches dpkg-deb -c of the packages the bases were built from', () => {
    const p = entry(name).provides
    expect(p.sonames).toEqual(derived[name].sonames)
    expect(p.modules).toEqual(derived[name].modules)
    expect(entry(name).packages.map((x) => x.name)).toEqual(derived[name].packages.map((x) => x.name))
  })
})

describe('catalogue loader paths really start programs', () => {
  it('every amd64 interpreter the catalogue lists for base/cc runs the probe', async () => {
    for (const name of ['distroless/base-nossl-debian12', 'distroless/cc-debian12']) {
      for (const interp of entry(name).provides.interpreters.amd64!) {
        const r = await runInRootfs(bases.rootfs[name], bases.probes.c, [interp, '/tmp/probe'])
        expect(r.stdout, `${name} ${interp}: ${r.stderr}`).toBe('hello from C\n')
      }
    }
  })

  it('libraries ld.so resolves for the C++ probe in cc are all catalogue sonames', async () => {
    const name = 'distroless/cc-debian12'
    const r = await runInRootfs(bases.rootfs[name], bases.probes.cpp, ['/lib64/ld-linux-x86-64.so.2', '--list', '/tmp/probe'])
    const resolved = [...r.stdout.matchAll(/=> (\/\S+)/g)].map((m) => m[1].split('/').pop()!)
    expect(resolved).toEqual(expect.arrayContaining(['libstdc++.so.6', 'libgcc_s.so.1', 'libc.so.6']))
    for (const lib of resolved) expect(entry(name).provides.sonames).toContain(lib)
  })
})

describe.each(Object.keys(ALPINE_CORPUS_IMAGES))('%s (real corpus image): catalogue vs rootfs', (name) => {
  it('states its musl, sonames, modules, users and files', () => {
    const p = entry(name).provides
    const f = facts[name]
    expect(p.libc).toEqual({ flavour: 'musl', version: f.muslVersion!.replace(/-r\d+$/, ''), package: f.muslVersion })
    expect(p.sonames).toEqual(f.sonames)
    expect(p.modules).toEqual(f.modules)
    expect(p.users).toEqual(f.users)
    expect(p.users.some((u) => u.uid === 65532)).toBe(false)
    expect(p.caBundle).toBe(f.caBundle)
    expect(p.shell).toBe(f.shell)
    expect(p.tzdata).toBe(false)
    expect(f.tzdata).toBe(false)
    expect(p.interpreters.amd64).toEqual(f.interpretersAmd64)
  })
})

describe('sizes', () => {
  it('orders the debian12 bases by what they add, with the measured numbers in the catalogue', () => {
    const u = DEBIAN12_BASES.map((n) => entry(n).size.uncompressed!)
    expect([...u].sort((a, b) => a - b)).toEqual(u)
    for (const n of DEBIAN12_BASES) {
      // Rebuilt from possibly newer point releases: allow 10% drift from the committed figure.
      expect(Math.abs(bases.sizes[n].uncompressed - entry(n).size.uncompressed!) / entry(n).size.uncompressed!).toBeLessThan(0.1)
    }
  })
})

describe.each(RUNTIME_BASES)('%s (retired runtime image): size from its equivalent build', (name) => {
  it('states the measured compressed and uncompressed bytes, larger than the base it builds on, with a basis that says so', async () => {
    const rt = await ensureRuntimeBase(name)
    const size = entry(name).size
    expect(size.basis).toMatch(/^measured on the equivalent test\/bases\/runtimes\.ts build \(distroless\/\S+-debian12 \+ \d+ packages/)
    // Rebuilt from possibly newer point releases: allow 10% drift from the committed figures.
    expect(Math.abs(rt.size.uncompressed - size.uncompressed!) / size.uncompressed!).toBeLessThan(0.1)
    expect(Math.abs(rt.size.compressed - size.compressed!) / size.compressed!).toBeLessThan(0.1)
    const below = entry(entry(name).buildsOn!).size
    expect(size.uncompressed!).toBeGreaterThan(below.uncompressed!)
    expect(size.compressed!).toBeGreaterThan(below.compressed!)
  }, 600_000)
})
