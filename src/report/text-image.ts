import { humanBytes } from '../core/format.js'
import { textLines } from '../core/text-escape.js'
import type { ImageSummary } from './image-summary.js'
import { truncate } from './table.js'

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
    ['entrypoint', c.entrypoint ? JSON.stringify(c.entrypoint) : undefined],
    ['cmd', c.cmd ? JSON.stringify(c.cmd) : undefined],
    ['user', c.user ?? '(root)'],
    ['workdir', c.workdir],
    ['ports', c.exposedPorts.join(', ') || undefined],
    ['volumes', c.volumes.join(', ') || undefined],
    ['stopsignal', c.stopSignal],
    ['healthcheck', c.healthcheck ? JSON.stringify(c.healthcheck) : undefined],
  ]
  for (const [k, v] of ckv) if (v) out.push(`  ${k.padEnd(11)} ${v}`)
  if (!c.entrypoint?.length && !c.cmd?.length) out.push('  (no ENTRYPOINT and no CMD: nothing runs by default)')
  for (const e of c.env) out.push(`  env         ${e}`)
  for (const [k, v] of Object.entries(c.labels)) out.push(`  label       ${k}=${truncate(v, 80)}`)
  for (const w of s.warnings) out.push(`  warning: ${w}`)
  return textLines(out)
}
