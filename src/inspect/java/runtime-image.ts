/**
 * The modules of a Java home without jmods, from its own runtime image (lib/modules): each module's
 * module-info.class (name, requires, every package) read from the jimage by ranges, and the home's
 * lib/, bin/ and conf/ files, each placed in its module by the table in home-files.ts. A JRE whose
 * image holds jdk.jlink (Debian's openjdk-*-jre-headless holds all modules) can be relinked from
 * these: jimage extract, one jmod per module, jlink.
 */
import { posix } from 'node:path'
import type { ByteSource } from '../../core/byte-source.js'
import type { RootFs } from '../../layers/rootfs.js'
import type { JavaHomeFile } from '../types.js'
import { readModuleInfo } from './class-file.js'
import { homeFileOwner } from './home-files.js'
import { readJimage } from './jimage.js'
import type { JdkModule, JdkModules } from './jmods.js'

/** module-info.class files are a few kB; this bounds a hostile one. */
const MAX_MODULE_INFO = 1024 * 1024
/** A JDK home's lib/, bin/ and conf/ hold a few hundred files; this bounds a hostile tree. */
const MAX_HOME_FILES = 5000
/** A JDK has about 70 modules. */
const MAX_MODULES = 400
const MODULE_NAME = /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/

export interface RuntimeImageModules {
  jdk: JdkModules
  /** The home's lib/, bin/ and conf/ files, each with its module (or why no runtime takes it). */
  files: JavaHomeFile[]
}

/** Reads `image` (HOME/lib/modules) and places the home's files; throws when the image is unreadable. */
export async function readRuntimeImage(rootfs: RootFs, home: string, image: string, major: number, open: (p: string) => Promise<ByteSource>): Promise<RuntimeImageModules> {
  const src = await open(image)
  const jimage = readJimage(src)
  const jdk: JdkModules = { modules: new Map(), packageOwner: new Map(), problems: [] }
  if (jimage.modules.size > MAX_MODULES) throw new Error(`${jimage.modules.size} modules: more than the ${MAX_MODULES} of any JDK`)
  const files = homeFiles(rootfs, home, major)
  // A file of a module this image does not hold (the table spans releases) stays with java.base.
  for (const f of files) if (f.module && !jimage.modules.has(f.module)) Object.assign(f, { module: 'java.base', known: false })
  for (const [name, m] of [...jimage.modules].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!m.moduleInfo) {
      jdk.problems.push(`${image}: module ${name.slice(0, 80)} has no module-info.class`)
      continue
    }
    try {
      const info = readModuleInfo(jimage.read(m.moduleInfo, MAX_MODULE_INFO))
      if (info.name !== name || !MODULE_NAME.test(name)) throw new Error(`its module-info names ${JSON.stringify(info.name.slice(0, 80))}`)
      const own = files.filter((f) => f.module === name)
      const mod: JdkModule = {
        name,
        requires: info.requires,
        packages: info.packages,
        native: own.filter((f) => /^lib\/.*\.so$/.test(f.path)).map((f) => f.path).sort(),
        // Classes as the image stores them (uncompressed: jlink's --compress makes them smaller) and the module's files.
        linkedBytes: m.storedBytes + own.reduce((n, f) => n + f.bytes, 0),
      }
      jdk.modules.set(name, mod)
      for (const p of mod.packages) if (!jdk.packageOwner.has(p)) jdk.packageOwner.set(p, name)
    } catch (e) {
      jdk.problems.push(`${image}: /${name.slice(0, 80)}/module-info.class: ${(e as Error).message}`)
    }
  }
  return { jdk, files }
}

/** The files of the home's lib/, bin/ and conf/ (links to files count as files: jmod reads through them). */
function homeFiles(rootfs: RootFs, home: string, major: number): JavaHomeFile[] {
  const out: JavaHomeFile[] = []
  const walk = (rel: string): void => {
    for (const name of rootfs.readdir(posix.join(home, rel)).sort()) {
      if (out.length >= MAX_HOME_FILES) throw new Error(`${home} holds more than ${MAX_HOME_FILES} files in lib/, bin/ and conf/`)
      const r = `${rel}/${name}`
      const p = posix.join(home, r)
      const l = rootfs.lstat(p)
      if (l?.type === 'dir') {
        walk(r)
        continue
      }
      const st = rootfs.stat(p)
      if (st?.type === 'file') out.push({ path: r, bytes: st.size, ...ownerFields(homeFileOwner(r, major)) })
      else if (l?.type === 'symlink' && st?.type === 'dir') out.push({ path: r, bytes: 0, leftOut: 'a link to a directory', dirLink: true })
      else if (l?.type === 'symlink') out.push({ path: r, bytes: 0, leftOut: 'a link to nothing in the image' })
    }
  }
  for (const dir of ['lib', 'bin', 'conf']) if (rootfs.lstat(posix.join(home, dir))?.type === 'dir') walk(dir)
  return out
}

function ownerFields(o: ReturnType<typeof homeFileOwner>): Pick<JavaHomeFile, 'module' | 'known' | 'leftOut'> {
  return 'leftOut' in o ? { leftOut: o.leftOut } : { module: o.module, known: o.known }
}
