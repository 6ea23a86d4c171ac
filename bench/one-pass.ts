/**
 * One-pass benchmark (issue 11), next to bench/layers.ts: the Debian rootfs split into 10 layers
 * by path with the python3 entrypoint and extension modules spread over the layers (the test
 * fixture 'debian-split-python', built by test/fixtures), pushed to a loopback registry. Prints in
 * one run, with peak RSS (GNU time) and the layer passes slim made (its --debug line):
 *
 *   floor: gzip -dc | tar -t of every layer, 2 in parallel
 *   slim analyze, cold (empty cache); warm (layer index cached); a second image sharing all but
 *   its top layer; and the peak RSS of indexing one layer of 1,000,000 files.
 *
 *   npm run build && SLIM_SHARED=/work/shared npx tsx bench/one-pass.ts
 *
 * SLIM_BENCH_BIN=/path/to/other/bin/run.js runs another build of slim instead (a before/after
 * comparison on a busy machine is only fair within runs made back to back).
 *
 *   npx tsx bench/one-pass.ts million [runs]
 *
 * runs only the 1,000,000-file row (no registry, no fixture), `runs` times (default 1).
 *
 * Nothing here asserts a time: it prints numbers.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { once } from 'node:events'
import { createGzip } from 'node:zlib'
import { ensureFixtures } from '../test/fixtures/index.js'
import { pushLayout, startRegistry } from '../test/infra/registry.js'
import { tarEntry } from '../test/helpers/tar-layers.js'

const ROOT = resolve(import.meta.dirname, '..')
const SCRATCH = join(process.env.SLIM_BENCH_CACHE ?? '/var/tmp/slim-bench-one-pass')

function sh(cmd: string): string {
  return execFileSync('bash', ['-euo', 'pipefail', '-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 26 })
}

interface Row {
  seconds: number
  /** user + system CPU seconds: steadier than wall time when other work shares the cores. */
  cpu: number
  rssMB: number
  passes?: string
}

function timed(label: string, cmd: string): Row {
  const t = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', 'bash', '-euo', 'pipefail', '-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 26 })
  if (t.status !== 0) throw new Error(`${label} failed: ${t.stderr.slice(-2000)}`)
  const lines = t.stderr.trim().split('\n')
  const last = lines.pop()!.split(' ')
  const passes = lines.map((l) => /layer passes[^:]*: (.*)$/.exec(l)?.[1]).find(Boolean)
  return { seconds: Number(last[0]), rssMB: Number(last[1]) / 1024, cpu: Number(last[2]) + Number(last[3]), ...(passes ? { passes } : {}) }
}

function layerBlobs(layout: string, tag: string): string[] {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'))
  const desc = index.manifests.find((m: { annotations?: Record<string, string> }) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)
  const manifest = JSON.parse(readFileSync(join(layout, 'blobs', ...desc.digest.split(':')), 'utf8'))
  return manifest.layers.map((l: { digest: string }) => join(layout, 'blobs', ...l.digest.split(':')))
}

/** An OCI layout with one image of one layer holding `count` empty files in 1,000 directories. */
async function millionFileLayout(dir: string, count: number): Promise<void> {
  if (existsSync(join(dir, 'done'))) return
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const tarPath = join(dir, 'layer.tar')
  const out = createWriteStream(tarPath)
  for (let i = 0; i < count; i++) {
    const name = `d${i % 1000}/f${i}`
    if (!out.write(tarEntry({ name, data: '' }))) await once(out, 'drain')
  }
  out.end(Buffer.alloc(1024))
  await once(out, 'finish')
  sh(`umoci init --layout ${dir}/oci && umoci new --image ${dir}/oci:m && umoci raw add-layer --image ${dir}/oci:m ${tarPath} && umoci config --image ${dir}/oci:m --config.cmd /bin/true`)
  rmSync(tarPath)
  sh(`touch ${dir}/done`)
}

const slimCmd = (bin: string, cache: string, ref: string, extra = ''): string =>
  `node ${bin} analyze ${ref} --json --quiet --debug --cache-dir ${cache} ${extra} 2>&1 >/dev/null | grep 'layer passes' >&2 || true`

function printRows(rows: [string, Row][], floor: number | undefined): void {
  console.log('')
  console.log('what'.padEnd(44), 'seconds'.padStart(8), 'x floor'.padStart(8), 'cpu s'.padStart(7), 'peak RSS MB'.padStart(12), '  layer passes')
  for (const [what, r] of rows) {
    const x = floor ? (r.seconds / floor).toFixed(2) : '-'
    console.log(what.padEnd(44), r.seconds.toFixed(2).padStart(8), x.padStart(8), r.cpu.toFixed(2).padStart(7), r.rssMB.toFixed(0).padStart(12), ` ${r.passes ?? '-'}`)
  }
}

/** Only the 1,000,000-file row, `runs` times: the memory target without the rest of the bench. */
async function millionOnly(bin: string, runs: number): Promise<void> {
  console.log(`slim: ${bin}; load average: ${sh('cut -d" " -f1-3 /proc/loadavg').trim()}`)
  mkdirSync(SCRATCH, { recursive: true })
  await millionFileLayout(join(SCRATCH, 'million'), 1_000_000)
  const cache = join(SCRATCH, 'cache-million')
  const ref = `oci:${join(SCRATCH, 'million', 'oci')}:m`
  const rows: [string, Row][] = []
  try {
    for (let i = 1; i <= runs; i++) rows.push([`1,000,000-file layer, cold, run ${i}`, timed('million', slimCmd(bin, cache, ref, '--no-cache'))])
  } finally {
    rmSync(cache, { recursive: true, force: true })
  }
  printRows(rows, undefined)
  console.log('\n(target, issue 11: peak RSS <= 200 MB)')
}

async function main(): Promise<void> {
  const bin = process.env.SLIM_BENCH_BIN ?? join(ROOT, 'bin/run.js')
  if (!process.env.SLIM_BENCH_BIN && !existsSync(join(ROOT, 'dist/commands/analyze.js'))) throw new Error('run `npm run build` first')
  if (process.argv[2] === 'million') return millionOnly(bin, Math.max(1, Number(process.argv[3] ?? 1) || 1))
  const fx = await ensureFixtures(['debian-split-python'])
  const blobs = layerBlobs(fx.layout, 'debian-split-python')
  const uncompressed = Number(sh(`for b in ${blobs.join(' ')}; do gzip -dc "$b"; done | wc -c`).trim())
  const compressed = Number(sh(`cat ${blobs.join(' ')} | wc -c`).trim())
  console.log(`slim: ${bin}; load average: ${sh('cut -d" " -f1-3 /proc/loadavg').trim()}`)
  console.log(`image: debian-split-python, ${blobs.length} layers, ${(compressed / 1e6).toFixed(0)} MB compressed, ${(uncompressed / 1e6).toFixed(0)} MB uncompressed`)
  mkdirSync(SCRATCH, { recursive: true })
  await millionFileLayout(join(SCRATCH, 'million'), 1_000_000)

  const reg = await startRegistry('plain')
  const cache = join(SCRATCH, 'cache')
  try {
    await pushLayout(fx.layout, 'debian-split-python', 'bench/split:a', reg, { all: false })
    await pushLayout(fx.layout, 'debian-split-python-b', 'bench/split:b', reg, { all: false })
    rmSync(cache, { recursive: true, force: true })
    const slim = (ref: string, extra = '') => slimCmd(bin, cache, ref, extra)
    const a = `docker://${reg.host}/bench/split:a`
    const b = `docker://${reg.host}/bench/split:b`
    const rows: [string, Row][] = []
    rows.push(['floor: gzip -dc | tar -t, 2 parallel', timed('floor', `printf '%s\\n' ${blobs.join(' ')} | xargs -P 2 -I{} bash -c 'gzip -dc {} | tar -t > /dev/null'`)])
    rows.push(['slim analyze, cold cache', timed('cold', slim(a))])
    rows.push(['slim analyze, warm cache', timed('warm', slim(a))])
    rows.push(['slim analyze, 2nd image, shared base', timed('second', slim(b))])
    rows.push(['slim analyze --no-cache (blobs, no index)', timed('no-cache', slim(a, '--no-cache'))])
    rows.push(['slim analyze, 1,000,000-file layer, cold', timed('million', slim(`oci:${join(SCRATCH, 'million', 'oci')}:m`, '--no-cache'))])
    printRows(rows, rows[0]![1].seconds)
    console.log('\n(targets, issue 11: cold <= 1.3x floor, warm <= 0.1x, shared base <= 0.2x, peak RSS <= 200 MB)')
  } finally {
    await reg.stop()
    rmSync(cache, { recursive: true, force: true })
  }
}

await main()
