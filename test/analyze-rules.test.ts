import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it, afterAll } from 'vitest'
import { auditRecord } from '../src/audit/record.js'
import { loadRules } from '../src/audit/rules/config.js'
import { evaluateRules } from '../src/audit/rules/evaluate.js'
import { parseRule, parseRules } from '../src/audit/rules/parse.js'
import type { AuditImage } from '../src/audit/types.js'
import { analyzeImage } from '../src/pipeline/index.js'
import { ensureFixtures } from './fixtures/index.js'
import { REPO, runCli } from './helpers/cli.js'
import { tempDirs } from './helpers/temp-dirs.js'

const temps = tempDirs()
afterAll(temps.removeAll)

/**
 * The CI rules of `slim analyze --fail-on` (issue 12 item 7), on two real images: the bundled
 * hello-static (scratch, static, runs as 65534) and debian-waste (Debian 12 with files written and
 * deleted in later layers, root, shells, dpkg, setuid programs).
 */
const HELLO = `oci-archive:${join(REPO, 'fixtures/images/hello-static.oci.tar')}`
let WASTE: string
let hello: AuditImage
let waste: AuditImage

async function record(ref: string): Promise<AuditImage> {
  const a = await analyzeImage(ref, { open: {} })
  try {
    return await auditRecord(ref, a, [])
  } finally {
    await a.image.close()
  }
}

beforeAll(async () => {
  const fx = await ensureFixtures(['debian'])
  WASTE = fx.refs['debian-waste']!
  ;[hello, waste] = await Promise.all([record(HELLO), record(WASTE)])
}, 600_000)

const fails = (img: AuditImage, rule: string) => evaluateRules(img, [parseRule(rule)])

describe('rules, one by one: where each passes and where it fails', () => {
  it.each([
    // rule, fails on debian-waste with, passes on hello-static with
    ['efficiency', 'efficiency<0.99', 'efficiency<0.99', /^efficiency<0\.99: efficiency 0\.9807 \(limit >= 0\.99\); fix: delete or overwrite files in the same RUN/],
    ['wasted', 'wasted>5MB', 'wasted>20MB', /^wasted>5MB: wasted 9\.45 MB \(limit <= 5MB\); fix: /],
    ['user-wasted', 'user-wasted>10%', 'user-wasted', /^user-wasted>10%: user-wasted 141\.73% \(limit <= 10%\); fix: /],
    ['root', 'root', 'root', /^root: runs as root \(USER is not set\) \(limit a non-root user\); fix: add `USER 65532:65532`/],
    ['shell', 'shell', 'shell', /^shell: shell present \(\/bin\/sh, .*\) \(limit no shell\); fix: use a base without a shell/],
    ['package-manager', 'package-manager', 'package-manager', /^package-manager: package manager present \(dpkg, \d+ packages\) \(limit no package manager\); fix: install packages in a build stage/],
    ['setuid', 'setuid', 'setuid', /^setuid: \d+ setuid files \(limit none\); fix: remove the setuid bit/],
  ])('%s', (_name, failing, passing, message) => {
    const f = fails(waste, failing)
    expect(f).toHaveLength(1)
    expect(f[0]!.message).toMatch(message)
    expect(fails(hello, passing)).toEqual([])
  })

  it('savings', () => {
    expect(hello.estimatedSavingsRatio).toBeGreaterThan(0.5)
    expect(fails(hello, 'savings>50%')[0]!.message).toMatch(/^savings>50%: estimated savings \d+\.?\d*% \(.*\) \(limit <= 50%\); fix: rebuild on scratch with the Dockerfile `slim dockerfile IMAGE` writes$/)
    expect(fails(hello, 'savings>99%')).toEqual([])
  })

  it('dive defaults for a check without a threshold; canonical ids; bad rules are usage errors', () => {
    expect(parseRules('efficiency, wasted ,user-wasted,savings').map((r) => [r.id, r.threshold])).toEqual([
      ['efficiency<0.9', 0.9],
      ['wasted>20MB', 20e6],
      ['user-wasted>10%', 0.1],
      ['savings>50%', 0.5],
    ])
    expect(parseRule('user-wasted>0.2').threshold).toBe(0.2)
    expect(parseRule('wasted>1GiB').threshold).toBe(1024 ** 3)
    for (const bad of ['efficiency>0.9', 'root>1', 'wasted>lots', 'bloat', 'efficiency<1.5']) expect(() => parseRule(bad)).toThrow(/rule|unknown/)
  })

  it('.slim.yml in the working directory, --rules FILE, and --fail-on win in that order', async () => {
    const dir = temps.make('slim-rules-')
    expect((await loadRules({ cwd: dir })).rules).toEqual([])
    writeFileSync(join(dir, '.slim.yml'), 'fail-on:\n  - root\n  - wasted>1MB\n')
    expect((await loadRules({ cwd: dir })).rules.map((r) => r.id)).toEqual(['root', 'wasted>1MB'])
    writeFileSync(join(dir, 'other.yml'), 'fail-on: shell, setuid\n')
    expect((await loadRules({ cwd: dir, rulesFile: join(dir, 'other.yml') })).rules.map((r) => r.id)).toEqual(['shell', 'setuid'])
    expect((await loadRules({ cwd: dir, failOn: 'efficiency' })).rules.map((r) => r.id)).toEqual(['efficiency<0.9'])
    writeFileSync(join(dir, 'bad.yml'), 'fail-on: {a: 1}\n')
    await expect(loadRules({ rulesFile: join(dir, 'bad.yml') })).rejects.toThrow(/must be a list of rules/)
    writeFileSync(join(dir, 'typo.yml'), 'fail-on: [rot]\n')
    await expect(loadRules({ rulesFile: join(dir, 'typo.yml') })).rejects.toThrow(/typo\.yml: unknown rule "rot"/)
  })
})

describe('slim analyze --fail-on (built CLI)', () => {
  it('a failed rule exits 3 with one stderr line per failure; the report still goes to stdout', async () => {
    const r = await runCli(['analyze', HELLO, '--fail-on', 'savings>50%,root,shell', '--no-cache', '--json'])
    expect(r.code, r.stderr).toBe(3)
    expect(JSON.parse(r.stdout).schemaVersion).toMatch(/^1\./)
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^slim: rule failed: savings>50%: estimated savings .* \(limit <= 50%\); fix: rebuild on scratch/)
  })

  it('rules that pass exit 0; .slim.yml in the working directory and --rules FILE are read; a bad rule exits 2', async () => {
    const ok = await runCli(['analyze', HELLO, '--fail-on', 'root,shell,package-manager,setuid,efficiency,wasted,user-wasted', '--no-cache', '-q'])
    expect(ok.code, ok.stderr).toBe(0)
    const dir = temps.make('slim-rules-cli-')
    writeFileSync(join(dir, '.slim.yml'), 'fail-on:\n  - savings>10%\n')
    const fromProject = await runCli(['analyze', HELLO, '--no-cache', '-q'], { cwd: dir })
    expect(fromProject.code, fromProject.stderr).toBe(3)
    expect(fromProject.stderr).toMatch(/^slim: rule failed: savings>10%: /)
    writeFileSync(join(dir, 'ci.yml'), 'fail-on: [root]\n')
    const fromFile = await runCli(['analyze', HELLO, '--no-cache', '-q', '--rules', join(dir, 'ci.yml')], { cwd: dir })
    expect(fromFile.code, fromFile.stderr).toBe(0)
    const bad = await runCli(['analyze', HELLO, '--no-cache', '-q', '--fail-on', 'efficiency>0.5'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^slim: error: rule "efficiency>0\.5": efficiency is written efficiency<N\n$/)
  })
})
