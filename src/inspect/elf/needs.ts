/**
 * What an ELF file's imports and version needs imply beyond its NEEDED libraries. These are the
 * run-time files a slimmed image silently loses: glibc reads /etc/nsswitch.conf and loads NSS
 * modules for getaddrinfo/getpwnam, gconv modules for iconv_open, locale data for setlocale,
 * zoneinfo for localtime, and dlopens libgcc_s for pthread_cancel's unwinding.
 */
import type { ElfInfo } from './types.js'

/** Compare dotted numeric versions ("2.34" vs "2.4"), numerically per component. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/**
 * The highest numbered version with this prefix across all version needs, e.g.
 * highestVersion(info, 'GLIBC_') → "GLIBC_2.34". Non-numeric names (GLIBC_PRIVATE,
 * GLIBC_ABI_DT_RELR) are skipped; use needsVersion for those.
 */
export function highestVersion(info: Pick<ElfInfo, 'versionNeeds'>, prefix: string): string | undefined {
  let best: string | undefined
  for (const need of info.versionNeeds) {
    for (const v of need.versions) {
      if (!v.startsWith(prefix)) continue
      const tail = v.slice(prefix.length)
      if (!/^\d+(\.\d+)*$/.test(tail)) continue
      if (best === undefined || compareVersions(tail, best.slice(prefix.length)) > 0) best = v
    }
  }
  return best
}

/** True when any library is asked for this exact version name (e.g. "GLIBC_ABI_DT_RELR"). */
export function needsVersion(info: Pick<ElfInfo, 'versionNeeds'>, name: string): boolean {
  return info.versionNeeds.some((n) => n.versions.includes(name))
}

export interface GlibcRequirements {
  /** Highest GLIBC_2.x needed: the oldest glibc that can run the file. */
  glibc?: string
  /** GLIBC_ABI_DT_RELR: linked with DT_RELR packed relocations; needs glibc >= 2.36. */
  dtRelr: boolean
  /** GLIBC_PRIVATE: uses glibc internals; runs only with the exact glibc build it came from. */
  private: boolean
  glibcxx?: string
  cxxabi?: string
}

export function glibcRequirements(info: Pick<ElfInfo, 'versionNeeds'>): GlibcRequirements {
  const r: GlibcRequirements = {
    dtRelr: needsVersion(info, 'GLIBC_ABI_DT_RELR'),
    private: needsVersion(info, 'GLIBC_PRIVATE'),
  }
  const glibc = highestVersion(info, 'GLIBC_')
  const glibcxx = highestVersion(info, 'GLIBCXX_')
  const cxxabi = highestVersion(info, 'CXXABI_')
  if (glibc) r.glibc = glibc
  if (glibcxx) r.glibcxx = glibcxx
  if (cxxabi) r.cxxabi = cxxabi
  return r
}

export type ImpliedNeedKind = 'dynamic-loading' | 'nss-hosts' | 'nss-users' | 'services' | 'gconv' | 'locales' | 'libgcc_s' | 'tzdata'

export interface ImpliedNeed {
  kind: ImpliedNeedKind
  /** The imported symbols that imply it (the evidence). */
  symbols: string[]
  /** Files or directories it reads (arch-independent paths; libdir-relative ones are in `reason`). */
  files: string[]
  /** Libraries loaded at run time without being NEEDED. */
  libraries: string[]
  /** NSS databases consulted through /etc/nsswitch.conf. */
  nssDatabases: string[]
  reason: string
}

interface Rule {
  kind: ImpliedNeedKind
  symbols: string[]
  files: string[]
  libraries?: string[]
  nssDatabases?: string[]
  reason: string
}

/** One rule per run-time file family; the symbol lists are glibc's public entry points. */
const RULES: Rule[] = [
  {
    kind: 'dynamic-loading',
    symbols: ['dlopen', 'dlmopen'],
    files: [],
    reason: 'loads libraries at run time with dlopen; their names are not in DT_NEEDED (see the names found in its strings and .note.dlopen)',
  },
  {
    kind: 'nss-hosts',
    symbols: ['getaddrinfo', 'gethostbyname', 'gethostbyname2', 'gethostbyname_r', 'gethostbyname2_r', 'getnameinfo', 'gethostbyaddr', 'gethostbyaddr_r'],
    files: ['/etc/nsswitch.conf', '/etc/hosts', '/etc/resolv.conf'],
    nssDatabases: ['hosts'],
    reason: 'resolves host names: glibc reads /etc/nsswitch.conf and loads the NSS modules it names (files, dns) to consult /etc/hosts and /etc/resolv.conf',
  },
  {
    kind: 'nss-users',
    symbols: ['getpwnam', 'getpwuid', 'getpwnam_r', 'getpwuid_r', 'getpwent', 'getgrnam', 'getgrgid', 'getgrnam_r', 'getgrgid_r', 'getgrent', 'getgrouplist', 'initgroups'],
    files: ['/etc/nsswitch.conf', '/etc/passwd', '/etc/group'],
    nssDatabases: ['passwd', 'group'],
    reason: 'looks up users or groups: glibc consults /etc/nsswitch.conf and its NSS modules, normally /etc/passwd and /etc/group',
  },
  {
    kind: 'services',
    symbols: ['getservbyname', 'getservbyport', 'getservbyname_r', 'getservbyport_r', 'getservent'],
    files: ['/etc/services', '/etc/nsswitch.conf'],
    nssDatabases: ['services'],
    reason: 'maps service names to ports through /etc/services (via NSS)',
  },
  {
    kind: 'gconv',
    symbols: ['iconv_open'],
    files: [],
    reason: 'converts character sets with iconv: glibc loads gconv modules and gconv-modules from <libdir>/gconv (or GCONV_PATH)',
  },
  {
    kind: 'locales',
    symbols: ['setlocale', 'newlocale'],
    files: ['/usr/lib/locale'],
    reason: 'selects a locale: anything but C/POSIX (C.UTF-8 included) needs locale data under /usr/lib/locale',
  },
  {
    kind: 'libgcc_s',
    symbols: ['pthread_cancel', 'pthread_exit'],
    files: [],
    libraries: ['libgcc_s.so.1'],
    reason: 'cancels or exits threads: glibc dlopens libgcc_s.so.1 to unwind the stack and aborts if it is missing',
  },
  {
    kind: 'tzdata',
    symbols: ['tzset', 'localtime', 'localtime_r', 'mktime'],
    files: ['/usr/share/zoneinfo', '/etc/localtime'],
    reason: 'converts to local time: reads TZ, /etc/localtime and /usr/share/zoneinfo (UTC when they are missing)',
  },
]

/** The run-time needs implied by the file's imported symbols, each with the symbols as evidence. */
export function impliedNeeds(info: Pick<ElfInfo, 'importedSymbols'>): ImpliedNeed[] {
  const imported = new Set(info.importedSymbols)
  const out: ImpliedNeed[] = []
  for (const rule of RULES) {
    const symbols = rule.symbols.filter((s) => imported.has(s))
    if (symbols.length === 0) continue
    out.push({
      kind: rule.kind,
      symbols,
      files: [...rule.files],
      libraries: [...(rule.libraries ?? [])],
      nssDatabases: [...(rule.nssDatabases ?? [])],
      reason: rule.reason,
    })
  }
  return out
}
