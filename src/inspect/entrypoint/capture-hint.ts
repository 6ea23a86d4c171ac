import { posix } from 'node:path'
import type { ImageConfig } from '../../image/types.js'

/**
 * A file inspection will read, declared up front so the layer index keeps it from its one pass:
 * an exact path, everything under a directory, or a base-name pattern (wherever the file is).
 */
export interface KeepRule {
  path?: string
  under?: string
  baseName?: RegExp
}

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
]

/**
 * Which files the layer index should keep from its first pass because inspection will read them:
 * INSPECTION_KEEPS, the caller's `extra` rules (e.g. program configuration readers), and the
 * programs the config names (by base name wherever they are, with a version suffix too: python3
 * runs python3.11). Each saves inspection one pass over the layer that holds it. A hint only:
 * files it misses are read later, and nothing depends on it for correctness.
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
  const rules = [...INSPECTION_KEEPS, ...extra]
  const exact = new Set(rules.flatMap((r) => (r.path ? [r.path] : [])))
  const dirs = rules.flatMap((r) => (r.under ? [`${r.under.replace(/\/+$/, '')}/`] : []))
  const patterns = rules.flatMap((r) => (r.baseName ? [r.baseName] : []))
  return (path, size) => {
    if (size > KEEP_MAX) return false
    if (exact.has(path) || dirs.some((d) => path.startsWith(d))) return true
    const base = posix.basename(path)
    return names.has(base) || names.has(base.replace(/(\.\d+)+$/, '')) || patterns.some((p) => p.test(base))
  }
}
