/**
 * Does the image run as root? Docker starts the process as the config's USER: empty means uid 0;
 * a number is that uid; a name is looked up in the image's /etc/passwd (so "app" may well be uid 0,
 * and "root" is only root by its passwd entry, though no image renames uid 0 in practice).
 */
import type { RootFs } from '../layers/index.js'
import { parsePasswd } from '../inspect/needs/user.js'

export interface RunUser {
  /** USER as written ("" when unset). */
  user: string
  /** null: a name slim could not find in /etc/passwd (the container would fail to start). */
  runsAsRoot: boolean | null
  /** Why, in words ("USER is not set", "USER app is uid 0 in /etc/passwd"). */
  reason: string
}

export async function resolveRunUser(user: string | undefined, rootfs: RootFs): Promise<RunUser> {
  const spec = (user ?? '').trim()
  if (spec === '') return { user: '', runsAsRoot: true, reason: 'USER is not set' }
  const name = spec.split(':')[0]!
  if (/^\d+$/.test(name)) {
    const uid = Number(name)
    return { user: spec, runsAsRoot: uid === 0, reason: uid === 0 ? `USER ${spec} is uid 0` : `USER ${spec}` }
  }
  let passwd: ReturnType<typeof parsePasswd> = []
  try {
    if (rootfs.stat('/etc/passwd')?.type === 'file') passwd = parsePasswd((await rootfs.readFile('/etc/passwd')).toString('utf8'))
  } catch {
    passwd = []
  }
  const entry = passwd.find((e) => e.name === name)
  if (!entry) {
    if (name === 'root') return { user: spec, runsAsRoot: true, reason: 'USER root (no /etc/passwd entry; the runtime would refuse the name)' }
    return { user: spec, runsAsRoot: null, reason: `USER ${spec}: "${name}" is not in the image's /etc/passwd` }
  }
  return { user: spec, runsAsRoot: entry.uid === 0, reason: `USER ${spec} is uid ${entry.uid} in /etc/passwd` }
}
