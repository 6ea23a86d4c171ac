/**
 * The analysis result cache (src/pipeline/result-cache.ts): hit, miss, a corrupt or torn entry
 * (removed, then a miss), an entry of another format version or another key (stale: removed), and
 * two processes writing the same entry at once (both leave a whole file, no temp file behind).
 * The built CLI's use of it is in e2e-result-cache.test.ts.
 */
import { runTwoAtOnce } from './helpers/two-processes.js'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { analysisKey, encode, RESULT_FORMAT, ResultCache } from '../src/pipeline/result-cache.js'

const dir = mkdtempSync(join(tmpdir(), 'slim-result-cache-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const value = { layers: [{ index: 0, size: 12, warnings: [] }], inspection: { files: ['/bin/true', '/lib/ld\u00e9.so'] }, advice: { dockerfile: 'FROM scratch\n' } }

function logged(): { lines: string[]; log: (m: string) => void } {
  const lines: string[] = []
  return { lines, log: (m) => lines.push(m) }
}

describe('analysis result cache', () => {
  it('a miss is undefined; what is written reads back equal', async () => {
    const c = new ResultCache(join(dir, 'basic'))
    const key = analysisKey({ image: 'a' })
    expect(await c.read(key)).toBeUndefined()
    await c.write(key, value)
    expect(await c.read(key)).toEqual(value)
    expect(readdirSync(join(dir, 'basic', 'tmp'))).toEqual([])
  })

  it('the key is the digest of every input: any difference is another key', () => {
    const base = { build: 'b1', image: { manifestDigest: 'sha256:aa', layers: [['sha256:1', 'sha256:2', 'gzip', 3]] }, top: 10 }
    const key = analysisKey(base)
    expect(key).toMatch(/^[0-9a-f]{64}$/)
    expect(analysisKey(structuredClone(base))).toBe(key)
    expect(analysisKey({ ...base, build: 'b2' })).not.toBe(key)
    expect(analysisKey({ ...base, top: 11 })).not.toBe(key)
    expect(analysisKey({ ...base, image: { ...base.image, layers: [['sha256:1', 'sha256:3', 'gzip', 3]] } })).not.toBe(key)
  })

  it('a corrupt entry (a flipped byte) is removed and reported, then a miss; a rewrite hits again', async () => {
    const { lines, log } = logged()
    const c = new ResultCache(join(dir, 'corrupt'), log)
    const key = analysisKey({ image: 'corrupt' })
    await c.write(key, value)
    const path = c.pathOf(key)
    const bytes = readFileSync(path)
    bytes[bytes.length - 40] ^= 0x01
    writeFileSync(path, bytes)
    expect(await c.read(key)).toBeUndefined()
    expect(existsSync(path)).toBe(false)
    expect(lines.join('\n')).toMatch(/digest does not match/)
    await c.write(key, value)
    expect(await c.read(key)).toEqual(value)
  })

  it('a torn entry (cut short) and a file that is not an entry are removed', async () => {
    const { lines, log } = logged()
    const c = new ResultCache(join(dir, 'torn'), log)
    const key = analysisKey({ image: 'torn' })
    await c.write(key, value)
    const path = c.pathOf(key)
    writeFileSync(path, readFileSync(path).subarray(0, 50))
    expect(await c.read(key)).toBeUndefined()
    expect(existsSync(path)).toBe(false)
    writeFileSync(path, '{"not":"an entry"}')
    expect(await c.read(key)).toBeUndefined()
    expect(existsSync(path)).toBe(false)
    expect(lines).toHaveLength(2)
  })

  it('an entry of another format version is stale: removed, then a miss', async () => {
    const { lines, log } = logged()
    const c = new ResultCache(join(dir, 'format'), log)
    const key = analysisKey({ image: 'format' })
    await c.write(key, value)
    writeFileSync(c.pathOf(key), encode(key, value, RESULT_FORMAT + 1))
    expect(await c.read(key)).toBeUndefined()
    expect(existsSync(c.pathOf(key))).toBe(false)
    expect(lines.join('\n')).toMatch(/is stale/)
  })

  it('an entry holding another key (a file renamed into place) is stale', async () => {
    const c = new ResultCache(join(dir, 'other-key'))
    const a = analysisKey({ image: 'a' })
    const b = analysisKey({ image: 'b' })
    await c.write(a, value)
    writeFileSync(c.pathOf(b), readFileSync(c.pathOf(a)))
    expect(await c.read(b)).toBeUndefined()
    expect(existsSync(c.pathOf(b))).toBe(false)
    expect(await c.read(a)).toEqual(value)
  })

  it('a write that cannot be made is logged, not thrown', async () => {
    const { lines, log } = logged()
    const blocker = join(dir, 'blocker')
    writeFileSync(blocker, '')
    await new ResultCache(blocker, log).write(analysisKey({ image: 'x' }), value)
    expect(lines.join('\n')).toMatch(/could not write/)
  })

  it('two processes writing the same entry at once, many times, leave one whole entry and no temp file', async () => {
    const d = join(dir, 'race')
    const key = analysisKey({ image: 'race' })
    // Big enough that a write is several syscalls: an interleaving would show as a bad digest.
    const big = { files: Array.from({ length: 40_000 }, (_, i) => `/usr/lib/python3/dist-packages/module_${i}.py`) }
    writeFileSync(join(dir, 'big.json'), JSON.stringify(big))
    const body = `import { ResultCache } from ${JSON.stringify(new URL('../src/pipeline/result-cache.ts', import.meta.url).pathname)}
const [cacheDir, key, file] = args
const value = JSON.parse(readFileSync(file, 'utf8'))
const c = new ResultCache(cacheDir, (m) => { throw new Error(m) })
let whole = 0
for (let i = 0; i < 20; i++) {
  await c.write(key, value)
  const back = await c.read(key)
  if (back !== undefined && JSON.stringify(back) === JSON.stringify(value)) whole++
}
console.log(whole)
`
    const outs = await runTwoAtOnce(dir, body, [d, key, join(dir, 'big.json')])
    // Every read after a write found a whole entry (the other process may have replaced it: same bytes).
    expect(outs).toEqual(['20', '20'])
    expect(readdirSync(join(d, 'tmp'))).toEqual([])
    expect(await new ResultCache(d).read(key)).toEqual(big)
  }, 60_000)
})

