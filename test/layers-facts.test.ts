/**
 * Auditor facts: OS release, package databases, shells, setuid/setgid, world-writable paths,
 * devices and secret-looking names, on real corpus images (dockle's symbolic.tar, trivy's
 * alpine:3.10) and generated layers (dpkg, distroless status.d, an rpm SQLite database).
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openImage } from '../src/image/open.js'
import { buildIndex } from '../src/layers/build-index.js'
import { collectFacts, parseOsRelease, secretByName } from '../src/layers/facts.js'
import { countSqliteRows } from '../src/layers/sqlite-count.js'
import { bufferLayer, imageOf, makeImage, makeTar } from './helpers/tar-layers.js'
import { SHARED } from './helpers/shared.js'

const C = `${SHARED}/corpus`
const CACHE = join(process.env.SLIM_TEST_CACHE ?? '/var/tmp/slim-test-cache', 'layers-facts')

describe('facts on corpus images', () => {
  it("dockle's symbolic.tar: setuid and setgid files (a bit cleared later is gone), a secret-looking name behind an opaque directory", async () => {
    const img = await openImage(`docker-archive:${C}/goodwithtech__dockle/pkg/deckoder/extractor/docker/testdata/symbolic.tar`)
    const idx = await buildIndex(img)
    const facts = await collectFacts(idx)
    await img.close()
    expect(facts.setuid).toEqual(['/app/suid.txt'])
    expect(facts.setgid).toEqual(['/app/gid.txt'])
    expect(facts.secrets).toEqual([{ path: '/app/credentials.json', why: 'credentials file' }])
    expect(idx.layers.some((l) => l.removed.opaqueDirs === 1)).toBe(true)
    expect(idx.readdir('/app').sort()).toEqual(['credentials.json', 'gid.txt', 'once-suid.txt', 'suid.txt'])
    expect(facts.shells.map((s) => s.path)).toContain('/bin/sh')
  })

  it("trivy's alpine:3.10: os-release, apk package count, shells through absolute symlinks", async () => {
    const archive = `${C}/aquasecurity__trivy/pkg/fanal/test/testdata/alpine-310.tar.gz`
    // The expected package count straight from the layer, with GNU tar.
    const dir = join(CACHE, 'alpine-310')
    mkdirSync(dir, { recursive: true })
    execFileSync('tar', ['-xzf', archive, '-C', dir])
    const layerTar = join(dir, (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Array<{ Layers: string[] }>)[0].Layers[0])
    const installed = execFileSync('tar', ['-xOf', layerTar, 'lib/apk/db/installed'], { encoding: 'utf8' })
    const expectedCount = installed.split('\n').filter((l) => l.startsWith('P:')).length

    const img = await openImage(`docker-archive:${archive}`)
    const facts = await collectFacts(await buildIndex(img))
    await img.close()
    expect(facts.os).toEqual({ id: 'alpine', versionId: '3.10.4', prettyName: 'Alpine Linux v3.10', source: '/etc/os-release' })
    expect(facts.packages).toEqual([{ manager: 'apk', database: '/lib/apk/db/installed', count: expectedCount }])
    expect(expectedCount).toBe(14)
    expect(facts.shells).toEqual(
      expect.arrayContaining([
        { path: '/bin/sh', target: '/bin/busybox' },
        { path: '/bin/ash', target: '/bin/busybox' },
        { path: '/bin/busybox' },
      ]),
    )
    expect(facts.shells.map((s) => s.path)).not.toContain('/bin/bash')
    expect(facts.setuid).toEqual([])
  })
})

describe('package databases', () => {
  const status = [
    'Package: libc6\nStatus: install ok installed\nVersion: 2.36',
    'Package: old-thing\nStatus: deinstall ok config-files\nVersion: 1',
    'Package: bash\nStatus: install ok installed\nVersion: 5.2',
  ].join('\n\n')

  it('dpkg: counts installed stanzas of status and of distroless status.d, skipping .md5sums', async () => {
    const idx = await buildIndex(
      imageOf(
        makeTar([
          { name: 'etc/os-release', type: '2', linkname: '../usr/lib/os-release' },
          { name: 'usr/lib/os-release', data: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n' },
          { name: 'var/lib/dpkg/status', data: status },
          { name: 'var/lib/dpkg/status.d/base-files', data: 'Package: base-files\nVersion: 12.4\n' },
          { name: 'var/lib/dpkg/status.d/base-files.md5sums', data: 'abc  etc/issue\n' },
          { name: 'var/lib/dpkg/status.d/tzdata', data: 'Package: tzdata\nStatus: install ok installed\n' },
        ]),
      ),
    )
    const facts = await collectFacts(idx)
    expect(facts.os).toEqual({ id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)', source: '/usr/lib/os-release' })
    expect(facts.packages).toEqual([{ manager: 'dpkg', database: '/var/lib/dpkg/status, /var/lib/dpkg/status.d/ (2 files)', count: 4 }])
  })

  it('rpm: counts the rows of Packages in rpmdb.sqlite (a real SQLite file with overflow pages)', async () => {
    mkdirSync(CACHE, { recursive: true })
    const db = join(CACHE, 'rpmdb.sqlite')
    execFileSync('python3', [
      '-c',
      `import sqlite3, os
p = ${JSON.stringify(db)}
if os.path.exists(p): os.remove(p)
c = sqlite3.connect(p)
c.execute('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)')
c.execute('CREATE TABLE Name (key TEXT NOT NULL, hnum INTEGER NOT NULL)')
for i in range(347):
    c.execute('INSERT INTO Packages (blob) VALUES (?)', (os.urandom(300 + (i * 37) % 9000),))
    c.execute('INSERT INTO Name VALUES (?, ?)', ('pkg%d' % i, i))
c.commit()
c.close()`,
    ])
    const data = readFileSync(db)
    expect(countSqliteRows(data, 'Packages')).toBe(347)
    expect(countSqliteRows(data, 'Nope')).toBeUndefined()
    expect(countSqliteRows(Buffer.from('SQLite format 3\0 but then garbage'.padEnd(4096, '!')), 'Packages')).toBeUndefined()

    const idx = await buildIndex(
      imageOf(
        makeTar([
          { name: 'var/lib/rpm', type: '2', linkname: '../../usr/lib/sysimage/rpm' },
          { name: 'usr/lib/sysimage/rpm/rpmdb.sqlite', data },
        ]),
      ),
    )
    expect((await collectFacts(idx)).packages).toEqual([{ manager: 'rpm', database: '/usr/lib/sysimage/rpm/rpmdb.sqlite', count: 347 }])
    const bdb = await buildIndex(imageOf(makeTar([{ name: 'var/lib/rpm/Packages', data: Buffer.alloc(4096, 7) }])))
    expect((await collectFacts(bdb)).packages).toEqual([{ manager: 'rpm', database: '/var/lib/rpm/Packages', note: expect.stringContaining('package count unknown') }])
  })

  it('parsers: os-release quoting', () => {
    expect(parseOsRelease('ID="rhel"\nVERSION_ID=\'9.4\'\nNAME="Red \\"Hat\\""\n# comment\n')).toEqual({ ID: 'rhel', VERSION_ID: '9.4', NAME: 'Red "Hat"' })
  })
})

describe('permissions, devices and secret-looking names', () => {
  it('finds world-writable paths (not sticky /tmp), devices and secret names, without reading those files', async () => {
    const opened = { count: 0 }
    const tar = makeTar([
      { name: 'tmp/', type: '5', mode: 0o1777 },
      { name: 'shared/', type: '5', mode: 0o777 },
      { name: 'shared/open.log', data: 'x', mode: 0o666 },
      { name: 'usr/bin/sudo', data: 'elf', mode: 0o4755 },
      { name: 'usr/bin/wall', data: 'elf', mode: 0o2755 },
      { name: 'var/mail/', type: '5', mode: 0o2775 }, // a setgid directory is inheritance, not privilege
      { name: 'dev/null', type: '3', devmajor: 1, devminor: 3 },
      { name: 'root/.ssh/id_ed25519', data: 'PRIVATE' },
      { name: 'root/.aws/credentials', data: 'KEY' },
      { name: 'app/.env', data: 'TOKEN=1' },
      { name: 'app/.env.example', data: 'TOKEN=' },
      { name: 'app/tls.key', data: 'k' },
      { name: 'etc/ssl/certs/ca.pem', data: 'cert' },
      { name: 'etc/ssl/private/server-key.pem', data: 'k' },
      { name: 'home/u/.docker/config.json', data: '{}' },
      { name: 'README.md', data: 'hi' },
    ])
    const idx = await buildIndex(makeImage([bufferLayer(tar, 0, { opened })]))
    const facts = await collectFacts(idx)
    expect(opened.count).toBe(1) // the index pass only: facts read no file content
    expect(facts.worldWritable).toEqual([
      { path: '/shared', type: 'dir' },
      { path: '/shared/open.log', type: 'file' },
    ])
    expect(facts.setuid).toEqual(['/usr/bin/sudo'])
    expect(facts.setgid).toEqual(['/usr/bin/wall'])
    expect(facts.devices).toEqual([{ path: '/dev/null', type: 'char' }])
    expect(facts.secrets.map((s) => s.path).sort()).toEqual([
      '/app/.env',
      '/app/tls.key',
      '/etc/ssl/private/server-key.pem',
      '/home/u/.docker/config.json',
      '/root/.aws/credentials',
      '/root/.ssh/id_ed25519',
    ])
    expect(facts.os).toBeUndefined()
    expect(facts.packages).toEqual([])
  })

  it('judges secrets by name', () => {
    expect(secretByName('home/u/.netrc')).toMatch(/netrc/)
    expect(secretByName('srv/kubeconfig')).toMatch(/Kubernetes/)
    expect(secretByName('etc/ssh/ssh_host_rsa_key')).toMatch(/SSH host private key/)
    expect(secretByName('etc/ssh/ssh_host_rsa_key.pub')).toBeUndefined()
    expect(secretByName('usr/share/doc/id_rsa.txt')).toBeUndefined()
    expect(secretByName('app/keystore.jks')).toMatch(/Java key store/)
  })

  it('judges extensions in any case, and path patterns only by their full path', () => {
    expect(secretByName('srv/TLS/Server.KEY')).toBe('private key file')
    expect(secretByName('a.P12')).toBe('PKCS#12 key store')
    expect(secretByName('opt/x/store.KeyStore')).toBe('Java key store')
    expect(secretByName('etc/Private-Thing.PEM')).toBe('PEM file named like a private key')
    expect(secretByName('etc/ssl/certs/ca.pem')).toBeUndefined()
    expect(secretByName('usr/lib/python3/keyword.py')).toBeUndefined()
    expect(secretByName('app/.env.production')).toBe('environment file (often holds secrets)')
    expect(secretByName('app/.env.example')).toBeUndefined()
    expect(secretByName('.aws/credentials')).toBe('AWS credentials')
    expect(secretByName('srv/credentials')).toBeUndefined()
    expect(secretByName('srv/config')).toBeUndefined()
    expect(secretByName('home/u/.kube/config')).toMatch(/Kubernetes/)
    expect(secretByName('home/u/.ssh/deploy_key')).toBe('SSH private key')
    expect(secretByName('usr/share/monkey_key')).toBeUndefined()
    expect(secretByName('home/u/.config/gcloud/credentials.db')).toBe('Google Cloud credentials')
  })
})
