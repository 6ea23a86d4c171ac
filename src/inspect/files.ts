/**
 * Inspection.files: the exact list of paths a slim image must contain, from the program, the
 * closure and the needs. The policy lives here: only real entries (a library behind the /lib link
 * is the link plus the real file), needed trees expanded up to a bound, ldconfig's input only when
 * the closure used it.
 */
import { posix } from 'node:path'
import type { RootFs } from '../layers/rootfs.js'
import type { ClosureBuilder } from './closure/closure.js'
import type { Gap, Inspection, Need } from './types.js'

/** How many directory entries files() expands at most (a safety bound for huge app trees). */
const MAX_TREE_ENTRIES = 500_000

/** The exact list of paths a slim image must contain (see Inspection.files). */
export function computeFiles(rootfs: RootFs, ins: Omit<Inspection, 'files'>, builder: ClosureBuilder, gaps: Gap[]): string[] {
  const set = new Set<string>()
  // Only real entries: "/lib/x86_64-linux-gnu/libc.so.6" behind the /lib -> usr/lib link is listed
  // as the link "/lib" plus the file at its real path.
  const add = (p: string | undefined): void => {
    if (!p || p === '/' || set.has(p)) return
    const parent = posix.dirname(p)
    if (rootfs.realpath(parent)?.path === parent && rootfs.lstat(p)) set.add(p)
  }
  const addTreeEntry = (p: string): void => {
    set.add(p)
  }
  const p = ins.program
  for (const x of [...p.symlinks, ...p.scripts, ...p.executables]) add(x)
  if (p.kind !== 'missing') {
    add(p.path)
    add(p.realPath)
  }
  for (const lib of ins.closure.libraries) {
    for (const s of lib.symlinks) add(s)
    add(lib.realPath)
    for (const v of lib.variants ?? []) for (const x of chainOf(rootfs, v)) add(x)
  }
  const ldSoConfUsed = ins.closure.libraries.some((l) => l.rule === 'ld.so.conf' && !ins.closure.searchPath.defaults.includes(posix.dirname(l.path)))
  for (const f of builder.configFiles) if (ldSoConfUsed || /ld-musl-.*\.path$/.test(f)) for (const x of chainOf(rootfs, f)) add(x)
  let budget = MAX_TREE_ENTRIES
  for (const n of ins.needs) {
    if (!included(n)) continue
    for (const path of n.paths) {
      add(path)
      // A writable place must exist; what it held when the image was built is not part of the need.
      if (n.writable) continue
      // Need paths list symlinks crossed (like /lib -> usr/lib) next to the real target; only a real
      // directory stands for its tree.
      if (rootfs.lstat(path)?.type === 'dir' && set.has(path)) budget = expandTree(rootfs, path, addTreeEntry, add, budget)
    }
  }
  if (budget <= 0) gaps.push({ area: 'needs', message: `the needed directory trees hold more than ${MAX_TREE_ENTRIES} entries; files() lists only the first ones` })
  return [...set].sort()
}

function included(n: Need): boolean {
  return n.present && n.providedBy !== 'runtime' && (n.confidence === 'certain' || n.confidence === 'likely')
}

/** Adds every entry under `dir` (files, symlinks and their targets, subdirectories). */
function expandTree(rootfs: RootFs, dir: string, add: (p: string) => void, addChecked: (p: string) => void, budget: number): number {
  const stack = [dir]
  const seen = new Set<string>()
  while (stack.length > 0 && budget > 0) {
    const d = stack.pop()!
    if (seen.has(d)) continue
    seen.add(d)
    for (const name of rootfs.readdir(d)) {
      if (--budget <= 0) return 0
      const path = d === '/' ? `/${name}` : `${d}/${name}`
      const st = rootfs.lstat(path)
      if (!st) continue
      add(path)
      if (st.type === 'dir') stack.push(path)
      else if (st.type === 'symlink') {
        // Keep what the link points to (hashed certificate links, alternatives), but do not walk linked directories.
        for (const x of chainOf(rootfs, path)) addChecked(x)
      }
    }
  }
  return budget
}

export function chainOf(rootfs: RootFs, p: string): string[] {
  const r = rootfs.realpath(p)
  return r ? [p, ...r.chain, r.path] : rootfs.lstat(p) ? [p] : []
}
