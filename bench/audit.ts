/**
 * Audit benchmark (issue 13): 50 images that share a Debian 12 base layer (the debian-base test
 * fixture, ~240 MB uncompressed) plus one small layer of their own each, audited in ONE run
 * (`runAudit`, concurrency 2, one cache directory: blobs and the layer index cache) against analysing them one by one (the
 * pipeline per image, no cache: what a script calling `slim analyze` per image does, minus the
 * process start-up). Counts layer passes (every decompressed stream opened: the index pass and
 * inspection's re-reads) and prints times. Nothing is asserted: it prints numbers.
 *
 *   SLIM_SHARED=/work/shared npx tsx bench/audit.ts [N]
 */
import { createHash } from 'node:crypto'
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAudit } from '../src/audit/run.js'
import { openImage } from '../src/image/open.js'
import { analyzeImage } from '../src/pipeline/index.js'
import { ensureFixtures } from '../test/fixtures/index.js'

const N = Number(process.argv[2] ?? 50)
const BASE = 'debian-base'

type Json = Record<string, any>
const blobPath = (layout: string, digest: string) => join(layout, 'blobs', ...digest.split(':'))
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`

/** A one-file uncompressed tar (ustar), written by hand: 512-byte header, data, padding, end marker. */
function tinyTar(name: string, data: Buffer): Buffer {
  const h = Buffer.alloc(512)
  h.write(name, 0)
  h.write('0000644\0', 100)
  h.write('0000000\0', 108)
  h.write('0000000\0', 116)
  h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124)
  h.write('00000000000\0', 136)
  h.write('        ', 148)
  h.write('0', 156)
  h.write('ustar\u000000', 257)
  let sum = 0
  for (const b of h) sum += b
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512)
  return Buffer.concat([h, data, pad, Buffer.alloc(1024)])
}

async function makeImages(): Promise<{ layout: string; refs: string[] }> {
  const fx = await ensureFixtures(['debian'])
  const src = fx.layout
  const index = JSON.parse(readFileSync(join(src, 'index.json'), 'utf8')) as Json
  const desc = index.manifests.find((m: Json) => m.annotations?.['org.opencontainers.image.ref.name'] === BASE)
  const manifest = JSON.parse(readFileSync(blobPath(src, desc.digest), 'utf8')) as Json
  const config = JSON.parse(readFileSync(blobPath(src, manifest.config.digest), 'utf8')) as Json
  const layout = mkdtempSync(join(tmpdir(), 'slim-bench-audit-'))
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true })
  for (const l of manifest.layers) linkSync(blobPath(src, l.digest), blobPath(layout, l.digest))
  const put = (b: Buffer): string => {
    const d = sha(b)
    writeFileSync(blobPath(layout, d), b)
    return d
  }
  const manifests: Json[] = []
  const refs: string[] = []
  for (let i = 0; i < N; i++) {
    const layer = tinyTar(`app/id-${i}.txt`, Buffer.from(`image ${i}\n`))
    const layerDigest = put(layer)
    const cfg = structuredClone(config)
    cfg.rootfs.diff_ids = [...cfg.rootfs.diff_ids, layerDigest]
    cfg.history = [...(cfg.history ?? []), { created_by: `COPY id-${i}.txt /app/` }]
    const cfgBytes = Buffer.from(JSON.stringify(cfg))
    const m = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(cfgBytes), size: cfgBytes.length },
      layers: [...manifest.layers, { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
    }
    const mBytes = Buffer.from(JSON.stringify(m))
    manifests.push({ mediaType: m.mediaType, digest: put(mBytes), size: mBytes.length, annotations: { 'org.opencontainers.image.ref.name': `img-${i}` } })
    refs.push(`oci:${layout}:img-${i}`)
  }
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }))
  return { layout, refs }
}

/** Counts every decompressed layer stream opened, by wrapping the layer class's method once. */
async function countLayerPasses(ref: string): Promise<{ count: () => number; reset: () => void }> {
  const img = await openImage(ref)
  const proto = Object.getPrototypeOf(img.layers[0]) as { uncompressed: (...a: unknown[]) => Promise<unknown> }
  await img.close()
  let n = 0
  const original = proto.uncompressed
  proto.uncompressed = function (this: unknown, ...a: unknown[]) {
    n++
    return original.apply(this, a)
  }
  return { count: () => n, reset: () => (n = 0) }
}

const { layout, refs } = await makeImages()
const passes = await countLayerPasses(refs[0]!)
const distinctLayers = 1 + N // the shared base layer plus one own layer per image

passes.reset()
let t = performance.now()
for (const ref of refs) {
  const a = await analyzeImage(ref, { open: {} })
  await a.image.close()
}
const oneByOne = { seconds: (performance.now() - t) / 1000, passes: passes.count() }

passes.reset()
t = performance.now()
const cacheDir = join(layout, 'cache')
const result = await runAudit({ targets: refs.map((reference) => ({ reference })), analyze: { open: { cacheDir } }, rules: [], concurrency: 2 })
const audit = { seconds: (performance.now() - t) / 1000, passes: passes.count(), distinct: result.distinctLayers, errors: result.counts.error }

console.log(`${N} images sharing the ${BASE} layer; ${distinctLayers} distinct layers`)
console.log(`one by one: ${oneByOne.seconds.toFixed(1)} s, ${oneByOne.passes} layer passes`)
console.log(`audit:      ${audit.seconds.toFixed(1)} s, ${audit.passes} layer passes (${audit.distinct} distinct layers), ${audit.errors} errors`)
console.log(`ratio:      ${(audit.seconds / oneByOne.seconds).toFixed(2)}x the one-by-one time`)
rmSync(layout, { recursive: true, force: true })
