import { describe, expect, it } from 'vitest'
import { SlimError } from '../../../src/core/errors.js'
import { applyMirror, canonicalRegistry, familiarName, familiarString, parseReference } from '../../../src/image/reference.js'

const D = 'sha256:' + 'a'.repeat(64)

describe('parseReference: valid references and their normal form', () => {
  const table: Array<[string, { registry: string; repository: string; tag?: string; digest?: string; canonical: string }]> = [
    ['nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest', canonical: 'docker.io/library/nginx:latest' }],
    ['nginx:1.25', { registry: 'docker.io', repository: 'library/nginx', tag: '1.25', canonical: 'docker.io/library/nginx:1.25' }],
    ['library/nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest', canonical: 'docker.io/library/nginx:latest' }],
    ['docker.io/nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest', canonical: 'docker.io/library/nginx:latest' }],
    ['index.docker.io/nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest', canonical: 'docker.io/library/nginx:latest' }],
    ['index.docker.io/bitnami/redis:7', { registry: 'docker.io', repository: 'bitnami/redis', tag: '7', canonical: 'docker.io/bitnami/redis:7' }],
    ['bitnami/redis', { registry: 'docker.io', repository: 'bitnami/redis', tag: 'latest', canonical: 'docker.io/bitnami/redis:latest' }],
    ['a/b/c/d', { registry: 'docker.io', repository: 'a/b/c/d', tag: 'latest', canonical: 'docker.io/a/b/c/d:latest' }],
    ['localhost/app', { registry: 'localhost', repository: 'app', tag: 'latest', canonical: 'localhost/app:latest' }],
    ['localhost:5000/app:v1', { registry: 'localhost:5000', repository: 'app', tag: 'v1', canonical: 'localhost:5000/app:v1' }],
    ['127.0.0.1:5000/ns/app', { registry: '127.0.0.1:5000', repository: 'ns/app', tag: 'latest', canonical: '127.0.0.1:5000/ns/app:latest' }],
    ['[::1]:5000/app:1', { registry: '[::1]:5000', repository: 'app', tag: '1', canonical: '[::1]:5000/app:1' }],
    ['ghcr.io/org/tool', { registry: 'ghcr.io', repository: 'org/tool', tag: 'latest', canonical: 'ghcr.io/org/tool:latest' }],
    ['registry.example.com:443/a/b:t', { registry: 'registry.example.com:443', repository: 'a/b', tag: 't', canonical: 'registry.example.com:443/a/b:t' }],
    ['myhost:5000/app', { registry: 'myhost:5000', repository: 'app', tag: 'latest', canonical: 'myhost:5000/app:latest' }],
    ['Example.COM/app', { registry: 'Example.COM', repository: 'app', tag: 'latest', canonical: 'Example.COM/app:latest' }],
    [`nginx@${D}`, { registry: 'docker.io', repository: 'library/nginx', digest: D, canonical: `docker.io/library/nginx@${D}` }],
    [`nginx:1.25@${D}`, { registry: 'docker.io', repository: 'library/nginx', tag: '1.25', digest: D, canonical: `docker.io/library/nginx:1.25@${D}` }],
    [`localhost:5000/app@${D}`, { registry: 'localhost:5000', repository: 'app', digest: D, canonical: `localhost:5000/app@${D}` }],
    ['a_b/c__d/e-f/g.h/i---j:T_a.g-1', { registry: 'docker.io', repository: 'a_b/c__d/e-f/g.h/i---j', tag: 'T_a.g-1', canonical: 'docker.io/a_b/c__d/e-f/g.h/i---j:T_a.g-1' }],
    ['busybox:' + 'x'.repeat(128), { registry: 'docker.io', repository: 'library/busybox', tag: 'x'.repeat(128), canonical: 'docker.io/library/busybox:' + 'x'.repeat(128) }],
    ['  nginx  ', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest', canonical: 'docker.io/library/nginx:latest' }],
  ]
  for (const [input, want] of table) {
    it(JSON.stringify(input), () => {
      const r = parseReference(input)
      expect(r.registry).toBe(want.registry)
      expect(r.repository).toBe(want.repository)
      expect(r.tag).toBe(want.tag)
      expect(r.digest).toBe(want.digest)
      expect(r.name).toBe(`${want.registry}/${want.repository}`)
      expect(r.toString()).toBe(want.canonical)
      // The canonical form parses back to itself.
      expect(parseReference(r.toString()).toString()).toBe(want.canonical)
    })
  }
})

describe('parseReference: invalid references name the bad part', () => {
  const table: Array<[string, RegExp]> = [
    ['', /empty/],
    ['Nginx', /repository "Nginx" has upper-case letters/],
    ['docker.io/Library/nginx', /upper-case/],
    ['nginx:', /invalid tag ""/],
    ['nginx:-bad', /invalid tag "-bad"/],
    ['nginx:' + 'x'.repeat(129), /invalid tag/],
    ['nginx:a+b', /invalid tag "a\+b"/],
    ['nginx@sha256:abc', /invalid digest "sha256:abc"/],
    ['nginx@md5:' + 'a'.repeat(32), /invalid digest/],
    [`nginx@sha256:${'A'.repeat(64)}`, /invalid digest/],
    ['a//b', /empty path component/],
    ['a/b/', /empty path component/],
    ['-a/b', /invalid path component "-a"/],
    ['a/b-', /invalid path component "b-"/],
    ['a/.b', /invalid path component ".b"/],
    ['a/b___c', /invalid path component "b___c"/],
    ['localhost:5000/', /repository name is missing/],
    ['-bad.com/app', /invalid registry host "-bad.com"/],
    ['bad_host.com/app', /invalid registry host "bad_host.com"/],
    ['host.com:99999/app', /invalid registry port "99999"/],
    ['host.com:abc/app:1', /invalid registry port "abc"/],
    ['[zz::1]:5000/app', /invalid IPv6/],
    ['https://registry.example.com/app', /"https:\/\/" is not part of a registry reference/],
    ['a'.repeat(64), /hex image ID/],
    ['r.io/' + 'a'.repeat(260), /at most 255/],
    ['nginx@', /invalid digest ""/],
    ['app name', /invalid path component "app name"/],
  ]
  for (const [input, message] of table) {
    it(JSON.stringify(input.length > 40 ? input.slice(0, 40) + '...' : input), () => {
      let err: unknown
      try {
        parseReference(input)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(SlimError)
      expect((err as SlimError).kind).toBe('reference')
      expect((err as SlimError).message).toMatch(message)
      expect((err as SlimError).message).toMatch(/^invalid image reference/)
      expect((err as SlimError).message).not.toContain('\n')
    })
  }
})

describe('familiarName', () => {
  it('shortens Docker Hub names the way docker save writes RepoTags', () => {
    expect(familiarName(parseReference('nginx'))).toBe('nginx')
    expect(familiarName(parseReference('docker.io/library/nginx:1'))).toBe('nginx')
    expect(familiarName(parseReference('bitnami/redis'))).toBe('bitnami/redis')
    expect(familiarName(parseReference('docker.io/library/a/b'))).toBe('library/a/b')
    expect(familiarName(parseReference('localhost:5000/app'))).toBe('localhost:5000/app')
    expect(familiarString(parseReference('nginx'))).toBe('nginx:latest')
    expect(familiarString(parseReference(`ghcr.io/o/t:1@${D}`))).toBe(`ghcr.io/o/t:1@${D}`)
  })
})

describe('applyMirror and Docker Hub aliases (the one reference grammar)', () => {
  it('keeps the tag and digest as written and maps every Hub alias to docker.io', () => {
    expect(canonicalRegistry('Registry-1.Docker.io')).toBe('docker.io')
    expect(canonicalRegistry('registry.hub.docker.com')).toBe('docker.io')
    expect(canonicalRegistry('gcr.io')).toBe('gcr.io')
    expect(applyMirror('alpine', { 'docker.io': 'hub.internal' })).toBe('hub.internal/library/alpine')
    expect(applyMirror('library/alpine:3.20', { 'registry-1.docker.io': 'hub.internal' })).toBe('hub.internal/library/alpine:3.20')
    expect(applyMirror(`localhost:5000/app:1@sha256:${'c'.repeat(64)}`, { 'localhost:5000': 'm:1' })).toBe(`m:1/app:1@sha256:${'c'.repeat(64)}`)
  })

  it('refuses a malformed reference with the grammar\'s one-line error', () => {
    expect(() => applyMirror('Gcr.io/UPPER:1', { 'gcr.io': 'm' })).toThrow(/invalid image reference "Gcr.io\/UPPER:1": repository "UPPER" has upper-case letters/)
  })
})
