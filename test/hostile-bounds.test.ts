/**
 * Issue 8, "bombs, unbounded temp files, hangs": each hostile input is built in the test setup,
 * the built CLI runs on it, and the test asserts the clean outcome, a generous time bound and the
 * child's peak RSS (GNU time).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HAVE_GNU_TIME, rawLayer, runMeasured, sha256, writeLayout, zstdZeroBomb } from './helpers/hostile-image.js'
import { makeTar, tarHeader } from './helpers/tar-layers.js'

const HAVE_ZSTD = spawnSync('zstd', ['--version']).status === 0
const MB = 1024 * 1024
let work: string

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'slim-hostile-bounds-'))
})
afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('item 7: zstd layers decode with bounded memory', () => {
  it.skipIf(!HAVE_GNU_TIME)('a 200 KB zstd layer of zeros stops at --max-expanded-size 1GiB with bounded RSS', async () => {
    const blocks = 50_000 // 6.1 GiB of zeros
    const head = tarHeader({ name: 'zeros' }, blocks * 128 * 1024)
    const blob = zstdZeroBomb(head, blocks)
    expect(blob.length).toBeLessThan(250_000)
    const dir = join(work, 'zstd-bomb')
    await writeLayout(dir, 'latest', [rawLayer(blob, sha256('not checked: the budget stops first'))], { Entrypoint: ['/zeros'] })
    const r = await runMeasured(['analyze', `oci:${dir}:latest`, '--max-expanded-size', '1GiB', '--no-cache'], { timeoutMs: 180_000 })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^slim: error: .*expands to more than 1\.07 GB.*--max-expanded-size/m)
    console.log(`zstd bomb: peak RSS ${Math.round(r.peakRss / MB)} MB, ${r.ms} ms`)
    expect(r.peakRss).toBeLessThan(400 * MB)
    expect(r.ms).toBeLessThan(150_000)
  }, 200_000)

  it.skipIf(!HAVE_ZSTD)('a zstd --long=30 layer is refused with the flag that allows it, and read with the flag', async () => {
    const tar = makeTar([{ name: 'hello', data: 'hello\n' }])
    const blob = execFileSync('zstd', ['--long=30', '-q', '-c'], { input: tar })
    expect(blob[5]).toBe((30 - 10) << 3) // the window descriptor asks for 1 GiB
    const dir = join(work, 'zstd-long')
    await writeLayout(dir, 'latest', [rawLayer(blob, sha256(tar))], { Entrypoint: ['/hello'] })
    const r = await runMeasured(['analyze', `oci:${dir}:latest`, '--no-cache'], { timeoutMs: 60_000 })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^slim: error: .*needs a 1\.07 GB window.*--max-zstd-window 1GiB/m)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    if (HAVE_GNU_TIME) expect(r.peakRss).toBeLessThan(400 * MB)
    const ok = await runMeasured(['analyze', `oci:${dir}:latest`, '--no-cache', '--max-zstd-window', '1GiB', '--json'], { timeoutMs: 60_000 })
    expect(ok.code, ok.stderr).toBe(0)
  })
})
