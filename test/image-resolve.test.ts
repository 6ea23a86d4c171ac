/**
 * resolveImage's integrity and selection rules, exercised through real OCI layouts and docker
 * archives written to disk by the test (and opened with the real oci: / docker-archive:
 * transports): corrupt, truncated and mismatched blobs, schema 1, foreign and encrypted layers,
 * attestation entries, nesting limits, and diff-ID verification of archive layers.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { SlimError } from '../src/core/errors.js'
import { openImage } from '../src/image/open.js'
import { parsePlatform } from '../src/image/platform.js'
import { MediaType, type Descriptor, type Image, type Platform } from '../src/image/types.js'
import { SHARED } from './helpers/shared.js'

const work = mkdtempSync(join(tmpdir(), 'slim-resolve-test-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`

const tars = new Map<string, Buffer>()

/** A real tar (GNU tar) holding `files` (memoised: spawning tar is slow on a busy machine). */
function makeTar(files: Record<string, string>): Buffer {
  const key = JSON.stringify(files)
  const known = tars.get(key)
  if (known) return known
  const tar = runTar(files)
  tars.set(key, tar)
  return tar
}

function runTar(files: Record<string, string>): Buffer {
  const dir = mkdtempSync(join(work, 'tar-'))
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), content)
  }
  return execFileSync('tar', ['-C', dir, '--sort=name', '--owner=0', '--group=0', '--mtime=@0', '-cf', '-', ...Object.keys(files)])
}

/** Writes OCI layout directories blob by blob, so a test can break exactly one thing. */
class Layout {
  readonly dir: string
  constructor(name: string) {
    this.dir = join(work, name)
    mkdirSync(join(this.dir, 'blobs', 'sha256'), { recursive: true })
    writeFileSync(join(this.dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  }

  blob(bytes: Buffer, mediaType: string, stored: Buffer = bytes): Descriptor {
    const digest = sha(bytes)
    writeFileSync(join(this.dir, 'blobs', 'sha256', digest.slice(7)), stored)
    return { mediaType, digest, size: bytes.length }
  }

  json(doc: unknown, mediaType: string): Descriptor {
    return this.blob(Buffer.from(JSON.stringify(doc)), mediaType)
  }

  /** A one-layer image; returns the manifest descriptor. */
  image(opts: { platform?: Platform; layer?: Buffer; layerType?: string; storedLayer?: Buffer; diffIds?: string[]; layerExtra?: Partial<Descriptor>; config?: Record<string, unknown> } = {}): { manifest: Descriptor; layer: Descriptor; tar: Buffer } {
    const tar = makeTar({ 'etc/hello.txt': 'hello\n' })
    const layerBytes = opts.layer ?? gzipSync(tar)
    const layer = { ...this.blob(layerBytes, opts.layerType ?? 'application/vnd.oci.image.layer.v1.tar+gzip', opts.storedLayer ?? layerBytes), ...opts.layerExtra }
    const platform = opts.platform ?? { os: 'linux', architecture: 'amd64' }
    const config = this.json(
      { architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}), config: { Cmd: ['/bin/true'] }, rootfs: { type: 'layers', diff_ids: opts.diffIds ?? [sha(tar)] }, ...opts.config },
      MediaType.ociConfig,
    )
    const manifest = this.json({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer] }, MediaType.ociManifest)
    return { manifest: { ...manifest, platform }, layer, tar }
  }

  index(manifests: Descriptor[], extra: Record<string, unknown> = {}): Descriptor {
    return this.json({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests, ...extra }, MediaType.ociIndex)
  }

  /** index.json naming `entries` (each with a ref name when given). */
  top(entries: [Descriptor, string?][]): string {
    writeFileSync(
      join(this.dir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: entries.map(([d, ref]) => ({ ...d, ...(ref ? { annotations: { 'org.opencontainers.image.ref.name': ref } } : {}) })),
      }),
    )
    return `oci:${this.dir}`
  }
}

async function failure(p: Promise<unknown>): Promise<SlimError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  if (!(e instanceof SlimError)) throw new Error(`expected a SlimError, got ${String(e)}`)
  expect(e.message).not.toContain('\n')
  return e
}

async function drain(img: Image, which: 'compressed' | 'uncompressed', i = 0): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of await img.layers[i][which]()) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

describe('resolveImage through oci: layouts', () => {
  it('opens a good image, and both layer streams verify', async () => {
    const l = new Layout('good')
    const { manifest, layer, tar } = l.image()
    const img = await openImage(l.top([[manifest, 'v1']]))
    expect(img.manifestDigest).toBe(manifest.digest)
    expect(img.configDigest).toMatch(/^sha256:/)
    expect(img.layers[0].digest).toBe(layer.digest)
    expect(img.layers[0].diffId).toBe(sha(tar))
    expect(img.layers[0].verifiedDigest).toBe(layer.digest) // what a read checks: the blob's digest
    expect(sha(await drain(img, 'compressed'))).toBe(layer.digest)
    expect((await drain(img, 'uncompressed')).equals(tar)).toBe(true)
    expect(img.tag).toBe('v1')
    await img.close()
    await img.close() // twice is fine
  })

  it('a corrupt layer (same size, one byte flipped) fails both streams with an integrity error', async () => {
    const l = new Layout('corrupt-layer')
    const good = gzipSync(makeTar({ 'a.txt': 'x'.repeat(5000) }))
    const bad = Buffer.from(good)
    bad[bad.length - 10] ^= 0xff
    const { manifest } = l.image({ layer: good, storedLayer: bad })
    const img = await openImage(l.top([[manifest]]))
    const c = await failure(drain(img, 'compressed'))
    expect(c.kind).toBe('integrity')
    expect(c.message).toMatch(/layer 0 \(sha256:[0-9a-f]{64}\): digest sha256:[0-9a-f]{64} does not match the expected/)
    const u = await failure(drain(img, 'uncompressed'))
    expect(u.kind).toBe('integrity')
    await img.close()
  })

  it('a truncated layer fails with a size error', async () => {
    const l = new Layout('truncated-layer')
    const good = gzipSync(makeTar({ 'a.txt': 'y'.repeat(5000) }))
    const { manifest } = l.image({ layer: good, storedLayer: good.subarray(0, good.length - 7) })
    const img = await openImage(l.top([[manifest]]))
    expect((await failure(drain(img, 'compressed'))).message).toMatch(/got \d+ bytes, expected \d+; the data is truncated/)
    await img.close()
  })

  it('a child manifest that does not match its index descriptor is refused at open', async () => {
    const l = new Layout('bad-child')
    const { manifest } = l.image()
    // Same digest claimed, different (one-space-longer) content stored under it.
    const path = join(l.dir, 'blobs', 'sha256', manifest.digest.slice(7))
    writeFileSync(path, Buffer.concat([Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: sha('x'), size: 1 }, layers: [] }))]))
    const idx = l.index([manifest])
    const err = await failure(openImage(l.top([[idx]])))
    expect(err.kind).toBe('integrity')
    expect(err.message).toMatch(/manifest sha256:[0-9a-f]{64}: (size|digest)/)
  })

  it('a child whose size differs from its descriptor is refused', async () => {
    const l = new Layout('bad-size')
    const { manifest } = l.image()
    const idx = l.index([{ ...manifest, size: manifest.size + 1 }])
    const err = await failure(openImage(l.top([[idx]])))
    expect(err.message).toMatch(/size \d+ does not match the expected \d+/)
  })

  it('a corrupt config is refused at open', async () => {
    const l = new Layout('bad-config')
    const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }))
    const config = l.blob(cfg, MediaType.ociConfig, Buffer.from(cfg.toString().replace('amd64', 'arm64')))
    const manifest = l.json({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [] }, MediaType.ociManifest)
    const err = await failure(openImage(l.top([[manifest]])))
    expect(err.kind).toBe('integrity')
    expect(err.message).toMatch(/config sha256:[0-9a-f]{64}: digest .* does not match/)
  })

  it('a config whose diff_ids count differs from the layers is a format error', async () => {
    const l = new Layout('diffid-count')
    const { manifest } = l.image({ diffIds: [sha('a'), sha('b')] })
    const err = await failure(openImage(l.top([[manifest]])))
    expect(err.kind).toBe('format')
    expect(err.message).toMatch(/config lists 2 layer diff IDs but the manifest has 1 layers/)
  })

  it('a schema 1 manifest gets the re-push advice', async () => {
    const l = new Layout('schema1')
    const m = l.json({ schemaVersion: 1, name: 'x/y', tag: 'latest', architecture: 'amd64', fsLayers: [], history: [] }, MediaType.dockerSchema1Signed)
    const err = await failure(openImage(l.top([[m]])))
    expect(err.kind).toBe('unsupported')
    expect(err.message).toMatch(/schema 1 manifests are deprecated; re-push the image with a current Docker or skopeo/)
  })

  it('a foreign layer that is absent opens with a warning and fails clearly when read', async () => {
    const l = new Layout('foreign')
    const { manifest } = l.image({ layerType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', layerExtra: { urls: ['https://mcr.example/layer.tgz'] } })
    const img = await openImage(l.top([[manifest]]))
    rmSync(join(l.dir, 'blobs', 'sha256', img.layers[0].digest.slice(7)))
    expect(img.warnings.join('\n')).toMatch(/layer 0 is a foreign \(non-distributable\) layer hosted at https:\/\/mcr\.example\/layer\.tgz/)
    const err = await failure(drain(img, 'compressed'))
    expect(err.kind).toBe('unsupported')
    expect(err.message).toMatch(/is a foreign \(non-distributable\) layer that .* does not contain \(its content lives at https:\/\/mcr\.example\/layer\.tgz\); slim does not download foreign layers/)
    await img.close()
  })

  it('a foreign layer that IS present reads normally', async () => {
    const l = new Layout('foreign-present')
    const { manifest, tar } = l.image({ layerType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip' })
    const img = await openImage(l.top([[manifest]]))
    expect((await drain(img, 'uncompressed')).equals(tar)).toBe(true)
    await img.close()
  })

  it('an encrypted layer opens with a warning; its uncompressed stream is refused', async () => {
    const l = new Layout('encrypted')
    const { manifest } = l.image({ layerType: 'application/vnd.oci.image.layer.v1.tar+gzip+encrypted' })
    const img = await openImage(l.top([[manifest]]))
    expect(img.warnings.join('\n')).toMatch(/layer 0 is encrypted/)
    expect((await drain(img, 'compressed')).length).toBeGreaterThan(0)
    const err = await failure(img.layers[0].uncompressed())
    expect(err.kind).toBe('unsupported')
    expect(err.message).toMatch(/is encrypted .*decrypt the image first/)
    await img.close()
  })

  it('an unknown layer media type is read by its magic bytes, with a warning', async () => {
    const l = new Layout('unknown-type')
    const { manifest, tar } = l.image({ layerType: 'application/vnd.oci.image.layer.v1.tar+unknown' })
    const img = await openImage(l.top([[manifest]]))
    expect(img.warnings.join('\n')).toMatch(/unexpected media type "application\/vnd\.oci\.image\.layer\.v1\.tar\+unknown"/)
    expect((await drain(img, 'uncompressed')).equals(tar)).toBe(true)
    await img.close()
  })

  it('a zstd layer whose media type says gzip is decompressed by its magic', async () => {
    const l = new Layout('lying-type')
    const tar = makeTar({ 'z.txt': 'zstd inside' })
    const zst = execFileSync('zstd', ['-q', '-c'], { input: tar })
    const { manifest } = l.image({ layer: zst, diffIds: [sha(tar)] })
    const img = await openImage(l.top([[manifest]]))
    expect((await drain(img, 'uncompressed')).equals(tar)).toBe(true)
    await img.close()
  })

  it('skips attestation entries, picks the host platform, and lists platforms when none matches', async () => {
    const l = new Layout('attest')
    const amd = l.image({ platform: { os: 'linux', architecture: 'amd64' } }).manifest
    const arm = l.image({ platform: { os: 'linux', architecture: 'arm', variant: 'v7' }, config: { author: 'arm' } }).manifest
    const att = { ...l.image({ platform: { os: 'unknown', architecture: 'unknown' }, config: { author: 'att' } }).manifest, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } }
    const ref = l.top([[l.index([att, arm, amd])]])
    const img = await openImage(ref, { platform: parsePlatform('linux/amd64') })
    expect(img.manifestDigest).toBe(amd.digest)
    expect(img.indexDigest).toMatch(/^sha256:/)
    await img.close()
    const armImg = await openImage(ref, { platform: parsePlatform('linux/arm') })
    expect(armImg.platform).toMatchObject({ architecture: 'arm', variant: 'v7' })
    await armImg.close()
    const err = await failure(openImage(ref, { platform: parsePlatform('linux/s390x') }))
    expect(err.kind).toBe('not-found')
    expect(err.message).toMatch(/has no image for linux\/s390x; it has: linux\/arm\/v7, linux\/amd64 \(choose one with --platform\)$/)
    const only = new Layout('attest-only')
    const a2 = { ...only.image({ platform: { os: 'unknown', architecture: 'unknown' } }).manifest }
    expect((await failure(openImage(only.top([[only.index([a2])]])))).message).toMatch(/lists no runnable images/)
  })

  it('warns when the index and the config disagree about the platform', async () => {
    const l = new Layout('disagree')
    const m = l.image({ platform: { os: 'linux', architecture: 'arm64' } }).manifest
    const img = await openImage(l.top([[l.index([{ ...m, platform: { os: 'linux', architecture: 'amd64' } }])]]), { platform: parsePlatform('linux/amd64') })
    expect(img.warnings.join('\n')).toMatch(/the index says linux\/amd64 but the image config says linux\/arm64/)
    await img.close()
  })

  it('refuses index chains nested deeper than the limit', async () => {
    const l = new Layout('deep')
    let d = l.image().manifest
    for (let i = 0; i < 6; i++) d = l.index([{ ...d, platform: undefined }])
    const err = await failure(openImage(l.top([[d]])))
    expect(err.message).toMatch(/image indexes nest more than 4 deep/)
  })

  it('refuses a manifest above the size limit without reading it all', async () => {
    const l = new Layout('huge')
    const big = l.blob(Buffer.alloc(5 * 1024 * 1024, 0x20), MediaType.ociManifest)
    const err = await failure(openImage(l.top([[big]])))
    expect(err.kind).toBe('limit')
  })
})

describe('docker-archive specifics', () => {
  /** One 512-byte ustar header (names under 100 bytes are all these tests need). */
  function ustarHeader(name: string, size: number, type: '0' | '2', linkname = ''): Buffer {
    const h = Buffer.alloc(512)
    h.write(name, 0, 100, 'utf8')
    h.write('0000644\0', 100)
    h.write('0000000\0', 108)
    h.write('0000000\0', 116)
    h.write(`${size.toString(8).padStart(11, '0')}\0`, 124)
    h.write('00000000000\0', 136)
    h.write('        ', 148)
    h.write(type, 156)
    h.write(linkname, 157, 100, 'utf8')
    h.write('ustar\0', 257)
    h.write('00', 263)
    let sum = 0
    for (const b of h) sum += b
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
    return h
  }

  /** A docker save tar from `entries` (name → content, or {link} for a symlink). */
  function writeArchive(name: string, entries: Record<string, Buffer | string | { link: string }>): string {
    const parts: Buffer[] = []
    for (const [n, v] of Object.entries(entries)) {
      if (typeof v === 'object' && !Buffer.isBuffer(v)) {
        parts.push(ustarHeader(n, 0, '2', v.link))
        continue
      }
      const data = Buffer.from(v)
      parts.push(ustarHeader(n, data.length, '0'), data, Buffer.alloc((512 - (data.length % 512)) % 512))
    }
    parts.push(Buffer.alloc(1024))
    const path = join(work, name)
    writeFileSync(path, Buffer.concat(parts))
    return path
  }

  const layerTar = makeTar({ 'bin/app': 'binary\n' })
  const config = (diffIds: string[]): string => JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/app'] }, rootfs: { type: 'layers', diff_ids: diffIds } })

  it('verifies archive layers against their diff IDs', async () => {
    const path = writeArchive('wrong-diffid.tar', {
      'manifest.json': JSON.stringify([{ Config: 'c.json', RepoTags: ['app:1'], Layers: ['l1/layer.tar'] }]),
      'c.json': config([sha('something else')]),
      'l1/layer.tar': layerTar,
    })
    const img = await openImage(`docker-archive:${path}`)
    expect(img.manifestDigest).toBeUndefined()
    expect(img.name).toBe('docker.io/library/app')
    expect(img.tag).toBe('1')
    const err = await failure(drain(img, 'uncompressed'))
    expect(err.kind).toBe('integrity')
    expect(err.message).toMatch(/uncompressed content \(diff ID sha256:[0-9a-f]{64}\): digest .* does not match/)
    await img.close()
  })

  it('verifies a gzip archive layer after decompression, and names it by its compressed digest', async () => {
    const gz = gzipSync(layerTar)
    const path = writeArchive('gz-layer.tar', {
      'manifest.json': JSON.stringify([{ Config: 'c.json', RepoTags: ['app:1'], Layers: ['blob.bin'] }]),
      'c.json': config([sha(layerTar)]),
      'blob.bin': gz,
    })
    const img = await openImage(`docker-archive:${path}:app:1`)
    expect(img.layers[0].digest).toBe(sha(gz)) // hashed at open: the name does not reveal it
    expect(img.layers[0].diffId).toBe(sha(layerTar))
    expect(img.layers[0].verifiedDigest).toBe(sha(layerTar)) // an archive's layers are checked by diff ID
    expect((await drain(img, 'uncompressed')).equals(layerTar)).toBe(true)
    expect(sha(await drain(img, 'compressed'))).toBe(sha(gz))
    await img.close()
  })

  it('reports a missing layer file at open, naming it', async () => {
    const path = writeArchive('missing-layer.tar', {
      'manifest.json': JSON.stringify([{ Config: 'c.json', RepoTags: ['app:1'], Layers: ['gone/layer.tar'] }]),
      'c.json': config([sha(layerTar)]),
    })
    const err = await failure(openImage(`docker-archive:${path}`))
    expect(err.kind).toBe('not-found')
    expect(err.message).toMatch(/layer 0 "gone\/layer.tar" is missing from the archive; the archive is incomplete/)
  })

  it('refuses layer paths and links that escape the archive, but follows legitimate ../ links', async () => {
    const escape = writeArchive('escape.tar', {
      'manifest.json': JSON.stringify([{ Config: 'c.json', RepoTags: ['app:1'], Layers: ['../../etc/passwd'] }]),
      'c.json': config([sha(layerTar)]),
    })
    expect((await failure(openImage(`docker-archive:${escape}`))).message).toMatch(/layer 0 path "..\/..\/etc\/passwd" points outside the archive/)
    const link = writeArchive('escape-link.tar', {
      'manifest.json': JSON.stringify([{ Config: 'c.json', RepoTags: ['app:1'], Layers: ['a/layer.tar'] }]),
      'c.json': config([sha(layerTar)]),
      'a/layer.tar': { link: '../../outside/layer.tar' },
    })
    expect((await failure(openImage(`docker-archive:${link}`))).message).toMatch(/links outside the archive/)
    const good = writeArchive('good-link.tar', {
      'manifest.json': JSON.stringify([{ Config: 'c.json', RepoTags: ['app:1'], Layers: ['b/layer.tar'] }]),
      'c.json': config([sha(layerTar)]),
      'a/layer.tar': layerTar,
      'b/layer.tar': { link: '../a/layer.tar' },
    })
    const img = await openImage(`docker-archive:${good}`)
    expect((await drain(img, 'uncompressed')).equals(layerTar)).toBe(true)
    await img.close()
  })

  it('names the fix for an OCI archive opened as docker-archive and vice versa', async () => {
    const oci = `${`${SHARED}/corpus`}/wagoodman__dive/.data/test-oci-gzip-image.tar`
    expect((await failure(openImage(`docker-archive:${oci}`))).message).toMatch(/is an OCI archive without a docker manifest\.json; open it as oci-archive:/)
    const legacy = `${SHARED}/corpus/google__go-containerregistry/pkg/v1/tarball/testdata/test_image_1.tar`
    expect((await failure(openImage(`oci-archive:${legacy}`))).message).toMatch(/is a docker save archive, not an OCI archive; open it as docker-archive:/)
    expect((await failure(openImage(`docker-archive:${work}`))).message).toMatch(/is a directory, not an archive file \(for an OCI layout directory use oci:/)
    expect((await failure(openImage(`docker-archive:${work}/nope.tar`))).kind).toBe('not-found')
    expect((await failure(openImage(`oci:${work}/nope`))).message).toMatch(/directory .*nope does not exist/)
    const notTar = join(work, 'plain.txt')
    writeFileSync(notTar, 'this is not a tar archive at all, just some text that is long enough '.repeat(20))
    expect((await failure(openImage(`docker-archive:${notTar}`))).message).toMatch(/is not a valid tar archive/)
  })

  it('unpacks a gzip-wrapped archive once into the system temp dir without a cache, and deletes it on close', async () => {
    const inner = writeArchive('to-wrap.tar', {
      'manifest.json': JSON.stringify([{ Config: 'c.json', RepoTags: ['app:1'], Layers: ['l/layer.tar'] }]),
      'c.json': config([sha(layerTar)]),
      'l/layer.tar': layerTar,
    })
    const wrapped = join(work, 'wrapped.tar.gz')
    writeFileSync(wrapped, gzipSync(execFileSync('cat', [inner])))
    const before = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('slim-')))
    const img = await openImage(`docker-archive:${wrapped}`)
    const during = readdirSync(tmpdir()).filter((n) => n.startsWith('slim-') && !before.has(n))
    expect(during).toHaveLength(1)
    expect((await drain(img, 'uncompressed')).equals(layerTar)).toBe(true)
    await img.close()
    expect(existsSync(join(tmpdir(), during[0]))).toBe(false)
    // With a cache dir the temp file lives in <cache>/tmp and is gone after close too.
    const cacheDir = join(work, 'cache')
    const img2 = await openImage(`docker-archive:${wrapped}`, { cacheDir })
    expect(readdirSync(join(cacheDir, 'tmp'))).toHaveLength(1)
    await img2.close()
    expect(readdirSync(join(cacheDir, 'tmp'))).toHaveLength(0)
  })
})
