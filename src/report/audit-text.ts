/**
 * `slim audit` for people: one table row per image (sorted by estimated savings, as the document
 * is), a totals line, then the images that failed and the rules they broke, each with its fix.
 * Every value that came from an image (OS name, paths, error text) is made printable first.
 */
import type { AuditDocument, AuditImage } from '../audit/types.js'
import { humanBytes, percent } from '../core/format.js'
import { printable } from '../layers/warnings.js'
import { table, truncate } from './table.js'

export function renderAuditTable(doc: AuditDocument): string {
  const rows = doc.images.map((i) => row(i))
  const out = [
    table(
      ['IMAGE', 'PLATFORM', 'SIZE', 'EFFICIENCY', 'WASTED', 'OS', 'ROOT', 'SHELL', 'PKG MGR', 'SETUID', 'SUGGESTED BASE', 'SAVINGS', 'RULES'],
      rows,
      [false, false, true, true, true, false, false, false, false, true, false, true, false],
    ),
    '',
    totalsLine(doc),
  ]
  const failing = doc.images.filter((i) => i.failedRules.length > 0)
  if (failing.length > 0) {
    out.push('', 'Failed rules:')
    for (const i of failing) for (const f of i.failedRules) out.push(`  ${printable(i.reference, 120)}: ${printable(f.message, 400)}`)
  }
  const errors = doc.images.filter((i) => i.status === 'error')
  if (errors.length > 0) {
    out.push('', 'Not audited:')
    for (const i of errors) out.push(`  ${printable(i.reference, 120)}: ${printable(i.error?.message ?? 'unknown error', 400)}`)
  }
  return out.join('\n')
}

function row(i: AuditImage): string[] {
  const ref = printable(truncate(i.reference, 60), 60)
  if (i.status === 'error') return [ref, i.platform ?? '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', `error: ${printable(truncate(i.error?.kind ?? '', 20))}`]
  return [
    ref,
    i.platform ?? '-',
    i.uncompressedBytes === null ? '-' : humanBytes(i.uncompressedBytes),
    i.efficiency === null ? '-' : percent(i.efficiency),
    i.wastedBytes === null ? '-' : humanBytes(i.wastedBytes),
    printable(truncate(osText(i), 24), 24),
    i.runsAsRoot === null ? '?' : i.runsAsRoot ? 'yes' : 'no',
    i.shells?.length ? 'yes' : 'no',
    i.packageManagers?.length ? i.packageManagers.join(',') : 'no',
    String(i.setuidCount ?? '-'),
    printable(truncate(i.suggestedBase ?? '-', 40), 40),
    savingsText(i),
    i.failedRules.length ? i.failedRules.map((f) => f.rule).join(',') : '-',
  ]
}

export function osText(i: AuditImage): string {
  if (i.os?.id) return `${i.os.id}${i.os.versionId ? ` ${i.os.versionId}` : ''}`
  return i.baseFamily ?? '-'
}

export function savingsText(i: AuditImage): string {
  if (i.estimatedSavingsBytes === null) return '-'
  if (i.estimatedSavingsBytes === 0) return '0'
  return `${humanBytes(i.estimatedSavingsBytes)}${i.estimatedSavingsRatio !== null ? ` (${percent(i.estimatedSavingsRatio, 0)})` : ''}`
}

export function totalsLine(doc: AuditDocument): string {
  const t = doc.totals
  const parts = [
    `${t.images} image${t.images === 1 ? '' : 's'}`,
    `${t.analyzed} audited`,
    `${t.errors} error${t.errors === 1 ? '' : 's'}`,
    `${humanBytes(t.uncompressedBytes)} in all`,
    `${humanBytes(t.wastedBytes)} wasted (dive)`,
    `estimated savings ${humanBytes(t.estimatedSavingsBytes)}`,
    `${t.runAsRoot} run as root`,
    `${t.withShell} with a shell`,
    `${t.withPackageManager} with a package manager`,
  ]
  if (doc.rules.length) parts.push(`${t.failingImages} failing rules`)
  return `Totals: ${parts.join(', ')}`
}
