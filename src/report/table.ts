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

/** Items of an image-controlled list shown in text output; --json keeps them all. */
export const LIST_MAX = 10
/** Lines of an image-controlled list shown in text output. */
export const LINES_MAX = 100

/** "… and K more (see --json)": what text output says for the part of a list it leaves out. */
export function moreText(left: number): string {
  return `… and ${left} more (see --json)`
}

/**
 * At most `max` items joined by `sep`, then how many were left out: a list whose length the image
 * decides (100,000 ld.so.conf directories) must not become a megabyte-long line.
 */
export function boundedList(items: readonly string[], max = LIST_MAX, sep = ', '): string {
  if (items.length <= max) return items.join(sep)
  return `${items.slice(0, max).join(sep)} ${moreText(items.length - max)}`
}

/** A JSON array of strings, at most `max` of them, then how many were left out. */
export function boundedJson(items: readonly string[], max = LIST_MAX): string {
  return items.length <= max ? JSON.stringify(items) : `${JSON.stringify(items.slice(0, max))} ${moreText(items.length - max)}`
}

/** Adds at most `max` lines made by `line`, then one line saying how many were left out. */
export function pushBounded<T>(out: string[], items: readonly T[], line: (item: T) => string, indent = '  ', max = LINES_MAX): void {
  for (const item of items.slice(0, max)) out.push(line(item))
  if (items.length > max) out.push(`${indent}${moreText(items.length - max)}`)
}
