/**
 * The first steps of every analysis: read the config file (extra bases, mirrors) and open the
 * image. Apart from analyze.ts so that a run served by the result cache (cached.ts) loads none of
 * the layer, inspection and advice code.
 */
import { loadConfig, mergeMirrors, resolveBases, withConfigMirrors, type Mirrors, type SlimConfig } from '../advise/config.js'
import type { Base } from '../advise/catalogue/types.js'
import { openImage } from '../image/open.js'
import type { Image, OpenOptions } from '../image/types.js'

/** The part of AnalyzeOptions (analyze.ts) these steps read. */
interface OpenStepOptions {
  open: OpenOptions
  advice?: { configPath?: string; mirrors?: string[] }
  maxExpandedBytes?: number
}

/** What an analysis reads besides the image: the config file, the bases and mirrors it names. */
export interface AnalysisInputs {
  config: SlimConfig
  catalogue: Base[]
  /** The open options with the config's registry mirrors applied. */
  open: OpenOptions
  /** Mirrors for the bases: the config's and --registry-mirror's, plus --base-mirror's. */
  mirrors: Mirrors
}

export function prepareAnalysis(options: OpenStepOptions): AnalysisInputs {
  const config = loadConfig(options.advice?.configPath)
  const catalogue = resolveBases(config)
  // The config's mirrors and --registry-mirror serve the image and the bases; --base-mirror only the bases.
  const open = withConfigMirrors(options.open, config)
  const mirrors = mergeMirrors({ ...open.registryMirrors }, options.advice?.mirrors ?? [])
  return { config, catalogue, open, mirrors }
}

export function openForAnalysis(reference: string, inputs: AnalysisInputs, options: OpenStepOptions): Promise<Image> {
  // One budget: temp files written while opening (unwrapped archives, daemon exports) count too.
  return openImage(reference, { maxTempBytes: options.maxExpandedBytes, ...inputs.open })
}

