/**
 * The distroless-equivalent test bases: built from the Debian 12 packages distroless uses, they
 * must behave like distroless (no shell, the right users, a working loader in base/cc only).
 */
import { lstatSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { DEBIAN12_BASES, ensureBases, runInRootfs, type TestBases } from './bases/build.js'
import { debContents, testCacheDir } from './bases/debs.js'
import { run } from './bases/exec.js'

let bases: TestBases
const LOADER = '/lib64/ld-linux-x86-64.so.2'

beforeAll(async () => {
  bases = await ensureBases()
  if (bases.buildSeconds > 0) console.log(`test bases built in ${bases.buildSeconds.toFixed(1)} s`)
})

describe('ensureBases', () => {
  it('answers from the on-disk cache without building anything', async () => {
    const again = await ensureBases({ fresh: true })
    expect(again.buildSeconds).toBe(0)
    expect(again.refs).toEqual(bases.refs)
    expect(again.layout.startsWith(testCacheDir())).toBe(true)
  })

  it('has a layout tag and a config for every base and its :nonroot twin', async () => {
    for (const name of DEBIAN12_BASES) {
      for (const [ref, user, workdir] of [[bases.refs[name], '0', '/'], [bases.refs[`${name}:nonroot`], '65532', '/home/nonroot']]) {
        const config = JSON.parse((await run('skopeo', ['inspect', '--config', ref])).stdout) as { config: Record<string, unknown>; architecture: string }
        expect(config.architecture).toBe('amd64')
        expect(config.config.User, ref).toBe(user)
        expect(config.config.WorkingDir, ref).toBe(workdir)
        expect(config.config.Entrypoint ?? null, ref).toBeNull()
        expect(config.config.Env).toContain('SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt')
      }
    }
    const alpine = JSON.parse((await run('skopeo', ['inspect', '--config', bases.refs['alpine:3.11']])).stdout) as { config: { Cmd: string[] } }
    expect(alpine.config.Cmd).toEqual(['/bin/sh'])
  })
})

describe('distroless-equivalent rootfs', () => {
  it('has no shell in any base', () => {
    for (const name of DEBIAN12_BASES) {
      for (const sh of ['bin/sh', 'usr/bin/sh', 'bin/bash', 'bin/dash', 'busybox']) {
        expect(() => lstatSync(join(bases.rootfs[name], sh)), `${name} /${sh}`).toThrow()
      }
    }
  })

  it('has distroless users, groups, /tmp and /home/nonroot', () => {
    for (const name of DEBIAN12_BASES) {
      const root = bases.rootfs[name]
      expect(readFileSync(join(root, 'etc/passwd'), 'utf8').split('\n')).toEqual(
        expect.arrayContaining(['nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin', 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin', 'root:x:0:0:root:/root:/sbin/nologin']),
      )
      expect(readFileSync(join(root, 'etc/group'), 'utf8')).toContain('nonroot:x:65532:')
      expect(statSync(join(root, 'tmp')).mode & 0o7777).toBe(0o1777)
      const home = statSync(join(root, 'home/nonroot'))
      expect([home.uid, home.gid, home.mode & 0o777]).toEqual([65532, 65532, 0o700])
      expect(readFileSync(join(root, 'etc/os-release'), 'utf8')).toContain('PRETTY_NAME="Distroless"')
    }
  })

  it('records one status.d entry per package, with the version it was built from', () => {
    const cc = 'distroless/cc-debian12'
    const dir = join(bases.rootfs[cc], 'var/lib/dpkg/status.d')
    const controls = readdirSync(dir).filter((f) => !f.endsWith('.md5sums')).sort()
    expect(controls).toEqual(bases.packages[cc].map((p) => p.name).sort())
    for (const p of bases.packages[cc]) expect(readFileSync(join(dir, p.name), 'utf8')).toContain(`\nVersion: ${p.version}\n`)
    expect(() => statSync(join(bases.rootfs[cc], 'var/lib/dpkg/status'))).toThrow()
  })

  it('ships a CA bundle holding every certificate of the ca-certificates package', async () => {
    const deb = readdirSync(join(testCacheDir(), 'debs')).find((f) => f.startsWith('ca-certificates_'))!
    const crts = (await debContents(join(testCacheDir(), 'debs', deb))).filter((e) => e.path.endsWith('.crt') && e.path.includes('/mozilla/'))
    const bundle = readFileSync(join(bases.rootfs['distroless/static-debian12'], 'etc/ssl/certs/ca-certificates.crt'), 'utf8')
    expect(crts.length).toBeGreaterThan(100)
    expect(bundle.match(/-----BEGIN CERTIFICATE-----/g)?.length).toBe(crts.length)
  })

  it('packs files with numeric owners, so /home/nonroot stays 65532 inside the image layer', async () => {
    const index = JSON.parse(readFileSync(join(bases.layout, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] }
    const m = index.manifests.find((x) => x.annotations['org.opencontainers.image.ref.name'] === 'static-debian12')!
    const manifest = JSON.parse(readFileSync(join(bases.layout, 'blobs/sha256', m.digest.slice(7)), 'utf8')) as { layers: { digest: string }[] }
    const blob = join(bases.layout, 'blobs/sha256', manifest.layers[0].digest.slice(7))
    const { stdout } = await run('tar', ['-tvzf', blob, '--numeric-owner', './home/nonroot/'])
    expect(stdout).toMatch(/^drwx------ 65532\/65532 .* \.\/home\/nonroot\/$/m)
  })
})

describe('the dynamic loader inside the bases', () => {
  it('resolves and runs a glibc C program in base-nossl, base and cc', async () => {
    for (const name of ['distroless/base-nossl-debian12', 'distroless/base-debian12', 'distroless/cc-debian12']) {
      const list = await runInRootfs(bases.rootfs[name], bases.probes.c, [LOADER, '--list', '/tmp/probe'])
      expect(list.status, `${name}: ${list.stderr}`).toBe(0)
      expect(list.stdout).toMatch(/libc\.so\.6 => \/lib\/x86_64-linux-gnu\/libc\.so\.6/)
      const out = await runInRootfs(bases.rootfs[name], bases.probes.c, ['/tmp/probe'])
      expect(out.stdout).toBe('hello from C\n')
    }
  })

  it('runs C++ only in cc: libstdc++ is not found in base', async () => {
    const cc = await runInRootfs(bases.rootfs['distroless/cc-debian12'], bases.probes.cpp, ['/tmp/probe'])
    expect(cc.stdout).toBe('hello from C++\n')
    const list = await runInRootfs(bases.rootfs['distroless/base-debian12'], bases.probes.cpp, [LOADER, '--list', '/tmp/probe'])
    expect(list.status).toBe(127)
    expect(list.stderr).toContain('error while loading shared libraries: libstdc++.so.6: cannot open shared object file')
    const run2 = await runInRootfs(bases.rootfs['distroless/base-nossl-debian12'], bases.probes.cpp, ['/tmp/probe'])
    expect(run2.status).toBe(127)
    expect(run2.stderr).toContain('libstdc++.so.6: cannot open shared object file')
  })

  it('has no loader in static: a dynamic program cannot start, a static one runs', async () => {
    const root = bases.rootfs['distroless/static-debian12']
    expect(() => lstatSync(join(root, LOADER))).toThrow()
    const dyn = await runInRootfs(root, bases.probes.c, ['/tmp/probe'])
    expect(dyn.status).toBe(127)
    const stat = await runInRootfs(root, bases.probes.cStatic, ['/tmp/probe'])
    expect(stat.stdout).toBe('hello from C\n')
  })

  it('does not leave the probe behind in the shared rootfs', () => {
    for (const name of DEBIAN12_BASES) expect(readdirSync(join(bases.rootfs[name], 'tmp'))).toEqual([])
  })
})
