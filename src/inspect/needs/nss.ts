/**
 * Name services. glibc answers getaddrinfo/getpwnam/getservbyname through NSS: it reads
 * /etc/nsswitch.conf and dlopens libnss_SOURCE.so.2 for each source a database line names. Since
 * glibc 2.34 the `files` and `dns` sources are built into libc.so.6 (the libnss_files/libnss_dns
 * files are empty stubs), so they need no module; other sources (systemd, myhostname, mdns, sss,
 * compat before 2.34, ...) do, and a missing module is skipped silently. Pure-Go resolvers
 * (netgo, osusergo, CGO_ENABLED=0) read /etc/nsswitch.conf, /etc/hosts, /etc/resolv.conf and
 * /etc/passwd themselves. The container runtime bind-mounts /etc/hosts and /etc/resolv.conf.
 */
import { matchesIn, type ByteSource } from '../../core/byte-source.js'
import type { Need } from '../types.js'
import { exists, glibcObject, glibcVersion, importEvidence, versionAtLeast, withChain, type NeedsInput, type NeedsOutput } from './context.js'

const HOST_SYMBOLS = ['getaddrinfo', 'gethostbyname', 'gethostbyname2', 'gethostbyname_r', 'gethostbyname2_r', 'getnameinfo', 'gethostbyaddr', 'gethostbyaddr_r']
const USER_SYMBOLS = ['getpwnam', 'getpwuid', 'getpwnam_r', 'getpwuid_r', 'getpwent', 'getgrnam', 'getgrgid', 'getgrnam_r', 'getgrgid_r', 'getgrent', 'getgrouplist', 'initgroups', 'getspnam']
const SERVICE_SYMBOLS = ['getservbyname', 'getservbyport', 'getservbyname_r', 'getservbyport_r', 'getservent']

/** glibc's defaults when nsswitch.conf has no line for a database. */
const DEFAULT_SOURCES: Record<string, string[]> = { hosts: ['dns', 'files'], passwd: ['files'], group: ['files'], services: ['files'], shadow: ['files'] }

export interface NssUse {
  /** Databases the program consults (hosts, passwd, group, services). */
  databases: Set<string>
  evidence: string[]
  /** Lookups go through glibc NSS (true) or the program reads the files itself (Go pure resolver). */
  viaGlibc: boolean
}

/** Which NSS databases the program uses, and how. */
export function nssUse(input: NeedsInput): NssUse {
  const use: NssUse = { databases: new Set(), evidence: [], viaGlibc: glibcObject(input) !== undefined }
  const add = (db: string[], ev: string[]): void => {
    if (ev.length === 0) return
    for (const d of db) use.databases.add(d)
    use.evidence.push(...ev)
  }
  add(['hosts'], importEvidence(input, HOST_SYMBOLS).evidence)
  add(['passwd', 'group'], importEvidence(input, USER_SYMBOLS).evidence)
  add(['services'], importEvidence(input, SERVICE_SYMBOLS).evidence)
  const go = input.go
  if (go) {
    // Go's own resolver (netgo / no cgo) reads the files directly; with cgo it calls getaddrinfo (seen above).
    if (go.packages.net.linked && (!go.cgoLinked.linked || go.netgo)) add(['hosts', 'services'], [`Go net package linked with the pure-Go resolver (${go.netgo ? 'netgo tag' : 'no cgo'})`])
    if (go.packages.osUser.linked && (!go.cgoLinked.linked || go.osusergo)) add(['passwd', 'group'], [`Go os/user linked with the pure-Go implementation (${go.osusergo ? 'osusergo tag' : 'no cgo'}): it reads /etc/passwd and /etc/group`])
  }
  return use
}

export async function nssNeeds(input: NeedsInput): Promise<NeedsOutput> {
  const out: NeedsOutput = { needs: [], gaps: [] }
  const { rootfs } = input
  const use = nssUse(input)
  if (use.databases.size === 0) return out
  const conf = await readNsswitch(input)
  const evidence = [...use.evidence]
  const dbs = [...use.databases]

  out.needs.push({
    kind: 'nsswitch',
    paths: conf ? withChain(rootfs, '/etc/nsswitch.conf') : [],
    present: conf !== undefined,
    reason: conf
      ? `the program looks up ${dbs.join(', ')}; /etc/nsswitch.conf says which sources answer`
      : `the program looks up ${dbs.join(', ')}; without /etc/nsswitch.conf the lookups use built-in defaults (hosts: dns before files)`,
    evidence,
    confidence: use.databases.has('hosts') ? 'likely' : 'possible',
  })

  if (use.databases.has('hosts')) {
    out.needs.push({ kind: 'hosts', paths: [], present: true, providedBy: 'runtime', reason: 'host names are looked up in /etc/hosts; Docker, Podman and Kubernetes mount their own at run time', evidence, confidence: 'likely' })
    out.needs.push({ kind: 'resolv.conf', paths: [], present: true, providedBy: 'runtime', reason: 'DNS servers come from /etc/resolv.conf, which the container runtime mounts', evidence, confidence: 'likely' })
  }
  const named = await serviceNames(input, use)
  if (named.evidence.length) {
    use.databases.add('services')
    evidence.push(...named.evidence)
    if (!dbs.includes('services')) dbs.push('services')
  }
  if (use.databases.has('services')) {
    const present = exists(rootfs, '/etc/services')
    out.needs.push({
      kind: 'services',
      paths: present ? withChain(rootfs, '/etc/services') : [],
      present,
      reason: `service names are mapped to ports through /etc/services${present ? '' : ', which is missing: named ports will not resolve'}`,
      evidence,
      // Evidence the program will use it (it calls getservbyname itself, or passes a service name
      // it holds to getaddrinfo) makes the file copied; a library's import alone stays a note.
      confidence: named.byProgram ? 'likely' : 'possible',
    })
  }

  if (!use.viaGlibc) return out
  // NSS modules the configured sources need.
  const version = await glibcVersion(input)
  const builtIn = versionAtLeast(version, '2.34') ? new Set(['files', 'dns']) : new Set<string>()
  const libc = glibcObject(input)
  for (const db of dbs) {
    const sources = conf?.get(db) ?? DEFAULT_SOURCES[db] ?? ['files']
    for (const source of sources) {
      if (builtIn.has(source)) continue
      const module = `libnss_${source}.so.2`
      if (out.needs.some((n) => n.kind === 'nss-module' && n.evidence[0]?.startsWith(module))) continue
      const loaded = await input.closure.dlopen(module, libc?.realPath)
      const core = source === 'files' || source === 'dns' || source === 'compat'
      const ev = [`${module} for "${db}: ${sources.join(' ')}"${conf ? ' in /etc/nsswitch.conf' : ' (glibc default)'}`, `glibc ${version ?? '(version unknown)'}${builtIn.size > 0 ? ' has files and dns built in' : ' loads files and dns as modules'}`]
      const need: Need = {
        kind: 'nss-module',
        paths: loaded ? [...new Set([loaded.path, ...loaded.symlinks, loaded.realPath])] : [],
        present: loaded !== undefined,
        reason: loaded
          ? `glibc loads ${module} to answer ${db} lookups from "${source}"`
          : `${db} lookups name the source "${source}", but ${module} is not in the image${core ? '' : '; glibc skips it silently'}`,
        evidence: ev,
        confidence: core ? 'likely' : 'possible',
      }
      out.needs.push(need)
      if (!version) out.gaps.push({ area: 'needs', message: `could not read the glibc version, so slim cannot tell whether ${module} is built in` })
    }
  }
  return out
}

/**
 * Does the program itself use service names? It calls getservbyname/getservbyport directly, or it
 * calls getaddrinfo/getnameinfo and holds a service name from the image's /etc/services among its
 * strings (getaddrinfo("db", "postgresql", ...)).
 */
async function serviceNames(input: NeedsInput, use: NssUse): Promise<{ byProgram: boolean; evidence: string[] }> {
  const main = input.objects[0]
  if (!main || main.via !== 'root' || !use.viaGlibc) return { byProgram: false, evidence: [] }
  const direct = main.info.importedSymbols.filter((s) => SERVICE_SYMBOLS.includes(s))
  if (direct.length) return { byProgram: true, evidence: [] }
  if (!main.info.importedSymbols.some((s) => s === 'getaddrinfo' || s === 'getnameinfo')) return { byProgram: false, evidence: [] }
  if (input.rootfs.stat('/etc/services')?.type !== 'file') return { byProgram: false, evidence: [] }
  let program: ByteSource
  let services: string
  try {
    ;[program, services] = await Promise.all([input.open(main.realPath), input.readFile('/etc/services').then((b) => b.toString('utf8'))])
  } catch {
    return { byProgram: false, evidence: [] }
  }
  const names = new Set<string>()
  for (const line of services.split('\n')) {
    const m = /^([a-z][a-z0-9-]{2,})\s+\d+\/(tcp|udp)/.exec(line)
    if (m) names.add(m[1]!)
  }
  // Whole NUL-terminated strings only, so "http" inside "https://" is not a hit.
  const hits = [...new Set(matchesIn(program, /(?<=\0)[a-z][a-z0-9-]{2,31}(?=\0)/g).filter((s) => names.has(s)))]
  if (!hits.length) return { byProgram: false, evidence: [] }
  return { byProgram: true, evidence: [`${main.path} calls getaddrinfo and holds the service name${hits.length > 1 ? 's' : ''} ${hits.slice(0, 3).map((h) => `"${h}"`).join(', ')} listed in /etc/services`] }
}

/** database → sources, from /etc/nsswitch.conf (actions like [NOTFOUND=return] dropped). */
export async function readNsswitch(input: NeedsInput): Promise<Map<string, string[]> | undefined> {
  if (input.rootfs.stat('/etc/nsswitch.conf')?.type !== 'file') return undefined
  const text = (await input.readFile('/etc/nsswitch.conf')).toString('utf8')
  const map = new Map<string, string[]>()
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim()
    const m = /^([a-z_]+)\s*:\s*(.*)$/.exec(line)
    if (!m) continue
    const sources = m[2]!.replace(/\[[^\]]*\]/g, ' ').split(/\s+/).filter(Boolean)
    map.set(m[1]!, sources)
  }
  return map
}
