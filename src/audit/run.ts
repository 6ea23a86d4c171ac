/**
 * The audit run: every target through the one analysis pipeline, `concurrency` at a time, with
 * one blob cache and one layer index cache (both in the open options' cache directory, keyed by
 * digest and diff ID), so a layer shared by several images is indexed once. A failure is recorded on its
 * image and counted; it never stops the run. With a state directory, each finished record is
 * saved at once and an image whose manifest digest was already audited is not analysed again;
 * references that resolve to the same digest in one run are analysed once too.
 */
import { describe } from '../core/errors.js'
import { openImage } from '../image/open.js'
import { formatPlatform } from '../image/platform.js'
import type { Image } from '../image/types.js'
import { analyzeImage, type AnalyzeOptions } from '../pipeline/index.js'
import type { AuditTarget } from './inputs.js'
import { auditRecord, errorRecord } from './record.js'
import type { RuleInfo } from './rules/types.js'
import type { AuditState } from './state.js'
import type { AuditImage } from './types.js'

export type RecordSource = 'analyzed' | 'state' | 'same-digest' | 'error'

export interface AuditRunOptions {
  targets: readonly AuditTarget[]
  /** Pipeline options for every image (the target's platform overrides open.platform). */
  analyze: AnalyzeOptions
  rules: readonly RuleInfo[]
  concurrency: number
  state?: AuditState
  onRecord?: (record: AuditImage, source: RecordSource) => void
  log?: (m: string) => void
}

export interface AuditRunResult {
  records: AuditImage[]
  counts: Record<RecordSource, number>
  /** Layer passes (index pass and late reads) of the images analysed, and the distinct layers (diff IDs) they have. */
  layerPasses: number
  distinctLayers: number
}

export async function runAudit(opts: AuditRunOptions): Promise<AuditRunResult> {
  let layerPasses = 0
  const layers = new Set<string>()
  const counts: Record<RecordSource, number> = { analyzed: 0, state: 0, 'same-digest': 0, error: 0 }
  const byDigest = new Map<string, Promise<AuditImage>>()
  const records: AuditImage[] = new Array(opts.targets.length)
  const log = opts.log ?? (() => {})

  const auditOne = async (target: AuditTarget): Promise<[AuditImage, RecordSource]> => {
    const reference = target.reference.replace(/^docker:\/\//, '')
    let image: Image
    try {
      image = await openImage(target.reference, { ...opts.analyze.open, platform: target.platform ?? opts.analyze.open.platform })
    } catch (e) {
      return [errorRecord(reference, e, { platform: target.platform ? formatPlatform(target.platform) : undefined }), 'error']
    }
    const digest = image.manifestDigest
    const platform = formatPlatform(image.platform)
    let owned = true
    try {
      if (digest && opts.state) {
        const saved = await opts.state.load(digest, platform, reference, opts.rules)
        if (saved) {
          log(`audit: ${reference} (${digest}) unchanged since a previous run; read from --state`)
          return [saved, 'state']
        }
      }
      const key = digest ? `${digest} ${platform}` : undefined
      const same = key ? byDigest.get(key) : undefined
      if (same) {
        const first = await same
        if (first.status === 'ok') return [{ ...first, reference }, 'same-digest']
      }
      const work = (async (): Promise<AuditImage> => {
        log(`audit: analyzing ${reference} (${digest ?? 'no digest'})`)
        owned = false
        const a = await analyzeImage(image, opts.analyze)
        try {
          layerPasses += a.index.layerPasses.reduce((x, y) => x + y, 0)
          for (const l of a.image.layers) layers.add(l.diffId ?? l.digest)
          return await auditRecord(reference, a, opts.rules)
        } finally {
          await a.image.close()
        }
      })()
      if (key) byDigest.set(key, work)
      let record: AuditImage
      try {
        record = await work
      } catch (e) {
        return [errorRecord(reference, e, { digest, platform }), 'error']
      }
      await opts.state?.save(record)
      return [record, 'analyzed']
    } finally {
      if (owned) await image.close().catch(() => {})
    }
  }

  let next = 0
  const worker = async (): Promise<void> => {
    while (next < opts.targets.length) {
      const i = next++
      let result: [AuditImage, RecordSource]
      try {
        result = await auditOne(opts.targets[i]!)
      } catch (e) {
        // Saving to --state failed, or something unforeseen: still one image's failure.
        log(`audit: ${opts.targets[i]!.reference}: ${describe(e)}`)
        result = [errorRecord(opts.targets[i]!.reference.replace(/^docker:\/\//, ''), e), 'error']
      }
      records[i] = result[0]
      counts[result[1]]++
      opts.onRecord?.(result[0], result[1])
    }
  }
  const n = Math.max(1, Math.min(opts.concurrency, opts.targets.length))
  await Promise.all(Array.from({ length: n }, worker))
  return { records, counts, layerPasses, distinctLayers: layers.size }
}
