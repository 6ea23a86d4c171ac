/**
 * inspectImage: which program an image runs and every file it needs, statically.
 *
 *   config ──entrypoint──▶ program (chain, executables)
 *          ──closure─────▶ the loader's libraries for each executable
 *          ──runtime─────▶ the interpreted app's runtime, trees and native modules
 *          ──needs───────▶ dlopen, certificates, tzdata, NSS, user, /tmp, locales, data dirs, ...
 *
 * Nothing is executed and nothing outside the RootFs is read.
 */
import { posix } from 'node:path'
import { describe, isSlimError, SlimError } from '../core/errors.js'
import type { ImageConfig } from '../image/types.js'
import type { RootFs } from '../layers/rootfs.js'
import { ClosureBuilder } from './closure/closure.js'
import type { LoadedObject } from './closure/search.js'
import { highestVersion, needsVersion, parseElf } from './elf/index.js'
import type { ElfInfo, ElfMachine } from './elf/types.js'
import { resolveProgram, type ScriptCommand } from './entrypoint/resolve.js'
import { readGoBuildInfo, type GoBuildInfo } from './gobuildinfo.js'
import { runtimeLanguage } from './interpreters/language.js'
import { detectRuntime } from './interpreters/runtime.js'
import { isGlibcPart } from './needs/context.js'
import { collectNeeds } from './needs/needs.js'
import { readRustInfo, type RustInfo } from './rustinfo.js'
import type { ElfSummary, Finding, Gap, Inspection, Need, Runtime, SymbolVersions } from './types.js'

export interface InspectOptions {
  /** Replaces ENTRYPOINT and drops CMD, like `docker run --entrypoint`. */
  entrypoint?: string[]
}

/** Files bigger than this are not read whole (a 2 GB "binary" is not a program slim can parse). */
const MAX_ELF_BYTES = 1024 * 1024 * 1024
/** How many directory entries files() expands at most (a safety bound for huge app trees). */
const MAX_TREE_ENTRIES = 500_000

export async function inspectImage(rootfs: RootFs, config: ImageConfig, opts: InspectOptions = {}): Promise<Inspection> {
  try {
    return await inspect(rootfs, config, opts)
  } catch (e) {
    if (isSlimError(e)) throw e
    // Image content never throws by design (it becomes findings and gaps); this is a bug in slim.
    throw new SlimError('internal', `inspecting the image failed: ${describe(e)}; please report this with the image`, { cause: e })
  }
}

async function inspect(imageFs: RootFs, config: ImageConfig, opts: InspectOptions): Promise<Inspection> {
  // Every stage of inspection reads through one cache: a file read twice (libc by the closure and
  // by the needs, the loader by the closure and for its default dirs) costs one layer pass.
  const rootfs = withReadCache(imageFs)
  const readFile = (path: string) => rootfs.readFile(path)
  const elfCache = new Map<string, Promise<ElfInfo>>()
  const readElf = (realPath: string): Promise<ElfInfo> => {
    let p = elfCache.get(realPath)
    if (!p) {
      p = (async () => {
        const st = rootfs.stat(realPath)
        if (st && st.size > MAX_ELF_BYTES) throw new Error(`${realPath} is larger than ${MAX_ELF_BYTES} bytes`)
        return parseElf(await readFile(realPath), { name: realPath })
      })()
      elfCache.set(realPath, p)
    }
    return p
  }
  const gaps: Gap[] = []
  const findings: Finding[] = []

  // 1. The program.
  const resolved = await resolveProgram(rootfs, config, { ...(opts.entrypoint ? { entrypoint: opts.entrypoint } : {}), readFile })
  const { program } = resolved
  gaps.push(...resolved.gaps)
  findings.push(...resolved.findings)

  // 2. The loader's closure of every executable on the way; the last one is the program.
  const builder = new ClosureBuilder({ rootfs, readElf, env: program.env, cwd: program.workdir })
  const executables = program.executables
  for (let i = 0; i < executables.length; i++) {
    const real = executables[i]!
    const isLast = i === executables.length - 1
    await builder.addExecutable(real, isLast && program.path && program.realPath === real ? program.path : real, { primary: isLast })
  }
  for (const c of resolved.scriptCommands) {
    if (!c.conditional && c.found && !executables.includes(c.found.realPath) && (await isElfFile(readFile, c.found.realPath))) {
      await builder.addExecutable(c.found.realPath, c.found.path, { primary: false })
    }
  }

  // 3. ELF, Go and Rust facts of the program.
  const finalElf = executables[executables.length - 1]
  let info: ElfInfo | undefined
  let go: GoBuildInfo | undefined
  let rust: RustInfo | undefined
  if (finalElf) {
    try {
      info = await readElf(finalElf)
      const bytes = await readFile(finalElf)
      if (info.isGo) go = readGoBuildInfo(bytes, { name: finalElf, machine: info.machine })
      else {
        const r = readRustInfo(bytes, { name: finalElf })
        if (r.isRust) rust = r
      }
      if (info.warnings.length > 0) findings.push({ severity: 'warning', code: 'malformed-elf', message: `${finalElf}: ${info.warnings.slice(0, 3).join('; ')}` })
      const foreign = foreignArch(config.architecture, info.machine)
      if (foreign) findings.push({ severity: 'warning', code: 'foreign-arch', message: foreign })
    } catch (e) {
      findings.push({ severity: 'error', code: 'malformed-elf', message: `${finalElf} could not be read as ELF: ${describe(e)}` })
    }
  }

  // The program's process (static programs get a stand-alone object so needs can read their imports).
  const proc = builder.program
  const objects: LoadedObject[] = proc?.objects ?? (info && finalElf ? [standalone(finalElf, program.path ?? finalElf, info, rootfs)] : [])

  // 4. The runtime of an interpreted app, and its native modules (dlopened, so their libraries count).
  let runtime: Runtime | undefined
  if (resolved.language && info && finalElf && program.path) {
    const libraries: Record<string, string> = {}
    for (const o of objects) for (const n of o.names) libraries[n] = o.realPath
    const detected = await detectRuntime(resolved.language, { rootfs, path: program.path, realPath: finalElf, argv: program.argv, env: program.env, cwd: program.workdir, readFile, needed: info.needed, libraries })
    runtime = detected.runtime
    for (const g of detected.gaps) gaps.push({ area: 'runtime', message: g })
    if (runtime.language !== 'shell' && program.kind === 'interpreted' && (runtime.app.kind === 'repl' || runtime.app.kind === 'unknown')) program.kind = 'elf'
    if (proc) {
      for (const m of detected.nativeModules) {
        if (!(await isElfFile(readFile, m))) continue
        await builder.dlopen(m)
      }
    }
  }

  // 5. Needs beyond the DT_NEEDED closure (dlopen and NSS extend the closure).
  const needsOut = await collectNeeds({ rootfs, config, program, ...(info ? { elf: info } : {}), objects, closure: builder, ...(go ? { go } : {}), ...(runtime ? { runtime } : {}), scriptCommands: resolved.scriptCommands, readFile })
  gaps.push(...needsOut.gaps)
  findings.push(...needsOut.findings)
  needsOut.needs.push(...(await scriptRuntimeNeeds(rootfs, resolved.scriptCommands, program, readFile, builder, gaps)))

  // 6. The closure and what it could not resolve.
  const closure = builder.result()
  for (const w of closure.warnings) gaps.push({ area: 'closure', message: w })
  for (const u of closure.unresolved) {
    const fromDlopen = u.via === 'dlopen' || u.neededBy.every((r) => isDlopenDescendant(builder, r))
    if (u.via === 'dlopen') continue // reported as a dlopen need
    if (fromDlopen) {
      gaps.push({ area: 'closure', message: `${u.name}, needed by the dlopen'd ${u.neededBy.map((n) => posix.basename(n)).join(', ')}, is not in the image; that module cannot load` })
      continue
    }
    const interp = u.searched.length === 1 && u.name.startsWith('/') && u.name === u.searched[0]
    findings.push({
      severity: 'error',
      code: interp ? 'interpreter-missing' : 'library-unresolved',
      message: interp
        ? `${u.neededBy[0]} asks for the loader ${u.name}, which is not in the image: the program cannot start`
        : `${u.name} (needed by ${u.neededBy.join(', ')}) is not found in ${u.searched.length} searched director${u.searched.length === 1 ? 'y' : 'ies'}${u.skipped.length ? `; skipped ${u.skipped.map((s) => `${s.path}: ${s.reason}`).join('; ')}` : ''}`,
    })
  }

  const elf = info && finalElf ? summarise(finalElf, info, objects) : undefined
  const inspection: Inspection = {
    program,
    ...(elf ? { elf } : {}),
    ...(go ? { go } : {}),
    ...(rust ? { rust } : {}),
    ...(runtime ? { runtime } : {}),
    closure,
    needs: needsOut.needs,
    findings,
    gaps,
    files: () => [],
  }
  const fileList = computeFiles(rootfs, inspection, builder, gaps)
  Object.defineProperty(inspection, 'files', { value: () => [...fileList], enumerable: false })
  return inspection
}

/**
 * A wrapper or shell string that runs an interpreter besides the program (`python3 -c ...` before
 * `exec nginx`): that runtime's library trees are needed too.
 */
async function scriptRuntimeNeeds(
  rootfs: RootFs,
  commands: ScriptCommand[],
  program: Inspection['program'],
  readFile: (p: string) => Promise<Buffer>,
  builder: ClosureBuilder,
  gaps: Gap[],
): Promise<Need[]> {
  const out: Need[] = []
  for (const c of commands) {
    if (c.conditional || !c.found || c.found.realPath === program.realPath) continue
    const language = runtimeLanguage(posix.basename(c.found.path), posix.basename(c.found.realPath))
    if (!language || language === 'shell') continue
    const proc = builder.processes.find((p) => p.main.realPath === c.found!.realPath)
    if (!proc) continue
    const libraries: Record<string, string> = {}
    for (const o of proc.objects) for (const n of o.names) libraries[n] = o.realPath
    const d = await detectRuntime(language, { rootfs, path: c.found.path, realPath: c.found.realPath, argv: [c.name], env: program.env, cwd: program.workdir, readFile, needed: proc.main.info.needed, libraries })
    for (const t of d.runtime.trees.filter((t) => t !== d.runtime.appDir)) {
      out.push({ kind: 'app-tree', paths: [t], present: true, reason: `${c.script} runs ${c.name} (${language}${d.runtime.version ? ` ${d.runtime.version}` : ''}), which loads code from ${t}`, evidence: [`${c.script}:${c.line}`], confidence: 'likely' })
    }
    if (d.nativeModules.length > 0) gaps.push({ area: 'runtime', message: `${c.name}, run by ${c.script}, may load native modules whose libraries slim did not resolve` })
  }
  return out
}

/** The exact list of paths a slim image must contain (see Inspection.files). */
function computeFiles(rootfs: RootFs, ins: Inspection, builder: ClosureBuilder, gaps: Gap[]): string[] {
  const set = new Set<string>()
  // Only real entries: "/lib/x86_64-linux-gnu/libc.so.6" behind the /lib -> usr/lib link is listed
  // as the link "/lib" plus the file at its real path.
  const add = (p: string | undefined): void => {
    if (!p || p === '/' || set.has(p)) return
    const parent = posix.dirname(p)
    if (rootfs.realpath(parent)?.path === parent && rootfs.lstat(p)) set.add(p)
  }
  const addTreeEntry = (p: string): void => {
    set.add(p)
  }
  const p = ins.program
  for (const x of [...p.symlinks, ...p.scripts, ...p.executables]) add(x)
  if (p.kind !== 'missing') {
    add(p.path)
    add(p.realPath)
  }
  for (const lib of ins.closure.libraries) {
    for (const s of lib.symlinks) add(s)
    add(lib.realPath)
    for (const v of lib.variants ?? []) for (const x of chainOf(rootfs, v)) add(x)
  }
  const ldSoConfUsed = ins.closure.libraries.some((l) => l.rule === 'ld.so.conf' && !ins.closure.searchPath.defaults.includes(posix.dirname(l.path)))
  for (const f of builder.configFiles) if (ldSoConfUsed || /ld-musl-.*\.path$/.test(f)) for (const x of chainOf(rootfs, f)) add(x)
  let budget = MAX_TREE_ENTRIES
  for (const n of ins.needs) {
    if (!included(n)) continue
    for (const path of n.paths) {
      add(path)
      // A writable place must exist; what it held when the image was built is not part of the need.
      if (n.writable) continue
      // Need paths list symlinks crossed (like /lib -> usr/lib) next to the real target; only a real
      // directory stands for its tree.
      if (rootfs.lstat(path)?.type === 'dir' && set.has(path)) budget = expandTree(rootfs, path, addTreeEntry, add, budget)
    }
  }
  if (budget <= 0) gaps.push({ area: 'needs', message: `the needed directory trees hold more than ${MAX_TREE_ENTRIES} entries; files() lists only the first ones` })
  return [...set].sort()
}

function included(n: Need): boolean {
  return n.present && n.providedBy !== 'runtime' && (n.confidence === 'certain' || n.confidence === 'likely')
}

/** Adds every entry under `dir` (files, symlinks and their targets, subdirectories). */
function expandTree(rootfs: RootFs, dir: string, add: (p: string) => void, addChecked: (p: string) => void, budget: number): number {
  const stack = [dir]
  const seen = new Set<string>()
  while (stack.length > 0 && budget > 0) {
    const d = stack.pop()!
    if (seen.has(d)) continue
    seen.add(d)
    for (const name of rootfs.readdir(d)) {
      if (--budget <= 0) return 0
      const path = d === '/' ? `/${name}` : `${d}/${name}`
      const st = rootfs.lstat(path)
      if (!st) continue
      add(path)
      if (st.type === 'dir') stack.push(path)
      else if (st.type === 'symlink') {
        // Keep what the link points to (hashed certificate links, alternatives), but do not walk linked directories.
        for (const x of chainOf(rootfs, path)) addChecked(x)
      }
    }
  }
  return budget
}

function chainOf(rootfs: RootFs, p: string): string[] {
  const r = rootfs.realpath(p)
  return r ? [p, ...r.chain, r.path] : rootfs.lstat(p) ? [p] : []
}

function isDlopenDescendant(builder: ClosureBuilder, realPath: string): boolean {
  for (const proc of builder.processes) {
    let o: LoadedObject | undefined = proc.objectByRealPath(realPath)
    for (let hops = 0; o && hops < 100; hops++, o = o.loader) if (o.via === 'dlopen') return true
  }
  return false
}

function summarise(path: string, info: ElfInfo, objects: LoadedObject[]): ElfSummary {
  const glibcProvided = (n: string): boolean => isGlibcPart(n) || /^lib(stdc\+\+|gcc_s)\.so/.test(n)
  const all = objects.filter((o) => o.via === 'root' || !glibcProvided(posix.basename(o.path)))
  const merged = { versionNeeds: all.flatMap((o) => o.info.versionNeeds) }
  return {
    path,
    class: info.class,
    endianness: info.endianness,
    machine: info.machine,
    type: info.type,
    libc: info.libc,
    libcEvidence: info.libcEvidence,
    ...(info.interpreter ? { interpreter: info.interpreter } : {}),
    static: !info.interpreter && info.needed.length === 0,
    stripped: info.stripped,
    needed: info.needed,
    rpath: info.rpath,
    runpath: info.runpath,
    versions: versionsOf(info),
    closureVersions: versionsOf(merged),
    cxx: objects.some((o) => /^libstdc\+\+\.so|^libc\+\+\.so/.test(posix.basename(o.path))) || info.needed.some((n) => /^libstdc\+\+|^libc\+\+/.test(n)),
    warnings: info.warnings,
  }
}

function versionsOf(info: Pick<ElfInfo, 'versionNeeds'>): SymbolVersions {
  const strip = (v: string | undefined, prefix: string): string | undefined => v?.slice(prefix.length)
  const v: SymbolVersions = { glibcPrivate: needsVersion(info, 'GLIBC_PRIVATE'), abiDtRelr: needsVersion(info, 'GLIBC_ABI_DT_RELR') }
  const glibc = strip(highestVersion(info, 'GLIBC_'), 'GLIBC_')
  const glibcxx = strip(highestVersion(info, 'GLIBCXX_'), 'GLIBCXX_')
  const cxxabi = strip(highestVersion(info, 'CXXABI_'), 'CXXABI_')
  const gcc = strip(highestVersion(info, 'GCC_'), 'GCC_')
  if (glibc) v.glibc = glibc
  if (glibcxx) v.glibcxx = glibcxx
  if (cxxabi) v.cxxabi = cxxabi
  if (gcc) v.gcc = gcc
  return v
}

function standalone(realPath: string, path: string, info: ElfInfo, rootfs: RootFs): LoadedObject {
  return {
    names: new Set([path]),
    path,
    realPath,
    symlinks: rootfs.realpath(path)?.chain ?? [],
    size: rootfs.stat(realPath)?.size ?? 0,
    info,
    origin: posix.dirname(realPath),
    depth: 0,
    rule: 'path',
    via: 'root',
    requestedAs: path,
    neededBy: [],
  }
}

const GOARCH_TO_MACHINE: Record<string, ElfMachine[]> = {
  amd64: ['x86-64'],
  arm64: ['aarch64'],
  arm: ['arm'],
  '386': ['i386'],
  riscv64: ['riscv64'],
  s390x: ['s390x'],
  ppc64le: ['ppc64le'],
  ppc64: ['ppc64'],
  loong64: ['loongarch64'],
  mips: ['mips'],
}

function foreignArch(architecture: string, machine: ElfMachine): string | undefined {
  const expected = GOARCH_TO_MACHINE[architecture]
  if (!expected || expected.includes(machine)) return undefined
  return `the image says architecture ${architecture} but the program is an ELF file for ${machine}`
}

async function isElfFile(read: (p: string) => Promise<Buffer>, p: string): Promise<boolean> {
  try {
    const b = await read(p)
    return b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46
  } catch {
    return false
  }
}

/**
 * RootFs.readFile with a small cache: the same program file is read for its head, its ELF facts,
 * its Go build info and its strings. Only the most recent few files are kept.
 */
/** Bytes of file contents kept between reads (the closures of real programs are 5 to 80 MB). */
const READ_CACHE_BYTES = 96 * 1024 * 1024
/** Entries kept whatever their size (the last few reads are the likeliest to come again). */
const READ_CACHE_MIN_ENTRIES = 6

/** The same RootFs whose readFile remembers recent contents by real path (LRU, bounded in bytes). */
function withReadCache(rootfs: RootFs): RootFs {
  const cache = new Map<string, Promise<Buffer>>()
  const sizes = new Map<string, number>()
  let bytes = 0
  const evict = () => {
    while (cache.size > READ_CACHE_MIN_ENTRIES && bytes > READ_CACHE_BYTES) {
      const oldest = cache.keys().next().value!
      cache.delete(oldest)
      bytes -= sizes.get(oldest) ?? 0
      sizes.delete(oldest)
    }
  }
  const readFile = (path: string): Promise<Buffer> => {
    const real = rootfs.realpath(path)?.path ?? path
    const hit = cache.get(real)
    if (hit) {
      cache.delete(real)
      cache.set(real, hit)
      return hit
    }
    const p = rootfs.readFile(real)
    cache.set(real, p)
    p.then(
      (b) => {
        if (cache.get(real) !== p) return
        sizes.set(real, b.length)
        bytes += b.length
        evict()
      },
      () => cache.delete(real),
    )
    return p
  }
  return {
    lstat: (p) => rootfs.lstat(p),
    stat: (p) => rootfs.stat(p),
    realpath: (p) => rootfs.realpath(p),
    whyMissing: (p) => rootfs.whyMissing?.(p) ?? 'missing',
    readdir: (p) => rootfs.readdir(p),
    entries: () => rootfs.entries(),
    readFile,
  }
}
