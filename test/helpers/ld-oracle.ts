/**
 * The real dynamic loader as the oracle, parsed into what it resolved and what it could not find.
 *  - glibc: `LD_TRACE_LOADED_OBJECTS=1 LOADER PROGRAM`, which is what ldd runs. (`ld.so --list`
 *    stops at the first missing library instead of printing "not found".) Inside another root it
 *    runs under bubblewrap with --setenv, so the variable reaches only the loader: set on `chroot`
 *    it would trace chroot itself.
 *  - musl: `LOADER --list PROGRAM` under chroot; missing libraries are reported on stderr.
 */
import { spawnSync } from 'node:child_process'

export interface LoaderListing {
  /** name as requested → path the loader printed. */
  resolved: Map<string, string>
  /** Paths printed without a name (the interpreter itself). */
  bare: string[]
  /** Names printed as "not found" (glibc) or reported on stderr (musl). */
  notFound: string[]
  status: number | null
  stdout: string
  stderr: string
}

export function loaderList(root: string, program: string, loader = '/lib64/ld-linux-x86-64.so.2', env: Record<string, string> = {}): LoaderListing {
  const musl = /ld-musl-/.test(loader)
  const base = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }
  let argv: string[]
  let spawnEnv: Record<string, string> = base
  if (musl) {
    argv = root === '/' ? [loader, '--list', program] : ['chroot', root, loader, '--list', program]
    spawnEnv = { ...base, ...env }
  } else if (root === '/') {
    argv = [loader, program]
    spawnEnv = { ...base, ...env, LD_TRACE_LOADED_OBJECTS: '1' }
  } else {
    const setenv = Object.entries({ ...env, LD_TRACE_LOADED_OBJECTS: '1' }).flatMap(([k, v]) => ['--setenv', k, v])
    argv = ['bwrap', '--bind', root, '/', ...setenv, loader, program]
  }
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: spawnEnv, timeout: 60_000 })
  const out: LoaderListing = { resolved: new Map(), bare: [], notFound: [], status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
  for (const line of out.stdout.split('\n')) {
    let m = /^\s+(\S+) => not found/.exec(line)
    if (m) {
      out.notFound.push(m[1]!)
      continue
    }
    m = /^\s+(\S+) => (\/\S+) \(0x[0-9a-f]+\)/.exec(line)
    if (m) {
      out.resolved.set(m[1]!, m[2]!)
      continue
    }
    m = /^\s+(\/\S+) \(0x[0-9a-f]+\)/.exec(line)
    if (m) out.bare.push(m[1]!)
  }
  // musl: "Error loading shared library libfoo.so: No such file or directory (needed by /app/x)"
  for (const m of out.stderr.matchAll(/Error loading shared library (\S+): /g)) out.notFound.push(m[1]!)
  return out
}
