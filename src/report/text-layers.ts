import { humanBytes, percent } from '../core/format.js'
import { textLines } from '../core/text-escape.js'
import type { LayersReport } from './layers-report.js'
import { boundedList, pushBounded, shortDigest, table, truncate } from './table.js'

const indent = (s: string, n = 2) => s.split('\n').map((l) => ' '.repeat(n) + l).join('\n')

export function renderLayersSection(r: LayersReport, opts: { top?: number } = {}): string {
  const top = opts.top ?? 10
  const out: string[] = []
  out.push(`Layers (${r.layers.length}; ${humanBytes(r.uncompressedSize)} uncompressed)`)
  out.push(
    ...indent(
      table(
        ['#', 'digest', 'size', 'added', 'modified', 'removed', 'dead', 'created by'],
        r.layers.map((l) => [
          String(l.index),
          shortDigest(l.digest),
          humanBytes(l.size),
          `${l.added.files} / ${humanBytes(l.added.bytes)}`,
          `${l.modified.files} / ${humanBytes(l.modified.bytes)}`,
          `${l.removed.files} / ${humanBytes(l.removed.bytes)}`,
          l.deadBytes ? humanBytes(l.deadBytes) : '-',
          truncate(shortenCreatedBy(l.createdBy ?? ''), 50),
        ]),
        [true, false, true, true, true, true, true, false],
      ),
    ).split('\n'),
  )
  pushBounded(out, r.layers.flatMap((l) => l.warnings.map((w) => `layer ${l.index}: ${w}`)), (w) => `  warning: ${w}`)
  pushBounded(out, r.warnings, (w) => `  warning: ${w}`)

  const m = r.metrics
  out.push('')
  out.push('Waste')
  out.push(`  dive efficiency      ${percent(m.dive.efficiency, 2)}  (dive's score: smallest copy / all copies of every path)`)
  out.push(`  dive wasted bytes    ${humanBytes(m.dive.wastedBytes)}  (every copy of paths in 2+ layers, the surviving one included)`)
  out.push(`  dive user wasted     ${percent(m.dive.userWastedPercent, 2)}  (of the ${humanBytes(m.dive.userSizeBytes)} above layer 0)`)
  out.push(`  dead bytes           ${humanBytes(m.deadBytes.total)}  (stored in layers but deleted or replaced later: never visible)`)
  out.push(`  duplicate files      ${humanBytes(m.duplicates.wastedBytes)} in ${m.duplicates.groupCount} groups  (same content at several paths)`)
  if (m.dive.inefficientFiles.length) {
    out.push('  files in several layers (dive):')
    out.push(...indent(table(['count', 'total', 'path'], m.dive.inefficientFiles.slice(0, top).map((f) => [String(f.count), humanBytes(f.cumulativeSize), f.path]), [true, true, false]), 4).split('\n'))
  }
  if (m.duplicates.groups.length) {
    out.push('  duplicate contents:')
    for (const g of m.duplicates.groups.slice(0, top)) out.push(`    ${humanBytes(g.size)} x ${g.paths.length}: ${truncate(g.paths.join(', '), 100)}`)
  }
  out.push('  largest files:')
  out.push(...indent(table(['size', 'layer', 'path'], m.largestFiles.slice(0, top).map((f) => [humanBytes(f.size), String(f.layer), f.path]), [true, true, false]), 4).split('\n'))
  out.push('  largest directories:')
  out.push(...indent(table(['size', 'files', 'path'], m.largestDirs.slice(0, top).map((d) => [humanBytes(d.size), String(d.files), d.path]), [true, true, false]), 4).split('\n'))

  const f = r.facts
  out.push('')
  out.push('Facts')
  out.push(`  os                   ${f.os ? `${f.os.prettyName ?? `${f.os.id ?? '?'} ${f.os.versionId ?? ''}`} (${f.os.source})` : 'unknown (no os-release file)'}`)
  out.push(
    `  packages             ${f.packages.length ? boundedList(f.packages.map((p) => `${p.manager}: ${p.count ?? 'count not read'}${p.note ? ` (${p.note})` : ''}`), undefined, '; ') : 'no package database'}`,
  )
  out.push(`  shells               ${f.shells.length ? boundedList(f.shells.map((s) => (s.target ? `${s.path} -> ${s.target}` : s.path))) : 'none'}`)
  out.push(`  files                ${m.totals.files} files, ${m.totals.dirs} dirs, ${m.totals.symlinks} symlinks, ${m.totals.hardlinks} hard links, ${humanBytes(m.totals.bytes)}`)
  const list = (label: string, items: string[]) => {
    out.push(`  ${label.padEnd(20)} ${items.length ? `${items.length}: ${truncate(items.join(', '), 110)}` : 'none'}`)
  }
  list('setuid', f.setuid)
  list('setgid', f.setgid)
  list('world-writable', f.worldWritable.map((w) => w.path))
  list('device nodes', f.devices.map((d) => d.path))
  list('secret-like names', f.secrets.map((s) => `${s.path} (${s.why})`))
  return textLines(out)
}

/** Docker's history strings start with "/bin/sh -c #(nop) "; humans want the instruction. */
export function shortenCreatedBy(s: string): string {
  return s
    .replace(/^\/bin\/sh -c #\(nop\)\s*/, '')
    .replace(/^\/bin\/sh -c /, 'RUN ')
    .replace(/^RUN \|\d+ [^ ]+ /, 'RUN ')
    .trim()
}
