import { escapeControls } from '../core/text-escape.js'

/**
 * Plain-text tables: left-aligned columns, right-aligned when a column is marked numeric. Cells are
 * escaped first (image values: a newline in a file name must not forge a row) so widths are right.
 */
export function table(headers: string[], cells: string[][], numeric: boolean[] = []): string {
  const rows = cells.map((r) => r.map((c) => escapeControls(c)))
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]) : i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd()
  return [line(headers), ...rows.map(line)].join('\n')
}

/** Shorten long text for a table cell, keeping the start (what a human reads first). */
export function truncate(s: string, max: number): string {
  const flat = escapeControls(s.replace(/[ \t\n\r]+/g, ' ').trim())
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`
}

export function shortDigest(d: string | undefined): string {
  if (!d) return '-'
  const i = d.indexOf(':')
  return i < 0 ? d.slice(0, 12) : `${d.slice(0, i + 1)}${d.slice(i + 1, i + 13)}`
}
