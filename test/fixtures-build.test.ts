/**
 * The fixture builder, checked against the real tools: skopeo reads every image back, the
 * binaries run (static ones directly, dynamic ones inside their own rootfs via chroot), and the
 * cache really is a cache. The first run builds everything (Debian included: minutes); later runs
 * take seconds.
 */
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureFixtures, type Fixtures } from './fixtures/index.js'
import { toolEnv } from './fixtures/exec.js'
import { fixturePaths } from './fixtures/paths.js'
import { PROGRAMS } from './fixtures/units/small.js'

const exec = promisify(execFile)
const FULL_BUILD_MS = 40 * 60_000

async function out(cmd: string, args: string[], env?: Record<string, string>): Promise<string> {
  return (await exec(cmd, args, { maxBuffer: 64 << 20, env: { ...process.env, ...env } })).stdout
}
/** Exit code, stdout and stderr, without throwing on failure. */
function runAll(cmd: string, args: string[], env?: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr })
    })
  })
}

// skopeo keeps its blob-info cache inside the fixture cache, not in /var/lib/containers.
const skopeo = async (args: string[]) => JSON.parse(await out('skopeo', args, toolEnv(fixturePaths())))
const inspectConfig = (ref: string, ...flags: string[]) => skopeo(['inspect', ...flags, '--config', ref])
const inspectRaw = (ref: string) => skopeo(['inspect', '--raw', ref])

let fx: Fixtures

beforeAll(async () => {
  fx = await ensureFixtures(undefined, { log: (l) => process.stderr.write(`${l}\n`) })
}, FULL_BUILD_MS)

describe('small images', () => {
  const built = () => PROGRAMS.filter((p) => !(p.name in fx.skipped))

  it('builds every program or records why not', () => {
    for (const p of PROGRAMS) expect(p.name in fx.refs || p.name in fx.skipped, p.name).toBe(true)
    // Only the Rust toolchain is optional on this machine.
    expect(Object.keys(fx.skipped).filter((k) => k !== 'rust')).toEqual([])
  })

  it('has the configured entrypoint, user, env, architecture and two layers', async () => {
    for (const p of built()) {
      const cfg = await inspectConfig(fx.refs[p.name]!)
      expect(cfg.architecture, p.name).toBe(p.arch ?? 'amd64')
      expect(cfg.os).toBe('linux')
      expect(cfg.config.Entrypoint, p.name).toEqual([`/app/${p.file}`])
      expect(cfg.config.User, p.name).toMatch(/^(\d+:\d+|app)$/)
      expect(cfg.config.Env.some((e: string) => e.startsWith('PATH=/app:'))).toBe(true)
      expect(cfg.config.WorkingDir).toBe('/app')
      expect(cfg.config.Labels['org.opencontainers.image.title']).toBe(p.name)
      expect(cfg.rootfs.diff_ids, p.name).toHaveLength(2)
    }
  })

  it('runs the static binaries directly on the host', async () => {
    for (const name of ['go-static', 'go-net', 'c-glibc-static', 'c-musl-static']) {
      const bin = fx.binaries[name]!
      expect(await out('file', ['-b', bin]), name).toMatch(/statically linked/)
      expect(await out(bin, []), name).toMatch(/hello from/)
    }
  })

  it('runs each dynamic binary inside its own image root (chroot), with its loader and libraries', async () => {
    for (const name of ['c-glibc', 'c-musl-dynamic', 'cpp', 'c-dlopen', 'go-cgo', 'rust', 'c-rpath']) {
      if (name in fx.skipped) continue
      const file = PROGRAMS.find((p) => p.name === name)!.file
      expect(await out('file', ['-b', fx.binaries[name]!]), name).toMatch(/dynamically linked/)
      // $ORIGIN needs /proc/self/exe, which a bare chroot lacks: LD_ORIGIN_PATH is glibc's fallback.
      const env = name === 'c-rpath' ? { LD_ORIGIN_PATH: '/app' } : undefined
      const r = await runAll('chroot', [fx.rootfs[name]!, `/app/${file}`], env)
      expect(r, name).toMatchObject({ code: 0 })
      expect(r.stdout, name).toMatch(new RegExp(`hello from ${name === 'cpp' ? 'cpp' : name}`))
    }
  })

  it('lets the real loader resolve every NEEDED library inside the glibc roots', async () => {
    for (const name of ['c-glibc', 'cpp', 'go-cgo', 'c-rpath', 'rust']) {
      if (name in fx.skipped) continue
      const file = PROGRAMS.find((p) => p.name === name)!.file
      const list = await out('chroot', [fx.rootfs[name]!, '/lib64/ld-linux-x86-64.so.2', '--list', `/app/${file}`])
      expect(list, name).not.toMatch(/not found/)
      expect(list, name).toMatch(/libc\.so\.6 => \/lib\/x86_64-linux-gnu\/libc\.so\.6/)
    }
    const cpp = await out('chroot', [fx.rootfs.cpp!, '/lib64/ld-linux-x86-64.so.2', '--list', '/app/hello-cpp'])
    expect(cpp).toMatch(/libstdc\+\+\.so\.6 =>/)
    const rpath = await out('chroot', [fx.rootfs['c-rpath']!, '/lib64/ld-linux-x86-64.so.2', '--list', '/app/hello-rpath'])
    expect(rpath).toMatch(/libanswer\.so => \/app\/lib\/libanswer\.so/)
  })

  it('c-dlopen needs libz although NEEDED does not name it', async () => {
    const needed = await out('readelf', ['-d', fx.binaries['c-dlopen']!])
    expect(needed).not.toMatch(/libz/)
    expect(await out('chroot', [fx.rootfs['c-dlopen']!, '/app/hello-dlopen'])).toMatch(/zlib 1\./)
  })

  it('go-net finds CA certs, tzdata and passwd in its image, and names them when they are gone', async () => {
    const ok = await runAll('chroot', ['--userspec=1000:1000', fx.rootfs['go-net']!, '/app/go-net'])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/certs: \d+ roots/)
    expect(ok.stdout).toMatch(/tz: Europe\/Paris/)
    expect(ok.stdout).toMatch(/user: app/)

    const bare = join(fixturePaths().tmp, 'go-net-bare')
    await rm(bare, { recursive: true, force: true })
    await mkdir(join(bare, 'app'), { recursive: true })
    await copyFile(fx.binaries['go-net']!, join(bare, 'app', 'go-net'))
    const broken = await runAll('chroot', ['--userspec=1000:1000', bare, '/app/go-net'], { TZ: '' })
    await rm(bare, { recursive: true, force: true })
    expect(broken.code).toBe(1)
    expect(broken.stderr).toMatch(/missing \[ca-certificates tzdata passwd\]/)
  })

  it('the arm64 image holds an aarch64 ELF', async () => {
    const head = await readFile(fx.binaries['go-static-arm64']!)
    expect(head.readUInt16LE(18)).toBe(183) // e_machine EM_AARCH64
    expect(await out('file', ['-b', fx.binaries['go-static']!])).toMatch(/x86-64/)
  })
})

describe('multi-arch index and transport variants', () => {
  it('go-multiarch is an OCI index listing amd64 and arm64, and each child resolves', async () => {
    const idx = await inspectRaw(fx.refs['go-multiarch']!)
    expect(idx.mediaType).toBe('application/vnd.oci.image.index.v1+json')
    expect(idx.manifests.map((m: any) => m.platform.architecture).sort()).toEqual(['amd64', 'arm64'])
    for (const arch of ['amd64', 'arm64']) {
      const cfg = await inspectConfig(fx.refs['go-multiarch']!, '--override-arch', arch)
      expect(cfg.architecture).toBe(arch)
    }
  })

  it('the zstd layout has tar+zstd layers whose content matches the gzip original', async () => {
    const zref = fx.refs.zstd!
    const m = await inspectRaw(zref)
    expect(m.layers.map((l: any) => l.mediaType)).toEqual([
      'application/vnd.oci.image.layer.v1.tar+zstd',
      'application/vnd.oci.image.layer.v1.tar+zstd',
    ])
    const zcfg = await inspectConfig(zref)
    const gcfg = await inspectConfig(fx.refs['c-musl-dynamic']!)
    expect(zcfg.rootfs.diff_ids).toEqual(gcfg.rootfs.diff_ids)
    const dir = zref.replace(/^oci:/, '').replace(/:[^:]+$/, '')
    const blob = join(dir, 'blobs', 'sha256', m.layers[0].digest.slice('sha256:'.length))
    const tar = (await exec('zstd', ['-dc', blob], { encoding: 'buffer', maxBuffer: 64 << 20 })).stdout
    expect(`sha256:${createHash('sha256').update(tar).digest('hex')}`).toBe(zcfg.rootfs.diff_ids[0])
  })

  it('docker-archive and oci-archive read back with the source config', async () => {
    const src = await inspectConfig(fx.refs['c-musl-dynamic']!)
    for (const ref of [`docker-archive:${fx.dockerArchive}`, `oci-archive:${fx.ociArchive}`]) {
      const cfg = await inspectConfig(ref)
      expect(cfg.config.Entrypoint, ref).toEqual(src.config.Entrypoint)
      expect(cfg.rootfs.diff_ids, ref).toEqual(src.rootfs.diff_ids)
    }
    const listing = await out('tar', ['tf', fx.dockerArchive])
    expect(listing).toMatch(/^manifest\.json$/m)
    expect(listing).toMatch(/^repositories$/m)
  })

  it('the v2s2 copies carry Docker schema 2 media types', async () => {
    const m = await inspectRaw(fx.refs.v2s2!)
    expect(m.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json')
    expect(m.config.mediaType).toBe('application/vnd.docker.container.image.v1+json')
    expect(m.layers[0].mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip')
    const dir = fx.refs['v2s2-layout']!.replace(/^oci:/, '').replace(/:[^:]+$/, '')
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'))
    expect(index.manifests[0].mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json')
  })
})

describe('Debian images', () => {
  const root = () => fx.rootfs.debian!

  it('each image has its own entrypoint/cmd on the shared base layer', async () => {
    const cfg = async (n: string) => (await inspectConfig(fx.refs[n]!)).config
    expect((await cfg('debian-nginx')).Entrypoint).toEqual(['/usr/sbin/nginx', '-g', 'daemon off;'])
    expect((await cfg('debian-redis')).Cmd).toEqual(['redis-server', '--protected-mode', 'no'])
    expect((await cfg('debian-redis')).User).toBe('redis')
    expect((await cfg('debian-curl')).Entrypoint).toEqual(['curl'])
    expect((await cfg('debian-rg')).Entrypoint).toEqual(['/usr/bin/rg'])
    expect((await cfg('debian-registry')).Cmd).toEqual(['serve', '/etc/docker/registry/config.yml'])
    expect((await cfg('debian-ninja')).Entrypoint).toEqual(['/usr/bin/ninja'])
    expect((await cfg('debian-python')).Cmd).toEqual(['python3'])
    expect((await cfg('debian-shell-cmd')).Cmd.slice(0, 2)).toEqual(['/bin/sh', '-c'])
    const ep = await cfg('debian-entrypoint-script')
    expect([ep.Entrypoint, ep.Cmd]).toEqual([['docker-entrypoint.sh'], ['nginx', '-g', 'daemon off;']])

    const base = (await inspectRaw(fx.refs['debian-base']!)).layers[0].digest
    for (const n of ['debian-nginx', 'debian-redis', 'debian-entrypoint-script', 'debian-waste']) {
      expect((await inspectRaw(fx.refs[n]!)).layers[0].digest, n).toBe(base)
    }
  })

  it('runs the packaged programs in the kept rootfs', async () => {
    const nginx = await runAll('chroot', [root(), '/usr/sbin/nginx', '-v'])
    expect(nginx.stderr).toMatch(/nginx version: nginx\/1\./)
    expect(await out('chroot', [root(), '/usr/bin/rg', '--version'])).toMatch(/^ripgrep \d+/)
    expect(await out('chroot', [root(), '/usr/bin/curl', '--version'])).toMatch(/^curl \d/)
    expect(await out('chroot', [root(), '/usr/bin/redis-server', '--version'])).toMatch(/Redis server v=/)
    expect(await out('chroot', [root(), '/usr/bin/ninja', '--version'])).toMatch(/^\d+\.\d+/)
    expect(await out('chroot', [root(), '/usr/bin/python3', '-c', 'print(6*7)'])).toBe('42\n')
    expect(await out('chroot', [root(), '/usr/bin/docker-registry', '--version'])).toMatch(/registry/)
  })

  it('exposes Debian program paths that are real ELF files inside the rootfs', async () => {
    for (const n of ['nginx', 'redis-server', 'curl', 'rg', 'docker-registry', 'ninja', 'python3']) {
      expect(fx.binaries[n]!.startsWith(`${root()}/`), n).toBe(true)
      expect(await out('file', ['-b', fx.binaries[n]!]), n).toMatch(/^ELF 64-bit/)
    }
  })

  it('the real loader resolves nginx inside the rootfs (the closure oracle)', async () => {
    const list = await out('chroot', [root(), '/lib64/ld-linux-x86-64.so.2', '--list', '/usr/sbin/nginx'])
    expect(list).not.toMatch(/not found/)
    for (const lib of ['libssl.so.3', 'libcrypto.so.3', 'libpcre2-8.so.0', 'libz.so.1', 'libc.so.6']) {
      expect(list).toContain(`${lib} => `)
    }
  })

  it('debian-waste adds layers with whiteouts, an opaque dir and overwrites', async () => {
    const m = await inspectRaw(fx.refs['debian-waste']!)
    expect(m.layers).toHaveLength(3)
    const list = (i: number) => out('tar', ['tzf', join(fx.layout, 'blobs', 'sha256', m.layers[i].digest.slice(7))])
    const l2 = await list(1)
    for (const e of ['./usr/share/.wh.doc', './usr/bin/.wh.ninja', './usr/share/zoneinfo/.wh..wh..opq', './etc/nginx/nginx.conf', './usr/bin/rg']) {
      expect(l2.split('\n'), e).toContain(e)
    }
    expect(l2).toContain('./var/cache/app/build-output.bin')
    expect((await list(2)).split('\n')).toContain('./var/cache/.wh.app')
  })

  it('debian-entrypoint-script adds an executable wrapper that ends in exec "$@"', async () => {
    const m = await inspectRaw(fx.refs['debian-entrypoint-script']!)
    const blob = join(fx.layout, 'blobs', 'sha256', m.layers[1].digest.slice(7))
    expect(await out('tar', ['tzvf', blob, './usr/local/bin/docker-entrypoint.sh'])).toMatch(/^-rwxr-xr-x/)
    expect(await out('tar', ['xzOf', blob, './usr/local/bin/docker-entrypoint.sh'])).toMatch(/exec "\$@"/)
  })
})

describe('cache behaviour', () => {
  it('a second ensureFixtures() is a no-op: nothing is built again', async () => {
    const again = await ensureFixtures()
    expect(again.built).toEqual({})
    expect(again.refs).toEqual(fx.refs)
  })

  it('a subset pulls in its dependencies and the always-built archives, nothing else', async () => {
    const sub = await ensureFixtures(['go-multiarch'])
    expect(Object.keys(sub.refs).sort()).toEqual(
      ['c-musl-dynamic', 'docker-archive', 'go-multiarch', 'go-static', 'go-static-arm64', 'oci-archive', 'v2s2', 'v2s2-layout', 'zstd'],
    )
    expect(sub.rootfs.debian).toBeUndefined()
    await expect(ensureFixtures(['no-such-image'])).rejects.toThrow(/unknown fixture 'no-such-image'/)
  })

  it('a stale stamp rebuilds that unit once, even with two builders racing for the lock', async () => {
    const stamp = join(fixturePaths().stamps, 'go-multiarch.json')
    const s = JSON.parse(await readFile(stamp, 'utf8'))
    await writeFile(stamp, JSON.stringify({ ...s, hash: 'stale' }))
    const build = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn('npx', ['--no-install', 'tsx', 'test/fixtures/build.ts', 'go-multiarch'], {
          stdio: ['ignore', 'pipe', 'inherit'],
        })
        let text = ''
        child.stdout.on('data', (d) => (text += d))
        child.on('error', reject)
        child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`build.ts exited ${code}`))))
      })
    const outputs = await Promise.all([build(), build()])
    const builtLines = outputs.filter((o) => /^built 1 unit\(s\).*go-multiarch/m.test(o))
    const idleLines = outputs.filter((o) => /^nothing to build/m.test(o))
    expect([builtLines.length, idleLines.length]).toEqual([1, 1])
    const after = JSON.parse(await readFile(stamp, 'utf8'))
    expect(after.hash).toBe(s.hash)
    expect((await ensureFixtures(['go-multiarch'])).built).toEqual({})
  }, 120_000)
})

describe('committed fixture fixtures/images/hello-static.oci.tar', () => {
  const committed = 'fixtures/images/hello-static.oci.tar'

  it('is small, valid (skopeo verifies every digest) and configured', async () => {
    const size = (await readFile(committed)).length
    expect(size).toBeLessThan(3 * 1024 * 1024)
    const cfg = await inspectConfig(`oci-archive:${committed}`)
    expect(cfg.config.Entrypoint).toEqual(['/app/hello'])
    expect(cfg.config.User).toBe('65534:65534')
    expect(cfg.config.Env).toContain('APP_MODE=demo')
    expect(cfg.rootfs.diff_ids).toHaveLength(3)
    const copy = join(fixturePaths().tmp, 'hello-static-copy')
    await rm(copy, { recursive: true, force: true })
    await out('skopeo', ['copy', '--quiet', `oci-archive:${committed}`, `oci:${copy}:x`], toolEnv(fixturePaths()))
    await rm(copy, { recursive: true, force: true })
  })

  it('holds a program that runs, and a deleted 256 KiB leftover for the waste report', async () => {
    const dir = join(fixturePaths().tmp, 'hello-static-x')
    await rm(dir, { recursive: true, force: true })
    await mkdir(dir, { recursive: true })
    await out('tar', ['-C', dir, '-xf', committed])
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'))
    const blob = (d: string) => join(dir, 'blobs', 'sha256', d.slice('sha256:'.length))
    const manifest = JSON.parse(await readFile(blob(index.manifests[0].digest), 'utf8'))
    const [, app, cleanup] = manifest.layers.map((l: { digest: string }) => blob(l.digest))
    expect(await out('tar', ['tzvf', app, 'var/cache/build/objects.bin'])).toMatch(/ 262144 /)
    expect((await out('tar', ['tzf', cleanup])).split('\n')).toContain('var/cache/.wh.build')
    await out('tar', ['-C', dir, '-xzf', app, 'app/hello'])
    const r = await runAll(join(dir, 'app', 'hello'), ['x'], { APP_MODE: 'demo' })
    await rm(dir, { recursive: true, force: true })
    expect(r.stdout).toBe("hello from slim's fixture image (APP_MODE=demo)\narg 1: x\n")
  })

  it('is exactly what fixtures/hello-static/build.sh produces', async () => {
    const fresh = join(fixturePaths().tmp, 'hello-static.oci.tar')
    await out('bash', ['fixtures/hello-static/build.sh', fresh])
    const digest = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex')
    expect(await digest(fresh)).toBe(await digest(committed))
    await rm(fresh, { force: true })
  }, 60_000)
})
