/**
 * analyzeImage behind the analysis result cache (result-cache.ts): for outputs made only of the
 * analysis' plain data (the JSON and text reports, --files, the Dockerfile). A hit opens the image
 * (its manifest and config: the key needs their digests) and reads one file; no layer is read, no
 * index built. Outputs that need the merged index itself (html, rules) call analyzeImage.
 */
import { readFileSync } from 'node:fs'
import type { Advice } from '../advise/types.js'
import { imageIdentity } from '../image/identity.js'
import { formatPlatform } from '../image/platform.js'
import type { Image } from '../image/types.js'
import type { Inspection } from '../inspect/types.js'
import type { ImageFacts, LayerMetrics, LayerSummary } from '../layers/index.js'
import type { Analysis, AnalyzeOptions } from './analyze.js'
import { openForAnalysis, prepareAnalysis, type AnalysisInputs } from './open.js'
import { analysisKey, ResultCache } from './result-cache.js'

/** The analysis as plain data: what the reports print (the layer report is made from the first five). */
export interface AnalysisResult {
  layers: LayerSummary[]
  sizeBytes: number
  warnings: string[]
  /** Undefined when AnalyzeOptions.layerFigures is false. */
  metrics?: LayerMetrics
  facts: ImageFacts
  inspection: Inspection
  advice: Advice
}

export interface CachedAnalysis {
  image: Image
  result: AnalysisResult
  /** Whether the result came from the cache (nothing was analysed). */
  hit: boolean
}

/**
 * Like analyzeImage, returning plain data, from the result cache when the same image was analysed
 * before by the same build of slim with the same options and inputs. The caller closes `image`.
 */
export async function analyzeCached(reference: string, options: AnalyzeOptions): Promise<CachedAnalysis> {
  const inputs = prepareAnalysis(options)
  const image = await openForAnalysis(reference, inputs, options)
  const log = options.open.log ?? (() => {})
  const build = options.open.cacheDir ? buildId() : undefined
  const cache = build ? new ResultCache(options.open.cacheDir!, log) : undefined
  let key: string | undefined
  try {
    key = cache ? analysisKey(keyInputs(image, inputs, options, build!)) : undefined
    const cached = key ? ((await cache!.read(key)) as AnalysisResult | undefined) : undefined
    if (cached) {
      log(`analysis cache: ${cache!.pathOf(key!)} reused; no layer read`)
      log(`layer passes (index + late reads, per layer): ${image.layers.map(() => 0).join(' ')}`)
      return { image, result: cached, hit: true }
    }
  } catch (e) {
    await image.close()
    throw e
  }
  // Loaded only now: a hit needs none of the layer, inspection and advice code (most of start-up).
  const { analyzeOpened } = await import('./analyze.js')
  const a = await analyzeOpened(image, inputs, options)
  const result = resultOf(a)
  // A late read that failed leaves a gap that a retry may not have: such a result is not kept.
  if (cache && key && a.index.lateReadFailures === 0) await cache.write(key, result)
  return { image, result, hit: false }
}

export function resultOf(a: Analysis): AnalysisResult {
  return {
    layers: [...a.index.layers],
    sizeBytes: a.index.sizeBytes,
    warnings: [...a.index.warnings],
    ...(a.metrics ? { metrics: a.metrics } : {}),
    facts: a.facts,
    inspection: a.inspection,
    advice: a.advice,
  }
}

/**
 * Everything a result depends on. The image by its digests (manifest, config, every layer: the
 * blobs are verified against them when read) and how it was named (the reference appears in the
 * advice); the build of slim (dist/build-id.json: a hash of the built code and data, the
 * index and ELF summary formats with them, so a rebuilt slim never reads an older build's results); the config file's content, the mirrors and every
 * option that reaches the analysis.
 */
function keyInputs(image: Image, inputs: AnalysisInputs, options: AnalyzeOptions, build: string): unknown {
  const advice = options.advice ?? {}
  return {
    build,
    image: {
      ...imageIdentity(image),
      platform: formatPlatform(image.platform, ''),
      layers: image.layers.map((l) => [l.digest, l.diffId ?? null, l.mediaType, l.size]),
      warnings: image.warnings,
    },
    config: inputs.config,
    mirrors: inputs.mirrors,
    registryMirrors: inputs.open.registryMirrors ?? null,
    platform: options.open.platform ?? null,
    entrypoint: advice.entrypoint ?? null,
    base: advice.base ?? null,
    user: advice.user ?? null,
    keep: advice.keep ?? null,
    maxExpandedBytes: options.maxExpandedBytes ?? null,
    top: options.top ?? null,
    layerFigures: options.layerFigures !== false,
  }
}

let cachedBuildId: string | null | undefined
/** The id `npm run build` writes (scripts/build-id.mjs); none when run from source: no result cache then. */
function buildId(): string | undefined {
  if (cachedBuildId === undefined) {
    try {
      const id = (JSON.parse(readFileSync(new URL('../build-id.json', import.meta.url), 'utf8')) as { id?: unknown }).id
      cachedBuildId = typeof id === 'string' && id ? id : null
    } catch {
      cachedBuildId = null
    }
  }
  return cachedBuildId ?? undefined
}
