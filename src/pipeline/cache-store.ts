/**
 * The cache directory as a whole: what each part holds, and pruning it. slim writes five parts:
 *
 *   blobs/<algorithm>/<hex>         registry blobs (image/cache.ts)
 *   layer-index/<algorithm>/<hex>   one layer's index pass (layers/index-cache.ts)
 *   analysis/<sha256 of a key>      one analysis result (pipeline/result-cache.ts)
 *   compile/...                     Node's compiled code (Node >= 22.1; cli/start.ts)
 *   tmp/<24 hex>[.suffix]           files being written, renamed into a part when whole
 *
 * Only files slim could have written there are listed or removed: regular files under those
 * parts with those names. A symlink, another name, or anything else in the directory (a
 * --cache-dir pointed at the wrong place) is never touched. Every read of an entry marks it used
 * (core/cache-use.ts), so "used longest ago" is the modification time. A temp file is removed
 * only once it is older than a day (a run that crashed left it; a younger one may be in use).
 */
import type { Dirent } from 'node:fs'
import { lstat, readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, SlimError } from '../core/errors.js'
import { STALE_TEMP_MS } from '../image/cache.js'

export const CACHE_PARTS = ['blobs', 'layer-index', 'analysis', 'compile', 'tmp'] as const
export type CachePart = (typeof CACHE_PARTS)[number]

export interface CacheFile {
  part: CachePart
  path: string
  bytes: number
  /** Last written or read (milliseconds since the epoch). */
  usedMs: number
}

export interface PartFigures {
  part: CachePart
  files: number
  bytes: number
}

export interface CacheSummary {
  dir: string
  /** False when the directory does not exist (yet): every figure is then 0. */
  exists: boolean
  parts: PartFigures[]
  files: number
  bytes: number
}

export interface PruneRules {
  /** Every entry (temp files only once stale). */
  all?: boolean
  /** Entries not used for longer than this. */
  olderThanMs?: number
  /** Then the entries used longest ago, until the cache holds at most this many bytes. */
  maxBytes?: number
}

export interface PruneReport {
  dryRun: boolean
  rules: PruneRules
  removed: CacheSummary
  left: CacheSummary
  /** Entries that could not be removed, with why. */
  failures: { path: string; reason: string }[]
}

const DIGEST_DIR = /^[a-z0-9]{1,32}$/
const DIGEST_HEX = /^[a-f0-9]{32,128}$/
const RESULT_NAME = /^[a-f0-9]{64}$/
const TEMP_NAME = /^[a-f0-9]{24}(\.[a-z-]{1,16})?$/
/** Node's compile cache is a version directory of files; deeper than this is not Node's. */
const COMPILE_DEPTH = 3

/** Every file slim may remove from `dir`, by part. A missing directory is an empty cache. */
export async function listCache(dir: string): Promise<{ exists: boolean; files: CacheFile[] }> {
  const top = await lstat(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined
    throw new SlimError('not-found', `cache directory ${dir} cannot be read (${describe(e)}); check --cache-dir`)
  })
  if (!top) return { exists: false, files: [] }
  if (!top.isDirectory() && !top.isSymbolicLink()) throw new SlimError('usage', `--cache-dir ${dir} is not a directory; name slim's cache directory (default $XDG_CACHE_HOME/slim or ~/.cache/slim)`)
  const files: CacheFile[] = []
  for (const name of ['blobs', 'layer-index'] as const) {
    for (const algo of await subdirs(join(dir, name))) {
      if (DIGEST_DIR.test(algo)) files.push(...(await regularFiles(name, join(dir, name, algo), (n) => DIGEST_HEX.test(n))))
    }
  }
  files.push(...(await regularFiles('analysis', join(dir, 'analysis'), (n) => RESULT_NAME.test(n))))
  files.push(...(await compileFiles(join(dir, 'compile'), 1)))
  files.push(...(await regularFiles('tmp', join(dir, 'tmp'), (n) => TEMP_NAME.test(n))))
  return { exists: true, files }
}

export async function summarizeCache(dir: string): Promise<CacheSummary> {
  const { exists, files } = await listCache(dir)
  return summary(dir, exists, files)
}

/**
 * Removes what `rules` select (all of them together: --older-than, then --max-size on what is
 * left), and every stale temp file. With `dryRun`, removes nothing and reports the same.
 */
export async function pruneCache(dir: string, rules: PruneRules, opts: { dryRun?: boolean; now?: number } = {}): Promise<PruneReport> {
  if (!rules.all && rules.olderThanMs === undefined && rules.maxBytes === undefined) {
    throw new SlimError('usage', 'say what to prune: --older-than DURATION, --max-size SIZE or --all')
  }
  const now = opts.now ?? Date.now()
  const { exists, files } = await listCache(dir)
  const chosen = new Set<CacheFile>()
  const removable = (f: CacheFile): boolean => f.part !== 'tmp' || now - f.usedMs > STALE_TEMP_MS
  for (const f of files) {
    if (!removable(f)) continue
    if (f.part === 'tmp' || rules.all || (rules.olderThanMs !== undefined && now - f.usedMs > rules.olderThanMs)) chosen.add(f)
  }
  if (rules.maxBytes !== undefined) {
    let total = files.reduce((n, f) => n + (chosen.has(f) ? 0 : f.bytes), 0)
    const oldestFirst = files.filter((f) => !chosen.has(f) && removable(f)).sort((a, b) => a.usedMs - b.usedMs)
    for (const f of oldestFirst) {
      if (total <= rules.maxBytes) break
      chosen.add(f)
      total -= f.bytes
    }
  }
  const failures: PruneReport['failures'] = []
  const gone = new Set<CacheFile>()
  for (const f of chosen) {
    if (opts.dryRun) {
      gone.add(f)
      continue
    }
    try {
      await unlink(f.path)
      gone.add(f)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') gone.add(f) // another run removed it first
      else failures.push({ path: f.path, reason: describe(e) })
    }
  }
  return {
    dryRun: !!opts.dryRun,
    rules,
    removed: summary(dir, exists, [...gone]),
    left: summary(dir, exists, files.filter((f) => !gone.has(f))),
    failures,
  }
}

function summary(dir: string, exists: boolean, files: CacheFile[]): CacheSummary {
  const parts = CACHE_PARTS.map((part) => {
    const mine = files.filter((f) => f.part === part)
    return { part, files: mine.length, bytes: mine.reduce((n, f) => n + f.bytes, 0) }
  })
  return { dir, exists, parts, files: files.length, bytes: files.reduce((n, f) => n + f.bytes, 0) }
}

/** Entries of a directory that is one (not a symlink to one); none when it does not exist. */
async function entries(dir: string): Promise<Dirent[]> {
  const st = await lstat(dir).catch(() => undefined)
  if (!st?.isDirectory()) return []
  return readdir(dir, { withFileTypes: true }).catch(() => [])
}

async function subdirs(dir: string): Promise<string[]> {
  return (await entries(dir)).filter((d) => d.isDirectory()).map((d) => d.name)
}

async function regularFiles(part: CachePart, dir: string, nameOk: (name: string) => boolean): Promise<CacheFile[]> {
  const out: CacheFile[] = []
  for (const d of await entries(dir)) {
    if (!d.isFile() || !nameOk(d.name)) continue
    const f = await fileOf(part, join(dir, d.name))
    if (f) out.push(f)
  }
  return out
}

async function compileFiles(dir: string, depth: number): Promise<CacheFile[]> {
  const out: CacheFile[] = []
  for (const d of await entries(dir)) {
    const path = join(dir, d.name)
    if (d.isFile()) {
      const f = await fileOf('compile', path)
      if (f) out.push(f)
    } else if (d.isDirectory() && depth < COMPILE_DEPTH) {
      out.push(...(await compileFiles(path, depth + 1)))
    }
  }
  return out
}

async function fileOf(part: CachePart, path: string): Promise<CacheFile | undefined> {
  const st = await lstat(path).catch(() => undefined)
  if (!st?.isFile()) return undefined
  return { part, path, bytes: st.size, usedMs: st.mtimeMs }
}
