/**
 * One-pass benchmark (issue 11), next to bench/layers.ts: a Debian rootfs split into 10 layers
 * by path with the python3 entrypoint and extension modules spread over the layers, pushed to a
 * loopback registry. Two images (test/fixtures/split-rootfs.ts splits both):
 *
 *   split  the test fixture 'debian-split-python' (built by test/fixtures): 250 MB uncompressed
 *   big    the image issue 11 measured: minbase + g++, Go, Python, Java (1.2 GB uncompressed),
 *          built here by mmdebstrap and cached under /var/tmp/slim-bench-big (1.7 GB kept: the
 *          rootfs and the OCI layout; about 3 GB while the layer tars are made; never in the repo)
 *
 * Prints for each, in one run, with peak RSS (GNU time) and the layer passes slim made (its
 * --debug line):
 *
 *   floor: gzip -dc | tar -t of every layer, 2 in parallel
 *   slim analyze, cold (empty cache); warm (layer index cached); a second image sharing all but
 *   its top layer; and the peak RSS of indexing one layer of 1,000,000 files.
 *
 *   npm run build && SLIM_SHARED=/work/shared npx tsx bench/one-pass.ts [split|big|all]
 *
 * The argument (or SLIM_BENCH_IMAGE) picks the image; the default is both.
 *
 *   npx tsx bench/one-pass.ts million [runs]
 *
 * runs only the 1,000,000-file row (no registry, no fixture), `runs` times (default 1).
 *
 * SLIM_BENCH_BIN=/path/to/other/bin/run.js runs another build of slim instead (a before/after
 * comparison on a busy machine is only fair within runs made back to back).
 *
 * Nothing here asserts a time: it prints numbers.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { once } from 'node:events'
import { createGzip } from 'node:zlib'
import { ensureFixtures } from '../test/fixtures/index.js'
import { buildSplitImages } from '../test/fixtures/split-rootfs.js'
import { SPLIT_DYNLOAD, SPLIT_LAYERS, SPLIT_PATH_ENV } from '../test/fixtures/units/debian-split.js'
import { pushLayout, startRegistry } from '../test/infra/registry.js'
import { tarEntry } from '../test/helpers/tar-layers.js'

const ROOT = resolve(import.meta.dirname, '..')
const SCRATCH = join(process.env.SLIM_BENCH_CACHE ?? '/var/tmp/slim-bench-one-pass')
const BIG = process.env.SLIM_BENCH_BIG ?? '/var/tmp/slim-bench-big'
/** The big image's packages: compilers and runtimes, the kind of base image that is 1 GB+. */
const BIG_PACKAGES = ['g++', 'golang-go', 'python3', 'default-jre-headless']
const SOURCES = '/etc/apt/sources.list.d/debian.sources'

function sh(cmd: string): string {
  return execFileSync('bash', ['--norc', '-euo', 'pipefail', '-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 26 })
}

interface Row {
  seconds: number
  /** user + system CPU seconds: steadier than wall time when other work shares the cores. */
  cpu: number
  rssMB: number
  passes?: string
}

function timed(label: string, cmd: string): Row {
  const t = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', 'bash', '--norc', '-euo', 'pipefail', '-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 26 })
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

interface BenchImage {
  name: string
  layout: string
  tag: string
  tagB: string
}

/** The 1.2 GB image: mmdebstrap rootfs, then the same split as the test fixture. Built once. */
async function bigImage(): Promise<BenchImage> {
  const img = { name: 'debian-big-split-python', layout: join(BIG, 'oci'), tag: 'big', tagB: 'big-b' }
  if (existsSync(join(BIG, 'images.done'))) return img
  const root = join(BIG, 'rootfs')
  const env = { TMPDIR: join(BIG, 'tmp') }
  mkdirSync(env.TMPDIR, { recursive: true })
  if (!existsSync(join(BIG, 'rootfs.done'))) {
    console.log(`building ${root} with mmdebstrap (${BIG_PACKAGES.join(', ')}) ...`)
    rmSync(root, { recursive: true, force: true })
    const mirror = existsSync(SOURCES) ? SOURCES : ''
    sh(`mmdebstrap --quiet --mode=root --variant=minbase --include=${BIG_PACKAGES.join(',')} --format=directory bookworm ${root} ${mirror}`)
    sh(`touch ${BIG}/rootfs.done`)
  }
  console.log(`splitting ${root} into ${SPLIT_LAYERS} layers in ${img.layout} ...`)
  rmSync(img.layout, { recursive: true, force: true })
  const work = join(BIG, 'work')
  rmSync(work, { recursive: true, force: true })
  mkdirSync(work, { recursive: true })
  sh(`umoci init --layout ${img.layout}`)
  await buildSplitImages({
    root, layout: img.layout, work, env, tag: img.tag, tagB: img.tagB,
    layers: SPLIT_LAYERS, extraModules: 20, dynload: SPLIT_DYNLOAD,
    config: { os: 'linux', arch: 'amd64', cmd: ['python3'], env: [SPLIT_PATH_ENV] },
  })
  sh(`umoci gc --layout ${img.layout}`)
  rmSync(work, { recursive: true, force: true })
  sh(`touch ${BIG}/images.done`)
  return img
}

async function splitImage(): Promise<BenchImage> {
  const fx = await ensureFixtures(['debian-split-python'])
  return { name: 'debian-split-python', layout: fx.layout, tag: 'debian-split-python', tagB: 'debian-split-python-b' }
}

async function benchImage(img: BenchImage, bin: string, million: string): Promise<void> {
  const blobs = layerBlobs(img.layout, img.tag)
  const uncompressed = Number(sh(`for b in ${blobs.join(' ')}; do gzip -dc "$b"; done | wc -c`).trim())
  const compressed = Number(sh(`cat ${blobs.join(' ')} | wc -c`).trim())
  console.log(`\nimage: ${img.name}, ${blobs.length} layers, ${(compressed / 1e6).toFixed(0)} MB compressed, ${(uncompressed / 1e6).toFixed(0)} MB uncompressed`)
  console.log(`slim: ${bin}; load average before: ${loadavg()}`)

  const reg = await startRegistry('plain')
  const cache = join(SCRATCH, 'cache')
  try {
    await pushLayout(img.layout, img.tag, 'bench/split:a', reg, { all: false })
    await pushLayout(img.layout, img.tagB, 'bench/split:b', reg, { all: false })
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
    if (million) rows.push(['slim analyze, 1,000,000-file layer, cold', timed('million', slim(`oci:${million}:m`, '--no-cache'))])
    printRows(rows, rows[0]![1])
    console.log(`load average after: ${loadavg()}`)
  } finally {
    await reg.stop()
    rmSync(cache, { recursive: true, force: true })
  }
}

const slimCmd = (bin: string, cache: string, ref: string, extra = ''): string =>
  `node ${bin} analyze ${ref} --json --quiet --debug --cache-dir ${cache} ${extra} 2>&1 >/dev/null | grep 'layer passes' >&2 || true`

function printRows(rows: [string, Row][], floor: Row | undefined): void {
  const x = (v: number, f: number | undefined) => (f ? (v / f).toFixed(2) : '-').padStart(8)
  console.log('')
  console.log('what'.padEnd(44), 'wall s'.padStart(8), 'x floor'.padStart(8), 'cpu s'.padStart(7), 'x floor'.padStart(8), 'peak RSS MB'.padStart(12), '  layer passes')
  for (const [what, r] of rows) {
    console.log(what.padEnd(44), r.seconds.toFixed(2).padStart(8), x(r.seconds, floor?.seconds), r.cpu.toFixed(2).padStart(7), x(r.cpu, floor?.cpu), r.rssMB.toFixed(0).padStart(12), ` ${r.passes ?? '-'}`)
  }
}

/** Only the 1,000,000-file row, `runs` times: the memory target without the rest of the bench. */
async function millionOnly(bin: string, runs: number): Promise<void> {
  console.log(`slim: ${bin}; load average: ${loadavg()}`)
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

function loadavg(): string {
  return sh('cut -d" " -f1-3 /proc/loadavg').trim()
}

async function main(): Promise<void> {
  const bin = process.env.SLIM_BENCH_BIN ?? join(ROOT, 'bin/run.js')
  if (!process.env.SLIM_BENCH_BIN && !existsSync(join(ROOT, 'dist/commands/analyze.js'))) throw new Error('run `npm run build` first')
  if (process.argv[2] === 'million') return millionOnly(bin, Math.max(1, Number(process.argv[3] ?? 1) || 1))
  const pick = process.argv[2] ?? process.env.SLIM_BENCH_IMAGE ?? 'all'
  if (!['split', 'big', 'all'].includes(pick)) throw new Error(`unknown image '${pick}': give split, big or all`)
  const images = [...(pick !== 'big' ? [await splitImage()] : []), ...(pick !== 'split' ? [await bigImage()] : [])]
  mkdirSync(SCRATCH, { recursive: true })
  await millionFileLayout(join(SCRATCH, 'million'), 1_000_000)
  // The 1,000,000-file row does not depend on the image: once per run, with the last image.
  for (const [i, img] of images.entries()) await benchImage(img, bin, i === images.length - 1 ? join(SCRATCH, 'million', 'oci') : '')
  console.log('\n(targets, issue 11: cold <= 1.3x floor, warm <= 0.1x, shared base <= 0.2x, peak RSS <= 200 MB)')
}

await main()
