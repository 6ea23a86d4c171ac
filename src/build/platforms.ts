/**
 * `slim build --all-platforms`: every platform of a multi-platform source is analysed and built on
 * its own (its own program, libraries, advice and base platform), into the same blob directory, so
 * the outputs can put them under one OCI image index. A platform whose analysis, advice or build
 * fails is recorded with its error instead of stopping the others; the caller decides (by
 * --skip-failed-platforms) whether the build as a whole fails.
 */
import { describe, isSlimError } from '../core/errors.js'
import { listImagePlatforms } from '../image/list-platforms.js'
import type { Platform } from '../image/types.js'
import { analyzeImage, type AnalyzeOptions } from '../pipeline/index.js'
import type { Analysis } from '../pipeline/analyze.js'
import { buildSlim, type BuildResult } from './build.js'

export interface PlatformBuild {
  platform: Platform
  analysis: Analysis
  built: BuildResult
}

export interface PlatformFailure {
  platform: Platform
  /** One line: why this platform was not built. */
  reason: string
}

export interface PlatformsResult {
  builds: PlatformBuild[]
  failures: PlatformFailure[]
  /** The source is an image index (so the output is one too, with --all-platforms). */
  index: boolean
  /** Closes every analysed image (call once the outputs are written). */
  close(): Promise<void>
}

/** Builds one platform (`options.open.platform`, else the host's) or, with `all`, every platform the reference offers. */
export async function buildPlatforms(ref: string, options: AnalyzeOptions, blobs: string, all: boolean): Promise<PlatformsResult> {
  const builds: PlatformBuild[] = []
  const failures: PlatformFailure[] = []
  const close = async (): Promise<void> => {
    await Promise.all(builds.map((b) => b.analysis.image.close().catch(() => {})))
  }
  const listed = all ? await listImagePlatforms(ref, options.open) : undefined
  const wanted: (Platform | undefined)[] = listed ? listed.platforms : [options.open.platform]
  try {
    for (const platform of wanted) {
      const open = { ...options.open, platform }
      let analysis: Analysis | undefined
      try {
        analysis = await analyzeImage(ref, { ...options, open })
        const built = await buildSlim(analysis, open, blobs)
        builds.push({ platform: analysis.image.platform, analysis, built })
      } catch (e) {
        await analysis?.image.close().catch(() => {})
        // One platform is the whole build: its error is the command's error, as before.
        if (!all) throw e
        failures.push({ platform: platform!, reason: isSlimError(e) ? e.message : describe(e) })
      }
    }
  } catch (e) {
    await close()
    throw e
  }
  return { builds, failures, index: listed?.index ?? false, close }
}
