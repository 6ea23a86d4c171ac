/**
 * One pass per layer (issue 11): the Debian rootfs split into 10 layers by path, entrypoint
 * python3, extension modules in many layers. The whole analysis (index, inspection, needs, advice)
 * reads each layer exactly once: ELF summaries, script heads and the small files inspection needs
 * are taken during the index pass. With the layer index cache warm it reads no layer at all, and
 * an image sharing all but its top layer reads only that one.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { analyzeImage } from '../src/pipeline/index.js'
import { runCli } from './helpers/cli.js'
import { ensureFixtures, type Fixtures } from './fixtures/index.js'

let fx: Fixtures
const cacheDir = mkdtempSync(join(tmpdir(), 'slim-one-pass-'))
beforeAll(async () => {
  fx = await ensureFixtures(['debian-split-python', ...Object.keys(CONFIG_CHAINS), 'legacy-java'])
}, 30 * 60_000)
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }))

async function run(ref: string, cache?: string) {
  const a = await analyzeImage(ref, { open: { cacheDir: cache } })
  try {
    return { passes: a.index.layerPasses, layersOfModules: modulesLayers(a), files: a.inspection.files, dockerfile: a.advice.dockerfile, needs: a.inspection.needs }
  } finally {
    await a.image.close()
  }
}

/**
 * Real Debian programs whose config is a chain of includes, and a line of `slim analyze --json`
 * that only a file deep in the chain gives (so the chain was really read). Apache's chain took 36
 * passes over its layer when each include was read by itself, MariaDB's 9, lighttpd's 4 (its
 * include_shell scripts). nginx, PostgreSQL and the rest are covered by the keep rules' unit test.
 */
const CONFIG_CHAINS: Record<string, string> = {
  'legacy-apache': '/etc/apache2/conf-enabled/security.conf:',
  'legacy-mariadb': '/etc/mysql/my.cnf:',
  'legacy-lighttpd': '/etc/lighttpd/conf-enabled/99-unconfigured.conf:',
}

/** `slim analyze --no-cache --debug --json` through the built CLI: the passes it made, per layer, and its JSON. */
async function analyzeCli(ref: string): Promise<{ passes: number[]; json: string }> {
  const r = await runCli(['analyze', ref, '--no-cache', '--debug', '--json'], { timeoutMs: 300_000 })
  expect(r.code, r.stderr).toBe(0)
  const line = /layer passes \(index \+ late reads, per layer\): ([\d ]+)$/m.exec(r.stderr)
  expect(line, r.stderr).not.toBeNull()
  return { passes: line![1]!.trim().split(' ').map(Number), json: r.stdout }
}

function modulesLayers(a: Awaited<ReturnType<typeof analyzeImage>>): Set<number> {
  const layers = new Set<number>()
  for (const e of a.index.entries()) if (e.path.startsWith('/usr/lib/python3.11/lib-dynload/') && e.type === 'file') layers.add(e.layer)
  return layers
}

describe('one pass per layer', () => {
  it('a split-rootfs Python image is read once per layer, cold; not at all, warm; only the new layer when the base is shared', async () => {
    const cold = await run(fx.refs['debian-split-python']!, cacheDir)
    expect(cold.passes.length).toBeGreaterThanOrEqual(10)
    expect(cold.layersOfModules.size).toBeGreaterThanOrEqual(10)
    expect(cold.passes).toEqual(cold.passes.map(() => 1))
    expect(cold.files).toContain('/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so')

    const warm = await run(fx.refs['debian-split-python']!, cacheDir)
    expect(warm.passes).toEqual(cold.passes.map(() => 0))
    expect(warm.files).toEqual(cold.files)
    expect(warm.dockerfile).toEqual(cold.dockerfile)
    expect(warm.needs).toEqual(cold.needs)

    const b = await run(fx.refs['debian-split-python-b']!, cacheDir)
    expect(b.passes).toEqual([...cold.passes.slice(0, -1).map(() => 0), 1])

    const uncached = await run(fx.refs['debian-split-python']!)
    expect(uncached.passes).toEqual(cold.passes)
    expect(uncached.dockerfile).toEqual(cold.dockerfile)
  }, 10 * 60_000)
})

describe('program configs and late reads', () => {
  it.each(Object.entries(CONFIG_CHAINS))('%s: its config\'s include chain is kept by the index pass: one pass per layer', async (name, deep) => {
    const { passes, json } = await analyzeCli(fx.refs[name]!)
    expect(json).toContain(deep)
    expect(passes).toEqual(passes.map(() => 1))
  }, 300_000)

  it('what is still read late takes at most one more pass per layer: a JRE\'s lib/modules with its release file, the app\'s classes', async () => {
    // The release file (read first, for the version) used to cost a pass of its own before lib/modules.
    const { passes, json } = await analyzeCli(fx.refs['legacy-java']!)
    expect(passes).toEqual([2, 2])
    expect(json).toContain('java.base')
  }, 300_000)
})
