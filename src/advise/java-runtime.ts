/**
 * The Java runtime in the slim image. With a JDK in the image (bin/jlink and jmods/ beside the
 * launcher) the home is replaced by a runtime jlink links from the app's modules in a build stage:
 * the home's lib/ and release are not copied, nor the native libraries of modules the runtime
 * leaves out; the image's conf/ and trust store are copied over the linked runtime so it is
 * configured as the original was. A JRE without jmods whose own lib/modules holds jdk.jlink is
 * relinked the same way from that image (java-relink.ts: extract, jmods, jlink). Otherwise nothing
 * can be linked: the home is copied without what a running JVM never reads for this app
 * (inspect/java/unused.ts), each item with why.
 */
import { posix } from 'node:path'
import type { Inspection } from '../inspect/types.js'
import type { RootFs } from '../layers/rootfs.js'
import type { Evaluated } from './decide.js'
import { isInside, pathFacts } from './files.js'
import { RELINK_JLINK_OPTIONS, RELINK_WORK, relinkSteps } from './java-relink.js'
import type { Copy, CopyKind, JavaRuntimePlan } from './types.js'

/** Where the build stage writes the linked runtime. */
export const JLINK_OUTPUT = '/slim-jre'
/**
 * jlink's options besides the modules and output: no Java debug attributes, man pages or headers;
 * zip-compressed classes. Not --strip-debug: on Linux it also strips native symbols by running
 * objcopy, which a JDK image rarely has (Debian's jlink then fails: `Cannot run program "objcopy"`),
 * and the JDK's native libraries are shipped stripped anyway.
 */
export const JLINK_OPTIONS = ['--strip-java-debug-attributes', '--no-man-pages', '--no-header-files', '--compress=2']

/** The copy list as the planner edits it. */
export interface CopyEditor {
  readonly list: readonly Copy[]
  add(source: string, kind: CopyKind, why: string, o?: { dest?: string; type?: 'file' | 'dir' }): Copy | undefined
  remove(drop: (c: Copy) => boolean): void
}

export interface JavaPlanInput {
  insp: Inspection
  chosen: Evaluated
  rootfs?: RootFs
}

/** A module name as jlink takes it (the image's text never reaches a Dockerfile unchecked). */
const MODULE_NAME = /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/

export function planJavaRuntime(p: JavaPlanInput, copies: CopyEditor): JavaRuntimePlan | undefined {
  const rt = p.insp.runtime
  const java = rt?.java
  // A Java runtime image brings its own JVM: nothing of the home is copied.
  if (!rt || rt.language !== 'java' || !rt.home || !java || p.chosen.base.runtime || !p.rootfs) return undefined
  const home = rt.home
  const modules = java.modules?.filter((m) => MODULE_NAME.test(m.name))
  if (!java.jlink || !modules?.length || !java.linked) return trimmed(p.rootfs, copies, home, java.unused)
  if (java.jlink.kind === 'jmods') return linked(p, copies, home, modules, java.linked, { tool: java.jlink.tool, args: [], from: `${home}/jmods` })
  const relink = relinkSteps({ home, java: java.jlink.tool, image: java.jlink.image, modules: java.linked.modules, files: java.jlink.files })
  if (typeof relink === 'string') return trimmed(p.rootfs, copies, home, java.unused, `its lib/modules holds jdk.jlink, but ${relink}`)
  const jlinkMain = ['-m', 'jdk.jlink/jdk.tools.jlink.internal.Main', '--module-path', relink.modulePath]
  const plan = linked(p, copies, home, modules, java.linked, { tool: java.jlink.tool, args: jlinkMain, from: java.jlink.image, extra: RELINK_JLINK_OPTIONS })
  plan.jlink!.relink = { image: java.jlink.image, workDir: RELINK_WORK, steps: relink.steps, moduleCount: java.jlink.moduleCount, unknownFiles: relink.unknownFiles }
  return plan
}

/** What runs jlink: its tool and the arguments before the modules, and what it links from (for the reasons). */
interface Linker {
  tool: string
  args: string[]
  from: string
  /** Options before JLINK_OPTIONS. */
  extra?: string[]
}

function linked(p: JavaPlanInput, copies: CopyEditor, home: string, modules: { name: string; why: string }[], out: { native: string[]; bytes: number }, linker: Linker): JavaRuntimePlan {
  const fs = p.rootfs!
  const replaced = [posix.join(home, 'lib'), posix.join(home, 'release')]
  const leftOut = replaced.filter((r) => copies.list.some((c) => c.source === r)).map((path) => ({ path, bytes: pathFacts(fs, path)?.bytes ?? 0, why: `replaced by the runtime jlink links from ${linker.from}` }))
  // The libraries the linked runtime still loads: the launcher's, and those of the modules' native libraries.
  const keep = keptLibraries(p.insp, home, out.native)
  const dropped: string[] = []
  copies.remove((c) => {
    if (replaced.some((r) => c.source === r || isInside(c.source, r))) return true
    if (c.kind !== 'library') return false
    const lib = p.insp.closure.libraries.find((l) => posix.normalize(l.path) === c.source)
    if (!lib) return false
    const drop = isInside(lib.realPath, home) || !keep.has(lib.realPath)
    if (drop && !isInside(lib.realPath, home)) dropped.push(c.source)
    return drop
  })
  for (const d of dropped) leftOut.push({ path: d, bytes: fs.stat(d)?.size ?? 0, why: 'needed only by native libraries of modules the linked runtime leaves out' })
  // The image's own trust store (Debian's is ca-certificates-java's, not the jmod's) over jlink's.
  const cacerts = posix.join(home, 'lib/security/cacerts')
  if (fs.stat(cacerts)?.type === 'file') copies.add(cacerts, 'need', `${cacerts}: the image's Java trust store, copied over the one jlink takes from the jmod`, { type: 'file' })
  const args = [...linker.args, '--add-modules', modules.map((m) => m.name).join(','), ...(linker.extra ?? []), ...JLINK_OPTIONS, '--output', JLINK_OUTPUT]
  return { home, mode: 'jlink', jlink: { tool: linker.tool, modules, args, output: JLINK_OUTPUT, estimatedBytes: out.bytes }, leftOut }
}

/**
 * Real paths of the closure's libraries the linked runtime needs: reachable from the launcher and
 * from the chosen modules' native libraries (the closure records who needs each library).
 */
function keptLibraries(insp: Inspection, home: string, native: string[]): Set<string> {
  const linked = new Set(native)
  const kept = new Set<string>([...insp.closure.roots, ...native])
  const libs = insp.closure.libraries
  for (let changed = true; changed; ) {
    changed = false
    for (const l of libs) {
      if (kept.has(l.realPath)) continue
      // The JVM dlopens its home's libraries itself: only those of the linked modules exist there.
      if (isInside(l.realPath, home) && !linked.has(l.realPath)) continue
      if (l.via === 'interpreter' || l.neededBy.some((n) => kept.has(n))) {
        kept.add(l.realPath)
        changed = true
      }
    }
  }
  return kept
}

function trimmed(fs: RootFs, copies: CopyEditor, home: string, unused: { path: string; bytes: number; why: string }[], noRelink?: string): JavaRuntimePlan {
  const leftOut = [...unused]
  for (const tree of copies.list.filter((c) => c.type === 'dir' && leftOut.some((u) => isInside(u.path, c.source)))) {
    const drop = new Set(leftOut.filter((u) => isInside(u.path, tree.source)).map((u) => u.path))
    copies.remove((c) => c === tree)
    // The tree without the left-out paths: directories holding one are split into their children.
    const split = (dir: string): void => {
      for (const name of fs.readdir(dir).sort()) {
        const path = posix.join(dir, name)
        if (drop.has(path)) continue
        const isDir = fs.lstat(path)?.type === 'dir'
        if (isDir && [...drop].some((d) => isInside(d, path))) split(path)
        else copies.add(path, tree.kind, `${path}: ${tree.why.replace(/^[^:]*: /, '')}`, { type: isDir ? 'dir' : 'file' })
      }
    }
    split(tree.source)
  }
  const notLinked = noRelink ?? 'only a JDK\'s jmods, or a modules image holding jdk.jlink, can be linked into a smaller runtime'
  return { home, mode: 'trimmed-copy', leftOut, why: `${home} is a JRE (no jmods): ${notLinked}` }
}

/** The reasons the advice gives for the Java runtime it plans. */
export function javaReasons(plan: JavaRuntimePlan | undefined, insp: Inspection): string[] {
  if (!plan) return []
  const saved = plan.leftOut.reduce((n, l) => n + l.bytes, 0)
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`
  if (plan.mode === 'jlink') {
    const j = plan.jlink!
    const list = `${j.modules.length} module${j.modules.length === 1 ? '' : 's'} (${j.modules.map((m) => m.name).join(', ')}, read from the app's ${insp.runtime?.java?.read.classes ?? 0} class files)`
    if (j.relink) {
      const r = j.relink
      const jmods = r.steps.length - 1
      const unknown = r.unknownFiles.length ? [`files of ${plan.home} slim's table of JDK files does not place in a module are kept with java.base: ${r.unknownFiles.map((f) => posix.relative(plan.home, f)).join(', ')}`] : []
      return [
        `the JRE has no jmods, but its own modules image (${r.image}, ${r.moduleCount} modules) holds jdk.jlink: it is relinked into a runtime of ${list} in a build stage (jimage extract, ${jmods} jmod${jmods === 1 ? '' : 's'} made from the image with each module's own native libraries, commands and configuration, jlink), about ${mb(j.estimatedBytes)} or less, instead of copying ${mb(saved)} of ${plan.home}`,
        ...unknown,
      ]
    }
    return [`the JDK in the image links a runtime of ${j.modules.length} module${j.modules.length === 1 ? '' : 's'} (${j.modules.map((m) => m.name).join(', ')}, read from the app's ${insp.runtime?.java?.read.classes ?? 0} class files) with jlink in a build stage, about ${mb(j.estimatedBytes)}, instead of copying ${mb(saved)} of ${plan.home}`]
  }
  const modules = insp.runtime?.java?.modulesImageBytes
  const major = insp.runtime?.version?.split('.')[0] ?? '17'
  const copied = `the JRE is copied without what a running JVM never reads for this app (${plan.leftOut.map((l) => posix.relative(plan.home, l.path)).join(', ') || 'nothing to leave out'}; ${mb(saved)})`
  const facts = insp.runtime?.java
  if (facts?.jlink?.kind === 'runtime-image') {
    const why = plan.why && /holds jdk\.jlink, but /.test(plan.why) ? plan.why.replace(/^.*holds jdk\.jlink, but /, '') : (facts.noModulesWhy ?? 'slim decided no module list')
    return [copied, `its own lib/modules holds jdk.jlink, so it could be relinked into a runtime of the app's modules, but slim did not: ${why}`]
  }
  return [
    copied,
    `a slim image 70 % smaller or more needs jlink, to link only the modules the app uses${modules ? ` (the JRE's lib/modules alone is ${mb(modules)})` : ''}; jlink links from a JDK's jmods, or relinks a JRE whose own lib/modules holds jdk.jlink, and this image has neither: build it FROM a JDK, or install one in a build stage (on Debian openjdk-${major}-jdk-headless), and slim advises the linked runtime`,
  ]
}
