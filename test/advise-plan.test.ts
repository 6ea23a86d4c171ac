/**
 * The copy plan against an image filesystem (an in-memory RootFs): symlink chains copied under the
 * name used, trees with their outside link targets, writable directories owned by the user,
 * --keep, LD_LIBRARY_PATH for ld.so.conf directories, and the size estimate.
 */
import { describe, expect, it } from 'vitest'
import { advise } from '../src/advise/advise.js'
import { SlimError } from '../src/core/errors.js'
import type { Inspection } from '../src/inspect/types.js'
import { bases, glibcProgram, lib, MapRootFs, need, sourceImage, staticGo } from './advise-helpers.js'

const DEBIAN12 = { id: 'debian', versionId: '12' }
const T = '/lib/x86_64-linux-gnu'

function plan(insp: Inspection, fs: MapRootFs, o: { keep?: string[]; config?: object; base?: string; layers?: { compressedSize: number; fileBytes?: number }[] } = {}) {
  const a = advise({
    inspection: insp,
    image: sourceImage({ distro: DEBIAN12, config: { Entrypoint: [insp.program.path ?? '/app/prog'], ...o.config }, ...(o.layers ? { layers: o.layers } : {}) }),
    catalogue: bases(),
    rootfs: fs,
    options: { keep: o.keep, base: o.base },
  })
  return a
}

describe('symlinks', () => {
  it('a library chain is copied once, under the name the loader looks up, with the target\'s bytes', () => {
    const fs = new MapRootFs({
      '/app/prog': 16_000,
      [`${T}/libpcre2-8.so.0`]: 'libpcre2-8.so.0.11.2',
      [`${T}/libpcre2-8.so.0.11.2`]: 613_000,
      [`${T}/libc.so.6`]: 1_900_000,
    })
    const insp = glibcProgram([])
    insp.closure.libraries.push(lib('libpcre2-8.so.0', { realPath: `${T}/libpcre2-8.so.0.11.2`, symlinks: [`${T}/libpcre2-8.so.0`], size: 613_000 }))
    const a = plan(insp, fs)
    const libs = a.plan!.copies.filter((c) => c.kind === 'library')
    expect(libs).toEqual([expect.objectContaining({ source: `${T}/libpcre2-8.so.0`, type: 'file', bytes: 613_000 })])
    expect(a.dockerfile).toContain(`COPY --from=source ${T}/libpcre2-8.so.0 ${T}/`)
    expect(a.dockerfile).not.toContain('libpcre2-8.so.0.11.2 ')
  })

  it('a program reached through a symlink is copied under the command\'s name only', () => {
    const fs = new MapRootFs({ '/usr/local/bin/app': '/opt/app/bin/app', '/opt/app/bin/app': 5_000_000 })
    const insp = staticGo([], '/usr/local/bin/app')
    insp.program = { ...insp.program, realPath: '/opt/app/bin/app', executables: ['/opt/app/bin/app'], symlinks: ['/usr/local/bin/app'] }
    const a = plan(insp, fs)
    expect(a.plan!.copies.map((c) => [c.source, c.bytes])).toEqual([['/usr/local/bin/app', 5_000_000]])
  })

  it('the same library reached through a merged-/usr directory link is copied once', () => {
    const fs = new MapRootFs({ '/lib': 'usr/lib', [`/usr${T}/libz.so.1`]: 120_000, '/app/prog': 1000 })
    const insp = glibcProgram([])
    insp.closure.libraries.push(lib('libz.so.1', { path: `${T}/libz.so.1`, realPath: `/usr${T}/libz.so.1` }))
    insp.needs.push(need('dlopen', [`/usr${T}/libz.so.1`], { reason: 'dlopen("libz.so.1")' }))
    const a = plan(insp, fs)
    expect(a.plan!.copies.filter((c) => c.source.endsWith('libz.so.1')).map((c) => c.source)).toEqual([`${T}/libz.so.1`])
  })
})

describe('trees and ownership', () => {
  const nginx = () => {
    const fs = new MapRootFs({
      '/usr/sbin/nginx': 1_200_000,
      '/etc/nginx/nginx.conf': 1500,
      '/etc/nginx/mime.types': 5000,
      '/etc/nginx/sites-available/default': 2400,
      '/etc/nginx/sites-enabled/default': '../sites-available/default',
      '/etc/nginx/html': '/usr/share/nginx/html',
      '/usr/share/nginx/html/index.html': 615,
      '/var/lib/nginx': 'dir',
      '/var/log/nginx': 'dir',
      '/usr/share/doc/nginx/README': 900,
    })
    const insp = glibcProgram([], { path: '/usr/sbin/nginx' })
    insp.needs.push(
      need('program-data', ['/etc/nginx', '/etc/nginx/nginx.conf'], { reason: 'nginx reads its configuration' }),
      need('writable', ['/var/lib/nginx', '/var/log/nginx'], { reason: 'nginx writes temp files and logs', writable: true }),
    )
    return { fs, insp }
  }

  it('a tree is one COPY; a file inside it is not copied again; outside link targets are added', () => {
    const { fs, insp } = nginx()
    const a = plan(insp, fs)
    const sources = a.plan!.copies.map((c) => c.source)
    expect(sources).toContain('/etc/nginx')
    expect(sources).not.toContain('/etc/nginx/nginx.conf')
    const target = a.plan!.copies.find((c) => c.kind === 'link-target')
    expect(target).toMatchObject({ source: '/usr/share/nginx/html', type: 'dir', bytes: 615 })
    expect(target!.why).toBe('/usr/share/nginx/html: target of the symlink /etc/nginx/html')
    expect(a.plan!.copies.find((c) => c.source === '/etc/nginx')!.bytes).toBe(1500 + 5000 + 2400)
    expect(a.dockerfile).toContain('COPY --from=source /etc/nginx /etc/nginx\n')
  })

  it('writable directories are owned by the runtime user, after the plain copies', () => {
    const { fs, insp } = nginx()
    const a = plan(insp, fs)
    const lines = a.dockerfile!.split('\n').filter((l) => l.startsWith('COPY'))
    expect(lines.slice(-2)).toEqual([
      'COPY --from=source --chown=65532:65532 /var/lib/nginx /var/lib/nginx',
      'COPY --from=source --chown=65532:65532 /var/log/nginx /var/log/nginx',
    ])
  })

  it('--keep adds a path; a path the image lacks is a usage error', () => {
    const { fs, insp } = nginx()
    const a = plan(insp, fs, { keep: ['usr/share/doc/nginx/README'] })
    expect(a.plan!.copies.find((c) => c.kind === 'keep')).toMatchObject({ source: '/usr/share/doc/nginx/README', bytes: 900 })
    expect(() => plan(insp, fs, { keep: ['/nope'] })).toThrow(SlimError)
    expect(() => plan(insp, fs, { keep: ['/nope'] })).toThrow('--keep /nope: no such path in the image')
  })

  it('forced scratch copies /tmp with mode 1777', () => {
    const fs = new MapRootFs({ '/app/hello': 2_000_000, '/tmp': 'dir' })
    const a = plan(staticGo([need('tmp', ['/tmp'], { reason: 'os.CreateTemp writes to /tmp' })]), fs, { base: 'scratch' })
    expect(a.dockerfile).toContain('COPY --from=source --chmod=1777 /tmp /tmp')
  })
})

describe('loader search path and estimate', () => {
  it('libraries from an ld.so.conf directory get LD_LIBRARY_PATH (no ld.so.cache on the base)', () => {
    const fs = new MapRootFs({ '/app/prog': 1000, '/opt/vendor/lib/libacme.so.2': 40_000 })
    const insp = glibcProgram([])
    insp.closure.libraries.push(lib('libacme.so.2', { path: '/opt/vendor/lib/libacme.so.2', rule: 'ld.so.conf' }))
    const a = plan(insp, fs)
    expect(a.plan!.ldLibraryPath).toEqual(['/opt/vendor/lib'])
    expect(a.dockerfile).toMatch(/^ENV LD_LIBRARY_PATH="\/opt\/vendor\/lib"$/m)
  })

  it('estimate = base + copied bytes, compared with the layers\' file bytes', () => {
    const fs = new MapRootFs({ '/app/prog': 3_000_000, [`${T}/libz.so.1`]: 120_000 })
    const insp = glibcProgram(['libz.so.1'])
    const a = plan(insp, fs, { layers: [{ compressedSize: 10_000_000, fileBytes: 60_000_000 }, { compressedSize: 1_000, fileBytes: 20_000_000 }] })
    const e = a.plan!.estimate
    const base = bases().find((b) => b.name === a.plan!.base.name)!
    expect(e.copiedBytes).toBe(3_120_000)
    expect(e.baseBytes).toBe(base.size.uncompressed)
    expect(e.totalBytes).toBe(base.size.uncompressed! + 3_120_000)
    expect(e.todayBytes).toBe(80_000_000)
    expect(e.todayBasis).toBe('layer files')
    expect(e.savedPercent).toBe(Math.round((1 - e.totalBytes! / 80_000_000) * 1000) / 10)
    expect(a.summary).toContain(`${e.savedPercent}% smaller`)
  })

  it('without layer file sizes, today\'s size is the compressed one and says so', () => {
    const fs = new MapRootFs({ '/app/hello': 1000 })
    const a = plan(staticGo([], '/app/hello'), fs, { layers: [{ compressedSize: 5_000_000 }] })
    expect(a.plan!.estimate).toMatchObject({ todayBytes: 5_000_000, todayBasis: 'compressed layers' })
  })

  it('an image already no bigger than the best base would make it is "already-small", not advised to grow', () => {
    // a glibc program on scratch with its libraries: 3 MB today; distroless base-nossl alone is larger
    const fs = new MapRootFs({ '/app/prog': 3_000_000, [`${T}/libz.so.1`]: 120_000 })
    const insp = glibcProgram(['libz.so.1'])
    const a = plan(insp, fs, { layers: [{ compressedSize: 1_500_000, fileBytes: 3_200_000 }] })
    expect(a.plan!.estimate.totalBytes!).toBeGreaterThan(3_200_000)
    expect(a.verdict).toBe('already-small')
    expect(a.summary).toMatch(/^already small: /)
    expect(a.summary).not.toMatch(/smaller/)
    expect(a.dockerfile).toMatch(/^USER \d+:\d+$/m)
    // the same image with build leftovers is worth slimming
    const fat = plan(insp, fs, { layers: [{ compressedSize: 30_000_000, fileBytes: 80_000_000 }] })
    expect(fat.verdict).toBe('slim')
  })
})
