/**
 * Distroless-equivalent test bases, built from the same Debian 12 packages distroless -debian12 is
 * made of, so advice tests can build and run a generated Dockerfile without internet access.
 *
 * Like distroless: packages are unpacked with `dpkg-deb -x` (no maintainer scripts, no dpkg, no
 * shell), package metadata goes to /var/lib/dpkg/status.d/<pkg>, and passwd/group, nsswitch.conf,
 * os-release, /home/nonroot and the CA bundle are generated. Each base is one OCI image (one layer,
 * packed with `umoci raw add-layer` from a `tar --numeric-owner`) plus a :nonroot twin (USER 65532).
 * The real alpine 3.10/3.11 images from the corpus are imported into the same layout.
 *
 * Everything lives in ${SLIM_TEST_CACHE:-/var/tmp/slim-test-cache}/bases, stamped with a hash of
 * the recipe: a second ensureBases() only reads the stamp. Callers must treat the rootfs
 * directories as read-only (they are shared by every test).
 */
import { createHash } from 'node:crypto'
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { BasePackage } from '../../src/advise/catalogue/types.js'
import { debControlText, debMd5sums, downloadDebs, extractDeb, testCacheDir, type DebFile } from './debs.js'
import { run, runStatus } from './exec.js'
import { SHARED } from '../helpers/shared.js'

/** Bump when the build steps change in a way the package lists do not show. */
const RECIPE_VERSION = 5

/** Package sets, following distroless's -debian12 layering (static ⊂ base-nossl ⊂ base ⊂ cc). */
export const DEBIAN12_RECIPES = {
  'distroless/static-debian12': ['base-files', 'netbase', 'tzdata', 'media-types', 'ca-certificates'],
  'distroless/base-nossl-debian12': ['libc6'],
  'distroless/base-debian12': ['libssl3'],
  'distroless/cc-debian12': ['libgcc-s1', 'gcc-12-base', 'libstdc++6', 'libgomp1'],
} as const
export type Debian12BaseName = keyof typeof DEBIAN12_RECIPES
export const DEBIAN12_BASES = Object.keys(DEBIAN12_RECIPES) as Debian12BaseName[]

/** All packages of one base, its own and those of the bases below it. */
export function packagesOf(name: Debian12BaseName): string[] {
  const out: string[] = []
  for (const b of DEBIAN12_BASES) {
    out.push(...DEBIAN12_RECIPES[b])
    if (b === name) break
  }
  return out
}

const CORPUS = process.env.SLIM_CORPUS ?? `${SHARED}/corpus`
export const ALPINE_CORPUS_IMAGES = {
  'alpine:3.10': join(CORPUS, 'aquasecurity__trivy/pkg/fanal/test/testdata/alpine-310.tar.gz'),
  'alpine:3.11': join(CORPUS, 'aquasecurity__trivy/pkg/fanal/test/testdata/alpine-311.tar.gz'),
} as const

export const DISTROLESS_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
export const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt'

// The exact lines distroless's base.yaml test checks (base-images.md, "Exact user and group lines").
const PASSWD = [
  'root:x:0:0:root:/root:/sbin/nologin',
  'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin',
  'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin',
]
const GROUP = ['root:x:0:', 'nobody:x:65534:', 'tty:x:5:', 'staff:x:50:', 'nonroot:x:65532:']
const NSSWITCH = `# generated like distroless static/nsswitch.conf
passwd:         compat
group:          compat
shadow:         compat
gshadow:        files

hosts:          files dns
networks:       files

protocols:      db files
services:       db files
ethers:         db files
rpc:            db files

netgroup:       nis
`
const OS_RELEASE = `PRETTY_NAME="Distroless"
NAME="Debian GNU/Linux"
ID="debian"
VERSION_ID="12"
VERSION="Debian GNU/Linux 12 (bookworm)"
HOME_URL="https://github.com/GoogleContainerTools/distroless"
SUPPORT_URL="https://github.com/GoogleContainerTools/distroless/blob/master/README.md"
BUG_REPORT_URL="https://github.com/GoogleContainerTools/distroless/issues/new"
`

export interface BuiltSize {
  /** Bytes of the gzip layer blob. */
  compressed: number
  /** Sum of regular-file sizes in the rootfs. */
  uncompressed: number
}

export interface TestBases {
  /** The OCI layout directory holding every base. */
  layout: string
  /** Catalogue name (and name:nonroot) -> skopeo-style reference "oci:<layout>:<tag>". */
  refs: Record<string, string>
  /** Catalogue name -> unpacked root filesystem (read-only for callers). */
  rootfs: Record<string, string>
  /** Catalogue name -> the Debian packages (with versions) it was built from. */
  packages: Record<string, BasePackage[]>
  sizes: Record<string, BuiltSize>
  /** Host test programs: a glibc C hello, a C++ hello (libstdc++, libgcc_s), a static C hello. */
  probes: Probes
  /** Seconds the build took (0 when served from the cache). */
  buildSeconds: number
}

interface Stamp extends Omit<TestBases, 'buildSeconds' | 'layout' | 'refs' | 'rootfs' | 'probes'> {
  recipe: string
  builtAt: string
  buildSeconds: number
}

function recipeHash(): string {
  const alpine = Object.fromEntries(
    Object.entries(ALPINE_CORPUS_IMAGES).map(([k, p]) => [k, existsSync(p) ? lstatSync(p).size : 0]),
  )
  return createHash('sha256')
    .update(JSON.stringify({ RECIPE_VERSION, DEBIAN12_RECIPES, alpine, PASSWD, GROUP, NSSWITCH, OS_RELEASE }))
    .digest('hex')
    .slice(0, 16)
}

/** Layout tag of a catalogue name: "distroless/cc-debian12:nonroot" -> "cc-debian12-nonroot". */
export function layoutTag(name: string): string {
  return name.replace(/^distroless\//, '').replace(/:/g, '-')
}

function resultFrom(dir: string, stamp: Stamp, buildSeconds: number): TestBases {
  const layout = join(dir, 'oci')
  const refs: Record<string, string> = {}
  const rootfs: Record<string, string> = {}
  for (const name of [...DEBIAN12_BASES, ...Object.keys(ALPINE_CORPUS_IMAGES)]) {
    rootfs[name] = join(dir, 'rootfs', layoutTag(name))
    refs[name] = `oci:${layout}:${layoutTag(name)}`
    if (name.startsWith('distroless/')) refs[`${name}:nonroot`] = `oci:${layout}:${layoutTag(name)}-nonroot`
  }
  return {
    layout,
    refs,
    rootfs,
    packages: stamp.packages,
    sizes: stamp.sizes,
    probes: probePaths(join(dir, 'probe')),
    buildSeconds,
  }
}

function readStamp(dir: string): Stamp | undefined {
  try {
    const s = JSON.parse(readFileSync(join(dir, 'stamp.json'), 'utf8')) as Stamp
    return s.recipe === recipeHash() ? s : undefined
  } catch {
    return undefined
  }
}

let memo: Promise<TestBases> | undefined

/** Builds the test bases once per recipe (cached on disk), then returns where they are.
 * `fresh` skips this process's memo (to measure the on-disk cache). */
export function ensureBases(opts: { fresh?: boolean } = {}): Promise<TestBases> {
  if (opts.fresh) return ensureBasesUncached()
  memo ??= ensureBasesUncached().catch((e: unknown) => {
    memo = undefined
    throw e
  })
  return memo
}

async function ensureBasesUncached(): Promise<TestBases> {
  const cache = testCacheDir()
  const dir = join(cache, 'bases')
  const ready = readStamp(dir)
  if (ready) return resultFrom(dir, ready, 0)
  mkdirSync(cache, { recursive: true })
  const release = await acquireLock(join(cache, 'bases.lock'), () => readStamp(dir) !== undefined)
  try {
    const again = readStamp(dir)
    if (again) return resultFrom(dir, again, 0)
    const started = Date.now()
    // Holding the lock, any other bases.build-* is debris of a build that died.
    for (const f of readdirSync(cache)) if (f.startsWith('bases.build-')) rmSync(join(cache, f), { recursive: true, force: true })
    const tmp = join(cache, `bases.build-${process.pid}`)
    const stamp = await buildAll(tmp, join(cache, 'debs'))
    stamp.buildSeconds = (Date.now() - started) / 1000
    writeFileSync(join(tmp, 'stamp.json'), JSON.stringify(stamp, null, 2))
    rmSync(dir, { recursive: true, force: true })
    renameSync(tmp, dir)
    return resultFrom(dir, stamp, stamp.buildSeconds)
  } finally {
    release()
  }
}

/** A directory lock so parallel test workers build once; a lock left by a dead process is taken over. */
async function acquireLock(lock: string, done: () => boolean): Promise<() => void> {
  const deadline = Date.now() + 15 * 60_000
  for (;;) {
    try {
      mkdirSync(lock)
      writeFileSync(join(lock, 'pid'), String(process.pid))
      return () => rmSync(lock, { recursive: true, force: true })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
    if (done()) return () => {}
    let owner = 0
    try {
      owner = Number(readFileSync(join(lock, 'pid'), 'utf8'))
    } catch {
      /* the owner is between mkdir and writing its pid */
    }
    if (owner > 0 && !alive(owner)) rmSync(lock, { recursive: true, force: true })
    if (Date.now() > deadline) throw new Error(`test bases: lock ${lock} held too long by pid ${owner}; remove it if no build runs`)
    await new Promise((r) => setTimeout(r, 300))
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function buildAll(dir: string, debDir: string): Promise<Stamp> {
  mkdirSync(join(dir, 'rootfs'), { recursive: true })
  const all = DEBIAN12_BASES.flatMap((b) => DEBIAN12_RECIPES[b])
  const debs = new Map((await downloadDebs(all, debDir)).map((d) => [d.name, d]))
  const probes = await buildProbes(join(dir, 'probe'))

  const packages: Record<string, BasePackage[]> = {}
  const sizes: Record<string, BuiltSize> = {}
  const layout = join(dir, 'oci')
  await run('umoci', ['init', '--layout', layout])

  let below: string | undefined
  for (const name of DEBIAN12_BASES) {
    const root = join(dir, 'rootfs', layoutTag(name))
    // cp -a, not fs.cpSync: ownership (/home/nonroot is 65532) must survive the copy.
    if (below) await run('cp', ['-a', below, root])
    else mkdirSync(root)
    for (const pkg of DEBIAN12_RECIPES[name]) await installPackage(root, debs.get(pkg)!)
    if (!below) await finishStatic(root, debs.get('ca-certificates')!)
    await verifyBase(name, root, probes)
    packages[name] = packagesOf(name).map((p) => ({ name: p, version: debs.get(p)!.version }))
    sizes[name] = await packImage(dir, layout, name, root)
    below = root
  }
  for (const [name, archive] of Object.entries(ALPINE_CORPUS_IMAGES)) {
    sizes[name] = await importDockerArchive(dir, layout, name, archive)
  }
  await run('umoci', ['gc', '--layout', layout])
  return { recipe: recipeHash(), builtAt: new Date().toISOString(), buildSeconds: 0, packages, sizes }
}

/** Unpacks a package and records it the way distroless does (status.d, no dpkg database). */
export async function installPackage(root: string, deb: DebFile): Promise<void> {
  const statusd = join(root, 'var/lib/dpkg/status.d')
  mkdirSync(statusd, { recursive: true })
  if (deb.name !== 'ca-certificates') await extractDeb(deb.path, root)
  writeFileSync(join(statusd, deb.name), (await debControlText(deb.path)).replace(/\n*$/, '\n'))
  // ca-certificates' own files are not installed (only the generated bundle), so no md5sums for it.
  const sums = deb.name === 'ca-certificates' ? '' : await debMd5sums(deb.path)
  if (sums) writeFileSync(join(statusd, `${deb.name}.md5sums`), sums)
}

/** The files distroless generates for static: users, nsswitch, os-release, home dirs, CA bundle. */
async function finishStatic(root: string, caDeb: DebFile): Promise<void> {
  writeFileSync(join(root, 'etc/passwd'), PASSWD.join('\n') + '\n')
  writeFileSync(join(root, 'etc/group'), GROUP.join('\n') + '\n')
  writeFileSync(join(root, 'etc/nsswitch.conf'), NSSWITCH)
  // base-files ships /etc/os-release -> ../usr/lib/os-release; distroless replaces the target.
  writeFileSync(join(root, 'usr/lib/os-release'), OS_RELEASE)
  mkdirSync(join(root, 'root'), { recursive: true })
  chmodSync(join(root, 'root'), 0o700)
  mkdirSync(join(root, 'home/nonroot'), { recursive: true })
  chownSync(join(root, 'home/nonroot'), 65532, 65532)
  chmodSync(join(root, 'home/nonroot'), 0o700)
  chmodSync(join(root, 'tmp'), 0o1777)
  // The CA bundle is what update-ca-certificates would write: every Mozilla cert, in path order.
  // Only the bundle (and the licence) are kept: the package's update script needs a shell.
  const ca = join(root, '..', '.ca-extract')
  rmSync(ca, { recursive: true, force: true })
  await extractDeb(caDeb.path, ca)
  const moz = join(ca, 'usr/share/ca-certificates/mozilla')
  const certs = readdirSync(moz).filter((f) => f.endsWith('.crt')).sort()
  mkdirSync(join(root, 'etc/ssl/certs'), { recursive: true })
  writeFileSync(join(root, CA_BUNDLE.slice(1)), certs.map((f) => readFileSync(join(moz, f), 'utf8').replace(/\n*$/, '\n')).join(''))
  mkdirSync(join(root, 'usr/share/doc/ca-certificates'), { recursive: true })
  cpSync(join(ca, 'usr/share/doc/ca-certificates/copyright'), join(root, 'usr/share/doc/ca-certificates/copyright'))
  rmSync(ca, { recursive: true, force: true })
}

export interface Probes {
  c: string
  cpp: string
  cStatic: string
}

function probePaths(dir: string): Probes {
  return { c: join(dir, 'hello-c'), cpp: join(dir, 'hello-cpp'), cStatic: join(dir, 'hello-c-static') }
}

async function buildProbes(dir: string): Promise<Probes> {
  mkdirSync(dir, { recursive: true })
  const p = probePaths(dir)
  writeFileSync(join(dir, 'hello.c'), '#include <stdio.h>\nint main(void){puts("hello from C");return 0;}\n')
  writeFileSync(join(dir, 'hello.cpp'), '#include <iostream>\nint main(){std::cout<<"hello from C++"<<std::endl;}\n')
  await run('gcc', ['-O2', '-o', p.c, join(dir, 'hello.c')])
  await run('gcc', ['-O2', '-static', '-o', p.cStatic, join(dir, 'hello.c')])
  await run('g++', ['-O2', '-o', p.cpp, join(dir, 'hello.cpp')])
  return p
}

/**
 * Runs a host program inside a rootfs without changing it: a private mount namespace puts a
 * tmpfs over <rootfs>/tmp, the program is copied there as /tmp/probe, then chroot runs `argv`
 * (which may name /tmp/probe). Resolves with the exit status and output.
 */
export async function runInRootfs(
  rootfs: string,
  hostProgram: string,
  argv: string[],
): Promise<{ status: number; stdout: string; stderr: string }> {
  const script = 'mount -t tmpfs -o mode=1777 slim-probe "$1/tmp" && cp "$2" "$1/tmp/probe" && r="$1" && shift 2 && exec chroot "$r" "$@"'
  return runStatus('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', rootfs, hostProgram, ...argv])
}

const LOADER = '/lib64/ld-linux-x86-64.so.2'

/** Fails the build when a base does not behave like its distroless twin. */
async function verifyBase(name: Debian12BaseName, root: string, probes: Probes): Promise<void> {
  for (const sh of ['bin/sh', 'usr/bin/sh', 'bin/bash', 'bin/dash', 'bin/busybox']) {
    if (existsSync(join(root, sh))) throw new Error(`test base ${name}: /${sh} exists, but distroless has no shell`)
  }
  if (name === 'distroless/static-debian12') {
    if (existsSync(join(root, LOADER.slice(1)))) throw new Error(`test base ${name}: has a dynamic loader`)
    const r = await runInRootfs(root, probes.cStatic, ['/tmp/probe'])
    if (r.status !== 0) throw new Error(`test base ${name}: a static program did not run (${r.status}): ${r.stderr}`)
    return
  }
  const checks: string[] = [probes.c]
  if (name === 'distroless/cc-debian12') checks.push(probes.cpp)
  for (const probe of checks) {
    const list = await runInRootfs(root, probe, [LOADER, '--list', '/tmp/probe'])
    if (list.status !== 0 || !/libc\.so\.6 => \/lib\/x86_64-linux-gnu\/libc\.so\.6/.test(list.stdout)) {
      throw new Error(`test base ${name}: ld.so --list ${probe} failed (${list.status}): ${list.stdout}${list.stderr}`)
    }
    const exec = await runInRootfs(root, probe, ['/tmp/probe'])
    if (exec.status !== 0 || !/^hello from C/.test(exec.stdout)) {
      throw new Error(`test base ${name}: ${probe} did not run (${exec.status}): ${exec.stderr}`)
    }
  }
}

/** Sum of regular-file sizes under `root` (the "uncompressed" figure of every test base). */
export function treeBytes(root: string): number {
  let total = 0
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile()) total += lstatSync(p).size
    }
  }
  walk(root)
  return total
}

/** One layer from the rootfs, the base config, and the :nonroot twin that differs only in USER/WORKDIR. */
export async function packImage(dir: string, layout: string, name: string, root: string): Promise<BuiltSize> {
  const tag = layoutTag(name)
  const tarFile = join(dir, `${tag}.tar`)
  await run('tar', ['--numeric-owner', '--xattrs', '--sort=name', '-C', root, '-cf', tarFile, '.'])
  const image = `${layout}:${tag}`
  await run('umoci', ['new', '--image', image])
  await run('umoci', ['raw', 'add-layer', '--image', image, tarFile])
  rmSync(tarFile)
  const env = ['--config.env', `PATH=${DISTROLESS_PATH}`, '--config.env', `SSL_CERT_FILE=${CA_BUNDLE}`]
  await run('umoci', ['config', '--image', image, '--os', 'linux', '--architecture', 'amd64', '--config.user', '0', '--config.workingdir', '/', ...env])
  await run('umoci', ['config', '--image', image, '--tag', `${tag}-nonroot`, '--config.user', '65532', '--config.workingdir', '/home/nonroot'])
  return { compressed: await layerBytes(layout, tag), uncompressed: treeBytes(root) }
}

/** Bytes of the gzip layer blobs of one tag of an OCI layout (the "compressed" figure). */
export async function layerBytes(layout: string, tag: string): Promise<number> {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[]
  }
  const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)
  if (!desc) throw new Error(`test bases: tag ${tag} missing from ${layout}`)
  const manifest = JSON.parse(readFileSync(join(layout, 'blobs', ...desc.digest.split(':')), 'utf8')) as { layers: { size: number }[] }
  return manifest.layers.reduce((n, l) => n + l.size, 0)
}

/** Imports a gzip-wrapped docker-archive (skopeo cannot read the gzip wrapper) and unpacks it. */
async function importDockerArchive(dir: string, layout: string, name: string, archiveGz: string): Promise<BuiltSize> {
  const tag = layoutTag(name)
  const plain = join(dir, `${tag}.docker.tar`)
  await run('sh', ['-c', 'gzip -dc "$1" > "$2"', 'sh', archiveGz, plain])
  await run('skopeo', ['copy', '-q', `docker-archive:${plain}`, `oci:${layout}:${tag}`])
  rmSync(plain)
  const bundle = join(dir, `${tag}.bundle`)
  await run('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle])
  const root = join(dir, 'rootfs', tag)
  renameSync(join(bundle, 'rootfs'), root)
  rmSync(bundle, { recursive: true, force: true })
  return { compressed: await layerBytes(layout, tag), uncompressed: treeBytes(root) }
}
