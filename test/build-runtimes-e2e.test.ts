/**
 * `slim build --verify` for the two fixtures the served test bases could not build before: the
 * Debian Python app on the python3-debian12 test base (test/bases/python.ts), and the dynamic musl
 * program on the corpus's alpine 3.10 (named with --base: the advice rejects it on its own as end of
 * life, and the corpus holds no supported alpine). Python: the advised build copies the interpreter
 * and its stdlib onto a smaller base and verifies; forced onto the runtime base (which has
 * /usr/bin/python3.11 but no /usr/bin/python3), the slim command names python3.11 and verify
 * probes the path the slim command names. Java: the launcher finds its home from its own path, so the
 * slim command names its real path, and verify's probe follows it there.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBaseRegistry, type BaseRegistry } from './helpers/base-registry.js'
import { runCli } from './helpers/cli.js'
import { ensureFixtures, type Fixtures } from './fixtures/index.js'

const usable = existsSync('/usr/bin/bwrap') && existsSync('/usr/bin/skopeo')

let work: string
let fx: Fixtures
let bases: BaseRegistry

beforeAll(async () => {
  if (!usable) return
  work = mkdtempSync(join(tmpdir(), 'slim-build-runtimes-'))
  ;[fx, bases] = await Promise.all([ensureFixtures(['debian-python', 'c-musl-dynamic', 'legacy-java']), startBaseRegistry(mkdtempSync(join(tmpdir(), 'slim-build-runtimes-cfg-')))])
}, 900_000)

afterAll(async () => {
  await bases?.reg.stop()
  if (work) rmSync(work, { recursive: true, force: true })
})

const build = (name: string, extra: string[]) => runCli(['build', fx.refs[name], '--output', `oci:${join(work, name)}:slim`, '--no-cache', '-q', '--verify', ...extra, ...bases.flags], { timeoutMs: 600_000 })

describe.skipIf(!usable)('slim build --verify on runtime bases', () => {
  it('debian-python: the advised build (interpreter and stdlib copied onto a smaller base) verifies', async () => {
    const r = await build('debian-python', [])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/^slim: verify: original: exit 0 — Python 3\.11\./m)
    expect(r.stderr).toMatch(/^slim: verify: slim: exit 0 — Python 3\.11\./m)
    expect(r.stderr).toMatch(/^slim: verify: verified/m)
  }, 900_000)

  it('debian-python forced onto python3-debian12: the slim command names the base interpreter (python3.11, the real path of python3) and verify probes it there', async () => {
    const r = await build('debian-python', ['--base', 'distroless/python3-debian12'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/^slim: verify: slim: exit 0 — Python 3\.11\./m)
    expect(r.stderr).toMatch(/^slim: verify: verified/m)
  }, 900_000)

  it('legacy-java: the JRE launcher is copied under its real path and the slim command names it; verify probes that path and passes', async () => {
    const r = await build('legacy-java', [])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/^slim: verify: probe: \/usr\/bin\/java --version/m)
    expect(r.stderr).toMatch(/^slim: verify: slim: exit 0 — openjdk 17\./m)
    expect(r.stderr).toMatch(/^slim: verify: verified/m)
  }, 900_000)

  it('c-musl-dynamic on alpine:3.10 (named): built and verified', async () => {
    const r = await build('c-musl-dynamic', ['--base', 'alpine:3.10'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/^slim: verify: slim: exited 0 before it was ready — hello from c-musl-dynamic/m)
    expect(r.stderr).toMatch(/^slim: verify: verified/m)
  }, 600_000)
})
