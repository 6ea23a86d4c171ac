/**
 * Proof that the chosen user can use what is copied: read (and enter) the program, its libraries,
 * its config and data, and write the directories it writes, with the owner and mode each path
 * will have in the final image (COPY makes a path root's unless --chown says otherwise; the mode
 * is the source's unless --chmod says otherwise). Trees are checked entry by entry, bounded.
 */
import type { RootFs } from '../layers/rootfs.js'
import { isInside } from './files.js'
import type { Copy, RuntimeUser } from './types.js'

const MAX_CHECKED = 5_000

function allowed(mode: number, owner: { uid: number; gid: number }, user: RuntimeUser, want: number): boolean {
  if (user.uid === 0) return true
  const inGroup = owner.gid === user.gid || (user.groups?.includes(owner.gid) ?? false)
  const bits = owner.uid === user.uid ? (mode >> 6) & 7 : inGroup ? (mode >> 3) & 7 : mode & 7
  return (bits & want) === want
}

function ownerOf(c: Copy): { uid: number; gid: number } {
  const m = /^(\d+):(\d+)$/.exec(c.chown ?? '')
  return m ? { uid: Number(m[1]), gid: Number(m[2]) } : { uid: 0, gid: 0 }
}

/** One line per path the user could not use as the program needs; empty when every check passed. */
export function accessProblems(copies: readonly Copy[], user: RuntimeUser, fs: RootFs | undefined): { problems: string[]; checked: number } {
  const problems: string[] = []
  let checked = 0
  if (!fs || user.uid === 0) return { problems, checked }
  for (const c of copies) {
    const writable = c.kind === 'writable'
    const owner = ownerOf(c)
    const forced = c.chmod ? parseInt(c.chmod, 8) : undefined
    const check = (path: string, shown: string): boolean => {
      const st = fs.stat(path)
      if (!st) return true
      checked++
      const mode = forced ?? st.mode
      const dir = st.type === 'dir'
      const want = dir ? (writable ? 7 : 5) : 4
      if (allowed(mode, owner, user, want)) return true
      const what = dir ? (writable ? 'write into' : 'enter and list') : 'read'
      problems.push(`USER ${user.spec} cannot ${what} ${shown} (mode ${(mode & 0o7777).toString(8).padStart(4, '0')}, owner ${owner.uid}:${owner.gid} in the slim image)`)
      return false
    }
    if (!check(c.source, c.dest)) continue
    if (c.type !== 'dir' || writable) continue
    // Inside a copied tree: every entry keeps its mode; the owner is the COPY's.
    const real = fs.realpath(c.source)?.path ?? c.source
    const stack = [real]
    while (stack.length && checked < MAX_CHECKED) {
      const d = stack.pop()!
      for (const name of fs.readdir(d)) {
        const p = `${d}/${name}`
        const info = fs.lstat(p)
        if (!info || info.type === 'symlink') continue
        if (!check(p, c.dest + p.slice(real.length))) break
        if (info.type === 'dir' && isInside(p, real)) stack.push(p)
      }
    }
  }
  return { problems, checked }
}
