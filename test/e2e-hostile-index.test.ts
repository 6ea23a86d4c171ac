/**
 * Issue 8, "an index that lies" and hangs on local layouts: each hostile image is built here, the
 * built CLI runs on it, and the outcome is compared with what a runtime (umoci) makes of it.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gzipLayer, HAVE_GNU_TIME, runMeasured, writeLayout } from './helpers/hostile-layout.js'
import { makeTar } from './helpers/tar-layers.js'

const HAVE_UMOCI = spawnSync('umoci', ['--version']).status === 0
const MB = 1024 * 1024
let work: string

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'slim-hostile-index-'))
})
afterAll(() => rmSync(work, { recursive: true, force: true }))

function jsonOf(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout) as Record<string, unknown>
}

describe('item 4: an entry below a symlink of an earlier layer lands where runtimes put it', () => {
  const script1 = '#!/bin/old-interpreter\n'
  const script2 = '#!/bin/sh\necho the script the container really runs\n'

  async function twoLayerImage(dir: string): Promise<void> {
    const l1 = makeTar([
      { name: 'bin/', type: '5' },
      { name: 'bin/sh', data: '#!/bin/sh\n', mode: 0o755 },
      { name: 'app/', type: '5' },
      { name: 'app/hello', data: script1, mode: 0o755 },
      { name: 'x', type: '2', linkname: '/app' },
    ])
    const l2 = makeTar([{ name: 'x/hello', data: script2, mode: 0o755 }])
    await writeLayout(dir, 'latest', [gzipLayer(l1), gzipLayer(l2)], { Entrypoint: ['/app/hello'] })
  }

  it.skipIf(!HAVE_UMOCI)('slim sees the same /app/hello as `umoci unpack`', async () => {
    const dir = join(work, 'through-link')
    await twoLayerImage(dir)
    const bundle = join(work, 'bundle')
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${dir}:latest`, bundle], { stdio: 'pipe' })
    const runtime = readFileSync(join(bundle, 'rootfs/app/hello'), 'utf8')
    expect(runtime).toBe(script2)

    const r = await runMeasured(['analyze', `oci:${dir}:latest`, '--json', '--no-cache'], { timeoutMs: 60_000 })
    expect(r.code, r.stderr).toBe(0)
    const text = JSON.stringify(jsonOf(r.stdout))
    // The program slim inspects is the runtime's: its interpreter is /bin/sh and its size the new one.
    expect(text).not.toContain('old-interpreter')
    expect(text).toContain(String(script2.length))
    const files = await runMeasured(['analyze', `oci:${dir}:latest`, '--files', '--no-cache'], { timeoutMs: 60_000 })
    expect(files.stdout.split('\n')).toContain('/app/hello')
    expect(files.stdout.split('\n')).not.toContain('/x/hello')
  })
})

describe('item 5: a symlink loop is reported as a loop', () => {
  it('an entrypoint that is a loop, and one behind a chain of 41 links', async () => {
    const loop = makeTar([
      { name: 'app/', type: '5' },
      { name: 'app/a', type: '2', linkname: 'b' },
      { name: 'app/b', type: '2', linkname: 'a' },
      ...Array.from({ length: 41 }, (_, i) => ({ name: `app/c${i}`, type: '2', linkname: `c${i + 1}` })),
      { name: 'app/c41', data: '#!/bin/sh\n', mode: 0o755 },
    ])
    const dir = join(work, 'loop')
    await writeLayout(dir, 'latest', [gzipLayer(loop)], { Entrypoint: ['/app/a'] })
    for (const ep of ['/app/a', '/app/c0']) {
      const r = await runMeasured(['analyze', `oci:${dir}:latest`, '--entrypoint', ep, '--no-cache'], { timeoutMs: 60_000 })
      expect(`${r.stdout}${r.stderr}`).toMatch(new RegExp(`${ep} is a symlink loop`))
      expect(`${r.stdout}${r.stderr}`).not.toMatch(new RegExp(`${ep} does not exist`))
    }
  })
})

describe('item 10: an oci: layout whose blobs are not regular files does not hang', () => {
  async function layoutWith(name: string, replace: (blobPath: string) => void, which: 'config' | 'manifest' | 'layer'): Promise<string> {
    const dir = join(work, name)
    const layer = gzipLayer(makeTar([{ name: 'f', data: 'x' }]))
    const { configDigest, manifestDigest } = await writeLayout(dir, 'latest', [layer], { Entrypoint: ['/f'] })
    const { createHash } = await import('node:crypto')
    const layerDigest = `sha256:${createHash('sha256').update(layer.blob).digest('hex')}`
    const digest = which === 'config' ? configDigest : which === 'manifest' ? manifestDigest : layerDigest
    const path = join(dir, 'blobs/sha256', digest.slice(7))
    unlinkSync(path)
    replace(path)
    return dir
  }

  const cases: Array<[string, 'config' | 'manifest' | 'layer', (p: string) => void]> = [
    ['a FIFO config', 'config', (p) => execFileSync('mkfifo', [p])],
    ['a FIFO manifest', 'manifest', (p) => execFileSync('mkfifo', [p])],
    ['a FIFO layer', 'layer', (p) => execFileSync('mkfifo', [p])],
    ['a config symlinked to /dev/zero', 'config', (p) => symlinkSync('/dev/zero', p)],
    ['a layer symlinked out of the layout', 'layer', (p) => symlinkSync('/etc/hostname', p)],
    ['a directory as the manifest', 'manifest', (p) => mkdirSync(p)],
  ]
  it.each(cases)('%s: a one-line error naming the blob, quickly', async (name, which, replace) => {
    const dir = await layoutWith(name.replace(/\W+/g, '-'), replace, which)
    const r = await runMeasured(['analyze', `oci:${dir}:latest`, '--no-cache'], { timeoutMs: 60_000 })
    expect(r.signal).toBeNull()
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^slim: error: .*not a regular file/m)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.ms).toBeLessThan(30_000)
    if (HAVE_GNU_TIME) expect(r.peakRss).toBeLessThan(400 * MB)
  })
})

describe('item 6: a PAX size of -1', () => {
  it('is refused with a one-line error naming the entry, as Go-based runtimes refuse the layer', async () => {
    const dir = join(work, 'pax-size')
    await writeLayout(dir, 'latest', [gzipLayer(makeTar([{ name: 'app', pax: { size: '-1' }, data: '#!/bin/sh\n', mode: 0o755 }]))], { Entrypoint: ['/app'] })
    const r = await runMeasured(['analyze', `oci:${dir}:latest`, '--no-cache'], { timeoutMs: 60_000 })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^slim: error: .*"app" \(File\) has an invalid PAX size record \(size=-1\)/m)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    if (HAVE_GNU_TIME) expect(r.peakRss).toBeLessThan(400 * MB)
  })
})
