import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SlimError } from '../../../src/core/errors.js'
import { findBase, imageRef } from '../../../src/advise/catalogue/load.js'
import { applyMirror, defaultConfigPath, loadConfig, mergeMirrors, parseConfig, parseMirrorFlag, resolveBases, withConfigMirrors } from '../../../src/advise/config.js'

const dir = mkdtempSync(join(tmpdir(), 'slim-config-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function writeConfig(name: string, content: unknown): string {
  const p = join(dir, name)
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content))
  return p
}

/** The SlimError a function throws (fails the test when it does not throw one). */
function errorOf(fn: () => unknown): SlimError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(SlimError)
    expect((e as Error).message).not.toContain('\n')
    return e as SlimError
  }
  throw new Error('expected a SlimError')
}

describe('config file location', () => {
  it('prefers $XDG_CONFIG_HOME, else ~/.config', () => {
    expect(defaultConfigPath({ XDG_CONFIG_HOME: '/x/cfg' }, '/home/u')).toBe('/x/cfg/slim/config.json')
    expect(defaultConfigPath({}, '/home/u')).toBe('/home/u/.config/slim/config.json')
    // A relative XDG_CONFIG_HOME is invalid per the XDG spec and is ignored.
    expect(defaultConfigPath({ XDG_CONFIG_HOME: 'rel' }, '/home/u')).toBe('/home/u/.config/slim/config.json')
  })

  it('treats a missing default file as an empty config', () => {
    const c = loadConfig(undefined, { XDG_CONFIG_HOME: join(dir, 'nowhere') }, dir)
    expect(c).toEqual({ mirrors: {}, exclude: [], bases: [] })
  })

  it('reads the default file when present', () => {
    const xdg = join(dir, 'xdg')
    mkdirSync(join(xdg, 'slim'), { recursive: true })
    writeFileSync(join(xdg, 'slim', 'config.json'), JSON.stringify({ mirrors: { 'gcr.io': 'registry.internal:5000' } }))
    const c = loadConfig(undefined, { XDG_CONFIG_HOME: xdg }, dir)
    expect(c.path).toBe(join(xdg, 'slim', 'config.json'))
    expect(c.mirrors).toEqual({ 'gcr.io': 'registry.internal:5000' })
  })

  it('fails on a missing --config file, naming it', () => {
    const e = errorOf(() => loadConfig(join(dir, 'absent.json')))
    expect(e.kind).toBe('not-found')
    expect(e.message).toContain(join(dir, 'absent.json'))
    expect(e.message).toContain('--config')
  })

  it('fails on invalid JSON, naming the file and the fix', () => {
    const p = writeConfig('broken.json', '{"mirrors": {')
    const e = errorOf(() => loadConfig(p))
    expect(e.message).toMatch(new RegExp(`^config ${p}: not valid JSON .*; fix the syntax$`))
  })
})

describe('config validation', () => {
  it('rejects unknown top-level keys', () => {
    const e = errorOf(() => parseConfig({ mirror: {} }, '/c.json'))
    expect(e.message).toBe('config /c.json: key "mirror" is not a known key; use one of mirrors, exclude, bases')
  })

  it('rejects a mirror with a URL scheme and says what to write instead', () => {
    const e = errorOf(() => parseConfig({ mirrors: { 'gcr.io': 'https://registry.internal:5000' } }, '/c.json'))
    expect(e.message).toBe('config /c.json: key "mirrors.gcr.io" maps to "https://registry.internal:5000" with a URL scheme; drop the scheme: "registry.internal:5000"')
  })

  it('rejects a mirror key that is not a registry', () => {
    const e = errorOf(() => parseConfig({ mirrors: { 'not a host': 'x.io' } }, '/c.json'))
    expect(e.message).toContain('key "mirrors.not a host" is not a registry')
  })

  it('rejects a base without a name and a non-list exclude', () => {
    expect(errorOf(() => parseConfig({ bases: [{ repository: 'x' }] }, '/c.json')).message).toContain('key "bases[0].name" is missing')
    expect(errorOf(() => parseConfig({ exclude: 'busybox:glibc' }, '/c.json')).message).toContain('key "exclude" must be a list')
  })
})

describe('resolveBases', () => {
  it('overrides fields of an existing base and keeps the rest', () => {
    const digest = `sha256:${'b'.repeat(64)}`
    const p = writeConfig('override.json', {
      bases: [{ name: 'distroless/cc-debian12', tags: [{ tag: 'nonroot', user: '65532', workdir: '/home/nonroot', digests: { amd64: digest } }], notes: ['pinned by ops'] }],
    })
    const bases = resolveBases(loadConfig(p))
    const cc = findBase(bases, 'distroless/cc-debian12')!
    expect(cc.base.tags).toHaveLength(1)
    expect(imageRef(cc.base, cc.tag, 'amd64')).toBe(`gcr.io/distroless/cc-debian12:nonroot@${digest}`)
    expect(cc.base.notes).toEqual(['pinned by ops'])
    expect(cc.base.provides.sonames).toContain('libstdc++.so.6') // untouched fields stay
  })

  it('adds a base copied from another one with "from"', () => {
    const p = writeConfig('from.json', { bases: [{ name: 'acme/cc', from: 'gcr.io/distroless/cc-debian12', repository: 'registry.acme.internal/base/cc' }] })
    const acme = findBase(resolveBases(loadConfig(p)), 'acme/cc')!
    expect(imageRef(acme.base)).toBe('registry.acme.internal/base/cc:latest')
    expect(acme.base.provides.glibcCeiling).toBe('GLIBC_2.36')
    expect(acme.base.aliases).toEqual([])
    expect(acme.base.sources).toContain('from:distroless/cc-debian12')
  })

  it('adds a new base from a few fields, filling safe defaults', () => {
    const p = writeConfig('new.json', {
      bases: [{ name: 'acme/tiny', repository: 'registry.acme.internal/tiny', family: 'distroless', provides: { libc: { flavour: 'none' }, caBundle: '/etc/ssl/certs/ca-certificates.crt' }, architectures: ['amd64'] }],
    })
    const tiny = findBase(resolveBases(loadConfig(p)), 'acme/tiny')!.base
    expect(tiny.provides.caBundle).toBe('/etc/ssl/certs/ca-certificates.crt')
    expect(tiny.provides.tzdata).toBe(false)
    expect(tiny.tags[0]).toEqual({ tag: 'latest', user: '0', workdir: '/' })
    expect(tiny.sources).toEqual([`config:${p}`])
  })

  it('names the file and the offending key of an invalid base', () => {
    const p = writeConfig('bad-base.json', { bases: [{ name: 'acme/x', repository: 'r.io/x', family: 'distroless', provides: { libc: { flavour: 'glibc', version: '2.36' } }, architectures: ['amd64'] }] })
    const e = errorOf(() => resolveBases(loadConfig(p)))
    expect(e.message).toBe(`config ${p}: key "bases[0].provides.glibcCeiling" (base "acme/x") is missing; a glibc base needs its highest GLIBC_2.N; fix or remove that key`)
    const q = writeConfig('bad-field.json', { bases: [{ name: 'distroless/cc-debian12', provides: { tzdata: 'yes' } }] })
    expect(errorOf(() => resolveBases(loadConfig(q))).message).toContain('key "bases[0].provides.tzdata" (base "distroless/cc-debian12") must be true or false (got "yes")')
  })

  it('refuses "from" an unknown base and excluding an unknown one', () => {
    const p = writeConfig('bad-from.json', { bases: [{ name: 'acme/y', from: 'nope' }] })
    expect(errorOf(() => resolveBases(loadConfig(p))).message).toContain('key "bases[0].from" names no known base ("nope")')
    const q = writeConfig('bad-exclude.json', { exclude: ['nope'] })
    expect(errorOf(() => resolveBases(loadConfig(q))).message).toContain('key "exclude[0]" names no known base')
  })

  it('removes excluded bases', () => {
    const p = writeConfig('exclude.json', { exclude: ['busybox:glibc', 'docker.io/library/alpine:3.20'] })
    const bases = resolveBases(loadConfig(p))
    expect(findBase(bases, 'busybox:glibc')).toBeUndefined()
    expect(findBase(bases, 'alpine:3.20')).toBeUndefined()
    expect(findBase(bases, 'alpine:3.24')).toBeDefined()
  })
})

describe('mirrors', () => {
  it('parses --base-mirror and lets the command line win over the config', () => {
    expect(parseMirrorFlag('gcr.io=registry.internal:5000')).toEqual(['gcr.io', 'registry.internal:5000'])
    expect(parseMirrorFlag('GCR.io=registry.internal:5000/mirror/')).toEqual(['gcr.io', 'registry.internal:5000/mirror'])
    expect(mergeMirrors({ 'gcr.io': 'a.internal', 'cgr.dev': 'b.internal' }, ['gcr.io=c.internal:5000'])).toEqual({ 'gcr.io': 'c.internal:5000', 'cgr.dev': 'b.internal' })
  })

  it('gives a one-line usage error for a malformed flag', () => {
    const e = errorOf(() => parseMirrorFlag('gcr.io'))
    expect(e.kind).toBe('usage')
    expect(e.message).toBe('--base-mirror "gcr.io": expected REGISTRY=MIRROR; write e.g. --base-mirror gcr.io=registry.internal:5000')
    expect(errorOf(() => parseMirrorFlag('gcr.io=http://m:5000')).message).toContain('drop the scheme: "m:5000"')
  })

  it('rewrites the registry of a reference, keeping path, tag and digest', () => {
    const m = { 'gcr.io': 'registry.internal:5000' }
    expect(applyMirror('gcr.io/distroless/cc-debian12:nonroot', m)).toBe('registry.internal:5000/distroless/cc-debian12:nonroot')
    const d = `@sha256:${'d'.repeat(64)}`
    expect(applyMirror(`gcr.io/distroless/static-debian12${d}`, m)).toBe(`registry.internal:5000/distroless/static-debian12${d}`)
    expect(applyMirror('cgr.dev/chainguard/static:latest', m)).toBe('cgr.dev/chainguard/static:latest')
    expect(applyMirror('scratch', { 'docker.io': 'hub.internal' })).toBe('scratch')
  })

  it('maps Docker Hub short names through a docker.io mirror, under any Hub alias', () => {
    expect(applyMirror('alpine:3.20', { 'docker.io': 'hub.internal:5000' })).toBe('hub.internal:5000/library/alpine:3.20')
    expect(applyMirror('docker.io/library/busybox:musl', { 'index.docker.io': 'hub.internal/dh' })).toBe('hub.internal/dh/library/busybox:musl')
  })

  it('prefers the longest matching prefix, on a path-component boundary', () => {
    const m = { 'gcr.io': 'a.internal', 'gcr.io/distroless': 'b.internal/dl', 'gcr.io/dist': 'wrong.internal' }
    expect(applyMirror('gcr.io/distroless/base-debian12:latest', m)).toBe('b.internal/dl/base-debian12:latest')
    expect(applyMirror('gcr.io/other/x:1', m)).toBe('a.internal/other/x:1')
  })
})

describe('withConfigMirrors', () => {
  const config = parseConfig({ mirrors: { 'docker.io': 'from-config:5000', 'gcr.io': 'gcr-mirror:5000' } }, 'c.json')
  it("adds the config's mirrors to the open options; --registry-mirror's win for the same registry", () => {
    const open = withConfigMirrors({ cacheDir: '/c', registryMirrors: { 'docker.io': 'from-flag:5000' } }, config)
    expect(open).toEqual({ cacheDir: '/c', registryMirrors: { 'docker.io': 'from-flag:5000', 'gcr.io': 'gcr-mirror:5000' } })
    expect(applyMirror('team/api:1', open.registryMirrors!)).toBe('from-flag:5000/team/api:1')
    expect(withConfigMirrors({}, config).registryMirrors).toEqual(config.mirrors)
  })
  it('leaves options without any mirror as they are', () => {
    const open = { cacheDir: '/c' }
    expect(withConfigMirrors(open, parseConfig({}, 'c.json'))).toBe(open)
  })
})
