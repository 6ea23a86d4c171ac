/**
 * End to end, for real: source images on a local registry (real programs on a Debian 12 rootfs,
 * a musl program on the corpus alpine 3.10, Debian's nginx), the distroless-equivalent test bases
 * pushed under the names the catalogue maps gcr.io / docker.io to through a mirror, then
 *
 *   openImage -> buildIndex -> inspectImage -> advise -> Dockerfile -> buildah bud (no daemon)
 *   -> run the program in the built root with chroot as the image's USER -> check its output,
 *
 * and the built image must be smaller than the source and within a stated tolerance of the
 * estimate. The catalogue is the shipped one restricted (with the config file's `exclude`) to the
 * bases this registry has, with their pushed digests added (the config's override path), so every
 * FROM is pinned.
 */
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { advise } from '../src/advise/advise.js'
import { builtinBases } from '../src/advise/catalogue/load.js'
import type { Base } from '../src/advise/catalogue/types.js'
import { mergeMirrors, parseConfig, resolveBases } from '../src/advise/config.js'
import { sourceImageFrom } from '../src/advise/source.js'
import type { Advice } from '../src/advise/types.js'
import { openImage } from '../src/image/open.js'
import { inspectImage } from '../src/inspect/inspect.js'
import { buildIndex, collectFacts } from '../src/layers/index.js'
import { ensureBases, layoutTag, type TestBases } from './bases/build.js'
import { ensureFixtures, type Fixtures } from './fixtures/index.js'
import { addLayer, configure, tarDir } from './fixtures/oci.js'
import { pushLayout, startRegistry, type RunningRegistry } from './infra/registry.js'
import { buildahIn, DEFAULT_SERVED, digestOf, pushServedBases, SERVED_BASES } from './helpers/base-registry.js'

const exec = promisify(execFile)

/** Built size vs estimate: the base's files are measured on the same test bases the catalogue
 * sizes come from, so only file metadata rounding and overwritten files may differ. */
const TOLERANCE = { ratio: 0.03, bytes: 64 * 1024 }

/** Catalogue bases this test registry serves (built by test/bases from the same packages). */

interface Case {
  name: string
  /** How the source image is made: a fixture program on Debian 12 or alpine 3.10, or a fixture image as is. */
  source: { on: 'debian' | 'alpine'; program: string; at: string; extras?: [string, string][]; junkBytes?: number } | { fixture: string }
  base: string
  /** Pass the base as --base would: the only alpine the test registry serves is 3.10, which is end
   * of life, and slim advises an end-of-life base only when asked for it. */
  forceBase?: boolean
  /** argv to run in the built image instead of its ENTRYPOINT + CMD. */
  argv?: string[]
  /** The USER slim must choose when it is not a non-root one (and the lint findings that follow). */
  root?: { reason: RegExp; lint: string[] }
  expect: RegExp
}

const CASES: Case[] = [
  // Static Go that needs the CA bundle, zoneinfo and a passwd entry: it says which one is missing.
  { name: 'go-net', source: { on: 'debian', program: 'go-net', at: '/app/go-net', extras: [['/etc/ssl/certs/ca-certificates.crt', '/etc/ssl/certs/ca-certificates.crt']] }, base: 'distroless/static-debian12', expect: /^user: nonroot\n[\s\S]*hello from go-net$/m },
  { name: 'c-glibc', source: { on: 'debian', program: 'c-glibc', at: '/app/hello' }, base: 'distroless/base-nossl-debian12', expect: /^hello from c-glibc$/m },
  { name: 'cpp', source: { on: 'debian', program: 'cpp', at: '/app/hello-cpp' }, base: 'distroless/cc-debian12', expect: /^hello from cpp$/m },
  // musl on the source's own alpine release (asked for: it is end of life); build leftovers make the source bigger than what is needed.
  { name: 'musl', source: { on: 'alpine', program: 'c-musl-dynamic', at: '/app/hello', junkBytes: 3_000_000 }, base: 'alpine:3.10', forceBase: true, expect: /^hello from c-musl-dynamic$/m },
  // Debian's curl: 27 libraries the base does not ship, copied under their sonames; runs as the image's 65534.
  { name: 'curl', source: { fixture: 'debian-curl' }, base: 'distroless/cc-debian12', argv: ['/usr/bin/curl', '--version'], expect: /^curl 7\.\d+\.\d+ \(x86_64-pc-linux-gnu\) libcurl/m },
  // nginx's config says `user www-data`: the master starts as root and switches, so root stays (and says why).
  {
    name: 'nginx',
    source: { fixture: 'debian-nginx' },
    base: 'distroless/cc-debian12',
    argv: ['/usr/sbin/nginx', '-t'],
    expect: /configuration file \/etc\/nginx\/nginx\.conf test is successful/,
    root: { reason: /^stays root: nginx's config says `user www-data`: the master process starts as root/, lint: ['DL3002'] },
  },
]

let work: string
let reg: RunningRegistry
let fx: Fixtures
let tb: TestBases
let catalogue: Base[]
let mirrors: Record<string, string>
let buildah: (args: string[], timeout?: number) => Promise<string>

/** A source image: the fixture program (and extras) as one layer on Debian 12 or alpine 3.10. */
async function makeSource(c: Case, layout: string, env: Record<string, string>): Promise<void> {
  const s = c.source
  if ('fixture' in s) return pushLayout(fx.layout, s.fixture, `src/${c.name}:1`, reg, { all: false })
  const stage = join(work, 'stage', c.name)
  const put = (from: string, to: string) => {
    mkdirSync(join(stage, to, '..'), { recursive: true })
    copyFileSync(from, join(stage, to))
  }
  put(fx.binaries[s.program]!, s.at)
  for (const [from, to] of s.extras ?? []) put(from, to)
  if (s.junkBytes) {
    mkdirSync(join(stage, 'var/cache/build'), { recursive: true })
    writeFileSync(join(stage, 'var/cache/build/objects.bin'), randomBytes(s.junkBytes))
  }
  const tar = join(work, 'stage', `${c.name}.tar`)
  const top = [...new Set([s.at, ...(s.extras ?? []).map(([, to]) => to), ...(s.junkBytes ? ['/var'] : [])].map((p) => p.split('/')[1]!))]
  await tarDir(stage, top, tar, { reproducible: true })
  const from = s.on === 'debian' ? 'debian-base' : 'alpine-3.10'
  await addLayer(layout, from, tar, `COPY ${s.program} ${s.at}`, env, `${c.name}-src`)
  await configure(layout, `${c.name}-src`, { clear: ['config.cmd', 'config.entrypoint'], entrypoint: [s.at] }, env)
  await pushLayout(layout, `${c.name}-src`, `src/${c.name}:1`, reg, { all: false })
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'slim-advise-e2e-'))
  buildah = buildahIn(work, 120_000)
  ;[fx, tb, reg] = await Promise.all([ensureFixtures(['go-net', 'c-glibc', 'cpp', 'c-musl-dynamic', 'debian-nginx', 'debian-curl', 'debian-base']), ensureBases(), startRegistry('plain')])

  // The bases, under the repositories the catalogue names once gcr.io and docker.io are mirrored.
  mirrors = mergeMirrors({}, [`gcr.io=${reg.host}`, `docker.io=${reg.host}`])
  const overrides = await pushServedBases(reg)
  const exclude = builtinBases().map((b) => b.name).filter((n) => !DEFAULT_SERVED.includes(n))
  catalogue = resolveBases(parseConfig({ mirrors: {}, exclude, bases: overrides }, join(work, 'e2e-config.json')))

  // The sources: a private layout holding debian-base and alpine 3.10, plus one image per case.
  const layout = join(work, 'src-oci')
  const env = { TMPDIR: work, XDG_DATA_HOME: join(work, 'xdg'), _CONTAINERS_ROOTLESS_UID: '1000', XDG_RUNTIME_DIR: join(work, 'xdg-run') }
  mkdirSync(env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 })
  await exec('skopeo', ['copy', '-q', `oci:${fx.layout}:debian-base`, `oci:${layout}:debian-base`], { env: { ...process.env, ...env } })
  await exec('skopeo', ['copy', '-q', `oci:${tb.layout}:${layoutTag('alpine:3.10')}`, `oci:${layout}:alpine-3.10`], { env: { ...process.env, ...env } })
  for (const c of CASES) await makeSource(c, layout, env)
}, 600_000)

// buildah's storage is inside `work` and `rm --all` unmounts every container: removing the
// directory then removes its images, so no `rmi --all` first (the two together outlasted the
// 300 s hook timeout on a loaded machine).
afterAll(async () => {
  await buildah(['rm', '--all']).catch(() => undefined)
  await reg?.stop()
  if (work) rmSync(work, { recursive: true, force: true })
}, 900_000)

interface Built {
  advice: Advice
  image: string
  mount: string
  container: string
  config: { User?: string; Env?: string[]; Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string }
  builtBytes: number
}

/** The whole pipeline for one case, up to a mounted container of the built image. */
async function slimAndBuild(c: Case): Promise<Built> {
  const source = await openImage(`docker://${reg.host}/src/${c.name}:1`, {})
  let advice: Advice
  try {
    const index = await buildIndex(source)
    const facts = await collectFacts(index)
    const inspection = await inspectImage(index, source.config)
    advice = advise({ inspection, image: sourceImageFrom(source, { layers: index.layers, os: facts.os }), catalogue, rootfs: index, options: { mirrors, ...(c.forceBase ? { base: c.base } : {}) } })
  } finally {
    await source.close()
  }
  expect(advice.verdict, advice.summary).toBe('slim')
  const ctx = join(work, 'ctx', c.name)
  mkdirSync(ctx, { recursive: true })
  writeFileSync(join(ctx, 'Dockerfile'), advice.dockerfile!)
  const image = `localhost/slim-e2e/${c.name}:1`
  await buildah(['bud', '-q', '--isolation', 'chroot', '--tls-verify=false', '-f', join(ctx, 'Dockerfile'), '-t', image, ctx], 240_000)
  const info = JSON.parse(await buildah(['inspect', '--type', 'image', image])) as { OCIv1: { config: Built['config'] } }
  const container = (await buildah(['from', '--pull-never', image])).trim()
  const mount = (await buildah(['mount', container])).trim()
  // Measure the built image like the source: the bytes of every layer's files, read by slim itself.
  const out = join(work, 'out', c.name)
  mkdirSync(out, { recursive: true })
  await buildah(['push', '-q', image, `oci:${out}:built`])
  const built = await openImage(`oci:${out}:built`, {})
  let builtBytes = 0
  try {
    builtBytes = (await buildIndex(built)).layers.reduce((s, l) => s + l.fileBytes, 0)
  } finally {
    await built.close()
  }
  return { advice, image, mount, container, config: info.OCIv1.config, builtBytes }
}

/** Runs argv inside the built root as the image's USER, with /dev and /proc bound in and the image's Env. */
function runInside(b: Built, argv: string[]): Promise<{ status: number; out: string }> {
  for (const d of ['dev', 'proc']) mkdirSync(join(b.mount, d), { recursive: true })
  const script = 'mount --rbind /dev "$1/dev" && mount --rbind /proc "$1/proc" && r="$1" && u="$2" && shift 2 && exec chroot --userspec="$u" "$r" "$@"'
  const env = Object.fromEntries((b.config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
  return new Promise((resolve) => {
    const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', b.mount, b.config.User ?? '0:0', ...argv], { env: { ...env, PATH: env.PATH ?? '/usr/bin:/bin' } })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({ status: status ?? -1, out })
    })
  })
}

describe('generated Dockerfiles build with buildah and run', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const b = await slimAndBuild(c)
      const a = b.advice
      const plan = a.plan!
      expect(plan.base.name).toBe(c.base)
      expect(a.lint.map((l) => l.rule)).toEqual(c.root?.lint ?? [])
      // Pinned: the source by manifest digest, the base by the digest the registry gave.
      expect(a.dockerfile).toMatch(new RegExp(`^FROM ${reg.host}/src/${c.name}@sha256:[0-9a-f]{64} AS source$`, 'm'))
      expect(a.dockerfile).toMatch(new RegExp(`^FROM ${reg.host}/${SERVED_BASES[c.base].repo}:[\\w.]+@sha256:[0-9a-f]{64}$`, 'm'))

      // The built config is the hardened one: numeric non-root USER (unless root is needed), exec-form command.
      if (c.root) {
        expect(plan.user.note).toMatch(c.root.reason)
        expect(b.config.User).toBe('0:0')
      } else expect(b.config.User).toMatch(/^[1-9]\d*:\d+$/)
      expect(b.config.User).toBe(plan.user.spec)
      expect(b.config.Entrypoint ?? b.config.Cmd).toEqual(expect.arrayContaining([expect.stringMatching(/^\//)]))
      const argv = c.argv ?? [...(b.config.Entrypoint ?? []), ...(b.config.Cmd ?? [])]
      const r = await runInside(b, argv)
      expect(r.out).toMatch(c.expect)
      expect(r.status, r.out).toBe(0)

      // Smaller than the source, and the estimate within tolerance of what was built.
      const est = plan.estimate
      expect(est.todayBasis).toBe('layer files')
      expect(b.builtBytes).toBeLessThan(est.todayBytes)
      const allowed = Math.max(TOLERANCE.bytes, TOLERANCE.ratio * b.builtBytes)
      expect(Math.abs(est.totalBytes! - b.builtBytes), `estimate ${est.totalBytes} vs built ${b.builtBytes}`).toBeLessThanOrEqual(allowed)
      console.log(`${c.name}: ${c.base}, source ${est.todayBytes} B, estimate ${est.totalBytes} B, built ${b.builtBytes} B (${(((est.totalBytes! - b.builtBytes) / b.builtBytes) * 100).toFixed(2)}%)`)

      if (c.name === 'curl') {
        // COPY followed the symlink libcurl.so.4 -> libcurl.so.4.8.0: the soname holds the content, the versioned name is not copied.
        const libdir = join(b.mount, 'lib/x86_64-linux-gnu')
        expect(lstatSync(join(libdir, 'libcurl.so.4')).isFile()).toBe(true)
        expect(readdirSync(libdir).filter((n) => n.startsWith('libcurl.so'))).toEqual(['libcurl.so.4'])
      }
      if (c.name === 'nginx') {
        // Its own writable directories are copied; the version runs too.
        expect(statSync(join(b.mount, 'var/lib/nginx')).isDirectory()).toBe(true)
        expect(statSync(join(b.mount, 'var/log/nginx')).isDirectory()).toBe(true)
        expect((await runInside(b, ['/usr/sbin/nginx', '-v'])).out).toMatch(/^nginx version: nginx\//)
      }
      await buildah(['umount', b.container])
    }, 300_000)
  }
})
