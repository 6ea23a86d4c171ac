/**
 * Python: the version (from the executable's name python3.X, libpython3.X NEEDED, the
 * lib/python3.X directory, the version string in the binary, or the package database), the
 * standard library and site-packages (system, /usr/local, a virtualenv's), PYTHONPATH, and what
 * the interpreter runs (a script, -m module, -c code).
 */
import { posix } from 'node:path'
import type { Runtime } from '../types.js'
import { existingDirs, findNativeModules, fromCwd, isDir, isFile, packageVersions, upstreamVersion, versionInStrings, type RuntimeInput, type RuntimeDetection } from './common.js'

/** Options that take a value (python -W arg, -X opt, --check-hash-based-pycs mode). */
const WITH_VALUE = new Set(['-W', '-X', '--check-hash-based-pycs', '-Q'])

export async function detectPython(input: RuntimeInput): Promise<RuntimeDetection> {
  const { rootfs } = input
  const gaps: string[] = []
  const prefix = posix.dirname(posix.dirname(input.realPath)) // /usr/bin/python3.11 → /usr
  const fromName = /python(\d+\.\d+)/.exec(posix.basename(input.realPath))?.[1] ?? /python(\d+\.\d+)/.exec(posix.basename(input.path))?.[1]
  const fromLib = input.needed.map((n) => /^libpython(\d+\.\d+)/.exec(n)?.[1]).find(Boolean)
  const fromDir = rootfs.readdir(`${prefix}/lib`).map((n) => /^python(\d+\.\d+)$/.exec(n)?.[1]).find((v) => v && isFile(rootfs, `${prefix}/lib/python${v}/os.py`))
  const minor = fromName ?? fromLib ?? fromDir
  let version = minor
  let versionEvidence = fromName ? `executable name ${posix.basename(input.realPath)}` : fromLib ? `NEEDED libpython${fromLib}` : fromDir ? `${prefix}/lib/python${fromDir}` : undefined
  // The full version string is in the binary (or in libpython), e.g. "3.11.2".
  try {
    const full = versionInStrings(await input.open(input.realPath), new RegExp(`\\0(${minor ? minor.replace('.', '\\.') : '3\\.\\d+'}\\.\\d+(?:(?:a|b|rc)\\d+)?\\+?)\\0`))
    if (full) {
      version = full
      versionEvidence = `version string in ${input.realPath}`
    }
  } catch {
    // unreadable: keep what the names said
  }
  if (!version) {
    const pkgs = await packageVersions(rootfs)
    const v = pkgs.get('python3') ?? pkgs.get('python3-minimal')
    if (v) {
      version = upstreamVersion(v)
      versionEvidence = 'package python3'
    }
  }
  const mm = version ? /^(\d+\.\d+)/.exec(version)?.[1] : undefined

  // PYTHONHOME replaces the prefix; a virtualenv is found by pyvenv.cfg next to the invoked bin/.
  const home = input.env.PYTHONHOME?.split(':')[0] ?? prefix
  const stdlib = mm ? `${home}/lib/python${mm}` : undefined
  const venvRoot = posix.dirname(posix.dirname(input.path))
  const venv = isFile(rootfs, `${venvRoot}/pyvenv.cfg`) ? venvRoot : undefined
  const sitePackages = existingDirs(rootfs, [
    ...(venv && mm ? [`${venv}/lib/python${mm}/site-packages`] : []),
    ...(mm ? [`${home}/lib/python${mm}/site-packages`, `${home}/local/lib/python${mm}/dist-packages`, `/usr/local/lib/python${mm}/dist-packages`, `/usr/local/lib/python${mm}/site-packages`] : []),
    `${home}/lib/python3/dist-packages`,
    ...(input.env.PYTHONPATH ?? '').split(':').filter(Boolean).map((p) => fromCwd(p, input.cwd)),
  ])
  if (stdlib && !isDir(rootfs, stdlib)) gaps.push(`the Python standard library ${stdlib} is not in the image`)

  const app = pythonApp(input.argv.slice(1), input.cwd)
  let appDir = input.cwd
  if (app.kind === 'script' && app.path) {
    // A console script (gunicorn, uvicorn, celery in .../bin) imports the app from WORKDIR or
    // site-packages; a script elsewhere lives with its app.
    if (/\/bin$/.test(posix.dirname(app.path))) gaps.push(`${app.path} is an entry-point script: the app it imports comes from site-packages or ${input.cwd}`)
    else appDir = posix.dirname(app.path)
  }
  const trees = existingDirs(rootfs, [...(stdlib ? [stdlib] : []), ...sitePackages, ...(venv ? [venv] : []), ...(appDir !== '/' ? [appDir] : []), ...(input.cwd !== '/' && input.cwd !== appDir ? [input.cwd] : [])])
  if (app.kind === 'script' && app.path && !rootfs.stat(app.path)) gaps.push(`the script ${app.path} is not in the image`)

  const runtime: Runtime = { language: 'python', executable: input.realPath, app, appDir, trees }
  if (version) runtime.version = version
  if (versionEvidence) runtime.versionEvidence = versionEvidence
  if (stdlib) runtime.home = stdlib
  // C extension modules (lib-dynload, site-packages) link system libraries (_ssl → libssl).
  const native = findNativeModules(rootfs, trees, /\.so(\.\d+)*$/)
  if (native.truncated) gaps.push('too many native modules to check them all')
  return { runtime, nativeModules: native.files, gaps }
}

function pythonApp(args: string[], cwd: string): Runtime['app'] {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '-m') return { kind: 'module', name: args[i + 1] ?? '' }
    if (a.startsWith('-m') && a.length > 2) return { kind: 'module', name: a.slice(2) }
    if (a === '-c' || (a.startsWith('-c') && a.length > 2)) return { kind: 'inline' }
    if (a === '-') return { kind: 'repl' }
    if (WITH_VALUE.has(a)) {
      i++
      continue
    }
    if (a.startsWith('-')) continue
    return { kind: 'script', path: fromCwd(a, cwd) }
  }
  return { kind: 'repl' }
}
