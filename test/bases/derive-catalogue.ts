/**
 * Derives the catalogue's Debian 12 facts from the real Debian packages and writes them into
 * src/advise/catalogue/bases.json, so the data is reproducible rather than copied from notes:
 *
 *   npx tsx test/bases/derive-catalogue.ts            # print what would change
 *   npx tsx test/bases/derive-catalogue.ts --write    # update bases.json
 *     --foreign   also read libc6 for arm64/armhf/ppc64el/s390x/i386 (loader paths per arch),
 *                 through a private apt state dir in the test cache (the host's apt is untouched)
 *     --slim      also build a bookworm minbase with mmdebstrap for debian:12-slim's sonames/users
 *
 * What it derives, per distroless -debian12 base (static, base-nossl, base, cc):
 *   sonames/modules  `dpkg-deb -c` of every package in the base, .so names split into those in
 *                    ld.so's default directories and those elsewhere (gconv, OpenSSL engines)
 *   interpreters     the ld-linux paths libc6 ships, per architecture
 *   glibc/glibcxx    `readelf -V` of libc.so.6 / libstdc++.so.6 unpacked from the packages
 *   packages, sizes  the package versions, and the layer/rootfs bytes of the bases test/bases builds
 *   runtime sizes    the layer/rootfs bytes of the retired runtime images' equivalents (runtimes.ts)
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringifyCatalogue } from '../../src/advise/catalogue/load.js'
import type { Arch, Base, BasePackage, CatalogueFile, FactCheck, FactKey } from '../../src/advise/catalogue/types.js'
import { baseProblems } from '../../src/advise/catalogue/validate.js'
import { highestVersion } from '../../src/advise/catalogue/versions.js'
import { ALPINE_CORPUS_IMAGES, DEBIAN12_BASES, ensureBases, packagesOf, type Debian12BaseName } from './build.js'
import { debContents, downloadDebs, extractDeb, testCacheDir, type DebEntry, type DebFile } from './debs.js'
import { run } from './exec.js'
import { definedVersions, GLIBC_SEARCH_DIRS, rootfsFacts } from './rootfs-facts.js'
import { RUNTIME_BASES, ensureRuntimeBase } from './runtimes.js'

export const CATALOGUE_JSON = fileURLToPath(new URL('../../src/advise/catalogue/bases.json', import.meta.url))
const SHARED_OBJECT = /\.so(\.\d+)*$/
const LOADER = /^ld(-linux)?[-.a-z0-9_]*\.so\.\d+$/

export interface Derived {
  packages: BasePackage[]
  sonames: string[]
  modules: string[]
  interpretersAmd64: string[]
  libc?: { version: string; package: string }
  glibcCeiling?: string
  glibcExtraVersions: string[]
  glibcxxCeiling?: string
  cxxabiCeiling?: string
  openssl?: string
  tzdata: boolean
  installedSizeKiB: number
}

/** Splits a package's .so entries into search-path names, modules and loader paths. */
export function classifySharedObjects(entries: DebEntry[], searchDirs = GLIBC_SEARCH_DIRS): { sonames: string[]; modules: string[]; loaders: string[] } {
  const sonames = new Set<string>()
  const modules: string[] = []
  const loaders: string[] = []
  for (const e of entries) {
    if (e.type !== 'file' && e.type !== 'symlink') continue
    const name = posix.basename(e.path)
    if (!SHARED_OBJECT.test(name)) continue
    const inSearch = searchDirs.includes(posix.dirname(e.path))
    if (LOADER.test(name)) loaders.push(e.path)
    if (inSearch) sonames.add(name)
    else if (!LOADER.test(name)) modules.push(e.path)
  }
  return { sonames: [...sonames].sort(), modules: modules.sort(), loaders: loaders.sort() }
}

const upstream = (debVersion: string): string => debVersion.replace(/^\d+:/, '').replace(/-[^-]*$/, '')

/** Facts of every distroless -debian12 base, from the packages it is made of: the current
 * candidates, or exactly `pinned` versions (e.g. those a cached test-base build used). */
export async function deriveDebian12(pinned?: BasePackage[]): Promise<Record<Debian12BaseName, Derived>> {
  const cache = testCacheDir()
  const all = [...new Set(DEBIAN12_BASES.flatMap((b) => packagesOf(b)))]
  const pins = pinned && new Map(pinned.map((p) => [p.name, p.version]))
  const debs = new Map((await downloadDebs(all, join(cache, 'debs'), pins)).map((d) => [d.name, d]))
  const listings = new Map<string, DebEntry[]>(await Promise.all([...debs].map(async ([name, deb]) => [name, await debContents(deb.path)] as const)))

  const unpacked = join(cache, 'derive-unpacked')
  rmSync(unpacked, { recursive: true, force: true })
  await extractDeb(debs.get('libc6')!.path, join(unpacked, 'libc6'))
  await extractDeb(debs.get('libstdc++6')!.path, join(unpacked, 'libstdc++6'))
  const glibcDefs = await definedVersions(join(unpacked, 'libc6/lib/x86_64-linux-gnu/libc.so.6'))
  const cxxDefs = await definedVersions(join(unpacked, 'libstdc++6/usr/lib/x86_64-linux-gnu/libstdc++.so.6'))
  rmSync(unpacked, { recursive: true, force: true })

  const out = {} as Record<Debian12BaseName, Derived>
  for (const base of DEBIAN12_BASES) {
    const pkgs = packagesOf(base)
    // ca-certificates contributes only the generated bundle (see build.ts), never a .so.
    const entries = pkgs.flatMap((p) => listings.get(p)!)
    const { sonames, modules, loaders } = classifySharedObjects(entries)
    const has = (p: string): boolean => pkgs.includes(p)
    out[base] = {
      packages: pkgs.map((p) => ({ name: p, version: debs.get(p)!.version })),
      sonames,
      modules,
      interpretersAmd64: loaders.filter((l) => l.includes('x86-64')).sort((a, b) => (a.startsWith('/lib64') ? -1 : b.startsWith('/lib64') ? 1 : a.localeCompare(b))),
      libc: has('libc6') ? { version: upstream(debs.get('libc6')!.version), package: debs.get('libc6')!.version } : undefined,
      glibcCeiling: has('libc6') ? highestVersion(glibcDefs, 'GLIBC') : undefined,
      glibcExtraVersions: has('libc6') ? glibcDefs.filter((v) => v.startsWith('GLIBC_') && !/^GLIBC_\d/.test(v)).sort() : [],
      glibcxxCeiling: has('libstdc++6') ? highestVersion(cxxDefs, 'GLIBCXX') : undefined,
      cxxabiCeiling: has('libstdc++6') ? highestVersion(cxxDefs, 'CXXABI') : undefined,
      openssl: has('libssl3') ? upstream(debs.get('libssl3')!.version) : undefined,
      tzdata: entries.some((e) => e.path === '/usr/share/zoneinfo'),
      installedSizeKiB: pkgs.reduce((n, p) => n + debs.get(p)!.installedSizeKiB, 0),
    }
  }
  return out
}

/** Debian architecture -> OCI platform, for the architectures distroless -debian12 (and debian:12) ship. */
const FOREIGN: Record<string, Arch> = { arm64: 'arm64', armhf: 'arm/v7', ppc64el: 'ppc64le', s390x: 's390x', i386: '386' }

/** libc6's loader paths for other architectures, read from the foreign .debs (nothing installed). */
export async function deriveForeignLoaders(): Promise<{ loaders: Partial<Record<Arch, string[]>>; debs: DebFile[] }> {
  const dir = join(testCacheDir(), 'apt-foreign')
  mkdirSync(join(dir, 'lists/partial'), { recursive: true })
  mkdirSync(join(dir, 'cache/archives/partial'), { recursive: true })
  writeFileSync(join(dir, 'sources.list'), 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main\n')
  const opts = [
    '-o', `Dir::State::Lists=${dir}/lists`, '-o', `Dir::Cache=${dir}/cache`,
    '-o', `Dir::Etc::SourceList=${dir}/sources.list`, '-o', 'Dir::Etc::SourceParts=/nonexistent',
    '-o', 'APT::Architecture=amd64', ...Object.keys(FOREIGN).flatMap((a) => ['-o', `APT::Architectures::=${a}`]),
    '-o', 'Acquire::Languages=none', '-o', 'APT::Sandbox::User=root',
  ]
  if (!existsSync(join(dir, 'updated'))) {
    await run('apt-get', [...opts, '-q', 'update'])
    writeFileSync(join(dir, 'updated'), new Date().toISOString())
  }
  mkdirSync(join(dir, 'debs'), { recursive: true })
  await run('apt-get', [...opts, '-q', 'download', ...Object.keys(FOREIGN).map((a) => `libc6:${a}`)], { cwd: join(dir, 'debs') })
  const loaders: Partial<Record<Arch, string[]>> = {}
  const debs: DebFile[] = []
  for (const [debArch, arch] of Object.entries(FOREIGN)) {
    const { stdout } = await run('sh', ['-c', `ls "$1"/libc6_*_${debArch}.deb | sort | tail -1`, 'sh', join(dir, 'debs')])
    const path = stdout.trim()
    const version = /libc6_(.+)_[a-z0-9]+\.deb$/.exec(path)![1].replace(/%3a/g, ':')
    debs.push({ name: `libc6:${debArch}`, version, architecture: debArch, installedSizeKiB: 0, path })
    const { loaders: l } = classifySharedObjects(await debContents(path))
    // Short, conventional path first (/lib/ld-linux-aarch64.so.1), then the multiarch file.
    loaders[arch] = l.sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b))
  }
  return { loaders, debs }
}

export interface SlimFacts {
  sonames: string[]
  modules: string[]
  users: { name: string; uid: number; gid: number; home: string; shell?: string }[]
  groups: { name: string; gid: number }[]
  tzdata: boolean
  caBundle: boolean
  shell: boolean
  uncompressed: number
  packages: number
}

/** debian:12-slim's library set and accounts, from a bookworm minbase built by mmdebstrap. */
export async function deriveDebian12Slim(): Promise<SlimFacts> {
  const tarFile = join(testCacheDir(), 'debian12-minbase.tar')
  if (!existsSync(tarFile)) {
    await run('mmdebstrap', ['--quiet', '--mode=root', '--variant=minbase', '--format=tar', 'bookworm', `${tarFile}.part`, '/etc/apt/sources.list.d/debian.sources'])
    await run('mv', [`${tarFile}.part`, tarFile])
  }
  const { stdout } = await run('tar', ['-tvf', tarFile], { maxBuffer: 256 * 1024 * 1024 })
  const { parseTarListing } = await import('./debs.js')
  const entries = parseTarListing(stdout)
  const file = async (p: string): Promise<string> => (await run('tar', ['-xOf', tarFile, `.${p}`])).stdout
  const accounts = (text: string): string[][] => text.split('\n').filter(Boolean).map((l) => l.split(':'))
  const status = await file('/var/lib/dpkg/status')
  return {
    sonames: classifySharedObjects(entries).sonames,
    modules: classifySharedObjects(entries).modules,
    users: accounts(await file('/etc/passwd')).map(([name, , uid, gid, , home, shell]) => ({ name, uid: +uid, gid: +gid, home, shell })),
    groups: accounts(await file('/etc/group')).map(([name, , gid]) => ({ name, gid: +gid })),
    tzdata: entries.some((e) => e.path === '/usr/share/zoneinfo'),
    caBundle: entries.some((e) => e.path === '/etc/ssl/certs/ca-certificates.crt'),
    shell: entries.some((e) => e.path === '/bin/sh' || e.path === '/usr/bin/sh'),
    uncompressed: readFileSync(tarFile).length,
    packages: (status.match(/^Package: /gm) ?? []).length,
  }
}

function setCheck(base: Base, fact: FactKey, status: FactCheck['status'], how: string): void {
  base.checks = base.checks.filter((c) => c.fact !== fact)
  base.checks.push({ fact, status, how })
  base.checks.sort((a, b) => a.fact.localeCompare(b.fact))
}

const pkgList = (pkgs: BasePackage[]): string => pkgs.map((p) => `${p.name} ${p.version}`).join(', ')

/** Writes the derived facts into the catalogue entries (hand-written fields are left alone). */
export async function applyDerived(cat: CatalogueFile, opts: { foreign: boolean; slim: boolean }): Promise<void> {
  const derived = await deriveDebian12()
  const built = await ensureBases()
  const foreign = opts.foreign ? await deriveForeignLoaders() : undefined
  const today = new Date().toISOString().slice(0, 10)
  for (const name of DEBIAN12_BASES) {
    const base = cat.bases.find((b) => b.name === name)
    if (!base) throw new Error(`bases.json has no ${name}`)
    const d = derived[name]
    const p = base.provides
    base.packages = d.packages
    p.sonames = d.sonames
    p.modules = d.modules
    p.tzdata = d.tzdata
    const via = `dpkg-deb -c of ${pkgList(d.packages)} (bookworm mirror, ${today})`
    setCheck(base, 'packages', 'verified', `apt-get download of the bookworm candidates on ${today} (distroless's own lock may pin older point releases)`)
    setCheck(base, 'provides.sonames', 'verified', `${via}: file names in ${GLIBC_SEARCH_DIRS.join(', ')}; amd64 (other arches ship the same libc6 names except libmvec.so.1, amd64-only)`)
    setCheck(base, 'provides.modules', 'verified', `${via}: .so files outside the loader's search dirs`)
    setCheck(base, 'provides.tzdata', 'verified', `${via}: /usr/share/zoneinfo ${d.tzdata ? 'present' : 'absent'}`)
    if (d.libc) {
      p.libc = { flavour: 'glibc', version: d.libc.version, package: d.libc.package }
      p.glibcCeiling = d.glibcCeiling
      p.glibcExtraVersions = d.glibcExtraVersions
      p.interpreters = { ...p.interpreters, amd64: d.interpretersAmd64 }
      if (foreign) for (const [arch, loaders] of Object.entries(foreign.loaders)) if (base.architectures.includes(arch as Arch)) p.interpreters[arch as Arch] = loaders
      setCheck(base, 'provides.libc', 'verified', `libc6 ${d.libc.package} from the bookworm mirror`)
      setCheck(base, 'provides.glibcCeiling', 'verified', `readelf -V of libc.so.6 unpacked from libc6 ${d.libc.package}: highest GLIBC_2.N defined; non-numeric: ${d.glibcExtraVersions.join(', ')}`)
      if (foreign) {
        setCheck(base, 'provides.interpreters', 'verified', `dpkg-deb -c of libc6 for amd64 and ${foreign.debs.map((f) => `${f.architecture} ${f.version}`).join(', ')} (private apt lists, bookworm main, ${today})`)
      }
    }
    if (d.glibcxxCeiling) {
      p.glibcxxCeiling = d.glibcxxCeiling
      p.cxxabiCeiling = d.cxxabiCeiling
      const v = d.packages.find((x) => x.name === 'libstdc++6')!.version
      setCheck(base, 'provides.glibcxxCeiling', 'verified', `readelf -V of libstdc++.so.6 unpacked from libstdc++6 ${v}: highest GLIBCXX_3.4.N / CXXABI_1.3.N defined`)
    }
    if (d.openssl) {
      p.openssl = d.openssl
      setCheck(base, 'provides.openssl', 'verified', `libssl3 ${d.packages.find((x) => x.name === 'libssl3')!.version} on the bookworm mirror (distroless lock at cd080764 pinned 3.0.20)`)
    }
    const size = built.sizes[name]
    base.size = {
      compressed: size.compressed,
      uncompressed: size.uncompressed,
      basis: `measured on the equivalent test/bases builds from the same packages (one gzip layer by umoci; sum of file sizes); Installed-Size sum ${d.installedSizeKiB} KiB`,
    }
    setCheck(base, 'size', 'verified', 'measured on a rebuild from the same Debian packages, not on the published image (layering and gzip level differ slightly)')
  }
  for (const name of Object.keys(ALPINE_CORPUS_IMAGES)) {
    const base = cat.bases.find((b) => b.name === name)
    if (!base) throw new Error(`bases.json has no ${name}`)
    const f = await rootfsFacts(built.rootfs[name])
    if (!f.muslVersion) throw new Error(`${name}: no musl in lib/apk/db/installed`)
    Object.assign(base.provides, {
      libc: { flavour: 'musl', version: upstream(f.muslVersion), package: f.muslVersion },
      sonames: f.sonames,
      modules: f.modules,
      users: f.users,
      groups: f.groups,
      tzdata: f.tzdata,
      tmp: f.tmp,
      nsswitch: f.nsswitch,
      caBundle: f.caBundle,
    })
    if (f.shell) base.provides.shell = f.shell
    const how = `read from the real ${name} image (corpus ${posix.basename(ALPINE_CORPUS_IMAGES[name as keyof typeof ALPINE_CORPUS_IMAGES])}, amd64), unpacked by test/bases`
    setCheck(base, 'provides.sonames', 'verified', `${how}: .so names in /lib, /usr/local/lib, /usr/lib`)
    setCheck(base, 'provides.modules', 'verified', `${how}: .so files elsewhere`)
    setCheck(base, 'provides.libc', 'verified', `${how}: musl ${f.muslVersion} in lib/apk/db/installed`)
    setCheck(base, 'provides.users', 'verified', `${how}: /etc/passwd and /etc/group`)
    setCheck(base, 'provides.caBundle', 'verified', `${how}: ${f.caBundle ?? 'no CA bundle'} (/etc/ssl/certs/ca-certificates.crt ${f.caBundle === '/etc/ssl/certs/ca-certificates.crt' ? 'present' : 'absent'})`)
    setCheck(base, 'provides.nsswitch', 'verified', `${how}: /etc/nsswitch.conf ${f.nsswitch ? 'present' : 'absent'}`)
    setCheck(base, 'provides.tzdata', 'verified', `${how}: /usr/share/zoneinfo ${f.tzdata ? 'present' : 'absent'}`)
    setCheck(base, 'size', 'verified', `${how}: layer blob bytes and the sum of file sizes`)
    base.size = { ...built.sizes[name], basis: 'measured on the real image from the corpus (layer blob; sum of file sizes)' }
  }
  for (const name of RUNTIME_BASES) {
    const base = cat.bases.find((b) => b.name === name)
    if (!base) throw new Error(`bases.json has no ${name}`)
    const rt = await ensureRuntimeBase(name)
    const added = rt.packages.filter((p) => !built.packages[base.buildsOn!]?.some((q) => q.name === p.name))
    const runtimePkg = added.find((p) => /^(openjdk-\d+-jre-headless|python3\.\d+-minimal)$/.test(p.name))
    base.size = {
      compressed: rt.size.compressed,
      uncompressed: rt.size.uncompressed,
      basis: `measured on the equivalent test/bases/runtimes.ts build (${base.buildsOn} + ${added.length} packages of distroless's recipe${runtimePkg ? `, ${runtimePkg.name} ${runtimePkg.version}` : ''}; one gzip layer by umoci; sum of file sizes)`,
    }
    setCheck(base, 'size', 'verified', `measured on a rebuild from today's Debian 12 packages (${today}), not on the retired published image, whose last build had older point releases`)
  }
  if (opts.slim) {
    const base = cat.bases.find((b) => b.name === 'debian:12-slim')
    if (!base) throw new Error('bases.json has no debian:12-slim')
    const s = await deriveDebian12Slim()
    const libc = derived['distroless/base-nossl-debian12']
    Object.assign(base.provides, {
      sonames: s.sonames,
      modules: s.modules,
      users: s.users,
      groups: s.groups,
      tzdata: s.tzdata,
      libc: { flavour: 'glibc', version: libc.libc!.version, package: libc.libc!.package },
      glibcCeiling: libc.glibcCeiling,
      glibcExtraVersions: libc.glibcExtraVersions,
    })
    if (!s.caBundle) delete base.provides.caBundle
    base.size = { ...base.size, uncompressed: s.uncompressed, basis: 'compressed: RI-debian; uncompressed: tar of a bookworm minbase built here (slim drops docs, so a little smaller)' }
    base.provides.interpreters = { ...base.provides.interpreters, amd64: libc.interpretersAmd64 }
    if (foreign) for (const [arch, loaders] of Object.entries(foreign.loaders)) if (base.architectures.includes(arch as Arch)) base.provides.interpreters[arch as Arch] = loaders
    const how = `mmdebstrap --variant=minbase bookworm (${s.packages} packages, ${today}); debian:12-slim is minbase with docs/man/locales excluded`
    setCheck(base, 'provides.sonames', 'verified', `${how}: file names in ${GLIBC_SEARCH_DIRS.join(', ')}`)
    setCheck(base, 'provides.modules', 'verified', `${how}: .so files outside those directories`)
    setCheck(base, 'provides.users', 'verified', `${how}: /etc/passwd and /etc/group`)
    setCheck(base, 'provides.tzdata', 'verified', `${how}: /usr/share/zoneinfo ${s.tzdata ? 'present' : 'absent'}`)
    setCheck(base, 'provides.caBundle', 'verified', `${how}: ${s.caBundle ? 'has' : 'no'} /etc/ssl/certs/ca-certificates.crt`)
    setCheck(base, 'provides.glibcCeiling', 'verified', `same libc6 as distroless/base-nossl-debian12 (${libc.libc!.package})`)
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const before = readFileSync(CATALOGUE_JSON, 'utf8')
  const cat = JSON.parse(before) as CatalogueFile
  await applyDerived(cat, { foreign: args.includes('--foreign'), slim: args.includes('--slim') })
  for (const b of cat.bases) {
    const problems = baseProblems(b)
    if (problems.length) throw new Error(`${b.name}: ${problems.map((p) => `${p.key} ${p.expected}`).join('; ')}`)
  }
  const after = stringifyCatalogue(cat)
  if (after === before) console.log('bases.json is up to date')
  else if (args.includes('--write')) {
    writeFileSync(CATALOGUE_JSON, after)
    console.log(`updated ${CATALOGUE_JSON}`)
  } else {
    const tmp = join(testCacheDir(), 'bases.derived.json')
    writeFileSync(tmp, after)
    const diff = await run('sh', ['-c', 'diff -u "$1" "$2" || true', 'sh', CATALOGUE_JSON, tmp])
    console.log(diff.stdout || 'no change')
    console.log('(run with --write to apply)')
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e)
    process.exit(1)
  })
}
