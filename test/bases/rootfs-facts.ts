/**
 * Reads, from an unpacked root filesystem, the same facts the catalogue states about a base, so
 * tests can compare the catalogue with real images. Independent of the catalogue's derivation
 * (which lists packages with dpkg-deb): this walks the tree and asks readelf.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs'
import { join, posix } from 'node:path'
import { highestVersion } from '../../src/advise/catalogue/versions.js'
import type { BaseGroup, BaseUser } from '../../src/advise/catalogue/types.js'
import { run } from './exec.js'

/** ld.so's default directories on Debian amd64 (`ld.so --help`) and musl's built-in path. */
export const GLIBC_SEARCH_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib', '/usr/lib']
export const MUSL_SEARCH_DIRS = ['/lib', '/usr/local/lib', '/usr/lib']
export const AMD64_INTERPRETERS = ['/lib64/ld-linux-x86-64.so.2', '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', '/lib/ld-musl-x86_64.so.1']
const SHARED_OBJECT = /\.so(\.\d+)*$/

export interface RootfsFacts {
  sonames: string[]
  modules: string[]
  /** Every version name libc.so.6 defines (readelf -V), when there is a glibc. */
  glibcVersions: string[]
  glibcCeiling?: string
  glibcxxCeiling?: string
  cxxabiCeiling?: string
  muslVersion?: string
  caBundle?: string
  tzdata: boolean
  users: BaseUser[]
  groups: BaseGroup[]
  shell?: string
  tmp: boolean
  nsswitch: boolean
  ldSoCache: boolean
  interpretersAmd64: string[]
}

/** Resolves `path` inside `root` (absolute link targets stay inside), or undefined when missing. */
export function resolveIn(root: string, path: string): string | undefined {
  let parts = path.split('/').filter(Boolean)
  const done: string[] = []
  for (let hops = 0; parts.length; ) {
    const part = parts.shift()!
    if (part === '.') continue
    if (part === '..') {
      done.pop()
      continue
    }
    const host = join(root, ...done, part)
    let st
    try {
      st = lstatSync(host)
    } catch {
      return undefined
    }
    if (st.isSymbolicLink()) {
      if (++hops > 40) return undefined
      const target = readlinkSync(host)
      if (target.startsWith('/')) done.length = 0
      parts = [...target.split('/').filter(Boolean), ...parts]
      continue
    }
    done.push(part)
  }
  return '/' + done.join('/')
}

function listSharedObjects(root: string): string[] {
  const out: string[] = []
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const p = posix.join(rel, e.name)
      if (e.isDirectory()) walk(p)
      else if ((e.isFile() || e.isSymbolicLink()) && SHARED_OBJECT.test(e.name)) out.push(p)
    }
  }
  walk('/')
  return out.sort()
}

/** Version names a shared object defines (its .gnu.version_d), via readelf. */
export async function definedVersions(file: string): Promise<string[]> {
  const { stdout } = await run('readelf', ['-V', '--wide', file])
  const def = stdout.split(/Version needs section/)[0]
  const names = new Set<string>()
  // The BASE entry carries the library's own soname, not a version: skip it.
  for (const m of def.matchAll(/Flags: (\S+)\s+Index: \d+\s+Cnt: \d+\s+Name: (\S+)/g)) if (m[1] !== 'BASE') names.add(m[2])
  return [...names]
}

function readAccounts(root: string): { users: BaseUser[]; groups: BaseGroup[] } {
  const read = (p: string): string[] => {
    const real = resolveIn(root, p)
    return real && existsSync(join(root, real)) ? readFileSync(join(root, real), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')) : []
  }
  const users = read('/etc/passwd').map((l) => {
    const [name, , uid, gid, , home, shell] = l.split(':')
    return { name, uid: Number(uid), gid: Number(gid), home, shell }
  })
  const groups = read('/etc/group').map((l) => {
    const [name, , gid] = l.split(':')
    return { name, gid: Number(gid) }
  })
  return { users, groups }
}

export async function rootfsFacts(root: string): Promise<RootfsFacts> {
  const interpretersAmd64 = AMD64_INTERPRETERS.filter((p) => {
    const real = resolveIn(root, p)
    return real !== undefined && statSync(join(root, real)).isFile()
  })
  const musl = interpretersAmd64.some((p) => p.includes('musl'))
  const searchDirs = musl ? MUSL_SEARCH_DIRS : GLIBC_SEARCH_DIRS
  const sonames = new Set<string>()
  const modules: string[] = []
  for (const p of listSharedObjects(root)) {
    if (searchDirs.includes(posix.dirname(p))) sonames.add(posix.basename(p))
    else if (!AMD64_INTERPRETERS.includes(p)) modules.push(p) // a loader outside the search dirs is only a PT_INTERP target
  }
  const facts: RootfsFacts = {
    sonames: [...sonames].sort(),
    modules,
    glibcVersions: [],
    tzdata: existsSync(join(root, 'usr/share/zoneinfo')),
    ...readAccounts(root),
    tmp: existsSync(join(root, 'tmp')) && (lstatSync(join(root, 'tmp')).mode & 0o1777) === 0o1777,
    nsswitch: existsSync(join(root, 'etc/nsswitch.conf')),
    ldSoCache: existsSync(join(root, 'etc/ld.so.cache')),
    interpretersAmd64,
  }
  const shell = resolveIn(root, '/bin/sh')
  if (shell && existsSync(join(root, shell))) facts.shell = '/bin/sh'
  for (const ca of ['/etc/ssl/certs/ca-certificates.crt', '/etc/ssl/cert.pem']) {
    const real = resolveIn(root, ca)
    if (real && existsSync(join(root, real)) && statSync(join(root, real)).size > 0) {
      facts.caBundle = ca
      break
    }
  }
  const libc = GLIBC_SEARCH_DIRS.map((d) => resolveIn(root, `${d}/libc.so.6`)).find((p) => p !== undefined)
  if (libc) {
    facts.glibcVersions = await definedVersions(join(root, libc))
    facts.glibcCeiling = highestVersion(facts.glibcVersions, 'GLIBC')
  }
  const stdcxx = GLIBC_SEARCH_DIRS.map((d) => resolveIn(root, `${d}/libstdc++.so.6`)).find((p) => p !== undefined)
  if (stdcxx) {
    const v = await definedVersions(join(root, stdcxx))
    facts.glibcxxCeiling = highestVersion(v, 'GLIBCXX')
    facts.cxxabiCeiling = highestVersion(v, 'CXXABI')
  }
  const apkDb = join(root, 'lib/apk/db/installed')
  if (existsSync(apkDb)) {
    const m = /^P:musl\nV:(\S+)/m.exec(readFileSync(apkDb, 'utf8'))
    if (m) facts.muslVersion = m[1]
  }
  return facts
}
