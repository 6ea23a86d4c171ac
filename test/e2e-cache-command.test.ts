/**
 * `slim cache info` and `slim cache prune` through the built CLI, on a cache that real runs of
 * `slim analyze` filled: the parts are counted, a prune by size keeps the entry used last, --all
 * empties the cache (and the next analyze works from nothing), and bad input is a one-line error.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from './helpers/cli.js'
import { CORPUS } from './helpers/shared.js'

const DIVE_TAR = `${CORPUS}/wagoodman__dive/.data/test-docker-image.tar`
const HELLO = 'oci-archive:fixtures/images/hello-static.oci.tar'

const dir = mkdtempSync(join(tmpdir(), 'slim-e2e-cache-command-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Summary {
  exists: boolean
  files: number
  bytes: number
  parts: { part: string; files: number; bytes: number }[]
}

async function info(cache: string): Promise<Summary> {
  const r = await runCli(['cache', 'info', '--cache-dir', cache, '--json'])
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as Summary
}

const part = (s: Summary, name: string) => s.parts.find((p) => p.part === name)!

describe.skipIf(!existsSync(DIVE_TAR))('slim cache (built CLI)', () => {
  const cache = join(dir, 'cache')

  it('counts what analyze wrote; prune --older-than keeps what was used since; --all empties it', async () => {
    expect(await info(cache)).toMatchObject({ exists: false, files: 0 })
    for (const image of [`docker-archive:${DIVE_TAR}`, HELLO]) {
      const r = await runCli(['analyze', image, '--json', '-q', '--cache-dir', cache], { timeoutMs: 300_000 })
      expect(r.code, r.stderr).toBe(0)
    }
    const filled = await info(cache)
    // dive's archive has 14 layers (one of them twice), hello-static 1: one index entry per distinct layer.
    expect(part(filled, 'layer-index').files).toBeGreaterThanOrEqual(2)
    expect(part(filled, 'analysis').files).toBe(2)
    expect(filled.bytes).toBe(filled.parts.reduce((n, p) => n + p.bytes, 0))

    const text = await runCli(['cache', 'info', '--cache-dir', cache])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(new RegExp(`^cache ${cache}\\n`))
    expect(text.stdout).toMatch(/^layer-index +\d+ +[\d.]+ [kM]?B$/m)

    // Everything written a month ago, then hello-static analysed again: its entries are the ones used last.
    const month = new Date(Date.now() - 30 * 86_400_000)
    for (const sub of ['layer-index/sha256', 'analysis']) for (const n of readdirSync(join(cache, sub))) utimesSync(join(cache, sub, n), month, month)
    const again = await runCli(['analyze', HELLO, '--json', '-q', '--cache-dir', cache])
    expect(again.code, again.stderr).toBe(0)
    const helloResult = readdirSync(join(cache, 'analysis')).find((n) => Date.now() - 86_400_000 < statSync(join(cache, 'analysis', n)).mtimeMs)
    expect(helloResult).toBeDefined()

    const dry = await runCli(['cache', 'prune', '--max-size', '1B', '--dry-run', '--cache-dir', cache])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toMatch(/^would remove \d+ files/)
    expect((await info(cache)).files).toBe(filled.files)

    const pruned = await runCli(['cache', 'prune', '--older-than', '7d', '--cache-dir', cache, '--json'])
    expect(pruned.code, pruned.stderr).toBe(0)
    expect(JSON.parse(pruned.stdout).removed.files).toBeGreaterThan(0)
    expect(readdirSync(join(cache, 'analysis'))).toEqual([helloResult])

    const all = await runCli(['cache', 'prune', '--all', '--cache-dir', cache])
    expect(all.code, all.stderr).toBe(0)
    expect(all.stdout).toMatch(/^removed \d+ files, .*\nleft 0 files, 0 B in /)
    expect((await info(cache)).files).toBe(0)
    const cold = await runCli(['analyze', HELLO, '--json', '-q', '--cache-dir', cache])
    expect(cold.code, cold.stderr).toBe(0)
    expect(cold.stdout).toBe(again.stdout)
  })

  it('bad input: one line naming the flag and the fix, exit 2, no stack', async () => {
    const file = join(dir, 'not-a-dir')
    writeFileSync(file, 'x')
    for (const [args, message] of [
      [['cache', 'prune', '--cache-dir', cache], /say what to prune: --older-than DURATION, --max-size SIZE or --all/],
      [['cache', 'prune', '--older-than', '3 years', '--cache-dir', cache], /--older-than 3 years is not a duration; use a number and s, m, h, d or w/],
      [['cache', 'prune', '--max-size', 'lots', '--cache-dir', cache], /--max-size lots is not a size/],
      [['cache', 'info', '--cache-dir', file], /is not a directory/],
    ] as const) {
      const r = await runCli([...args])
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(message)
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/)
    }
    expect(existsSync(file)).toBe(true)
  })
})
