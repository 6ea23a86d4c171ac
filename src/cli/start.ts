/**
 * What bin/run.js does before oclif loads: Node's compile cache where Node has one, oclif's
 * Node-version check turned off, and WebAssembly kept on V8's baseline tier. All three are time
 * every run pays (issue 11: a warm analyze must cost a fraction of a layer pass, and start-up and
 * exit are most of what is left).
 */
import module from 'node:module'
import { join, resolve } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { defaultCacheDir } from '../image/cache.js'

/**
 * The directory compiled code is cached in: `<cache dir>/compile`, the cache dir the run's flags
 * name (--cache-dir, else the default); none with --no-cache, which promises to write no cache.
 */
export function compileCacheDir(argv: string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  // `slim cache ...` looks at or prunes the cache: it must not write to it (a pruned compile cache
  // would be written again at exit).
  if (argv[0] === 'cache') return undefined
  let dir: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') break
    if (a === '--no-cache') return undefined
    if (a === '--cache-dir') dir = argv[i + 1]
    else if (a.startsWith('--cache-dir=')) dir = a.slice('--cache-dir='.length)
  }
  // A relative --cache-dir names a directory under the working directory, as it does for the blob cache.
  return join(dir ? resolve(dir) : defaultCacheDir(env), 'compile')
}

/**
 * Node >= 22.1 can keep V8's compiled code between runs (module.enableCompileCache): about a third
 * of start-up is compiling slim's and oclif's modules. Node 20 has no such cache; nothing happens.
 * Never fatal: a cache that cannot be written only means compiling again.
 */
export function enableCompileCache(argv: string[]): void {
  const enable = (module as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache
  if (typeof enable !== 'function' || process.env.NODE_COMPILE_CACHE) return
  const dir = compileCacheDir(argv)
  if (!dir) return
  try {
    enable(dir)
  } catch {
    // Compiling as before is the fallback.
  }
}

/**
 * undici parses HTTP with llhttp compiled to WebAssembly. V8 runs it with its baseline compiler
 * (Liftoff) at once and then compiles the hot parts again with TurboFan on a background thread,
 * and Node waits for that compile before the process can exit: 0.08 to 0.12 s after the output of
 * every run that talked to a registry, a third of a warm `slim analyze` (0.3 s). Liftoff's code is
 * enough for what slim parses (headers and body framing; a cold run's 424 MB of blobs took no
 * longer). Called before any WebAssembly is compiled. Only where Liftoff is V8's tier for every
 * module (x64, arm64): elsewhere `--liftoff-only` could stop a module TurboFan alone compiles.
 */
export function keepWasmOnBaselineTier(arch: string = process.arch): boolean {
  if (arch !== 'x64' && arch !== 'arm64') return false
  try {
    setFlagsFromString('--liftoff-only')
    return true
  } catch {
    return false
  }
}

