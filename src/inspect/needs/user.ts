/**
 * The user the container runs as. Docker resolves a USER name through the image's /etc/passwd
 * (and a group name through /etc/group) before starting the process, and fails to start when the
 * name is unknown; a numeric USER needs no entry to start, but programs that look themselves up
 * (getpwuid, Go os/user, ssh, git, Python's getpass) fail without one, and HOME defaults to "/".
 * HOME comes from Env when set, else from the passwd entry.
 */
import type { Finding, Need } from '../types.js'
import { exists, withChain, type NeedsInput } from './context.js'
import { nssUse } from './nss.js'

export interface PasswdEntry {
  name: string
  uid: number
  gid: number
  home: string
  shell: string
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = []
  for (const line of text.split('\n')) {
    const f = line.split(':')
    if (f.length < 7 || f[0] === '' || line.startsWith('#')) continue
    const uid = Number(f[2])
    const gid = Number(f[3])
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue
    out.push({ name: f[0]!, uid, gid, home: f[5]!, shell: f[6]! })
  }
  return out
}

export function parseGroup(text: string): { name: string; gid: number; members: string[] }[] {
  const out: { name: string; gid: number; members: string[] }[] = []
  for (const line of text.split('\n')) {
    const f = line.split(':')
    if (f.length < 3 || f[0] === '' || line.startsWith('#')) continue
    const gid = Number(f[2])
    if (!Number.isInteger(gid)) continue
    out.push({ name: f[0]!, gid, members: (f[3] ?? '').split(',').filter(Boolean) })
  }
  return out
}

function lineOf(text: string | undefined, name: string): string | undefined {
  return text?.split('\n').find((l) => l.split(':')[0] === name)
}

export async function userNeeds(input: NeedsInput): Promise<{ needs: Need[]; findings: Finding[] }> {
  const { rootfs } = input
  const spec = input.config.config?.User ?? ''
  // No USER: the runtime starts the process as uid 0 without consulting /etc/passwd.
  const [userPart = '', groupPart] = spec === '' ? ['0'] : spec.split(':')
  const read = async (f: string): Promise<string | undefined> => (rootfs.stat(f)?.type === 'file' ? (await input.readFile(f)).toString('utf8') : undefined)
  const passwdText = await read('/etc/passwd')
  const groupText = await read('/etc/group')
  const passwd = passwdText ? parsePasswd(passwdText) : []
  const groups = groupText ? parseGroup(groupText) : []
  const numericUser = /^\d+$/.test(userPart)
  const entry = numericUser ? passwd.find((e) => e.uid === Number(userPart)) : passwd.find((e) => e.name === userPart)
  const findings: Finding[] = []
  const user: NonNullable<Need['user']> = { spec: spec === '' ? '(root by default)' : spec }
  if (entry) {
    user.name = entry.name
    user.uid = entry.uid
    user.gid = entry.gid
    user.home = entry.home
  } else if (numericUser) {
    user.uid = Number(userPart)
    user.gid = user.uid === 0 ? 0 : user.uid
  }
  if (groupPart !== undefined) {
    const g = /^\d+$/.test(groupPart) ? groups.find((x) => x.gid === Number(groupPart)) : groups.find((x) => x.name === groupPart)
    if (g) {
      user.gid = g.gid
      user.group = g.name
    } else if (/^\d+$/.test(groupPart)) user.gid = Number(groupPart)
    else findings.push({ severity: 'error', code: 'user-unknown', message: `USER ${spec}: group "${groupPart}" is not in the image's /etc/group; the container would fail to start` })
  } else if (user.gid !== undefined) {
    const g = groups.find((x) => x.gid === user.gid)
    if (g) user.group = g.name
  }
  // A USER without a group also gets the user's supplementary groups from /etc/group (OCI image
  // spec; Docker: a group in USER leaves "only the specified group membership"), found by the
  // passwd entry's name, also for a numeric uid.
  const supplementary = groupPart === undefined && entry ? groups.filter((g) => g.gid !== entry.gid && g.members.includes(entry.name)) : []
  if (supplementary.length) user.supplementary = supplementary.map((g) => ({ name: g.name, gid: g.gid }))

  if (!entry && !numericUser) {
    findings.push({ severity: 'error', code: 'user-unknown', message: `USER ${spec}: "${userPart}" is not in the image's /etc/passwd; the container would fail to start ("unable to find user")` })
  } else if (!entry && numericUser && userPart !== '0') {
    findings.push({ severity: 'warning', code: 'user-unknown', message: `USER ${spec}: uid ${userPart} has no /etc/passwd entry; programs that look up their user fail and HOME is "/"` })
  }

  const lookups = nssUse(input)
  const looksUp = lookups.databases.has('passwd')
  const byName = !numericUser || (groupPart !== undefined && !/^\d+$/.test(groupPart))
  const evidence = [`USER ${user.spec}`, ...(looksUp ? lookups.evidence.filter((e) => /getpw|getgr|initgroups|os\/user/.test(e)) : [])]
  const files = ['/etc/passwd', '/etc/group'].filter((f) => exists(rootfs, f))
  const needs: Need[] = [
    {
      kind: 'user',
      paths: files.flatMap((f) => withChain(rootfs, f)),
      present: entry !== undefined || (numericUser && !looksUp),
      reason: byName
        ? `USER names ${userPart}: the runtime resolves it through /etc/passwd${groupPart ? ' and /etc/group' : ''} before starting the program`
        : looksUp
          ? 'the program looks up users or groups, so its uid needs an /etc/passwd entry'
          : 'an /etc/passwd entry for the uid gives the process a name and HOME',
      evidence,
      confidence: byName ? 'certain' : looksUp ? 'likely' : 'possible',
      user,
      // The image's own lines for this user and its group, so advice can merge them into a base's files.
      accounts: {
        users: entry ? [{ name: entry.name, line: lineOf(passwdText, entry.name), uid: entry.uid, gid: entry.gid }] : [],
        groups: [
          ...(user.group !== undefined ? [{ name: user.group, line: lineOf(groupText, user.group), gid: user.gid }] : []),
          ...supplementary.map((g) => ({ name: g.name, line: lineOf(groupText, g.name), gid: g.gid })),
        ],
      },
    },
  ]
  const home = input.program.env.HOME ?? entry?.home ?? '/'
  if (home !== '/') {
    user.home = home
    const present = rootfs.stat(home)?.type === 'dir'
    needs.push({
      kind: 'home',
      paths: present ? withChain(rootfs, home) : [],
      present,
      reason: `HOME is ${home}${input.program.env.HOME ? ' (from Env)' : ' (from /etc/passwd)'}; programs keep caches and settings there${present ? '' : ', but the directory does not exist'}`,
      evidence: [input.program.env.HOME ? `Env HOME=${home}` : `/etc/passwd: ${entry?.name} home ${home}`],
      confidence: 'possible',
      writable: true,
      user,
    })
  }
  return { needs, findings }
}
