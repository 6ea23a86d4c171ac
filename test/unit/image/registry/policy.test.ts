import { describe, expect, it } from 'vitest'
import { apiHost, hostOf, isLoopbackHost, mayUsePlainHttp } from '../../../../src/image/registry/policy.js'
import { nextLink } from '../../../../src/image/registry/client.js'

describe('plain-http policy', () => {
  it('allows loopback hosts like Docker does', () => {
    for (const r of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000', 'app.localhost:80']) {
      expect(mayUsePlainHttp(r), r).toBe(true)
    }
  })

  it('refuses other hosts unless the user lists them', () => {
    for (const r of ['registry.example.com', 'vm:5000', '10.0.0.1:5000', '128.0.0.1', 'localhost.example.com', '[fd00::2]:5000']) {
      expect(mayUsePlainHttp(r), r).toBe(false)
    }
    expect(mayUsePlainHttp('vm:5000', ['vm:5000'])).toBe(true)
    expect(mayUsePlainHttp('vm:5000', ['vm'])).toBe(true)
    expect(mayUsePlainHttp('vm:5000', ['http://VM:5000/'])).toBe(true)
    expect(mayUsePlainHttp('vm:5001', ['vm:5000'])).toBe(false)
    expect(mayUsePlainHttp('vmx:5000', ['vm'])).toBe(false)
  })

  it('splits hosts and maps Docker Hub to its API host', () => {
    expect(hostOf('h:1')).toBe('h')
    expect(hostOf('[::1]:5000')).toBe('[::1]')
    expect(isLoopbackHost('[::1]')).toBe(true)
    expect(apiHost('docker.io')).toBe('registry-1.docker.io')
    expect(apiHost('ghcr.io')).toBe('ghcr.io')
  })
})

describe('Link pagination header', () => {
  it('finds rel="next" among several links', () => {
    expect(nextLink('</v2/a/tags/list?last=b&n=2>; rel="next"')).toBe('/v2/a/tags/list?last=b&n=2')
    expect(nextLink('<https://x/prev>; rel="prev", <https://x/v2/a/tags/list?last=c&n=2>; rel=next')).toBe('https://x/v2/a/tags/list?last=c&n=2')
    expect(nextLink('</v2/a/tags/list?last=b,c&n=2>; rel="next"')).toBe('/v2/a/tags/list?last=b,c&n=2')
    expect(nextLink('</x>; rel="nextish"')).toBeUndefined()
    expect(nextLink(undefined)).toBeUndefined()
  })
})
