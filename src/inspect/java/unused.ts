/**
 * Parts of a JDK or JRE home a running JVM never reads for this app: what a copied runtime can
 * leave out when no jlink is possible (a JRE-only image has no jmods to link from). Each item has
 * its reason; what a JVM may read (conf/, legal/, lib/security, the default CDS archive
 * classes.jsa, lib/modules, the native libraries) is never listed.
 */
import { posix } from 'node:path'
import type { RootFs } from '../../layers/rootfs.js'
import type { JavaUnused } from '../types.js'

/** 32 GiB: above it the JVM turns compressed oops off and maps classes_nocoops.jsa instead. */
const COMPRESSED_OOPS_MAX = 32 * 1024 ** 3

/** Heap bytes of -Xmx / -XX:MaxHeapSize ("4g", "512m"); undefined when not a size. */
function heapBytes(v: string): number | undefined {
  const m = /^(\d+)([kKmMgGtT]?)$/.exec(v)
  if (!m) return undefined
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't']
  return Number(m[1]) * unit
}

/** Why the no-compressed-oops CDS archive may be mapped, or undefined when it never is. */
export function nocoopsReason(flags: string[]): string | undefined {
  for (const f of flags) {
    if (f === '-XX:-UseCompressedOops') return `the JVM is started with ${f}`
    const heap = /^-Xmx(.+)$/.exec(f)?.[1] ?? /^-XX:MaxHeapSize=(.+)$/.exec(f)?.[1]
    const bytes = heap !== undefined ? heapBytes(heap) : undefined
    if (heap !== undefined && (bytes === undefined || bytes >= COMPRESSED_OOPS_MAX)) return `the JVM is started with ${f.slice(0, 60)} (a heap of 32 GiB or more turns compressed oops off)`
    // A share of the machine's RAM can be over 32 GiB on a big host: slim cannot tell.
    if (/^-XX:(MaxRAMPercentage|MaxRAM|MaxRAMFraction)=/.test(f)) return `the JVM is started with ${f.slice(0, 60)} (the heap depends on the host's memory, which may exceed 32 GiB)`
  }
  return undefined
}

/** What to leave out of `home` for a JVM started with `flags` whose launcher is `launcher`. */
export function unusedInHome(rootfs: RootFs, home: string, launcher: string, flags: string[]): JavaUnused[] {
  const out: JavaUnused[] = []
  const add = (rel: string, why: string): void => {
    const p = posix.join(home, rel)
    const st = rootfs.lstat(p)
    if (st) out.push({ path: p, bytes: st.type === 'file' ? st.size : 0, why })
  }
  if (!nocoopsReason(flags)) add('lib/server/classes_nocoops.jsa', 'the CDS archive for heaps without compressed oops: mapped only with -XX:-UseCompressedOops or a heap of 32 GiB or more, and the JVM is started with neither')
  add('lib/ct.sym', 'javac\'s table of earlier releases\' APIs (--release): a running JVM never reads it')
  add('lib/src.zip', 'the JDK\'s sources, for IDEs and debuggers')
  add('man', 'manual pages')
  add('docs', 'documentation')
  add('include', 'C headers for building JNI code')
  add('jmods', 'jlink\'s input, not read by a running JVM')
  for (const n of rootfs.readdir(posix.join(home, 'bin'))) {
    const p = posix.join(home, 'bin', n)
    if (p !== launcher) add(`bin/${n}`, `a launcher the command does not name (only ${posix.basename(launcher)} runs)`)
  }
  return out
}
