/**
 * The analysis pipeline as one sentence: open the image, index its layers, inspect its program,
 * advise. Every command (analyze, dockerfile, build, verify, audit) calls this one function with
 * typed options saying what to compute; nothing here knows about flags, oclif or terminals.
 */
import { advise } from '../advise/advise.js'
import type { Mirrors } from '../advise/config.js'
import { sourceImageFrom } from '../advise/source.js'
import type { Advice } from '../advise/types.js'
import type { Base } from '../advise/catalogue/types.js'
import type { Image, OpenOptions } from '../image/types.js'
import { openForAnalysis, prepareAnalysis, type AnalysisInputs } from './open.js'
import { ELF_SUMMARY_VERSION, summarizeElfForIndex } from '../inspect/elf-reader.js'
import { inspectionCaptureHint } from '../inspect/entrypoint/capture-hint.js'
import { inspectImage } from '../inspect/inspect.js'
import type { Inspection } from '../inspect/types.js'
import { buildIndex, collectFacts, computeMetrics, type ImageFacts, type LayerIndex, type LayerMetrics } from '../layers/index.js'

/** Called with each layer's bytes read so far; `total` is set once the layer is done. */
export type LayerProgress = (layer: number, bytesDone: number, bytesTotal: number | undefined) => void

/**
 * Lets a caller watch the layer read (a progress display, say): it runs `read` and returns its
 * result unchanged. The default runs `read` with no progress callback.
 */
export type LayerReadObserver = <T>(image: Image, read: (onProgress?: LayerProgress) => Promise<T>) => Promise<T>

export interface AdviceOptions {
  /** Inspect this program (exec form) instead of the image's ENTRYPOINT/CMD. */
  entrypoint?: string[]
  /** Force this final base (catalogue name). */
  base?: string
  /** Run the slim image as this user: uid[:gid] or a name. */
  user?: string
  /** Extra paths to copy from the source image. */
  keep?: string[]
  /** REGISTRY=MIRROR pairs added to the config file's mirrors. */
  mirrors?: string[]
  /** slim config file (extra bases, overrides, mirrors); default $XDG_CONFIG_HOME/slim/config.json. */
  configPath?: string
}

export interface AnalyzeOptions {
  /** How to open the image (platform, cache, registry credentials). */
  open: OpenOptions
  advice?: AdviceOptions
  /** Decompression-bomb guard for the layer read (default in src/layers). */
  maxExpandedBytes?: number
  /** Length of the "largest" lists the metrics keep (at least 20 are kept). */
  top?: number
  observe?: LayerReadObserver
  /**
   * Layer figures (duplicate files, waste): they need every file hashed and the metrics computed.
   * Default true; false for outputs that do not print them (--files, the Dockerfile).
   */
  layerFigures?: boolean
}

export interface Analysis {
  image: Image
  index: LayerIndex
  /** Undefined when AnalyzeOptions.layerFigures is false. */
  metrics?: LayerMetrics
  facts: ImageFacts
  inspection: Inspection
  advice: Advice
  /** The bases advice chose from and the mirrors it applied, for stages that fetch the base. */
  catalogue: Base[]
  mirrors: Mirrors
}

/**
 * Runs the pipeline on one image: a reference, or an image the caller already opened (an audit
 * opens it first to read its digest). The caller closes `analysis.image`.
 */
export async function analyzeImage(reference: string | Image, options: AnalyzeOptions): Promise<Analysis> {
  const inputs = prepareAnalysis(options)
  const image = typeof reference === 'string' ? await openForAnalysis(reference, inputs, options) : reference
  return analyzeOpened(image, inputs, options)
}

/** Indexes, inspects and advises on an opened image (closed here only when this throws). */
export async function analyzeOpened(image: Image, inputs: AnalysisInputs, options: AnalyzeOptions): Promise<Analysis> {
  const opts = options.advice ?? {}
  const { catalogue, mirrors } = inputs
  const observe: LayerReadObserver = options.observe ?? ((_image, read) => read(undefined))
  try {
    const hint = inspectionCaptureHint(image.config)
    // /etc/passwd too: who the image runs as is resolved through it (audit), without a late read.
    const capture = (path: string, size: number): boolean => path === '/etc/passwd' || hint(path, size)
    const layerFigures = options.layerFigures !== false
    const index = await observe(image, (onProgress) =>
      buildIndex(image, {
        maxExpandedBytes: options.maxExpandedBytes,
        onProgress,
        capture,
        hashContent: layerFigures,
        // ELF files are summarised during the one pass, and the layer index is cached next to the blobs.
        summarizeElf: summarizeElfForIndex,
        summaryVersion: ELF_SUMMARY_VERSION,
        indexCacheDir: options.open.cacheDir,
      }),
    )
    const metrics = layerFigures ? computeMetrics(index, { top: Math.max(options.top ?? 10, 20) }) : undefined
    const facts = await collectFacts(index)
    const inspection = await inspectImage(index, image.config, { entrypoint: opts.entrypoint })
    options.open.log?.(`layer passes (index + late reads, per layer): ${index.layerPasses.join(' ')}`)
    const advice = advise({
      inspection,
      image: sourceImageFrom(image, { layers: index.layers, os: facts.os }),
      catalogue,
      rootfs: index,
      options: { base: opts.base, user: opts.user, keep: opts.keep, platform: options.open.platform, mirrors },
    })
    return { image, index, metrics, facts, inspection, advice, catalogue, mirrors }
  } catch (e) {
    await image.close()
    throw e
  }
}
