/**
 * Facts an auditor wants from an image's final filesystem: OS release, package manager and package
 * count, shells, setuid/setgid files, world-writable paths, device nodes, and files that look like
 * secrets BY NAME (their contents are never read). Package databases and os-release come from the
 * copies kept during the index pass, so collecting facts re-reads no layer.
 */
import { DPKG_STATUS, DPKG_STATUS_D, OS_RELEASE_FILES, RPM_OTHER, RPM_SQLITE } from './facts-files.js'
import type { LayerIndex } from './layer-index.js'
import { packageIndex } from './packages.js'
import { SHELL_NAMES } from './shells.js'
import { countSqliteRows } from './sqlite-count.js'
import { Kind } from './tree.js'

export interface OsRelease {
  id?: string
  versionId?: string
  prettyName?: string
  /** The file it was read from (after symlinks). */
  source: string
}

export interface PackageDb {
  manager: 'dpkg' | 'apk' | 'rpm'
  /** Database path(s) found. */
  database: string
  /** Installed packages; undefined when the database format is not read by slim. */
  count?: number
  note?: string
}

export interface Shell {
  path: string
  /** Where it really is (symlinks followed), when different. */
  target?: string
}

export interface SecretFile {
  path: string
  why: string
}

export interface ImageFacts {
  os?: OsRelease
  packages: PackageDb[]
  shells: Shell[]
  setuid: string[]
  setgid: string[]
  /** Files and directories anyone may write (sticky directories such as /tmp excluded). */
  worldWritable: Array<{ path: string; type: string }>
  devices: Array<{ path: string; type: 'char' | 'block' }>
  secrets: SecretFile[]
}

const SHELL_DIRS = ['/bin', '/usr/bin', '/usr/local/bin', '/sbin', '/usr/sbin']

export async function collectFacts(index: LayerIndex): Promise<ImageFacts> {
  const facts: ImageFacts = {
    os: await osRelease(index),
    packages: await packageDbs(index),
    shells: shells(index),
    setuid: [],
    setgid: [],
    worldWritable: [],
    devices: [],
    secrets: [],
  }
  const t = index.tree
  for (const [node, path] of index.walk()) {
    const kind = t.kind(node)
    const mode = t.mode(node)
    const isFile = t.kind(t.content(node)) === Kind.File
    if (isFile && mode & 0o4000) facts.setuid.push(`/${path}`)
    if (isFile && mode & 0o2000) facts.setgid.push(`/${path}`)
    if ((isFile || kind === Kind.Dir) && mode & 0o002 && !(kind === Kind.Dir && mode & 0o1000)) {
      facts.worldWritable.push({ path: `/${path}`, type: kind === Kind.Dir ? 'dir' : 'file' })
    }
    if (kind === Kind.Char || kind === Kind.Block) facts.devices.push({ path: `/${path}`, type: kind === Kind.Char ? 'char' : 'block' })
    if (kind !== Kind.Dir && kind !== Kind.Symlink) {
      const why = secretByName(path)
      if (why) facts.secrets.push({ path: `/${path}`, why })
    }
  }
  return facts
}

async function readSmall(index: LayerIndex, path: string): Promise<Buffer | undefined> {
  const st = index.stat(path)
  if (!st || (st.type !== 'file' && st.type !== 'hardlink')) return undefined
  try {
    return await index.readFile(path, { maxBytes: 64 * 1024 * 1024 })
  } catch {
    return undefined
  }
}

async function osRelease(index: LayerIndex): Promise<OsRelease | undefined> {
  for (const file of OS_RELEASE_FILES) {
    const data = await readSmall(index, file)
    if (!data) continue
    const kv = parseOsRelease(data.toString('utf8'))
    return { id: kv.ID, versionId: kv.VERSION_ID, prettyName: kv.PRETTY_NAME, source: index.realpath(file)?.path ?? file }
  }
  return undefined
}

/** os-release(5): KEY=value lines, values optionally quoted with shell-style escapes. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*?)\s*$/.exec(line)
    if (!m) continue
    let v = m[2]
    const q = v[0]
    if ((q === '"' || q === "'") && v.endsWith(q) && v.length >= 2) {
      v = v.slice(1, -1)
      if (q === '"') v = v.replace(/\\([\\$"`])/g, '$1')
    }
    out[m[1]] = v
  }
  return out
}

async function packageDbs(index: LayerIndex): Promise<PackageDb[]> {
  const out: PackageDb[] = []

  const pkgs = await packageIndex(index)
  for (const db of pkgs.databases) {
    const count = pkgs.packages.filter((p) => p.manager === db.manager).length
    if (db.manager === 'apk') {
      out.push({ manager: 'apk', database: db.paths[0], count })
      continue
    }
    const statusD = db.paths.filter((p) => p.startsWith(`${DPKG_STATUS_D}/`)).length
    const names = [db.paths.includes(DPKG_STATUS) ? DPKG_STATUS : undefined, statusD > 0 ? `${DPKG_STATUS_D}/ (${statusD} files)` : undefined]
    out.push({ manager: 'dpkg', database: names.filter(Boolean).join(', '), count })
  }

  let rpm: PackageDb | undefined
  for (const file of RPM_SQLITE) {
    const data = await readSmall(index, file)
    if (!data) continue
    const count = countSqliteRows(data, 'Packages')
    rpm = { manager: 'rpm', database: index.realpath(file)?.path ?? file, count }
    if (count === undefined) rpm.note = 'the SQLite database could not be read; package count unknown'
    break
  }
  if (!rpm) {
    const other = RPM_OTHER.find((f) => index.stat(f)?.type === 'file')
    if (other) {
      rpm = {
        manager: 'rpm',
        database: index.realpath(other)?.path ?? other,
        note: 'Berkeley DB / NDB rpm databases are not read by slim; package count unknown',
      }
    }
  }
  if (rpm) out.push(rpm)
  return out
}

function shells(index: LayerIndex): Shell[] {
  const out: Shell[] = []
  // /bin is often a link to /usr/bin: list each real directory once.
  const dirsSeen = new Set<string>()
  for (const dir of SHELL_DIRS) {
    const realDir = index.realpath(dir)?.path
    if (!realDir || dirsSeen.has(realDir)) continue
    dirsSeen.add(realDir)
    // busybox counts as a shell here: an image with it has one, whatever its applet links are.
    for (const name of [...SHELL_NAMES, 'busybox']) {
      const path = `${dir}/${name}`
      const l = index.lstat(path)
      if (!l) continue
      const st = index.stat(path)
      if (!st || (st.type !== 'file' && st.type !== 'hardlink')) continue
      const real = index.realpath(path)?.path
      out.push(real && real !== path ? { path, target: real } : { path })
    }
  }
  return out
}

/** File names that usually hold credentials or private keys. Judged by name only. */
const SECRET_NAMES: Record<string, string> = {
  id_rsa: 'SSH private key',
  id_dsa: 'SSH private key',
  id_ecdsa: 'SSH private key',
  id_ed25519: 'SSH private key',
  '.env': 'environment file (often holds secrets)',
  'credentials.json': 'credentials file',
  'application_default_credentials.json': 'Google Cloud credentials',
  '.npmrc': 'npm config (may hold a registry token)',
  '.pypirc': 'PyPI config (may hold a password)',
  '.netrc': 'netrc (holds passwords)',
  '.pgpass': 'PostgreSQL password file',
  '.git-credentials': 'git credentials',
  '.htpasswd': 'htpasswd file (password hashes)',
  kubeconfig: 'Kubernetes config (may hold credentials)',
}
const SECRET_PATHS: Array<[RegExp, string]> = [
  [/(^|\/)\.aws\/credentials$/, 'AWS credentials'],
  [/(^|\/)\.docker\/config\.json$/, 'Docker config (may hold registry credentials)'],
  [/(^|\/)\.kube\/config$/, 'Kubernetes config (may hold credentials)'],
  [/(^|\/)\.ssh\/[^/]*_key$/, 'SSH private key'],
  [/(^|\/)etc\/ssh\/ssh_host_[^/]*_key$/, 'SSH host private key (every container of the image shares it)'],
  [/(^|\/)\.config\/gcloud\/credentials\.db$/, 'Google Cloud credentials'],
]
const SECRET_EXT: Array<[RegExp, string]> = [
  [/\.(key)$/i, 'private key file'],
  [/\.(p12|pfx)$/i, 'PKCS#12 key store'],
  [/\.(jks|keystore)$/i, 'Java key store'],
  [/(private|priv|key)[^/]*\.pem$/i, 'PEM file named like a private key'],
  // .env.production and the like; .env.example and other templates hold no values.
  [/^\.env\.(?!(example|sample|template|dist)$)[^/]+$/, 'environment file (often holds secrets)'],
]

/**
 * The base names SECRET_PATHS can match (each of its patterns ends in one of these, or in `_key`),
 * and the extensions (lower case) SECRET_EXT can match besides `.env.*`. They let secretByName
 * skip the patterns for nearly every file: on a layer of a million files, running every pattern
 * against every path cost more than the rest of the facts together.
 */
const SECRET_PATH_BASES = new Set(['credentials', 'config.json', 'config', 'credentials.db'])
const SECRET_EXTENSIONS = new Set(['key', 'p12', 'pfx', 'jks', 'keystore', 'pem'])
const LONGEST_SECRET_EXTENSION = 8

/** Why a path looks like a secret by its name, or undefined. `path` has no leading slash. */
export function secretByName(path: string): string | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1)
  const byName = Object.hasOwn(SECRET_NAMES, base) ? SECRET_NAMES[base] : undefined
  if (byName) return byName
  if (SECRET_PATH_BASES.has(base) || base.endsWith('_key')) {
    for (const [re, why] of SECRET_PATHS) if (re.test(path)) return why
  }
  if (base.startsWith('.env.') || hasSecretExtension(base)) {
    for (const [re, why] of SECRET_EXT) if (re.test(base)) return why
  }
  return undefined
}

function hasSecretExtension(base: string): boolean {
  const dot = base.lastIndexOf('.')
  return dot >= 0 && base.length - dot - 1 <= LONGEST_SECRET_EXTENSION && SECRET_EXTENSIONS.has(base.slice(dot + 1).toLowerCase())
}
