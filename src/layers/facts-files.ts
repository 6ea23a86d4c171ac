/**
 * The small files the auditor facts read (facts.ts). They are kept in memory during the index pass
 * so that collecting facts never re-reads a layer. Paths are tar paths (physical, not through
 * symlinks), so both sides of the usual links are listed (/etc/os-release -> ../usr/lib/os-release,
 * /lib/apk -> ../usr/lib/apk, /var/lib/rpm -> ../../usr/lib/sysimage/rpm).
 */
export const OS_RELEASE_FILES = ['/etc/os-release', '/usr/lib/os-release']
export const DPKG_STATUS = '/var/lib/dpkg/status'
export const DPKG_STATUS_D = '/var/lib/dpkg/status.d'
/** dpkg's per-package file lists (NAME.list), read by the package index for file owners. */
export const DPKG_INFO = '/var/lib/dpkg/info'
export const APK_INSTALLED = ['/lib/apk/db/installed', '/usr/lib/apk/db/installed']
export const RPM_SQLITE = ['/var/lib/rpm/rpmdb.sqlite', '/usr/lib/sysimage/rpm/rpmdb.sqlite']
/** Berkeley DB and NDB databases: recognised, not parsed. */
export const RPM_OTHER = ['/var/lib/rpm/Packages', '/usr/lib/sysimage/rpm/Packages', '/var/lib/rpm/Packages.db', '/usr/lib/sysimage/rpm/Packages.db']

const EXACT = new Set([...OS_RELEASE_FILES, DPKG_STATUS, ...APK_INSTALLED, ...RPM_SQLITE])

export function isFactsFile(path: string): boolean {
  if (EXACT.has(path) || path.startsWith(`${DPKG_STATUS_D}/`)) return true
  return path.startsWith(`${DPKG_INFO}/`) && path.endsWith('.list') && !path.slice(DPKG_INFO.length + 1).includes('/')
}
