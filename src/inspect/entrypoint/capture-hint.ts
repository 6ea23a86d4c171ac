import { posix } from 'node:path'
import type { ImageConfig } from '../../image/types.js'
import { READERS } from '../configs/index.js'
import { JAVA_KEEPS } from '../java/keeps.js'
import type { KeepRule } from '../keep-rule.js'

/** Largest file the index keeps for inspection (the rules name small files and a few libraries). */
const KEEP_MAX = 64 * 1024 * 1024

/**
 * What inspection itself reads whole. Base names, not paths, for libraries: they live under
 * /lib, /usr/lib, /usr/lib64 or a multiarch directory, through links the pass does not resolve.
 */
export const INSPECTION_KEEPS: readonly KeepRule[] = [
  // The loaders and their configuration (closure).
  { baseName: /^ld-(linux|musl)[\w.-]*\.so/ },
  { path: '/etc/ld.so.conf' },
  { under: '/etc/ld.so.conf.d' },
  { baseName: /^ld-musl-\w+\.path$/ },
  // libc's strings tell its version and its NSS and locale behaviour; libcrypto's its CA paths (needs).
  { baseName: /^libc\.so\.6$|^libc\.musl-[\w]+\.so\.1$/ },
  { baseName: /^libcrypto\.so(\.\d+)*$/ },
  // The user, the groups and NSS (needs).
  { path: '/etc/passwd' },
  { path: '/etc/group' },
  { path: '/etc/nsswitch.conf' },
  // Service names a program may look up (needs/nss.ts reads it whole).
  { path: '/etc/services', maxSize: 4 * 1024 * 1024 },
  // The program-config readers' files (an include chain read one file at a time would otherwise
  // cost a pass per file) and a JVM's release file.
  ...READERS.flatMap((r) => r.keeps),
  ...JAVA_KEEPS,
]

/**
 * Which files the layer index should keep from its first pass because inspection will read them:
 * INSPECTION_KEEPS (with the program-config readers' and Java's rules), the caller's `extra`
 * rules, and the programs the config names (by base name wherever they are, with a version suffix
 * too: python3 runs python3.11). Each saves inspection one pass over the layer that holds it. A
 * hint only: files it misses are read later, and nothing depends on it for correctness.
 */
export function inspectionCaptureHint(config: ImageConfig, extra: readonly KeepRule[] = []): (path: string, size: number) => boolean {
  const names = new Set<string>()
  const c = config.config ?? {}
  const argv = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])]
  for (const word of argv.slice(0, 4)) {
    // shell form: the first words of the command string matter too
    for (const w of word.split(/\s+/).slice(0, 3)) if (/^[\w./+-]+$/.test(w) && !w.startsWith('-')) names.add(posix.basename(w))
  }
  for (const n of ['sh', 'env', '-c']) names.delete(n)
  const all = [...INSPECTION_KEEPS, ...extra].map((r) => ({ ...r, under: r.under === undefined ? undefined : `${r.under.replace(/\/+$/, '')}/`, maxSize: Math.min(r.maxSize ?? KEEP_MAX, KEEP_MAX) }))
  // This runs for every regular file of every layer (a million in one layer is real): exact paths
  // are one map lookup (path -> largest size kept), plain base-name patterns one regular
  // expression, the rest a short list.
  const pathOnly = (r: (typeof all)[number]): boolean => r.path !== undefined && r.under === undefined && r.baseName === undefined
  const baseOnly = (r: (typeof all)[number]): boolean =>
    r.baseName !== undefined && r.baseName.flags === '' && r.path === undefined && r.under === undefined && r.maxSize === KEEP_MAX
  const exact = new Map<string, number>()
  for (const r of all.filter(pathOnly)) exact.set(r.path!, Math.max(exact.get(r.path!) ?? 0, r.maxSize))
  const bases = all.filter(baseOnly).map((r) => `(?:${r.baseName!.source})`)
  const anyBase = bases.length ? new RegExp(bases.join('|')) : undefined
  const rules = all.filter((r) => !pathOnly(r) && !baseOnly(r))
  // Rules under a directory, found by the path's first directory ("/usr/"): a few string
  // compares per file instead of one per rule.
  const byTop = new Map<string, typeof rules>()
  const anywhere: typeof rules = []
  for (const r of rules) {
    // A rule under "/" (no first directory) is tried for every path.
    const key = r.under === undefined ? undefined : topOf(r.under)
    if (!key) anywhere.push(r)
    else byTop.set(key, [...(byTop.get(key) ?? []), r])
  }
  const matches = (list: typeof rules | undefined, path: string, size: number, base: string): boolean => {
    if (list === undefined) return false
    for (const r of list) {
      if (size > r.maxSize || (r.under !== undefined && !path.startsWith(r.under)) || (r.path !== undefined && r.path !== path)) continue
      if (r.baseName === undefined || r.baseName.test(base)) return true
    }
    return false
  }
  return (path, size) => {
    if (size > KEEP_MAX) return false
    if (size <= (exact.get(path) ?? -1)) return true
    const base = path.slice(path.lastIndexOf('/') + 1)
    if (names.has(base)) return true
    // python3 runs python3.11: a version suffix (the last character a digit) is tried without it.
    const last = base.charCodeAt(base.length - 1)
    if (last >= 48 && last <= 57 && names.has(base.replace(/(\.\d+)+$/, ''))) return true
    if (anyBase?.test(base)) return true
    return matches(anywhere, path, size, base) || matches(byTop.get(topOf(path)), path, size, base)
  }
}

/** The first directory of an absolute path with its slashes ("/usr/"), or "" for a top-level name. */
function topOf(path: string): string {
  const at = path.indexOf('/', 1)
  return at < 0 ? '' : path.slice(0, at + 1)
}
