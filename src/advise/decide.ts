/**
 * Ranking the catalogue: every base goes through every rule (rules.ts); the ones that pass are
 * ordered by what makes a final image smaller and safer to keep up to date:
 *
 *   1. for a program linked against distribution libraries, the source's own release first
 *      (copied libraries then match the base's libc build exactly);
 *   2. no shell the program does not need (a shell is attack surface);
 *   3. supported before end-of-life;
 *   4. fewer copied libraries (a library the base ships is patched when the base is; a copied one
 *      is frozen at the source's version), so libssl in the closure picks `base` over `base-nossl`;
 *   5. for runtime images, the language version closest to the app's;
 *   6. for interpreted apps, a runtime image before a base that gets the interpreter copied (the
 *      base's size here leaves the interpreter out; advise re-ranks by the planned size);
 *   7. smaller estimated size (base + copied libraries; unknown sizes last);
 *   8. name, so the order never depends on the catalogue's.
 */
// One function, not the whole of semver: loading all of it is a visible part of start-up.
import coerce from 'semver/functions/coerce.js'
import { SlimError } from '../core/errors.js'
import type { ResolvedLibrary } from '../inspect/types.js'
import { findBase, imageRef } from './catalogue/load.js'
import type { Base, BaseTag } from './catalogue/types.js'
import { applyMirror, type Mirrors } from './config.js'
import type { Requirements } from './requirements.js'
import { RULES, sameRelease, type Fill } from './rules.js'
import type { Candidate, Rejection, RuleName } from './types.js'

/** A viable base with everything the plan needs from the decision. */
export interface Evaluated {
  base: Base
  tag: BaseTag
  candidate: Candidate
  fills: Fill[]
  warnings: string[]
  /** Closure libraries the base does not provide. */
  missing: ResolvedLibrary[]
}

export interface Decision {
  ranking: Evaluated[]
  rejected: Rejection[]
}

export interface DecideOptions {
  /** The uid the final image runs as (the users rule checks it). */
  uid: number
  /** That uid is the image's own user (not the base's nonroot). */
  userFromImage?: boolean
  mirrors?: Mirrors
  /** `--base`: rank only this base, and fill what it lacks from the source instead of refusing. */
  forced?: string
  /** No base fits as is: relax status and fillable facilities (rules.ts RuleContext.lenient). */
  lenient?: boolean
}

/** Rules by which a loader finds a library in a base's default directories (so the base's copy counts). */
const DEFAULT_RULES = new Set(['default', 'ld.so.conf', 'musl-path', 'musl-self', 'already-loaded'])

/** Does the base provide this library under the name the loader looks for? */
export function baseProvides(base: Base, lib: ResolvedLibrary): boolean {
  const flavour = base.provides.libc.flavour
  if (lib.rule === 'musl-self') return flavour === 'musl'
  if (lib.rule === 'interpreter') return false // the loader: see loaderProvided
  if (!DEFAULT_RULES.has(lib.rule)) return false // found through RPATH/RUNPATH/a path: the app's own copy
  if (lib.name.includes('/')) return false
  return base.provides.sonames.includes(lib.name)
}

export function loaderProvided(base: Base, req: Requirements): boolean {
  if (!req.interpreter) return true
  const loaders = base.provides.interpreters[req.arch as keyof Base['provides']['interpreters']] ?? []
  return loaders.includes(req.interpreter)
}

/** Bytes of a base's filesystem: the measured (uncompressed) size, else an estimate from the compressed one. */
export function baseSize(base: Base): { bytes?: number; basis: string } {
  if (base.family === 'scratch') return { bytes: 0, basis: 'empty' }
  if (base.size.uncompressed !== undefined) return { bytes: base.size.uncompressed, basis: base.size.basis }
  // gzip shrinks a base's files to roughly 40-45%: alpine 3.20 is 3.49 MB compressed, 8.0 MiB unpacked.
  if (base.size.compressed !== undefined) return { bytes: Math.round(base.size.compressed * 2.3), basis: `estimate: ${base.size.basis} (compressed) x 2.3` }
  return { basis: 'unknown' }
}

/** The tag to write: a pinned one first, then one whose USER is ours (a program that must run as
 * root gets `latest`, not `:nonroot` with USER 0:0 on top), then anything but "latest" (DL3007). */
export function chooseTag(base: Base, arch: string, uid: number, wanted?: BaseTag): BaseTag {
  if (wanted) return wanted
  const digest = (t: BaseTag) => t.digests?.[arch as keyof NonNullable<BaseTag['digests']>]
  const score = (t: BaseTag) => (digest(t) ? 4 : 0) + (Number(t.user || 0) === uid ? 2 : 0) + (t.tag !== 'latest' ? 1 : 0)
  return [...base.tags].sort((a, b) => score(b) - score(a))[0] ?? base.tags[0]
}

/** A rejected base with every rule it failed, so the list can rank bases by how close they came. */
interface Refusal {
  base: Base
  failed: { rule: RuleName; reason: string }[]
}

function evaluate(base: Base, req: Requirements, forced: boolean, opts: DecideOptions, wantedTag?: BaseTag): Evaluated | Refusal {
  const fills: Fill[] = []
  const warnings: string[] = []
  const notes: string[] = []
  const failed: Refusal['failed'] = []
  for (const rule of RULES) {
    const out = rule.check({ base, req, forced, uid: opts.uid, userFromImage: opts.userFromImage, lenient: opts.lenient })
    if (!out) continue
    // A base without the program's libc has no loader for it either: that says nothing more.
    if ('reject' in out) {
      if (!(rule.name === 'interpreter' && failed.some((f) => f.rule === 'libc'))) failed.push({ rule: rule.name, reason: out.reject })
    } else if ('fill' in out) fills.push(...out.fill)
    else if ('warn' in out) warnings.push(out.warn)
    else notes.push(out.note)
  }
  if (failed.length) return { base, failed }
  const tag = chooseTag(base, req.arch, opts.uid, wantedTag)
  const publicRef = imageRef(base, tag, req.arch)
  const ref = applyMirror(publicRef, opts.mirrors ?? {})
  const digest = tag.digests?.[req.arch as keyof NonNullable<BaseTag['digests']>]
  const runtimeLibsOnly = !!base.runtime
  const missing = req.libraries.filter((l) => !baseProvides(base, l) && !(runtimeLibsOnly && onlyForRuntime(l, req)))
  if (req.loader && !loaderProvided(base, req) && !(runtimeLibsOnly && onlyForRuntime(req.loader, req))) missing.unshift(req.loader)
  const size = baseSize(base)
  const copied = missing.reduce((s, l) => s + l.size, 0)
  const candidate: Candidate = {
    name: base.name,
    family: base.family,
    status: base.status,
    tag: tag.tag,
    ref,
    publicRef: publicRef.replace(/@sha256:[0-9a-f]+$/, ''),
    ...(digest ? { digest } : {}),
    copiedLibraries: missing.map((l) => (l.name.includes('/') ? l.name.slice(l.name.lastIndexOf('/') + 1) : l.name)),
    ...(size.bytes !== undefined ? { baseBytes: size.bytes, estimatedBytes: size.bytes + copied } : {}),
    sizeBasis: size.basis,
    sameDistro: sameRelease(base, req),
    idleShell: !!base.provides.shell && req.shellReasons.length === 0,
    ...runtimeDistance(base, req),
    notes: [...fills.map((f) => f.note), ...warnings, ...notes],
  }
  return { base, tag, candidate, fills, warnings, missing }
}

/** Java runs on any newer JRE, but the closest one is the least surprising. */
function runtimeDistance(base: Base, req: Requirements): { runtimeDistance?: number } {
  const a = coerce(base.runtime?.version ?? '')
  const b = coerce(req.runtime?.version ?? '')
  if (!base.runtime || !a || !b) return {}
  return { runtimeDistance: Math.abs(a.major - b.major) * 1000 + Math.abs(a.minor - b.minor) }
}

/** For interpreted apps on a runtime image: a library only the interpreter needs comes with the base. */
function onlyForRuntime(lib: ResolvedLibrary, req: Requirements): boolean {
  let known = runtimeOnly.get(req)
  if (!known) runtimeOnly.set(req, (known = new Map()))
  return runtimeOnlyMemo(lib, req, known)
}

/**
 * Answers per requirements object: every base in the catalogue asks about every library, and the
 * question recurses through the libraries that need it (a big image's closure made that most of
 * advise's time). A library on a cycle of NEEDED entries is not only the interpreter's.
 */
const runtimeOnly = new WeakMap<Requirements, Map<ResolvedLibrary, boolean>>()

function runtimeOnlyMemo(lib: ResolvedLibrary, req: Requirements, known: Map<ResolvedLibrary, boolean>): boolean {
  const seen = known.get(lib)
  if (seen !== undefined) return seen
  known.set(lib, false)
  const exe = req.runtime?.executable
  const yes = !!exe && lib.neededBy.length > 0 && lib.neededBy.every((n) => n === exe || req.libraries.some((o) => o.realPath === n && runtimeOnlyMemo(o, req, known)))
  known.set(lib, yes)
  return yes
}

/** Within one base, the reason a reader learns most from comes first: what the program needs that
 * the base lacks, then what it cannot run at all, then no use for its language, out of support, or
 * a runtime image it does not need. */
const REJECTION_ORDER: RuleName[] = [
  'libc', 'interpreter', 'glibc-version', 'glibc-relr', 'glibcxx-version', 'cxxabi-version', 'ca-bundle', 'tzdata', 'users', 'tmp',
  'shell', 'runtime-version', 'architecture', 'runtime', 'not-needed', 'status',
]

const STATUS_ORDER: Record<Base['status'], number> = { supported: 0, eol: 1, retired: 2 }

export function compareCandidates(a: Candidate, b: Candidate, req: Requirements): number {
  const interpreted = !!req.runtime && req.runtime.language !== 'shell'
  // Copies from the source's release onto another: its libraries, or (no runtime in the base) the interpreter.
  const acrossReleases = (c: Candidate) => Number((c.copiedLibraries.length > 0 || c.runtimeDistance === undefined) && !c.sameDistro)
  const keys: [number, number][] = [
    // An interpreted app on its runtime image copies nothing of the source's release: it only matters for copies.
    req.usesDistroLibraries ? (interpreted ? [acrossReleases(a), acrossReleases(b)] : [Number(b.sameDistro), Number(a.sameDistro)]) : [0, 0],
    [Number(a.idleShell), Number(b.idleShell)],
    [STATUS_ORDER[a.status], STATUS_ORDER[b.status]],
    [a.copiedLibraries.length, b.copiedLibraries.length],
    [a.runtimeDistance ?? 0, b.runtimeDistance ?? 0],
    // Here a base's size leaves out the interpreter a base without the runtime gets copied, so
    // the runtime image goes first (advise re-ranks by planned size when it has the filesystem).
    interpreted ? [Number(a.runtimeDistance === undefined), Number(b.runtimeDistance === undefined)] : [0, 0],
    [a.estimatedBytes ?? Number.MAX_SAFE_INTEGER, b.estimatedBytes ?? Number.MAX_SAFE_INTEGER],
  ]
  for (const [x, y] of keys) if (x !== y) return x - y
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

export function decide(req: Requirements, catalogue: readonly Base[], opts: DecideOptions): Decision {
  if (opts.forced !== undefined) {
    const found = findBase(catalogue, opts.forced)
    if (!found) {
      const names = catalogue.map((b) => b.name).slice(0, 12).join(', ')
      throw new SlimError('usage', `--base ${opts.forced}: no such base in the catalogue; use one of ${names}, ... (or add it in the config file)`)
    }
    const wantedTag = opts.forced.trim().endsWith(`:${found.tag.tag}`) ? found.tag : undefined
    const out = evaluate(found.base, req, true, opts, wantedTag)
    if ('failed' in out) {
      throw new SlimError('usage', `--base ${opts.forced}: ${found.base.name} cannot run this program: ${rejectionOf(out).reason}; drop --base to let slim choose, or pick a base that has it`)
    }
    return { ranking: [out], rejected: [] }
  }
  const ranking: Evaluated[] = []
  const refused: Refusal[] = []
  for (const base of catalogue) {
    const out = evaluate(base, req, false, opts)
    if ('failed' in out) refused.push(out)
    else ranking.push(out)
  }
  ranking.sort((a, b) => compareCandidates(a.candidate, b.candidate, req))
  refused.sort((a, b) => compareRefusals(a, b, req))
  return { ranking, rejected: refused.map(rejectionOf) }
}

/** One rejection per base: the most telling rule, and every reason it failed (out of support last). */
function rejectionOf(r: Refusal): Rejection {
  const failed = [...r.failed].sort((a, b) => REJECTION_ORDER.indexOf(a.rule) - REJECTION_ORDER.indexOf(b.rule))
  return { base: r.base.name, rule: failed[0].rule, reason: failed.map((f) => f.reason).join('; ') }
}

/**
 * The rejected bases that came closest lead, so the list answers "what nearly fitted?" before it
 * lists bases that could never run the program: fewest requirements missed (a base refused only
 * for being end of life fits the program), then supported before end of life before retired, the
 * source's own release first, then the most telling rule, then size.
 */
function compareRefusals(a: Refusal, b: Refusal, req: Requirements): number {
  const misses = (r: Refusal) => r.failed.filter((f) => f.rule !== 'status').length
  const first = (r: Refusal) => Math.min(...r.failed.map((f) => REJECTION_ORDER.indexOf(f.rule)))
  const size = (r: Refusal) => baseSize(r.base).bytes ?? Number.MAX_SAFE_INTEGER
  const keys: [number, number][] = [
    [misses(a), misses(b)],
    [STATUS_ORDER[a.base.status], STATUS_ORDER[b.base.status]],
    [Number(sameRelease(b.base, req)), Number(sameRelease(a.base, req))],
    [first(a), first(b)],
    [size(a), size(b)],
  ]
  for (const [x, y] of keys) if (x !== y) return x - y
  return a.base.name < b.base.name ? -1 : a.base.name > b.base.name ? 1 : 0
}
