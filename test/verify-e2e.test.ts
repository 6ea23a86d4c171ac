/**
 * `slim verify` and `slim build --verify` end to end, with the built CLI: debian-nginx slimmed onto
 * the distroless-equivalent test bases (a real registry, test/helpers/base-registry.ts) passes its
 * configuration check (`nginx -t`) in the bwrap sandbox like the original; a sabotaged copy of the
 * slim image (umoci repack of the unpacked image without libpcre2-8, so the top layer holds
 * whiteouts) is not viable, names the library and the --keep that adds it, and exits 4.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBaseRegistry, type BaseRegistry } from './helpers/base-registry.js'
import { runCli } from './helpers/cli.js'
import { ensureFixtures, type Fixtures } from './fixtures/index.js'

const exec = promisify(execFile)
const has = (bin: string): boolean => existsSync(`/usr/bin/${bin}`)
const bwrap = has('bwrap')

let work: string
let fx: Fixtures
let bases: BaseRegistry

beforeAll(async () => {
  if (!bwrap) return
  work = mkdtempSync(join(tmpdir(), 'slim-verify-e2e-'))
  ;[fx, bases] = await Promise.all([ensureFixtures(['debian-nginx', 'c-glibc']), startBaseRegistry(work)])
}, 600_000)

afterAll(async () => {
  await bases?.reg.stop()
  if (work) rmSync(work, { recursive: true, force: true })
})

describe('slim verify', () => {
  it.skipIf(!bwrap)('debian-nginx: slim build --verify passes nginx -t; slim verify agrees; a copy without libpcre2-8 is not viable (exit 4) and names the library and --keep', async () => {
    const layout = join(work, 'nginx')
    const built = await runCli(['build', fx.refs['debian-nginx'], '--output', `oci:${layout}:slim`, '--no-cache', '-q', '--verify', ...bases.flags], { timeoutMs: 400_000 })
    expect(built.code, built.stderr).toBe(0)
    expect(built.stderr).toMatch(/slim: verify: probe: \/usr\/sbin\/nginx -t \(nginx's configuration check\)/)
    expect(built.stderr).toMatch(/slim: verify: original: exit 0/)
    expect(built.stderr).toMatch(/slim: verify: slim: exit 0/)
    expect(built.stderr).toMatch(/slim: verify: verified/)

    const ok = await runCli(['verify', fx.refs['debian-nginx'], `oci:${layout}:slim`, '--no-cache', '-q', ...bases.flags], { timeoutMs: 300_000 })
    expect(ok.code, ok.stdout + ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/^sandbox: bwrap$/m)
    expect(ok.stdout).toMatch(/^verified/m)

    if (!has('umoci')) return
    // Sabotage: unpack the slim image, delete libpcre2-8 (file and soname link), repack as a new tag.
    const bundle = join(work, 'bundle')
    await exec('umoci', ['unpack', '--rootless', '--image', `${layout}:slim`, bundle])
    const pcre = readdirSync(join(bundle, 'rootfs'), { recursive: true, encoding: 'utf8' }).filter((n) => /(^|\/)libpcre2-8\.so[^/]*$/.test(n))
    expect(pcre.length).toBeGreaterThan(0)
    for (const n of pcre) rmSync(join(bundle, 'rootfs', n), { force: true })
    await exec('umoci', ['repack', '--image', `${layout}:broken`, bundle])

    const bad = await runCli(['verify', fx.refs['debian-nginx'], `oci:${layout}:broken`, '--no-cache', '-q', ...bases.flags], { timeoutMs: 300_000 })
    expect(bad.code, bad.stdout + bad.stderr).toBe(4)
    expect(bad.stdout).toMatch(/^not viable: missing libpcre2-8\.so\.0 \(\/\S*libpcre2-8\.so\.0 in the original; add --keep \/\S*libpcre2-8\.so\.0\)/m)
    expect(bad.stdout).toMatch(/^rebuild with: --keep \/\S*libpcre2-8\.so\.0$/m)
    expect(bad.stdout).toMatch(/^slim: exit 127/m)
  }, 900_000)

  const root = process.getuid?.() === 0
  it.skipIf(!bwrap || !root || !has('unshare'))('without bwrap, as root: unshare + chroot runs the probe; with no sandbox tool at all, a one-line error says what to install', async () => {
    const onlyUnshare = join(work, 'path-unshare')
    mkdirSync(onlyUnshare)
    symlinkSync('/usr/bin/unshare', join(onlyUnshare, 'unshare'))
    symlinkSync(existsSync('/usr/sbin/chroot') ? '/usr/sbin/chroot' : '/usr/bin/chroot', join(onlyUnshare, 'chroot'))
    const ref = fx.refs['c-glibc']
    const r = await runCli(['verify', ref, ref, '--no-cache', '-q'], { env: { PATH: onlyUnshare }, timeoutMs: 300_000 })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^sandbox: unshare\+chroot$/m)
    expect(r.stdout).toMatch(/^original: .*hello from c-glibc/m)
    expect(r.stdout).toMatch(/^slim: .*hello from c-glibc/m)

    const none = join(work, 'path-empty')
    mkdirSync(none)
    const n = await runCli(['verify', ref, ref, '--no-cache', '-q'], { env: { PATH: none }, timeoutMs: 300_000 })
    expect(n.code).toBe(1)
    expect(n.stderr).toMatch(/^slim: error: .*install bubblewrap \(bwrap\)/)
    expect(n.stderr.trim().split('\n')).toHaveLength(1)
  }, 600_000)

  it('a missing SLIM image is a one-line error, exit 1', async () => {
    const r = await runCli(['verify', 'oci:/nonexistent/layout:x', 'oci:/nonexistent/other:y', '--no-cache', '-q'])
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^slim: error: /)
  })
})
