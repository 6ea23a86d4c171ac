/**
 * The advice's gaps: what the inspection could not see, plus what the advice's own checks could
 * not settle, kept as { area, message } until a report (or the Dockerfile's header) renders them.
 */
import type { Inspection } from '../inspect/types.js'
import type { Base } from './catalogue/types.js'
import { needsOf, type Requirements } from './requirements.js'
import type { AdviceGap } from './types.js'

/** Areas whose messages are whole sentences starting with what they are about (a path, an
 * account file, a base, a USER): rendered as is. The others are labelled with their area. */
const UNLABELLED = new Set<AdviceGap['area']>(['copy', 'accounts', 'access', 'base'])

/** One gap as people read it: "closure: libfoo.so.1 (needed by /app) is not in the image". */
export function gapText(g: AdviceGap): string {
  return UNLABELLED.has(g.area) ? g.message : `${g.area}: ${g.message}`
}

/** The inspection's gaps, its stopped script reading, unresolved libraries and unsure dlopen
 * needs, each once (the stopped reading is also one of the inspection's entrypoint gaps). */
export function inspectionGaps(insp: Inspection): AdviceGap[] {
  const gaps: AdviceGap[] = [...insp.gaps]
  if (insp.program.stopped) gaps.push({ area: 'entrypoint', message: `stopped at ${insp.program.stopped.at}: ${insp.program.stopped.reason}` })
  for (const u of insp.closure.unresolved) if (!silentlySkipped(insp, u.name)) gaps.push({ area: 'closure', message: `${u.name} (needed by ${u.neededBy[0] ?? '?'}) is not in the image` })
  for (const n of insp.needs) {
    if (n.kind === 'dlopen' && (!n.present || n.confidence === 'possible')) gaps.push({ area: 'dlopen', message: `${n.reason}${n.paths.length ? ` (${n.paths.join(', ')})` : ''}` })
  }
  const seen = new Set<string>()
  return gaps.filter((g) => {
    const key = `${g.area}\0${g.message}`
    return !seen.has(key) && !!seen.add(key)
  })
}

/** An NSS module nsswitch.conf names but the image lacks (libnss_db): glibc skips it without a
 * word, so it is a note in the needs, not a gap. */
export function silentlySkipped(insp: Inspection, name: string): boolean {
  return insp.needs.some((n) => n.kind === 'nss-module' && !n.present && n.confidence === 'possible' && n.evidence[0]?.startsWith(`${name} `))
}

/** Catalogue facts the choice rests on that nobody checked against a real image. */
export function catalogueGaps(base: Base, req: Requirements): AdviceGap[] {
  const relevant = new Set<string>(['provides.libc', 'provides.sonames', 'provides.interpreters'])
  if (needsOf(req, 'ca-certificates').length) relevant.add('provides.caBundle')
  if (needsOf(req, 'tzdata').length) relevant.add('provides.tzdata')
  if (needsOf(req, 'user').length) relevant.add('provides.users')
  if (req.glibc) relevant.add('provides.glibcCeiling')
  if (req.glibcxx) relevant.add('provides.glibcxxCeiling')
  if (req.runtime) relevant.add('runtime')
  return base.checks
    .filter((c) => c.status === 'unverified' && relevant.has(c.fact))
    .map((c) => ({ area: 'catalogue', message: `${base.name} ${c.fact.replace(/^provides\./, '')} is unverified (${c.how})` }))
}
