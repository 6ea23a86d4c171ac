/**
 * What every need detector reads: the image, the program and its chain, the objects the loader
 * would map (with their ELF facts), Go/runtime facts, and a way to dlopen more libraries with the
 * same loader rules. Plus small helpers about glibc the detectors share.
 */
import { posix } from 'node:path'
import { firstMatchIn, type ByteSource } from '../../core/byte-source.js'
import type { ImageConfig } from '../../image/types.js'
import type { RootFs } from '../../layers/rootfs.js'
import type { ClosureBuilder } from '../closure/closure.js'
import type { LoadedObject } from '../closure/search.js'
import type { ElfInfo } from '../elf/types.js'
import type { ScriptCommand } from '../entrypoint/resolve.js'
import type { GoBuildInfo } from '../gobuildinfo.js'
import type { Gap, Need, Program, Runtime } from '../types.js'

export interface NeedsInput {
  rootfs: RootFs
  config: ImageConfig
  program: Program
  /** The final program's ELF facts (for interpreted apps: the runtime executable's). */
  elf?: ElfInfo
  /** Every object of the program's process (the program itself first), with ELF facts. */
  objects: LoadedObject[]
  closure: ClosureBuilder
  go?: GoBuildInfo
  runtime?: Runtime
  scriptCommands: ScriptCommand[]
  readFile: (path: string) => Promise<Buffer>
  /** Random access to a file, by ranges when it is big: for scans over a whole program. */
  open: (path: string) => Promise<ByteSource>
}

export interface NeedsOutput {
  needs: Need[]
  gaps: Gap[]
}

/** Libraries that are part of glibc itself: their imports say nothing about the program. */
export function isGlibcPart(name: string): boolean {
  return /^(?:libc|libm|libpthread|libdl|librt|libresolv|libutil|libanl|libnsl|libBrokenLocale|libmvec|libthread_db|libmemusage|libpcprofile|libc_malloc_debug)\.so(?:\.\d+)*$/.test(name) || /^libnss_/.test(name) || /^ld-linux|^ld64\.so|^ld\.so|^ld-musl|^libc\.musl/.test(name)
}

/** Objects whose imports tell what the program does (the program and non-libc libraries). */
export function userObjects(input: NeedsInput): LoadedObject[] {
  return input.objects.filter((o) => o.via === 'root' || !isGlibcPart(posix.basename(o.path)))
}

/** Which user objects import any of `symbols`, as evidence lines ("getaddrinfo in /usr/bin/curl"). */
export function importEvidence(input: NeedsInput, symbols: string[]): { evidence: string[]; byProgram: boolean } {
  const evidence: string[] = []
  let byProgram = false
  const wanted = new Set(symbols)
  for (const o of userObjects(input)) {
    const hits = o.info.importedSymbols.filter((s) => wanted.has(s))
    if (hits.length === 0) continue
    if (o.via === 'root') byProgram = true
    evidence.push(`${o.path} imports ${hits.slice(0, 4).join(', ')}${hits.length > 4 ? ', ...' : ''}`)
  }
  return { evidence, byProgram }
}

/** The libc object of the program's process, when glibc's libc.so.6 is in the closure. */
export function glibcObject(input: NeedsInput): LoadedObject | undefined {
  return input.objects.find((o) => o.info.soname === 'libc.so.6' || /^libc\.so\.6$/.test(posix.basename(o.path)))
}

const glibcVersionCache = new WeakMap<LoadedObject, Promise<string | undefined>>()

/** glibc's version from libc.so.6 ("GNU C Library ... version 2.36"), its file name (libc-2.31.so). */
export function glibcVersion(input: NeedsInput): Promise<string | undefined> {
  const libc = glibcObject(input)
  if (!libc) return Promise.resolve(undefined)
  let p = glibcVersionCache.get(libc)
  if (!p) {
    p = (async () => {
      const fromName = /libc-(\d+\.\d+)\.so$/.exec(libc.realPath)?.[1]
      if (fromName) return fromName
      try {
        const src = await input.open(libc.realPath)
        return firstMatchIn(src, /GNU C Library [^\n\0]*?version (\d+\.\d+)/)?.[1] ?? firstMatchIn(src, /\0glibc (\d+\.\d+)\0/)?.[1]
      } catch {
        return undefined
      }
    })()
    glibcVersionCache.set(libc, p)
  }
  return p
}

/** Version compare for dotted numbers. */
export function versionAtLeast(v: string | undefined, min: string): boolean {
  if (!v) return false
  const a = v.split('.').map(Number)
  const b = min.split('.').map(Number)
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d !== 0) return d > 0
  }
  return true
}

/** An image path plus the symlinks crossed to reach it and its real path: all must be kept. */
export function withChain(rootfs: RootFs, p: string): string[] {
  const r = rootfs.realpath(p)
  if (!r) return []
  return [...new Set([p, ...r.chain, r.path])]
}

export function exists(rootfs: RootFs, p: string): boolean {
  return rootfs.stat(p) !== undefined
}

/** A small text file's content (a script, an env file); undefined when missing, a directory, bigger than `maxBytes` or unreadable. */
export async function readSmallText(input: NeedsInput, path: string, maxBytes: number): Promise<string | undefined> {
  const st = input.rootfs.stat(path)
  if (!st || st.type === 'dir' || st.size > maxBytes) return undefined
  try {
    return (await input.readFile(path)).toString('utf8')
  } catch {
    return undefined
  }
}
