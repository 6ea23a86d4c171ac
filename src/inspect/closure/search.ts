/**
 * Shared pieces of both loaders' searches: the process context, the objects a process has loaded,
 * and trying a name in a list of directories (glibc-hwcaps variants, ELF compatibility).
 */
import { posix } from 'node:path'
import type { ElfInfo, ElfMachine } from '../elf/types.js'
import type { RootFs } from '../../layers/rootfs.js'
import type { SearchRule } from '../types.js'
import { incompatibility } from './compat.js'
import { resolveDir } from './paths.js'

/** Reads and parses an ELF file of the image (by real path); throws when it is not a readable ELF. */
export type ElfReader = (realPath: string) => Promise<ElfInfo>

export interface SearchContext {
  rootfs: RootFs
  readElf: ElfReader
  flavour: 'glibc' | 'musl'
  /** The image's Env (LD_LIBRARY_PATH). */
  env: Record<string, string>
  /** The process's working directory (WORKDIR): relative search entries are relative to it. */
  cwd: string
  /** glibc: trusted system directories, in order. */
  trustedDirs: string[]
  /** glibc: the ld.so.cache stand-in; undefined when the image has no /etc/ld.so.cache. */
  ldSoCache?: { dirs: string[]; files: string[] }
  /** musl: the system path (from ld-musl-ARCH.path or the default). */
  muslPath?: string[]
  dstLib: string
  platform?: string
  machine: ElfMachine
  /** glibc-hwcaps subdirectory names for this machine. */
  hwcaps: string[]
}

/** One object mapped into the emulated process (glibc's struct link_map, musl's struct dso). */
export interface LoadedObject {
  /** Names this object answers to: the path it was opened by, the names it was requested by, its soname. */
  names: Set<string>
  /** Path as the loader built it (search dir + name), lexically cleaned. */
  path: string
  realPath: string
  /** Symlinks crossed from `path` to `realPath`. */
  symlinks: string[]
  size: number
  info: ElfInfo
  /** The object that caused this one to be loaded (glibc l_loader, musl needed_by). */
  loader?: LoadedObject
  /** Directory $ORIGIN expands to: the executable's real directory, else the dir of `path`. */
  origin: string
  depth: number
  rule: SearchRule
  via: 'needed' | 'interpreter' | 'dlopen' | 'root'
  requestedAs: string
  neededBy: string[]
  variants?: string[]
}

export interface SearchStep {
  rule: SearchRule
  dir: string
}

export interface Candidate {
  path: string
  realPath: string
  symlinks: string[]
  size: number
  info: ElfInfo
  rule: SearchRule
  variants?: string[]
}

export interface SearchResult {
  found?: Candidate
  searched: string[]
  skipped: { path: string; reason: string }[]
  /** A hard failure that ends the search (glibc: a file that is not an ELF). */
  error?: string
}

/**
 * Tries `name` in each directory in order; the first compatible ELF wins. glibc skips files of
 * the wrong class or machine; musl does not (it fails on them), so `skipIncompatible` is false there.
 */
export async function findInDirs(name: string, steps: SearchStep[], main: ElfInfo, ctx: SearchContext, skipIncompatible: boolean): Promise<SearchResult> {
  const res: SearchResult = { searched: [], skipped: [] }
  const tried = new Set<string>()
  for (const step of steps) {
    // Kept as the loader builds it ("/opt/app/bin/../lib"): ld.so prints and opens it unnormalised.
    const dir = step.dir.length > 1 ? step.dir.replace(/\/+$/, '') : step.dir
    const key = `${step.rule}\0${dir}`
    if (tried.has(key)) continue
    tried.add(key)
    res.searched.push(dir)
    const r = await tryCandidate(dir === '/' ? `/${name}` : `${dir}/${name}`, step.rule, main, ctx)
    if (r.kind === 'absent') continue
    if (r.kind === 'found') return { ...res, found: r.candidate }
    if (r.kind === 'incompatible' && skipIncompatible) {
      res.skipped.push({ path: r.path, reason: r.reason })
      continue
    }
    res.skipped.push({ path: r.path, reason: r.reason })
    return { ...res, error: `${r.path}: ${r.reason}` }
  }
  return res
}

type Attempt =
  | { kind: 'absent' }
  | { kind: 'found'; candidate: Candidate }
  | { kind: 'incompatible' | 'invalid'; path: string; reason: string }

/** Opens one candidate path like the loader would (following symlinks inside the root). */
export async function tryCandidate(path: string, rule: SearchRule, main: ElfInfo, ctx: SearchContext): Promise<Attempt> {
  const dir = posix.dirname(path)
  const base = posix.basename(path)
  const real = resolveDir(ctx.rootfs, dir)
  const variants = real ? hwcapsVariants(ctx, real.dir, base) : []
  if (!real) return { kind: 'absent' }
  const file = ctx.rootfs.realpath(real.dir === '/' ? `/${base}` : `${real.dir}/${base}`)
  const st = file && ctx.rootfs.stat(file.path)
  if (!file || !st || st.type === 'dir') {
    // Only a CPU-specific copy exists: machines with that level load it, others fail.
    if (variants.length > 0) return tryCandidate(variants[variants.length - 1]!, rule, main, ctx)
    return { kind: 'absent' }
  }
  let info: ElfInfo
  try {
    info = await ctx.readElf(file.path)
  } catch (e) {
    return { kind: 'invalid', path, reason: `not a loadable ELF file (${e instanceof Error ? e.message : String(e)})` }
  }
  const why = incompatibility(main, info)
  if (why) return { kind: 'incompatible', path, reason: why }
  const candidate: Candidate = { path, realPath: file.path, symlinks: [...new Set([...real.chain, ...file.chain])], size: st.size, info, rule }
  if (variants.length > 0) candidate.variants = variants
  return { kind: 'found', candidate }
}

/** Copies of `name` in DIR/glibc-hwcaps/LEVEL/ that glibc ≥ 2.33 prefers on CPUs with that level. */
function hwcapsVariants(ctx: SearchContext, dir: string, name: string): string[] {
  if (ctx.flavour !== 'glibc' || ctx.hwcaps.length === 0) return []
  const hw = `${dir === '/' ? '' : dir}/glibc-hwcaps`
  if (ctx.rootfs.stat(hw)?.type !== 'dir') return []
  return ctx.hwcaps.map((level) => `${hw}/${level}/${name}`).filter((p) => ctx.rootfs.stat(p)?.type === 'file')
}
