import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { Ajv } from 'ajv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureFixtures } from './fixtures/index.js'
import { BIN, REPO, runCli } from './helpers/cli.js'
import { tempDirs } from './helpers/temp-dirs.js'
import { pushLayout, startRegistry, type RunningRegistry } from './infra/registry.js'

/**
 * `slim audit` as a user runs it (the built CLI) against real registries: a dozen small fixture
 * images over several repositories and tags, sharing base layers; a missing tag; a private
 * repository; a registry whose token server refuses the catalog scope.
 */
const auditSchema = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(join(REPO, 'schema/audit.schema.json'), 'utf8')))
// The SARIF 2.1.0 schema (draft-04) read by a draft-07 validator: only `id` is spelled differently.
const sarifRaw = readFileSync(join(REPO, 'test/schemas/sarif-2.1.0-rtm.5.json'), 'utf8').replace('"id": "https://raw', '"$id": "https://raw')
const sarifJson = JSON.parse(sarifRaw)
delete sarifJson.$schema
const sarifSchema = new Ajv({ allErrors: true, strict: false, validateFormats: false, unicodeRegExp: false }).compile(sarifJson)

let plain: RunningRegistry
let token: RunningRegistry
let home: string
const temps = tempDirs()

/** repository:tag -> fixture image. c-glibc and c-rpath share a layer; go-static, c-musl-static and c-glibc-static share one. */
const PUSHES: Record<string, string> = {
  'team/api:1.0.0': 'go-static',
  'team/api:1.1.0': 'c-musl-static',
  'team/api:1.2.0': 'c-glibc',
  'team/api:2.0.0': 'c-rpath',
  'team/web:1.0': 'c-glibc-static',
  'team/web:1.1': 'go-net',
  'team/web:latest': 'go-cgo',
  'tools/cli:v1': 'rust',
  'tools/cli:v2': 'cpp',
  'tools/cli:edge': 'c-dlopen',
  'base/libc:1': 'c-musl-dynamic',
  'base/libc:2': 'c-glibc',
}
const ALL = ['team/api', 'team/web', 'tools/cli', 'base/libc']

beforeAll(async () => {
  const fx = await ensureFixtures(['small'])
  ;[plain, token] = await Promise.all([startRegistry('plain'), startRegistry('token', { privateRepositories: ['private/'] })])
  for (const [dest, name] of Object.entries(PUSHES)) await pushLayout(fx.layout, name, dest, plain, { all: false })
  await pushLayout(fx.layout, 'go-multiarch', 'multi/app:1', plain)
  await pushLayout(fx.layout, 'go-static', 'public/app:1', token, { all: false })
  await pushLayout(fx.layout, 'go-static', 'private/secret:1', token, { all: false })
  home = temps.make('slim-audit-home-')
}, 240_000)

afterAll(async () => {
  await Promise.all([plain?.stop(), token?.stop()])
  temps.removeAll()
})

const env = () => ({ HOME: home, DOCKER_CONFIG: join(home, '.docker'), XDG_RUNTIME_DIR: join(home, 'run'), REGISTRY_AUTH_FILE: undefined })
const tmp = (p: string) => temps.make(`slim-audit-${p}-`)
const repos = () => ALL.map((r) => `${plain.host}/${r}`)
const audit = (args: string[], cache = tmp('cache')) => runCli(['audit', ...args, '--cache-dir', cache], { env: env(), timeoutMs: 300_000 })
const refsOf = (doc: { images: Array<{ reference: string }> }) => doc.images.map((i) => i.reference).sort()

function validJson(text: string) {
  const doc = JSON.parse(text)
  expect(auditSchema(doc), JSON.stringify(auditSchema.errors)).toBe(true)
  return doc
}

describe('slim audit (built CLI, real registry)', () => {
  let whole: { images: Array<{ reference: string } & Record<string, any>>; totals: Record<string, any> }
  let wholeText: string

  it('repositories without a tag mean their tags: 12 images, a missing tag recorded, shared layers read once, JSON valid', async () => {
    const r = await audit([...repos(), `${plain.host}/team/api:9.9`, '--format', 'json', '--concurrency', '3'])
    expect(r.code, r.stderr).toBe(0)
    wholeText = r.stdout
    whole = validJson(r.stdout)
    expect(whole.totals.images).toBe(13)
    expect(whole.totals.analyzed).toBe(12)
    expect(whole.totals.errors).toBe(1)
    const missing = whole.images.find((i) => i.reference.endsWith(':9.9'))!
    expect(missing.status).toBe('error')
    expect(missing.error.kind).toBe('not-found')
    const ok = whole.images.find((i) => i.reference === `${plain.host}/team/api:1.0.0`)!
    expect(ok.digest).toMatch(/^sha256:/)
    expect(ok.platform).toBe('linux/amd64')
    expect(ok.efficiency).toBe(1)
    expect(ok.runsAsRoot).toBe(false)
    // base/libc:2 and team/api:1.2.0 are the same image: analysed once.
    expect(r.stderr).toMatch(/11 analyzed, 0 from --state, 1 same digest/)
    // 24 layers in the 12 images (22 in the 11 analysed), 19 distinct: the layer index cache saves re-reads.
    const m = /(\d+) layer passes over (\d+) distinct layers/.exec(r.stderr)!
    expect(Number(m[2])).toBe(19)
    // sorted by savings, largest first
    const savings = whole.images.map((i) => i.estimatedSavingsBytes ?? -1)
    expect(savings).toEqual([...savings].sort((a, b) => b - a))
  })

  it('--tags: a semver range, latest:N and a glob', async () => {
    const range = validJson((await audit([`${plain.host}/team/api`, '--tags', '>=1.1 <2', '--format', 'json'])).stdout)
    expect(refsOf(range)).toEqual([`${plain.host}/team/api:1.1.0`, `${plain.host}/team/api:1.2.0`])
    const latest = validJson((await audit([`${plain.host}/team/api`, `${plain.host}/team/web`, '--tags', 'latest:1', '--format', 'json'])).stdout)
    expect(refsOf(latest)).toEqual([`${plain.host}/team/api:2.0.0`, `${plain.host}/team/web:1.1`])
    const glob = validJson((await audit([`${plain.host}/tools/cli`, '--tags', 'v*', '--format', 'json'])).stdout)
    expect(refsOf(glob)).toEqual([`${plain.host}/tools/cli:v1`, `${plain.host}/tools/cli:v2`])
  })

  it('--catalog walks the registry; a registry that refuses the catalog says so; a private repository is an error on its image', async () => {
    const cat = await audit(['--catalog', plain.host, '--tags', 'latest:1', '--format', 'json'])
    expect(cat.code, cat.stderr).toBe(0)
    expect(refsOf(validJson(cat.stdout))).toEqual([`${plain.host}/base/libc:2`, `${plain.host}/multi/app:1`, `${plain.host}/team/api:2.0.0`, `${plain.host}/team/web:1.1`, `${plain.host}/tools/cli:v2`])
    const refused = await audit(['--catalog', token.host])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/--catalog 127\.0\.0\.1:\d+: the registry does not let slim list its repositories .*name the repositories instead/)
    expect(refused.stderr.trim().split('\n')).toHaveLength(1)
    const mixed = await audit([`${token.host}/public/app:1`, `${token.host}/private/secret:1`, `${token.host}/private/secret`, '--format', 'json'])
    expect(mixed.code, mixed.stderr).toBe(0)
    const doc = validJson(mixed.stdout)
    expect(doc.totals).toMatchObject({ images: 3, analyzed: 1, errors: 2 })
    for (const i of doc.images.filter((x: any) => x.reference.includes('private'))) expect(i.error.kind).toBe('auth')
  })

  it('--shard K/N: pairwise disjoint, together the whole; merge equals the unsharded run', async () => {
    const cache = tmp('cache')
    const files: string[] = []
    const parts: string[][] = []
    for (const k of [1, 2, 3]) {
      const r = await audit([...repos(), `${plain.host}/team/api:9.9`, '--shard', `${k}/3`, '--format', 'json'], cache)
      expect(r.code, r.stderr).toBe(0)
      const doc = validJson(r.stdout)
      expect(doc.shard).toEqual({ index: k, count: 3 })
      parts.push(refsOf(doc))
      const f = join(tmp('shard'), `shard-${k}.json`)
      writeFileSync(f, r.stdout)
      files.push(f)
    }
    const union = parts.flat().sort()
    expect(new Set(union).size).toBe(union.length)
    expect(union).toEqual(refsOf(whole))
    expect(parts.filter((p) => p.length > 0).length).toBeGreaterThan(1)
    const merged = await runCli(['audit', 'merge', ...files, '--format', 'json'], { env: env() })
    expect(merged.code, merged.stderr).toBe(0)
    expect(validJson(merged.stdout)).toEqual(JSON.parse(wholeText))
    // The same merge as the registry dashboard: one page, one row per image, linking to its section.
    const page = await runCli(['audit', 'merge', ...files, '--format', 'html'], { env: env() })
    expect(page.code, page.stderr).toBe(0)
    expect(page.stdout).toMatch(/^<!doctype html>/i)
    const images = (JSON.parse(wholeText) as { images: unknown[] }).images
    const rowLinks = new Set([...page.stdout.matchAll(/<tr><td data-v="[^"]*"><a href="#([^"]+)">/g)].map((m) => m[1]))
    expect(rowLinks.size).toBe(images.length)
    for (const id of rowLinks) expect(page.stdout).toContain(`id="${id}"`)
    expect(page.stdout).toContain(`${plain.host}/team/api`)
    // auto/N reads JOB_COMPLETION_INDEX (0-based)
    const auto = await runCli(['audit', ...repos(), '--shard', 'auto/3', '--format', 'json', '--cache-dir', cache], { env: { ...env(), JOB_COMPLETION_INDEX: '1' } })
    expect(refsOf(JSON.parse(auto.stdout))).toEqual(parts[1]!.filter((r) => !r.endsWith(':9.9')))
    const bad = await runCli(['audit', ...repos(), '--shard', 'auto/3'], { env: { ...env(), JOB_COMPLETION_INDEX: undefined } })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/JOB_COMPLETION_INDEX is not set/)
  })

  it('--state: a run killed midway, re-run: nothing analysed twice; a third run analyses nothing', async () => {
    const state = tmp('state')
    const cache = tmp('cache')
    const args = ['audit', ...repos(), '--state', state, '--concurrency', '1', '--format', 'json', '--cache-dir', cache, '--debug']
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, CI: 'true', ...env() }, stdio: ['ignore', 'pipe', 'pipe'] })
    let firstErr = ''
    child.stderr.on('data', (d) => (firstErr += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    const saved = () => readdirSync(state).filter((f) => f.endsWith('.json'))
    // Kill as soon as the first result is saved (counted work, no timing).
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        if (saved().length > 0 || child.exitCode !== null) {
          clearInterval(tick)
          child.kill('SIGKILL')
          resolve()
        }
      }, 5)
    })
    await exited
    const before = new Set(saved())
    expect(before.size).toBeGreaterThan(0)
    expect(before.size).toBeLessThan(11)
    expect(readdirSync(state).filter((f) => f.endsWith('.tmp'))).toEqual([])
    const again = await runCli(args, { env: env(), timeoutMs: 300_000 })
    expect(again.code, again.stderr).toBe(0)
    const analyzed = [...again.stderr.matchAll(/audit: analyzing \S+ \((sha256:[0-9a-f]+)\)/g)].map((m) => `${m[1]!.replace(':', '-')}.json`)
    for (const f of analyzed) expect(before.has(f), `${f} analysed again`).toBe(false)
    expect(analyzed.length + before.size).toBe(11)
    expect(saved().length).toBe(11)
    const doc = validJson(again.stdout)
    const strip = (d: any) => d.images.map((i: any) => ({ ...i }))
    expect(strip(doc)).toEqual(strip(JSON.parse(wholeText)).filter((i: any) => !i.reference.endsWith(':9.9')))
    const third = await runCli(args, { env: env(), timeoutMs: 300_000 })
    expect(third.stderr).not.toMatch(/audit: analyzing/)
    expect(third.stderr).toMatch(/0 analyzed, 12 from --state, 0 same digest/)
  })

  it('rules: exit 3, one line per failure with figure, threshold and fix; SARIF valid against 2.1.0; markdown for a PR', async () => {
    const dir = tmp('out')
    const sarif = await audit([`${plain.host}/team/api`, '--fail-on', 'savings>0%,root', '--format', 'sarif', '-o', join(dir, 'a.sarif')])
    expect(sarif.code, sarif.stderr).toBe(3)
    const lines = sarif.stderr.split('\n').filter((l) => l.startsWith('slim: rule failed:'))
    expect(lines.length).toBeGreaterThan(0)
    for (const l of lines) expect(l).toMatch(/^slim: rule failed: 127\.0\.0\.1:\d+\/team\/api:[\d.]+: savings>0%: estimated savings [\d.]+% \(.*\) \(limit <= 0%\); fix: rebuild on /)
    const log = JSON.parse(readFileSync(join(dir, 'a.sarif'), 'utf8'))
    expect(sarifSchema(log), JSON.stringify(sarifSchema.errors?.slice(0, 3))).toBe(true)
    expect(log.version).toBe('2.1.0')
    expect(log.runs[0].tool.driver.rules.map((r: any) => r.id)).toEqual(['slim/savings', 'slim/root'])
    expect(log.runs[0].results).toHaveLength(lines.length)
    for (const res of log.runs[0].results) {
      expect(res.locations[0].physicalLocation.artifactLocation.uri).toMatch(/^docker:\/\/127\.0\.0\.1:\d+\/team\/api:/)
      expect(res.message.text).toMatch(/Fix: rebuild on /)
    }
    // No rules: every check at its default threshold, as warnings.
    const open = await audit([`${plain.host}/tools/cli`, '--format', 'sarif'])
    expect(open.code, open.stderr).toBe(0)
    const openLog = JSON.parse(open.stdout)
    expect(sarifSchema(openLog)).toBe(true)
    expect(openLog.runs[0].tool.driver.rules).toHaveLength(8)

    const md = await audit([`${plain.host}/team/api`, '--fail-on', 'savings>0%', '--format', 'markdown'])
    expect(md.code).toBe(3)
    expect(md.stdout).toMatch(/^### slim audit: ❌ \d+ of 4 images fail the rules/)
    expect(md.stdout).toContain('| Image | Platform | Size |')
    expect(md.stdout).toContain('#### Failed rules')
    const table = await audit([`${plain.host}/team/api`, '--fail-on', 'root'])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/^IMAGE\s+PLATFORM\s+SIZE/)
    expect(table.stdout).toMatch(/Totals: 4 images, 4 audited, 0 errors/)
  })

  it('--all-platforms audits every platform of an index; by default the host platform only', async () => {
    const all = validJson((await audit([`${plain.host}/multi/app:1`, '--all-platforms', '--format', 'json'])).stdout)
    expect(all.images.map((i: any) => `${i.reference} ${i.platform} ${i.status}`).sort()).toEqual([`${plain.host}/multi/app:1 linux/amd64 ok`, `${plain.host}/multi/app:1 linux/arm64 ok`])
    expect(new Set(all.images.map((i: any) => i.digest)).size).toBe(2)
    const one = validJson((await audit([`${plain.host}/multi/app:1`, '--platform', 'linux/arm64', '--format', 'json'])).stdout)
    expect(one.images.map((i: any) => i.platform)).toEqual(['linux/arm64'])
  })

  it("the config file's mirrors (and only they) serve docker.io names: tags listed and images read through the mirror, records keep the asked name", async () => {
    const dir = tmp('mirror-config')
    const config = join(dir, 'config.json')
    writeFileSync(config, JSON.stringify({ mirrors: { 'docker.io': plain.host } }))
    const asked = ['docker.io/team/api', 'tools/cli:v1']
    const viaFlag = validJson((await audit([...asked, '--config', config, '--format', 'json'])).stdout)
    const want = ['docker.io/team/api:1.0.0', 'docker.io/team/api:1.1.0', 'docker.io/team/api:1.2.0', 'docker.io/team/api:2.0.0', 'docker.io/tools/cli:v1']
    expect(refsOf(viaFlag)).toEqual(want)
    expect(viaFlag.images.map((i: any) => `${i.reference} ${i.status}`)).toEqual(want.map((r) => `${r} ok`))
    // The same images as under the registry's own names.
    const direct = validJson((await audit([`${plain.host}/team/api`, `${plain.host}/tools/cli:v1`, '--format', 'json'])).stdout)
    const digests = (doc: { images: Array<{ reference: string; digest: string }> }) => doc.images.map((i) => `${i.reference.replace(/^[^/]+\//, '')} ${i.digest}`).sort()
    expect(digests(viaFlag)).toEqual(digests(direct))
    // --all-platforms reads the index where the image is served.
    const all = validJson((await audit(['docker.io/multi/app:1', '--all-platforms', '--config', config, '--format', 'json'])).stdout)
    expect(all.images.map((i: any) => `${i.reference} ${i.platform} ${i.status}`).sort()).toEqual(['docker.io/multi/app:1 linux/amd64 ok', 'docker.io/multi/app:1 linux/arm64 ok'])
    // The default config file (under $XDG_CONFIG_HOME) is read the same way.
    mkdirSync(join(dir, 'xdg', 'slim'), { recursive: true })
    writeFileSync(join(dir, 'xdg', 'slim', 'config.json'), JSON.stringify({ mirrors: { 'docker.io': plain.host } }))
    const viaDefault = await runCli(['audit', 'tools/cli:v1', '--format', 'json', '--cache-dir', tmp('cache')], { env: { ...env(), XDG_CONFIG_HOME: join(dir, 'xdg') }, timeoutMs: 300_000 })
    expect(viaDefault.code, viaDefault.stderr).toBe(0)
    expect(validJson(viaDefault.stdout).images.map((i: any) => `${i.reference} ${i.status}`)).toEqual(['docker.io/tools/cli:v1 ok'])
  })

  it('usage errors exit 2 with one line', async () => {
    for (const args of [['--fail-on', 'efficiency>0.9', `${plain.host}/team/api`], ['--shard', '4/3', `${plain.host}/team/api`], ['--tags', '>=abc', `${plain.host}/team/api`]]) {
      const r = await audit(args)
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    }
    const none = await audit([])
    expect(none.code).toBe(2)
    expect(existsSync(join(REPO, 'nonexistent'))).toBe(false)
  })
})
