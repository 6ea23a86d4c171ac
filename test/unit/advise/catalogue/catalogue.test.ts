import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { builtinBases, builtinCatalogue, findBase, imageRef, mergeDeep, stringifyCatalogue } from '../../../../src/advise/catalogue/load.js'
import type { Base } from '../../../../src/advise/catalogue/types.js'
import { baseProblems } from '../../../../src/advise/catalogue/validate.js'
import { compareParts, highestVersion, parseSymbolVersion, versionWithin } from '../../../../src/advise/catalogue/versions.js'

const bases = builtinBases()
const byName = (n: string): Base => {
  const b = bases.find((x) => x.name === n)
  if (!b) throw new Error(`no ${n}`)
  return b
}

describe('built-in catalogue', () => {
  it('loads, validates and covers the candidate families', () => {
    expect(builtinCatalogue().schemaVersion).toBe(1)
    for (const b of bases) expect(baseProblems(b), b.name).toEqual([])
    const names = bases.map((b) => b.name)
    for (const n of [
      'scratch',
      'distroless/static-debian12', 'distroless/base-nossl-debian12', 'distroless/base-debian12', 'distroless/cc-debian12',
      'distroless/static-debian13', 'distroless/base-nossl-debian13', 'distroless/base-debian13', 'distroless/cc-debian13',
      'distroless/java21-debian13', 'distroless/nodejs22-debian13', 'distroless/python3-debian13',
      'alpine:3.10', 'alpine:3.11', 'alpine:3.20', 'alpine:3.24', 'chainguard/static', 'chainguard/glibc-dynamic',
      'busybox:glibc', 'busybox:musl', 'debian:12-slim',
    ]) expect(names).toContain(n)
  })

  it('has unique names, and no alias that points at two bases', () => {
    const seen = new Map<string, string>()
    for (const b of bases) {
      for (const n of [b.name, ...b.aliases]) {
        expect(seen.get(n), `${n} used by ${seen.get(n)} and ${b.name}`).toBeUndefined()
        seen.set(n, b.name)
      }
    }
  })

  it('is stored in its canonical formatting (so the derive script rewrites it without noise)', () => {
    const text = readFileSync(new URL('../../../../src/advise/catalogue/bases.json', import.meta.url), 'utf8')
    expect(stringifyCatalogue(JSON.parse(text))).toBe(text)
  })

  it('states a GLIBC ceiling that matches the glibc version, and lists libc.so.6 and the loader', () => {
    for (const b of bases.filter((x) => x.provides.libc.flavour === 'glibc')) {
      expect(b.provides.glibcCeiling, b.name).toBe(`GLIBC_${b.provides.libc.version}`)
      expect(b.provides.sonames, b.name).toContain('libc.so.6')
      if (b.architectures.includes('amd64')) {
        expect(b.provides.sonames, b.name).toContain('ld-linux-x86-64.so.2')
        expect(b.provides.interpreters.amd64, b.name).toContain('/lib64/ld-linux-x86-64.so.2')
      }
    }
  })

  it('gives musl bases their musl loader and libc name, and libc-less bases no loader at all', () => {
    for (const b of bases) {
      const { flavour } = b.provides.libc
      if (flavour === 'musl') {
        expect(b.provides.interpreters.amd64, b.name).toEqual(['/lib/ld-musl-x86_64.so.1'])
        expect(b.provides.sonames, b.name).toContain('libc.musl-x86_64.so.1')
      }
      if (flavour === 'none') {
        expect(Object.values(b.provides.interpreters).flat(), b.name).toEqual([])
        expect(b.provides.sonames, b.name).toEqual([])
      }
    }
  })

  it('keeps distroless layering: each supported base provides every soname of the one it builds on', () => {
    for (const b of bases.filter((x) => x.buildsOn && x.status === 'supported')) {
      const below = byName(b.buildsOn!)
      const missing = below.provides.sonames.filter((s) => !b.provides.sonames.includes(s))
      expect(missing, `${b.name} lacks sonames of ${below.name}`).toEqual([])
    }
  })

  it('matches the libc++ split: only cc and its descendants carry libstdc++ among distroless debian12 bases', () => {
    expect(byName('distroless/base-debian12').provides.sonames).not.toContain('libstdc++.so.6')
    expect(byName('distroless/base-nossl-debian12').provides.sonames).not.toContain('libssl.so.3')
    expect(byName('distroless/cc-debian12').provides.sonames).toEqual(expect.arrayContaining(['libstdc++.so.6', 'libgcc_s.so.1']))
    expect(byName('distroless/cc-debian12').provides.glibcxxCeiling).toBe('GLIBCXX_3.4.30')
    // Debian 13's libssl3t64 pulls zlib in; Debian 12's base has no libz (base-images.md §3.1).
    expect(byName('distroless/base-debian13').provides.sonames).toContain('libz.so.1')
    expect(byName('distroless/base-debian12').provides.sonames).not.toContain('libz.so.1')
  })

  it('gives :nonroot tags a 65532 user that exists in the base', () => {
    for (const b of bases) {
      for (const t of b.tags.filter((x) => x.tag.includes('nonroot'))) {
        expect(t.user, `${b.name}:${t.tag}`).toBe('65532')
        expect(b.provides.users.some((u) => u.uid === 65532), b.name).toBe(true)
      }
    }
  })

  it('marks what it could not check: every Debian 13 glibc base has unverified sonames', () => {
    for (const b of bases.filter((x) => x.distro?.versionId === '13' && x.provides.libc.flavour === 'glibc' && x.family === 'distroless')) {
      expect(b.checks.find((c) => c.fact === 'provides.sonames')?.status, b.name).toBe('unverified')
    }
    expect(byName('distroless/cc-debian12').checks.find((c) => c.fact === 'provides.sonames')?.status).toBe('verified')
  })

  it('lists runtimes with a path and entrypoint, and retired runtimes as retired', () => {
    const py = byName('distroless/python3-debian13')
    expect(py.runtime).toMatchObject({ language: 'python', version: '3.13.5', path: '/usr/bin/python3.13' })
    expect(byName('distroless/nodejs22-debian13').runtime?.path).toBe('/nodejs/bin/node')
    expect(byName('distroless/python3-debian12').status).toBe('retired')
  })
})

describe('findBase and imageRef', () => {
  it('finds a base by name, alias, repository and repository:tag', () => {
    expect(findBase(bases, 'distroless/cc-debian12')?.base.name).toBe('distroless/cc-debian12')
    expect(findBase(bases, 'cc-debian12')?.tag.tag).toBe('latest')
    const nonroot = findBase(bases, 'gcr.io/distroless/cc-debian12:nonroot')
    expect(nonroot?.base.name).toBe('distroless/cc-debian12')
    expect(nonroot?.tag.user).toBe('65532')
    expect(findBase(bases, 'alpine:3.20')?.base.name).toBe('alpine:3.20')
    expect(findBase(bases, 'docker.io/library/alpine:3.20')?.base.name).toBe('alpine:3.20')
    expect(findBase(bases, 'busybox:musl')?.base.provides.libc.flavour).toBe('none')
  })

  it('returns undefined for unknown names and unknown tags', () => {
    expect(findBase(bases, 'distroless/cc-debian11')).toBeUndefined()
    expect(findBase(bases, 'gcr.io/distroless/cc-debian12:nope')).toBeUndefined()
    expect(findBase(bases, 'alpine:2.0')).toBeUndefined()
  })

  it('prints repository:tag, pins a known digest, and leaves scratch bare', () => {
    const cc = byName('distroless/cc-debian12')
    expect(imageRef(cc)).toBe('gcr.io/distroless/cc-debian12:latest')
    const digest = `sha256:${'a'.repeat(64)}`
    const pinned = { ...cc.tags[1], digests: { amd64: digest } }
    expect(imageRef(cc, pinned, 'amd64')).toBe(`gcr.io/distroless/cc-debian12:nonroot@${digest}`)
    expect(imageRef(cc, pinned, 'arm64')).toBe('gcr.io/distroless/cc-debian12:nonroot')
    expect(imageRef(byName('scratch'))).toBe('scratch')
    expect(imageRef(byName('alpine:3.11'))).toBe('alpine:3.11')
  })
})

describe('mergeDeep', () => {
  it('merges objects key by key and replaces lists', () => {
    const a = { x: { y: 1, z: [1, 2] }, k: 'a' }
    const m = mergeDeep(a, { x: { z: [3] }, n: true })
    expect(m).toEqual({ x: { y: 1, z: [3] }, k: 'a', n: true })
    expect(a.x.z).toEqual([1, 2]) // the target is not changed
  })
})

describe('validation', () => {
  const good = (): Base => structuredClone(byName('distroless/base-debian12'))

  it('names the key and what it must be', () => {
    const b = good() as unknown as { provides: { libc: { flavour: string } } }
    b.provides.libc.flavour = 'uclibc'
    expect(baseProblems(b)).toEqual([{ key: 'provides.libc.flavour', expected: 'must be one of none, glibc, musl (got "uclibc")' }])
  })

  it('reports typos as unknown keys and missing required fields', () => {
    const b = good() as unknown as Record<string, unknown>
    b.tzdta = true
    delete b.architectures
    const keys = baseProblems(b).map((p) => p.key)
    expect(keys).toEqual(expect.arrayContaining(['tzdta', 'architectures']))
  })

  it('checks cross-field rules: glibc needs a ceiling and a loader for every architecture', () => {
    const b = good()
    delete b.provides.glibcCeiling
    expect(baseProblems(b).map((p) => p.key)).toContain('provides.glibcCeiling')
    const c = good()
    delete c.provides.interpreters['s390x']
    expect(baseProblems(c)).toEqual([{ key: 'provides.interpreters.s390x', expected: 'is missing; a glibc base needs its loader path for s390x' }])
    const d = good()
    d.provides.glibcCeiling = 'GLIBC_2.x'
    expect(baseProblems(d)[0].key).toBe('provides.glibcCeiling')
  })
})

describe('symbol versions', () => {
  it('parses numeric names and rejects the others', () => {
    expect(parseSymbolVersion('GLIBC_2.36')).toEqual({ family: 'GLIBC', parts: [2, 36] })
    expect(parseSymbolVersion('GLIBCXX_3.4.30')).toEqual({ family: 'GLIBCXX', parts: [3, 4, 30] })
    expect(parseSymbolVersion('GLIBC_PRIVATE')).toBeUndefined()
    expect(parseSymbolVersion('GLIBC_ABI_DT_RELR')).toBeUndefined()
    expect(parseSymbolVersion('CXXABI_TM_1')).toBeUndefined()
  })

  it('compares numerically, not as text', () => {
    expect(compareParts([2, 9], [2, 10])).toBeLessThan(0)
    expect(highestVersion(['GLIBC_2.2.5', 'GLIBC_2.36', 'GLIBC_2.4', 'GLIBC_PRIVATE', 'GLIBCXX_3.4.30'], 'GLIBC')).toBe('GLIBC_2.36')
    expect(highestVersion(['GLIBC_2.2.5'], 'GLIBCXX')).toBeUndefined()
  })

  it('decides need <= ceiling only within one family', () => {
    expect(versionWithin('GLIBC_2.34', 'GLIBC_2.36')).toBe(true)
    expect(versionWithin('GLIBC_2.36', 'GLIBC_2.36')).toBe(true)
    expect(versionWithin('GLIBC_2.38', 'GLIBC_2.36')).toBe(false)
    expect(versionWithin('GLIBC_2.3.4', 'GLIBC_2.3')).toBe(false)
    expect(versionWithin('GLIBCXX_3.4.30', 'GLIBC_2.36')).toBe(false)
    expect(versionWithin('GLIBC_PRIVATE', 'GLIBC_2.36')).toBe(false)
    expect(versionWithin('GLIBC_2.17', undefined)).toBe(false)
  })
})
