/**
 * Debian packages as plain archives: download with `apt-get download` (the configured bookworm
 * mirror), list with `dpkg-deb -c`, unpack with `dpkg-deb -x`. No maintainer scripts ever run,
 * which is exactly how distroless assembles its images (it has no dpkg and no shell).
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { run } from './exec.js'

export function testCacheDir(): string {
  return process.env.SLIM_TEST_CACHE ?? '/var/tmp/slim-test-cache'
}

export interface DebFile {
  name: string
  version: string
  architecture: string
  /** Installed-Size from the control file, KiB. */
  installedSizeKiB: number
  path: string
}

export interface DebEntry {
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other'
  mode: string
  /** Absolute path inside the package ("/lib/x86_64-linux-gnu/libc.so.6"). */
  path: string
  linkTarget?: string
}

/** Candidate version of each package from the local apt lists (no network). */
export async function candidateVersions(names: string[]): Promise<Map<string, { version: string; architecture: string }>> {
  const { stdout } = await run('apt-cache', ['show', '--no-all-versions', ...names])
  const out = new Map<string, { version: string; architecture: string }>()
  for (const para of stdout.split(/\n\n+/)) {
    const f = parseControl(para)
    if (f.Package && f.Version && !out.has(f.Package)) out.set(f.Package, { version: f.Version, architecture: f.Architecture ?? 'amd64' })
  }
  const missing = names.filter((n) => !out.has(n))
  if (missing.length) throw new Error(`apt-cache has no candidate for ${missing.join(', ')}: run apt-get update`)
  return out
}

/** The architecture part of an already-downloaded `<name>_<version>_<arch>.deb`, if present. */
function findDeb(dir: string, name: string, version: string): string | undefined {
  return ['amd64', 'all'].find((arch) => existsSync(join(dir, debFileName(name, version, arch))))
}

/** The .deb file name apt uses: an epoch colon is URL-escaped. */
function debFileName(name: string, version: string, arch: string): string {
  return `${name}_${version.replace(/:/g, '%3a')}_${arch}.deb`
}

/** Downloads the candidate version of each package into `dir` unless it is already there.
 * With `pinned` (name -> version, e.g. what a cached build used) apt-cache is not asked at all
 * when every file is already present (apt-cache takes seconds on a busy machine). */
export async function downloadDebs(names: string[], dir: string, pinned?: ReadonlyMap<string, string>): Promise<DebFile[]> {
  mkdirSync(dir, { recursive: true })
  const fromPins = pinned && names.every((n) => pinned.has(n) && findDeb(dir, n, pinned.get(n)!))
  const versions = fromPins
    ? new Map(names.map((n) => [n, { version: pinned.get(n)!, architecture: findDeb(dir, n, pinned.get(n)!)! }]))
    : await candidateVersions(names)
  const wanted = names.map((name) => {
    const v = versions.get(name)!
    return { name, ...v, path: join(dir, debFileName(name, v.version, v.architecture)) }
  })
  const toFetch = wanted.filter((w) => !existsSync(w.path)).map((w) => `${w.name}=${w.version}`)
  if (toFetch.length) {
    // Sandbox::User=root: the cache dir is root's, so apt's _apt user could not write there.
    await run('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', ...toFetch], { cwd: dir })
  }
  return Promise.all(
    wanted.map(async (w) => {
      if (!existsSync(w.path)) throw new Error(`apt-get download did not produce ${w.path}`)
      const fields = await debFields(w.path)
      return { name: w.name, version: w.version, architecture: w.architecture, installedSizeKiB: Number(fields['Installed-Size'] ?? 0), path: w.path }
    }),
  )
}

/** Control fields of a .deb (`dpkg-deb -f`). */
export async function debFields(deb: string): Promise<Record<string, string>> {
  return parseControl((await run('dpkg-deb', ['-f', deb])).stdout)
}

export async function debControlText(deb: string): Promise<string> {
  return (await run('dpkg-deb', ['-f', deb])).stdout
}

/** The md5sums control member, as dpkg would keep it in info/<pkg>.md5sums. */
export async function debMd5sums(deb: string): Promise<string> {
  const { stdout } = await run('sh', ['-c', 'dpkg-deb --ctrl-tarfile "$1" | tar -xOf - ./md5sums 2>/dev/null || true', 'sh', deb])
  return stdout
}

/** deb822 paragraph -> fields (continuation lines joined with newlines). */
export function parseControl(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  let key: string | undefined
  for (const line of text.split('\n')) {
    if (/^\s/.test(line) && key) out[key] += '\n' + line
    else {
      const m = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line)
      if (m) {
        key = m[1]
        out[key] = m[2]
      }
    }
  }
  return out
}

/** The member list of a .deb's data archive, from `dpkg-deb -c` (tar -tv format). */
export async function debContents(deb: string): Promise<DebEntry[]> {
  const { stdout } = await run('dpkg-deb', ['-c', deb])
  return parseTarListing(stdout)
}

/** Parses `tar -tv` lines: "lrwxrwxrwx root/root 0 2026-04-27 12:00 ./lib64/x -> /lib/y". */
export function parseTarListing(text: string): DebEntry[] {
  const entries: DebEntry[] = []
  for (const line of text.split('\n')) {
    const m = /^(\S)(\S{9})\s+\S+\s+\d+\s+\S+\s+\S+\s+(.*)$/.exec(line)
    if (!m) continue
    const [, t, perm, rest] = m
    let name = rest
    let linkTarget: string | undefined
    const type = t === '-' ? 'file' : t === 'd' ? 'dir' : t === 'l' ? 'symlink' : t === 'h' ? 'hardlink' : 'other'
    if (type === 'symlink') [name, linkTarget] = splitOnce(rest, ' -> ')
    else if (t === 'h' || / link to /.test(rest)) [name, linkTarget] = splitOnce(rest, ' link to ')
    const path = '/' + name.replace(/^\.\//, '').replace(/\/$/, '')
    entries.push({ type, mode: perm, path: path === '/.' ? '/' : path, linkTarget })
  }
  return entries
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep)
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + sep.length)]
}

export async function extractDeb(deb: string, root: string): Promise<void> {
  mkdirSync(root, { recursive: true })
  await run('dpkg-deb', ['-x', deb, root])
}
