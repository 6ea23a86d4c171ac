/**
 * The user's slim config file: extra or corrected bases, bases to leave out, and registry mirrors
 * (air-gapped companies pull public bases from their own registry).
 *
 *   {
 *     "mirrors": { "gcr.io": "registry.internal:5000", "docker.io": "registry.internal:5000/hub" },
 *     "exclude": ["busybox:glibc"],
 *     "bases": [
 *       { "name": "distroless/cc-debian12", "tags": [{ "tag": "nonroot", "user": "65532", "workdir": "/home/nonroot",
 *         "digests": { "amd64": "sha256:..." } }] },                                   // override: fields merge
 *       { "name": "acme/cc", "from": "distroless/cc-debian12", "repository": "registry.acme/cc" },  // copy + change
 *       { "name": "acme/tiny", "repository": "registry.acme/tiny", "family": "distroless",
 *         "provides": { "libc": { "flavour": "none" } }, "architectures": ["amd64"] }  // new: the rest defaults
 *     ]
 *   }
 *
 * Found at --config FILE, else $XDG_CONFIG_HOME/slim/config.json, else ~/.config/slim/config.json
 * (a missing default file is not an error). Every problem is one line naming the file, the key and the fix.
 */
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { SlimError, describe } from '../core/errors.js'
import { applyMirror } from '../image/reference.js'
import type { OpenOptions } from '../image/types.js'
import { builtinBases, findBase, mergeDeep } from './catalogue/load.js'
import type { Base } from './catalogue/types.js'
import { baseProblems } from './catalogue/validate.js'

/** Registry (or registry/path prefix) -> mirror registry (or registry/path). */
export type Mirrors = Record<string, string>

export interface SlimConfig {
  /** Where it was read from; undefined when no file was found. */
  path?: string
  mirrors: Mirrors
  exclude: string[]
  /** Raw base entries, applied by resolveBases(). */
  bases: Record<string, unknown>[]
}

const TOP_KEYS = ['mirrors', 'exclude', 'bases', '$schema']

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const xdg = env.XDG_CONFIG_HOME
  return join(xdg && xdg.startsWith('/') ? xdg : join(home, '.config'), 'slim', 'config.json')
}

/**
 * Reads the config: `explicit` (from --config) must exist; the default location may be absent.
 * Nothing else in the environment is consulted, so tests pass `env`/`home` explicitly.
 */
export function loadConfig(explicit?: string, env: NodeJS.ProcessEnv = process.env, home: string = homedir()): SlimConfig {
  const path = explicit ?? defaultConfigPath(env, home)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (!explicit && code === 'ENOENT') return { mirrors: {}, exclude: [], bases: [] }
    throw new SlimError(code === 'ENOENT' ? 'not-found' : 'usage', `config ${path}: cannot read it (${describe(e)}); check the --config path`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    throw new SlimError('format', `config ${path}: not valid JSON (${describe(e)}); fix the syntax`)
  }
  return parseConfig(value, path)
}

const fail = (path: string, key: string, problem: string, fix: string): SlimError =>
  new SlimError('usage', `config ${path}: key "${key}" ${problem}; ${fix}`)

/** Validates the parsed JSON of a config file (`path` only names it in errors). */
export function parseConfig(value: unknown, path: string): SlimConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SlimError('usage', `config ${path}: must be a JSON object with "mirrors", "exclude" and/or "bases"; wrap the content in { }`)
  }
  const obj = value as Record<string, unknown>
  for (const k of Object.keys(obj)) {
    if (!TOP_KEYS.includes(k)) throw fail(path, k, 'is not a known key', `use one of mirrors, exclude, bases`)
  }
  const mirrors: Mirrors = {}
  if (obj.mirrors !== undefined) {
    if (typeof obj.mirrors !== 'object' || obj.mirrors === null || Array.isArray(obj.mirrors)) {
      throw fail(path, 'mirrors', 'must be an object', 'write {"gcr.io": "registry.internal:5000"}')
    }
    for (const [from, to] of Object.entries(obj.mirrors)) {
      const problem = mirrorProblem(from, to)
      if (problem) throw fail(path, `mirrors.${from}`, problem.problem, problem.fix)
      mirrors[from.toLowerCase()] = String(to).replace(/\/+$/, '')
    }
  }
  let exclude: string[] = []
  if (obj.exclude !== undefined) {
    if (!Array.isArray(obj.exclude) || obj.exclude.some((x) => typeof x !== 'string')) {
      throw fail(path, 'exclude', 'must be a list of base names', 'write ["busybox:glibc"]')
    }
    exclude = obj.exclude as string[]
  }
  let bases: Record<string, unknown>[] = []
  if (obj.bases !== undefined) {
    if (!Array.isArray(obj.bases)) throw fail(path, 'bases', 'must be a list of base objects', 'write [{"name": "...", ...}]')
    obj.bases.forEach((b, i) => {
      if (typeof b !== 'object' || b === null || Array.isArray(b)) throw fail(path, `bases[${i}]`, 'must be an object', 'give at least {"name": "..."}')
      if (typeof (b as Record<string, unknown>).name !== 'string' || !(b as Record<string, unknown>).name) {
        throw fail(path, `bases[${i}].name`, 'is missing', 'name the base to override or add')
      }
    })
    bases = obj.bases as Record<string, unknown>[]
  }
  return { path, mirrors, exclude, bases }
}

// A registry host: DNS name or IPv4 with an optional port, or localhost; optionally followed by /path.
const REGISTRY = /^(?:localhost|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(?::\d{1,5})?(?:\/[a-z0-9._-]+)*$/

function mirrorProblem(from: string, to: unknown): { problem: string; fix: string } | undefined {
  if (!REGISTRY.test(from.toLowerCase())) {
    return { problem: 'is not a registry', fix: 'use a registry host such as gcr.io or docker.io, optionally with a path (gcr.io/distroless)' }
  }
  if (typeof to !== 'string' || to === '') return { problem: 'must map to a registry string', fix: 'write "registry.internal:5000"' }
  if (/^[a-z]+:\/\//i.test(to)) return { problem: `maps to "${to}" with a URL scheme`, fix: `drop the scheme: "${to.replace(/^[a-z]+:\/\//i, '')}"` }
  if (!REGISTRY.test(to.toLowerCase().replace(/\/+$/, ''))) return { problem: `maps to "${to}", which is not a registry`, fix: 'write host[:port][/path], e.g. registry.internal:5000' }
  return undefined
}

/** Parses one `--base-mirror gcr.io=registry.internal:5000` (or `--registry-mirror`, named by `option`). */
export function parseMirrorFlag(flag: string, option = '--base-mirror'): [string, string] {
  const eq = flag.indexOf('=')
  const from = eq < 0 ? '' : flag.slice(0, eq).trim()
  const to = eq < 0 ? '' : flag.slice(eq + 1).trim()
  if (!from || !to) {
    throw new SlimError('usage', `${option} "${flag}": expected REGISTRY=MIRROR; write e.g. ${option} gcr.io=registry.internal:5000`)
  }
  const problem = mirrorProblem(from, to)
  if (problem) throw new SlimError('usage', `${option} "${flag}": "${from}" ${problem.problem}; ${problem.fix}`)
  return [from.toLowerCase(), to.replace(/\/+$/, '')]
}

/** Config mirrors, then the command line's (which win). */
export function mergeMirrors(config: Mirrors, flags: readonly string[] = []): Mirrors {
  const out: Mirrors = { ...config }
  for (const f of flags) {
    const [from, to] = parseMirrorFlag(f)
    out[from] = to
  }
  return out
}

/**
 * Open options that read registry images through the config file's mirrors as well as
 * --registry-mirror's (already in `open`, and winning for the same registry). The one rule for every
 * image slim opens: the CLI applies it to all of a command's images (audit's tag listing and opening
 * included), analyzeImage to the image it is given by reference.
 */
export function withConfigMirrors(open: OpenOptions, config: SlimConfig): OpenOptions {
  const registryMirrors = { ...config.mirrors, ...open.registryMirrors }
  return Object.keys(registryMirrors).length ? { ...open, registryMirrors } : open
}

/** Mirrors are applied by the one reference grammar (src/image/reference.ts). */
export { applyMirror }

/** Defaults for a base added from scratch: only name, repository, family, libc and architectures are required. */
function newBaseDefaults(name: string, configPath: string): Partial<Base> {
  return {
    name,
    aliases: [],
    tags: [{ tag: 'latest', user: '0', workdir: '/' }],
    status: 'supported',
    env: {},
    size: { basis: `stated in ${configPath}` },
    packages: [],
    sources: [`config:${configPath}`],
    checks: [],
    notes: [],
    provides: {
      libc: { flavour: 'none' },
      sonames: [],
      modules: [],
      glibcExtraVersions: [],
      tzdata: false,
      users: [],
      groups: [],
      tmp: false,
      nsswitch: false,
      ldSoCache: false,
      locales: [],
      interpreters: {},
      files: [],
    },
  }
}

/**
 * The built-in catalogue with the config applied: overrides merged into existing bases, new
 * bases added (from scratch or `from` an existing one), excluded ones removed. Every resulting
 * base is validated; a problem names the config file and the key.
 */
export function resolveBases(config: SlimConfig, builtin: Base[] = builtinBases()): Base[] {
  const bases = [...builtin]
  const where = config.path ?? '(config)'
  config.bases.forEach((entry, i) => {
    const { from, ...patch } = entry as { from?: unknown; name: string } & Record<string, unknown>
    const existing = bases.findIndex((b) => b.name === patch.name)
    let merged: unknown
    if (from !== undefined) {
      const source = typeof from === 'string' ? findBase(bases, from) : undefined
      if (!source) throw fail(where, `bases[${i}].from`, `names no known base (${JSON.stringify(from)})`, 'use a catalogue name such as distroless/cc-debian12')
      // A copy is a different image: its pinned digests and provenance do not carry over.
      const copy: Base = { ...structuredClone(source.base), aliases: [], sources: [`config:${where}`, `from:${source.base.name}`] }
      copy.tags = copy.tags.map(({ digests: _digests, ...t }) => t)
      merged = mergeDeep(copy, patch)
    } else if (existing >= 0) {
      merged = mergeDeep(bases[existing], patch)
    } else {
      merged = mergeDeep(newBaseDefaults(patch.name, where), patch)
    }
    const problems = baseProblems(merged)
    if (problems.length) {
      const p = problems[0]
      throw fail(where, `bases[${i}].${p.key}`, `(base "${patch.name}") ${p.expected}`, 'fix or remove that key')
    }
    if (existing >= 0 && from === undefined) bases[existing] = merged as Base
    else if (existing >= 0) throw fail(where, `bases[${i}].name`, `"${patch.name}" already exists`, 'drop "from" to override it, or pick a new name')
    else bases.push(merged as Base)
  })
  for (const [i, name] of config.exclude.entries()) {
    const found = findBase(bases, name)
    if (!found) throw fail(where, `exclude[${i}]`, `names no known base (${JSON.stringify(name)})`, 'use a catalogue name such as busybox:glibc')
    bases.splice(bases.indexOf(found.base), 1)
  }
  return bases
}
