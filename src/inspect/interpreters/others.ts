/**
 * Ruby, PHP, Perl and shells: smaller detectors, same shape. Versions come from the executable's
 * name (ruby3.1, php8.2, php-fpm8.2), its libruby/libphp NEEDED entry, version directories
 * (lib/ruby/3.1.0, perl/5.36), the image's headers or package database.
 */
import { posix } from 'node:path'
import type { Runtime } from '../types.js'
import { existingDirs, findNativeModules, fromCwd, isFile, packageVersions, upstreamVersion, type RuntimeInput, type RuntimeDetection } from './common.js'

function firstOperand(args: string[], withValue: Set<string>, inline: Set<string>, cwd: string): Runtime['app'] {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (inline.has(a)) return { kind: 'inline' }
    if (withValue.has(a)) {
      i++
      continue
    }
    if (a === '--') return args[i + 1] ? { kind: 'script', path: fromCwd(args[i + 1]!, cwd) } : { kind: 'repl' }
    if (a.startsWith('-')) continue
    return { kind: 'script', path: fromCwd(a, cwd) }
  }
  return { kind: 'repl' }
}

function appDirOf(app: Runtime['app'], cwd: string): string {
  return app.kind === 'script' && app.path && cwd === '/' ? posix.dirname(app.path) : cwd
}

export async function detectRuby(input: RuntimeInput): Promise<RuntimeDetection> {
  const { rootfs } = input
  const prefix = posix.dirname(posix.dirname(input.realPath))
  let version = /ruby(\d+\.\d+)/.exec(posix.basename(input.realPath))?.[1] ?? input.needed.map((n) => /^libruby-?(\d+\.\d+)/.exec(n)?.[1]).find(Boolean)
  let versionEvidence = version ? 'executable or libruby name' : undefined
  const apiDirs = rootfs.readdir(`${prefix}/lib/ruby`).filter((n) => /^\d+\.\d+\.\d+$/.test(n))
  if (apiDirs.length > 0 && !version) {
    version = apiDirs[apiDirs.length - 1]
    versionEvidence = `${prefix}/lib/ruby/${version}`
  }
  const pkg = (await packageVersions(rootfs)).get(`ruby${version ?? ''}`)
  if (pkg) {
    version = upstreamVersion(pkg)
    versionEvidence = `package ruby${/^\d+\.\d+/.exec(version)?.[0] ?? ''}`
  }
  const app = firstOperand(input.argv.slice(1), new Set(['-r', '-I', '-C', '-E', '--encoding', '-x']), new Set(['-e']), input.cwd)
  const appDir = appDirOf(app, input.cwd)
  const gemDirs = [input.env.GEM_HOME, input.env.BUNDLE_PATH, input.env.BUNDLE_APP_CONFIG, ...(input.env.GEM_PATH ?? '').split(':')].filter((d): d is string => !!d)
  const trees = existingDirs(rootfs, [`${prefix}/lib/ruby`, ...gemDirs, ...apiDirs.map((v) => `/var/lib/gems/${v}`), '/usr/share/rubygems-integration', ...(appDir !== '/' ? [appDir] : [])])
  const runtime: Runtime = { language: 'ruby', executable: input.realPath, app, appDir, trees, home: `${prefix}/lib/ruby` }
  if (version) runtime.version = version
  if (versionEvidence) runtime.versionEvidence = versionEvidence
  const native = findNativeModules(rootfs, trees, /\.so$/)
  return { runtime, nativeModules: native.files, gaps: [] }
}

export async function detectPhp(input: RuntimeInput): Promise<RuntimeDetection> {
  const { rootfs } = input
  const prefix = posix.dirname(posix.dirname(input.realPath))
  const name = posix.basename(input.realPath)
  let version = /(\d+\.\d+)/.exec(name)?.[1] ?? /(\d+\.\d+)/.exec(posix.basename(input.path))?.[1]
  let versionEvidence = version ? `executable name ${name}` : undefined
  const header = `${prefix}/include/php/main/php_version.h`
  if (isFile(rootfs, header)) {
    const v = /#define PHP_VERSION "([^"]+)"/.exec((await input.readFile(header)).toString('utf8'))?.[1]
    if (v) {
      version = v
      versionEvidence = header
    }
  }
  if (!version || !versionEvidence?.endsWith('.h')) {
    const pkgs = await packageVersions(rootfs)
    const key = [...pkgs.keys()].find((k) => /^php\d+\.\d+-(cli|fpm|cgi|common)$/.test(k))
    if (key) {
      version = upstreamVersion(pkgs.get(key)!)
      versionEvidence = `package ${key}`
    }
  }
  const fpm = /fpm/.test(name)
  const app: Runtime['app'] = fpm ? { kind: 'fpm' } : firstOperand(input.argv.slice(1), new Set(['-c', '-d', '-z', '-t', '-S', '-f']), new Set(['-r']), input.cwd)
  const docRoot = input.argv.indexOf('-t')
  const appDir = docRoot > 0 && input.argv[docRoot + 1] ? fromCwd(input.argv[docRoot + 1]!, input.cwd) : appDirOf(app, input.cwd)
  const mm = version ? /^\d+\.\d+/.exec(version)?.[0] : undefined
  const trees = existingDirs(rootfs, [
    `${prefix}/lib/php`,
    `${prefix}/etc/php`,
    `${prefix}/etc/php-fpm.d`,
    ...(mm ? [`/etc/php/${mm}`, `/etc/php${mm.replace('.', '')}`] : []),
    '/usr/lib/php',
    '/usr/share/php',
    ...(input.env.PHP_INI_DIR ? [input.env.PHP_INI_DIR] : []),
    ...(appDir !== '/' ? [appDir] : []),
  ])
  const runtime: Runtime = { language: 'php', executable: input.realPath, app, appDir, trees, home: `${prefix}/lib/php` }
  if (version) runtime.version = version
  if (versionEvidence) runtime.versionEvidence = versionEvidence
  const native = findNativeModules(rootfs, trees.filter((t) => /lib\/php/.test(t)), /\.so$/)
  return { runtime, nativeModules: native.files, gaps: [] }
}

export async function detectPerl(input: RuntimeInput): Promise<RuntimeDetection> {
  const { rootfs } = input
  const prefix = posix.dirname(posix.dirname(input.realPath))
  const libDirs = [`${prefix}/lib/x86_64-linux-gnu/perl`, `${prefix}/lib/aarch64-linux-gnu/perl`, `${prefix}/share/perl`, `${prefix}/lib/perl5`, `${prefix}/share/perl5`, '/usr/local/lib/perl5', '/usr/local/share/perl']
  let version: string | undefined
  let versionEvidence: string | undefined
  for (const d of libDirs) {
    const v = rootfs.readdir(d).filter((n) => /^5\.\d+(\.\d+)?$/.test(n)).pop()
    if (v) {
      version = v
      versionEvidence = `${d}/${v}`
      break
    }
  }
  const app = firstOperand(input.argv.slice(1), new Set(['-I', '-M', '-m', '-x']), new Set(['-e', '-E']), input.cwd)
  const appDir = appDirOf(app, input.cwd)
  const trees = existingDirs(rootfs, [...libDirs, ...(input.env.PERL5LIB ?? '').split(':').filter(Boolean), ...(appDir !== '/' ? [appDir] : [])])
  const runtime: Runtime = { language: 'perl', executable: input.realPath, app, appDir, trees }
  if (version) runtime.version = version
  if (versionEvidence) runtime.versionEvidence = versionEvidence
  const native = findNativeModules(rootfs, trees, /\.so$/)
  return { runtime, nativeModules: native.files, gaps: [] }
}

export async function detectShell(input: RuntimeInput): Promise<RuntimeDetection> {
  const name = posix.basename(input.realPath)
  let version: string | undefined
  let versionEvidence: string | undefined
  const pkgs = await packageVersions(input.rootfs)
  const pkgName = /^busybox/.test(name) ? 'busybox' : name === 'sh' ? 'dash' : name
  const v = pkgs.get(pkgName) ?? (pkgName === 'busybox' ? pkgs.get('busybox-static') : undefined)
  if (v) {
    version = upstreamVersion(v)
    versionEvidence = `package ${pkgName}`
  }
  const app = firstOperand(input.argv.slice(1), new Set(['-o', '+o']), new Set(['-c']), input.cwd)
  const runtime: Runtime = { language: 'shell', executable: input.realPath, app, appDir: input.cwd, trees: [] }
  if (version) runtime.version = version
  if (versionEvidence) runtime.versionEvidence = versionEvidence
  return { runtime, nativeModules: [], gaps: [] }
}
