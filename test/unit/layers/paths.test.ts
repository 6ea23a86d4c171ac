import { describe, expect, it } from 'vitest'
import { cleanEntryPath, cleanLinkTarget } from '../../../src/layers/paths.js'

describe('cleanEntryPath', () => {
  it('normalises the harmless spellings of a name', () => {
    expect(cleanEntryPath('./usr//bin/./env')).toEqual({ ok: true, path: 'usr/bin/env' })
    expect(cleanEntryPath('usr/bin/')).toEqual({ ok: true, path: 'usr/bin' })
    expect(cleanEntryPath('./')).toEqual({ ok: true, path: '' })
  })

  it('keeps an absolute name inside the root but says so', () => {
    expect(cleanEntryPath('/some-file')).toEqual({ ok: true, path: 'some-file', note: 'absolute' })
  })

  it("folds '..' that stays inside and refuses '..' that climbs out", () => {
    expect(cleanEntryPath('a/b/../c')).toEqual({ ok: true, path: 'a/c', note: 'dotdot' })
    expect(cleanEntryPath('../x')).toMatchObject({ ok: false })
    expect(cleanEntryPath('a/../../etc/passwd')).toMatchObject({ ok: false })
    expect(cleanEntryPath('/../../etc/shadow')).toMatchObject({ ok: false })
  })

  it('refuses names Linux could not create', () => {
    expect(cleanEntryPath(`a/${'x'.repeat(256)}`)).toMatchObject({ ok: false, reason: expect.stringContaining('NAME_MAX') })
    expect(cleanEntryPath('a/'.repeat(2100))).toMatchObject({ ok: false, reason: expect.stringContaining('PATH_MAX') })
    expect(cleanEntryPath('a\0b')).toMatchObject({ ok: false, reason: expect.stringContaining('NUL') })
  })

  it('treats a hard link target that leaves the root as unusable', () => {
    expect(cleanLinkTarget('bin/busybox')).toBe('bin/busybox')
    expect(cleanLinkTarget('/bin/busybox')).toBe('bin/busybox')
    expect(cleanLinkTarget('../../etc/shadow')).toBeUndefined()
    expect(cleanLinkTarget('')).toBeUndefined()
  })
})
