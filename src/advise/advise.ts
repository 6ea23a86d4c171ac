/**
 * advise(): from an inspection to a recommendation. Reads the requirements, picks the runtime
 * user, ranks the catalogue, plans the copies for the winner, carries the config over, estimates
 * the size, writes the Dockerfile and lints it. How sure slim is comes last, from everything it
 * could not see (inspection gaps, unresolved libraries, unverified catalogue facts).
 */
import { firstFew } from '../core/format.js'
import type { Platform } from '../image/types.js'
import type { Inspection } from '../inspect/types.js'
import type { Base } from './catalogue/types.js'
import { alternativeLine, alternativesOf, patchBehind, rankBySize, type Sized } from './alternatives.js'
import { baseSize, decide, type Evaluated } from './decide.js'
import { formatBytes, renderDockerfile, savedText } from './dockerfile.js'
import { lintDockerfile } from './lint.js'
import { planCopies, type CopyPlan } from './plan.js'
import { javaReasons } from './java-runtime.js'
import { catalogueGaps, inspectionGaps, silentlySkipped } from './gaps.js'
import { needsOf, requirementsOf, type Requirements } from './requirements.js'
import { runtimeConfig } from './runtime-config.js'
import type { Advice, AdviceConfidence, AdviceGap, AdviseInput, Alternative, Plan, Rejection, SizeEstimate, SourceImage } from './types.js'
import { accessProblems } from './access.js'
import { chooseUser } from './user.js'
import { END_OF_LIFE_OWN_RELEASE } from './rules.js'

export function advise(input: AdviseInput): Advice {
  const { inspection: insp, image, catalogue } = input
  const options = input.options ?? {}
  const platform: Platform = options.platform ?? image.platform
  const req = requirementsOf(insp, image, platform)
  const gaps = inspectionGaps(insp)

  if (insp.program.kind === 'missing') {
    const why = insp.findings.find((f) => f.code === 'no-command' || f.code === 'program-missing' || f.code === 'not-executable')
    return {
      verdict: 'nothing-to-run',
      summary: `nothing to slim: ${why?.message ?? 'the image names no program slim could find'}`,
      reasons: [why?.message ?? 'no ENTRYPOINT/CMD program was found in the image'],
      confidence: 'low',
      confidenceWhy: ['low: slim found no program to run'],
      gaps,
      ranking: [],
      rejected: [],
      forced: options.base !== undefined,
      lint: [],
    }
  }

  let user = chooseUser(insp, image.config.User, options.user)
  const forced = options.base !== undefined
  const decideFor = (u: typeof user) => decide(req, catalogue, { uid: u.uid, userFromImage: u.source === 'image' || u.source === 'root-kept', mirrors: options.mirrors, forced: options.base })
  let decision = decideFor(user)
  // Nothing fits as is: still offer the best viable option, and say what it costs (a retired base
  // with its warning, or a CA bundle, tzdata or /tmp copied from the source).
  let lenient = false
  if (decision.ranking.length === 0 && !forced) {
    const relaxed = decide(req, catalogue, { uid: user.uid, userFromImage: user.source === 'image' || user.source === 'root-kept', mirrors: options.mirrors, lenient: true })
    if (relaxed.ranking.length) {
      decision = { ranking: relaxed.ranking, rejected: decision.rejected }
      lenient = true
    }
  }
  if (decision.ranking.length === 0) {
    const closest = closestSupported(decision.rejected, catalogue)
    return {
      verdict: 'keep',
      summary: `keep the current base: ${keepReason(req, decision.rejected)}${closest ? `; ${closest}` : ''}`,
      reasons: [keepReason(req, decision.rejected), ...ownReleaseEndOfLife(decision.rejected, req), ...topRejections(decision.rejected, 5)],
      confidence: confidenceOf(gaps, insp).level,
      confidenceWhy: confidenceOf(gaps, insp).why,
      gaps,
      ranking: [],
      rejected: decision.rejected,
      forced,
      lint: [],
    }
  }

  // Interpreted apps: rank the viable bases by the planned final image (runtime image, interpreter
  // copied onto a smaller base, or a base with a shell), not by the base alone.
  const interpreted = !!req.runtime && req.runtime.language !== 'shell' && !forced && !!input.rootfs
  const planFor = (e: Evaluated) => planCopies({ insp, req, chosen: e, user, rootfs: input.rootfs, keep: options.keep ?? [] })
  let sized: Sized[] = []
  const bySize = (d: typeof decision) => {
    const s = interpreted ? rankBySize(d.ranking, req, planFor) : undefined
    sized = s ?? []
    return s ? { ...d, ranking: [...s.map((x) => x.e), ...d.ranking.filter((e) => !s.some((x) => x.e === e))] } : d
  }
  decision = bySize(decision)
  let chosen = decision.ranking[0]
  let copyPlan = planCopies({ insp, req, chosen, user, rootfs: input.rootfs, keep: options.keep ?? [] })
  // Prove the user can read what the program reads and write what it writes; nonroot that cannot
  // falls back to root (saying which path), the image's own or an asked-for user keeps a gap.
  let access = accessProblems(copyPlan.copies, user, input.rootfs)
  if (access.problems.length && user.source === 'base-nonroot') {
    user = { uid: 0, gid: 0, spec: '0:0', source: 'root-kept', note: `stays root: ${access.problems[0]}${access.problems.length > 1 ? ` (and ${access.problems.length - 1} more)` : ''}` }
    decision = bySize(lenient ? { ...decide(req, catalogue, { uid: 0, userFromImage: true, mirrors: options.mirrors, lenient: true }), rejected: decision.rejected } : decideFor(user))
    chosen = decision.ranking[0] ?? chosen
    copyPlan = planCopies({ insp, req, chosen, user, rootfs: input.rootfs, keep: options.keep ?? [] })
    access = { problems: [], checked: 0 }
  }
  if (access.problems.length) copyPlan.gaps.push(...access.problems.map((message) => ({ area: 'access' as const, message })))
  else if (access.checked > 0) user = { ...user, note: `${user.note}; checked: it can read and write the ${access.checked} copied paths it uses` }
  const runtime = runtimeConfig({ insp, chosen, config: image.config, copies: copyPlan.copies, ldLibraryPath: copyPlan.ldLibraryPath })
  const plan: Plan = {
    base: chosen.candidate,
    copies: copyPlan.copies,
    user,
    runtime,
    ldLibraryPath: copyPlan.ldLibraryPath,
    estimate: estimate(chosen, copyPlan, image),
    accounts: copyPlan.accounts,
    ...(copyPlan.java ? { java: copyPlan.java } : {}),
    notes: [...chosen.candidate.notes.filter((n) => !chosen.warnings.includes(n) && !chosen.fills.some((f) => f.note === n)), ...copyPlan.notes],
  }
  gaps.push(...copyPlan.gaps, ...chosen.warnings.map((message) => ({ area: 'base' as const, message })), ...catalogueGaps(chosen.base, req))
  if (plan.estimate.baseBytes === undefined) gaps.push({ area: 'base', message: `${chosen.base.name}: its size is not in the catalogue, so the estimate has no total` })
  const { level: confidence, why: confidenceWhy } = confidenceOf(gaps, insp, chosen)
  const reasons = reasonsFor(req, chosen, forced, insp, decision.ranking)
  if (copyPlan.java?.mode === 'jlink') {
    // The JDK's own libraries come with the linked runtime: name only the libraries really copied.
    const libs = copyPlan.copies.filter((c) => c.kind === 'library').map((c) => c.source.slice(c.source.lastIndexOf('/') + 1))
    const at = reasons.findIndex((r) => /^\d+ librar(y is|ies are) copied: /.test(r))
    if (at >= 0) reasons[at] = `${libs.length === 1 ? '1 library is' : `${libs.length} libraries are`} copied${libs.length ? `: ${firstFew(libs, ', ')}` : ''} (the JDK's own come with the linked runtime)`
  }
  if (lenient) {
    const costs = [...chosen.warnings, ...chosen.fills.map((f) => f.note)]
    reasons.unshift(`no base fits as is (${topRejections(decision.rejected, 1)[0] ?? 'every base was rejected'}); the best viable option costs: ${costs.join('; ') || 'nothing more'}`)
  }
  reasons.push(...ownReleaseEndOfLife(decision.rejected, req), ...javaReasons(copyPlan.java, insp))
  const rt = req.runtime
  if (rt?.version && chosen.base.runtime?.version && chosen.base.runtime.language === rt.language && chosen.base.runtime.version !== rt.version) {
    const behind = patchBehind(rt.version, chosen.base.runtime.version) ? ', an older patch release than the app\'s (without its fixes)' : ''
    reasons.push(`the app was built with ${rt.language} ${rt.version}; ${chosen.base.name} has ${chosen.base.runtime.version}${behind}: test it on that version`)
  }
  let alternatives: Alternative[] | undefined
  if (interpreted) {
    // A runtime image found only with relaxed rules (a retired one) is still worth naming, with its warning.
    const relaxed = sized.some((s) => s.e.base.runtime) || lenient ? [] : decide(req, catalogue, { uid: user.uid, userFromImage: user.source === 'image' || user.source === 'root-kept', mirrors: options.mirrors, lenient: true }).ranking.filter((e) => e.base.runtime).slice(0, 1)
    const extra = relaxed.map((e) => rankBySize([e], req, planFor)[0]!)
    const base = inspectionGaps(insp)
    alternatives = alternativesOf(chosen, sized, extra, req, (s) => confidenceOf([...base, ...s.plan.gaps, ...s.e.warnings.map((message) => ({ area: 'base' as const, message })), ...catalogueGaps(s.e.base, req)], insp, s.e).level)
  }
  const smaller = smallerRejections(decision.rejected, catalogue, chosen)
  const dockerfile = renderDockerfile({ source: image, plan, reasons, rejected: smaller, otherRejections: decision.rejected.length - smaller.length, forced, confidence, gaps, alternatives: alternatives?.map(alternativeLine) })
  const lint = lintDockerfile(dockerfile, { baseShell: !!chosen.base.provides.shell })
  const est = plan.estimate
  const size = est.totalBytes !== undefined ? `, about ${formatBytes(est.totalBytes)} vs ${formatBytes(est.todayBytes)}${est.savedPercent !== undefined ? ` (${savedText(est.savedPercent)})` : ''}` : ''
  // An image that is already minimal (a scratch image with just the program, say) would grow on
  // any real base: say so instead of advising a bigger image as if it were a slimmer one.
  // A runtime verdict ("no distroless runtime for Python 3.9: keep a slim Debian base") says more.
  const runtimeLine = runtimeVerdict(req, chosen, alternatives)
  const alreadySmall = !forced && !runtimeLine && est.totalBytes !== undefined && est.totalBytes >= est.todayBytes
  const verdictLine = alreadySmall
    ? `already small: ${formatBytes(est.todayBytes)} today; the best base that fits, ${chosen.candidate.publicRef}, would make it about ${formatBytes(est.totalBytes!)}, so slim advises no Dockerfile (\`slim dockerfile --harden\` writes one that only hardens it: pinned base, numeric non-root USER)`
    : (runtimeLine ?? `use ${chosen.candidate.publicRef}`)
  return {
    verdict: alreadySmall ? 'already-small' : 'slim',
    summary: alreadySmall ? verdictLine : `${verdictLine}${size}`,
    reasons,
    confidence,
    confidenceWhy,
    gaps,
    ranking: decision.ranking.map((e) => e.candidate),
    ...(alternatives ? { alternatives } : {}),
    rejected: decision.rejected,
    forced,
    plan,
    dockerfile,
    lint,
  }
}

/** The level and why it was chosen (recorded in the JSON): "high" only when every need was understood. */
function confidenceOf(gaps: AdviceGap[], insp: Inspection, chosen?: Evaluated): { level: AdviceConfidence; why: string[] } {
  const why: string[] = []
  const unresolved = insp.closure.unresolved.filter((u) => !silentlySkipped(insp, u.name))
  if (unresolved.length) why.push(`low: ${unresolved.length} unresolved ${unresolved.length === 1 ? 'library' : 'libraries'} (${unresolved.map((u) => u.name).slice(0, 3).join(', ')})`)
  for (const f of insp.findings) if (f.severity === 'error') why.push(`low: ${f.message}`)
  if (insp.program.kind === 'script' && insp.program.stopped) why.push(`low: the script reading stopped at ${insp.program.stopped.at}`)
  for (const w of chosen?.warnings ?? []) why.push(`low: ${w}`)
  if (gaps.length >= 4) why.push(`low: ${gaps.length} gaps`)
  if (why.length) return { level: 'low', why }
  if (gaps.length) return { level: 'medium', why: [`medium: ${gaps.length === 1 ? '1 gap' : `${gaps.length} gaps`} (what slim could not check is listed in gaps)`] }
  return { level: 'high', why: ['high: every need was understood and no gap remains'] }
}

function estimate(chosen: Evaluated, plan: CopyPlan, image: SourceImage): SizeEstimate {
  // A linked Java runtime is made in a build stage: its estimated size counts as copied.
  const copiedBytes = plan.copies.reduce((s, c) => s + (c.bytes ?? 0), 0) + (plan.java?.jlink?.estimatedBytes ?? 0)
  const unknownCopies = plan.copies.filter((c) => c.bytes === undefined).length
  const known = image.layers.length > 0 && image.layers.every((l) => l.fileBytes !== undefined)
  const todayBytes = known ? image.layers.reduce((s, l) => s + (l.fileBytes ?? 0), 0) : image.layers.reduce((s, l) => s + Math.max(0, l.compressedSize), 0)
  const baseBytes = chosen.candidate.baseBytes
  const totalBytes = baseBytes !== undefined ? baseBytes + copiedBytes : undefined
  const savedPercent = totalBytes !== undefined && todayBytes > 0 ? Math.round((1 - totalBytes / todayBytes) * 1000) / 10 : undefined
  return {
    ...(baseBytes !== undefined ? { baseBytes } : {}),
    baseBasis: chosen.candidate.sizeBasis,
    copiedBytes,
    unknownCopies,
    ...(totalBytes !== undefined ? { totalBytes } : {}),
    todayBytes,
    todayBasis: known ? 'layer files' : 'compressed layers',
    ...(savedPercent !== undefined ? { savedPercent } : {}),
  }
}

function describeProgram(req: Requirements, insp: Inspection): string {
  if (req.runtime) return `a ${req.runtime.language}${req.runtime.version ? ` ${req.runtime.version}` : ''} app`
  const lang = insp.go ? 'Go ' : insp.rust?.isRust ? 'Rust ' : insp.elf?.cxx ? 'C++ ' : ''
  if (req.libc === 'static') return `a static ${lang}program`
  if (req.libc === 'unknown') return `a ${lang}program of unknown linkage`
  return `a dynamic ${lang}program linked against ${req.libc}`
}

function reasonsFor(req: Requirements, chosen: Evaluated, forced: boolean, insp: Inspection, ranking: Evaluated[]): string[] {
  const c = chosen.candidate
  const out = [`${describeProgram(req, insp)}${req.glibc ? ` needing GLIBC_${req.glibc}` : ''}${req.glibcxx ? ` and GLIBCXX_${req.glibcxx}` : ''}`]
  const needs: string[] = []
  if (needsOf(req, 'ca-certificates').length) needs.push('the CA bundle')
  if (needsOf(req, 'tzdata').length) needs.push('tzdata')
  if (needsOf(req, 'user').length) needs.push('/etc/passwd')
  if (needsOf(req, 'tmp').length) needs.push('/tmp')
  if (req.shellReasons.length) needs.push(`a shell (${req.shellReasons[0]})`)
  if (needs.length) out.push(`it needs ${needs.join(', ')}${forced ? '' : `, which ${c.name} provides`}`)
  if (forced) out.push(`${c.name} was asked for with --base`)
  else if (c.copiedLibraries.length === 0 && req.libraries.length > 0) out.push(`${c.name} ships every library the program loads`)
  // A Python app's ~70 extension modules would make this one reason a screenful: the count and a
  // few names here, every name in the JSON (ranking[0].copiedLibraries) and the plan.
  else if (c.copiedLibraries.length) out.push(`${c.copiedLibraries.length === 1 ? '1 library is' : `${c.copiedLibraries.length} libraries are`} copied: ${firstFew(c.copiedLibraries, ', ')}`)
  if (c.sameDistro && req.usesDistroLibraries) out.push(`it is the same release as the source (${req.sourceDistro?.id} ${req.sourceDistro?.versionId}), so copied libraries match its libc`)
  if (!forced) out.push(whyFirst(chosen, ranking, req))
  if (c.status !== 'supported') out.push(`${c.name} is ${c.status === 'eol' ? 'end of life' : 'retired'}: move to a supported release when you can`)
  return out
}

/** Why the choice ranks first, against the best-ranked smaller base when there is one (same keys,
 * same order as compareCandidates). */
function whyFirst(chosen: Evaluated, ranking: Evaluated[], req: Requirements): string {
  const c = chosen.candidate
  const smaller = ranking.filter((e) => e !== chosen && e.candidate.estimatedBytes !== undefined && c.estimatedBytes !== undefined && e.candidate.estimatedBytes < c.estimatedBytes)
  if (smaller.length === 0) return 'the smallest base that meets every requirement'
  // The smaller base that ranked highest is the one that nearly won: say which key decided.
  const s = smaller[0].candidate
  if (req.usesDistroLibraries && c.sameDistro && !s.sameDistro) return `ranked above the smaller ${s.name}: same release as the source`
  if (s.idleShell && !c.idleShell) return `ranked above the smaller ${s.name}, which has a shell the program does not need`
  if (s.status !== 'supported' && c.status === 'supported') return `ranked above the smaller ${s.name}, which is ${s.status === 'eol' ? 'end of life' : 'retired'}`
  if (s.copiedLibraries.length > c.copiedLibraries.length) {
    const n = s.copiedLibraries.length - c.copiedLibraries.length
    return `ranked above the smaller ${s.name}, which would need ${n} more copied ${n === 1 ? 'library' : 'libraries'} (${firstFew(s.copiedLibraries.filter((l) => !c.copiedLibraries.includes(l)), ', ')}) frozen at the source's versions`
  }
  return 'the best-ranked base that meets every requirement'
}

/** "no distroless runtime for Python 3.9: keep a slim Debian base" when that is what happened. */
function runtimeVerdict(req: Requirements, chosen: Evaluated, alternatives: Alternative[] = []): string | undefined {
  const rt = req.runtime
  if (!rt || chosen.base.runtime || rt.language === 'shell') return undefined
  const names: Record<string, string> = { python: 'Python', node: 'Node.js', java: 'Java', ruby: 'Ruby', php: 'PHP', perl: 'Perl' }
  const lang = names[rt.language] ?? rt.language
  const version = rt.version ? ` ${rt.version.split('.').slice(0, rt.language === 'java' ? 1 : 2).join('.')}` : ''
  const image = alternatives.find((a) => a.kind === 'runtime-image')
  if (image) return `use ${chosen.candidate.publicRef} with the app's own ${lang}${version} interpreter copied (ranked above the runtime image ${image.base}, which is an alternative)`
  const line = `no distroless runtime for ${lang}${version}`
  if (chosen.base.provides.shell) return `${line}: keep a slim ${chosen.base.family === 'debian' ? 'Debian' : chosen.base.family} base (${chosen.candidate.publicRef}) with the interpreter copied`
  return `${line}: copy the interpreter, its standard library and the app's packages onto ${chosen.candidate.publicRef}`
}

/** The rejections that answer "why not something smaller?": bases smaller than the choice. */
function smallerRejections(rejected: Rejection[], catalogue: Base[], chosen: Evaluated): Rejection[] {
  const limit = chosen.candidate.baseBytes
  if (limit === undefined) return rejected.filter((r) => r.rule !== 'not-needed' && r.rule !== 'status')
  return rejected.filter((r) => {
    const b = catalogue.find((x) => x.name === r.base)
    const size = b ? baseSize(b).bytes : undefined
    return size !== undefined && size < limit
  })
}

/** "alpine:3.10 (rejected: end of life; it is the source's own release ...)" said as a reason,
 * since the source's own release is the base a reader expects. */
function ownReleaseEndOfLife(rejected: Rejection[], req: Requirements): string[] {
  const own = rejected.find((r) => r.reason.includes(END_OF_LIFE_OWN_RELEASE))
  if (!own) return []
  return [`${own.base} (the source's own release, ${req.sourceDistro?.id} ${req.sourceDistro?.versionId}) is end of life: slim does not advise it; move the image to a supported release`]
}

/** The supported base that came closest (rejections are ordered closest first), and what it lacks. */
function closestSupported(rejected: Rejection[], catalogue: Base[]): string | undefined {
  const r = rejected.find((x) => catalogue.find((b) => b.name === x.base)?.status === 'supported' && x.rule !== 'not-needed' && x.rule !== 'architecture')
  return r ? `the closest supported base is ${r.base}, and what stops it is: ${r.reason}` : undefined
}

function topRejections(rejected: Rejection[], n: number): string[] {
  return rejected.slice(0, n).map((r) => `${r.base}: ${r.reason}`)
}

function keepReason(req: Requirements, rejected: Rejection[]): string {
  if (req.runtime && req.runtime.language !== 'shell') {
    return `no catalogue base can run this ${req.runtime.language} app (no matching runtime image and no Debian base fits)`
  }
  const glibc = rejected.find((r) => r.rule === 'glibc-version')
  if (glibc) return `no catalogue base has a glibc new enough (${glibc.reason}); keep the current base or add one in the config file`
  // Rejections come closest first: when the closest were refused only for being out of support,
  // that is the story (alpine 3.10 on its own end-of-life release), not their reason text.
  const outOfSupport = rejected.filter((r) => r.rule === 'status').map((r) => r.base)
  if (outOfSupport.length && rejected[0]?.rule === 'status') {
    return `only bases out of support would run it (${outOfSupport.slice(0, 3).join(', ')}${outOfSupport.length > 3 ? ', ...' : ''}: end of life or retired); add a supported one in the config file, or force one with --base`
  }
  return `no catalogue base meets every requirement (${rejected[0]?.reason ?? 'empty catalogue'}); add one in the config file`
}
