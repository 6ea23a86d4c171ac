/**
 * Java facts for the advice: whether the launcher's home can link a trimmed runtime (bin/jlink and
 * jmods/ in the same home), and if so which modules the app needs, read from its class files and
 * the jmods' module-info; and what of the home a running JVM never reads (for a copied JRE).
 * Nothing runs: class files and jmods are read through the image's layers like any file.
 */
import { posix } from 'node:path'
import type { RootFs } from '../../layers/rootfs.js'
import type { ByteSource } from '../../core/byte-source.js'
import type { JavaFacts } from '../types.js'
import { readAppClasses } from './app-classes.js'
import type { AppClasses } from './app-classes.js'
import { readJmods, type JdkModules } from './jmods.js'
import { readRuntimeImage } from './runtime-image.js'
import { decideModules } from './modules.js'
import { unusedInHome } from './unused.js'

export interface JavaFactsInput {
  rootfs: RootFs
  home: string
  /** The launcher's real path (JAVA_HOME/bin/java). */
  launcher: string
  /** The launcher's options before the main class or -jar, and JAVA_TOOL_OPTIONS / JDK_JAVA_OPTIONS. */
  flags: string[]
  classpath: string[]
  jar?: string
  /** -m / --module: module apps are read from their module path like a classpath. */
  modulePath: string[]
  /** The runtime's release (JAVA_VERSION of the home's release file), to place its files in modules. */
  version?: string
  open: (p: string) => Promise<ByteSource>
  readFile: (p: string) => Promise<Buffer>
}

export async function javaFacts(input: JavaFactsInput): Promise<{ facts: JavaFacts; gaps: string[] }> {
  const { rootfs, home } = input
  const gaps: string[] = []
  const facts: JavaFacts = { read: { classes: 0, jars: 0, packagesUsed: 0 }, unused: unusedInHome(rootfs, home, input.launcher, input.flags) }
  const image = rootfs.stat(posix.join(home, 'lib/modules'))
  if (image?.type === 'file') facts.modulesImageBytes = image.size
  const source = await moduleSource(input, facts, gaps)
  if (!source) return { facts, gaps }
  const { jdk, app } = source
  for (const p of jdk.problems.slice(0, 5)) gaps.push(`${facts.jlink?.kind === 'jmods' ? 'jmod' : 'module'} not read: ${p}`)
  if (!jdk.modules.has('java.base')) {
    facts.noModulesWhy = facts.jlink?.kind === 'jmods' ? `${facts.jlink.jmods} has no readable java.base.jmod` : `${home}/lib/modules has no readable java.base module`
    return { facts, gaps }
  }
  facts.read = { classes: app.classes, jars: app.jars.length, packagesUsed: app.used.size }
  for (const p of app.problems.slice(0, 5)) gaps.push(`app class not read: ${p}`)
  if (app.classes === 0) {
    facts.noModulesWhy = 'slim found no class file of the app (classpath, jar or module path) to read its module needs from'
    return { facts, gaps }
  }
  const decision = decideModules(app, jdk, input.flags)
  facts.modules = decision.modules
  for (const u of decision.unresolved) gaps.push(`the app uses a JDK package slim cannot place: ${u}`)
  for (const b of app.byName) gaps.push(`the app loads code by name (${b}): the modules of classes it loads that way, by reflection or through ServiceLoader, are not seen by a static reading; check the linked runtime with slim build --verify and a --probe that takes that path, or name a base with a whole Java runtime (--base)`)
  const native: string[] = []
  let bytes = 0
  const closed = withRequires(decision.modules.map((m) => m.name), jdk.modules)
  for (const name of closed) {
    const m = jdk.modules.get(name)!
    bytes += m.linkedBytes
    for (const n of m.native) native.push(posix.join(home, n))
  }
  facts.linked = { native: native.sort(), bytes, modules: closed }
  return { facts, gaps }
}

/**
 * Where jlink's modules come from, read together with the app's classes (their reads share the
 * passes over their layers): the home's jmods (a JDK), else the modules image of a JRE whose image
 * holds jdk.jlink. Sets facts.jlink, or facts.noModulesWhy and returns nothing.
 */
async function moduleSource(input: JavaFactsInput, facts: JavaFacts, gaps: string[]): Promise<{ jdk: JdkModules; app: AppClasses } | undefined> {
  const { rootfs, home } = input
  const readApp = () => readAppClasses({ rootfs, open: input.open, readFile: input.readFile }, [...input.classpath, ...input.modulePath], input.jar)
  const tool = posix.join(home, 'bin/jlink')
  const jmods = posix.join(home, 'jmods')
  const jmodCount = rootfs.readdir(jmods).filter((n) => n.endsWith('.jmod')).length
  if (rootfs.stat(tool)?.type === 'file' && jmodCount > 0) {
    facts.jlink = { kind: 'jmods', tool, jmods, jmodCount }
    const [jdk, app] = await Promise.all([readJmods(rootfs, jmods, input.open), readApp()])
    return { jdk, app }
  }
  const noJmods = `${home} has no ${rootfs.stat(tool) ? 'jmods/ directory' : 'bin/jlink'}: it is a JRE`
  const image = posix.join(home, 'lib/modules')
  // The launcher of the home itself runs jimage, jmod and jlink from the image's jdk.jlink.
  if (rootfs.stat(image)?.type !== 'file' || input.launcher !== posix.join(home, 'bin/java')) {
    facts.noModulesWhy = `${noJmods}, and ${rootfs.stat(image)?.type === 'file' ? `its launcher is not ${home}/bin/java` : 'no lib/modules'} to relink from`
    return undefined
  }
  const major = Number(/^(?:1\.)?(\d+)/.exec(input.version ?? '')?.[1] ?? 0)
  const [read, app] = await Promise.all([readRuntimeImage(rootfs, home, image, major, input.open).catch((e: unknown) => (e as Error).message), readApp()])
  if (typeof read === 'string') {
    gaps.push(`${image} not read: ${read}`)
    facts.noModulesWhy = `${noJmods}, and its lib/modules could not be read (${read})`
    return undefined
  }
  if (!read.jdk.modules.has('jdk.jlink')) {
    facts.noModulesWhy = `${noJmods}, and its lib/modules has no jdk.jlink module (jimage, jmod and jlink) to relink from`
    return undefined
  }
  if (major === 0) {
    facts.noModulesWhy = `${noJmods}, and slim found no Java release in ${home}/release to place its lib/ files in their modules`
    return undefined
  }
  facts.jlink = { kind: 'runtime-image', tool: input.launcher, image, moduleCount: read.jdk.modules.size, files: read.files }
  return { jdk: read.jdk, app }
}

/** The modules jlink will put in the runtime: the chosen ones and everything they require. */
function withRequires(roots: string[], modules: Map<string, { requires: string[] }>): string[] {
  const seen = new Set<string>()
  const stack = [...roots]
  while (stack.length > 0) {
    const m = stack.pop()!
    if (seen.has(m) || !modules.has(m)) continue
    seen.add(m)
    stack.push(...modules.get(m)!.requires)
  }
  return [...seen].sort()
}
