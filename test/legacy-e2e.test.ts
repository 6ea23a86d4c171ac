/**
 * Legacy apps end to end (issue 9): Debian 12 servers as their packages install them, and a C
 * program doing user and service lookups behind a wrapper, on a local registry; slim's Dockerfile
 * is built with buildah (overlay storage, chroot isolation) on the distroless-equivalent test bases, then each
 * program's OWN check runs as the image's USER in the original and in the slim image
 * (haproxy -c -f, nginx -t, redis-server reading its config, memcached -u, the lookup probe,
 * postgres and mariadbd starting on their Debian data):
 * exit code and output must be the same. Sizes before and after are printed.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
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
import { ensureBases, type TestBases } from './bases/build.js'
import { ensureFixtures, type Fixtures } from './fixtures/index.js'
import { LEGACY_IMAGES } from './fixtures/units/legacy.js'
import { LEGACY_APP_IMAGES } from './fixtures/units/legacy-apps.js'
import { LEGACY_DB_IMAGES } from './fixtures/units/legacy-db.js'
import { pushLayout, startRegistry, type RunningRegistry } from './infra/registry.js'
import { buildahIn, pushServedBases } from './helpers/base-registry.js'
import { runCli } from './helpers/cli.js'

const exec = promisify(execFile)

/** The bases these cases may use: the distroless ones (no alpine: no musl program here). */
const SERVED = ['distroless/static-debian12', 'distroless/base-nossl-debian12', 'distroless/base-debian12', 'distroless/cc-debian12']

/** The image and its check, from either fixture unit. */
const SPECS: Record<string, { check: string[]; slimCheck?: string[]; up?: number }> = { ...LEGACY_IMAGES, ...LEGACY_APP_IMAGES, ...LEGACY_DB_IMAGES }

interface Case {
  image: string
  /** The issue-9 item the case proves, and what the advice must say. */
  item: string
  advice(a: Advice): void
}

const CASES: Case[] = [
  {
    image: 'legacy-haproxy',
    item: '1: users named in the config are merged into the base passwd; chroot keeps root on the latest tag',
    advice(a) {
      expect(a.plan!.accounts!.users.map((u) => u.name)).toContain('haproxy')
      expect(a.plan!.user.spec).toBe('0:0')
      expect(a.plan!.user.note).toMatch(/haproxy's config says `user haproxy`.*chroot/)
      expect(a.plan!.base.tag).toBe('latest')
      expect(a.dockerfile).toMatch(/^COPY --from=accounts \/slim-accounts\/passwd \/slim-accounts\/group \/etc\/$/m)
    },
  },
  {
    image: 'legacy-redis',
    item: '2: /etc/redis (2770 redis:redis) and its state dirs keep their owner; the image user is kept and proven',
    advice(a) {
      expect(a.plan!.user.note).toMatch(/image's own USER redis .*checked: it can read and write/)
      expect(a.plan!.copies.find((c) => c.source === '/etc/redis')?.chown).toMatch(/^\d+:\d+$/)
      expect(a.plan!.copies.find((c) => c.source === '/etc/redis')?.chown).not.toBe('65532:65532')
    },
  },
  {
    image: 'legacy-nginx',
    item: '6: nginx that must be root runs on the latest tag, says why; libnss_db is not a gap',
    advice(a) {
      expect(a.plan!.user.spec).toBe('0:0')
      expect(a.plan!.base.tag).toBe('latest')
      expect(a.gaps.map((g) => g.message).join('\n')).not.toMatch(/libnss_db/)
    },
  },
  {
    image: 'legacy-memcached',
    item: '1: memcached -u memcache: the user is merged and root kept',
    advice(a) {
      expect(a.plan!.accounts!.users.map((u) => u.name)).toContain('memcache')
      expect(a.plan!.user.spec).toBe('0:0')
    },
  },
  {
    image: 'legacy-lookup',
    item: '3 and 5: /etc/services is a need that acts; the exec-only wrapper becomes the ENTRYPOINT, no shell copied',
    advice(a) {
      const services = a.plan!.copies.some((c) => c.source === '/etc/services')
      const base = builtinBases().find((b) => b.name === a.plan!.base.name)!
      expect(services || base.provides.files.includes('/etc/services')).toBe(true)
      expect(a.plan!.base.name).toMatch(/^distroless\//)
      expect(a.plan!.runtime.entrypoint).toEqual(['/usr/local/bin/lookup'])
      expect(a.plan!.runtime.env).toEqual(expect.arrayContaining([['LOOKUP_STARTED', '1'], ['APP_MODE', 'prod']]))
      expect(a.plan!.copies.map((c) => c.source)).not.toEqual(expect.arrayContaining([expect.stringMatching(/\/(sh|dash|mkdir)$|docker-entrypoint/)]))
    },
  },
  {
    image: 'legacy-lighttpd',
    item: '1: include_shell needs /bin/sh, perl, its modules and the files the scripts read: carried onto a shell-less base; www-data merged',
    advice(a) {
      const sources = a.plan!.copies.map((c) => c.source)
      expect(sources).toEqual(expect.arrayContaining(['/bin/sh', '/usr/bin/perl', '/usr/share/lighttpd/create-mime.conf.pl', '/etc/mime.types', '/usr/lib/x86_64-linux-gnu/perl-base']))
      expect(a.plan!.accounts!.users.map((u) => u.name)).toContain('www-data')
      expect(a.plan!.user.spec).toBe('0:0')
      expect(a.gaps.map((g) => g.message).join('\n')).toMatch(/include_shell .*carries what the command runs on but does not run it/)
    },
  },
  {
    image: 'legacy-apache',
    item: '1 and 3: the wrapper sources envvars (APACHE_* become ENV) and makes the run dirs (copied from an empty dir, no RUN)',
    advice(a) {
      const env = Object.fromEntries(a.plan!.runtime.env)
      expect(env).toMatchObject({ APACHE_RUN_USER: 'www-data', APACHE_RUN_DIR: '/var/run/apache2', APACHE_LOG_DIR: '/var/log/apache2' })
      expect(a.plan!.runtime.entrypoint).toEqual(['/usr/sbin/apache2', '-D', 'FOREGROUND'])
      expect(a.plan!.copies.find((c) => c.dest === '/var/run/apache2')?.type).toBe('dir')
      expect(a.plan!.accounts!.users.map((u) => u.name)).toContain('www-data')
      expect(a.dockerfile).not.toMatch(/^RUN .*mkdir -p \/run/m)
    },
  },
  {
    image: 'legacy-python',
    item: '4: a Debian 12 Python 3.11 app: the interpreter, stdlib and packages copied onto a distroless base (no Python 3.11 runtime image is supported)',
    advice(a) {
      expect(a.plan!.base.name).toMatch(/^distroless\/(base|base-nossl|cc)-debian12$/)
      expect(a.plan!.copies.map((c) => c.source)).toEqual(expect.arrayContaining(['/usr/bin/python3', '/usr/lib/python3.11', '/app']))
      expect(a.summary).toMatch(/copy the interpreter, its standard library and the app's packages onto gcr.io\/distroless\//)
    },
  },
  {
    image: 'legacy-java',
    item: '4: a Debian 12 JRE 17 app: the JRE relinked from its own lib/modules (java.base only) onto a distroless base, the launcher named by its real path (it finds JAVA_HOME from it)',
    advice(a) {
      expect(a.plan!.base.name).toMatch(/^distroless\/(base|base-nossl|cc)-debian12$/)
      expect(a.plan!.runtime.entrypoint![0]).toBe('/usr/lib/jvm/java-17-openjdk-amd64/bin/java')
      const sources = a.plan!.copies.map((c) => c.source)
      // The linked runtime replaces the home's lib/: neither the image of all modules nor the JVM is copied from it.
      expect(sources).not.toEqual(expect.arrayContaining([expect.stringMatching(/java-17-openjdk-amd64\/lib\/(modules|server)/)]))
      expect(a.plan!.java!.mode).toBe('jlink')
      expect(a.plan!.java!.jlink!.relink!.steps.length).toBe(2)
      expect(a.plan!.java!.jlink!.modules.map((m) => m.name)).toEqual(['java.base'])
    },
  },
  {
    image: 'legacy-postgres',
    item: '1 and 2: postgres runs as the image\'s USER postgres; its data dir (0700), config and socket dir keep their owner; the users are merged',
    advice(a) {
      // postgres is in ssl-cert (its TLS key's group): USER is the bare uid so the runtime keeps that group.
      expect(a.plan!.user).toMatchObject({ spec: '101', uid: 101, gid: 103, groups: [102] })
      expect(a.plan!.user.note).toMatch(/image's own USER postgres .*supplementary group ssl-cert/)
      expect(a.plan!.accounts!.groups.map((g) => g.name)).toContain('ssl-cert')
      const chown = (src: string) => a.plan!.copies.find((c) => c.source === src)?.chown
      expect([chown('/var/lib/postgresql'), chown('/etc/postgresql'), chown('/var/run/postgresql')]).toEqual(['101:103', '101:103', '101:103'])
      expect(a.plan!.accounts!.users.map((u) => u.name)).toContain('postgres')
      expect(a.plan!.copies.map((c) => c.source)).not.toEqual(expect.arrayContaining([expect.stringMatching(/mysql|mariadb/)]))
    },
  },
  {
    image: 'legacy-mariadb',
    item: '1 and 2: mariadbd runs as the image\'s USER mysql; /var/lib/mysql and /run/mysqld keep their owner; errmsg.sys comes along',
    advice(a) {
      expect(a.plan!.user.spec).toBe('100:101')
      const chown = (src: string) => a.plan!.copies.find((c) => c.source === src)?.chown
      expect([chown('/var/lib/mysql'), chown('/run/mysqld')]).toEqual(['100:101', '100:101'])
      expect(a.plan!.copies.map((c) => c.source)).toEqual(expect.arrayContaining([expect.stringMatching(/^\/usr\/share\/mysql/), expect.stringMatching(/^\/etc\/mysql/)]))
      expect(a.plan!.copies.map((c) => c.source)).not.toEqual(expect.arrayContaining([expect.stringMatching(/postgres/)]))
    },
  },
]

/** Checks adjusted for running here: tests share the host's network, so redis listens on a unix
 * socket in /tmp only (with no port and no socket it exits: "not listening anywhere"). */
const CHECKS: Record<string, { check?: string[]; slimFromConfig?: boolean }> = {
  // `java` on PATH in the original; the slim image names the launcher by its real path: each runs its own ENTRYPOINT.
  'legacy-java': { slimFromConfig: true },
  'legacy-redis': { check: [...SPECS['legacy-redis']!.check, '--unixsocket', '/tmp/redis-check.sock'] },
  // With ssl on (Debian's default): the snakeoil key is 0640 root:ssl-cert, readable by postgres
  // only through its supplementary group ssl-cert, which a USER with a group (101:103) would drop.
  'legacy-postgres': { check: SPECS['legacy-postgres']!.check.filter((a, i, all) => a !== 'ssl=off' && !(a === '-c' && all[i + 1] === 'ssl=off')) },
}

let work: string
let reg: RunningRegistry
let fx: Fixtures
let tb: TestBases
let catalogue: Base[]
let mirrors: Record<string, string>
let buildah: (args: string[], timeout?: number) => Promise<string>
/** The same catalogue as a config file, for the built CLI. */
let configFile: string

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'slim-legacy-e2e-'))
  buildah = buildahIn(work, 240_000)
  ;[fx, tb, reg] = await Promise.all([ensureFixtures(CASES.map((c) => c.image)), ensureBases(), startRegistry('plain')])
  mirrors = mergeMirrors({}, [`gcr.io=${reg.host}`, `docker.io=${reg.host}`])
  const overrides = await pushServedBases(reg, SERVED)
  const exclude = builtinBases().map((b) => b.name).filter((n) => !SERVED.includes(n))
  catalogue = resolveBases(parseConfig({ mirrors: {}, exclude, bases: overrides }, join(work, 'e2e-config.json')))
  configFile = join(work, 'slim-config.json')
  writeFileSync(configFile, JSON.stringify({ mirrors: { 'gcr.io': reg.host, 'docker.io': reg.host }, exclude, bases: overrides }))
  for (const c of CASES) await pushLayout(fx.layout, c.image, `src/${c.image}:1`, reg, { all: false })
}, 900_000)

// buildah's storage is inside `work` and `rm --all` unmounts every container: removing the
// directory then removes its images, so no `rmi --all` first (the two together outlasted the
// 300 s hook timeout on a loaded machine).
afterAll(async () => {
  await buildah(['rm', '--all']).catch(() => undefined)
  await reg?.stop()
  if (work) rmSync(work, { recursive: true, force: true })
}, 900_000)

interface Mounted {
  mount: string
  container: string
  user: string
  env: Record<string, string>
  command: string[]
}

async function mounted(image: string): Promise<Mounted> {
  const info = JSON.parse(await buildah(['inspect', '--type', 'image', image])) as { OCIv1: { config: { User?: string; Env?: string[]; Entrypoint?: string[]; Cmd?: string[] } } }
  const container = (await buildah(['from', '--pull-never', image])).trim()
  const mount = (await buildah(['mount', container])).trim()
  const cfg = info.OCIv1.config
  const env = Object.fromEntries((cfg.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
  return { mount, container, user: cfg.User || '0:0', env, command: [...(cfg.Entrypoint ?? []), ...(cfg.Cmd ?? [])] }
}

/**
 * A USER as the runtime applies it, resolved in the image's own files (chroot --userspec would
 * resolve names on the host): uid:gid, plus, when USER names no group, the supplementary groups
 * /etc/group lists the passwd entry's name in (runc and the OCI image spec do the same).
 */
function runtimeUser(root: string, spec: string): { userspec: string; groups: number[] } {
  const [u = '', g] = spec.split(':')
  const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8').split('\n').map((l) => l.split(':'))
  const entry = passwd.find((f) => (/^\d+$/.test(u) ? f[2] === u : f[0] === u))
  const uid = /^\d+$/.test(u) ? u : entry![2]!
  if (g !== undefined) return { userspec: `${uid}:${g}`, groups: [] }
  const gid = entry?.[3] ?? uid
  const groups = !entry
    ? []
    : readFileSync(join(root, 'etc/group'), 'utf8').split('\n').map((l) => l.split(':')).filter((f) => f[2] !== gid && (f[3] ?? '').split(',').includes(entry[0]!)).map((f) => Number(f[2]))
  return { userspec: `${uid}:${gid}`, groups }
}

/** argv in the root as `user`, /dev and /proc bound in; `up`: it must still run after that many seconds. */
function runInside(m: Mounted, user: { userspec: string; groups: number[] }, argv: string[], up?: number): Promise<{ status: number | 'up'; out: string }> {
  for (const d of ['dev', 'proc']) mkdirSync(join(m.mount, d), { recursive: true })
  // chroot --groups= (empty) sets no supplementary groups, as a USER with a group does.
  const script = 'mount --rbind /dev "$1/dev" && mount --rbind /proc "$1/proc" && r="$1" && u="$2" && g="$3" && shift 3 && exec chroot --userspec="$u" --groups="$g" "$r" "$@"'
  return new Promise((resolve) => {
    const child = spawn('unshare', ['-m', '-p', '--fork', '--kill-child', '--propagation', 'private', 'sh', '-c', script, 'sh', m.mount, user.userspec, user.groups.join(','), ...argv], { env: { ...m.env, PATH: m.env.PATH ?? '/usr/bin:/bin' } })
    let out = ''
    let killed = false
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    const timer = setTimeout(() => ((killed = true), child.kill('SIGKILL')), (up ?? 30) * 1000)
    child.on('exit', (status) => {
      clearTimeout(timer)
      resolve({ status: killed && up ? 'up' : (status ?? -1), out })
    })
  })
}

describe('legacy apps: slim Dockerfiles pass each program\'s own check as the image USER', () => {
  for (const c of CASES) {
    it(`${c.image} (item ${c.item})`, async () => {
      const src = `${reg.host}/src/${c.image}:1`
      const source = await openImage(`docker://${src}`, {})
      let advice: Advice
      try {
        const index = await buildIndex(source)
        const facts = await collectFacts(index)
        const inspection = await inspectImage(index, source.config)
        advice = advise({ inspection, image: sourceImageFrom(source, { layers: index.layers, os: facts.os }), catalogue, rootfs: index, options: { mirrors } })
      } finally {
        await source.close()
      }
      expect(advice.verdict, advice.summary).toBe('slim')
      c.advice(advice)
      expect(advice.confidenceWhy.length).toBeGreaterThan(0)

      const ctx = join(work, 'ctx', c.image)
      mkdirSync(ctx, { recursive: true })
      writeFileSync(join(ctx, 'Dockerfile'), advice.dockerfile!)
      const slim = `localhost/slim-legacy/${c.image}:1`
      await buildah(['bud', '-q', '--isolation', 'chroot', '--tls-verify=false', '-f', join(ctx, 'Dockerfile'), '-t', slim, ctx], 600_000)
      await buildah(['pull', '-q', '--tls-verify=false', `docker://${src}`])
      const [orig, built] = [await mounted(`docker://${src}`.replace('docker://', '')), await mounted(slim)]
      const spec = { ...SPECS[c.image]!, ...CHECKS[c.image] }
      const a = await runInside(orig, runtimeUser(orig.mount, orig.user), spec.check, spec.up)
      const slimCheck = 'slimFromConfig' in spec && spec.slimFromConfig ? built.command : (spec.slimCheck ?? spec.check)
      const b = await runInside(built, runtimeUser(built.mount, built.user), slimCheck, spec.up)
      const sizes = await Promise.all([orig.mount, built.mount].map(async (m) => Number((await exec('du', ['-sb', '--exclude=./proc', '--exclude=./dev', m])).stdout.split('\t')[0])))
      console.log(`${c.image}: ${advice.plan!.base.publicRef} USER ${built.user}; check ${spec.check.join(' ')}${slimCheck !== spec.check ? ` (slim: ${slimCheck.join(' ')})` : ''} -> original ${a.status}, slim ${b.status}; ${sizes[0]} B -> ${sizes[1]} B (${((1 - sizes[1]! / sizes[0]!) * 100).toFixed(1)}% smaller); confidence ${advice.confidence}`)
      expect(b.status, `slim: ${b.out}\noriginal: ${a.out}`).toBe(a.status)
      expect(b.out).toBe(a.out)
      expect(a.status === 0 || a.status === 'up', a.out).toBe(true)
      expect(statSync(join(built.mount, 'etc/passwd')).isFile()).toBe(true)
      for (const m of [orig, built]) await buildah(['umount', m.container])
    }, 900_000)
  }
})

describe('item 3 through the built CLI: a replaced wrapper\'s mkdir -p directories exist in the slim image', () => {
  it('legacy-lookup: /tmp/lookup is made by COPY (no RUN), owned by the runtime user', async () => {
    const src = `${reg.host}/src/legacy-lookup:1`
    const r = await runCli(['dockerfile', `docker://${src}`, '--config', configFile, '--no-cache', '-q'], { timeoutMs: 300_000 })
    expect(r.code, r.stderr).toBe(0)
    const copy = /^COPY --from=source --chown=(\d+:\d+) (\/\S+) \/tmp\/lookup$/m.exec(r.stdout)
    expect(copy, r.stdout).not.toBeNull()
    expect(r.stdout).not.toMatch(/^RUN .*\/tmp\/lookup/m)
    // The final stage's USER (the accounts stage has its own USER 0:0 before it).
    const user = [...r.stdout.matchAll(/^USER (\d+:\d+)$/gm)].pop()![1]
    expect(copy![1]).toBe(user)
    const ctx = join(work, 'ctx', 'cli-lookup')
    mkdirSync(ctx, { recursive: true })
    writeFileSync(join(ctx, 'Dockerfile'), r.stdout)
    const slim = 'localhost/slim-legacy/cli-lookup:1'
    await buildah(['bud', '-q', '--isolation', 'chroot', '--tls-verify=false', '-f', join(ctx, 'Dockerfile'), '-t', slim, ctx], 600_000)
    const m = await mounted(slim)
    const st = statSync(join(m.mount, 'tmp/lookup'))
    console.log(`cli legacy-lookup: /tmp/lookup from ${copy![2]}: dir ${st.isDirectory()}, owner ${st.uid}:${st.gid}, mode ${(st.mode & 0o7777).toString(8)}; USER ${user}`)
    expect(st.isDirectory()).toBe(true)
    expect(`${st.uid}:${st.gid}`).toBe(user)
    await buildah(['umount', m.container])
  }, 900_000)
})
