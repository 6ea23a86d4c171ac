/**
 * The package index (src/layers/packages.ts) against the real databases: the Debian fixture image
 * (compared with dpkg-query over the same root), a distroless-style status.d layer, and trivy's
 * alpine:3.10 from the shared corpus (compared with the stanzas GNU tar extracts).
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openImage } from '../src/image/open.js'
import { buildIndex } from '../src/layers/build-index.js'
import { collectFacts } from '../src/layers/facts.js'
import { packageIndex } from '../src/layers/packages.js'
import { ensureFixtures } from './fixtures/index.js'
import { imageOf, makeTar } from './helpers/tar-layers.js'
import { SHARED } from './helpers/shared.js'

const hasDpkgQuery = existsSync('/usr/bin/dpkg-query')

describe('package index', () => {
  it.skipIf(!hasDpkgQuery)('Debian fixture: every installed package and version dpkg-query lists, file owners through the /lib -> usr/lib link', async () => {
    const fx = await ensureFixtures(['debian'])
    const admindir = join(fx.rootfs['debian-base'] ?? join(fx.cacheDir, 'rootfs', 'debian'), 'var/lib/dpkg')
    const expected = execFileSync('dpkg-query', [`--admindir=${admindir}`, '-W', '-f', '${db:Status-Abbrev}|${Package}|${Version}\\n'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.startsWith('ii'))
      .map((l) => l.split('|').slice(1).join(' '))
      .sort()
    const img = await openImage(fx.refs['debian-nginx'])
    const idx = await buildIndex(img)
    await img.close()
    const pkgs = await packageIndex(idx)
    expect(pkgs.packages.map((p) => `${p.name} ${p.version}`).sort()).toEqual(expected)
    expect(expected.length).toBeGreaterThan(50)
    expect(pkgs.get('nginx')?.manager).toBe('dpkg')
    expect(pkgs.get('libc6')?.filesSource).toMatch(/^\/var\/lib\/dpkg\/info\/libc6(:amd64)?\.list$/)
    // The .list names /lib/x86_64-linux-gnu/libc.so.6 (before merged /usr) or the /usr spelling; either resolves.
    const libc = idx.realpath('/lib/x86_64-linux-gnu/libc.so.6')?.path
    expect(libc).toBeDefined()
    expect(pkgs.owner(libc!)?.name).toBe('libc6')
    expect(pkgs.owner('/lib/x86_64-linux-gnu/libc.so.6')?.name).toBe('libc6')
    expect(pkgs.owner('/usr/sbin/nginx')?.name).toMatch(/^nginx/)
    expect(pkgs.owner('/etc/hostname')).toBeUndefined()
    // Facts count from the same index.
    const facts = await collectFacts(idx)
    expect(facts.packages).toEqual([{ manager: 'dpkg', database: '/var/lib/dpkg/status', count: expected.length }])
  })

  it('distroless status.d: entries with and without Status, file lists from NAME.md5sums, a removed package left out', async () => {
    const libc = 'Package: libc6\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\nSource: glibc (2.36-9)\n'
    const base = 'Package: base-files\nVersion: 12.4+deb12u5\nStatus: install ok installed\nArchitecture: amd64\n'
    const idx = await buildIndex(
      imageOf(
        makeTar([
          { name: 'var/lib/dpkg/status.d/libc6', data: libc },
          { name: 'var/lib/dpkg/status.d/libc6.md5sums', data: '0123456789abcdef0123456789abcdef  lib/x86_64-linux-gnu/libc.so.6\n' },
          { name: 'var/lib/dpkg/status.d/base-files', data: base },
          { name: 'var/lib/dpkg/status.d/gone', data: 'Package: gone\nVersion: 1\nStatus: deinstall ok config-files\n' },
          { name: 'usr/lib/x86_64-linux-gnu/libc.so.6', data: 'elf' },
          { name: 'lib', type: '2', linkname: 'usr/lib' },
        ]),
      ),
    )
    const pkgs = await packageIndex(idx)
    expect(pkgs.packages.map((p) => [p.name, p.version, p.source])).toEqual([
      ['base-files', '12.4+deb12u5', '/var/lib/dpkg/status.d/base-files'],
      ['libc6', '2.36-9+deb12u4', '/var/lib/dpkg/status.d/libc6'],
    ])
    expect(pkgs.get('libc6')).toMatchObject({ origin: 'glibc', architecture: 'amd64', files: ['/lib/x86_64-linux-gnu/libc.so.6'], stanza: libc.trimEnd() })
    expect(pkgs.owner('/usr/lib/x86_64-linux-gnu/libc.so.6')?.name).toBe('libc6')
    expect(pkgs.get('base-files')?.files).toBeUndefined()
    expect((await collectFacts(idx)).packages).toEqual([{ manager: 'dpkg', database: '/var/lib/dpkg/status.d/ (3 files)', count: 2 }])
  })

  it("trivy's alpine:3.10: names, versions, origins and file owners from lib/apk/db/installed", async () => {
    const img = await openImage(`docker-archive:${SHARED}/corpus/aquasecurity__trivy/pkg/fanal/test/testdata/alpine-310.tar.gz`)
    const idx = await buildIndex(img)
    await img.close()
    const text = (await idx.readFile('/lib/apk/db/installed')).toString('utf8')
    const names = text.split('\n').filter((l) => l.startsWith('P:')).map((l) => l.slice(2))
    const pkgs = await packageIndex(idx)
    expect(pkgs.packages.map((p) => p.name)).toEqual(names)
    expect(names).toHaveLength(14)
    const musl = pkgs.get('musl')!
    expect(musl).toMatchObject({ manager: 'apk', origin: 'musl', architecture: 'x86_64', source: '/lib/apk/db/installed' })
    expect(musl.version).toMatch(/^1\.1\.\d+-r\d+$/)
    expect(musl.files).toContain('/lib/ld-musl-x86_64.so.1')
    expect(pkgs.owner('/lib/ld-musl-x86_64.so.1')?.name).toBe('musl')
    expect(pkgs.owner('/bin/busybox')?.name).toBe('busybox')
    expect(musl.stanza.startsWith('C:')).toBe(true)
  })
})
