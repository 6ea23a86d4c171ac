/**
 * Files the build writes besides the copies: the package metadata of the copied files (so
 * vulnerability scanners still see those packages: distroless-style status.d/NAME entries for
 * dpkg, the matching subset of apk's installed database) and the users and groups the plan merges
 * into the base's /etc/passwd and /etc/group.
 */
import type { Accounts, Plan } from '../advise/types.js'
import type { AccountEntry } from '../inspect/types.js'
import type { InstalledPackage, PackageIndex } from '../layers/packages.js'
import type { RootFs } from '../layers/rootfs.js'
import type { LayerEntry } from './entries.js'

const APK_DB = '/lib/apk/db/installed'
const STATUS_D = '/var/lib/dpkg/status.d'

export interface KeptPackages {
  /** Packages owning at least one copied file, name order. */
  packages: InstalledPackage[]
  /** Copied source files no package database lists (the app's own files, usually). */
  unowned: number
}

/** The packages whose files the layer copies, by the source image's package index. */
export function keptPackages(entries: LayerEntry[], pkgs: PackageIndex): KeptPackages {
  const found = new Map<string, InstalledPackage>()
  let unowned = 0
  for (const e of entries) {
    if (!e.source) continue
    const p = pkgs.owner(e.source)
    if (p) found.set(`${p.manager}\0${p.name}`, p)
    else unowned++
  }
  return { packages: [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), unowned }
}

function fileEntry(path: string, text: string): LayerEntry {
  const data = Buffer.from(text)
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, data, size: data.length }
}

async function readText(fs: RootFs | undefined, path: string): Promise<string | undefined> {
  const st = fs?.stat(path)
  if (!fs || !st || (st.type !== 'file' && st.type !== 'hardlink')) return undefined
  return (await fs.readFile(path)).toString('utf8')
}

/** status.d entries and the apk database for `kept`, leaving out packages the base already lists. */
export async function scannerMetadata(kept: InstalledPackage[], base: RootFs | undefined, basePkgs: PackageIndex | undefined): Promise<LayerEntry[]> {
  const out: LayerEntry[] = []
  const inBase = (p: InstalledPackage): boolean => basePkgs?.get(p.name)?.manager === p.manager
  for (const p of kept.filter((k) => k.manager === 'dpkg' && !inBase(k))) {
    // A file name is a package name here (validated by dpkg: [a-z0-9.+-]); anything else is skipped.
    if (!/^[a-z0-9][a-z0-9.+-]*$/.test(p.name)) continue
    const stanza = /^Status:/m.test(p.stanza) ? p.stanza : `${p.stanza}\nStatus: install ok installed`
    out.push(fileEntry(`${STATUS_D}/${p.name}`, `${stanza}\n`))
  }
  const apk = kept.filter((k) => k.manager === 'apk' && !inBase(k))
  if (apk.length > 0) {
    const existing = (await readText(base, APK_DB)) ?? ''
    const head = existing.trim() ? `${existing.replace(/\s+$/, '')}\n\n` : ''
    out.push(fileEntry(APK_DB, `${head}${apk.map((p) => p.stanza).join('\n\n')}\n\n`))
  }
  return out
}

/** The plan's merged accounts (set by the advice for programs that look users up by name), if any. */
function accountsOf(plan: Plan): Accounts | undefined {
  const a = plan.accounts
  return a && (a.users.length || a.groups.length) ? a : undefined
}

/** /etc/passwd and /etc/group: the base's own lines, then the source's lines for names the base lacks. */
export async function accountFiles(plan: Plan, base: RootFs | undefined): Promise<LayerEntry[]> {
  const a = accountsOf(plan)
  if (!a) return []
  const out: LayerEntry[] = []
  for (const [file, lines] of [['/etc/passwd', a.users], ['/etc/group', a.groups]] as const) {
    const add = lines.filter((l): l is AccountEntry & { line: string } => !!l.line && !/[\n\r\0]/.test(l.line))
    if (add.length === 0) continue
    const own = (await readText(base, file)) ?? ''
    const names = new Set(own.split('\n').map((l) => l.split(':')[0]))
    const body = own.trim() ? `${own.replace(/\s+$/, '')}\n` : ''
    out.push(fileEntry(file, body + add.filter((l) => !names.has(l.name)).map((l) => `${l.line}\n`).join('')))
  }
  return out
}
