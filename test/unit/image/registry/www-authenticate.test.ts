import { describe, expect, it } from 'vitest'
import { parseWwwAuthenticate } from '../../../../src/image/registry/www-authenticate.js'

describe('parseWwwAuthenticate', () => {
  it('reads a Docker Hub Bearer challenge', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' } },
    ])
  })

  it('reads Basic with a realm', () => {
    expect(parseWwwAuthenticate('Basic realm="slim-test"')).toEqual([{ scheme: 'basic', params: { realm: 'slim-test' } }])
  })

  it('keeps commas and escaped quotes inside quoted values', () => {
    const [c] = parseWwwAuthenticate('Bearer realm="https://a/token",scope="repository:a:pull,push repository:b:pull",error="say \\"hi\\""')
    expect(c.params.scope).toBe('repository:a:pull,push repository:b:pull')
    expect(c.params.error).toBe('say "hi"')
  })

  it('splits several challenges in one header', () => {
    const got = parseWwwAuthenticate('Basic realm="x", Bearer realm="https://t/token", service="svc"  ,  Negotiate')
    expect(got.map((c) => c.scheme)).toEqual(['basic', 'bearer', 'negotiate'])
    expect(got[1].params).toEqual({ realm: 'https://t/token', service: 'svc' })
    expect(got[2].params).toEqual({})
  })

  it('accepts unquoted values, spaces around "=", and mixed-case names', () => {
    const [c] = parseWwwAuthenticate('BEARER Realm = https://t/token , Service=svc')
    expect(c).toEqual({ scheme: 'bearer', params: { realm: 'https://t/token', service: 'svc' } })
  })

  it('reports insufficient_scope details', () => {
    const [c] = parseWwwAuthenticate('Bearer realm="http://127.0.0.1:1/token",service="test",scope="repository:bar:pull",error="insufficient_scope"')
    expect(c.params.error).toBe('insufficient_scope')
    expect(c.params.scope).toBe('repository:bar:pull')
  })

  it('survives junk without throwing', () => {
    expect(parseWwwAuthenticate('')).toEqual([])
    expect(parseWwwAuthenticate(',,, ')).toEqual([])
    expect(parseWwwAuthenticate('Bearer realm="unterminated')).toEqual([{ scheme: 'bearer', params: { realm: 'unterminated' } }])
    expect(parseWwwAuthenticate('"quoted", Basic realm=r')[0]).toEqual({ scheme: 'basic', params: { realm: 'r' } })
  })
})
