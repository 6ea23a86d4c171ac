/**
 * The analysis result cache through the built CLI: a second `slim analyze` (or `slim dockerfile`)
 * of the same image with the same options reads no layer (its --debug line says so, and the
 * layer passes are all 0) and prints byte for byte what the first did and what --no-cache prints;
 * another option or config file is another result; a damaged entry is reported, ignored and
 * rewritten; --no-cache writes none.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from './helpers/cli.js'
import { CORPUS } from './helpers/shared.js'

const DIVE_TAR = `${CORPUS}/wagoodman__dive/.data/test-docker-image.tar`
const DIVE = `docker-archive:${DIVE_TAR}`
const HELLO = 'oci-archive:fixtures/images/hello-static.oci.tar'

const dir = mkdtempSync(join(tmpdir(), 'slim-e2e-result-cache-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const REUSED = /analysis cache: .* reused; no layer read/

function passes(stderr: string): number[] {
  const m = /layer passes \(index \+ late reads, per layer\): ([\d ]+)$/m.exec(stderr)
  expect(m, stderr).not.toBeNull()
  return m![1]!.trim().split(' ').map(Number)
}

async function analyze(args: string[]) {
  const r = await runCli(['analyze', ...args, '--debug', '-q'], { timeoutMs: 300_000 })
  expect(r.code, r.stderr).toBe(0)
  return r
}

describe.skipIf(!existsSync(DIVE_TAR))('analysis result cache (built CLI)', () => {
  const cache = join(dir, 'cache')

  it('a warm analyze reads no layer and prints what the cold run and --no-cache print (json, text, files)', async () => {
    for (const format of [['--json'], [], ['--files']]) {
      const cache = join(dir, `formats${format.join('')}`)
      const cold = await analyze([DIVE, ...format, '--cache-dir', cache])
      expect(cold.stderr).not.toMatch(REUSED)
      expect(passes(cold.stderr).some((n) => n > 0)).toBe(true)
      const warm = await analyze([DIVE, ...format, '--cache-dir', cache])
      expect(warm.stderr).toMatch(REUSED)
      expect(passes(warm.stderr)).toEqual(new Array(14).fill(0))
      expect(warm.stdout).toBe(cold.stdout)
      const none = await analyze([DIVE, ...format, '--no-cache'])
      expect(none.stderr).not.toMatch(REUSED)
      expect(none.stdout).toBe(cold.stdout)
    }
  })

  it('the text report is made from the result --json stored; another option or config file is another result', async () => {
    const base = await analyze([DIVE, '--json', '--cache-dir', cache])
    expect(base.stderr).not.toMatch(REUSED)
    expect((await analyze([DIVE, '--cache-dir', cache])).stderr).toMatch(REUSED)
    const top = await analyze([DIVE, '--json', '--cache-dir', cache, '--top', '30'])
    expect(top.stderr).not.toMatch(REUSED)
    const entry = await analyze([DIVE, '--json', '--cache-dir', cache, '--entrypoint', '/bin/busybox'])
    expect(entry.stderr).not.toMatch(REUSED)
    // A config whose mirror changes nothing printed still changes the key: its content is an input.
    const config = join(dir, 'config.json')
    writeFileSync(config, JSON.stringify({ mirrors: { 'registry.invalid': 'mirror.invalid' } }))
    const configured = await analyze([DIVE, '--json', '--cache-dir', cache, '--config', config])
    expect(configured.stderr).not.toMatch(REUSED)
    expect(configured.stdout).toBe(base.stdout)
    expect((await analyze([DIVE, '--json', '--cache-dir', cache, '--config', config])).stderr).toMatch(REUSED)
    writeFileSync(config, JSON.stringify({ mirrors: { 'registry.invalid': 'other-mirror.invalid' } }))
    expect((await analyze([DIVE, '--json', '--cache-dir', cache, '--config', config])).stderr).not.toMatch(REUSED)
  })

  it('a damaged entry is reported with --debug, the image analysed again, the entry rewritten', async () => {
    const c = join(dir, 'damaged')
    const cold = await analyze([HELLO, '--json', '--cache-dir', c])
    const entries = readdirSync(join(c, 'analysis'))
    expect(entries).toHaveLength(1)
    const path = join(c, 'analysis', entries[0]!)
    const bytes = readFileSync(path)
    bytes[Math.floor(bytes.length / 2)] ^= 0x20
    writeFileSync(path, bytes)
    const again = await analyze([HELLO, '--json', '--cache-dir', c])
    expect(again.stderr).toMatch(/analysis cache: .* is unreadable \(its digest does not match its content\); analysing again/)
    expect(again.stderr).not.toMatch(REUSED)
    expect(again.stdout).toBe(cold.stdout)
    const warm = await analyze([HELLO, '--json', '--cache-dir', c])
    expect(warm.stderr).toMatch(REUSED)
    expect(warm.stdout).toBe(cold.stdout)
  })

  it('slim dockerfile reuses its own result; --no-cache writes no result', async () => {
    const c = join(dir, 'dockerfile')
    const run = (extra: string[]) => runCli(['dockerfile', DIVE, '--debug', '-q', '--harden', ...extra], { timeoutMs: 300_000 })
    const cold = await run(['--cache-dir', c])
    const warm = await run(['--cache-dir', c])
    expect(warm.code).toBe(cold.code)
    expect(warm.stderr).toMatch(REUSED)
    expect(warm.stdout).toBe(cold.stdout)
    const none = join(dir, 'none')
    const r = await runCli(['analyze', HELLO, '--json', '--no-cache', '--cache-dir', none])
    expect(r.code, r.stderr).toBe(0)
    expect(existsSync(join(none, 'analysis'))).toBe(false)
  })
})
