/**
 * One function per place an image value can take in the generated Dockerfile, each escaping for
 * how BuildKit (and buildah) read that place. Values come from an untrusted image: a newline in a
 * comment, a quote in a flag or a `*` in a path would otherwise change what the build does.
 *
 * How the builders read what we write (Dockerfile reference, BuildKit's frontend and fsutil):
 * - A line is an instruction unless it starts with `#`; a comment ends at the newline and never
 *   continues onto the next line. Comments: every control character is escaped (escapeControls).
 * - CMD, ENTRYPOINT and HEALTHCHECK CMD in JSON form are decoded as JSON and not expanded.
 * - COPY, VOLUME, WORKDIR, ENV, LABEL words are expanded by the shell-like lexer: `\` escapes the
 *   next character, quotes are removed, `$x` and `${x}` are variables. In the JSON form of COPY and
 *   VOLUME the lexer runs on each decoded element, so `\ $ " '` are backslash-escaped there too.
 * - A COPY source whose path component holds an unescaped `* ? [` is a pattern (filepath.Match).
 *   BuildKit treats `\` specially when deciding that, buildah globs every source, so a component
 *   with any of `* ? [ \` is written as a pattern whose special characters are one-character
 *   classes (`[*]`, `[?]`, `[[]`, `[\\]`): it matches exactly the one name in both builders.
 * A value that cannot be written faithfully is refused (throws) or, for optional settings, left
 * out by the caller with a note (canQuote, durationNs, retriesCount say so beforehand).
 */
import { SlimError } from '../core/errors.js'
import { escapeControls, hasControls, printableJson } from '../core/text-escape.js'

/** Characters that need no quoting or escaping anywhere a path goes. */
const PLAIN = /^[A-Za-z0-9_@%+=:,./~-]+$/

/** `# text`, one line whatever the text holds. */
export function comment(text: string): string {
  return `# ${escapeControls(text)}`
}

/** A JSON array of strings on one line (exec form), printable: control characters as \uXXXX. */
export function jsonArray(words: readonly string[]): string {
  for (const w of words) if (typeof w !== 'string') throw new SlimError('internal', `a Dockerfile JSON array holds a ${typeof w}, not a string`)
  return printableJson(JSON.stringify(words))
}

/** A word the lexer reads back as `s`: `\`, `$` and quotes escaped with a backslash. */
export function lexerWord(s: string): string {
  return s.replace(/[\\$"']/g, '\\$&')
}

/** True when `s` can be written between double quotes and read back exactly (no line breaks, no controls but tab). */
export function canQuote(s: string): boolean {
  return !hasControls(s.replace(/\t/g, ' '))
}

/** A double-quoted value (ENV, LABEL, WORKDIR): `\`, `"` and `$` escaped. */
export function quoted(s: string): string {
  if (!canQuote(s)) throw new SlimError('internal', `${JSON.stringify(s)} holds control characters and cannot be written into a Dockerfile`)
  return `"${s.replace(/[\\"$]/g, '\\$&')}"`
}

/** A path as WORKDIR takes it: bare when plain, else quoted. */
export function workdirArg(path: string): string {
  return PLAIN.test(path) ? path : quoted(path)
}

/** An absolute, normalised path with no NUL: anything else has no faithful COPY form. */
function checkPath(path: string, role: string): void {
  const bad =
    !path.startsWith('/') ? 'is not absolute'
    : path.includes('\0') ? 'holds a NUL byte'
    : path !== '/' && path.split('/').slice(1).some((c, i, all) => c === '.' || c === '..' || (c === '' && i < all.length - 1)) ? 'is not a normalised path (., .. or //)'
    : undefined
  if (bad) {
    throw new SlimError('unsupported', `cannot write a COPY ${role} for ${JSON.stringify(path)}: it ${bad}; leave it out (drop it from --keep) or rename it in the image`)
  }
}

/** One path component as a COPY source: literal when it has no pattern character, else a pattern matching only it. */
function sourceComponent(c: string): string {
  if (!/[*?[\\]/.test(c)) return c
  return c.replace(/[*?[\\]/g, (ch) => (ch === '\\' ? '[\\\\]' : `[${ch}]`))
}

/** The text of one COPY source before JSON encoding: a pattern for exactly this path, lexer-escaped. */
export function copySourceWord(path: string): string {
  checkPath(path, 'source')
  return lexerWord(path.split('/').map(sourceComponent).join('/'))
}

/** The text of the COPY destination before JSON encoding (destinations are never patterns). */
export function copyDestWord(path: string): string {
  checkPath(path.length > 1 ? path.replace(/\/$/, '') : path, 'destination')
  return lexerWord(path)
}

/** `COPY flags sources dest`: the bare form when every path is plain, else the JSON form. */
export function copyInstruction(flags: readonly string[], sources: readonly string[], dest: string): string {
  const words = [...sources.map(copySourceWord), copyDestWord(dest)]
  const flagText = flags.length ? `${flags.join(' ')} ` : ''
  if ([...sources, dest].every((p) => PLAIN.test(p))) return `COPY ${flagText}${words.join(' ')}`
  return `COPY ${flagText}${jsonArray(words)}`
}

/** VOLUME in JSON form; each element is expanded by the lexer, so it is escaped for it. */
export function volumeInstruction(paths: readonly string[]): string {
  for (const p of paths) if (!canQuote(p)) throw new SlimError('internal', `VOLUME ${JSON.stringify(p)} holds control characters`)
  return `VOLUME ${jsonArray(paths.map(lexerWord))}`
}

/** A LABEL key BuildKit can read back: it splits each `key=value` word at its first `=`. */
export function isLabelKey(k: string): boolean {
  return k !== '' && !k.includes('=') && canQuote(k)
}

/** `"key"="value"` for LABEL. */
export function labelPair(k: string, v: string): string {
  if (!isLabelKey(k)) throw new SlimError('internal', `LABEL key ${JSON.stringify(k)} cannot be written into a Dockerfile`)
  return `${quoted(k)}=${quoted(v)}`
}

/** `NAME="value"` for ENV. */
export function envPair(k: string, v: string): string {
  return `${envName(k)}=${quoted(v)}`
}

/** Docker healthcheck durations: at least 1 ms (the builder refuses less), whole nanoseconds. */
export function durationNs(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1_000_000 ? v : undefined
}

/** Healthcheck retries: a positive integer the builder parses as int. */
export function retriesCount(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= 2 ** 31 - 1 ? v : undefined
}

/** A Go duration that says exactly `ns` nanoseconds, in the largest unit that divides it. */
export function goDuration(ns: number): string {
  if (durationNs(ns) === undefined) throw new SlimError('internal', `healthcheck duration ${String(ns)} is not a whole number of nanoseconds of at least 1ms`)
  for (const [unit, size] of [['s', 1e9], ['ms', 1e6], ['us', 1e3]] as const) if (ns % size === 0) return `${ns / size}${unit}`
  return `${ns}ns`
}

/** `--name=value` for a HEALTHCHECK flag, from a validated number only. */
export function healthFlag(name: 'interval' | 'timeout' | 'start-period' | 'retries', value: number): string {
  if (name === 'retries') {
    if (retriesCount(value) === undefined) throw new SlimError('internal', `healthcheck retries ${String(value)} is not a positive integer`)
    return `--retries=${value}`
  }
  return `--${name}=${goDuration(value)}`
}

const USER_SPEC = /^(\d+|[a-z_][a-z0-9_-]*)(:(\d+|[a-z_][a-z0-9_-]*))?$/i
const PORT = /^\d{1,5}(\/(tcp|udp|sctp))?$/i
const SIGNAL = /^(SIG)?[A-Z0-9+-]{1,16}$/i
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/
/** An image reference as FROM takes it (the reference grammar's characters, no spaces or quotes). */
const FROM_REF = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/

/** The value, or a thrown internal error: callers validate first, so this only guards the writer. */
function checked(kind: string, re: RegExp, v: string): string {
  if (!re.test(v)) throw new SlimError('internal', `${kind} ${JSON.stringify(v)} is not valid in a Dockerfile`)
  return v
}

export const isPort = (p: string): boolean => PORT.test(p)
export const isSignal = (s: string): boolean => SIGNAL.test(s)
export const isEnvName = (n: string): boolean => ENV_NAME.test(n)
export const userArg = (spec: string): string => checked('USER', USER_SPEC, spec)
export const portArg = (p: string): string => checked('EXPOSE', PORT, p)
export const signalArg = (s: string): string => checked('STOPSIGNAL', SIGNAL, s)
export const envName = (n: string): string => checked('ENV name', ENV_NAME, n)
export const fromRef = (r: string): string => checked('FROM', FROM_REF, r)
