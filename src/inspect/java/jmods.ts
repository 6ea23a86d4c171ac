/**
 * The JDK's own modules, from its jmods/ directory: each jmod's module-info.class (name, requires,
 * every package) and the native libraries it brings (lib/*.so), with the sizes jlink's output is
 * estimated from. All jmods are asked for at once, so their reads share one pass over the layer
 * that holds them.
 */
import { posix } from 'node:path'
import type { ByteSource } from '../../core/byte-source.js'
import type { RootFs } from '../../layers/rootfs.js'
import { readModuleInfo } from './class-file.js'
import { JMOD_MAGIC, openZip } from './zip.js'

/** module-info.class files are a few kB; this bounds a hostile one. */
const MAX_MODULE_INFO = 1024 * 1024
/** A JDK has about 70 modules; more than this is not a JDK's jmods directory. */
const MAX_JMODS = 400
/** Bytes of jmods read at once (a JDK 17's 70 jmods are 75 MB: one batch). */
const BATCH_BYTES = 256 * 1024 * 1024

export interface JdkModule {
  name: string
  requires: string[]
  packages: string[]
  /** Native libraries the module puts in the runtime's lib/ ("lib/libnet.so", "lib/server/libjvm.so"). */
  native: string[]
  /** Bytes it adds to a jlink runtime: native files as they are, classes and resources as stored (deflated). */
  linkedBytes: number
}

export interface JdkModules {
  modules: Map<string, JdkModule>
  /** Package (dotted) → module name. */
  packageOwner: Map<string, string>
  /** One line per jmod slim could not read. */
  problems: string[]
}

/** Reads every *.jmod under `dir`. */
export async function readJmods(rootfs: RootFs, dir: string, open: (p: string) => Promise<ByteSource>): Promise<JdkModules> {
  const names = rootfs.readdir(dir).filter((n) => n.endsWith('.jmod')).sort().slice(0, MAX_JMODS)
  const out: JdkModules = { modules: new Map(), packageOwner: new Map(), problems: [] }
  // A batch of jmods at a time, bounded in bytes: their reads share one pass over the layer.
  const read: (JdkModule | string)[] = []
  for (let i = 0; i < names.length; ) {
    const batch: string[] = []
    for (let bytes = 0; i < names.length && (batch.length === 0 || bytes < BATCH_BYTES); i++) {
      batch.push(posix.join(dir, names[i]!))
      bytes += rootfs.stat(batch.at(-1)!)?.size ?? 0
    }
    read.push(...(await Promise.all(batch.map((p) => readJmod(p, open).catch((e: unknown) => `${p}: ${(e as Error).message}`)))))
  }
  for (const m of read) {
    if (typeof m === 'string') {
      out.problems.push(m)
      continue
    }
    out.modules.set(m.name, m)
    for (const p of m.packages) if (!out.packageOwner.has(p)) out.packageOwner.set(p, m.name)
  }
  return out
}

async function readJmod(path: string, open: (p: string) => Promise<ByteSource>): Promise<JdkModule> {
  const src = await open(path)
  if (src.size < 4 || !src.read(0, 4).equals(JMOD_MAGIC)) throw new Error('not a jmod (no "JM" 1 0 header)')
  const zip = await openZip(src, 4)
  try {
    const info = readModuleInfo(await zip.read('classes/module-info.class', MAX_MODULE_INFO))
    const native: string[] = []
    let linkedBytes = 0
    for (const e of zip.entries) {
      if (/^lib\/.*\.so$/.test(e.name)) native.push(e.name)
      if (e.name.startsWith('classes/')) linkedBytes += e.compressedSize
      else if (/^(lib|bin|conf|legal)\//.test(e.name)) linkedBytes += e.size
    }
    if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(info.name)) throw new Error(`module name ${JSON.stringify(info.name.slice(0, 80))} is not a Java module name`)
    return { name: info.name, requires: info.requires, packages: info.packages, native: native.sort(), linkedBytes }
  } finally {
    zip.close()
  }
}
