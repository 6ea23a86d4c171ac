/**
 * One small function per requirement, each comparing one fact of the program with one fact of a
 * base (the ladder in base-images.md §4, split into its rungs). A rule either passes, rejects the
 * base with a sentence a human can check ("needs GLIBC_2.38 > 2.36"), or passes on the condition
 * that some files are copied from the source image (`fill`): a forced `--base scratch` gets the
 * CA bundle copied instead of being refused.
 *
 * Facilities a maintained base keeps patched (CA bundle, tzdata, passwd, /tmp) are never filled
 * automatically: a copied CA bundle is frozen at the source's date, so a base that ships one wins.
 */
// The two functions, not the whole of semver: loading all of it is a visible part of start-up.
import coerce from 'semver/functions/coerce.js'
import eq from 'semver/functions/eq.js'
import type { Need } from '../inspect/types.js'
import type { Base } from './catalogue/types.js'
import { bareVersion, compareVersions, needsOf, versionParts, type Requirements } from './requirements.js'
import type { RuleName } from './types.js'

export interface RuleContext {
  base: Base
  req: Requirements
  /** The user asked for this base: fillable gaps are filled instead of rejecting. */
  forced: boolean
  /** The uid the final image runs as. */
  uid: number
  /** That user is the image's own (kept from its USER, or root kept): its passwd entry is the image's. */
  userFromImage?: boolean
  /** No base fits as is: a retired or end-of-life base passes with a warning, and a missing CA
   * bundle, tzdata or /tmp is copied from the source, so the best viable option is still offered. */
  lenient?: boolean
}

/** Files to copy from the source because the base lacks what a need asks for. */
export interface Fill {
  need: Need
  /** Octal mode for the copy, when it must differ from the source's. */
  chmod?: string
  note: string
}

/** reject: the base cannot run it; fill: it can, with these files copied; warn: it can, but may
 * fail (lowers confidence); note: it can, with something worth saying. */
export type RuleOutcome = undefined | { reject: string } | { fill: Fill[] } | { warn: string } | { note: string }

export interface Rule {
  name: RuleName
  check(ctx: RuleContext): RuleOutcome
}

const pass: RuleOutcome = undefined
const reject = (reason: string): RuleOutcome => ({ reject: reason })

function evidenceOf(needs: Need[]): string {
  const e = needs.flatMap((n) => n.evidence).slice(0, 2)
  return e.length ? ` (${e.join('; ')})` : ''
}

/** Retired bases are no longer rebuilt; end-of-life ones are never advised (only `--base` gets one). */
export function checkStatus({ base, req, forced, lenient }: RuleContext): RuleOutcome {
  if (forced || base.status === 'supported') return pass
  // Retired (no more rebuilds) may still be offered when nothing else fits; end of life never is:
  // an image moved onto a base without security fixes is not an improvement, even the source's own
  // release (whose libraries would match), so that one is named as rejected with the reason.
  if (lenient && base.status === 'retired') return { warn: `${base.name} is retired by its publisher (no more rebuilds): it is offered only because no supported base fits` }
  if (base.status === 'eol' && sameRelease(base, req)) return reject(END_OF_LIFE_OWN_RELEASE)
  return reject(base.status === 'retired' ? 'retired by its publisher (tags are no longer rebuilt)' : 'end of life (no security fixes)')
}

/** The rejection of the source's own release when it is end of life (advise.ts names it in the reasons). */
export const END_OF_LIFE_OWN_RELEASE = "end of life (no security fixes); it is the source's own release, but slim never advises an end-of-life base (--base forces it)"

export function checkArchitecture({ base, req }: RuleContext): RuleOutcome {
  if ((base.architectures as string[]).includes(req.arch)) return pass
  return reject(`not published for ${req.arch} (only ${base.architectures.join(', ')})`)
}

export function checkLibc({ base, req, forced }: RuleContext): RuleOutcome {
  const has = base.provides.libc.flavour
  if (req.libc === 'static' || req.libc === 'unknown') return pass
  if (has === req.libc) return pass
  // A C library can travel with the program onto a base without one: loader and libc are copied.
  if (has === 'none' && forced) return { warn: `${base.name} has no C library: the source's own ${req.libc} (loader and libc) is copied with the program` }
  const what = has === 'none' ? 'has no C library' : `has ${has}`
  return reject(`needs ${req.libc}, ${req.libcEvidence}; ${what}`)
}

export function checkInterpreter({ base, req }: RuleContext): RuleOutcome {
  if (!req.interpreter || req.libc === 'static') return pass
  if (base.provides.libc.flavour === 'none') return pass // the loader is copied (checkLibc decided)
  const loaders = base.provides.interpreters[req.arch as keyof Base['provides']['interpreters']] ?? []
  if (loaders.includes(req.interpreter)) return pass
  return reject(`no loader at PT_INTERP ${req.interpreter} for ${req.arch}${loaders.length ? ` (has ${loaders.join(', ')})` : ''}`)
}

/** The closure's highest GLIBC_2.x against the base's libc.so.6. */
export function checkGlibcVersion({ base, req }: RuleContext): RuleOutcome {
  if (req.libc !== 'glibc' || base.provides.libc.flavour !== 'glibc' || !req.glibc) return pass
  const need = versionParts(req.glibc)
  const has = versionParts(base.provides.glibcCeiling ?? base.provides.libc.version)
  if (!need) return pass
  if (!has) return reject(`needs GLIBC_${bareVersion(req.glibc)}; its glibc version is unknown`)
  if (compareVersions(need, has) <= 0) return pass
  return reject(`needs GLIBC_${bareVersion(req.glibc)} > ${has.join('.')}`)
}

/** Packed relocations (GLIBC_ABI_DT_RELR) need a glibc that understands them (2.36+). */
export function checkGlibcRelr({ base, req }: RuleContext): RuleOutcome {
  if (!req.relr || base.provides.libc.flavour !== 'glibc') return pass
  if (base.provides.glibcExtraVersions.includes('GLIBC_ABI_DT_RELR')) return pass
  return reject('needs GLIBC_ABI_DT_RELR (packed relocations, glibc 2.36 or later)')
}

function shipsLibstdcxx(base: Base): boolean {
  return base.provides.sonames.includes('libstdc++.so.6')
}

/** Binding only when the base ships libstdc++ (otherwise the source's is copied with the program). */
export function checkGlibcxxVersion({ base, req }: RuleContext): RuleOutcome {
  if (!req.glibcxx || !shipsLibstdcxx(base)) return pass
  const need = versionParts(req.glibcxx)
  const has = versionParts(base.provides.glibcxxCeiling)
  if (!need || !has) return pass
  if (compareVersions(need, has) <= 0) return pass
  return reject(`needs GLIBCXX_${bareVersion(req.glibcxx)} > ${has.join('.')}`)
}

export function checkCxxabiVersion({ base, req }: RuleContext): RuleOutcome {
  if (!req.cxxabi || !shipsLibstdcxx(base)) return pass
  const need = versionParts(req.cxxabi)
  const has = versionParts(base.provides.cxxabiCeiling)
  if (!need || !has) return pass
  if (compareVersions(need, has) <= 0) return pass
  return reject(`needs CXXABI_${bareVersion(req.cxxabi)} > ${has.join('.')}`)
}

/** A facility a need asks for: pass when the base has it, fill when forced, reject otherwise. */
function facility(ctx: RuleContext, needs: Need[], has: boolean, missing: string, chmod?: string): RuleOutcome {
  if (needs.length === 0 || has) return pass
  if (ctx.forced || ctx.lenient) {
    return { fill: needs.map((need) => ({ need, chmod, note: `${ctx.base.name} ${missing}: copied from the source image (${need.paths.join(', ')})` })) }
  }
  return reject(`${missing}; ${needs[0].reason.replace(/\.$/, '')}${evidenceOf(needs)}`)
}

export function checkCaBundle(ctx: RuleContext): RuleOutcome {
  return facility(ctx, needsOf(ctx.req, 'ca-certificates'), !!ctx.base.provides.caBundle, 'has no CA bundle')
}

export function checkTzdata(ctx: RuleContext): RuleOutcome {
  return facility(ctx, needsOf(ctx.req, 'tzdata'), ctx.base.provides.tzdata, 'has no tzdata')
}

export function checkTmp(ctx: RuleContext): RuleOutcome {
  return facility(ctx, needsOf(ctx.req, 'tmp'), ctx.base.provides.tmp, 'has no /tmp', '1777')
}

/**
 * User lookups (os/user, getpwuid, getpwnam of a name in a config file) need an /etc/passwd. A base
 * without one is refused unless forced. When the program keeps the image's own user, the image's
 * passwd/group entries are added to the base's (accounts.ts). When it moves to the base's nonroot user, the base's files stay.
 */
export function checkUsers(ctx: RuleContext): RuleOutcome {
  const needs = needsOf(ctx.req, 'user')
  if (needs.length === 0) return pass
  const users = ctx.base.provides.users
  if (users.length === 0) return facility(ctx, needs, false, 'has no /etc/passwd')
  const hasUid = users.some((u) => u.uid === ctx.uid)
  if (hasUid && (!ctx.userFromImage || ctx.uid === 0)) return pass
  // The uid is slim's choice (the image ran as root): the image's passwd lacks it just as much.
  if (!ctx.userFromImage) return { note: `${ctx.base.name} has no passwd entry for uid ${ctx.uid}: user lookups by the program return nothing and HOME is /; pass --user with a uid the base knows if that matters` }
  const why = hasUid ? 'the program looks users up and runs as the image\'s own user' : `${ctx.base.name} has no passwd entry for uid ${ctx.uid}`
  return { note: `${why}: the image's entry is added to ${ctx.base.name}'s /etc/passwd and /etc/group (the base's own entries stay)` }
}

export function checkShell({ base, req, forced }: RuleContext): RuleOutcome {
  if (req.shellReasons.length === 0 || base.provides.shell) return pass
  if (forced) return { warn: `${base.name} has no shell but the command needs one (${req.shellReasons[0]}): it will fail to start` }
  return reject(`has no shell; ${req.shellReasons[0]}`)
}

const RUNTIME_LANGUAGES = new Set(['python', 'node', 'java'])

/** Compiled programs have no use for a language runtime image (hundreds of MB of interpreter). */
export function checkRuntimeImageNeeded({ base, req }: RuleContext): RuleOutcome {
  if (!base.runtime || req.runtime?.language) return pass
  return reject(`a ${base.runtime.language} runtime image; the program is not a ${base.runtime.language} app`)
}

/** Interpreted apps run on a runtime image of their language, or on any base with a C library
 * that gets the source's interpreter, its standard library and the app's packages copied (the
 * libc rules decide whether the interpreter's libraries fit that base). */
export function checkRuntime({ base, req }: RuleContext): RuleOutcome {
  const lang = req.runtime?.language
  if (base.runtime) {
    if (lang && base.runtime.language !== lang) return reject(`a ${base.runtime.language} runtime; the app is ${lang}`)
    return pass
  }
  if (!lang || lang === 'shell') return pass
  if (base.family === 'debian' || (base.provides.libc.flavour !== 'none' && req.libc !== 'unknown')) return pass
  const why = RUNTIME_LANGUAGES.has(lang) ? `no ${lang} runtime` : `no ${lang} runtime (distroless has none for ${lang})`
  return reject(`${why} and no C library for a copied interpreter; a ${lang} app needs its interpreter and library trees`)
}

/** Which source versions a runtime image can take: Python and Node by minor/major line (compiled
 * extensions and site-packages are tied to it), Java forward (a newer JRE runs older class files). */
export function runtimeCompatible(language: string, source: string, base: string): boolean | undefined {
  const s = coerce(source)
  const b = coerce(base)
  if (!s || !b) return undefined
  switch (language) {
    case 'python':
      return s.major === b.major && s.minor === b.minor
    case 'node':
      return s.major === b.major
    case 'java':
      return b.major >= s.major
    default:
      return eq(s, b)
  }
}

export function checkRuntimeVersion({ base, req }: RuleContext): RuleOutcome {
  const rt = req.runtime
  if (!base.runtime || !rt || base.runtime.language !== rt.language) return pass
  if (!rt.version) return { warn: `the app's ${rt.language} version is unknown; ${base.name} has ${base.runtime.version}` }
  const ok = runtimeCompatible(rt.language, rt.version, base.runtime.version)
  if (ok === undefined) return { warn: `cannot compare ${rt.language} ${rt.version} with ${base.runtime.version}` }
  if (ok) return pass
  const rule = rt.language === 'java' ? 'Java must be the same or newer' : rt.language === 'python' ? 'Python must match major.minor' : 'Node.js must match the major version'
  return reject(`${rt.language} ${base.runtime.version}, the app has ${rt.version} (${rule})`)
}

export const RULES: readonly Rule[] = [
  { name: 'status', check: checkStatus },
  { name: 'architecture', check: checkArchitecture },
  { name: 'libc', check: checkLibc },
  { name: 'interpreter', check: checkInterpreter },
  { name: 'glibc-version', check: checkGlibcVersion },
  { name: 'glibc-relr', check: checkGlibcRelr },
  { name: 'glibcxx-version', check: checkGlibcxxVersion },
  { name: 'cxxabi-version', check: checkCxxabiVersion },
  { name: 'not-needed', check: checkRuntimeImageNeeded },
  { name: 'runtime', check: checkRuntime },
  { name: 'runtime-version', check: checkRuntimeVersion },
  { name: 'shell', check: checkShell },
  { name: 'ca-bundle', check: checkCaBundle },
  { name: 'tzdata', check: checkTzdata },
  { name: 'users', check: checkUsers },
  { name: 'tmp', check: checkTmp },
]

/** The same distribution release: Debian by major version, Alpine by major.minor. */
export function sameRelease(base: Base, req: Requirements): boolean {
  const src = req.sourceDistro
  if (!src || !base.distro || src.id !== base.distro.id || !src.versionId) return false
  const digits = src.id === 'alpine' ? 2 : 1
  const cut = (v: string) => v.split('.').slice(0, digits).join('.')
  return cut(src.versionId) === cut(base.distro.versionId)
}
