/**
 * Path arithmetic the loaders do, done inside the image root: splitting search lists, expanding
 * dynamic string tokens ($ORIGIN, $LIB, $PLATFORM), and resolving a directory the way open(2)
 * does ('..' applies AFTER a symlink is followed, so /lib/../etc is /usr/etc on merged-/usr).
 */
import { posix } from 'node:path'
import type { RootFs } from '../../layers/rootfs.js'

/** Values for the tokens ld.so(8) expands in DT_RPATH, DT_RUNPATH and LD_LIBRARY_PATH. */
export interface DstValues {
  /** Directory of the object (undefined: unknown, so entries using $ORIGIN are dropped, as glibc does). */
  origin?: string
  /** "lib/x86_64-linux-gnu" on Debian, "lib64" on Fedora x86-64, "lib" elsewhere. */
  lib?: string
  /** AT_PLATFORM, e.g. "x86_64", "aarch64"; glibc's value for the machine. */
  platform?: string
}

/**
 * Splits a search list as ld.so does: ':' (and ';' for LD_LIBRARY_PATH) separate entries; an empty
 * entry means the current directory.
 */
export function splitSearchList(list: string, separators = ':'): string[] {
  const re = new RegExp(`[${separators.replace(/[\]\\^-]/g, '\\$&')}]`)
  return list.split(re).map((e) => (e === '' ? '.' : e))
}

/**
 * Expands $ORIGIN, $LIB, $PLATFORM (and the ${NAME} forms) in one search-list entry.
 * Returns undefined when the entry needs a value slim does not know, so the caller drops it
 * (glibc drops an entry whose $ORIGIN cannot be determined). Unknown $NAMEs stay literal.
 */
export function expandDynamicStringTokens(entry: string, values: DstValues): string | undefined {
  let unknown = false
  const out = entry.replace(/\$(?:\{(ORIGIN|LIB|PLATFORM)\}|(ORIGIN|LIB|PLATFORM)(?![A-Za-z0-9_]))/g, (_m, a?: string, b?: string) => {
    const token = (a ?? b) as 'ORIGIN' | 'LIB' | 'PLATFORM'
    const v = token === 'ORIGIN' ? values.origin : token === 'LIB' ? values.lib : values.platform
    if (v === undefined) unknown = true
    return v ?? ''
  })
  return unknown ? undefined : out
}

/** Joins a possibly relative search-list entry with the process's working directory. */
export function absoluteDir(entry: string, cwd: string): string {
  return entry.startsWith('/') ? entry : posix.join(cwd, entry)
}

/**
 * Resolves a directory physically inside the root: each component is followed through symlinks
 * before the next one (so '..' after a link goes to the link target's parent, as the kernel does).
 * Returns the real directory and the symlinks crossed, or undefined when it does not exist.
 */
export function resolveDir(rootfs: RootFs, dir: string): { dir: string; chain: string[] } | undefined {
  let cur = '/'
  const chain: string[] = []
  for (const part of dir.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      cur = posix.dirname(cur)
      continue
    }
    const next = cur === '/' ? `/${part}` : `${cur}/${part}`
    const r = rootfs.realpath(next)
    if (!r) return undefined
    chain.push(...r.chain)
    cur = r.path
  }
  const info = rootfs.stat(cur)
  if (!info || info.type !== 'dir') return undefined
  return { dir: cur, chain }
}

/** Lexical normalisation for display paths ("/usr/bin/../lib" → "/usr/lib"). */
export function cleanPath(p: string): string {
  const n = posix.normalize(p)
  return n.length > 1 ? n.replace(/\/+$/, '') : n
}
