/**
 * Records what slim prints for every fixture and corpus image, so a refactor can prove it changed
 * no output: `analyze --json`, the text report, `analyze --files` and `dockerfile` (stdout, and the exit code and
 * first stderr line when it fails).
 *
 *   npm run build && SLIM_SHARED=/work/shared npx tsx bench/golden.ts /var/tmp/slim-golden-before
 *   ... change code, build ...
 *   SLIM_SHARED=/work/shared npx tsx bench/golden.ts /var/tmp/slim-golden-after
 *   diff -r /var/tmp/slim-golden-before /var/tmp/slim-golden-after
 *
 * Every run uses --no-cache so a layer-index cache cannot hide a difference. With
 * SLIM_GOLDEN_CACHE=DIR every run uses that cache directory instead and what is recorded is the
 * second run of each (the warm path: layer indexes read back from the cache, and the analysis
 * result served by the result cache); record before and after with the same DIR, and the after
 * runs read the layer indexes the before build wrote (analysis results are per build: each build
 * records a hit of its own).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ensureFixtures } from '../test/fixtures/index.js'
import { runCli } from '../test/helpers/cli.js'
import { SHARED } from '../test/helpers/shared.js'

const out = process.argv[2]
if (!out) throw new Error('usage: tsx bench/golden.ts OUTDIR')
mkdirSync(out, { recursive: true })

/** The corpus rows' references, read from the corpus test so the list cannot drift. */
function corpusRefs(): string[] {
  const src = readFileSync(new URL('../test/corpus-images.test.ts', import.meta.url), 'utf8')
  const consts: Record<string, string> = {}
  for (const m of src.matchAll(/^const (\w+) = `([^`]*)`/gm)) {
    consts[m[1]!] = m[2]!.replace(/\$\{(\w+)\}/g, (_, n: string) => (n === 'SHARED' ? SHARED : consts[n] ?? `\${${n}}`))
  }
  return [...src.matchAll(/ref: `([^`]*)`/g)].map((m) => m[1]!.replace(/\$\{(\w+)\}/g, (_, n: string) => consts[n]!))
}

const fx = await ensureFixtures(['all'])
const images: [string, string][] = [
  ...Object.entries(fx.refs).map(([name, ref]): [string, string] => [`fixture-${name}`, ref]),
  ['fixture-dockerArchive', `docker-archive:${fx.dockerArchive}`],
  ['fixture-ociArchive', `oci-archive:${fx.ociArchive}`],
  ...corpusRefs().map((ref, i): [string, string] => [`corpus-${String(i).padStart(3, '0')}`, ref]),
]

const warmCache = process.env.SLIM_GOLDEN_CACHE
const cache = warmCache ? ['--cache-dir', warmCache] : ['--no-cache']
const RUNS: [string, (ref: string) => string[]][] = [
  ['json', (ref) => ['analyze', ref, '--json', ...cache, '-q']],
  ['text', (ref) => ['analyze', ref, ...cache, '-q']],
  ['files', (ref) => ['analyze', ref, '--files', ...cache, '-q']],
  ['dockerfile', (ref) => ['dockerfile', ref, ...cache, '-q']],
]

const t0 = Date.now()
const queue = [...images]
async function worker(): Promise<void> {
  for (let next = queue.shift(); next; next = queue.shift()) {
    const [name, ref] = next
    for (const [kind, args] of RUNS) {
      if (warmCache) await runCli(args(ref), { timeoutMs: 600_000 })
      const r = await runCli(args(ref), { timeoutMs: 600_000 })
      const firstErr = r.stderr.split('\n').find((l) => l.trim()) ?? ''
      writeFileSync(join(out, `${name}.${kind}`), `# ${ref}\n# exit ${r.code}${r.code ? ` ${firstErr}` : ''}\n${r.stdout}`)
    }
    process.stderr.write(`${name} done (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`)
  }
}
await Promise.all([worker(), worker()])
