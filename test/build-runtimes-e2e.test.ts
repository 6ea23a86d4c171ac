/**
 * `slim build --verify` for the two fixtures the served test bases could not build before: the
 * Debian Python app on the python3-debian12 test base (test/bases/python.ts), and the dynamic musl
 * program on the corpus's alpine 3.10 (named with --base: the advice rejects it on its own as end of
 * life, and the corpus holds no supported alpine). Python: the advised build copies the interpreter
 * and its stdlib onto a smaller base and verifies; forced onto the runtime base (which has
 * /usr/bin/python3.11 but no /usr/bin/python3), the slim command names python3.11 and verify
 * probes the path the slim command names. Java: the launcher finds its home from its own path, so the
 * slim command names its real path, and verify's probe follows it there; forced onto the
 * java17-debian12 test base (test/bases/runtimes.ts), the app runs on the base's own JRE. The
 * retired runtime images' sizes are measured on those equivalents, so the advice's alternatives
 * state them instead of "size unknown".
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builtinBases } from '../src/advise/catalogue/load.js'
import { DEFAULT_SERVED, startBaseRegistry, type BaseRegistry } from './helpers/base-registry.js'
import { JAVA_BASE, PYTHON_BASE } from './bases/runtimes.js'
import { runCli } from './helpers/cli.js'
import { ensureFixtures, type Fixtures } from './fixtures/index.js'

const usable = existsSync('/usr/bin/bwrap') && existsSync('/usr/bin/skopeo')

let work: string
let fx: Fixtures
let bases: BaseRegistry

beforeAll(async () => {
  if (!usable) return
  work = mkdtempSync(join(tmpdir(), 'slim-build-runtimes-'))
  ;[fx, bases] = await Promise.all([ensureFixtures(['debian-python', 'c-musl-dynamic', 'legacy-java', 'legacy-python']), startBaseRegistry(work, [...DEFAULT_SERVED, JAVA_BASE])])
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

  it('legacy-java forced onto java17-debian12: the app runs on the base JRE (its /usr/bin/java), nothing of the source JRE is copied, and verify passes', async () => {
    const r = await build('legacy-java', ['--base', JAVA_BASE])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/^slim: verify: slim: exit 0 — openjdk 17\./m)
    expect(r.stderr).toMatch(/^slim: verify: verified/m)
    const df = await runCli(['dockerfile', fx.refs['legacy-java']!, '--base', JAVA_BASE, ...bases.flags])
    expect(df.code, df.stderr).toBe(0)
    expect(df.stdout).toMatch(/^FROM \S+\/distroless\/java17-debian12:/m)
    expect(df.stdout).not.toMatch(/^COPY .*\/usr\/lib\/jvm/m)
  }, 900_000)

  it.each([
    ['debian-python', PYTHON_BASE],
    ['legacy-java', JAVA_BASE],
  ])('%s: the advice names the retired runtime image %s as an alternative with its measured size', async (fixture, runtime) => {
    const measured = builtinBases().find((b) => b.name === runtime)!.size.uncompressed!
    const r = await runCli(['dockerfile', fx.refs[fixture]!, '--json', ...bases.flags])
    expect(r.code, r.stderr).toBe(0)
    const advice = (JSON.parse(r.stdout) as { advice: { alternatives?: { base: string; kind: string; estimatedBytes?: number }[]; dockerfile: string } }).advice
    const alt = advice.alternatives?.find((a) => a.base.includes(`/${runtime}:`))
    expect(alt, JSON.stringify(advice.alternatives)).toBeDefined()
    expect(alt!.kind).toBe('runtime-image')
    // The base's measured bytes plus the app copied onto it (the app alone is small).
    expect(alt!.estimatedBytes).toBeGreaterThanOrEqual(measured)
    expect(alt!.estimatedBytes! - measured).toBeLessThan(5_000_000)
    const line = advice.dockerfile.split('\n').find((l) => l.includes(`/${runtime}:`) && l.includes('(runtime image)'))
    expect(line).toMatch(/\(runtime image\): about \d+(\.\d)? MB, confidence \w+; costs: /)
    expect(line).not.toMatch(/size unknown/)
  }, 600_000)

  it("legacy-python (70 copied libraries): the copied-libraries reason names five of the interpreter's extension modules and counts the rest; the JSON lists them all", async () => {
    const r = await runCli(['dockerfile', fx.refs['legacy-python']!, '--json', ...bases.flags])
    expect(r.code, r.stderr).toBe(0)
    const advice = (JSON.parse(r.stdout) as { advice: { reasons: string[]; ranking: { copiedLibraries: string[] }[]; dockerfile: string } }).advice
    const copied = advice.ranking[0]!.copiedLibraries
    expect(copied.filter((l) => /\.cpython-311-x86_64-linux-gnu\.so$/.test(l)).length).toBeGreaterThan(20)
    const reason = advice.reasons.find((x) => / libraries are copied: /.test(x))
    expect(reason).toBe(`${copied.length} libraries are copied: ${copied.slice(0, 5).join(', ')}, and ${copied.length - 5} more`)
    expect(advice.dockerfile).toContain(`#   why: ${reason}\n`)
  }, 600_000)

  it('c-musl-dynamic on alpine:3.10 (named): built and verified', async () => {
    const r = await build('c-musl-dynamic', ['--base', 'alpine:3.10'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/^slim: verify: slim: exited 0 before it was ready — hello from c-musl-dynamic/m)
    expect(r.stderr).toMatch(/^slim: verify: verified/m)
  }, 600_000)
})
