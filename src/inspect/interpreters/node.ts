/**
 * Node.js: the version (node_version.h of the image, the package database, or the "vX.Y.Z"
 * string in node or libnode), what it runs (a script, -e code, npm/yarn running package.json),
 * the app directory (nearest package.json above the script) and the node_modules trees Node's
 * resolver would walk up through, plus NODE_PATH and the global module dirs.
 */
import { posix } from 'node:path'
import type { Runtime } from '../types.js'
import { existingDirs, findNativeModules, fromCwd, isFile, packageVersions, upstreamVersion, versionInStrings, type RuntimeInput, type RuntimeDetection } from './common.js'

const WITH_VALUE = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--env-file', '--title', '--inspect-port', '--stack-size'])

export async function detectNode(input: RuntimeInput): Promise<RuntimeDetection> {
  const { rootfs } = input
  const gaps: string[] = []
  const prefix = posix.dirname(posix.dirname(input.realPath))
  let version: string | undefined
  let versionEvidence: string | undefined
  for (const header of [`${prefix}/include/node/node_version.h`, '/usr/include/node/node_version.h']) {
    if (!isFile(rootfs, header)) continue
    const text = (await input.readFile(header)).toString('utf8')
    const part = (n: string): string | undefined => new RegExp(`#define NODE_${n}_VERSION (\\d+)`).exec(text)?.[1]
    const [a, b, c] = [part('MAJOR'), part('MINOR'), part('PATCH')]
    if (a && b && c) {
      version = `${a}.${b}.${c}`
      versionEvidence = header
      break
    }
  }
  if (!version) {
    const v = (await packageVersions(rootfs)).get('nodejs')
    if (v) {
      version = upstreamVersion(v)
      versionEvidence = 'package nodejs'
    }
  }
  if (!version) {
    // Debian's node is a small launcher around libnode.so.N; the version string is in whichever holds V8.
    const candidates = [input.realPath, ...input.needed.filter((n) => n.startsWith('libnode.so')).map((n) => input.libraries[n]).filter((p): p is string => p !== undefined)]
    for (const f of candidates) {
      if (!isFile(rootfs, f)) continue
      const v = versionInStrings(await input.open(f), /\0v(\d+\.\d+\.\d+)\0/)
      if (v) {
        version = v
        versionEvidence = `version string in ${f}`
        break
      }
    }
  }

  const app = nodeApp(input.argv.slice(1), input.cwd)
  let appDir = input.cwd
  const scriptPath = app.path
  if (scriptPath && /\/node_modules\/(npm|yarn|pnpm|corepack)\//.test(scriptPath)) {
    // npm start / yarn start: the package manager runs a script from the app's package.json.
    app.kind = 'script'
    app.name = /\/node_modules\/(npm|yarn|pnpm|corepack)\//.exec(scriptPath)![1]
    gaps.push(`${app.name} runs a script from ${input.cwd}/package.json, which may start other programs`)
  } else if (scriptPath) {
    appDir = packageRoot(input, posix.dirname(scriptPath)) ?? posix.dirname(scriptPath)
    if (!rootfs.stat(scriptPath) && !rootfs.stat(`${scriptPath}.js`)) gaps.push(`the script ${scriptPath} is not in the image`)
  }
  const moduleDirs: string[] = []
  for (let d = appDir; ; d = posix.dirname(d)) {
    moduleDirs.push(d === '/' ? '/node_modules' : `${d}/node_modules`)
    if (d === '/') break
  }
  const trees = existingDirs(rootfs, [
    ...(appDir !== '/' ? [appDir] : []),
    ...moduleDirs,
    ...(input.env.NODE_PATH ?? '').split(':').filter(Boolean).map((p) => fromCwd(p, input.cwd)),
    ...(app.name ? [`${prefix}/lib/node_modules/${app.name}`, `/usr/share/nodejs/${app.name}`] : []),
  ])
  const runtime: Runtime = { language: 'node', executable: input.realPath, app, appDir, trees }
  if (version) runtime.version = version
  if (versionEvidence) runtime.versionEvidence = versionEvidence
  runtime.home = `${prefix}/lib/node_modules`
  const native = findNativeModules(rootfs, trees, /\.node$/)
  if (native.truncated) gaps.push('too many native addons to check them all')
  return { runtime, nativeModules: native.files, gaps }
}

function packageRoot(input: RuntimeInput, dir: string): string | undefined {
  for (let d = dir; ; d = posix.dirname(d)) {
    if (isFile(input.rootfs, `${d === '/' ? '' : d}/package.json`) && !/\/node_modules(\/|$)/.test(d)) return d
    if (d === '/') return undefined
  }
}

function nodeApp(args: string[], cwd: string): Runtime['app'] {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') return { kind: 'inline' }
    if (a === '-i' || a === '--interactive') return { kind: 'repl' }
    if (WITH_VALUE.has(a)) {
      i++
      continue
    }
    if (a === '--') {
      const s = args[i + 1]
      return s ? { kind: 'script', path: fromCwd(s, cwd) } : { kind: 'repl' }
    }
    if (a.startsWith('-')) continue
    return { kind: 'script', path: fromCwd(a, cwd) }
  }
  return { kind: 'repl' }
}
