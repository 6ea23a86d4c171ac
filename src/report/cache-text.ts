import { humanBytes } from '../core/format.js'
import { escapeControls } from '../core/text-escape.js'
import type { CacheSummary, PruneReport } from '../pipeline/cache-store.js'
import { table } from './table.js'

/** `slim cache info`: one row per part of the cache, and the total. */
export function cacheSummaryText(s: CacheSummary): string[] {
  const head = `cache ${escapeControls(s.dir)}${s.exists ? '' : ' (does not exist yet)'}`
  const rows = s.parts.map((p) => [p.part, String(p.files), humanBytes(p.bytes)])
  rows.push(['total', String(s.files), humanBytes(s.bytes)])
  return [head, table(['part', 'files', 'size'], rows, [false, true, true])]
}

/** `slim cache prune`: what went (or would go), from which parts, and what is left. */
export function pruneText(r: PruneReport): string[] {
  const verb = r.dryRun ? 'would remove' : 'removed'
  const parts = r.removed.parts.filter((p) => p.files > 0).map((p) => `${p.part} ${p.files} (${humanBytes(p.bytes)})`)
  const lines = [
    `${verb} ${r.removed.files} files, ${humanBytes(r.removed.bytes)}${parts.length ? `: ${parts.join(', ')}` : ''}`,
    `${r.dryRun ? 'would leave' : 'left'} ${r.left.files} files, ${humanBytes(r.left.bytes)} in ${escapeControls(r.left.dir)}`,
  ]
  for (const f of r.failures.slice(0, 5)) lines.push(`could not remove ${escapeControls(f.path)}: ${escapeControls(f.reason)}`)
  if (r.failures.length > 5) lines.push(`… and ${r.failures.length - 5} more that could not be removed`)
  return lines
}
