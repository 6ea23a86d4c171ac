import { describe, expect, it } from 'vitest'
import { quoted as quote } from '../../../src/advise/dockerfile-escape.js'
import { copyLines, formatBytes, savedText, sourceStage } from '../../../src/advise/dockerfile.js'
import type { Copy, SourceImage } from '../../../src/advise/types.js'

const file = (source: string, o: Partial<Copy> = {}): Copy => ({ source, dest: source, type: 'file', kind: 'library', why: 'test', ...o })

describe('copyLines', () => {
  it('groups files by destination directory, one line per directory copy, ownership last', () => {
    const lines = copyLines([
      file('/lib/x86_64-linux-gnu/libz.so.1'),
      file('/etc/nginx', { type: 'dir' }),
      file('/var/lib/app', { type: 'dir', chown: '65532:65532' }),
      file('/lib/x86_64-linux-gnu/libpcre2-8.so.0'),
      file('/usr/sbin/nginx', { kind: 'program' }),
      file('/tmp', { type: 'dir', chmod: '1777' }),
    ])
    expect(lines).toEqual([
      'COPY --from=source /etc/nginx /etc/nginx',
      'COPY --from=source /lib/x86_64-linux-gnu/libpcre2-8.so.0 /lib/x86_64-linux-gnu/libz.so.1 /lib/x86_64-linux-gnu/',
      'COPY --from=source /usr/sbin/nginx /usr/sbin/',
      'COPY --from=source --chmod=1777 /tmp /tmp',
      'COPY --from=source --chown=65532:65532 /var/lib/app /var/lib/app',
    ])
  })

  it('uses the JSON form for paths a shell-like split would break', () => {
    expect(copyLines([file('/srv/my app/run')])).toEqual(['COPY --from=source ["/srv/my app/run","/srv/my app/"]'])
  })
})

describe('quoting and numbers', () => {
  it('escapes backslash, double quote and $ (the builder expands variables in ENV and LABEL)', () => {
    expect(quote('a "b" $HOME \\n')).toBe('"a \\"b\\" \\$HOME \\\\n"')
    expect(() => quote('two\nlines')).toThrow(/control characters/)
  })

  it('formats sizes in SI units and says larger when nothing was saved', () => {
    expect(formatBytes(999)).toBe('999 B')
    expect(formatBytes(2_089_865)).toBe('2.09 MB')
    expect(formatBytes(234_012_997)).toBe('234 MB')
    expect(formatBytes(undefined)).toBe('unknown')
    expect(savedText(88.9)).toBe('88.9% smaller')
    expect(savedText(-12.5)).toBe('12.5% larger')
  })
})

describe('sourceStage', () => {
  const img = (o: Partial<SourceImage>): SourceImage => ({ reference: 'x', transport: 'docker', platform: { os: 'linux', architecture: 'amd64' }, config: {}, layers: [], ...o })

  it('a registry image is pinned by its manifest digest', () => {
    const d = `sha256:${'c'.repeat(64)}`
    expect(sourceStage(img({ name: 'reg.io/team/app', tag: '1', manifestDigest: d }))).toEqual({ from: `reg.io/team/app@${d}` })
  })

  it('archives and layouts name what to load first, and say so', () => {
    const arch = sourceStage(img({ transport: 'docker-archive', reference: 'docker-archive:/tmp/app.tar:app:1', name: 'app', tag: '1' }))
    expect(arch).toEqual({ from: 'app:1', comment: 'built from docker-archive:/tmp/app.tar:app:1: load it first (docker load -i /tmp/app.tar) so app:1 exists' })
    const layout = sourceStage(img({ transport: 'oci', reference: 'oci:/tmp/layout:v1' }))
    expect(layout.from).toBe('slim-source:local')
    expect(layout.comment).toBe('built from oci:/tmp/layout:v1: push or load it first (skopeo copy oci:/tmp/layout:v1 docker-daemon:slim-source:local)')
  })
})

describe('dockerfile-escape', () => {
  it('COPY sources: pattern characters become one-character classes, lexer characters are escaped', async () => {
    const { copyInstruction, goDuration } = await import('../../../src/advise/dockerfile-escape.js')
    expect(copyInstruction(['--from=source'], ['/app/prog*', '/app/a\\b', '/app/$x'], '/app/')).toBe(String.raw`COPY --from=source ["/app/prog[*]","/app/a[\\\\\\\\]b","/app/\\$x","/app/"]`)
    expect(copyInstruction(['--from=source'], ['/usr/bin/app'], '/usr/bin/')).toBe('COPY --from=source /usr/bin/app /usr/bin/')
    expect(() => copyInstruction([], ['/app/../etc/passwd'], '/x/')).toThrow(/cannot write a COPY source for "\/app\/..\/etc\/passwd": it is not a normalised path/)
    expect([goDuration(30e9), goDuration(1_500_000), goDuration(1_000_001)]).toEqual(['30s', '1500us', '1000001ns'])
    expect(() => goDuration(999_999)).toThrow()
  })
})
