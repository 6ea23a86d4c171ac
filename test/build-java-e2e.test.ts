/**
 * Java runtimes end to end through the built CLI. legacy-java-jdk (Debian 12 + openjdk-17-jdk-headless,
 * the Hello app in /app): the Dockerfile links java.base with the image's own jlink in a `jre`
 * stage; `slim build` runs that jlink in the sandbox, verifies with the app itself
 * (`java -cp /app Hello`, as the image's USER: exact output equal to the original's), is at least
 * 70 % smaller (compressed layers) and builds the same digest twice; the generated Dockerfile also
 * builds with buildah. legacy-java (JRE only, no jmods): its own lib/modules holds jdk.jlink, so the
 * jre stage extracts the modules, re-makes their jmods and links java.base; the same three checks.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Plan } from '../src/advise/types.js'
import { runSandboxed } from '../src/build/sandbox.js'
import { unpackTemp } from '../src/build/unpack.js'
import { openImage } from '../src/image/open.js'
import { buildahIn, startBaseRegistry, type BaseRegistry } from './helpers/base-registry.js'
import { runCli } from './helpers/cli.js'
import { layerBytes } from './helpers/image-bytes.js'
import { hasTool } from './helpers/tools.js'
import { ensureFixtures, type Fixtures } from './fixtures/index.js'
import { JDK_CHECK } from './fixtures/units/legacy-java-jdk.js'
import { pushLayout } from './infra/registry.js'

const usable = hasTool('bwrap') && hasTool('skopeo') && hasTool('mmdebstrap')
const HOME = '/usr/lib/jvm/java-17-openjdk-amd64'
/** The JRE fixture's slim image before the relink (README table, 2026-12-07): the JRE copied trimmed. */
const TRIMMED_JRE_SLIM_BYTES = 68.2e6

let work: string
let fx: Fixtures
let bases: BaseRegistry

beforeAll(async () => {
  if (!usable) return
  work = mkdtempSync(join(tmpdir(), 'slim-build-java-'))
  ;[fx, bases] = await Promise.all([ensureFixtures(['legacy-java-jdk', 'legacy-java']), startBaseRegistry(work)])
}, 1_800_000)

afterAll(async () => {
  await bases?.reg.stop()
  if (work) rmSync(work, { recursive: true, force: true })
})

/** The app's own output in an image, run in the sandbox as the image's USER with its Env and WorkingDir. */
async function runApp(ref: string, argv: string[]): Promise<{ code: number | null; output: string }> {
  const image = await openImage(ref)
  try {
    const root = await unpackTemp(image, 'java-e2e', 8 * 1024 ** 3)
    try {
      const c = image.config.config ?? {}
      const r = await runSandboxed({ root: root.root, argv, user: c.User, workdir: c.WorkingDir, env: c.Env ?? [], network: false, timeoutMs: 60_000 })
      return { code: r.code, output: r.output }
    } finally {
      await root.remove()
    }
  } finally {
    await image.close()
  }
}

/**
 * The Dockerfile slim writes for `image` (pulled from the served registry), built by buildah: the
 * app runs in the result (launcher named by its real path in the JVM home) with the original's output.
 */
async function buildahRunsApp(image: string, name: string, check: string[]): Promise<void> {
  const buildah = buildahIn(work, 600_000)
  await pushLayout(fx.layout, image, `src/${image}:1`, bases.reg, { all: false })
  const r = await runCli(['dockerfile', `docker://${bases.reg.host}/src/${image}:1`, '--no-cache', '-q', ...bases.flags], { timeoutMs: 300_000 })
  expect(r.code, r.stderr).toBe(0)
  const ctx = join(work, `ctx-${name}`)
  mkdirSync(ctx, { recursive: true })
  writeFileSync(join(ctx, 'Dockerfile'), r.stdout)
  try {
    await buildah(['bud', '-q', '--isolation', 'chroot', '--tls-verify=false', '-f', join(ctx, 'Dockerfile'), '-t', `localhost/slim-java/${name}:1`, ctx], 900_000)
    await buildah(['push', '-q', '--tls-verify=false', `localhost/slim-java/${name}:1`, `oci:${join(work, `buildah-${name}`)}:slim`])
    const out = await runApp(`oci:${join(work, `buildah-${name}`)}:slim`, [`${HOME}/bin/java`, ...check.slice(1)])
    const orig = await runApp(fx.refs[image]!, check)
    expect(out.code, out.output).toBe(0)
    expect(out.output).toBe(orig.output)
  } finally {
    await buildah(['rm', '--all']).catch(() => undefined)
    await buildah(['rmi', '--all', '--force']).catch(() => undefined)
  }
}

/** slim build of a fixture; the second build of a test only proves the digest repeats, so it skips verify. */
const build = (name: string, out: string, verify = true) =>
  runCli(['build', fx.refs[name]!, '--output', `oci:${join(work, out)}:slim`, '--no-cache', ...(verify ? ['--verify', '--probe', '-cp /app Hello'] : []), ...bases.flags], { timeoutMs: 900_000 })

describe.skipIf(!usable)('Java: a JDK in the image links a trimmed runtime', () => {
  it('legacy-java-jdk: the Dockerfile has a jre stage running the image\'s jlink for java.base, copied to the JVM home', async () => {
    const r = await runCli(['dockerfile', fx.refs['legacy-java-jdk']!, '--json', '--no-cache', '-q', ...bases.flags], { timeoutMs: 300_000 })
    expect(r.code, r.stderr).toBe(0)
    const doc = (JSON.parse(r.stdout) as { advice: { plan: Plan; dockerfile: string; reasons: string[] } }).advice
    const java = doc.plan.java!
    expect(java.mode).toBe('jlink')
    expect(java.jlink!.modules.map((m) => m.name)).toEqual(['java.base'])
    expect(java.leftOut.map((l) => l.path)).toContain(`${HOME}/lib`)
    // The instructions only (the header's comments name what was left out, with why).
    const df = doc.dockerfile.split('\n').filter((l) => !l.startsWith('#')).join('\n')
    expect(df).toMatch(/^FROM source AS jre\nUSER 0\nRUN \["\/usr\/lib\/jvm\/java-17-openjdk-amd64\/bin\/jlink","--add-modules","java\.base","--strip-java-debug-attributes","--no-man-pages","--no-header-files","--compress=2","--output","\/slim-jre"\]$/m)
    expect(df).toMatch(/^COPY --from=jre \/slim-jre \/usr\/lib\/jvm\/java-17-openjdk-amd64$/m)
    // The home's lib/ is not copied (the linked runtime replaces it); the image's trust store is, over it.
    expect(df).not.toMatch(/^COPY --from=source \S*\/java-17-openjdk-amd64\/lib \S*\/lib$/m)
    expect(df).toMatch(/^COPY --from=source \/usr\/lib\/jvm\/java-17-openjdk-amd64\/lib\/security\/cacerts /m)
    // Only the launcher's and java.base's libraries: no AWT/font/sound stack.
    expect(df).not.toMatch(/libharfbuzz|libfreetype|libasound/)
    expect(doc.reasons.join('\n')).toMatch(/links a runtime of 1 module \(java\.base/)
  }, 600_000)

  it('legacy-java-jdk: slim build runs jlink in the sandbox; verify runs the app itself; ≥ 70 % smaller; the same digest twice', async () => {
    const first = await build('legacy-java-jdk', 'jdk-1')
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).toMatch(/^slim: verify: verified/m)
    const second = await build('legacy-java-jdk', 'jdk-2', false)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout.trim()).toBe(first.stdout.trim())
    const [before, after] = [await layerBytes(fx.refs['legacy-java-jdk']!), await layerBytes(`oci:${join(work, 'jdk-1')}:slim`)]
    const a = await runApp(fx.refs['legacy-java-jdk']!, JDK_CHECK)
    const b = await runApp(`oci:${join(work, 'jdk-1')}:slim`, [`${HOME}/bin/java`, ...JDK_CHECK.slice(1)])
    console.log(`legacy-java-jdk: ${before} B -> ${after} B compressed (${((1 - after / before) * 100).toFixed(1)} % smaller), digest ${first.stdout.trim()}; app: ${b.output.trim()}`)
    expect(a.code, a.output).toBe(0)
    expect(b.code, b.output).toBe(0)
    expect(b.output).toBe(a.output)
    expect(a.output).toMatch(/^java 17\.\S+ ca \d+ paris 2024-07-01T14:00\+02:00\[Europe\/Paris\] user nobody\n$/)
    expect(after).toBeLessThanOrEqual(0.3 * before)
  }, 1_800_000)

  it.skipIf(!hasTool('buildah'))('legacy-java-jdk: the generated Dockerfile builds with buildah and the linked runtime runs the app', async () => {
    await buildahRunsApp('legacy-java-jdk', 'jdk', JDK_CHECK)
  }, 1_800_000)
})

describe.skipIf(!usable)('Java: a JRE-only image is relinked from its own modules image', () => {
  it('legacy-java: the jre stage extracts java.base from the JRE\'s lib/modules, makes its jmod with only its own files, and links it', async () => {
    const r = await runCli(['dockerfile', fx.refs['legacy-java']!, '--json', '--no-cache', '-q', ...bases.flags], { timeoutMs: 300_000 })
    expect(r.code, r.stderr).toBe(0)
    const doc = (JSON.parse(r.stdout) as { advice: { plan: Plan; reasons: string[]; dockerfile: string } }).advice
    const java = doc.plan.java!
    expect(java.mode).toBe('jlink')
    expect(java.jlink!.modules.map((m) => m.name)).toEqual(['java.base'])
    expect(java.jlink!.tool).toBe(`${HOME}/bin/java`)
    const relink = java.jlink!.relink!
    expect(relink.moduleCount).toBe(70)
    expect(relink.steps.map((s) => s.slice(1, 5))).toEqual([
      ['-m', 'jdk.jlink/jdk.tools.jimage.Main', 'extract', '--include'],
      ['-m', 'jdk.jlink/jdk.tools.jmod.Main', 'create', '--class-path'],
    ])
    // java.base's jmod leaves out the other modules' libraries, the whole image's CDS archives and lib/modules.
    const exclude = relink.steps[1]![relink.steps[1]!.indexOf('--exclude') + 1]!.slice('regex:'.length).split('|')
    expect(exclude).toEqual(expect.arrayContaining(['libawt\\.so', 'libmanagement\\.so', 'server/classes\\.jsa', 'modules', 'ct\\.sym', 'jdk/internal/module/SystemModules\\$.*\\.class']))
    expect(exclude).not.toEqual(expect.arrayContaining(['libnet\\.so', 'server/libjvm\\.so', 'jvm\\.cfg', 'security/cacerts']))
    // The Debian-only files slim's table does not place stay with java.base, named.
    expect(relink.unknownFiles).toEqual(expect.arrayContaining([`${HOME}/lib/jar.binfmt`]))
    expect(java.leftOut.map((l) => l.path)).toContain(`${HOME}/lib`)
    const df = doc.dockerfile.split('\n').filter((l) => !l.startsWith('#')).join('\n')
    expect(df).toMatch(/^FROM source AS jre\nUSER 0\nRUN \["\/usr\/lib\/jvm\/java-17-openjdk-amd64\/bin\/java","-m","jdk\.jlink\/jdk\.tools\.jimage\.Main","extract",.*\nRUN \[.*"jdk\.jlink\/jdk\.tools\.jmod\.Main","create",.*"\/slim-jre-work\/java\.base\.jmod"\]\nRUN \[.*"jdk\.jlink\/jdk\.tools\.jlink\.internal\.Main","--module-path","\/slim-jre-work","--add-modules","java\.base","--disable-plugin","generate-jli-classes",.*"--output","\/slim-jre"\]$/m)
    expect(df).toMatch(/^COPY --from=jre \/slim-jre \/usr\/lib\/jvm\/java-17-openjdk-amd64$/m)
    expect(df).not.toMatch(/^COPY --from=source \S*\/java-17-openjdk-amd64\/lib \S*\/lib$/m)
    expect(df).not.toMatch(/libharfbuzz|libfreetype|libasound/)
    expect(doc.reasons.join('\n')).toMatch(/own modules image \(\S+\/lib\/modules, 70 modules\) holds jdk\.jlink: it is relinked into a runtime of 1 module \(java\.base/)
  }, 600_000)

  it('legacy-java: slim build relinks the JRE in the sandbox; verify runs the app itself; ≥ 70 % smaller; the same digest twice', async () => {
    const b = await build('legacy-java', 'jre')
    expect(b.code, b.stderr).toBe(0)
    expect(b.stderr).toMatch(/^slim: verify: verified/m)
    const again = await build('legacy-java', 'jre-2', false)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout.trim()).toBe(b.stdout.trim())
    const [before, after] = [await layerBytes(fx.refs['legacy-java']!), await layerBytes(`oci:${join(work, 'jre')}:slim`)]
    const app = await runApp(`oci:${join(work, 'jre')}:slim`, [`${HOME}/bin/java`, '-cp', '/app', 'Hello'])
    const orig = await runApp(fx.refs['legacy-java']!, ['/usr/bin/java', '-cp', '/app', 'Hello'])
    const modules = await runApp(`oci:${join(work, 'jre')}:slim`, [`${HOME}/bin/java`, '--list-modules'])
    console.log(`legacy-java (JRE, relinked): ${before} B -> ${after} B compressed (${((1 - after / before) * 100).toFixed(1)} % smaller; the trimmed copy was ${TRIMMED_JRE_SLIM_BYTES} B); app: ${app.output.trim()}`)
    expect(orig.code, orig.output).toBe(0)
    expect(app.code, app.output).toBe(0)
    expect(app.output).toBe(orig.output)
    expect(modules.output.trim().split('\n')).toEqual([expect.stringMatching(/^java\.base@17\./)])
    expect(after).toBeLessThanOrEqual(0.3 * before)
  }, 1_800_000)

  it.skipIf(!hasTool('buildah'))('legacy-java: the generated Dockerfile builds with buildah and the relinked runtime runs the app', async () => {
    await buildahRunsApp('legacy-java', 'jre', ['/usr/bin/java', '-cp', '/app', 'Hello'])
  }, 1_800_000)
})
