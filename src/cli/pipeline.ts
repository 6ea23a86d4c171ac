/**
 * CLI wiring of the analysis pipeline: the advice flags shared by `analyze` and `dockerfile`, and
 * how they turn into the pipeline's typed options. The pipeline itself is src/pipeline.
 */
import { Flags } from '@oclif/core'
import { SlimError } from '../core/errors.js'
import { parseBytes } from '../core/format.js'
import type { OpenOptions } from '../image/types.js'
import { DEFAULT_MAX_EXPANDED_BYTES } from '../layers/types.js'
import type { AnalyzeOptions } from '../pipeline/index.js'
import { withLayerProgress } from './progress.js'

/** Flags of the inspection and advice stages, shared by `analyze` and `dockerfile`. */
export const adviceFlags = {
  entrypoint: Flags.string({ description: 'Inspect this program instead of the image\'s ENTRYPOINT (CMD is dropped, like docker run --entrypoint). A JSON array or a path.', helpGroup: 'ADVICE' }),
  base: Flags.string({ description: 'Use this final base (catalogue name such as distroless/static-debian12, alpine:3.20, scratch) instead of the smallest that fits.', helpGroup: 'ADVICE' }),
  user: Flags.string({ description: 'Run the slim image as this user: uid[:gid] or a name the image or base knows.', helpGroup: 'ADVICE' }),
  keep: Flags.string({ description: 'Also copy this path from the source image (repeatable).', multiple: true, helpGroup: 'ADVICE' }),
  'base-mirror': Flags.string({ description: 'Pull bases through a mirror: REGISTRY=MIRROR, e.g. gcr.io=registry.internal:5000 (repeatable).', multiple: true, helpGroup: 'ADVICE' }),
  config: Flags.string({ description: 'slim config file (default $XDG_CONFIG_HOME/slim/config.json): extra bases, overrides, mirrors.', helpGroup: 'ADVICE' }),
  'max-expanded-size': Flags.string({
    description: `Stop when the layers expand to more than this (a decompression-bomb guard), e.g. 64GiB. Default ${DEFAULT_MAX_EXPANDED_BYTES / 1024 ** 3}GiB.`,
  }),
}

export interface AdviceFlagValues {
  entrypoint?: string
  base?: string
  user?: string
  keep?: string[]
  'base-mirror'?: string[]
  config?: string
  'max-expanded-size'?: string
}

/** The pipeline options a command's flags ask for; `progress` draws listr2 lines per layer. */
export function analyzeOptionsFromFlags(open: OpenOptions, flags: AdviceFlagValues, ui: { progress: boolean; top?: number }): AnalyzeOptions {
  return {
    open,
    advice: {
      entrypoint: flags.entrypoint === undefined ? undefined : parseEntrypoint(flags.entrypoint),
      base: flags.base,
      user: flags.user,
      keep: flags.keep,
      mirrors: flags['base-mirror'],
      configPath: flags.config,
    },
    maxExpandedBytes: parseSize(flags['max-expanded-size']),
    top: ui.top,
    observe: (image, read) => withLayerProgress(ui.progress, image, read),
  }
}

function parseSize(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = parseBytes(value)
  if (!n) throw new SlimError('usage', `--max-expanded-size "${value}" is not a size; use e.g. 64GiB or 500MB`)
  return n
}

/** `--entrypoint` takes a JSON array (exec form) or a single path, as `docker run --entrypoint` does. */
export function parseEntrypoint(value: string): string[] {
  const v = value.trim()
  if (v.startsWith('[')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(v)
    } catch {
      throw new SlimError('usage', `--entrypoint ${value}: not a JSON array; use e.g. '["/app/server","--flag"]' or a plain path`)
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((x) => typeof x === 'string')) {
      throw new SlimError('usage', `--entrypoint ${value}: must be a non-empty JSON array of strings`)
    }
    return parsed
  }
  if (!v) throw new SlimError('usage', '--entrypoint: empty; give a path or a JSON array')
  return [v]
}
