/**
 * Issue 8, "bombs, unbounded temp files, hangs": each hostile input is built in the test setup,
 * the built CLI runs on it, and the test asserts the clean outcome, a generous time bound and the
 * child's peak RSS (GNU time).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { childPidOf, HAVE_GNU_TIME, rawLayer, runMeasured, sha256, writeLayout, zstdZeroBomb, type MeasuredRun } from './helpers/hostile-layout.js'
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

/** Every file and directory under `dir`, relative. */
function listTree(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) out.push(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length + 1))
  return out.sort()
}

async function waitFor(check: () => boolean, ms = 60_000): Promise<void> {
  const until = Date.now() + ms
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached')
    await new Promise((r) => setTimeout(r, 50))
  }
}

function biggestFile(dir: string): number {
  let max = 0
  for (const rel of listTree(dir)) {
    const st = statSync(join(dir, rel), { throwIfNoEntry: false })
    if (st?.isFile()) max = Math.max(max, st.size)
  }
  return max
}

/** Runs the CLI and sends `signal` to it once `ready()` holds. */
async function interrupted(args: string[], env: Record<string, string>, ready: () => boolean, signal: NodeJS.Signals): Promise<MeasuredRun> {
  let sent: Promise<void> = Promise.resolve()
  const run = runMeasured(args, {
    env,
    timeoutMs: 120_000,
    onSpawn: (timePid) => {
      sent = (async () => {
        const pid = await childPidOf(timePid)
        await waitFor(ready)
        if (pid) process.kill(pid, signal)
      })()
    },
  })
  const r = await run
  await sent
  return r
}

/**
 * A docker-archive wrapped in gzip whose layer.tar entry claims 6 GiB of zeros: gzip members may be
 * concatenated, so one 64 MiB member of zeros repeated makes a 6 MB file that unwraps to 6 GiB.
 */
function gzipBombArchive(path: string): void {
  const zerosMember = gzipSync(Buffer.alloc(64 * MB), { level: 9 })
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256('x')] } }))
  const manifest = Buffer.from(JSON.stringify([{ Config: 'config.json', RepoTags: ['bomb:latest'], Layers: ['layer.tar'] }]))
  const head = Buffer.concat([makeTar([{ name: 'manifest.json', data: manifest }, { name: 'config.json', data: config }], { end: false }), tarHeader({ name: 'layer.tar' }, 96 * 64 * MB)])
  const parts = [gzipSync(head)]
  for (let i = 0; i < 96; i++) parts.push(zerosMember)
  parts.push(gzipSync(Buffer.alloc(1024)))
  writeFileSync(path, Buffer.concat(parts))
}

describe('item 8 and issue 12 item 8: temp files are bounded and removed on exit and signals', () => {
  it.skipIf(!HAVE_GNU_TIME)('a gzip-wrapped docker-archive bomb stops at --max-expanded-size and leaves no temp file', async () => {
    const archive = join(work, 'bomb.tar.gz')
    gzipBombArchive(archive)
    expect(statSync(archive).size).toBeLessThan(10 * MB)
    const tmp = join(work, 'tmp-gz')
    const cache = join(work, 'cache-gz')
    mkdirSync(tmp)
    for (const cacheArgs of [['--no-cache'], ['--cache-dir', cache]]) {
      const r = await runMeasured(['analyze', `docker-archive:${archive}`, '--max-expanded-size', '512MiB', ...cacheArgs], { env: { TMPDIR: tmp }, timeoutMs: 120_000 })
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/^slim: error: .*temp files would hold more than 537 MB.*--max-expanded-size/m)
      expect(r.peakRss).toBeLessThan(400 * MB)
      expect(r.ms).toBeLessThan(100_000)
      expect(listTree(tmp)).toEqual([])
    }
    expect(listTree(cache).filter((p) => p.startsWith('tmp/') && !p.endsWith('/'))).toEqual([])
  }, 240_000)

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s while unwrapping a gzip-wrapped archive: exit %i, no temp file left', async (signal, code) => {
    const archive = join(work, `bomb-${signal}.tar.gz`)
    gzipBombArchive(archive)
    const tmp = join(work, `tmp-${signal}`)
    mkdirSync(tmp)
    const r = await interrupted(['analyze', `docker-archive:${archive}`, '--no-cache'], { TMPDIR: tmp }, () => biggestFile(tmp) > 20 * MB, signal)
    expect(r.code).toBe(code)
    expect(listTree(tmp)).toEqual([])
  }, 180_000)

  describe('a Docker daemon whose export never ends', () => {
    let server: Server
    let socket: string
    let mode: 'fast' | 'slow' = 'fast'
    beforeAll(async () => {
      socket = join(work, 'docker.sock')
      server = createServer((req, res) => {
        if (!req.url?.includes('/images/')) return void res.writeHead(404).end('{"message":"no such thing"}')
        res.writeHead(200, { 'content-type': 'application/x-tar' })
        endless(res, mode)
      })
      await new Promise<void>((r) => server.listen(socket, r))
    })
    afterAll(async () => {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    })

    function endless(res: ServerResponse, how: 'fast' | 'slow'): void {
      const chunk = randomBytes(256 * 1024)
      let stopped = false
      res.on('close', () => (stopped = true))
      const pump = (): void => {
        if (stopped) return
        if (how === 'slow') {
          res.write(chunk)
          setTimeout(pump, 100)
        } else if (res.write(chunk)) setImmediate(pump)
        else res.once('drain', pump)
      }
      pump()
    }

    it.skipIf(!HAVE_GNU_TIME)('an export past the budget stops with a clear error and no temp file', async () => {
      mode = 'fast'
      const tmp = join(work, 'tmp-daemon')
      mkdirSync(tmp)
      const r = await runMeasured(['analyze', 'docker-daemon:busybox:latest', '--no-cache', '--max-expanded-size', '64MiB'], { env: { TMPDIR: tmp, DOCKER_HOST: `unix://${socket}` }, timeoutMs: 120_000 })
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/^slim: error: docker-daemon:busybox:latest: the image export: temp files would hold more than 67.1 MB/m)
      expect(r.peakRss).toBeLessThan(400 * MB)
      expect(listTree(tmp)).toEqual([])
    }, 150_000)

    it.each([
      ['SIGTERM', 143],
      ['SIGINT', 130],
    ] as const)('%s during a slow export: exit %i, no temp file left (cache dir or TMPDIR)', async (signal, code) => {
      mode = 'slow'
      const tmp = join(work, `tmp-daemon-${signal}`)
      const cache = join(work, `cache-daemon-${signal}`)
      mkdirSync(tmp)
      for (const cacheArgs of [['--no-cache'], ['--cache-dir', cache]]) {
        const where = cacheArgs[0] === '--no-cache' ? tmp : join(cache, 'tmp')
        const r = await interrupted(['analyze', 'docker-daemon:busybox:latest', ...cacheArgs], { TMPDIR: tmp, DOCKER_HOST: `unix://${socket}` }, () => { try { return biggestFile(where) > MB } catch { return false } }, signal)
        expect(r.code, r.stderr).toBe(code)
        expect(listTree(tmp)).toEqual([])
        if (cacheArgs[0] !== '--no-cache') expect(listTree(join(cache, 'tmp'))).toEqual([])
      }
    }, 180_000)
  })
})

describe('item 11: a registry that dribbles', () => {
  let server: Server
  let host: string
  const layer = makeTar([{ name: 'big', data: randomBytes(24 * MB) }])
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Entrypoint: ['/big'] }, rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }))
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
  }))
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = req.url ?? ''
      const stop = { now: false }
      res.on('close', () => (stop.now = true))
      // Writes `body` `size` bytes every `ms`.
      const dribble = (body: Buffer, size: number, ms: number, off = 0): void => {
        if (stop.now) return
        if (off >= body.length) return void res.end()
        res.write(body.subarray(off, off + size))
        setTimeout(() => dribble(body, size, ms, off + size), ms)
      }
      if (url === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      if (url.startsWith('/v2/img/manifests/')) {
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': String(manifest.length) })
        return url.endsWith('/slow') ? dribble(manifest, 1, 1000) : void res.end(manifest)
      }
      if (url === `/v2/img/blobs/${sha256(config)}`) return void res.writeHead(200, { 'content-length': String(config.length) }).end(config)
      if (url === `/v2/img/blobs/${sha256(layer)}`) {
        res.writeHead(200, { 'content-length': String(layer.length) })
        return dribble(layer, 256 * 1024, 100)
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"NOT_FOUND","message":"no"}]}')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  })

  it('a manifest sent at 1 byte/s stops at the overall deadline set by --registry-timeout', async () => {
    const r = await runMeasured(['analyze', `${host}/img:slow`, '--no-cache', '--registry-timeout', '2'], { timeoutMs: 90_000 })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^slim: error: .*did not finish answering within \d+ s .*--registry-timeout/m)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    // 2 s plus 1 s per MB of the 4 MiB manifest cap, once (a deadline is not retried): far below the bound.
    expect(r.ms).toBeLessThan(60_000)
  }, 100_000)

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s during a slow layer pull: exit %i and no cache/tmp/*.partial left', async (signal, code) => {
    const cache = join(work, `cache-registry-${signal}`)
    const ready = (): boolean => {
      try {
        return biggestFile(join(cache, 'tmp')) > MB
      } catch {
        return false
      }
    }
    const r = await interrupted(['analyze', `${host}/img:fast`, '--cache-dir', cache], {}, ready, signal)
    expect(r.code, r.stderr).toBe(code)
    expect(listTree(join(cache, 'tmp'))).toEqual([])
  }, 120_000)
})

describe('item 9: ld.so.conf stays linear', () => {
  it.skipIf(!HAVE_GNU_TIME)('100,000 directories, an include cycle and 300 files that include each other', async () => {
    const { readFileSync } = await import('node:fs')
    const dirs = Array.from({ length: 100_000 }, (_, i) => `/opt/lib${i}`).join('\n')
    const confs = Array.from({ length: 300 }, (_, i) => ({ name: `etc/ld.so.conf.d/f${i}.conf`, data: 'include *.conf\n/usr/local/lib\n' }))
    const tar = makeTar([
      { name: 'usr/bin/true', data: readFileSync('/usr/bin/true'), mode: 0o755 },
      { name: 'lib64/ld-linux-x86-64.so.2', data: readFileSync('/lib64/ld-linux-x86-64.so.2'), mode: 0o755 },
      { name: 'etc/ld.so.conf', data: `${dirs}\ninclude /etc/ld.so.conf.d/*.conf\ninclude /etc/ld.so.conf\n` },
      // Any cache file makes the glibc rules read ld.so.conf (the cache itself is never trusted).
      { name: 'etc/ld.so.cache', data: 'glibc-ld.so.cache1.1' },
      ...confs,
    ])
    const dir = join(work, 'ldsoconf')
    const { gzipLayer } = await import('./helpers/hostile-layout.js')
    await writeLayout(dir, 'latest', [gzipLayer(tar)], { Entrypoint: ['/usr/bin/true'] })
    const r = await runMeasured(['analyze', `oci:${dir}:latest`, '--no-cache', '--json'], { timeoutMs: 120_000 })
    expect(r.code, r.stderr).toBe(0)
    const text = r.stdout
    expect(text).toMatch(/include loop/)
    expect(text).toContain('/opt/lib99999')
    console.log(`ld.so.conf with 100,000 dirs: ${r.ms} ms, peak RSS ${Math.round(r.peakRss / MB)} MB`)
    expect(r.ms).toBeLessThan(60_000)
    expect(r.peakRss).toBeLessThan(400 * MB)
    // JSON keeps every searched directory; the text report shows a few and states the count.
    const searched: string[] = JSON.parse(text).inspection.closure.unresolved.find((u: { name: string }) => u.name === 'libc.so.6').searched
    expect(searched.length).toBeGreaterThanOrEqual(100_000)
    const t = await runMeasured(['analyze', `oci:${dir}:latest`, '--no-cache'], { timeoutMs: 120_000 })
    expect(t.code, t.stderr).toBe(0)
    const longest = Math.max(...t.stdout.split('\n').map((l) => l.length))
    console.log(`text report: longest line ${longest} characters`)
    expect(longest).toBeLessThan(1000)
    expect(t.stdout).toMatch(new RegExp(`libc\\.so\\.6 +NOT FOUND \\(needed by /usr/bin/true; searched ${searched.length} directories: /opt/lib0:/opt/lib1:.* … and ${searched.length - 10} more \\(see --json\\)\\)`))
    expect(t.stdout).toContain(`is not found in ${searched.length} searched directories`)
  }, 200_000)
})
