/**
 * One emulated process start: the executable, its PT_INTERP, then every DT_NEEDED breadth-first,
 * as glibc's _dl_map_object_deps and musl's load_deps walk them. Each name is first matched against
 * what is already loaded (by name/soname for glibc, by short name for musl; the same file reached by
 * another name is the same object, as both loaders compare inodes), then searched with the
 * flavour's rules.
 */
import { posix } from 'node:path'
import type { ElfInfo } from '../elf/types.js'
import type { UnresolvedLibrary } from '../types.js'
import { glibcSearchOrder } from './glibc.js'
import { isMuslReservedName, muslSearchOrder } from './musl.js'
import { expandDynamicStringTokens, absoluteDir } from './paths.js'
import { findInDirs, tryCandidate, type Candidate, type LoadedObject, type SearchContext, type SearchResult } from './search.js'

/** A safety bound: a real process maps a few hundred objects at most. */
export const MAX_OBJECTS = 2000

export class EmulatedProcess {
  readonly ctx: SearchContext
  readonly objects: LoadedObject[] = []
  readonly main: LoadedObject
  interpreter?: LoadedObject
  /** requester real path → requested name → the object (or undefined when unresolved). */
  readonly edges = new Map<string, Map<string, LoadedObject | undefined>>()
  readonly unresolved = new Map<string, UnresolvedLibrary>()
  readonly warnings: string[] = []
  private readonly byReal = new Map<string, LoadedObject>()

  constructor(ctx: SearchContext, main: { path: string; realPath: string; symlinks: string[]; size: number; info: ElfInfo }) {
    this.ctx = ctx
    this.main = {
      names: new Set([main.path]),
      path: main.path,
      realPath: main.realPath,
      symlinks: main.symlinks,
      size: main.size,
      info: main.info,
      // The kernel hands ld.so the executable's real path (/proc/self/exe), so $ORIGIN is its real dir.
      origin: posix.dirname(main.realPath),
      depth: 0,
      rule: 'path',
      via: 'root',
      requestedAs: main.path,
      neededBy: [],
    }
    this.add(this.main)
  }

  /** Maps the interpreter and the executable's whole DT_NEEDED closure. */
  async start(): Promise<void> {
    const interp = this.main.info.interpreter
    if (interp) {
      const attempt = await tryCandidate(interp, 'interpreter', this.main.info, this.ctx)
      if (attempt.kind === 'found') {
        const o = this.objectFor(attempt.candidate, interp, this.main, 'interpreter')
        o.names.add(interp)
        if (o.info.soname) o.names.add(o.info.soname)
        this.interpreter = o
        this.add(o)
      } else {
        const reason = attempt.kind === 'absent' ? 'not in the image' : attempt.reason
        this.unresolved.set(`interp\0${interp}`, { name: interp, neededBy: [this.main.realPath], searched: [interp], skipped: attempt.kind === 'absent' ? [] : [{ path: interp, reason }], via: 'needed' })
      }
    }
    await this.mapDependencies(0)
  }

  /** dlopen(name) from `from` (default: the executable): the same search, then its dependencies. */
  async dlopen(name: string, from?: LoadedObject): Promise<LoadedObject | undefined> {
    const start = this.objects.length
    const o = await this.load(name, from ?? this.main, 'dlopen')
    if (o) await this.mapDependencies(start)
    return o
  }

  objectByRealPath(p: string): LoadedObject | undefined {
    return this.byReal.get(p)
  }

  /** Breadth-first over objects[from...], as the loaders queue them. */
  private async mapDependencies(from: number): Promise<void> {
    let waveEnd = from
    for (let i = from; i < this.objects.length; i++) {
      if (i === waveEnd) {
        await this.prefetchWave(i)
        waveEnd = this.objects.length
      }
      const obj = this.objects[i]!
      for (const name of obj.info.needed) {
        await this.load(name, obj, 'needed')
        if (this.objects.length >= MAX_OBJECTS) {
          this.warnings.push(`stopped after ${MAX_OBJECTS} objects; the closure is incomplete`)
          return
        }
      }
    }
  }

  /**
   * Runs the searches of one breadth-first wave (every DT_NEEDED of objects[from...]) at the same
   * time, only for their side effect of reading the candidate files: reads that arrive together
   * share one pass over a layer, so a closure costs one layer pass per wave instead of one per
   * library. The loader's order is then applied by the sequential walk, which finds every ELF
   * already read. Results are discarded, so the outcome is the same as without prefetching.
   */
  private async prefetchWave(from: number): Promise<void> {
    const searches: Promise<unknown>[] = []
    const seen = new Set<string>()
    for (let i = from; i < this.objects.length; i++) {
      const obj = this.objects[i]!
      for (const name of obj.info.needed) {
        const key = `${obj.origin}\0${name}`
        if (seen.has(key) || this.matchLoaded(name, false)) continue
        seen.add(key)
        searches.push(this.search(name, obj).catch(() => undefined))
      }
    }
    await Promise.all(searches)
  }

  private async load(name: string, requester: LoadedObject, via: 'needed' | 'dlopen'): Promise<LoadedObject | undefined> {
    const edges = this.edges.get(requester.realPath) ?? new Map<string, LoadedObject | undefined>()
    this.edges.set(requester.realPath, edges)
    const existing = this.matchLoaded(name)
    if (existing) {
      this.noteRequester(existing, requester)
      edges.set(name, existing)
      return existing
    }
    const result = await this.search(name, requester)
    if (!result.found) {
      const key = `${via}\0${name}`
      const u = this.unresolved.get(key) ?? { name, neededBy: [], searched: result.searched, skipped: result.skipped, via }
      if (!u.neededBy.includes(requester.realPath)) u.neededBy.push(requester.realPath)
      if (result.error && !u.skipped.some((s) => result.error?.startsWith(s.path))) u.skipped.push({ path: name, reason: result.error })
      this.unresolved.set(key, u)
      edges.set(name, undefined)
      return undefined
    }
    const same = this.byReal.get(result.found.realPath)
    if (same) {
      // The same file under another name (inode match): one object, one more name.
      same.names.add(name)
      this.noteRequester(same, requester)
      edges.set(name, same)
      return same
    }
    const o = this.objectFor(result.found, name, requester, via)
    this.add(o)
    edges.set(name, o)
    return o
  }

  private search(name: string, requester: LoadedObject): Promise<SearchResult> {
    const ctx = this.ctx
    if (ctx.flavour === 'musl' && isMuslReservedName(name) && this.interpreter) {
      const i = this.interpreter
      return Promise.resolve({ found: { path: i.path, realPath: i.realPath, symlinks: i.symlinks, size: i.size, info: i.info, rule: 'musl-self' }, searched: [], skipped: [] })
    }
    if (name.includes('/')) {
      // glibc expands tokens in a path-like DT_NEEDED; relative paths are relative to the cwd.
      const expanded = expandDynamicStringTokens(name, { origin: requester.origin, lib: ctx.dstLib, platform: ctx.platform }) ?? name
      const p = absoluteDir(expanded, ctx.cwd)
      return findInDirs(posix.basename(p), [{ rule: 'path', dir: posix.dirname(p) }], this.main.info, ctx, false)
    }
    const steps = ctx.flavour === 'glibc' ? glibcSearchOrder(requester, this.main, ctx) : muslSearchOrder(requester, ctx)
    return findInDirs(name, steps, this.main.info, ctx, ctx.flavour === 'glibc')
  }

  /** glibc _dl_name_match_p plus the soname check; musl's short-name check. `record` adds the
   * name to the matched object, as the loader does once it has matched by soname. */
  private matchLoaded(name: string, record = true): LoadedObject | undefined {
    for (const o of this.objects) {
      if (o.names.has(name)) return o
      if (this.ctx.flavour === 'glibc' && o.info.soname === name) {
        if (record) o.names.add(name)
        return o
      }
    }
    return undefined
  }

  private objectFor(c: Candidate, name: string, requester: LoadedObject, via: LoadedObject['via']): LoadedObject {
    const o: LoadedObject = {
      names: new Set([name, c.path]),
      path: c.path,
      realPath: c.realPath,
      symlinks: c.symlinks,
      size: c.size,
      info: c.info,
      loader: via === 'interpreter' ? undefined : requester,
      origin: posix.dirname(c.path),
      depth: requester.depth + 1,
      rule: c.rule,
      via,
      requestedAs: name,
      neededBy: [requester.realPath],
    }
    if (c.variants) o.variants = c.variants
    return o
  }

  private noteRequester(o: LoadedObject, requester: LoadedObject): void {
    if (o !== requester && !o.neededBy.includes(requester.realPath)) o.neededBy.push(requester.realPath)
  }

  private add(o: LoadedObject): void {
    this.objects.push(o)
    this.byReal.set(o.realPath, o)
  }
}
