/**
 * Checks that a value is a well-formed Base. Used on the shipped catalogue (a test keeps it
 * valid) and on bases from a user's config file, where a problem must come back as one line that
 * names the key and says what it should be.
 */
import { ARCHES, BASE_FAMILIES, BASE_STATUSES, LIBC_FLAVOURS, type Base } from './types.js'

export interface Problem {
  /** Key path from the base's root: "provides.libc.flavour", "tags[0].user". */
  key: string
  /** What the key must be: "must be one of none, glibc, musl (got \"uclibc\")". */
  expected: string
}

type Check = (v: unknown, key: string, out: Problem[]) => void

const show = (v: unknown): string => {
  const s = JSON.stringify(v)
  return s === undefined ? String(v) : s.length > 40 ? s.slice(0, 37) + '...' : s
}
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const join = (key: string, sub: string): string => (key ? `${key}.${sub}` : sub)

const str =
  (pattern?: RegExp, hint?: string): Check =>
  (v, key, out) => {
    if (typeof v !== 'string' || v === '') out.push({ key, expected: `must be a non-empty string (got ${show(v)})` })
    else if (pattern && !pattern.test(v)) out.push({ key, expected: `must be ${hint ?? `like ${pattern}`} (got ${show(v)})` })
  }
const bool: Check = (v, key, out) => {
  if (typeof v !== 'boolean') out.push({ key, expected: `must be true or false (got ${show(v)})` })
}
const uint: Check = (v, key, out) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) out.push({ key, expected: `must be a whole number >= 0 (got ${show(v)})` })
}
const oneOf =
  (values: readonly string[]): Check =>
  (v, key, out) => {
    if (typeof v !== 'string' || !values.includes(v)) out.push({ key, expected: `must be one of ${values.join(', ')} (got ${show(v)})` })
  }
const arr =
  (item: Check): Check =>
  (v, key, out) => {
    if (!Array.isArray(v)) out.push({ key, expected: `must be a list (got ${show(v)})` })
    else v.forEach((x, i) => item(x, `${key}[${i}]`, out))
  }
const nonEmpty =
  (inner: Check): Check =>
  (v, key, out) => {
    if (Array.isArray(v) && v.length === 0) out.push({ key, expected: 'must list at least one entry' })
    else inner(v, key, out)
  }
const record =
  (keyCheck: Check, value: Check): Check =>
  (v, key, out) => {
    if (!isObj(v)) out.push({ key, expected: `must be an object (got ${show(v)})` })
    else for (const [k, x] of Object.entries(v)) {
      keyCheck(k, `${key}{${k}}`, out)
      value(x, join(key, k), out)
    }
  }
/** Object with known fields; `?` marks optional ones. Unknown fields are reported (typos). */
const obj =
  (fields: Record<string, Check>): Check =>
  (v, key, out) => {
    if (!isObj(v)) {
      out.push({ key: key || '(base)', expected: `must be an object (got ${show(v)})` })
      return
    }
    const known = new Set(Object.keys(fields).map((f) => f.replace(/\?$/, '')))
    for (const [f, check] of Object.entries(fields)) {
      const name = f.replace(/\?$/, '')
      if (v[name] === undefined) {
        if (!f.endsWith('?')) out.push({ key: join(key, name), expected: 'is missing' })
      } else check(v[name], join(key, name), out)
    }
    for (const k of Object.keys(v)) {
      if (!known.has(k)) out.push({ key: join(key, k), expected: `is not a known key (known: ${[...known].join(', ')})` })
    }
  }

const absPath = str(/^\//, 'an absolute path')
const symVersion = (family: string): Check => str(new RegExp(`^${family}_\\d+(\\.\\d+)*$`), `like ${family}_N.N`)
const arch = oneOf(ARCHES)
const user = str(/^\d+(:\d+)?$|^[a-z_][a-z0-9_-]*(:[a-z0-9_-]+)?$/, 'a uid, uid:gid or user name')
const digest = str(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 hex digits>')

const providesCheck = obj({
  libc: obj({ flavour: oneOf(LIBC_FLAVOURS), 'version?': str(), 'package?': str() }),
  sonames: arr(str(/^[^/]+$/, 'a file name without a directory')),
  modules: arr(absPath),
  'glibcCeiling?': symVersion('GLIBC'),
  glibcExtraVersions: arr(str(/^GLIBC_/, 'a GLIBC_* version name')),
  'glibcxxCeiling?': symVersion('GLIBCXX'),
  'cxxabiCeiling?': symVersion('CXXABI'),
  'openssl?': str(),
  'caBundle?': absPath,
  tzdata: bool,
  users: arr(obj({ name: str(), uid: uint, gid: uint, home: absPath, 'shell?': absPath })),
  groups: arr(obj({ name: str(), gid: uint })),
  'shell?': absPath,
  tmp: bool,
  nsswitch: bool,
  ldSoCache: bool,
  locales: arr(str()),
  interpreters: record(arch, arr(absPath)),
  files: arr(absPath),
})

const FACT_KEYS = ['size', 'architectures', 'runtime', 'tags', 'packages', 'env', 'status', 'distro']
const factKey: Check = (v, key, out) => {
  if (typeof v !== 'string' || !(FACT_KEYS.includes(v) || /^provides\.[a-zA-Z]+$/.test(v))) {
    out.push({ key, expected: `must be provides.<field> or one of ${FACT_KEYS.join(', ')} (got ${show(v)})` })
  }
}

const baseCheck = obj({
  name: str(/^[a-z0-9][a-z0-9._/:-]*$/, 'lower-case letters, digits and . _ / : -'),
  aliases: arr(str()),
  repository: str(/^[a-z0-9][a-z0-9._:/-]*$/, 'a repository without tag, like gcr.io/distroless/base-debian12'),
  tags: nonEmpty(
    arr(
      obj({
        tag: str(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'a valid tag'),
        user,
        workdir: absPath,
        'entrypoint?': arr(str()),
        'digests?': record(arch, digest),
        'note?': str(),
      }),
    ),
  ),
  family: oneOf(BASE_FAMILIES),
  status: oneOf(BASE_STATUSES),
  'supportedUntil?': str(/^\d{4}-\d{2}(-\d{2})?$/, 'a date YYYY-MM or YYYY-MM-DD'),
  'buildsOn?': str(),
  'distro?': obj({ id: str(), versionId: str() }),
  provides: providesCheck,
  'runtime?': obj({ language: oneOf(['java', 'python', 'node']), version: str(), path: absPath, entrypoint: arr(str()) }),
  env: record(str(), (v, key, out) => {
    if (typeof v !== 'string') out.push({ key, expected: `must be a string (got ${show(v)})` })
  }),
  architectures: nonEmpty(arr(arch)),
  size: obj({ 'compressed?': uint, 'uncompressed?': uint, basis: str() }),
  packages: arr(obj({ name: str(), version: str() })),
  sources: arr(str()),
  checks: arr(obj({ fact: factKey, status: oneOf(['verified', 'unverified']), how: str() })),
  notes: arr(str()),
})

/** Every problem with `value` as a Base (empty when it is one). */
export function baseProblems(value: unknown): Problem[] {
  const out: Problem[] = []
  baseCheck(value, '', out)
  if (out.length === 0) out.push(...consistencyProblems(value as Base))
  return out
}

/** Cross-field rules the shape alone cannot express. */
function consistencyProblems(b: Base): Problem[] {
  const out: Problem[] = []
  const p = b.provides
  if (p.libc.flavour === 'none' && (p.glibcCeiling || p.libc.version)) {
    out.push({ key: 'provides.libc.flavour', expected: 'is "none", so provides.glibcCeiling and provides.libc.version must be absent' })
  }
  if (p.libc.flavour === 'glibc' && !p.glibcCeiling) {
    out.push({ key: 'provides.glibcCeiling', expected: 'is missing; a glibc base needs its highest GLIBC_2.N' })
  }
  if (p.libc.flavour !== 'none' && !p.libc.version) {
    out.push({ key: 'provides.libc.version', expected: `is missing; a ${p.libc.flavour} base needs its version` })
  }
  for (const a of Object.keys(p.interpreters)) {
    if (!b.architectures.includes(a as Base['architectures'][number])) {
      out.push({ key: `provides.interpreters.${a}`, expected: `names an architecture not in architectures (${b.architectures.join(', ')})` })
    }
  }
  if (p.libc.flavour !== 'none') {
    for (const a of b.architectures) {
      if (!p.interpreters[a]?.length) out.push({ key: `provides.interpreters.${a}`, expected: `is missing; a ${p.libc.flavour} base needs its loader path for ${a}` })
    }
  }
  return out
}
