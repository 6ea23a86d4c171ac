/**
 * The shipped base catalogue (bases.json) and the operations on a list of bases that do not
 * depend on where the list came from: look a base up by any name a user might type, merge a
 * partial override into a base, print an image reference, and write the catalogue back out.
 */
import data from './bases.json' with { type: 'json' }
import type { Base, BaseTag, CatalogueFile } from './types.js'

/**
 * The built-in catalogue; every call returns a fresh copy callers may change. Not validated here:
 * the shipped file cannot change after the build, and a test (catalogue.test.ts) checks every base
 * with baseProblems, so validating it again on every run only cost start-up time.
 */
export function builtinCatalogue(): CatalogueFile {
  return structuredClone(data as unknown as CatalogueFile)
}

export function builtinBases(): Base[] {
  return builtinCatalogue().bases
}

/** Docker Hub spellings users type for the same repository. */
function normaliseRepo(ref: string): string {
  return ref.replace(/^(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/(?:library\/)?/, '')
}

export interface FoundBase {
  base: Base
  tag: BaseTag
}

/**
 * Finds a base by name, alias, repository or repository:tag ("cc-debian12", "distroless/cc-debian12",
 * "gcr.io/distroless/cc-debian12:nonroot", "docker.io/library/alpine:3.20"). A tag in the query picks
 * that tag; otherwise the base's default (first) tag.
 */
export function findBase(bases: readonly Base[], query: string): FoundBase | undefined {
  const q = normaliseRepo(query.trim())
  const at = q.lastIndexOf(':')
  const slash = q.lastIndexOf('/')
  const [repoPart, tagPart] = at > slash ? [q.slice(0, at), q.slice(at + 1)] : [q, undefined]
  for (const base of bases) {
    const names = [base.name, ...base.aliases, normaliseRepo(base.repository)]
    // Names such as "alpine:3.20" contain a colon themselves: try the whole query first.
    if (names.includes(q)) return { base, tag: base.tags[0] }
    if (tagPart !== undefined && names.includes(repoPart)) {
      const tag = base.tags.find((t) => t.tag === tagPart)
      if (tag) return { base, tag }
    }
  }
  return undefined
}

/** "repository:tag", or "repository@digest" when a digest for `arch` is known; "scratch" stays as is. */
export function imageRef(base: Base, tag: BaseTag = base.tags[0], arch?: string): string {
  if (base.family === 'scratch') return 'scratch'
  const digest = arch ? tag.digests?.[arch as keyof NonNullable<BaseTag['digests']>] : undefined
  return digest ? `${base.repository}:${tag.tag}@${digest}` : `${base.repository}:${tag.tag}`
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Deep-merges `patch` over `target`: objects merge key by key, anything else (lists included)
 * replaces. A list replaces rather than appends so an override can also remove entries.
 */
export function mergeDeep<T>(target: T, patch: unknown): T {
  if (!isPlainObject(target) || !isPlainObject(patch)) return structuredClone(patch) as T
  const out: Record<string, unknown> = { ...target }
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue
    out[k] = k in out && isPlainObject(out[k]) && isPlainObject(v) ? mergeDeep(out[k], v) : structuredClone(v)
  }
  return out as T
}

/**
 * JSON with lists of plain values packed onto as few lines as fit 120 columns, and small records
 * on one line, so a catalogue with hundreds of sonames stays readable in a diff.
 */
export function stringifyCatalogue(value: unknown): string {
  return write(value, '') + '\n'
}

function write(v: unknown, indent: string): string {
  const inner = indent + '  '
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]'
    if (v.every((x) => x === null || typeof x !== 'object')) {
      const items = v.map((x) => JSON.stringify(x))
      const one = `[${items.join(', ')}]`
      if (indent.length + one.length <= 100) return one
      const lines: string[] = []
      let line = ''
      for (const item of items) {
        if (line && inner.length + line.length + item.length + 2 > 120) {
          lines.push(line)
          line = ''
        }
        line += (line ? ' ' : '') + item + ','
      }
      lines.push(line.slice(0, -1))
      return `[\n${lines.map((l) => inner + l).join('\n')}\n${indent}]`
    }
    return `[\n${v.map((x) => inner + write(x, inner)).join(',\n')}\n${indent}]`
  }
  if (isPlainObject(v)) {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined)
    if (entries.length === 0) return '{}'
    // Small records of plain values (a user, a tag, a package) read best on one line.
    if (entries.every(([, x]) => x === null || typeof x !== 'object')) {
      const one = `{${entries.map(([k, x]) => `${JSON.stringify(k)}: ${JSON.stringify(x)}`).join(', ')}}`
      if (indent.length + one.length <= 110) return one
    }
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${write(x, inner)}`).join(',\n')}\n${indent}}`
  }
  return JSON.stringify(v)
}
