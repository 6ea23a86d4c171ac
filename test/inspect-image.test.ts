/**
 * inspectImage end to end, with the strongest oracle there is: copy exactly `files()` into an
 * empty directory and run the program there under chroot. If slim missed a library, a config
 * file, a user entry or a directory, the program fails (exit 127 for a missing library).
 * The roots are the Debian fixture rootfs (real nginx, redis, curl, rg, docker-registry, ninja,
 * python3), with wrapper scripts layered on top.
 */
import { spawnSync } from 'node:child_process'
import { chmodSync, lchownSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ContainerConfig, ImageConfig } from '../src/image/types.js'
import { inspectImage } from '../src/inspect/inspect.js'
import type { Inspection } from '../src/inspect/types.js'
import { ensureFixtures } from './fixtures/index.js'
import { DirRootFs } from './helpers/dir-rootfs.js'
import { cacheDir, put } from './helpers/loader-roots.js'
import { SHARED } from './helpers/shared.js'

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const image = (config: ContainerConfig): ImageConfig => ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config })

let debian: DirRootFs
let layered: DirRootFs

beforeAll(async () => {
  const fx = await ensureFixtures(['debian-rootfs'])
  debian = new DirRootFs(fx.rootfs.debian!)
  const upper = cacheDir('image-upper')
  rmSync(upper, { recursive: true, force: true })
  put(upper, 'usr/local/bin/docker-entrypoint.sh', '#!/bin/sh\nset -e\nif [ "${1#-}" != "$1" ]; then\n  set -- nginx "$@"\nfi\nmkdir -p /var/lib/nginx/body\nexec "$@"\n', 0o755)
  layered = new DirRootFs([upper, fx.rootfs.debian!])
})

/** Copies exactly the listed paths (through the RootFs, so layers work) into a fresh directory. */
function materialise(ins: Inspection, rootfs: DirRootFs, name: string): string {
  const out = cacheDir('slim-roots', name)
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  for (const p of ins.files) {
    const st = rootfs.lstat(p)!
    const dest = join(out, p)
    mkdirSync(dirname(dest), { recursive: true })
    if (st.type === 'dir') mkdirSync(dest, { recursive: true })
    else if (st.type === 'symlink') symlinkSync(st.linkTarget!, dest)
    else writeFileSync(dest, rootfs.readFileSync(p))
    if (st.type !== 'symlink') chmodSync(dest, st.mode)
    lchownSync(dest, st.uid, st.gid)
  }
  return out
}

function runIn(root: string, argv: string[], user?: string): { status: number | null; out: string } {
  const r = spawnSync('chroot', [...(user ? [`--userspec=${user}`] : []), root, ...argv], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, timeout: 60_000 })
  return { status: r.status, out: `${r.stdout}${r.stderr}` }
}

describe('the slim root made of files() runs the program', () => {
  const cases: { name: string; config: ContainerConfig; check: string[]; user?: string }[] = [
    { name: 'nginx', config: { Entrypoint: ['/usr/sbin/nginx', '-g', 'daemon off;'], ExposedPorts: { '80/tcp': {} } }, check: ['/usr/sbin/nginx', '-t'] },
    { name: 'redis', config: { Cmd: ['redis-server', '--protected-mode', 'no'], User: 'redis', WorkingDir: '/var/lib/redis', Env: [PATH] }, check: ['/usr/bin/redis-server', '--version'], user: '100:101' },
    { name: 'curl', config: { Entrypoint: ['curl'], Cmd: ['--help'], User: '65534:65534' }, check: ['/usr/bin/curl', '--version'], user: '65534:65534' },
    { name: 'rg', config: { Entrypoint: ['/usr/bin/rg'], Cmd: ['--version'], User: '65534:65534', WorkingDir: '/work' }, check: ['/usr/bin/rg', 'root', '/etc/passwd'] },
    { name: 'registry', config: { Entrypoint: ['/usr/bin/docker-registry'], Cmd: ['serve', '/etc/docker/registry/config.yml'], User: 'docker-registry' }, check: ['/usr/bin/docker-registry', '--version'] },
    { name: 'ninja', config: { Entrypoint: ['/usr/bin/ninja'], Cmd: ['--version'], WorkingDir: '/src' }, check: ['/usr/bin/ninja', '--version'] },
    {
      name: 'shell-cmd',
      config: { Cmd: ['/bin/sh', '-c', `python3 -c 'import sys; print(sys.version)' && rg --version | head -n1 && exec redis-server --port 6380`], Env: [PATH] },
      check: ['/bin/sh', '-c', `python3 -c 'import sys; print(sys.version)' && rg --version | head -n1 && exec redis-server --version`],
    },
    { name: 'python', config: { Cmd: ['python3'], Env: [PATH, 'PYTHONUNBUFFERED=1'] }, check: ['/usr/bin/python3', '-c', 'import os, encodings.idna, socket, ssl, hashlib; print(ssl.OPENSSL_VERSION)'] },
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const ins = await inspectImage(debian, image(c.config))
      expect(ins.findings.filter((f) => f.severity === 'error')).toEqual([])
      expect(ins.closure.unresolved.filter((u) => u.via === 'needed')).toEqual([])
      const root = materialise(ins, debian, c.name)
      const r = runIn(root, c.check, c.user)
      expect([c.name, r.status, r.out.slice(0, 400)]).toEqual([c.name, 0, expect.any(String)])
    })
  }

  it('a wrapper script: the shell, the commands it runs and the program all make it in', async () => {
    const ins = await inspectImage(layered, image({ Entrypoint: ['docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'], Env: [PATH] }))
    expect(ins.program.realPath).toBe('/usr/sbin/nginx')
    const files = ins.files
    expect(files).toEqual(expect.arrayContaining(['/usr/local/bin/docker-entrypoint.sh', '/usr/bin/dash', '/usr/bin/sh', '/usr/bin/mkdir', '/usr/sbin/nginx']))
    const root = materialise(ins, layered, 'wrapper')
    const r = runIn(root, ['/usr/local/bin/docker-entrypoint.sh', 'nginx', '-t'])
    expect([r.status, r.out]).toEqual([0, expect.stringContaining('test is successful')])
  })

  it('the oracle can fail: the same root without one library does not start', async () => {
    const ins = await inspectImage(debian, image({ Entrypoint: ['/usr/sbin/nginx'] }))
    const root = materialise(ins, debian, 'nginx-broken')
    const pcre = ins.closure.libraries.find((l) => l.name.startsWith('libpcre2-8'))!
    rmSync(join(root, pcre.realPath))
    const r = runIn(root, ['/usr/sbin/nginx', '-t'])
    expect(r.status).toBe(127)
    expect(r.out).toContain('libpcre2-8.so.0')
  })
})

describe('facts and needs of real programs', () => {
  it('nginx: libraries, config and writable dirs, users, ports', async () => {
    const ins = await inspectImage(debian, image({ Entrypoint: ['/usr/sbin/nginx', '-g', 'daemon off;'], ExposedPorts: { '80/tcp': {} } }))
    expect(ins.program.kind).toBe('elf')
    expect(ins.elf).toMatchObject({ machine: 'x86-64', libc: 'glibc', interpreter: '/lib64/ld-linux-x86-64.so.2', static: false })
    expect(ins.elf!.needed).toEqual(expect.arrayContaining(['libssl.so.3', 'libpcre2-8.so.0', 'libz.so.1', 'libc.so.6']))
    expect(ins.closure.loader).toBe('glibc')
    const kinds = (k: string) => ins.needs.filter((n) => n.kind === k)
    expect(kinds('program-data').map((n) => n.paths[0])).toEqual(expect.arrayContaining(['/etc/nginx', '/usr/share/nginx']))
    expect(kinds('writable').map((n) => n.paths[0])).toEqual(expect.arrayContaining(['/var/log/nginx', '/var/lib/nginx']))
    expect(kinds('port').map((n) => n.port)).toEqual(['80/tcp'])
    // nginx looks up its "user www-data" through NSS: passwd/group and nsswitch.conf are needed.
    expect(kinds('user')[0]).toMatchObject({ confidence: 'likely', present: true })
    expect(kinds('nsswitch')[0]?.present).toBe(true)
    // libssl in the closure: the image has no CA bundle, which slim reports rather than hides.
    const ca = kinds('ca-certificates')[0]!
    expect(ca).toMatchObject({ present: false, confidence: 'likely' })
    expect(ins.findings.some((f) => f.code === 'need-missing' && f.message.startsWith('ca-certificates'))).toBe(true)
    expect(kinds('tmp')[0]?.present).toBe(true)
    expect(kinds('shell')).toEqual([])
    expect(ins.files).toEqual(expect.arrayContaining(['/etc/nginx/nginx.conf', '/etc/nginx/mime.types', '/var/log/nginx', '/etc/passwd', '/lib64', '/usr/lib64/ld-linux-x86-64.so.2']))
    expect(ins.files).toEqual([...ins.files].sort())
  })

  it('docker-registry: cgo Go, build info, the config file named in its arguments', async () => {
    const ins = await inspectImage(debian, image({ Entrypoint: ['/usr/bin/docker-registry'], Cmd: ['serve', '/etc/docker/registry/config.yml'], User: 'docker-registry', Volumes: { '/var/lib/docker-registry': {} } }))
    expect(ins.go?.goVersion).toMatch(/^go1\.19/)
    expect(ins.go?.cgoLinked.linked).toBe(true)
    expect(ins.needs.find((n) => n.kind === 'ca-certificates')?.evidence.join(' ')).toMatch(/crypto\/x509/)
    expect(ins.needs.find((n) => n.kind === 'program-data' && n.paths.includes('/etc/docker/registry/config.yml'))).toBeTruthy()
    const user = ins.needs.find((n) => n.kind === 'user')!
    expect(user).toMatchObject({ confidence: 'certain', present: true })
    expect(user.user).toMatchObject({ name: 'docker-registry', uid: 101, gid: 102 })
    expect(ins.needs.find((n) => n.kind === 'writable' && n.paths.includes('/var/lib/docker-registry'))).toBeTruthy()
  })

  it('Rust (cargo-built fixture): Rust facts, no Go facts, libgcc_s for unwinding', async (ctx) => {
    const fx = await ensureFixtures(['rust'])
    // No cargo here: a visible skip, with the builder's reason.
    if (!fx.rootfs.rust) ctx.skip(`no Rust fixture: ${fx.skipped.rust ?? 'not built'}`)
    const ins = await inspectImage(new DirRootFs(fx.rootfs.rust), image({ Entrypoint: ['/app/hello-rust'] }))
    expect(ins.rust?.isRust).toBe(true)
    expect(ins.go).toBeUndefined()
    expect(ins.closure.libraries.map((l) => l.name)).toEqual(expect.arrayContaining(['libgcc_s.so.1', 'libc.so.6']))
    expect(ins.closure.unresolved).toEqual([])
  })

  it('ninja: C++ with the libstdc++ versions the closure needs', async () => {
    const ins = await inspectImage(debian, image({ Entrypoint: ['/usr/bin/ninja'] }))
    expect(ins.elf?.cxx).toBe(true)
    expect(ins.elf?.versions.glibcxx).toMatch(/^3\.4\.\d+$/)
    expect(Number(ins.elf!.closureVersions.glibc!.split('.')[1])).toBeGreaterThanOrEqual(Number(ins.elf!.versions.glibc!.split('.')[1]))
  })

  it('python3: the runtime, its version and standard library', async () => {
    const ins = await inspectImage(debian, image({ Cmd: ['python3', '-m', 'http.server'], Env: [PATH], WorkingDir: '/srv' }))
    expect(ins.program.kind).toBe('interpreted')
    expect(ins.runtime).toMatchObject({ language: 'python', executable: '/usr/bin/python3.11', home: '/usr/lib/python3.11', app: { kind: 'module', name: 'http.server' } })
    expect(ins.runtime!.version).toMatch(/^3\.11\.\d+$/)
    expect(ins.runtime!.trees).toContain('/usr/lib/python3.11')
  })

  it('numeric USER without an entry, and an unknown USER name, are findings', async () => {
    const numeric = await inspectImage(debian, image({ Entrypoint: ['/usr/bin/rg'], User: '4242' }))
    expect(numeric.findings.find((f) => f.code === 'user-unknown')).toMatchObject({ severity: 'warning' })
    const named = await inspectImage(debian, image({ Entrypoint: ['/usr/bin/rg'], User: 'nosuchuser' }))
    expect(named.findings.find((f) => f.code === 'user-unknown')).toMatchObject({ severity: 'error' })
    expect(named.needs.find((n) => n.kind === 'user')).toMatchObject({ present: false, confidence: 'certain' })
  })
})

describe('another architecture, and a loader that is not there', () => {
  it('an arm64 program in an image without its loader: findings, nothing thrown; the config arch is checked', async () => {
    const root = cacheDir('image-arm64')
    rmSync(root, { recursive: true, force: true })
    mkdirSync(join(root, 'app'), { recursive: true })
    writeFileSync(join(root, 'app/prog'), readFileSync(`${SHARED}/corpus/eliben__pyelftools/test/testfiles_for_readelf/aarch64-pac-bti.so.elf`))
    chmodSync(join(root, 'app/prog'), 0o755)
    const fs = new DirRootFs(root)
    const arm = await inspectImage(fs, { ...image({ Entrypoint: ['/app/prog'] }), architecture: 'arm64' })
    expect(arm.elf).toMatchObject({ machine: 'aarch64', interpreter: '/usr/lib/ld-linux-aarch64.so.1' })
    expect(arm.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['interpreter-missing', 'library-unresolved']))
    expect(arm.findings.some((f) => f.code === 'foreign-arch')).toBe(false)
    const amd = await inspectImage(fs, image({ Entrypoint: ['/app/prog'] }))
    expect(amd.findings.find((f) => f.code === 'foreign-arch')?.message).toBe('the image says architecture amd64 but the program is an ELF file for aarch64')
  })
})
