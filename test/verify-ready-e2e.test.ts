/**
 * `slim verify`'s server readiness, end to end with the built CLI and bwrap: a server counts as
 * ready when its port accepts a TCP connection inside the sandbox's own network namespace (the
 * prober joins it with nsenter). Real servers: busybox httpd, redis-server and memcached (Debian
 * packages, built with `slim build --verify` onto the served test bases). A program that never
 * listens is "not ready" after the counted attempts (--ready-timeout 2 = 10 attempts 200 ms
 * apart; the count is asserted, not the time).
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBaseRegistry, type BaseRegistry } from './helpers/base-registry.js'
import { runCli } from './helpers/cli.js'
import { ensureFixtures, type Fixtures } from './fixtures/index.js'

const exec = promisify(execFile)
const has = (bin: string): boolean => existsSync(`/usr/bin/${bin}`)
const usable = has('bwrap') && has('nsenter') && has('skopeo') && has('umoci')

let work: string
let fx: Fixtures
let bases: BaseRegistry
let layout: string

beforeAll(async () => {
  if (!usable) return
  work = mkdtempSync(join(tmpdir(), 'slim-verify-ready-'))
  ;[fx, bases] = await Promise.all([ensureFixtures(['c-musl-dynamic', 'debian-redis', 'legacy-memcached']), startBaseRegistry(work)])
  // Two tiny images from the busybox-based fixture (it EXPOSEs 8080): busybox httpd listening
  // there, and a busybox sleep that never listens.
  layout = join(work, 'busybox')
  await exec('skopeo', ['copy', '--quiet', fx.refs['c-musl-dynamic'], `oci:${layout}:base`])
  const entry = (tag: string, argv: string[]) => exec('umoci', ['config', '--image', `${layout}:base`, '--tag', tag, ...argv.flatMap((a) => ['--config.entrypoint', a])])
  await entry('httpd', ['/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/app'])
  await entry('sleeper', ['/bin/busybox', 'sleep', '600'])
}, 600_000)

afterAll(async () => {
  await bases?.reg.stop()
  if (work) rmSync(work, { recursive: true, force: true })
})

const verify = (original: string, slim: string, extra: string[] = []) => runCli(['verify', original, slim, '--no-cache', '-q', '--ready-timeout', '2', ...extra], { timeoutMs: 300_000 })

describe.skipIf(!usable)('slim verify: server readiness by port', () => {
  it('busybox httpd is ready on its EXPOSEd port; a slim image that never listens is not ready after the counted attempts (exit 4)', async () => {
    const ok = await verify(`oci:${layout}:httpd`, `oci:${layout}:httpd`)
    expect(ok.code, ok.stdout + ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/^probe: \/bin\/busybox httpd -f -p 8080 -h \/app \(.*ready = a TCP connection to 8080 \(EXPOSE\) accepted inside the sandbox within 10 attempts 200 ms apart\)$/m)
    expect(ok.stdout).toMatch(/^original: ready \(port 8080 accepted a connection on attempt \d+\)/m)
    expect(ok.stdout).toMatch(/^slim: ready \(port 8080 accepted a connection on attempt \d+\)/m)

    const bad = await verify(`oci:${layout}:httpd`, `oci:${layout}:sleeper`)
    expect(bad.code, bad.stdout + bad.stderr).toBe(4)
    expect(bad.stdout).toMatch(/^slim: not ready \(nothing accepted a connection after 10 attempts; still running\)$/m)
    expect(bad.stdout).toMatch(/^not viable: /m)

    // The wrong port (--port): the original itself is not ready, a one-line error, not a verdict.
    const wrong = await verify(`oci:${layout}:httpd`, `oci:${layout}:httpd`, ['--port', '8081'])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/^slim: error: the original image itself is not ready \(nothing accepted a connection after 10 attempts; still running\); give the port it listens on with --port/)
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1)
  }, 300_000)

  it('a server whose port is unknown falls back to "still running", and says so', async () => {
    // The sleeper without EXPOSE: no port to probe, --serve makes it a server anyway.
    await exec('umoci', ['config', '--image', `${layout}:sleeper`, '--tag', 'sleeper-noport', '--clear', 'config.exposedports'])
    const r = await verify(`oci:${layout}:sleeper-noport`, `oci:${layout}:sleeper-noport`, ['--serve'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^probe: .* for 3s \(.*no port known \(no EXPOSE; give --port N\), so "started" only means still running after 3s/m)
    expect(r.stdout).toMatch(/^original: still running at the end of the window \(started\)/m)
  }, 300_000)

  it.each([
    ['debian-redis', 6379],
    ['legacy-memcached', 11211],
  ])('%s: slim build --verify reports the slim server ready on port %i', async (name, port) => {
    const ref = fx.refs[name]
    expect(ref, `fixture ${name}: ${fx.skipped[name] ?? ''}`).toBeDefined()
    const r = await runCli(['build', ref, '--output', `oci:${join(work, name)}:slim`, '--no-cache', '-q', '--verify', ...bases.flags], { timeoutMs: 600_000 })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(new RegExp(`^slim: verify: probe: .*ready = a TCP connection to ${port} \\(EXPOSE\\)`, 'm'))
    expect(r.stderr).toMatch(new RegExp(`^slim: verify: original: ready \\(port ${port} accepted a connection on attempt \\d+\\)`, 'm'))
    expect(r.stderr).toMatch(new RegExp(`^slim: verify: slim: ready \\(port ${port} accepted a connection on attempt \\d+\\)`, 'm'))
    expect(r.stderr).toMatch(/^slim: verify: verified/m)
  }, 900_000)
})
