/**
 * Real init and user-switch programs (tini, gosu, dumb-init) from Debian's own packages, fetched
 * once with `apt-get download` into the test cache and unpacked with `dpkg-deb -x`: the entrypoint
 * tests run their chains through the real binaries.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { cacheDir } from './loader-roots.js'

export const LAUNCHER_PACKAGES = ['tini', 'gosu', 'dumb-init']

/** A directory holding usr/bin/tini, usr/bin/tini-static, usr/sbin/gosu, usr/bin/dumb-init. */
export function launcherRoot(): string {
  const debs = cacheDir('debs')
  const root = cacheDir('launchers-root')
  const have = (p: string) => readdirSync(debs).some((f) => f.startsWith(`${p}_`) && f.endsWith('.deb'))
  const missing = LAUNCHER_PACKAGES.filter((p) => !have(p))
  if (missing.length > 0) execFileSync('apt-get', ['download', ...missing], { cwd: debs, stdio: ['ignore', 'pipe', 'pipe'] })
  if (!existsSync(join(root, 'usr/sbin/gosu'))) {
    for (const f of readdirSync(debs).filter((f) => f.endsWith('.deb'))) execFileSync('dpkg-deb', ['-x', join(debs, f), root])
  }
  return root
}
