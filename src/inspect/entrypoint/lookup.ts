/**
 * Finding a command word in the image, as runc does when it starts the container (Go's
 * exec.LookPath over the process's PATH): a word with a '/' is a path (relative ones from the
 * working directory); a bare name is tried in each PATH directory in order, and the first regular
 * file with an execute bit wins. Symlinks are followed inside the image and each link is recorded
 * (busybox applets, /etc/alternatives chains), because a slim image must keep them.
 */
import { posix } from 'node:path'
import type { RootFs } from '../../layers/rootfs.js'
import type { ChainStep } from '../types.js'

export interface Found {
  /** The path as found (may be a symlink). */
  path: string
  /** After resolving every symlink. */
  realPath: string
  /** Each link crossed, as absolute paths. */
  symlinks: string[]
  steps: ChainStep[]
  executable: boolean
  size: number
}

export interface NotFound {
  reason: string
  searched: string[]
}

export function lookupProgram(rootfs: RootFs, word: string, opts: { dirs: string[]; cwd: string }): Found | NotFound {
  const steps: ChainStep[] = []
  if (word === '') return { reason: 'the command is an empty string', searched: [] }
  if (word.includes('/')) {
    const path = word.startsWith('/') ? posix.normalize(word) : posix.join(opts.cwd, word)
    if (!word.startsWith('/')) steps.push({ kind: 'workdir', from: word, to: path, detail: `relative path joined with the working directory ${opts.cwd}` })
    const r = probe(rootfs, path)
    if (!r) return { reason: rootfs.whyMissing?.(path) === 'loop' ? `${path} is a symlink loop in the image (more than 40 links followed)` : `${path} does not exist in the image`, searched: [path] }
    return finish(rootfs, path, r, steps)
  }
  const searched: string[] = []
  const loops: string[] = []
  for (const dir of opts.dirs) {
    const abs = dir.startsWith('/') ? dir : posix.join(opts.cwd, dir)
    const path = posix.join(abs, word)
    searched.push(path)
    const r = probe(rootfs, path)
    if (!r && rootfs.whyMissing?.(path) === 'loop') loops.push(path)
    if (!r || r.type !== 'file' || !r.executable) continue
    steps.push({ kind: 'path-lookup', from: word, to: path, detail: `found '${word}' on PATH in ${abs}` })
    return finish(rootfs, path, r, steps)
  }
  const loopNote = loops.length ? `; ${loops.join(', ')} ${loops.length === 1 ? 'is a symlink loop' : 'are symlink loops'} (more than 40 links followed)` : ''
  return { reason: `'${word}' is not on PATH (${opts.dirs.join(':')})${loopNote}`, searched }
}

export function isFound(r: Found | NotFound): r is Found {
  return 'realPath' in r
}

function probe(rootfs: RootFs, path: string): { type: string; executable: boolean; size: number } | undefined {
  const st = rootfs.stat(path)
  if (!st) return undefined
  return { type: st.type, executable: st.type === 'file' && (st.mode & 0o111) !== 0, size: st.size }
}

function finish(rootfs: RootFs, path: string, r: { type: string; executable: boolean; size: number }, steps: ChainStep[]): Found {
  const real = rootfs.realpath(path)!
  for (const link of real.chain) {
    const target = rootfs.lstat(link)?.linkTarget ?? '?'
    steps.push({ kind: 'symlink', from: link, to: target, detail: `${link} -> ${target}` })
  }
  return { path, realPath: real.path, symlinks: real.chain, steps, executable: r.executable && r.type === 'file', size: r.size }
}
