/**
 * A distroless/python3-debian12 equivalent for the served test bases, built the way test/bases
 * builds the others (Debian 12 packages unpacked with dpkg-deb -x, status.d metadata, no shell): the
 * cc-debian12 test base plus CPython 3.11 and the libraries its standard library loads. It lives
 * in its own cache directory with its own stamp, so it never forces a rebuild of the shared bases.
 * Checked before use: python3.11 starts in the rootfs and imports ssl, sqlite3, ctypes, zoneinfo.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ensureBases, installPackage, layoutTag, packImage } from './build.js'
import { downloadDebs, testCacheDir } from './debs.js'
import { run, runStatus } from './exec.js'

export const PYTHON_BASE = 'distroless/python3-debian12'
/** What distroless's python3-debian12 adds to cc-debian12 (python3.11's Depends, closed over). */
export const PYTHON_PACKAGES = [
  'python3.11-minimal', 'libpython3.11-minimal', 'libpython3.11-stdlib', 'libbz2-1.0', 'libcrypt1', 'libdb5.3', 'libexpat1', 'libffi8',
  'liblzma5', 'libncursesw6', 'libnsl2', 'libreadline8', 'libsqlite3-0', 'libtinfo6', 'libtirpc3', 'libtirpc-common', 'libgssapi-krb5-2',
  'libkrb5-3', 'libk5crypto3', 'libkrb5support0', 'libkeyutils1', 'libcom-err2', 'libuuid1', 'zlib1g',
]
const RECIPE_VERSION = 1

export interface PythonBase {
  layout: string
  /** Layout tags of the :latest and :nonroot images. */
  tags: { latest: string; nonroot: string }
}

/** Builds the python base once (stamped by the shared bases' recipe and the package list). */
export async function ensurePythonBase(): Promise<PythonBase> {
  const tb = await ensureBases()
  const dir = join(testCacheDir(), 'bases-python')
  const tag = layoutTag(PYTHON_BASE)
  const result = { layout: join(dir, 'oci'), tags: { latest: tag, nonroot: `${tag}-nonroot` } }
  const recipe = createHash('sha256').update(JSON.stringify({ RECIPE_VERSION, PYTHON_PACKAGES, below: readFileSync(join(tb.layout, '..', 'stamp.json'), 'utf8') })).digest('hex').slice(0, 16)
  const stampFile = join(dir, 'stamp.json')
  const fresh = (): boolean => existsSync(stampFile) && JSON.parse(readFileSync(stampFile, 'utf8')).recipe === recipe
  if (fresh()) return result
  const lock = `${dir}.lock`
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock)
      break
    } catch {
      if (fresh()) return result
      if (i > 3000) throw new Error(`python test base: lock ${lock} held too long; remove it if no build runs`)
      await new Promise((r) => setTimeout(r, 300))
    }
  }
  try {
    if (fresh()) return result
    const tmp = `${dir}.tmp-${process.pid}`
    rmSync(tmp, { recursive: true, force: true })
    mkdirSync(join(tmp, 'rootfs'), { recursive: true })
    const root = join(tmp, 'rootfs', tag)
    await run('cp', ['-a', tb.rootfs['distroless/cc-debian12'], root])
    for (const deb of await downloadDebs(PYTHON_PACKAGES, join(testCacheDir(), 'debs'))) await installPackage(root, deb)
    const check = await runStatus('chroot', [root, '/usr/bin/python3.11', '-c', 'import ssl, sqlite3, ctypes, zoneinfo, json; print("python ok", ssl.OPENSSL_VERSION)'])
    if (check.status !== 0 || !/^python ok/.test(check.stdout)) throw new Error(`python test base: python3.11 does not run in the rootfs (${check.status}): ${check.stderr}`)
    const layout = join(tmp, 'oci')
    await run('umoci', ['init', '--layout', layout])
    await packImage(tmp, layout, PYTHON_BASE, root)
    // distroless's entrypoint for the python image.
    for (const t of [tag, `${tag}-nonroot`]) await run('umoci', ['config', '--image', `${layout}:${t}`, '--config.entrypoint', '/usr/bin/python3.11'])
    await run('umoci', ['gc', '--layout', layout])
    writeFileSync(join(tmp, 'stamp.json'), JSON.stringify({ recipe, builtAt: new Date().toISOString() }))
    rmSync(dir, { recursive: true, force: true })
    renameSync(tmp, dir)
    return result
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}
