/**
 * `slim audit --format markdown`: a pull-request comment. A summary line, the table, and the
 * failed rules with their fixes. Values from images are escaped for GitHub-flavoured Markdown
 * (no HTML, no table breaks, no code-span escapes, no mentions).
 */
import type { AuditDocument, AuditImage } from '../audit/types.js'
import { humanBytes, percent } from '../core/format.js'
import { osText, savingsText } from './audit-text.js'

export function renderAuditMarkdown(doc: AuditDocument): string {
  const t = doc.totals
  const out: string[] = []
  const verdict = t.failingImages > 0 ? `❌ ${t.failingImages} of ${t.analyzed} images fail the rules` : doc.rules.length ? `✅ all ${t.analyzed} audited images pass the rules` : `${t.analyzed} images audited`
  out.push(`### slim audit: ${verdict}`, '')
  out.push(
    `${t.images} images, ${t.errors} not audited; ${humanBytes(t.uncompressedBytes)} in all, ${humanBytes(t.wastedBytes)} wasted (dive), estimated savings **${humanBytes(t.estimatedSavingsBytes)}**; ${t.runAsRoot} run as root, ${t.withShell} ship a shell, ${t.withPackageManager} a package manager.`,
    '',
  )
  out.push('| Image | Platform | Size | Efficiency | Wasted | OS | Root | Shell | Pkg mgr | Setuid | Suggested base | Savings | Rules |')
  out.push('|---|---|--:|--:|--:|---|---|---|---|--:|---|--:|---|')
  for (const i of doc.images) out.push(`| ${cells(i).join(' | ')} |`)
  const failing = doc.images.filter((i) => i.failedRules.length > 0)
  if (failing.length) {
    out.push('', '#### Failed rules', '')
    for (const i of failing) for (const f of i.failedRules) out.push(`- \`${code(i.reference)}\` **${md(f.rule)}**: ${md(f.figure)} (limit ${md(f.threshold)}). Fix: ${md(f.fix)}`)
  }
  const errors = doc.images.filter((i) => i.status === 'error')
  if (errors.length) {
    out.push('', '#### Not audited', '')
    for (const i of errors) out.push(`- \`${code(i.reference)}\`: ${md(i.error?.message ?? 'unknown error')}`)
  }
  return out.join('\n')
}

function cells(i: AuditImage): string[] {
  const ref = `\`${code(i.reference)}\``
  if (i.status === 'error') return [ref, md(i.platform ?? '-'), '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', `error (${md(i.error?.kind ?? '')})`]
  return [
    ref,
    md(i.platform ?? '-'),
    i.uncompressedBytes === null ? '-' : humanBytes(i.uncompressedBytes),
    i.efficiency === null ? '-' : percent(i.efficiency),
    i.wastedBytes === null ? '-' : humanBytes(i.wastedBytes),
    md(osText(i)),
    i.runsAsRoot === null ? '?' : i.runsAsRoot ? 'yes' : 'no',
    i.shells?.length ? 'yes' : 'no',
    i.packageManagers?.length ? md(i.packageManagers.join(', ')) : 'no',
    String(i.setuidCount ?? '-'),
    i.suggestedBase ? `\`${code(i.suggestedBase)}\`` : '-',
    md(savingsText(i)),
    i.failedRules.length ? i.failedRules.map((f) => md(f.rule)).join(', ') : '-',
  ]
}

/** Text in a table cell or list item: one line, Markdown and HTML specials escaped. */
export function md(s: string): string {
  return s
    .replace(/[\x00-\x1f\x7f]+/g, ' ')
    .replace(/[\\`*_{}[\]()#+!|<>~@&-]/g, (c) => `\\${c}`)
    .slice(0, 500)
}

/** Text inside a code span: no backticks or line breaks can end it. */
function code(s: string): string {
  return s.replace(/[\x00-\x1f\x7f`|]+/g, '?').slice(0, 200)
}
