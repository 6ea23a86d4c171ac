/**
 * bin/run.js's start-up (src/cli/start.ts): Node's compile cache goes only into slim's cache dir
 * (the one the run's flags name), and nowhere with --no-cache; WebAssembly (undici's HTTP parser)
 * stays on V8's baseline tier, so no background recompile holds the process at exit.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { compileCacheDir, keepWasmOnBaselineTier } from '../src/cli/start.js'
import { BIN } from './helpers/cli.js'

describe('compile cache dir', () => {
  const env = { XDG_CACHE_HOME: '/xdg' }
  it('is <cache dir>/compile for the cache dir the flags name, else the default one', () => {
    expect(compileCacheDir(['analyze', 'img'], env)).toBe('/xdg/slim/compile')
    expect(compileCacheDir(['analyze', 'img', '--cache-dir', '/c'], env)).toBe('/c/compile')
    expect(compileCacheDir(['analyze', '--cache-dir=/d', 'img'], env)).toBe('/d/compile')
    expect(compileCacheDir(['analyze', 'img', '--cache-dir', 'rel/dir'], env)).toBe(join(resolve('rel/dir'), 'compile'))
  })
  it('is none with --no-cache and for `slim cache` (which prunes it), and arguments after -- are not flags', () => {
    expect(compileCacheDir(['analyze', 'img', '--no-cache'], env)).toBeUndefined()
    expect(compileCacheDir(['cache', 'prune', '--all', '--cache-dir', '/c'], env)).toBeUndefined()
    expect(compileCacheDir(['build', 'img', '--', '--no-cache', '--cache-dir', '/x'], env)).toBe('/xdg/slim/compile')
  })
})

/**
 * Loaded with --import before bin/run.js: when the CLI is done (beforeExit), compiles a one-function
 * WebAssembly module, calls it hot in rounds and prints whether V8 still runs it from Liftoff.
 * Without the flag V8 tiers it up to TurboFan within a few rounds (the control below).
 */
const PROBE = `
import { setFlagsFromString } from 'node:v8'
if (process.env.PROBE_FLAG) setFlagsFromString(process.env.PROBE_FLAG)
let probed = false
process.on('beforeExit', async () => {
  if (probed) return
  probed = true
  // (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
  const bytes = new Uint8Array([0,97,115,109,1,0,0,0,1,7,1,96,2,127,127,1,127,3,2,1,0,7,7,1,3,97,100,100,0,0,10,9,1,7,0,32,0,32,1,106,11])
  const { add } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports
  const liftoff = new Function('f', 'return %IsLiftoffFunction(f)')
  // Compiled on its first call (lazily): from then on it is Liftoff code until tiered up.
  add(1, 2)
  const first = liftoff(add)
  let round = 0
  for (; round < 300 && liftoff(add); round++) {
    for (let i = 0; i < 100000; i++) add(i, 1)
    await new Promise((r) => setTimeout(r, 5))
  }
  process.stderr.write('PROBE ' + JSON.stringify({ first, liftoff: liftoff(add), round }) + '\\n')
})
`

describe('WebAssembly stays on the baseline tier', () => {
  const run = promisify(execFile)
  async function probe(args: string[], env: Record<string, string> = {}): Promise<{ first: boolean; liftoff: boolean; round: number }> {
    const dir = mkdtempSync(join(tmpdir(), 'slim-wasm-probe-'))
    try {
      const hook = join(dir, 'probe.mjs')
      writeFileSync(hook, PROBE)
      const { stderr } = await run(process.execPath, ['--allow-natives-syntax', '--import', hook, ...args], { env: { ...process.env, ...env }, timeout: 60_000 })
      return JSON.parse(/PROBE (.*)/.exec(stderr)![1]!)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  it.skipIf(!['x64', 'arm64'].includes(process.arch))('in the built CLI, and a hot function is tiered up without it', async () => {
    // Control: plain Node tiers the hot function up.
    const plain = await probe(['-e', '0'])
    expect(plain.first).toBe(true)
    expect(plain.liftoff).toBe(false)
    // bin/run.js sets it before anything runs: the same work leaves the function on Liftoff.
    const slim = await probe([BIN, '--version'])
    expect(slim).toEqual({ first: true, liftoff: true, round: 300 })
  })

  it('is only asked for where Liftoff compiles every module', () => {
    expect(keepWasmOnBaselineTier('ppc64')).toBe(false)
    expect(keepWasmOnBaselineTier('s390x')).toBe(false)
  })
})

