/**
 * The blob cache wired into resolveImage for registry images, against a real registry (Debian's
 * docker-registry) loaded with corpus images by skopeo: blobs land in <cache>/blobs/sha256 only
 * after verification, a second open is served from the cache, and a cached blob corrupted on disk
 * is caught, removed and fetched afresh on the next run.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SlimError } from '../src/core/errors.js'
import { BlobCache } from '../src/image/cache.js'
import { openImage } from '../src/image/open.js'
import { parsePlatform } from '../src/image/platform.js'
import type { Image } from '../src/image/types.js'
import { startRegistry, type RunningRegistry } from './infra/registry.js'
import { SHARED } from './helpers/shared.js'

const run = promisify(execFile)
const BUSYBOX = `${SHARED}/corpus/buildpacks__imgutil/layout/testdata/layout/busybox`
const MULTI = `${SHARED}/corpus/regclient__regclient/testdata/testrepo`

let reg: RunningRegistry
const work = mkdtempSync(join(tmpdir(), 'slim-registry-cache-'))
const cacheDir = join(work, 'cache')

beforeAll(async () => {
  reg = await startRegistry('plain')
  await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${BUSYBOX}`, `docker://${reg.host}/corpus/busybox:1`], { timeout: 60_000 })
  await run('skopeo', ['copy', '-q', '--all', '--dest-tls-verify=false', `oci:${MULTI}:b1`, `docker://${reg.host}/corpus/multi:b1`], { timeout: 60_000 })
}, 120_000)

afterAll(async () => {
  await reg?.stop()
  rmSync(work, { recursive: true, force: true })
})

async function readLayers(img: Image): Promise<number> {
  let n = 0
  for (const l of img.layers) for await (const c of await l.uncompressed()) n += (c as Buffer).length
  return n
}

describe('registry images through the blob cache', () => {
  it('caches config and layers only once verified, then serves them from the cache', async () => {
    const ref = `docker://${reg.host}/corpus/busybox:1`
    const img = await openImage(ref, { cacheDir })
    const cache = new BlobCache(cacheDir)
    expect(img.config.config?.Cmd).toEqual(['sh'])
    expect(existsSync(cache.blobPath(img.configDigest))).toBe(true)
    const layer = img.layers[0]
    expect(existsSync(cache.blobPath(layer.digest))).toBe(false) // nothing read yet: nothing cached
    const bytes = await readLayers(img)
    expect(bytes).toBeGreaterThan(1_000_000)
    expect(readFileSync(cache.blobPath(layer.digest)).length).toBe(layer.size)
    expect(readdirSync(join(cacheDir, 'tmp'))).toEqual([])
    await img.close()

    const logs: string[] = []
    const again = await openImage(ref, { cacheDir, log: (m) => logs.push(m) })
    expect(await readLayers(again)).toBe(bytes)
    expect(logs.filter((m) => m.startsWith('cache: hit')).length).toBe(2) // config + layer
    await again.close()
  })

  it('catches a cached blob corrupted on disk, removes it, and fetches it afresh next time', async () => {
    const ref = `docker://${reg.host}/corpus/busybox:1`
    const cache = new BlobCache(cacheDir)
    const first = await openImage(ref, { cacheDir })
    await readLayers(first)
    await first.close()
    const path = cache.blobPath(first.layers[0].digest)
    const bad = readFileSync(path)
    bad[bad.length >> 1] ^= 0x20
    writeFileSync(path, bad)

    const second = await openImage(ref, { cacheDir })
    const err = await readLayers(second).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SlimError)
    expect((err as SlimError).kind).toBe('integrity')
    expect((err as SlimError).message).toMatch(/cached copy .* now removed; run again/)
    await second.close()
    await new Promise((r) => setTimeout(r, 50))
    expect(existsSync(path)).toBe(false)

    const third = await openImage(ref, { cacheDir })
    expect(await readLayers(third)).toBeGreaterThan(1_000_000)
    expect(existsSync(path)).toBe(true)
    await third.close()
  })

  it('picks the platform from a registry index and caches only that platform\'s blobs', async () => {
    const ref = `docker://${reg.host}/corpus/multi:b1`
    const img = await openImage(ref, { cacheDir, platform: parsePlatform('linux/arm/v6') })
    expect(img.platform).toMatchObject({ os: 'linux', architecture: 'arm', variant: 'v6' })
    expect(img.indexDigest).toMatch(/^sha256:/)
    expect(img.manifestDigest).not.toBe(img.indexDigest)
    await readLayers(img)
    await img.close()
    const err = await openImage(ref, { cacheDir, platform: parsePlatform('linux/mips64le') }).catch((e: unknown) => e)
    expect((err as SlimError).message).toMatch(/has no image for linux\/mips64le; it has: linux\/amd64, linux\/arm64, linux\/arm\/v7, linux\/arm\/v6/)
  })

  it('reads registry images without a cache dir', async () => {
    const img = await openImage(`docker://${reg.host}/corpus/busybox:1`, {})
    expect(await readLayers(img)).toBeGreaterThan(1_000_000)
    await img.close()
  })
})
