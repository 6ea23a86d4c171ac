/**
 * Helpers the runtime detectors share: installed package versions (from the layer stage's index),
 * directory existence, walking trees for native extension modules, reading version strings.
 */
import { posix } from 'node:path'
import { firstMatchIn, type ByteSource } from '../../core/byte-source.js'
import { packageIndex } from '../../layers/packages.js'
import type { RootFs } from '../../layers/rootfs.js'
import type { Runtime } from '../types.js'

/** Everything a runtime detector gets. */
export interface RuntimeInput {
  rootfs: RootFs
  /** The runtime executable as invoked (may be a symlink: a venv's bin/python) and its real path. */
  path: string
  realPath: string
  /** argv of the runtime, argv[0] first. */
  argv: string[]
  env: Record<string, string>
  cwd: string
  /** Reads a whole file of the image (cached by the caller). */
  readFile: (path: string) => Promise<Buffer>
  /** Random access to a file, by ranges when it is big (a runtime binary scanned for strings). */
  open: (path: string) => Promise<ByteSource>
  /** DT_NEEDED of the runtime executable (libpython3.12.so.1.0, libnode.so.108, libruby-3.1.so.3.1). */
  needed: string[]
  /** The runtime's resolved library closure: requested name → real path (libnode.so.108 → ...). */
  libraries: Record<string, string>
}

export function isDir(rootfs: RootFs, p: string): boolean {
  return rootfs.stat(p)?.type === 'dir'
}

export function isFile(rootfs: RootFs, p: string): boolean {
  return rootfs.stat(p)?.type === 'file'
}

export function existingDirs(rootfs: RootFs, dirs: string[]): string[] {
  const out: string[] = []
  for (const d of dirs) if (isDir(rootfs, d) && !out.includes(d)) out.push(d)
  return out
}

/** Absolute path of `p` from the working directory. */
export function fromCwd(p: string, cwd: string): string {
  return p.startsWith('/') ? posix.normalize(p) : posix.join(cwd, p)
}

/**
 * Installed package versions by name, from the layer stage's package index (dpkg status or
 * distroless status.d, apk's installed database). Read once per image.
 */
export async function packageVersions(rootfs: RootFs): Promise<Map<string, string>> {
  const index = await packageIndex(rootfs)
  return new Map(index.packages.filter((p) => p.version !== '').map((p) => [p.name, p.version]))
}

/** Upstream version of a Debian/apk version string ("1:3.11.2-1+b1" → "3.11.2", "20.11.1-r0" → "20.11.1"). */
export function upstreamVersion(v: string): string {
  let s = v.replace(/^\d+:/, '')
  const dash = s.lastIndexOf('-')
  if (dash > 0) s = s.slice(0, dash)
  return s.replace(/[+~].*$/, '')
}

/**
 * ELF shared objects under `dirs` (native extension modules a runtime dlopens), matched by name,
 * at most `limit` of them (a safety bound for huge trees).
 */
export function findNativeModules(rootfs: RootFs, dirs: string[], match: RegExp, limit = 4000): { files: string[]; truncated: boolean } {
  const files: string[] = []
  const seen = new Set<string>()
  const stack = [...dirs]
  let visited = 0
  while (stack.length > 0) {
    const dir = stack.pop()!
    const real = rootfs.realpath(dir)?.path
    if (!real || seen.has(real)) continue
    seen.add(real)
    for (const name of rootfs.readdir(dir)) {
      if (++visited > limit * 50) return { files, truncated: true }
      const p = dir === '/' ? `/${name}` : `${dir}/${name}`
      const st = rootfs.lstat(p)
      if (!st) continue
      if (st.type === 'dir') stack.push(p)
      else if ((st.type === 'file' || st.type === 'hardlink') && match.test(name)) {
        files.push(p)
        if (files.length >= limit) return { files, truncated: true }
      }
    }
  }
  return { files: files.sort(), truncated: false }
}

/** A version-looking NUL-terminated string in a binary, matching `re` (which must capture it). */
export function versionInStrings(bytes: ByteSource, re: RegExp): string | undefined {
  return firstMatchIn(bytes, re)?.[1]
}

/** What a detector returns (here, not in runtime.ts, so detectors do not import their dispatcher). */
export interface RuntimeDetection {
  runtime: Runtime
  /** ELF extension modules in the runtime's trees (C extensions, JDK libs, .node addons): the
   * runtime dlopens them, so their libraries belong to the closure. */
  nativeModules: string[]
  /** What the detector could not see. */
  gaps: string[]
}
