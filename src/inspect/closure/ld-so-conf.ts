/**
 * /etc/ld.so.conf as ldconfig(8) reads it: one directory per line, '#' comments, `include PATTERN`
 * (a glob, relative patterns relative to the including file's directory, matches sorted as glob(3)
 * returns them), and `hwcap` lines (ignored since glibc 2.37, and irrelevant to where files are).
 *
 * glibc consults /etc/ld.so.cache, which ldconfig builds from these directories followed by the
 * trusted system directories. slim does not trust the binary cache (it may be stale or from another
 * libc build), so it searches the directories themselves in the same order.
 */
import { posix } from 'node:path'
import { globInRoot } from '../../layers/glob.js'
import type { RootFs } from '../../layers/rootfs.js'

const MAX_INCLUDE_DEPTH = 16

export interface LdSoConf {
  /** Directories in the order ldconfig adds them to the cache. */
  dirs: string[]
  /** Files read (for the `files()` list: a slim image that keeps ldconfig's input). */
  files: string[]
  warnings: string[]
}

/** What one parse remembers so that hostile inputs stay linear: 100,000 directories, or hundreds of
 * files that each include the same glob, cost one Set lookup or one cached glob each. */
interface ParseState {
  seen: Set<string>
  dirs: Set<string>
  globs: Map<string, string[]>
  warned: Set<string>
}

export async function parseLdSoConf(rootfs: RootFs, file = '/etc/ld.so.conf'): Promise<LdSoConf> {
  const out: LdSoConf = { dirs: [], files: [], warnings: [] }
  await readConf(rootfs, file, 0, { seen: new Set(), dirs: new Set(), globs: new Map(), warned: new Set() }, out)
  return out
}

async function readConf(rootfs: RootFs, file: string, depth: number, state: ParseState, out: LdSoConf): Promise<void> {
  const seen = state.seen
  const real = rootfs.realpath(file)
  if (!real || rootfs.stat(file)?.type !== 'file') return
  if (seen.has(real.path) || depth > MAX_INCLUDE_DEPTH) {
    // Once per file: a file included by thousands of others is one warning, not thousands.
    if (state.warned.has(real.path)) return
    state.warned.add(real.path)
    out.warnings.push(`${file}: include loop or nesting deeper than ${MAX_INCLUDE_DEPTH}, ignored`)
    return
  }
  seen.add(real.path)
  out.files.push(file)
  let text: string
  try {
    text = (await rootfs.readFile(file)).toString('utf8')
  } catch {
    return
  }
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim()
    if (line === '') continue
    const include = /^include\s+(.*)$/.exec(line)
    if (include) {
      // ldconfig allows several patterns on one include line, separated by blanks.
      for (const pattern of include[1]!.split(/\s+/).filter(Boolean)) {
        const abs = pattern.startsWith('/') ? pattern : posix.join(posix.dirname(file), pattern)
        let matches = state.globs.get(abs)
        if (!matches) state.globs.set(abs, (matches = globInRoot(rootfs, abs)))
        for (const match of matches) await readConf(rootfs, match, depth + 1, state, out)
      }
      continue
    }
    if (/^hwcap\s/.test(line)) continue
    // Old syntax "dir=TYPE" (libc5/libc6 tags): the directory is before '='.
    for (const dir of line.split(/[\s:,]+/)) {
      const d = dir.replace(/=.*$/, '').replace(/\/+$/, '') || '/'
      if (d.startsWith('/') && !state.dirs.has(d)) {
        state.dirs.add(d)
        out.dirs.push(d)
      }
    }
  }
}

export { globInRoot }
