/**
 * Users and groups the slim image must define: the ones the program's config names (haproxy's
 * `user haproxy`), the image's own USER when it is kept, and the owners of files copied with their
 * owner. Their lines come from the source image and are ADDED to the base's /etc/passwd and
 * /etc/group (a build stage on the source appends them to copies of the base's files), so the
 * base's own entries, e.g. distroless's nonroot, stay. Names the base already defines are left out.
 */
import type { AccountEntry, Inspection } from '../inspect/types.js'
import type { RootFs } from '../layers/rootfs.js'
import type { Evaluated } from './decide.js'
import type { Accounts, AdviceGap, RuntimeUser } from './types.js'

/** What the merge reads (a slice of the plan's input), and where it says what it could not do. */
interface AccountsInput {
  insp: Inspection
  chosen: Evaluated
  user: RuntimeUser
  rootfs?: RootFs
}

/** A passwd line (7 fields) or group line (4 fields) safe inside single quotes in a RUN line. */
const SAFE_FIELD = /^[^:'"\\\n\r\0$`]*$/
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/

function valid(e: AccountEntry, fields: number): boolean {
  if (!e.line || !NAME.test(e.name)) return false
  const f = e.line.split(':')
  return f.length === fields && f.every((x) => SAFE_FIELD.test(x)) && f[0] === e.name && /^\d+$/.test(f[2]!)
}

export function planAccounts(p: AccountsInput, out: { gaps: AdviceGap[]; notes: string[] }): Accounts {
  const { insp, chosen, user } = p
  const users = new Map<string, AccountEntry>()
  const groups = new Map<string, AccountEntry>()
  for (const n of insp.needs) {
    if (!n.accounts) continue
    // The image's USER entry matters only when that user is kept.
    if (n.kind === 'user' && user.source !== 'image') continue
    if (n.kind !== 'user' && n.kind !== 'account') continue
    if (n.confidence === 'possible') continue
    for (const u of n.accounts.users) users.set(u.name, u)
    for (const g of n.accounts.groups) groups.set(g.name, g)
  }
  const base = chosen.base.provides
  const keep = (list: Map<string, AccountEntry>, has: { name: string }[], fields: number, file: string): AccountEntry[] => {
    const outList: AccountEntry[] = []
    for (const e of list.values()) {
      if (has.some((b) => b.name === e.name)) continue
      if (!e.line) {
        out.gaps.push({ area: 'accounts', message: `${file}: "${e.name}" is named but not defined in the source image; add it by hand` })
        continue
      }
      if (!valid(e, fields)) {
        out.gaps.push({ area: 'accounts', message: `${file}: the source's entry for "${e.name}" has characters slim will not write into a Dockerfile; add it by hand` })
        continue
      }
      outList.push(e)
    }
    return outList.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }
  // A supplementary group the base defines already: its line stays the base's, without the user.
  for (const g of groups.values()) {
    if (g.gid === undefined || !user.groups?.includes(g.gid) || !base.groups.some((b) => b.name === g.name)) continue
    out.gaps.push({ area: 'accounts', message: `/etc/group: ${chosen.base.name} defines group "${g.name}" already, so the user's membership in it (a supplementary group in the source image) is not merged; add the user to that line by hand` })
  }
  const acc: Accounts = {
    users: keep(users, base.users, 7, '/etc/passwd'),
    groups: keep(groups, base.groups, 4, '/etc/group'),
    basePasswd: base.users.length > 0,
    baseGroup: base.groups.length > 0,
  }
  if (!acc.users.length && !acc.groups.length) return acc
  const sh = p.rootfs?.stat('/bin/sh')
  acc.viaSourceShell = !p.rootfs || (sh !== undefined && sh.type !== 'dir')
  const names = [...acc.users.map((u) => `user ${u.name}`), ...acc.groups.map((g) => `group ${g.name}`)].join(', ')
  if (acc.viaSourceShell) out.notes.push(`${names} from the source image are added to ${chosen.base.name}'s /etc/passwd and /etc/group (its own entries stay)`)
  else out.gaps.push({ area: 'accounts', message: `the source image has no /bin/sh to merge ${names} into ${chosen.base.name}'s /etc/passwd and /etc/group: add these lines by hand: ${[...acc.users, ...acc.groups].map((e) => e.line).join(' | ')}` })
  return acc
}
