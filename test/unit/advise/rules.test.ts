import { describe, expect, it } from 'vitest'
import { builtinBases } from '../../../src/advise/catalogue/load.js'
import type { Requirements } from '../../../src/advise/requirements.js'
import { checkRuntime, checkRuntimeImageNeeded, checkUsers, runtimeCompatible, sameRelease } from '../../../src/advise/rules.js'

const base = (name: string) => builtinBases().find((b) => b.name === name)!
const req = (o: Partial<Requirements> = {}): Requirements => ({
  arch: 'amd64',
  libc: 'static',
  libcEvidence: 'static',
  relr: false,
  glibcPrivate: false,
  libraries: [],
  needs: new Map(),
  possibleNeeds: [],
  shellReasons: [],
  usesDistroLibraries: false,
  ...o,
})

describe('runtime rules', () => {
  it('semver lines: Python major.minor, Node major, Java forward only', () => {
    expect(runtimeCompatible('python', '3.11.2', '3.11.9')).toBe(true)
    expect(runtimeCompatible('python', '3.11.2', '3.13.5')).toBe(false)
    expect(runtimeCompatible('node', '24.1.0', '24.19.0')).toBe(true)
    expect(runtimeCompatible('java', '11.0.2', '17.0.20')).toBe(true)
    expect(runtimeCompatible('java', '25', '21.0.12')).toBe(false)
    expect(runtimeCompatible('python', 'unknown', '3.13.5')).toBeUndefined()
  })

  it('runtime images are of no use to compiled programs; other languages get their interpreter copied onto a base with a C library', () => {
    expect(checkRuntimeImageNeeded({ base: base('distroless/python3-debian13'), req: req(), forced: false, uid: 0 })).toEqual({ reject: 'a python runtime image; the program is not a python app' })
    const ruby = req({ runtime: { language: 'ruby', executable: '/usr/bin/ruby', app: { kind: 'script' }, appDir: '/app', trees: [] } })
    expect(checkRuntime({ base: base('distroless/cc-debian12'), req: ruby, forced: false, uid: 0 })).toBeUndefined()
    expect(checkRuntime({ base: base('debian:12-slim'), req: ruby, forced: false, uid: 0 })).toBeUndefined()
    expect(checkRuntime({ base: base('distroless/static-debian12'), req: ruby, forced: false, uid: 0 })).toEqual({ reject: 'no ruby runtime (distroless has none for ruby) and no C library for a copied interpreter; a ruby app needs its interpreter and library trees' })
    expect(checkRuntime({ base: base('distroless/cc-debian12'), req: { ...ruby, libc: 'unknown' }, forced: false, uid: 0 })).toMatchObject({ reject: expect.stringMatching(/^no ruby runtime/) })
  })
})

describe('sameRelease', () => {
  it('Debian by major version, Alpine by major.minor', () => {
    expect(sameRelease(base('distroless/base-debian12'), req({ sourceDistro: { id: 'debian', versionId: '12' } }))).toBe(true)
    expect(sameRelease(base('distroless/base-debian13'), req({ sourceDistro: { id: 'debian', versionId: '12' } }))).toBe(false)
    expect(sameRelease(base('alpine:3.10'), req({ sourceDistro: { id: 'alpine', versionId: '3.10.9' } }))).toBe(true)
    expect(sameRelease(base('alpine:3.11'), req({ sourceDistro: { id: 'alpine', versionId: '3.10.9' } }))).toBe(false)
    expect(sameRelease(base('scratch'), req({ sourceDistro: { id: 'debian', versionId: '12' } }))).toBe(false)
  })
})

describe('checkUsers', () => {
  const userNeed = { kind: 'user' as const, paths: ['/etc/passwd', '/etc/group'], present: true, reason: 'looks users up', evidence: ['getpwuid'], confidence: 'likely' as const }
  const withUser = req({ needs: new Map([['user', [userNeed]]]) })

  it('a uid slim chose that the base lacks: a note, not a copy of a passwd that lacks it too', () => {
    const out = checkUsers({ base: base('debian:12-slim'), req: withUser, forced: false, uid: 65532 })
    expect(out).toEqual({ note: 'debian:12-slim has no passwd entry for uid 65532: user lookups by the program return nothing and HOME is /; pass --user with a uid the base knows if that matters' })
  })

  it('no passwd at all: refused, or filled when forced', () => {
    expect(checkUsers({ base: base('scratch'), req: withUser, forced: false, uid: 65532 })).toEqual({ reject: 'has no /etc/passwd; looks users up (getpwuid)' })
    expect(checkUsers({ base: base('scratch'), req: withUser, forced: true, uid: 65532 })).toMatchObject({ fill: [{ need: userNeed }] })
  })
})
