/**
 * Equivalents of distroless's retired Debian 12 runtime images for the served test bases, built the
 * way test/bases builds the others (Debian 12 packages unpacked with dpkg-deb -x, status.d metadata,
 * no shell, one gzip layer): a test base from build.ts plus the packages distroless added on top.
 *
 * - python3-debian12: cc-debian12 + CPython 3.11 and the libraries its standard library loads.
 * - java17-debian12: base-nossl-debian12 + the package list of distroless's java_base for debian12
 *   (java/config.bzl before b80e2842, "Remove java debian12 builds") + Debian's
 *   openjdk-17-jre-headless, the /usr/bin/java symlink, the C.utf8 locale from libc-bin and the
 *   Java trust store generated from the CA bundle (java/java.bzl, private/util/java_cacerts.bzl).
 *
 * Each lives in its own cache directory with its own stamp (recipe, packages, measured sizes), so
 * it never forces a rebuild of the shared bases. Checked before use: the runtime starts in the
 * rootfs (see `check`).
 */
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BasePackage } from '../../src/advise/catalogue/types.js'
import { CA_BUNDLE, ensureBases, installPackage, layerBytes, layoutTag, packImage, treeBytes, type BuiltSize, type Debian12BaseName } from './build.js'
import { downloadDebs, extractDeb, parseControl, testCacheDir } from './debs.js'
import { run, runStatus } from './exec.js'

export const PYTHON_BASE = 'distroless/python3-debian12'
export const JAVA_BASE = 'distroless/java17-debian12'

/** The packages distroless's python3-debian12 adds to cc-debian12 (python3.11's Depends, closed over). */
export const PYTHON_PACKAGES = [
  'python3.11-minimal', 'libpython3.11-minimal', 'libpython3.11-stdlib', 'libbz2-1.0', 'libcrypt1', 'libdb5.3', 'libexpat1', 'libffi8',
  'liblzma5', 'libncursesw6', 'libnsl2', 'libreadline8', 'libsqlite3-0', 'libtinfo6', 'libtirpc3', 'libtirpc-common', 'libgssapi-krb5-2',
  'libkrb5-3', 'libk5crypto3', 'libkrb5support0', 'libkeyutils1', 'libcom-err2', 'libuuid1', 'zlib1g',
]
/** distroless's JAVA_BASE_PACKAGES["debian12"] (java/config.bzl) and the JRE it put on top. Like
 * distroless, exactly these packages: the JRE's other Depends (cups, nss, alsa, pcsc) are not added. */
export const JAVA_PACKAGES = [
  'zlib1g', 'libjpeg62-turbo', 'liblcms2-2', 'libfreetype6', 'fonts-dejavu-core', 'fontconfig-config', 'libexpat1', 'libfontconfig1', 'libuuid1',
  'libbrotli1', 'libcrypt1', 'libstdc++6', 'libgcc-s1', 'gcc-12-base', 'libpng16-16', 'libharfbuzz0b', 'libgraphite2-3', 'libpcre2-8-0', 'libglib2.0-0',
  'openjdk-17-jre-headless',
]
const JAVA_HOME = '/usr/lib/jvm/java-17-openjdk-amd64'
const TRUST_STORE_SOURCE = fileURLToPath(new URL('./java/TrustStore.java', import.meta.url))

interface RuntimeSpec {
  /** Cache directory under the test cache. */
  dir: string
  below: Debian12BaseName
  packages: string[]
  /** What the build depends on besides the shared bases (hashed into the stamp's recipe). */
  recipe: Record<string, unknown>
  entrypoint: string[]
  env: string[]
  /** Steps after the packages are unpacked (files distroless generates rather than unpacks). */
  finish?: (root: string, work: string) => Promise<void>
  /** argv run in the rootfs (chroot, /proc mounted) and what its output must match. */
  check: { argv: string[]; expect: RegExp }
}

const SPECS: Record<string, RuntimeSpec> = {
  [PYTHON_BASE]: {
    dir: 'bases-python',
    below: 'distroless/cc-debian12',
    packages: PYTHON_PACKAGES,
    // The key names are those of the first version of this builder, so its cache stays valid.
    recipe: { RECIPE_VERSION: 1, PYTHON_PACKAGES },
    entrypoint: ['/usr/bin/python3.11'],
    env: [],
    check: { argv: ['/usr/bin/python3.11', '-c', 'import ssl, sqlite3, ctypes, zoneinfo, json; print("python ok", ssl.OPENSSL_VERSION)'], expect: /^python ok/ },
  },
  [JAVA_BASE]: {
    dir: 'bases-java17',
    below: 'distroless/base-nossl-debian12',
    packages: JAVA_PACKAGES,
    recipe: { RECIPE_VERSION: 1, JAVA_PACKAGES, trustStore: readFileSync(TRUST_STORE_SOURCE, 'utf8') },
    entrypoint: ['/usr/bin/java', '-jar'],
    env: ['LANG=C.UTF-8'],
    finish: finishJava,
    // keytool reads the trust store through the JRE's lib/security/cacerts symlink (Debian's layout).
    check: { argv: [`${JAVA_HOME}/bin/keytool`, '-list', '-cacerts', '-storepass', 'changeit'], expect: /Your keystore contains \d{3} entries/ },
  },
}
export const RUNTIME_BASES = Object.keys(SPECS)

export interface RuntimeBase {
  layout: string
  /** Layout tags of the :latest and :nonroot images. */
  tags: { latest: string; nonroot: string }
  packages: BasePackage[]
  size: BuiltSize
}

interface Stamp {
  recipe: string
  builtAt: string
  packages?: BasePackage[]
  size?: BuiltSize
}

/** Builds a runtime base once (stamped by the shared bases' recipe and its own), then says where it is. */
export async function ensureRuntimeBase(name: string): Promise<RuntimeBase> {
  const spec = SPECS[name]
  if (!spec) throw new Error(`no runtime test base ${name}; known: ${RUNTIME_BASES.join(', ')}`)
  const tb = await ensureBases()
  const dir = join(testCacheDir(), spec.dir)
  const tag = layoutTag(name)
  const where = { layout: join(dir, 'oci'), tags: { latest: tag, nonroot: `${tag}-nonroot` } }
  const recipe = createHash('sha256').update(JSON.stringify({ ...spec.recipe, below: readFileSync(join(tb.layout, '..', 'stamp.json'), 'utf8') })).digest('hex').slice(0, 16)
  const stampFile = join(dir, 'stamp.json')
  const ready = async (): Promise<RuntimeBase | undefined> => {
    if (!existsSync(stampFile)) return undefined
    const s = JSON.parse(readFileSync(stampFile, 'utf8')) as Stamp
    if (s.recipe !== recipe) return undefined
    return { ...where, ...(await measured(s, stampFile, where.layout, join(dir, 'rootfs', tag), tag)) }
  }
  const cached = await ready()
  if (cached) return cached
  const lock = `${dir}.lock`
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock)
      break
    } catch {
      const done = await ready()
      if (done) return done
      if (i > 3000) throw new Error(`${name} test base: lock ${lock} held too long; remove it if no build runs`)
      await new Promise((r) => setTimeout(r, 300))
    }
  }
  try {
    const done = await ready()
    if (done) return done
    const tmp = `${dir}.tmp-${process.pid}`
    rmSync(tmp, { recursive: true, force: true })
    mkdirSync(join(tmp, 'rootfs'), { recursive: true })
    const root = join(tmp, 'rootfs', tag)
    await run('cp', ['-a', tb.rootfs[spec.below]!, root])
    for (const deb of await downloadDebs(spec.packages, join(testCacheDir(), 'debs'))) await installPackage(root, deb)
    await spec.finish?.(root, tmp)
    // With /proc, as in a container: glibc expands the JRE's RPATH $ORIGIN from /proc/self/exe.
    const check = await runStatus('unshare', ['--mount', '--pid', '--fork', `--mount-proc=${join(root, 'proc')}`, 'chroot', root, ...spec.check.argv])
    if (check.status !== 0 || !spec.check.expect.test(check.stdout)) {
      throw new Error(`${name} test base: ${spec.check.argv.join(' ')} failed in the rootfs (${check.status}): ${check.stdout}${check.stderr}`)
    }
    const layout = join(tmp, 'oci')
    await run('umoci', ['init', '--layout', layout])
    const size = await packImage(tmp, layout, name, root)
    const config = [...spec.env.flatMap((e) => ['--config.env', e]), ...spec.entrypoint.flatMap((e) => ['--config.entrypoint', e])]
    for (const t of [tag, `${tag}-nonroot`]) await run('umoci', ['config', '--image', `${layout}:${t}`, ...config])
    await run('umoci', ['gc', '--layout', layout])
    const packages = packagesIn(root)
    writeFileSync(join(tmp, 'stamp.json'), JSON.stringify({ recipe, builtAt: new Date().toISOString(), packages, size } satisfies Stamp, null, 2))
    rmSync(dir, { recursive: true, force: true })
    renameSync(tmp, dir)
    return { ...where, packages, size }
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

/** Packages and sizes of a built base; a stamp written before they were recorded gets them from
 * the build itself (status.d and the layout), written back so the next caller only reads. */
async function measured(s: Stamp, stampFile: string, layout: string, root: string, tag: string): Promise<{ packages: BasePackage[]; size: BuiltSize }> {
  if (s.packages && s.size) return { packages: s.packages, size: s.size }
  const packages = packagesIn(root)
  const size = { compressed: await layerBytes(layout, tag), uncompressed: treeBytes(root) }
  const tmp = `${stampFile}.${process.pid}`
  writeFileSync(tmp, JSON.stringify({ ...s, packages, size }, null, 2))
  renameSync(tmp, stampFile)
  return { packages, size }
}

/** Name and version of every package recorded in a rootfs's /var/lib/dpkg/status.d (sorted by name). */
function packagesIn(root: string): BasePackage[] {
  const dir = join(root, 'var/lib/dpkg/status.d')
  return readdirSync(dir).filter((f) => !f.endsWith('.md5sums')).sort().map((f) => {
    const c = parseControl(readFileSync(join(dir, f), 'utf8'))
    return { name: c.Package ?? f, version: c.Version ?? '' }
  })
}

/** What distroless's java image adds beyond unpacking packages: the java symlink, C.utf8, the trust store. */
async function finishJava(root: string, work: string): Promise<void> {
  symlinkSync(`${JAVA_HOME}/bin/java`, join(root, 'usr/bin/java'))
  // The locale rule of distroless's common/BUILD.bazel: only C.utf8, taken from libc-bin's data.
  const [libcBin] = await downloadDebs(['libc-bin'], join(testCacheDir(), 'debs'))
  const unpacked = join(work, 'libc-bin')
  await extractDeb(libcBin!.path, unpacked)
  cpSync(join(unpacked, 'usr/lib/locale/C.utf8'), join(root, 'usr/lib/locale/C.utf8'), { recursive: true })
  rmSync(unpacked, { recursive: true, force: true })
  // The JRE's lib/security/cacerts is Debian's symlink to /etc/ssl/certs/java/cacerts.
  mkdirSync(join(root, 'etc/ssl/certs/java'), { recursive: true })
  const out = await run('java', [TRUST_STORE_SOURCE, join(root, CA_BUNDLE.slice(1)), join(root, 'etc/ssl/certs/java/cacerts')])
  if (!(Number(out.stdout.trim()) > 100)) throw new Error(`java test base: the trust store got ${out.stdout.trim()} certificates`)
}
