/**
 * glibc's library search, one function per rule, in the order ld.so(8) ("Finding shared
 * libraries") applies them to a DT_NEEDED name without a slash:
 *
 *  1. DT_RPATH of the loading object, then of the object that loaded it, up to the executable,
 *     and the executable's own DT_RPATH, but only when the loading object has no DT_RUNPATH.
 *  2. LD_LIBRARY_PATH (from the image's Env).
 *  3. DT_RUNPATH of the loading object only (not transitive).
 *  4. /etc/ld.so.cache (emulated with the ld.so.conf directories; skipped when the image has no
 *     cache file, as ld.so finds nothing there) unless the loading object has DF_1_NODEFLIB.
 *  5. The trusted default directories, unless DF_1_NODEFLIB.
 *
 * A name containing '/' is opened as a path (relative to the working directory), and before any
 * search ld.so reuses an already loaded object whose name or soname matches.
 */
import type { LoadedObject, SearchContext, SearchStep } from './search.js'
import { absoluteDir, expandDynamicStringTokens, splitSearchList } from './paths.js'

/** Rule 1: DT_RPATH of the loader chain (glibc ignores an object's RPATH when it has a RUNPATH). */
export function rpathDirs(loader: LoadedObject, main: LoadedObject, ctx: SearchContext): SearchStep[] {
  if (loader.info.runpath.length > 0) return []
  const steps: SearchStep[] = []
  let sawMain = false
  for (let l: LoadedObject | undefined = loader; l; l = l.loader) {
    steps.push(...entries(l.info.runpath.length > 0 ? [] : l.info.rpath, l, ctx, 'rpath'))
    if (l === main) sawMain = true
  }
  if (!sawMain && main.info.runpath.length === 0) steps.push(...entries(main.info.rpath, main, ctx, 'rpath'))
  return steps
}

/** Rule 2: LD_LIBRARY_PATH, entries separated by ':' or ';', tokens expanded for the executable. */
export function ldLibraryPathDirs(main: LoadedObject, ctx: SearchContext): SearchStep[] {
  const value = ctx.env.LD_LIBRARY_PATH
  if (value === undefined || value === '') return []
  return entries(splitSearchList(value, ':;'), main, ctx, 'ld-library-path')
}

/** Rule 3: DT_RUNPATH of the loading object itself. */
export function runpathDirs(loader: LoadedObject, ctx: SearchContext): SearchStep[] {
  return entries(loader.info.runpath, loader, ctx, 'runpath')
}

/** Rule 4: the ld.so cache, i.e. the ld.so.conf directories and then the trusted directories
 * (ldconfig puts both in the cache). */
export function ldSoCacheDirs(loader: LoadedObject, ctx: SearchContext): SearchStep[] {
  if (!ctx.ldSoCache || nodeflib(loader)) return []
  return [...ctx.ldSoCache.dirs, ...ctx.trustedDirs].map((dir) => ({ rule: 'ld.so.conf' as const, dir }))
}

/** Rule 5: the trusted directories compiled into ld.so. */
export function defaultDirs(loader: LoadedObject, ctx: SearchContext): SearchStep[] {
  if (nodeflib(loader)) return []
  return ctx.trustedDirs.map((dir) => ({ rule: 'default' as const, dir }))
}

/** All directories glibc tries for `loader`'s DT_NEEDED (or dlopen) names, in order. */
export function glibcSearchOrder(loader: LoadedObject, main: LoadedObject, ctx: SearchContext): SearchStep[] {
  return [
    ...rpathDirs(loader, main, ctx),
    ...ldLibraryPathDirs(main, ctx),
    ...runpathDirs(loader, ctx),
    ...ldSoCacheDirs(loader, ctx),
    ...defaultDirs(loader, ctx),
  ]
}

function nodeflib(o: LoadedObject): boolean {
  return o.info.flags1.includes('NODEFLIB')
}

function entries(list: string[], owner: LoadedObject, ctx: SearchContext, rule: SearchStep['rule']): SearchStep[] {
  const out: SearchStep[] = []
  for (const raw of list) {
    const expanded = expandDynamicStringTokens(raw === '' ? '.' : raw, { origin: owner.origin, lib: ctx.dstLib, platform: ctx.platform })
    if (expanded === undefined) continue
    out.push({ rule, dir: absoluteDir(expanded, ctx.cwd) })
  }
  return out
}
