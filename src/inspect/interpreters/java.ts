/**
 * Java: the launcher finds its JVM relative to itself (JAVA_HOME = the directory above bin/java,
 * the real path after /etc/alternatives), the version is in JAVA_HOME/release, and the app is
 * `-jar FILE`, a main class with -cp/-classpath/--class-path, or a module (-m). The JVM dlopens
 * JAVA_HOME/lib/server/libjvm.so and the other lib/*.so on demand, so JAVA_HOME/lib is needed whole.
 */
import { posix } from 'node:path'
import type { Runtime } from '../types.js'
import { javaFacts } from '../java/facts.js'
import { existingDirs, findNativeModules, fromCwd, isDir, isFile, type RuntimeInput, type RuntimeDetection } from './common.js'

const WITH_VALUE = new Set(['-cp', '-classpath', '--class-path', '-p', '--module-path', '--upgrade-module-path', '--add-modules', '--add-opens', '--add-exports', '--add-reads', '--patch-module', '--limit-modules', '--enable-native-access', '-javaagent'])

export async function detectJava(input: RuntimeInput): Promise<RuntimeDetection> {
  const { rootfs } = input
  const gaps: string[] = []
  const bin = posix.dirname(input.realPath)
  const home = posix.dirname(bin)
  let version: string | undefined
  let versionEvidence: string | undefined
  for (const release of [`${home}/release`, `${posix.dirname(home)}/release`]) {
    if (!isFile(rootfs, release)) continue
    const text = (await input.readFile(release)).toString('utf8')
    const v = /^JAVA_VERSION="([^"]+)"/m.exec(text)?.[1]
    if (v) {
      version = v
      versionEvidence = release
      break
    }
  }
  if (!version) {
    const m = /(?:java|jdk|jre)-?(\d+(?:\.\d+)*)/.exec(home)
    if (m) {
      version = m[1]
      versionEvidence = `JAVA_HOME name ${home}`
    }
  }
  const { app, classpath, flags, modulePath } = javaApp(input.argv.slice(1), input)
  let appDir = input.cwd
  if (app.kind === 'jar' && app.path) {
    appDir = posix.dirname(app.path)
    if (!rootfs.stat(app.path)) gaps.push(`the jar ${app.path} is not in the image`)
  }
  const cpDirs = classpath.map((c) => (c.endsWith('/*') ? c.slice(0, -2) : c)).filter((c) => rootfs.stat(c))
  const trees = existingDirs(rootfs, [`${home}/lib`, `${home}/conf`, ...(isDir(rootfs, `${home}/jre`) ? [`${home}/jre/lib`] : []), ...(appDir !== '/' ? [appDir] : [])])
  for (const c of cpDirs) if (!trees.includes(c) && !trees.some((t) => c.startsWith(`${t}/`))) trees.push(c)
  if (isFile(rootfs, `${home}/release`)) trees.push(`${home}/release`)
  if (input.env.JAVA_HOME && input.env.JAVA_HOME !== home && posix.normalize(input.env.JAVA_HOME) !== home) {
    gaps.push(`JAVA_HOME=${input.env.JAVA_HOME} differs from the JVM the java launcher uses (${home}); tools reading JAVA_HOME may need that tree too`)
  }
  const runtime: Runtime = { language: 'java', executable: input.realPath, app, appDir, trees, home }
  if (classpath.length > 0) runtime.app.classpath = classpath
  if (version) runtime.version = version
  if (versionEvidence) runtime.versionEvidence = versionEvidence
  // What jlink could link instead of the whole home, and what of the home the JVM never reads.
  const envFlags = ['JAVA_TOOL_OPTIONS', 'JDK_JAVA_OPTIONS', '_JAVA_OPTIONS'].flatMap((k) => (input.env[k] ?? '').split(/\s+/).filter(Boolean))
  const java = await javaFacts({ rootfs, home, launcher: input.realPath, flags: [...flags, ...envFlags], classpath: classpath.length || app.kind !== 'classpath' ? classpath : [input.cwd], modulePath, ...(app.kind === 'jar' && app.path ? { jar: app.path } : {}), ...(version ? { version } : {}), open: input.open, readFile: input.readFile })
  runtime.java = java.facts
  gaps.push(...java.gaps)
  const native = findNativeModules(rootfs, [`${home}/lib`, ...(isDir(rootfs, `${home}/jre/lib`) ? [`${home}/jre/lib`] : [])], /\.so$/)
  // libjli dlopens the JVM first; the other JDK libraries then find libjvm.so already loaded (by soname).
  const jvmFirst = [...native.files.filter((f) => /\/lib(?:\/[^/]+)?\/(server|client|zero|minimal)\/libjvm\.so$/.test(f)), ...native.files.filter((f) => !/\/libjvm\.so$/.test(f))]
  return { runtime, nativeModules: jvmFirst, gaps }
}

interface JavaCommand {
  app: Runtime['app']
  classpath: string[]
  /** The launcher's options before the app (-Xmx4g, -XX:..., -D..., -javaagent:...). */
  flags: string[]
  modulePath: string[]
}

function javaApp(args: string[], input: RuntimeInput): JavaCommand {
  const r = javaArgs(args, input)
  return { ...r, flags: args.slice(0, r.at).filter((a) => a.startsWith('-')), modulePath: r.modulePath }
}

function javaArgs(args: string[], input: RuntimeInput): Omit<JavaCommand, 'flags'> & { at: number } {
  let classpath: string[] = (input.env.CLASSPATH ?? '').split(':').filter(Boolean).map((c) => fromCwd(c, input.cwd))
  const modulePath: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const done = (app: Runtime['app']) => ({ app, classpath, modulePath, at: i })
    if (a === '-jar') return done({ kind: 'jar', path: fromCwd(args[i + 1] ?? '', input.cwd) })
    if (a === '-p' || a === '--module-path') {
      modulePath.push(...(args[i + 1] ?? '').split(':').filter(Boolean).map((c) => fromCwd(c, input.cwd)))
      i++
      continue
    }
    if (a === '-cp' || a === '-classpath' || a === '--class-path') {
      classpath = (args[i + 1] ?? '').split(':').filter(Boolean).map((c) => fromCwd(c, input.cwd))
      i++
      continue
    }
    if (a.startsWith('--class-path=')) {
      classpath = a.slice(13).split(':').filter(Boolean).map((c) => fromCwd(c, input.cwd))
      continue
    }
    if (a === '-m' || a === '--module') return done({ kind: 'module', name: args[i + 1] ?? '' })
    if (a.startsWith('--module=')) return done({ kind: 'module', name: a.slice(9) })
    if (WITH_VALUE.has(a)) {
      i++
      continue
    }
    if (a.startsWith('-') || a.startsWith('@')) continue
    if (a.endsWith('.java')) return done({ kind: 'script', path: fromCwd(a, input.cwd) })
    return done({ kind: 'classpath', name: a })
  }
  return { app: { kind: 'unknown' }, classpath, modulePath, at: args.length }
}
