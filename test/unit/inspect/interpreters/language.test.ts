import { describe, expect, it } from 'vitest'
import { upstreamVersion } from '../../../../src/inspect/interpreters/common.js'
import { runtimeLanguage } from '../../../../src/inspect/interpreters/language.js'
import { isShellName } from '../../../../src/layers/shells.js'

describe('runtime names', () => {
  it('by the invoked name, then the real name', () => {
    expect(runtimeLanguage('python3', 'python3.11')).toBe('python')
    expect(runtimeLanguage('python', 'pypy3')).toBe('python')
    expect(runtimeLanguage('nodejs', 'node')).toBe('node')
    expect(runtimeLanguage('java', 'java')).toBe('java')
    expect(runtimeLanguage('ruby3.1', 'ruby3.1')).toBe('ruby')
    expect(runtimeLanguage('php-fpm8.2', 'php-fpm8.2')).toBe('php')
    expect(runtimeLanguage('php', 'php8.2')).toBe('php')
    expect(runtimeLanguage('perl', 'perl5.36.0')).toBe('perl')
    expect(runtimeLanguage('sh', 'dash')).toBe('shell')
    expect(runtimeLanguage('nginx', 'nginx')).toBeUndefined()
    expect(runtimeLanguage('python3-config', 'python3.11-config')).toBeUndefined()
  })
  it('busybox is what it is invoked as', () => {
    expect(runtimeLanguage('sh', 'busybox')).toBe('shell')
    expect(runtimeLanguage('httpd', 'busybox')).toBeUndefined()
    expect(isShellName('ash')).toBe(true)
    expect(isShellName('busybox')).toBe(false)
  })
  it('upstream versions from package versions (Debian, Alpine)', () => {
    expect(upstreamVersion('3.11.2-1+b1')).toBe('3.11.2')
    expect(upstreamVersion('18.20.4+dfsg-1~deb12u3')).toBe('18.20.4')
    expect(upstreamVersion('1:1.35.0-4+deb12u1')).toBe('1.35.0')
    expect(upstreamVersion('20.11.1-r0')).toBe('20.11.1')
    expect(upstreamVersion('17.0.20.1+1-1~deb12u1')).toBe('17.0.20.1')
  })
})
