/**
 * musl's library search (ldso/dynlink.c, load_library), one function per rule, in its order:
 *
 *  0. Names musl implements itself (libc.*, libpthread.*, librt.*, libm.*, libdl.*, libutil.*,
 *     libxnet.*) resolve to the loader: one file is libc and ld.so.
 *  1. LD_LIBRARY_PATH.
 *  2. The DT_RUNPATH (else DT_RPATH) of the requesting object, then of the object that loaded it,
 *     up to the executable: musl treats both tags alike and transitively; only $ORIGIN expands.
 *  3. The system path: the file <loader dir>/../etc/ld-musl-ARCH.path (entries separated by ':'
 *     or newlines), else the built-in /lib:/usr/local/lib:/usr/lib.
 *
 * A name with '/' is opened as a path; an already loaded object with the same short name is reused.
 */
import { posix } from 'node:path'
import type { RootFs } from '../../layers/rootfs.js'
import type { LoadedObject, SearchContext, SearchStep } from './search.js'
import { absoluteDir, expandDynamicStringTokens, resolveDir } from './paths.js'
import { MUSL_DEFAULT_PATH } from './system-dirs.js'

const RESERVED = ['c', 'pthread', 'rt', 'm', 'dl', 'util', 'xnet']

/** Rule 0: names that musl answers with itself. */
export function isMuslReservedName(name: string): boolean {
  if (!name.startsWith('lib')) return false
  return RESERVED.some((r) => name.startsWith(`lib${r}.`))
}

/** Rule 1: LD_LIBRARY_PATH (':' or newline separated in musl). */
export function muslLdLibraryPathDirs(ctx: SearchContext): SearchStep[] {
  const v = ctx.env.LD_LIBRARY_PATH
  if (!v) return []
  return v
    .split(/[:\n]/)
    .filter(Boolean)
    .map((d) => ({ rule: 'ld-library-path' as const, dir: absoluteDir(d, ctx.cwd) }))
}

/** Rule 2: RUNPATH-or-RPATH of the requester and its loaders. */
export function muslRpathDirs(requester: LoadedObject, ctx: SearchContext): SearchStep[] {
  const out: SearchStep[] = []
  for (let p: LoadedObject | undefined = requester; p; p = p.loader) {
    const list = p.info.runpath.length > 0 ? p.info.runpath : p.info.rpath
    for (const raw of list) {
      // musl expands only $ORIGIN; other tokens stay literal.
      const d = expandDynamicStringTokens(raw, { origin: p.origin, lib: '$LIB', platform: '$PLATFORM' })
      if (d !== undefined && d !== '') out.push({ rule: p.info.runpath.length > 0 ? 'runpath' : 'rpath', dir: absoluteDir(d, ctx.cwd) })
    }
  }
  return out
}

/** Rule 3: the system path. */
export function muslSystemDirs(ctx: SearchContext): SearchStep[] {
  return (ctx.muslPath ?? MUSL_DEFAULT_PATH).map((dir) => ({ rule: 'musl-path' as const, dir }))
}

export function muslSearchOrder(requester: LoadedObject, ctx: SearchContext): SearchStep[] {
  return [...muslLdLibraryPathDirs(ctx), ...muslRpathDirs(requester, ctx), ...muslSystemDirs(ctx)]
}

/**
 * Reads ld-musl-ARCH.path next to the loader: `dirname(realpath(loader dir))/etc/...`, which is
 * how open(2) resolves "<loader dir>/../etc". Returns the file and its entries, or undefined when
 * there is no such file (musl then uses its built-in path).
 */
export async function readMuslPathFile(rootfs: RootFs, interpreter: string): Promise<{ file: string; dirs: string[] } | undefined> {
  const m = /ld-musl-([^/]+)\.so\.1$/.exec(interpreter)
  if (!m) return undefined
  const loaderDir = resolveDir(rootfs, posix.dirname(interpreter))
  const etc = loaderDir ? posix.join(posix.dirname(loaderDir.dir), 'etc') : '/etc'
  const file = `${etc}/ld-musl-${m[1]}.path`
  if (rootfs.stat(file)?.type !== 'file') return undefined
  const text = (await rootfs.readFile(file)).toString('utf8')
  return { file, dirs: text.split(/[:\n]/).map((s) => s.trim()).filter(Boolean) }
}
