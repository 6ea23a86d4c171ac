/**
 * Needs beyond the library closure, on the real Debian fixture root (glibc 2.36, tzdata, gconv,
 * no CA bundle, Debian's nsswitch.conf) with small changes layered on top.
 */
import { rmSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ContainerConfig, ImageConfig } from '../src/image/types.js'
import { inspectImage } from '../src/inspect/inspect.js'
import { normaliseLocaleName } from '../src/inspect/needs/locale.js'
import { parseGroup, parsePasswd } from '../src/inspect/needs/user.js'
import type { Inspection, NeedKind } from '../src/inspect/types.js'
import { ensureFixtures } from './fixtures/index.js'
import { DirRootFs } from './helpers/dir-rootfs.js'
import { cacheDir, link, put } from './helpers/loader-roots.js'

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const image = (config: ContainerConfig): ImageConfig => ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config })
const need = (ins: Inspection, kind: NeedKind) => ins.needs.filter((n) => n.kind === kind)

let debianDir: string
let debian: DirRootFs

beforeAll(async () => {
  const fx = await ensureFixtures(['debian-rootfs'])
  debianDir = fx.rootfs.debian!
  debian = new DirRootFs(debianDir)
})

function layered(name: string, files: Record<string, string>, links: Record<string, string> = {}): DirRootFs {
  const upper = cacheDir('needs-upper', name)
  rmSync(upper, { recursive: true, force: true })
  for (const [p, text] of Object.entries(files)) put(upper, p, text)
  for (const [p, target] of Object.entries(links)) link(upper, p, target)
  return new DirRootFs([upper, debianDir])
}

describe('CA certificates', () => {
  it('missing in the image: a need that is not present, and a finding', async () => {
    const ins = await inspectImage(debian, image({ Entrypoint: ['curl'] }))
    const ca = need(ins, 'ca-certificates')[0]!
    expect(ca.present).toBe(false)
    expect(ca.evidence.join('\n')).toMatch(/OpenSSL \(libssl\) is in the closure|libcurl is in the closure/)
  })
  it("found where the distribution keeps it, with OpenSSL's own symlinked path; SSL_CERT_FILE wins", async () => {
    const fs = layered('ca', { 'etc/ssl/certs/ca-certificates.crt': '-----BEGIN CERTIFICATE-----\n', 'opt/ca/bundle.pem': '-----BEGIN CERTIFICATE-----\n' }, { 'usr/lib/ssl/cert.pem': '/etc/ssl/certs/ca-certificates.crt' })
    const ins = await inspectImage(fs, image({ Entrypoint: ['curl'] }))
    const ca = need(ins, 'ca-certificates')[0]!
    expect(ca.present).toBe(true)
    expect(ca.paths.slice(0, 2)).toEqual(['/usr/lib/ssl/cert.pem', '/etc/ssl/certs/ca-certificates.crt'])
    expect(ins.files).toEqual(expect.arrayContaining(['/usr/lib/ssl/cert.pem', '/etc/ssl/certs/ca-certificates.crt']))
    const env = await inspectImage(fs, image({ Entrypoint: ['curl'], Env: ['SSL_CERT_FILE=/opt/ca/bundle.pem'] }))
    expect(need(env, 'ca-certificates')[0]!.paths[0]).toBe('/opt/ca/bundle.pem')
  })
})

describe('name services', () => {
  it('glibc 2.36: files and dns are built in, so no NSS module is needed; hosts and resolv.conf come from the runtime', async () => {
    const ins = await inspectImage(debian, image({ Entrypoint: ['curl'] }))
    expect(need(ins, 'nsswitch')[0]).toMatchObject({ present: true, paths: ['/etc/nsswitch.conf'] })
    expect(need(ins, 'hosts')[0]).toMatchObject({ providedBy: 'runtime', present: true })
    expect(need(ins, 'resolv.conf')[0]).toMatchObject({ providedBy: 'runtime' })
    // "services: db files": files is built in, db is a module that is not installed (skipped silently by glibc).
    expect(need(ins, 'nss-module').map((n) => [n.evidence[0]!.split(' ')[0], n.present, n.confidence])).toEqual([['libnss_db.so.2', false, 'possible']])
    expect(ins.findings.filter((f) => f.code === 'need-missing' && f.message.startsWith('nss'))).toEqual([])
  })
  it('a module named by nsswitch.conf is resolved like a dlopen from libc and joins the closure', async () => {
    const fs = layered('nss', { 'etc/nsswitch.conf': 'passwd: files systemd\ngroup: files\nhosts: files myhostname dns\n' })
    const ins = await inspectImage(fs, image({ Entrypoint: ['curl'] }))
    const modules = need(ins, 'nss-module').map((n) => n.evidence[0]!.split(' ')[0])
    expect(modules).toEqual(['libnss_myhostname.so.2', 'libnss_systemd.so.2'])
    expect(ins.closure.unresolved.filter((u) => u.via === 'dlopen').map((u) => [u.name, u.neededBy[0]])).toEqual(
      expect.arrayContaining([['libnss_myhostname.so.2', '/usr/lib/x86_64-linux-gnu/libc.so.6']]),
    )
  })
})

describe('user, home, /tmp', () => {
  it('USER name:group resolves through passwd and group; HOME from passwd', async () => {
    const ins = await inspectImage(debian, image({ Entrypoint: ['/usr/bin/rg'], User: 'redis:redis' }))
    const u = need(ins, 'user')[0]!
    expect(u.user).toEqual({ spec: 'redis:redis', name: 'redis', uid: 100, gid: 101, group: 'redis', home: '/var/lib/redis' })
    expect(u.confidence).toBe('certain')
    expect(need(ins, 'home')[0]).toMatchObject({ present: true, paths: ['/var/lib/redis'], writable: true })
  })
  it('an unknown group is an error; an Env HOME wins', async () => {
    const ins = await inspectImage(debian, image({ Entrypoint: ['/usr/bin/rg'], User: '65534:nogroup-x', Env: ['HOME=/srv/home'] }))
    expect(ins.findings.find((f) => f.code === 'user-unknown')?.message).toMatch(/group "nogroup-x"/)
    expect(need(ins, 'home')[0]).toMatchObject({ present: false, reason: expect.stringContaining('(from Env)') })
  })
  it('/tmp: present with mode 1777 in Debian; TMPDIR moves it', async () => {
    const ins = await inspectImage(debian, image({ Entrypoint: ['/usr/bin/docker-registry'] }))
    expect(need(ins, 'tmp')[0]).toMatchObject({ present: true, paths: ['/tmp'], confidence: 'likely', writable: true })
    const moved = await inspectImage(debian, image({ Entrypoint: ['/usr/bin/docker-registry'], Env: ['TMPDIR=/var/tmp/app'] }))
    expect(need(moved, 'tmp')[0]).toMatchObject({ present: false, reason: expect.stringContaining('/var/tmp/app') })
  })
  it('parsers ignore malformed lines', () => {
    expect(parsePasswd('root:x:0:0:root:/root:/bin/bash\nbad line\nx:x:notanumber:1::/:/bin/sh\n#c:x:1:1::/:/x\n')).toEqual([{ name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' }])
    expect(parseGroup('wheel:x:10:a,b\nbad\n')).toEqual([{ name: 'wheel', gid: 10, members: ['a', 'b'] }])
  })
})

describe('tzdata, locales, gconv', () => {
  it('TZ names one zone file; Go without timetzdata reads zoneinfo', async () => {
    const ins = await inspectImage(debian, image({ Entrypoint: ['/usr/bin/docker-registry'], Env: ['TZ=Europe/Paris'] }))
    const tz = need(ins, 'tzdata')[0]!
    expect(tz).toMatchObject({ present: true, confidence: 'likely' })
    expect(tz.paths[0]).toBe('/usr/share/zoneinfo/Europe/Paris')
    expect(tz.evidence).toEqual(expect.arrayContaining(['Env sets TZ=Europe/Paris']))
    expect(ins.files).toContain('/usr/share/zoneinfo/Europe/Paris')
    expect(ins.files.some((f) => f.startsWith('/usr/share/zoneinfo/America/'))).toBe(false)
  })
  it('LANG=C.UTF-8 needs its data (libc-bin\'s /usr/lib/locale/C.utf8: not built into glibc); another locale without data is reported missing', async () => {
    const cutf8 = await inspectImage(debian, image({ Cmd: ['python3', '-c', 'pass'], Env: [PATH, 'LANG=C.UTF-8'] }))
    expect(need(cutf8, 'locale')[0]).toMatchObject({ present: true, confidence: 'likely' })
    expect(need(cutf8, 'locale')[0]!.paths).toContain('/usr/lib/locale/C.utf8')
    expect(cutf8.files).toContain('/usr/lib/locale/C.utf8/LC_CTYPE')
    const fr = await inspectImage(debian, image({ Cmd: ['python3', '-c', 'pass'], Env: [PATH, 'LC_ALL=fr_FR.UTF-8'] }))
    expect(need(fr, 'locale')[0]).toMatchObject({ present: false, confidence: 'likely' })
    expect(normaliseLocaleName('fr_FR.UTF-8@euro')).toBe('fr_FR.utf8@euro')
  })
  it('iconv users need the gconv modules next to libc: "possible" when only libraries (libunistring, ...) call iconv_open', async () => {
    const curl = await inspectImage(debian, image({ Entrypoint: ['curl'] }))
    const g = need(curl, 'gconv')[0]!
    expect(g).toMatchObject({ present: true, confidence: 'possible' })
    expect(g.paths).toContain('/usr/lib/x86_64-linux-gnu/gconv')
    expect(g.evidence).toContain('/lib/x86_64-linux-gnu/libunistring.so.2 imports iconv_open')
    expect(g.evidence.some((e) => e.startsWith('/usr/bin/curl'))).toBe(false)
    // nginx does not convert character sets at all.
    const nginx = await inspectImage(debian, image({ Entrypoint: ['/usr/sbin/nginx'] }))
    expect(need(nginx, 'gconv')).toEqual([])
  })
})

describe('dlopen', () => {
  it('libz found in the strings of a program that calls dlopen (fixture c-dlopen) is resolved and kept', async () => {
    const fx = await ensureFixtures(['c-dlopen'])
    const ins = await inspectImage(new DirRootFs(fx.rootfs['c-dlopen']!), image({ Entrypoint: ['/app/hello-dlopen'] }))
    const d = need(ins, 'dlopen').find((n) => n.reason.includes('libz.so.1'))!
    expect(d).toMatchObject({ present: true, confidence: 'likely' })
    expect(ins.closure.libraries.find((l) => l.name === 'libz.so.1')?.via).toBe('dlopen')
    expect(ins.files).toEqual(expect.arrayContaining(['/usr/lib/x86_64-linux-gnu/libz.so.1', '/usr/lib/x86_64-linux-gnu/libz.so.1.2.13']))
  })
})
