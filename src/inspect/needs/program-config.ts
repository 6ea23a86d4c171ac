/**
 * Needs declared by a program's own config (configs/*.ts): the users and groups it looks up (as
 * the image's passwd/group lines, so advice can merge them into the base's), the files and trees
 * it reads, the directories it writes, and the modules it loads (they join the closure, like
 * dlopen). What a reader could not understand is a gap naming the file and line.
 */
import { readProgramConfig } from '../configs/index.js'
import type { AccountEntry, Finding, Gap, Need } from '../types.js'
import { exists, withChain, type NeedsInput } from './context.js'
import { startCommandNeeds } from './start-commands.js'

export interface ProgramConfigOutput {
  needs: Need[]
  gaps: Gap[]
  findings: Finding[]
}

async function lines(input: NeedsInput, file: string): Promise<string[]> {
  if (!exists(input.rootfs, file)) return []
  try {
    return (await input.readFile(file)).toString('utf8').split('\n').filter((l) => l && !l.startsWith('#'))
  } catch {
    return []
  }
}

function entry(all: string[], name: string, group: boolean): AccountEntry {
  const line = all.find((l) => l.split(':')[0] === name)
  if (!line) return { name }
  const f = line.split(':')
  return group ? { name, line, gid: Number(f[2]) } : { name, line, uid: Number(f[2]), gid: Number(f[3]) }
}

export async function programConfigNeeds(input: NeedsInput): Promise<ProgramConfigOutput> {
  const out: ProgramConfigOutput = { needs: [], gaps: [], findings: [] }
  const { program, rootfs } = input
  const facts = await readProgramConfig([program.realPath, program.path], { rootfs, argv: program.argv, workdir: program.workdir, env: program.env, open: input.open })
  if (!facts) return out
  out.gaps.push(...facts.gaps.map((message) => ({ area: 'needs' as const, message })))
  const name = facts.program

  if (facts.users.length || facts.groups.length) {
    const passwd = await lines(input, '/etc/passwd')
    const group = await lines(input, '/etc/group')
    const users = [...new Map(facts.users.map((u) => [u.name, u])).values()]
    const groups = [...new Map(facts.groups.map((g) => [g.name, g])).values()]
    // A numeric user or group ("#33" in apache, "uid 100" in haproxy) needs no entry.
    const named = (n: string) => !/^#?\d+$/.test(n)
    const accounts = {
      users: users.filter((u) => named(u.name)).map((u) => entry(passwd, u.name, false)),
      groups: groups.filter((g) => named(g.name)).map((g) => entry(group, g.name, true)),
    }
    // The primary group of each user comes along (getpwnam then getgrgid).
    for (const u of accounts.users) {
      if (u.gid === undefined || accounts.groups.some((g) => g.gid === u.gid)) continue
      const g = group.find((l) => Number(l.split(':')[2]) === u.gid)
      if (g) accounts.groups.push(entry(group, g.split(':')[0]!, true))
    }
    const missing = [...accounts.users, ...accounts.groups].filter((e) => !e.line).map((e) => e.name)
    for (const m of missing) out.findings.push({ severity: 'error', code: 'user-unknown', message: `${name}'s config names "${m}", which the image's /etc/passwd or /etc/group does not define; ${name} fails to start` })
    out.needs.push({
      kind: 'account',
      paths: ['/etc/passwd', '/etc/group'].filter((f) => exists(rootfs, f)),
      present: missing.length === 0,
      reason: `${name}'s config names ${[...accounts.users.map((u) => `user ${u.name}`), ...accounts.groups.map((g) => `group ${g.name}`)].join(', ')}; it looks them up in /etc/passwd and /etc/group`,
      evidence: [...users, ...groups].map((x) => x.source),
      confidence: 'certain',
      accounts,
      ...(facts.startsAsRoot ? { rootReason: facts.startsAsRoot.why } : {}),
    })
  } else if (facts.startsAsRoot) {
    out.needs.push({ kind: 'account', paths: [], present: true, reason: facts.startsAsRoot.why, evidence: [facts.startsAsRoot.source], confidence: 'certain', accounts: { users: [], groups: [] }, rootReason: facts.startsAsRoot.why })
  }

  for (const f of facts.files) {
    if (!f.startsWith('/') || !exists(rootfs, f)) continue
    out.needs.push({ kind: 'program-data', paths: withChain(rootfs, f), present: true, reason: `${name} reads its config file ${f}`, evidence: [`${name} config`], confidence: 'certain' })
  }
  for (const r of facts.read) {
    const present = exists(rootfs, r.path)
    out.needs.push({ kind: 'program-data', paths: present ? withChain(rootfs, r.path) : [], present, reason: `${r.why}${present ? '' : ' (it is not in the image)'}`, evidence: [r.source], confidence: 'certain' })
  }
  const written = new Set<string>()
  for (const w of facts.write) {
    if (written.has(w.path)) continue
    written.add(w.path)
    // A directory the image lacks fails (or warns) the same way in the slim image: nothing to copy.
    if (rootfs.stat(w.path)?.type !== 'dir') continue
    out.needs.push({ kind: 'writable', paths: withChain(rootfs, w.path), present: true, writable: true, reason: `${w.why}; it must exist and be writable by the user ${name} runs as`, evidence: [w.source], confidence: 'certain' })
  }
  const started = await startCommandNeeds(input, facts)
  out.needs.push(...started.needs)
  out.gaps.push(...started.gaps)
  for (const m of facts.modules) {
    const hit = await input.closure.dlopen(m.path, program.realPath)
    out.needs.push({
      kind: 'dlopen',
      paths: hit ? [...new Set([hit.path, ...hit.symlinks, hit.realPath])] : [],
      present: hit !== undefined,
      reason: hit ? `${m.why}: ${hit.path}` : `${m.why}: ${m.path} is not in the image`,
      evidence: [m.source],
      confidence: 'certain',
    })
  }
  return out
}

/**
 * Files the program uses that belong to a service user (redis's /etc/redis is redis:redis 2770):
 * the slim image keeps that owner, so the owner's passwd and group entries come along too.
 */
export async function ownerAccounts(input: NeedsInput, needs: Need[]): Promise<Need | undefined> {
  const kinds = new Set(['program-data', 'writable', 'app-tree', 'account'])
  const uids = new Map<number, string>()
  const gids = new Map<number, string>()
  for (const n of needs) {
    if (!kinds.has(n.kind) || !n.present || n.confidence === 'possible' || n.kind === 'account') continue
    for (const p of n.paths) {
      const st = input.rootfs.stat(p)
      if (!st) continue
      if (st.uid !== 0 && !uids.has(st.uid)) uids.set(st.uid, p)
      if (st.gid !== 0 && !gids.has(st.gid)) gids.set(st.gid, p)
    }
  }
  if (!uids.size && !gids.size) return undefined
  const passwd = await lines(input, '/etc/passwd')
  const group = await lines(input, '/etc/group')
  const byId = (all: string[], id: number, field: number) => all.find((l) => Number(l.split(':')[field]) === id)
  const users = [...uids.keys()].flatMap((uid) => {
    const l = byId(passwd, uid, 2)
    return l ? [entry(passwd, l.split(':')[0]!, false)] : []
  })
  const groups = [...gids.keys()].flatMap((gid) => {
    const l = byId(group, gid, 2)
    return l ? [entry(group, l.split(':')[0]!, true)] : []
  })
  if (!users.length && !groups.length) return undefined
  const owners = [...uids.entries()].map(([uid, p]) => `${p} is owned by uid ${uid}`)
  return {
    kind: 'account',
    paths: ['/etc/passwd', '/etc/group'].filter((f) => exists(input.rootfs, f)),
    present: true,
    reason: `files the program uses belong to ${[...users.map((u) => `user ${u.name}`), ...groups.map((g) => `group ${g.name}`)].join(', ')}; they keep that owner, so the names stay defined`,
    evidence: owners.length ? owners : [...gids.entries()].map(([gid, p]) => `${p} has group ${gid}`),
    confidence: 'likely',
    accounts: { users, groups },
  }
}
