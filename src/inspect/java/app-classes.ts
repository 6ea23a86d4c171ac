/**
 * What the app's own code references, read from its class files: those in classpath directories
 * and those in jars (the -jar app, classpath jars, `dir/*` wildcards, a jar manifest's Class-Path).
 * The result is per package: packages the app defines itself, packages it uses (with one class
 * file as evidence), class names in string constants, calls that load code by name, service
 * interfaces its jars provide (META-INF/services), and module-info requires of modular jars.
 * Bounded: a huge app is read up to MAX_CLASSES class files and the rest is a named gap.
 */
import { posix } from 'node:path'
import type { ByteSource } from '../../core/byte-source.js'
import type { RootFs } from '../../layers/rootfs.js'
import { classRefs, readModuleInfo } from './class-file.js'
import { openZip } from './zip.js'

const MAX_CLASSES = 50_000
const MAX_CLASS_BYTES = 8 * 1024 * 1024
const MAX_JARS = 2_000
/** Class files read at once from the image (their reads share a layer pass). */
const BATCH = 512
/** Bytes of jars opened at once (in memory up to the read cache's size per jar, by ranges above). */
const JAR_BATCH_BYTES = 256 * 1024 * 1024

/** Calls that load classes or services by name: what a static reading cannot follow. */
const BY_NAME: Record<string, string> = {
  'java/lang/Class.forName': 'Class.forName',
  'java/lang/ClassLoader.loadClass': 'ClassLoader.loadClass',
  'java/util/ServiceLoader.load': 'ServiceLoader.load',
  'java/util/ServiceLoader.loadInstalled': 'ServiceLoader.loadInstalled',
  'java/lang/reflect/Method.invoke': 'Method.invoke',
  'java/lang/invoke/MethodHandles$Lookup.findClass': 'MethodHandles.Lookup.findClass',
}

export interface AppClasses {
  classes: number
  jars: string[]
  /** Packages the app's classes are in (dotted). */
  own: Set<string>
  /** Packages referenced → a class file that references one of its classes. */
  used: Map<string, string>
  /** Classes of the java.* and javax.* namespaces referenced (internal form) → the class file. */
  jdkClasses: Map<string, string>
  /** Dotted class names in string constants → the class file. */
  named: Map<string, string>
  /** "Class.forName in /app/x/Y.class" (first few). */
  byName: string[]
  /** Service interfaces (dotted class names) the app's jars provide implementations of. */
  services: Map<string, string>
  /** Modules a modular jar's module-info requires. */
  requires: Map<string, string>
  /** What could not be read. */
  problems: string[]
}

export interface AppSources {
  rootfs: RootFs
  open: (p: string) => Promise<ByteSource>
  readFile: (p: string) => Promise<Buffer>
}

const packageOf = (internal: string): string => posix.dirname(internal).replace(/\//g, '.')

class Collector {
  readonly out: AppClasses = { classes: 0, jars: [], own: new Set(), used: new Map(), jdkClasses: new Map(), named: new Map(), byName: [], services: new Map(), requires: new Map(), problems: [] }

  add(bytes: Buffer, where: string): void {
    if (this.out.classes >= MAX_CLASSES) return
    this.out.classes++
    let refs
    try {
      refs = classRefs(bytes)
    } catch (e) {
      if (this.out.problems.length < 20) this.out.problems.push(`${where}: ${(e as Error).message}`)
      return
    }
    this.out.own.add(packageOf(refs.name))
    for (const c of refs.classes) {
      const p = packageOf(c)
      if (p !== '.' && !this.out.used.has(p)) this.out.used.set(p, where)
      if (/^javax?\//.test(c) && !this.out.jdkClasses.has(c)) this.out.jdkClasses.set(c, where)
    }
    for (const s of refs.strings) {
      if (s.length < 200 && /^[a-z][\w]*(\.[a-z_][\w]*)*\.[A-Z][\w$]*$/.test(s) && !this.out.named.has(s)) this.out.named.set(s, where)
    }
    for (const call of refs.calls) {
      const what = BY_NAME[call]
      if (what && this.out.byName.length < 5 && !this.out.byName.some((b) => b.startsWith(`${what} `))) this.out.byName.push(`${what} in ${where}`)
    }
  }

  full(): boolean {
    return this.out.classes >= MAX_CLASSES
  }
}

/** Reads the app's classes from classpath entries (dirs, jars, `dir/*`). */
export async function readAppClasses(src: AppSources, classpath: string[], jar?: string): Promise<AppClasses> {
  const c = new Collector()
  const jars: string[] = []
  const dirs: string[] = []
  const addJar = (p: string): void => {
    if (!jars.includes(p) && jars.length < MAX_JARS) jars.push(p)
  }
  if (jar) addJar(jar)
  for (const entry of classpath) {
    if (entry.endsWith('/*')) {
      const dir = entry.slice(0, -2)
      for (const n of src.rootfs.readdir(dir).sort()) if (/\.jar$/i.test(n)) addJar(posix.join(dir, n))
    } else if (src.rootfs.stat(entry)?.type === 'dir') dirs.push(entry)
    else if (src.rootfs.stat(entry)) addJar(entry)
  }
  for (const dir of dirs) await readDir(src, dir, c)
  // A jar's manifest may add more jars (Class-Path), so the list grows while it is read. Jars are
  // opened a batch at a time (their reads then share one pass over the layer that holds them).
  for (let i = 0; i < jars.length && !c.full(); ) {
    const batch: string[] = []
    for (let bytes = 0; i < jars.length && (batch.length === 0 || bytes < JAR_BATCH_BYTES); i++) {
      batch.push(jars[i]!)
      bytes += src.rootfs.stat(jars[i]!)?.size ?? 0
    }
    const opened = await Promise.all(batch.map((j) => src.open(j).catch((e: unknown) => e as Error)))
    for (let k = 0; k < batch.length && !c.full(); k++) await readJar(batch[k]!, opened[k]!, c, addJar, src.rootfs)
  }
  c.out.jars = jars
  if (c.full()) c.out.problems.push(`the app has more than ${MAX_CLASSES} class files; only the first ones were read`)
  return c.out
}

async function readDir(src: AppSources, dir: string, c: Collector): Promise<void> {
  const files: string[] = []
  const stack = [dir]
  const seen = new Set<string>()
  while (stack.length > 0 && files.length < MAX_CLASSES) {
    const d = stack.pop()!
    const real = src.rootfs.realpath(d)?.path
    if (!real || seen.has(real)) continue
    seen.add(real)
    for (const n of src.rootfs.readdir(d).sort()) {
      const p = posix.join(d, n)
      const st = src.rootfs.stat(p)
      if (st?.type === 'dir') stack.push(p)
      else if (st && n.endsWith('.class') && st.size <= MAX_CLASS_BYTES) files.push(p)
    }
  }
  for (let i = 0; i < files.length && !c.full(); i += BATCH) {
    const batch = files.slice(i, i + BATCH)
    const bytes = await Promise.all(batch.map((f) => src.readFile(f).catch((e: unknown) => e as Error)))
    bytes.forEach((b, k) => {
      if (b instanceof Error) c.out.problems.push(`${batch[k]}: ${b.message}`)
      else c.add(b, batch[k]!)
    })
  }
}

async function readJar(jar: string, bytes: ByteSource | Error, c: Collector, addJar: (p: string) => void, rootfs: RootFs): Promise<void> {
  let zip
  try {
    if (bytes instanceof Error) throw bytes
    zip = await openZip(bytes)
  } catch (e) {
    c.out.problems.push(`${jar}: not readable as a jar (${(e as Error).message})`)
    return
  }
  try {
    for (const e of zip.entries) {
      if (c.full()) break
      try {
        if (e.name.endsWith('.class') && !e.name.startsWith('META-INF/versions/')) {
          if (e.name === 'module-info.class' || e.name.endsWith('/module-info.class')) {
            for (const r of readModuleInfo(await zip.read(e.name, MAX_CLASS_BYTES)).requires) if (!c.out.requires.has(r)) c.out.requires.set(r, jar)
            continue
          }
          c.add(await zip.read(e.name, MAX_CLASS_BYTES), `${jar}!/${e.name}`)
        } else if (/^META-INF\/services\/[\w.$]+$/.test(e.name)) {
          const service = e.name.slice('META-INF/services/'.length)
          if (!c.out.services.has(service)) c.out.services.set(service, jar)
        } else if (e.name === 'META-INF/MANIFEST.MF') {
          const text = (await zip.read(e.name, 1024 * 1024)).toString('utf8').replace(/\r?\n /g, '')
          const cp = /^Class-Path:\s*(.*)$/im.exec(text)?.[1] ?? ''
          for (const rel of cp.split(/\s+/).filter(Boolean)) {
            if (/^[a-z]+:/i.test(rel) && !rel.startsWith('file:')) continue
            const p = posix.normalize(posix.join(posix.dirname(jar), decodeURIComponent(rel.replace(/^file:/, ''))))
            if (rootfs.stat(p)?.type === 'file') addJar(p)
          }
        }
      } catch (err) {
        if (c.out.problems.length < 20) c.out.problems.push(`${jar}!/${e.name}: ${(err as Error).message}`)
      }
    }
  } finally {
    zip.close()
  }
}
