/**
 * `--tags PATTERN`: which tags of a repository to audit. Three forms:
 *  - `latest:N`: the newest N semver-shaped tags (v1.2.3 and 1.2 count; "latest" does not);
 *  - a semver range over semver-shaped tags (`'>=1.2 <2'`, `^1.4`, `~2.0.1`, `1.2.x || 2.x`):
 *    anything with < > = ~ ^ | or a space is read as a range;
 *  - otherwise a glob (`1.*`, `release-*`, `!(*-rc*)`).
 */
import { minimatch } from 'minimatch'
import semver from 'semver'
import { SlimError } from '../core/errors.js'

export type TagFilter = (tags: readonly string[]) => string[]

export function tagFilter(pattern: string | undefined): TagFilter {
  if (pattern === undefined || pattern.trim() === '') return (tags) => [...tags]
  const p = pattern.trim()
  const latest = /^latest:(\d+)$/.exec(p)
  if (latest) {
    const n = Number(latest[1])
    if (n < 1) throw new SlimError('usage', `--tags ${p}: N must be 1 or more`)
    return (tags) =>
      tags
        .map((t) => ({ t, v: semverOf(t) }))
        .filter((x): x is { t: string; v: semver.SemVer } => x.v !== undefined)
        .sort((a, b) => semver.rcompare(a.v, b.v) || a.t.localeCompare(b.t))
        .slice(0, n)
        .map((x) => x.t)
  }
  if (/[<>=~^|\s]/.test(p)) {
    const range = semver.validRange(p, { loose: true })
    if (!range) throw new SlimError('usage', `--tags '${p}' is not a semver range; write e.g. '>=1.2 <2', a glob such as '1.*', or latest:5`)
    return (tags) => tags.filter((t) => {
      const v = semverOf(t)
      return v !== undefined && semver.satisfies(v, range, { includePrerelease: false })
    })
  }
  return (tags) => tags.filter((t) => minimatch(t, p, { dot: true }))
}

/** A tag read as a version: 1.2.3, v1.2.3, 1.2 and 1 (as 1.2.0 / 1.0.0); "latest" or "1.2-alpine" are not. */
function semverOf(tag: string): semver.SemVer | undefined {
  const t = tag.replace(/^v(?=\d)/, '')
  const exact = semver.parse(t, { loose: true })
  if (exact) return exact
  if (/^\d+(\.\d+)?$/.test(t)) return semver.coerce(t) ?? undefined
  return undefined
}
