/**
 * Who the final image runs as. Always numeric, `uid:gid` (a name needs /etc/passwd at run time,
 * and Kubernetes' runAsNonRoot can only check a number), or the bare uid when the image's user has
 * supplementary groups its USER did not drop. The image's own non-root USER is kept;
 * an image that ran as root gets the distroless convention, nonroot 65532, unless something in the
 * command needs root (a user switcher such as gosu or su-exec must start as root to switch).
 */
import { SlimError } from '../core/errors.js'
import type { Inspection } from '../inspect/types.js'
import type { RuntimeUser } from './types.js'

export const NONROOT = 65532

/** Programs that drop privileges themselves: they only work when started as root. */
const USER_SWITCHERS = new Set(['gosu', 'su-exec', 'setpriv', 's6-setuidgid', 'runuser', 'chpst', 'su', 'sudo', 'setuidgid', 'doas'])

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1)
}

/**
 * Directories every base with a filesystem already has (Debian's base-files, Alpine's
 * alpine-baselayout), owned by root. COPY --chown only owns what it creates or copies *into* a
 * directory, never an existing destination directory itself, so a non-root user cannot be given
 * one of these. (/tmp and /var/tmp are world-writable already.)
 */
export const BASE_OWNED_DIRS: ReadonlySet<string> = new Set([
  '/', '/bin', '/etc', '/home', '/lib', '/media', '/mnt', '/opt', '/root', '/run', '/sbin', '/srv', '/usr', '/usr/bin', '/usr/lib',
  '/usr/local', '/usr/sbin', '/usr/share', '/var', '/var/cache', '/var/lib', '/var/log', '/var/run', '/var/spool', '/var/mail',
])

/** Why the program must start as root, or undefined. */
export function rootReason(insp: Inspection): string | undefined {
  for (const step of insp.program.chain) {
    if (step.kind !== 'launcher') continue
    const name = basename(step.from)
    if (USER_SWITCHERS.has(name)) return `${name} in the command switches users, which only root can do`
  }
  // The program's own config makes it switch user or chroot (nginx `user`, haproxy `chroot`).
  const config = insp.needs.find((n) => n.kind === 'account' && n.rootReason)
  if (config?.rootReason) return config.rootReason
  for (const n of insp.needs) {
    if (n.kind !== 'writable' || !n.present || n.confidence === 'possible') continue
    const dir = n.paths.find((p) => BASE_OWNED_DIRS.has(p))
    if (dir) {
      return `it writes into ${dir} (${n.reason.replace(/\.$/, '')}), which the base owns as root and COPY --chown cannot hand over; point the program at a directory of its own (e.g. a pid file under /tmp) and pass --user ${NONROOT}:${NONROOT}`
    }
  }
  return undefined
}

const NUMERIC = /^(\d+)(?::(\d+))?$/

/** The passwd facts inspection resolved for the image's USER (a `user` need carries them). */
function imageUserFacts(insp: Inspection): { name?: string; uid?: number; gid?: number; supplementary?: { name: string; gid: number }[] } | undefined {
  for (const n of insp.needs) if ((n.kind === 'user' || n.kind === 'home') && n.user) return n.user
  return undefined
}

function isRootSpec(spec: string): boolean {
  const s = spec.trim()
  return s === '' || s === 'root' || s === '0' || s.startsWith('0:') || s.startsWith('root:')
}

/**
 * Numeric uid:gid for a USER string. A bare uid takes its passwd group when inspection knows it,
 * else 0, exactly as Docker does for a uid without a passwd entry.
 */
export function numericUser(spec: string, insp: Inspection): { uid: number; gid: number } | undefined {
  const m = NUMERIC.exec(spec.trim())
  const facts = imageUserFacts(insp)
  if (m) {
    const uid = Number(m[1])
    const gid = m[2] !== undefined ? Number(m[2]) : facts?.uid === uid && facts.gid !== undefined ? facts.gid : 0
    return { uid, gid }
  }
  const [name, group] = spec.trim().split(':')
  if (facts && facts.name === name && facts.uid !== undefined) {
    const gid = group !== undefined && /^\d+$/.test(group) ? Number(group) : (facts.gid ?? facts.uid)
    return { uid: facts.uid, gid }
  }
  if (name === 'nonroot') return { uid: NONROOT, gid: NONROOT }
  if (name === 'nobody') return { uid: 65534, gid: 65534 }
  return undefined
}

export function chooseUser(insp: Inspection, configUser: string | undefined, optionUser?: string): RuntimeUser {
  if (optionUser !== undefined) {
    const n = numericUser(optionUser, insp)
    if (!n) throw new SlimError('usage', `--user ${optionUser}: not a uid[:gid] and not a user the image defines; write it as numbers, e.g. --user 1000:1000`)
    const rootNote = n.uid === 0 ? ' (root: the Dockerfile will not pass the non-root checks)' : ''
    return { ...n, spec: `${n.uid}:${n.gid}`, source: 'option', note: `runs as ${n.uid}:${n.gid} as asked with --user${rootNote}` }
  }
  const spec = configUser ?? ''
  if (!isRootSpec(spec)) {
    const n = numericUser(spec, insp)
    if (n && n.uid !== 0) {
      const shown = `${n.uid}:${n.gid}`
      const note = `runs as the image's own USER ${spec}${spec === shown ? '' : ` (${shown})`}`
      const facts = imageUserFacts(insp)
      const extra = facts?.uid === n.uid ? facts.supplementary : undefined
      if (!extra?.length) return { ...n, spec: shown, source: 'image', note }
      // USER uid:gid would leave the user only that group: a bare uid keeps its supplementary groups.
      const names = extra.map((g) => g.name).join(', ')
      return { ...n, spec: String(n.uid), groups: extra.map((g) => g.gid), source: 'image', note: `${note}, with its supplementary group${extra.length === 1 ? '' : 's'} ${names}: USER is the bare uid ${n.uid}, because a group in USER drops supplementary groups` }
    }
    if (!n) {
      return {
        uid: NONROOT,
        gid: NONROOT,
        spec: `${NONROOT}:${NONROOT}`,
        source: 'base-nonroot',
        note: `the image's USER ${spec} has no passwd entry slim could read: runs as nonroot ${NONROOT}:${NONROOT} instead (check file ownership)`,
      }
    }
  }
  const why = rootReason(insp)
  if (why) return { uid: 0, gid: 0, spec: '0:0', source: 'root-kept', note: `stays root: ${why}` }
  return {
    uid: NONROOT,
    gid: NONROOT,
    spec: `${NONROOT}:${NONROOT}`,
    source: 'base-nonroot',
    note: `the image ran as root and nothing in it needs root: runs as nonroot ${NONROOT}:${NONROOT} (distroless's non-root user)`,
  }
}
