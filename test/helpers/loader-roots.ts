/**
 * Small root filesystems for the loader-rule tests, built with the real toolchain (gcc, musl-gcc,
 * ldconfig) in the test cache, with the host's own glibc or musl loader copied in, so that
 * `chroot ROOT LOADER --list PROG` is the oracle for each rule.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs'
import { dirname, join } from 'node:path'

export function cacheDir(...parts: string[]): string {
  const d = join(process.env.SLIM_TEST_CACHE ?? '/var/tmp/slim-test-cache', 'inspect', ...parts)
  mkdirSync(d, { recursive: true })
  return d
}

export function sh(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', cwd, stdio: ['ignore', 'pipe', 'pipe'] })
}

/** A fresh directory under the cache. */
export function freshDir(...parts: string[]): string {
  const d = cacheDir(...parts)
  rmSync(d, { recursive: true, force: true })
  mkdirSync(d, { recursive: true })
  return d
}

function put(root: string, path: string, content: string | Buffer, mode = 0o644): void {
  mkdirSync(dirname(join(root, path)), { recursive: true })
  writeFileSync(join(root, path), content)
  chmodSync(join(root, path), mode)
}

function link(root: string, path: string, target: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true })
  symlinkSync(target, join(root, path))
}

/** A merged-/usr Debian-style root holding the host's loader and libc (and optionally more libs). */
export function glibcRoot(root: string, extraLibs: string[] = []): void {
  const lib = 'usr/lib/x86_64-linux-gnu'
  mkdirSync(join(root, lib), { recursive: true })
  for (const f of ['ld-linux-x86-64.so.2', 'libc.so.6', ...extraLibs]) copyFileSync(`/lib/x86_64-linux-gnu/${f}`, join(root, lib, f))
  link(root, 'lib', 'usr/lib')
  link(root, 'lib64', 'usr/lib64')
  link(root, 'usr/lib64/ld-linux-x86-64.so.2', '../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2')
}

/** A root with musl's loader at /lib/ld-musl-x86_64.so.1 (it is also musl's libc). */
export function muslRoot(root: string): void {
  put(root, 'lib/ld-musl-x86_64.so.1', execFileSync('cat', ['/usr/lib/x86_64-linux-musl/libc.so']), 0o755)
}

/** Compiles C source with `compiler` and `args` (paths in args relative to `work`). */
export function cc(work: string, name: string, source: string, args: string[], compiler = 'gcc'): string {
  const src = join(work, `${name}.c`)
  writeFileSync(src, source)
  const out = join(work, name)
  sh(compiler, ['-O2', '-o', out, src, ...args], work)
  return out
}

export function install(root: string, from: string, to: string, mode = 0o755): void {
  mkdirSync(dirname(join(root, to)), { recursive: true })
  copyFileSync(from, join(root, to))
  chmodSync(join(root, to), mode)
}

export { put, link }
