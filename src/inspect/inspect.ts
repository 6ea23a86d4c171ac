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
import { firstFew } from '../core/format.js'
import type { ImageConfig } from '../image/types.js'
import type { RootFs } from '../layers/rootfs.js'
import { ClosureBuilder } from './closure/closure.js'
import type { LoadedObject } from './closure/search.js'
import type { ElfInfo } from './elf/types.js'
import { elfReader } from './elf-reader.js'
import { resolveProgram, type ScriptCommand } from './entrypoint/resolve.js'
import { computeFiles } from './files.js'
import { readGoBuildInfo, type GoBuildInfo } from './gobuildinfo.js'
import { runtimeLanguage } from './interpreters/language.js'
import { detectRuntime } from './interpreters/runtime.js'
import { collectNeeds } from './needs/needs.js'
import { foreignArch, standalone, summarise } from './program-elf.js'
import { withReadCache, type InspectFs } from './read-cache.js'
import { readRustInfo, type RustInfo } from './rustinfo.js'
import type { Finding, Gap, Inspection, Need, Runtime } from './types.js'

export interface InspectOptions {
  /** Replaces ENTRYPOINT and drops CMD, like `docker run --entrypoint`. */
  entrypoint?: string[]
}

export async function inspectImage(imageFs: RootFs, config: ImageConfig, opts: InspectOptions = {}): Promise<Inspection> {
  // Every stage of inspection reads through one cache: a file read twice (libc by the closure and
  // by the needs, the loader by the closure and for its default dirs) costs one layer pass.
  const rootfs = withReadCache(imageFs)
  try {
    return await inspect(rootfs, config, opts)
  } catch (e) {
    if (isSlimError(e)) throw e
    // Image content never throws by design (it becomes findings and gaps); this is a bug in slim.
    throw new SlimError('internal', `inspecting the image failed: ${describe(e)}; please report this with the image`, { cause: e })
  } finally {
    await rootfs.release()
  }
}

async function inspect(rootfs: InspectFs, config: ImageConfig, opts: InspectOptions): Promise<Inspection> {
  const readFile = (path: string) => rootfs.readFile(path)
  const open = (path: string) => rootfs.open(path)
  const { readElf, isElfFile } = elfReader(rootfs, open)
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
    if (!c.conditional && c.found && !executables.includes(c.found.realPath) && (await isElfFile(c.found.realPath))) {
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
      const bytes = await open(finalElf)
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
    const detected = await detectRuntime(resolved.language, { rootfs, path: program.path, realPath: finalElf, argv: program.argv, env: program.env, cwd: program.workdir, readFile, open, needed: info.needed, libraries })
    runtime = detected.runtime
    for (const g of detected.gaps) gaps.push({ area: 'runtime', message: g })
    if (runtime.language !== 'shell' && program.kind === 'interpreted' && (runtime.app.kind === 'repl' || runtime.app.kind === 'unknown')) program.kind = 'elf'
    if (proc) {
      for (const m of detected.nativeModules) {
        if (!(await isElfFile(m))) continue
        await builder.dlopen(m)
      }
    }
  }

  // 5. Needs beyond the DT_NEEDED closure (dlopen and NSS extend the closure).
  const needsOut = await collectNeeds({ rootfs, config, program, ...(info ? { elf: info } : {}), objects, closure: builder, ...(go ? { go } : {}), ...(runtime ? { runtime } : {}), scriptCommands: resolved.scriptCommands, readFile, open })
  gaps.push(...needsOut.gaps)
  findings.push(...needsOut.findings)
  needsOut.needs.push(...(await scriptRuntimeNeeds(rootfs, resolved.scriptCommands, program, builder, gaps)))

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
        : `${u.name} (needed by ${firstFew(u.neededBy, ', ')}) is not found in ${u.searched.length} searched director${u.searched.length === 1 ? 'y' : 'ies'}${u.skipped.length ? `; skipped ${firstFew(u.skipped.map((s) => `${s.path}: ${s.reason}`), '; ')}` : ''}`,
    })
  }

  const elf = info && finalElf ? summarise(finalElf, info, objects) : undefined
  const found: Omit<Inspection, 'files'> = {
    program,
    ...(elf ? { elf } : {}),
    ...(go ? { go } : {}),
    ...(rust ? { rust } : {}),
    ...(runtime ? { runtime } : {}),
    closure,
    needs: needsOut.needs,
    findings,
    gaps,
  }
  return { ...found, files: computeFiles(rootfs, found, builder, gaps) }
}

/**
 * A wrapper or shell string that runs an interpreter besides the program (`python3 -c ...` before
 * `exec nginx`): that runtime's library trees are needed too.
 */
async function scriptRuntimeNeeds(
  rootfs: InspectFs,
  commands: ScriptCommand[],
  program: Inspection['program'],
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
    const d = await detectRuntime(language, { rootfs, path: c.found.path, realPath: c.found.realPath, argv: [c.name], env: program.env, cwd: program.workdir, readFile: (p) => rootfs.readFile(p), open: (p) => rootfs.open(p), needed: proc.main.info.needed, libraries })
    for (const t of d.runtime.trees.filter((t) => t !== d.runtime.appDir)) {
      out.push({ kind: 'app-tree', paths: [t], present: true, reason: `${c.script} runs ${c.name} (${language}${d.runtime.version ? ` ${d.runtime.version}` : ''}), which loads code from ${t}`, evidence: [`${c.script}:${c.line}`], confidence: 'likely' })
    }
    if (d.nativeModules.length > 0) gaps.push({ area: 'runtime', message: `${c.name}, run by ${c.script}, may load native modules whose libraries slim did not resolve` })
  }
  return out
}

function isDlopenDescendant(builder: ClosureBuilder, realPath: string): boolean {
  for (const proc of builder.processes) {
    let o: LoadedObject | undefined = proc.objectByRealPath(realPath)
    for (let hops = 0; o && hops < 100; hops++, o = o.loader) if (o.via === 'dlopen') return true
  }
  return false
}

