/**
 * An interpreted app has three kinds of option, each with its own cost: a runtime image of its
 * language (the interpreter is the base's and is patched with it; a retired one only with its
 * warning), a base without a shell that gets the source's interpreter, standard library and
 * packages copied (frozen at the source's versions, often the smallest), and a base with a shell
 * that gets the same copies. slim plans each viable base, ranks them by what the final image costs
 * (libraries copied across releases, an idle shell, support status, a runtime's distance from the
 * app's version, then the planned size, not just the base's), and names the best of each other kind as an alternative with its size and
 * confidence, so the choice is never "keep the current base" while a viable option exists.
 */
import { formatBytes } from './dockerfile.js'
import type { Evaluated } from './decide.js'
import type { CopyPlan } from './plan.js'
import type { Requirements } from './requirements.js'
import type { AdviceConfidence, Alternative, OptionKind } from './types.js'

/** Bases planned at most when ranking by planned size (the ranking's head is where the choice is). */
const MAX_PLANNED = 12

export function optionKind(e: Evaluated): OptionKind {
  if (e.base.runtime) return 'runtime-image'
  return e.base.provides.shell ? 'base-with-shell' : 'interpreter-copied'
}

export interface Sized {
  e: Evaluated
  plan: CopyPlan
  /** Base plus everything copied; undefined when a size is unknown. */
  total?: number
}

const STATUS: Record<string, number> = { supported: 0, eol: 1, retired: 2 }

/**
 * Plans the head of the ranking and orders it by the final image's cost (an unknown size last).
 * Only for interpreted apps with the image's filesystem, where copied trees have known sizes.
 */
export function rankBySize(ranking: Evaluated[], req: Requirements, plan: (e: Evaluated) => CopyPlan): Sized[] {
  const head = ranking.slice(0, MAX_PLANNED).map((e): Sized => {
    const p = plan(e)
    const known = p.copies.every((c) => c.bytes !== undefined) && e.candidate.baseBytes !== undefined
    return { e, plan: p, ...(known ? { total: e.candidate.baseBytes! + p.copies.reduce((s, c) => s + (c.bytes ?? 0), 0) } : {}) }
  })
  const acrossReleases = (s: Sized) => Number(req.usesDistroLibraries && (s.e.candidate.copiedLibraries.length > 0 || !s.e.base.runtime) && !s.e.candidate.sameDistro)
  return head.sort((a, b) =>
    acrossReleases(a) - acrossReleases(b)
    || Number(a.e.candidate.idleShell) - Number(b.e.candidate.idleShell)
    || STATUS[a.e.base.status]! - STATUS[b.e.base.status]!
    || (a.e.candidate.runtimeDistance ?? 0) - (b.e.candidate.runtimeDistance ?? 0)
    || (a.total ?? Number.MAX_SAFE_INTEGER) - (b.total ?? Number.MAX_SAFE_INTEGER)
    || (a.e.base.name < b.e.base.name ? -1 : 1))
}

/** What taking this option costs, in words. */
export function costsOf(s: Sized, req: Requirements): string[] {
  const rt = req.runtime!
  const c = s.e.candidate
  const out: string[] = []
  const copied = s.plan.copies.filter((x) => x.kind === 'app' || x.kind === 'program' || x.kind === 'library').reduce((n, x) => n + (x.bytes ?? 0), 0)
  const version = `${rt.language}${rt.version ? ` ${rt.version}` : ''}`
  if (s.e.base.runtime) {
    const has = s.e.base.runtime.version
    out.push(`the base's own ${s.e.base.runtime.language} ${has}${rt.version && has !== rt.version ? ` (the app has ${rt.version}${patchBehind(rt.version, has) ? `: the base's is an older patch release, without the app's fixes` : ''}; test it there)` : ''}`)
  } else {
    out.push(`${version}, its standard library and the app's packages copied from the source (${formatBytes(copied)}): frozen at the source's versions, patched only when you rebuild the source`)
  }
  if (c.idleShell) out.push('a shell the app does not need')
  // The relaxed rules' warning says "offered only because no supported base fits": here one does.
  out.push(...s.e.warnings.map((w) => w.replace(/: it is offered only because no supported base fits$/, '')), ...s.e.fills.map((f) => f.note))
  return out
}

/** "17.0.21" vs "17.0.20": same feature release, the base behind. */
export function patchBehind(app: string, base: string): boolean {
  const a = app.split(/[.+_-]/).map(Number)
  const b = base.split(/[.+_-]/).map(Number)
  if (a[0] !== b[0]) return false
  for (let i = 1; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0
    const y = b[i] ?? 0
    if (Number.isNaN(x) || Number.isNaN(y)) return false
    if (x !== y) return y < x
  }
  return false
}

/**
 * The best option of each kind other than the chosen one (`extra`: options found only when the
 * rules are relaxed, a retired runtime image), each with its size, confidence and costs.
 */
export function alternativesOf(chosen: Evaluated, sized: Sized[], extra: Sized[], req: Requirements, confidence: (s: Sized) => AdviceConfidence): Alternative[] {
  const seen = new Set<OptionKind>([optionKind(chosen)])
  const out: Alternative[] = []
  for (const s of [...sized, ...extra]) {
    const kind = optionKind(s.e)
    if (seen.has(kind) || s.e === chosen) continue
    seen.add(kind)
    out.push({ base: s.e.candidate.publicRef, kind, ...(s.total !== undefined ? { estimatedBytes: s.total } : {}), confidence: confidence(s), costs: costsOf(s, req) })
  }
  return out
}

/** One header line per alternative. */
export function alternativeLine(a: Alternative): string {
  const how: Record<OptionKind, string> = { 'runtime-image': 'runtime image', 'interpreter-copied': 'interpreter copied, no shell', 'base-with-shell': 'interpreter copied, with a shell' }
  return `${a.base} (${how[a.kind]}): ${a.estimatedBytes !== undefined ? `about ${formatBytes(a.estimatedBytes)}` : 'size unknown'}, confidence ${a.confidence}; costs: ${a.costs.join('; ')}`
}
