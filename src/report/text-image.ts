import { humanBytes } from '../core/format.js'
import { textLines } from '../core/text-escape.js'
import type { ImageSummary } from './image-summary.js'
import { boundedJson, boundedList, pushBounded, truncate } from './table.js'

/** The Image and Config sections (the layer table is the layer stage's, in text-layers.ts). */
export function renderImageSection(s: ImageSummary): string {
  const out: string[] = []
  out.push('Image')
  const kv: [string, string | undefined][] = [
    ['reference', s.reference],
    ['manifest', s.manifestDigest ? `${s.manifestDigest} (${s.manifestMediaType})` : `none (${s.manifestMediaType})`],
    ['index', s.indexDigest],
    ['config', `${s.configDigest} (${s.configMediaType})`],
    ['platform', s.platform],
    ['created', s.created],
    ['compressed', humanBytes(s.compressedSize)],
  ]
  for (const [k, v] of kv) if (v) out.push(`  ${k.padEnd(11)} ${v}`)
  out.push('')
  out.push('Config')
  const c = s.config
  const ckv: [string, string | undefined][] = [
    ['entrypoint', c.entrypoint ? boundedJson(c.entrypoint) : undefined],
    ['cmd', c.cmd ? boundedJson(c.cmd) : undefined],
    ['user', c.user ?? '(root)'],
    ['workdir', c.workdir],
    ['ports', boundedList(c.exposedPorts) || undefined],
    ['volumes', boundedList(c.volumes) || undefined],
    ['stopsignal', c.stopSignal],
    ['healthcheck', c.healthcheck ? JSON.stringify(c.healthcheck) : undefined],
  ]
  for (const [k, v] of ckv) if (v) out.push(`  ${k.padEnd(11)} ${v}`)
  if (!c.entrypoint?.length && !c.cmd?.length) out.push('  (no ENTRYPOINT and no CMD: nothing runs by default)')
  pushBounded(out, c.env, (e) => `  env         ${e}`)
  pushBounded(out, Object.entries(c.labels), ([k, v]) => `  label       ${k}=${truncate(v, 80)}`)
  pushBounded(out, s.warnings, (w) => `  warning: ${w}`)
  return textLines(out)
}
