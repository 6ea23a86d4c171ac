/**
 * `slim build` as a function: from an analysis (src/pipeline) to the slim image's blobs, config
 * and manifest, without Docker or buildah. The base's layers come through image access (mirrors,
 * credentials and --insecure-registry as for any image; every blob digest-verified on the way);
 * scratch has none. On top goes ONE new deterministic layer with exactly the plan's files, the
 * package metadata of those files, and the plan's merged accounts.
 */
import { readAhead } from './read-ahead.js'
import { createWriteStream } from 'node:fs'
import { mkdir, rename, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Plan } from '../advise/types.js'
import { SlimError } from '../core/errors.js'
import { openImage } from '../image/open.js'
import type { Descriptor, Image, ImageConfig, OpenOptions } from '../image/types.js'
import { buildIndex, packageIndex, type InstalledPackage, type LayerIndex } from '../layers/index.js'
import type { Analysis } from '../pipeline/analyze.js'
import { assemble, ociLayerType, type Assembled } from './assemble.js'
import { layerEntries, type LayerEntry } from './entries.js'
import { writeLayer } from './layer-writer.js'
import { accountFiles, keptPackages, scannerMetadata } from './metadata.js'
import { linkRuntime, type LinkedRuntime } from './jlink.js'
import { readFile } from 'node:fs/promises'
import { DEFAULT_MAX_TEMP_BYTES } from '../core/temp.js'

export interface BuildResult {
  assembled: Assembled
  plan: Plan
  /** Entries of the new layer, and the bytes of its files. */
  entries: LayerEntry[]
  fileBytes: number
  /** Packages whose files were copied (their metadata is in the image), and copied files no package owns. */
  packages: InstalledPackage[]
  unownedFiles: number
  /** Packages the base itself lists (for the SBOM). */
  basePackages: InstalledPackage[]
  baseReference?: string
  /** Bytes of every layer blob (compressed). */
  compressedBytes: number
}

/** Time of the build: SOURCE_DATE_EPOCH when set, else the source image's creation time, else 1970. */
export function buildTime(image: Image, env: NodeJS.ProcessEnv = process.env): Date {
  const epoch = env.SOURCE_DATE_EPOCH
  if (epoch && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000)
  const created = image.config.created ? new Date(image.config.created) : undefined
  return created && !Number.isNaN(created.getTime()) ? new Date(Math.floor(created.getTime() / 1000) * 1000) : new Date(0)
}

/** Copies a layer's stored blob into `blobs` (verified by the layer stream) and describes it. */
async function fetchBlob(image: Image, index: number, blobs: string): Promise<Descriptor> {
  const layer = image.layers[index]
  const hex = layer.digest.slice('sha256:'.length)
  const to = join(blobs, 'blobs', 'sha256', hex)
  const known = await stat(to).catch(() => undefined)
  if (!known) {
    const part = `${to}.part`
    await pipeline(await layer.compressed(), createWriteStream(part))
    await rename(part, to)
  }
  const size = layer.size >= 0 ? layer.size : (await stat(to)).size
  return { mediaType: ociLayerType(layer.mediaType), digest: layer.digest, size }
}

/** Builds the slim image of one analysed platform into `blobs` (a directory holding blobs/sha256/). */
export async function buildSlim(analysis: Analysis, open: OpenOptions, blobs: string): Promise<BuildResult> {
  const java = analysis.advice.plan?.java
  // A plan that links its Java runtime runs the image's own jlink in the sandbox first.
  const linked = java?.mode === 'jlink' ? await linkRuntime(analysis.image, java, open.maxTempBytes ?? DEFAULT_MAX_TEMP_BYTES) : undefined
  try {
    return await buildWith(analysis, open, blobs, linked)
  } finally {
    await linked?.remove()
  }
}

async function buildWith(analysis: Analysis, open: OpenOptions, blobs: string, linked: LinkedRuntime | undefined): Promise<BuildResult> {
  const { advice } = analysis
  const plan = advice.plan
  if (!plan || advice.verdict === 'keep' || advice.verdict === 'nothing-to-run') {
    throw new SlimError('unsupported', `${analysis.image.reference}: nothing to build: ${advice.summary}`)
  }
  await mkdir(join(blobs, 'blobs', 'sha256'), { recursive: true })

  let baseImage: Image | undefined
  let baseIndex: LayerIndex | undefined
  let baseConfig: ImageConfig | undefined
  const baseLayers: Descriptor[] = []
  try {
    if (plan.base.family !== 'scratch') {
      baseImage = await openImage(plan.base.ref, { ...open, platform: analysis.image.platform })
      baseIndex = await buildIndex(baseImage, { hashContent: false })
      baseConfig = baseImage.config
      for (let i = 0; i < baseImage.layers.length; i++) baseLayers.push(await fetchBlob(baseImage, i, blobs))
    }
    const source = analysis.index
    const pkgs = await packageIndex(source)
    const basePkgs = baseIndex ? await packageIndex(baseIndex) : undefined
    const input = { plan, source, base: baseIndex }
    const under = linked?.entries ?? []
    const kept = keptPackages(layerEntries(input, [], under), pkgs)
    const extra = [...(await scannerMetadata(kept.packages, baseIndex, basePkgs)), ...(await accountFiles(plan, baseIndex))]
    const entries = layerEntries(input, extra, under)

    const created = buildTime(analysis.image)
    const part = join(blobs, 'layer.tar.gz.part')
    const ahead = readAhead(entries, (paths) => source.readFiles(paths))
    const layer = await writeLayer(entries, part, created, (e) => (e.hostPath ? readFile(e.hostPath) : ahead(e)))
    await rename(part, join(blobs, 'blobs', 'sha256', layer.digest.slice('sha256:'.length)))

    const assembled = assemble({
      plan,
      platform: analysis.image.platform,
      baseConfig,
      baseDigest: baseImage?.manifestDigest,
      baseLayers,
      layer,
      created,
      sourceReference: analysis.image.reference,
    })
    return {
      assembled,
      plan,
      entries,
      fileBytes: entries.reduce((n, e) => n + (e.type === 'file' ? e.size : 0), 0),
      packages: kept.packages,
      unownedFiles: kept.unowned,
      basePackages: basePkgs?.packages ?? [],
      baseReference: baseImage ? plan.base.ref : undefined,
      compressedBytes: assembled.layers.reduce((n, l) => n + l.size, 0),
    }
  } finally {
    await baseImage?.close()
  }
}
