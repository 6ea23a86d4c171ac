/**
 * The one package-database reader: installed packages of an image's final filesystem, from dpkg
 * (/var/lib/dpkg/status plus info/NAME.list; or distroless' status.d/NAME plus NAME.md5sums) and
 * apk (lib/apk/db/installed, whose stanzas list their own files). Facts count from it, runtime
 * detection takes versions from it, and a build keeps the entries of the packages whose files it
 * copies, so scanners of the slim image still see them. rpm is only recognised (facts.ts).
 */
import { posix } from 'node:path'
import { APK_INSTALLED, DPKG_INFO, DPKG_STATUS, DPKG_STATUS_D } from './facts-files.js'
import type { RootFs } from './rootfs.js'

export type PackageManager = 'dpkg' | 'apk'

export interface InstalledPackage {
  manager: PackageManager
  name: string
  version: string
  architecture?: string
  /** Source package (dpkg `Source:` without its version, apk `o:`), when it differs or is given. */
  origin?: string
  /** The database file the entry was read from ("/var/lib/dpkg/status", "/var/lib/dpkg/status.d/libc6"). */
  source: string
  /** Absolute paths the package owns, as the database lists them; undefined when it lists none. */
  files?: string[]
  /** The file that listed `files` (".list", ".md5sums"; for apk the database itself). */
  filesSource?: string
  /** The entry exactly as the database holds it (no trailing blank line), for copying it as-is. */
  stanza: string
}

export interface PackageIndex {
  /** Installed packages, database order. */
  packages: InstalledPackage[]
  /** The database files that were read, per manager. */
  databases: { manager: PackageManager; paths: string[] }[]
  /** Installed package by name (the last one wins when two databases name it). */
  get(name: string): InstalledPackage | undefined
  /**
   * The package owning a path of the image (any spelling: listed paths and queries are both
   * compared after symlinks are resolved, so /lib/x/libc.so.6 and /usr/lib/x/libc.so.6 agree).
   */
  owner(path: string): InstalledPackage | undefined
}

const cache = new WeakMap<RootFs, Promise<PackageIndex>>()

/** The package index of an image, read once per RootFs. */
export function packageIndex(rootfs: RootFs): Promise<PackageIndex> {
  let p = cache.get(rootfs)
  if (!p) {
    p = readPackageIndex(rootfs)
    cache.set(rootfs, p)
  }
  return p
}

async function readText(rootfs: RootFs, path: string): Promise<string | undefined> {
  const st = rootfs.stat(path)
  if (!st || (st.type !== 'file' && st.type !== 'hardlink')) return undefined
  try {
    return (await rootfs.readFile(path)).toString('utf8')
  } catch {
    return undefined
  }
}

async function readPackageIndex(rootfs: RootFs): Promise<PackageIndex> {
  const packages: InstalledPackage[] = []
  const databases: PackageIndex['databases'] = []

  const dpkgPaths: string[] = []
  const status = await readText(rootfs, DPKG_STATUS)
  if (status !== undefined) {
    dpkgPaths.push(DPKG_STATUS)
    for (const stanza of stanzas(status)) {
      const pkg = dpkgEntry(stanza, DPKG_STATUS, true)
      if (!pkg) continue
      const list = await dpkgList(rootfs, pkg)
      packages.push(list ? { ...pkg, ...list } : pkg)
    }
  }
  for (const name of rootfs.readdir(DPKG_STATUS_D).sort()) {
    if (name.endsWith('.md5sums')) continue
    const file = `${DPKG_STATUS_D}/${name}`
    const text = await readText(rootfs, file)
    if (text === undefined) continue
    dpkgPaths.push(file)
    for (const stanza of stanzas(text)) {
      const pkg = dpkgEntry(stanza, file, false)
      if (!pkg) continue
      // Distroless writes status.d/NAME.md5sums ("md5  path" lines, paths without the leading /).
      const sums = await readText(rootfs, `${file}.md5sums`)
      if (sums !== undefined) pkg.files = md5sumPaths(sums)
      if (sums !== undefined) pkg.filesSource = `${file}.md5sums`
      packages.push(pkg)
    }
  }
  if (dpkgPaths.length > 0) databases.push({ manager: 'dpkg', paths: dpkgPaths })

  for (const file of APK_INSTALLED) {
    const text = await readText(rootfs, file)
    if (text === undefined) continue
    const real = rootfs.realpath(file)?.path ?? file
    for (const stanza of stanzas(text)) {
      const pkg = apkEntry(stanza, real)
      if (pkg) packages.push(pkg)
    }
    databases.push({ manager: 'apk', paths: [real] })
    break // /lib/apk is often a link to /usr/lib/apk: one database
  }
  return makeIndex(rootfs, packages, databases)
}

function makeIndex(rootfs: RootFs, packages: InstalledPackage[], databases: PackageIndex['databases']): PackageIndex {
  const byName = new Map(packages.map((p) => [p.name, p]))
  let owners: Map<string, InstalledPackage> | undefined
  const real = (p: string): string => rootfs.realpath(p)?.path ?? posix.normalize(p)
  return {
    packages,
    databases,
    get: (name) => byName.get(name),
    owner(path) {
      if (!owners) {
        owners = new Map()
        for (const pkg of packages) {
          for (const f of pkg.files ?? []) {
            const key = real(f)
            // Directories are shared by many packages; a file has one owner (dpkg's rule).
            if (!owners.has(key) || rootfs.lstat(key)?.type !== 'dir') owners.set(key, pkg)
          }
        }
      }
      return owners.get(real(path))
    },
  }
}

/** Entries of a deb822-style file: blocks separated by blank lines, trailing blanks dropped. */
export function stanzas(text: string): string[] {
  return text
    .replace(/\r\n/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((s) => s.replace(/^\n+|\s+$/g, ''))
    .filter((s) => s.length > 0)
}

/** The single-line fields of a dpkg stanza (continuation lines of multi-line fields ignored). */
function fields(stanza: string, sep: RegExp): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of stanza.split('\n')) {
    const m = sep.exec(line)
    if (m && !out.has(m[1])) out.set(m[1], m[2].trim())
  }
  return out
}

/**
 * One dpkg stanza, when installed. The main status file lists removed and half-installed
 * packages too, so only "Status: install ok installed" counts there; distroless status.d files
 * hold installed packages, with or without a Status field.
 */
function dpkgEntry(stanza: string, source: string, requireStatus: boolean): InstalledPackage | undefined {
  const f = fields(stanza, /^([A-Za-z0-9-]+):[ \t]*(.*)$/)
  const name = f.get('Package')
  // A stanza without Version is malformed but still an installed package: counted, version ''.
  const version = f.get('Version') ?? ''
  if (!name) return undefined
  const status = f.get('Status')
  if (!(status === 'install ok installed' || (!requireStatus && status === undefined))) return undefined
  const origin = f.get('Source')?.replace(/\s*\(.*\)$/, '')
  return { manager: 'dpkg', name, version, architecture: f.get('Architecture'), origin: origin || undefined, source, stanza }
}

/** Files of a dpkg package from /var/lib/dpkg/info/NAME.list (NAME:ARCH.list for Multi-Arch: same). */
async function dpkgList(rootfs: RootFs, pkg: InstalledPackage): Promise<Pick<InstalledPackage, 'files' | 'filesSource'> | undefined> {
  for (const base of [`${pkg.name}:${pkg.architecture}`, pkg.name]) {
    const file = `${DPKG_INFO}/${base}.list`
    const text = await readText(rootfs, file)
    if (text === undefined) continue
    const files = text.split('\n').filter((l) => l.startsWith('/') && l !== '/.')
    return { files, filesSource: file }
  }
  return undefined
}

function md5sumPaths(text: string): string[] {
  const out: string[] = []
  for (const line of text.split('\n')) {
    const m = /^[0-9a-f]{32}\s+(.+)$/.exec(line)
    if (m) out.push(`/${m[1].replace(/^\.?\//, '')}`)
  }
  return out
}

/** One apk stanza: P: name, V: version, A: arch, o: origin; F: directory then R: files in it. */
function apkEntry(stanza: string, source: string): InstalledPackage | undefined {
  let name: string | undefined
  let version: string | undefined
  let arch: string | undefined
  let origin: string | undefined
  let dir = ''
  const files: string[] = []
  for (const line of stanza.split('\n')) {
    const key = line.slice(0, 2)
    const value = line.slice(2).trim()
    if (key === 'P:') name = value
    else if (key === 'V:') version = value
    else if (key === 'A:') arch = value
    else if (key === 'o:') origin = value
    else if (key === 'F:') {
      dir = value
      files.push(`/${dir}`)
    } else if (key === 'R:') files.push(dir ? `/${dir}/${value}` : `/${value}`)
  }
  if (!name) return undefined
  return { manager: 'apk', name, version: version ?? '', architecture: arch, origin, source, files, filesSource: source, stanza }
}
