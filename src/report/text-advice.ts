import { savedText } from '../advise/dockerfile.js'
import { textLines } from '../core/text-escape.js'
import { gapText } from '../advise/gaps.js'
import type { Advice } from '../advise/types.js'
import { humanBytes } from '../core/format.js'
import { pushBounded } from './table.js'

/** The Recommendation section: the verdict, its reasons, the size estimate, what is copied. */
export function renderAdviceSection(a: Advice, opts: { dockerfilePath?: string; verbose?: boolean } = {}): string {
  const out: string[] = []
  out.push(`Recommendation (confidence: ${a.confidence})`)
  out.push(`  ${a.summary}`)
  pushBounded(out, a.reasons, (r) => `  - ${r}`)
  const plan = a.plan
  if (plan) {
    const e = plan.estimate
    const total = e.totalBytes !== undefined ? humanBytes(e.totalBytes) : `unknown (base size: ${e.baseBasis})`
    out.push(
      `  size         ${total} estimated, today ${humanBytes(e.todayBytes)} (${e.todayBasis})${e.savedPercent === undefined ? '' : `: ${savedText(e.savedPercent)}`}`,
    )
    out.push(`               base ${e.baseBytes !== undefined ? humanBytes(e.baseBytes) : '?'} (${e.baseBasis}) + copied ${humanBytes(e.copiedBytes)}${e.unknownCopies ? ` + ${e.unknownCopies} copies of unknown size` : ''}`)
    out.push(`  base         ${plan.base.ref}`)
    out.push(`  user         ${plan.user.spec}: ${plan.user.note}`)
    out.push(`  copies       ${plan.copies.length}:`)
    const shown = opts.verbose ? plan.copies : plan.copies.slice(0, 25)
    for (const c of shown) out.push(`    ${c.source}${c.dest !== c.source ? ` -> ${c.dest}` : ''}  ${c.bytes !== undefined ? humanBytes(c.bytes) : ''}  (${c.why})`)
    if (shown.length < plan.copies.length) out.push(`    … and ${plan.copies.length - shown.length} more (see the Dockerfile or --json)`)
    pushBounded(out, plan.notes, (n) => `  note: ${n}`)
  }
  if (a.ranking.length > 1) out.push(`  also viable: ${a.ranking.slice(1, 6).map((c) => c.name).join(', ')}`)
  if (a.rejected.length) {
    out.push('  rejected:')
    // advise orders rejections closest first (bases that fit the program but are end of life,
    // then those missing one thing, ...); bases refused for the same reason share one line, so
    // twelve "has glibc" distroless images are one line, not a wall.
    const byReason = new Map<string, string[]>()
    for (const r of a.rejected) byReason.set(r.reason, [...(byReason.get(r.reason) ?? []), r.base])
    const entries = [...byReason].slice(0, opts.verbose ? undefined : 12)
    for (const [reason, bases] of entries) out.push(`    ${bases.join(', ')}: ${reason}`)
    const left = [...byReason].slice(entries.length).reduce((n, [, bases]) => n + bases.length, 0)
    if (left > 0) out.push(`    … and ${left} more (--json lists them)`)
  }
  if (a.gaps.length) {
    out.push('  not checked:')
    pushBounded(out, a.gaps, (g) => `    - ${gapText(g)}`, '    ')
  }
  pushBounded(out, a.lint, (l) => `  lint: line ${l.line}: ${l.rule} ${l.message}`)
  if (opts.dockerfilePath) out.push(`  Dockerfile written to ${opts.dockerfilePath}`)
  else if (a.dockerfile && a.verdict === 'already-small') out.push('  Dockerfile: none advised (it would grow the image); `slim dockerfile IMAGE --harden` writes one that only hardens it')
  else if (a.dockerfile) out.push('  Dockerfile: `slim dockerfile IMAGE` or `slim analyze IMAGE --dockerfile FILE` writes it')
  return textLines(out)
}
