/**
 * The library closure of the executables a container runs: one emulated process per executable
 * (each exec starts afresh, so one program's RPATH never helps another), merged into one list of
 * files with who needs each, plus a tree for display.
 */
import { posix } from 'node:path'
import type { ElfInfo } from '../elf/types.js'
import type { RootFs } from '../../layers/rootfs.js'
import type { Closure, ClosureNode, ResolvedLibrary, UnresolvedLibrary } from '../types.js'
import { parseLdSoConf } from './ld-so-conf.js'
import { readMuslPathFile } from './musl.js'
import { EmulatedProcess } from './process.js'
import type { ElfReader, LoadedObject, SearchContext } from './search.js'
import { dstLibFromTrustedDirs, guessTrustedDirs, HWCAPS_SUBDIRS, MUSL_DEFAULT_PATH, platformString, trustedDirsFromLoader } from './system-dirs.js'

export interface ClosureOptions {
  rootfs: RootFs
  readElf: ElfReader
  /** The image's Env (LD_LIBRARY_PATH matters). */
  env: Record<string, string>
  /** WORKDIR. */
  cwd: string
}

export type Flavour = 'glibc' | 'musl' | 'none'

/** Which loader rules apply to an executable. */
export function loaderFlavour(info: ElfInfo): Flavour {
  if (info.libc === 'musl' || /ld-musl-/.test(info.interpreter ?? '')) return 'musl'
  if (info.interpreter) return 'glibc'
  if (info.needed.length === 0) return 'none'
  return info.libc === 'static-musl' ? 'musl' : 'glibc'
}

export class ClosureBuilder {
  readonly processes: EmulatedProcess[] = []
  /** Extra files the loader reads: ld.so.conf files, ld-musl-ARCH.path. */
  readonly configFiles = new Set<string>()
  private readonly opts: ClosureOptions
  private readonly contexts = new Map<string, SearchContext>()
  private readonly warnings: string[] = []
  private readonly roots: string[] = []
  private primary?: EmulatedProcess
  private primaryFlavour: Closure['loader'] = 'none'
  private searchPath: Closure['searchPath'] = { ldLibraryPath: [], ldSoConf: [], defaults: [] }

  constructor(opts: ClosureOptions) {
    this.opts = opts
  }

  /**
   * Starts an emulated process for one executable (by its real path in the image). The last one
   * added is taken as the program whose loader flavour the closure reports.
   */
  async addExecutable(realPath: string, path = realPath, opts: { primary?: boolean } = {}): Promise<EmulatedProcess | undefined> {
    const primary = opts.primary ?? true
    const { rootfs } = this.opts
    let info: ElfInfo
    try {
      info = await this.opts.readElf(realPath)
    } catch (e) {
      this.warnings.push(`${realPath}: not a readable ELF file (${e instanceof Error ? e.message : String(e)})`)
      return undefined
    }
    if (!this.roots.includes(realPath)) this.roots.push(realPath)
    const flavour = loaderFlavour(info)
    if (primary) this.primaryFlavour = flavour
    if (flavour === 'none') {
      if (primary) this.primary = undefined
      return undefined
    }
    const ctx = await this.context(info, flavour)
    if (primary) {
      this.searchPath = { ldLibraryPath: splitEnv(ctx.env), ldSoConf: ctx.ldSoCache?.dirs ?? [], defaults: ctx.trustedDirs }
      if (ctx.muslPath) this.searchPath.muslPath = ctx.muslPath
    }
    const st = rootfs.stat(realPath)
    const link = rootfs.realpath(path)
    const proc = new EmulatedProcess(ctx, { path, realPath, symlinks: link?.chain ?? [], size: st?.size ?? 0, info })
    await proc.start()
    this.processes.push(proc)
    if (primary) this.primary = proc
    return proc
  }

  /** dlopen(name) in the primary program's process (from `fromRealPath`, default the program). */
  async dlopen(name: string, fromRealPath?: string): Promise<LoadedObject | undefined> {
    const proc = this.primary
    if (!proc) return undefined
    const from = fromRealPath ? proc.objectByRealPath(fromRealPath) : undefined
    return proc.dlopen(name, from)
  }

  /** The primary program's process (undefined for static programs). */
  get program(): EmulatedProcess | undefined {
    return this.primary
  }

  result(): Closure {
    const libs = new Map<string, ResolvedLibrary>()
    const unresolved = new Map<string, UnresolvedLibrary>()
    for (const proc of this.processes) {
      for (const o of proc.objects) {
        if (o.via === 'root') continue
        const prev = libs.get(o.realPath)
        if (prev) {
          for (const n of o.neededBy) if (!prev.neededBy.includes(n)) prev.neededBy.push(n)
          prev.depth = Math.min(prev.depth, o.depth)
          continue
        }
        const lib: ResolvedLibrary = {
          name: o.requestedAs,
          path: o.path,
          realPath: o.realPath,
          symlinks: o.symlinks,
          size: o.size,
          neededBy: [...o.neededBy],
          depth: o.depth,
          rule: o.rule,
          via: o.via === 'interpreter' ? 'interpreter' : o.via === 'dlopen' ? 'dlopen' : 'needed',
        }
        if (o.info.soname) lib.soname = o.info.soname
        if (o.variants) lib.variants = o.variants
        libs.set(o.realPath, lib)
      }
      for (const u of proc.unresolved.values()) {
        const key = `${u.via}\0${u.name}`
        const prev = unresolved.get(key)
        if (!prev) unresolved.set(key, { ...u, neededBy: [...u.neededBy] })
        else for (const n of u.neededBy) if (!prev.neededBy.includes(n)) prev.neededBy.push(n)
      }
    }
    const closure: Closure = {
      loader: this.primaryFlavour,
      roots: [...this.roots],
      libraries: [...libs.values()],
      unresolved: [...unresolved.values()],
      tree: this.processes.map((p) => treeOf(p)),
      searchPath: this.searchPath,
      warnings: [...this.warnings, ...this.processes.flatMap((p) => p.warnings)],
    }
    // The program's loader, else (a static program behind a dynamic shell or launcher) the first one met.
    const loader = this.primary?.interpreter ?? this.processes.find((p) => p.interpreter)?.interpreter
    const interpreter = loader && libs.get(loader.realPath)
    if (interpreter) closure.interpreter = interpreter
    return closure
  }

  private async context(info: ElfInfo, flavour: 'glibc' | 'musl'): Promise<SearchContext> {
    const key = `${flavour}\0${info.interpreter ?? ''}\0${info.machineCode}\0${info.class}`
    const cached = this.contexts.get(key)
    if (cached) return cached
    const { rootfs, env, cwd, readElf } = this.opts
    const base = { rootfs, readElf, env, cwd, flavour, machine: info.machine, platform: platformString(info.machine), hwcaps: HWCAPS_SUBDIRS[info.machine] ?? [] }
    let ctx: SearchContext
    if (flavour === 'musl') {
      const pathFile = info.interpreter ? await readMuslPathFile(rootfs, info.interpreter) : undefined
      if (pathFile) this.configFiles.add(pathFile.file)
      ctx = { ...base, trustedDirs: [], muslPath: pathFile?.dirs ?? MUSL_DEFAULT_PATH, dstLib: 'lib' }
    } else {
      let trusted: string[] | undefined
      if (info.interpreter) {
        const interp = rootfs.realpath(info.interpreter)
        if (interp && rootfs.stat(interp.path)?.type === 'file') {
          try {
            trusted = trustedDirsFromLoader(await rootfs.readFile(interp.path))
          } catch {
            trusted = undefined
          }
        }
      }
      trusted ??= guessTrustedDirs(rootfs, info.machine, info.class)
      let ldSoCache: SearchContext['ldSoCache']
      if (rootfs.stat('/etc/ld.so.cache')?.type === 'file') {
        const conf = await parseLdSoConf(rootfs)
        ldSoCache = { dirs: conf.dirs, files: conf.files }
        for (const f of conf.files) this.configFiles.add(f)
        this.configFiles.add('/etc/ld.so.cache')
        this.warnings.push(...conf.warnings)
      } else {
        this.warnings.push('no /etc/ld.so.cache in the image: the loader searches only RPATH, LD_LIBRARY_PATH, RUNPATH and its default directories')
      }
      ctx = { ...base, trustedDirs: trusted, ldSoCache, dstLib: dstLibFromTrustedDirs(trusted) }
    }
    this.contexts.set(key, ctx)
    return ctx
  }
}

function splitEnv(env: Record<string, string>): string[] {
  return (env.LD_LIBRARY_PATH ?? '').split(/[:;]/).filter(Boolean)
}

/** lddtree-style tree of one process: each object's DT_NEEDED in order; repeats are marked `seen`. */
function treeOf(proc: EmulatedProcess): ClosureNode {
  const shown = new Set<string>()
  const walk = (o: LoadedObject, name: string): ClosureNode => {
    const node: ClosureNode = { name, path: o.path, children: [] }
    if (shown.has(o.realPath)) {
      node.seen = true
      return node
    }
    shown.add(o.realPath)
    const edges = proc.edges.get(o.realPath)
    if (!edges) return node
    for (const [n, child] of edges) {
      if (!child) node.children.push({ name: n, missing: true, children: [] })
      else if (child === o) continue
      else node.children.push(walk(child, n))
    }
    return node
  }
  const root = walk(proc.main, posix.basename(proc.main.path))
  if (proc.interpreter && !shown.has(proc.interpreter.realPath)) root.children.push({ name: proc.main.info.interpreter!, path: proc.interpreter.path, children: [] })
  return root
}
