/**
 * Layer-reading benchmark (issue 3). Builds a large image once (>= 1 GB uncompressed, >= 10
 * layers, many small files and some big ones: a Debian rootfs from mmdebstrap plus extra layers),
 * pushes it to a local registry, and reports in ONE run, so the ratios compare like with like:
 *
 *   slim analyze, cold (empty cache) and warm
 *   the floor: `gzip -dc LAYER | tar -t` for every layer, serial and 2 in parallel
 *   skopeo copy docker://… oci:… followed by umoci unpack
 *
 * plus slim's peak RSS (GNU time). Nothing here asserts a time: it prints numbers.
 *
 *   npm run build && npx tsx bench/layers.ts
 *
 * The image is cached in $SLIM_BENCH_CACHE (default /var/tmp/slim-bench); delete it to rebuild.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { pushLayout, startRegistry } from '../test/infra/registry.js'

const ROOT = resolve(import.meta.dirname, '..')
const CACHE = process.env.SLIM_BENCH_CACHE ?? '/var/tmp/slim-bench'
const LAYOUT = join(CACHE, 'oci')
const REF = 'big'
const STAMP = join(CACHE, 'built-v1')

function sh(cmd: string, opts: { cwd?: string } = {}): string {
  return execFileSync('bash', ['-euo', 'pipefail', '-c', cmd], { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 1 << 26 })
}

function timed(label: string, cmd: string): { seconds: number; rssMB: number } {
  const t = spawnSync('/usr/bin/time', ['-f', '%e %M', 'bash', '-euo', 'pipefail', '-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 26 })
  if (t.status !== 0) throw new Error(`${label} failed: ${t.stderr.slice(-2000)}`)
  const last = t.stderr.trim().split('\n').pop()!.split(' ')
  return { seconds: Number(last[0]), rssMB: Number(last[1]) / 1024 }
}

/** Many small files, like node_modules or a Python site-packages. */
function smallFiles(dir: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const d = join(dir, `pkg${Math.floor(i / 100)}`, `sub${i % 7}`)
    mkdirSync(d, { recursive: true })
    writeFileSync(join(d, `file${i}.js`), `// module ${i}\n${'export const x = 1;\n'.repeat(1 + (i % 200))}`)
  }
}

function buildImage(): void {
  if (existsSync(STAMP)) return
  rmSync(CACHE, { recursive: true, force: true })
  mkdirSync(CACHE, { recursive: true })
  const work = join(CACHE, 'work')
  mkdirSync(work)
  console.error('building the benchmark image (mmdebstrap; a few minutes the first time)…')
  sh(
    `nice mmdebstrap --quiet --mode=root --variant=minbase --include=golang-go,gcc,g++,python3,perl,git,curl --format=tar bookworm ${work}/base.tar`,
  )
  sh(`umoci init --layout ${LAYOUT} && umoci new --image ${LAYOUT}:${REF} && umoci raw add-layer --image ${LAYOUT}:${REF} ${work}/base.tar`)
  rmSync(join(work, 'base.tar'))
  const layer = (name: string, fill: (dir: string) => void) => {
    const d = join(work, name)
    mkdirSync(d, { recursive: true })
    fill(d)
    sh(`tar --numeric-owner -C ${d} -cf ${work}/${name}.tar . && umoci raw add-layer --image ${LAYOUT}:${REF} ${work}/${name}.tar`)
    rmSync(d, { recursive: true })
    rmSync(`${work}/${name}.tar`)
  }
  layer('l1-small', (d) => smallFiles(join(d, 'app/node_modules'), 30_000))
  layer('l2-big', (d) => {
    mkdirSync(join(d, 'data'), { recursive: true })
    for (let i = 0; i < 3; i++) writeFileSync(join(d, 'data', `blob${i}.bin`), randomBytes(100 * 1024 * 1024))
  })
  layer('l3-text', (d) => {
    mkdirSync(join(d, 'data'), { recursive: true })
    writeFileSync(join(d, 'data', 'log.txt'), 'a fairly compressible log line with some numbers 1234567890\n'.repeat(3_000_000))
  })
  layer('l4-delete', (d) => {
    mkdirSync(join(d, 'data'), { recursive: true })
    writeFileSync(join(d, 'data', '.wh.blob0.bin'), '')
  })
  for (let i = 5; i < 12; i++) {
    layer(`l${i}-config`, (d) => {
      mkdirSync(join(d, 'etc/app'), { recursive: true })
      writeFileSync(join(d, 'etc/app', `conf${i}.yaml`), `setting: ${i}\n`.repeat(1000))
      writeFileSync(join(d, 'data-copy.bin'), randomBytes(5 * 1024 * 1024))
    })
  }
  sh(
    `umoci config --image ${LAYOUT}:${REF} --config.entrypoint /usr/bin/curl --config.cmd --version ` +
      `--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin && umoci gc --layout ${LAYOUT}`,
  )
  rmSync(work, { recursive: true })
  writeFileSync(STAMP, new Date().toISOString())
}

function layerBlobs(): string[] {
  const index = JSON.parse(readFileSync(join(LAYOUT, 'index.json'), 'utf8'))
  const desc = index.manifests.find((m: { annotations?: Record<string, string> }) => m.annotations?.['org.opencontainers.image.ref.name'] === REF)
  const manifest = JSON.parse(readFileSync(join(LAYOUT, 'blobs', ...desc.digest.split(':')), 'utf8'))
  return manifest.layers.map((l: { digest: string }) => join(LAYOUT, 'blobs', ...l.digest.split(':')))
}

async function main(): Promise<void> {
  if (process.argv.includes('--build-only')) return buildImage()
  if (!existsSync(join(ROOT, 'dist/commands/analyze.js'))) throw new Error('run `npm run build` first')
  buildImage()
  const blobs = layerBlobs()
  const compressed = blobs.reduce((s, b) => s + statSync(b).size, 0)
  const uncompressed = Number(sh(`for b in ${blobs.join(' ')}; do gzip -dc "$b"; done | wc -c`).trim())
  console.log(`image: ${blobs.length} layers, ${(compressed / 1e6).toFixed(0)} MB compressed, ${(uncompressed / 1e6).toFixed(0)} MB uncompressed`)

  const reg = await startRegistry('plain')
  const scratch = join(CACHE, 'run')
  try {
    await pushLayout(LAYOUT, REF, 'bench/big:1', reg, { all: false })
    rmSync(scratch, { recursive: true, force: true })
    mkdirSync(scratch)
    const image = `docker://${reg.host}/bench/big:1`
    const slim = (cache: string) => `node ${ROOT}/bin/run.js analyze ${image} --json --quiet --cache-dir ${cache} > /dev/null`
    // The layer stage alone (what issue 3's target is about): open, stream every layer into the index.
    const indexOnly = (cache: string) =>
      `node --input-type=module -e "const { openImage } = await import('${ROOT}/dist/image/open.js'); ` +
      `const { buildIndex } = await import('${ROOT}/dist/layers/index.js'); ` +
      `const img = await openImage('${image}', { cacheDir: '${cache}' }); await buildIndex(img); await img.close()"`

    const results: [string, { seconds: number; rssMB: number }][] = []
    results.push(['floor: gzip -dc | tar -t, serial', timed('serial', `for b in ${blobs.join(' ')}; do gzip -dc "$b" | tar -t > /dev/null; done`)])
    results.push([
      'floor: gzip -dc | tar -t, 2 parallel',
      timed('parallel', `printf '%s\\n' ${blobs.join(' ')} | xargs -P 2 -I{} bash -c 'gzip -dc {} | tar -t > /dev/null'`),
    ])
    results.push(['slim layer index only, cold cache', timed('index cold', indexOnly(join(scratch, 'cache-index')))])
    results.push(['slim layer index only, warm cache', timed('index warm', indexOnly(join(scratch, 'cache-index')))])
    results.push(['slim analyze (all stages), cold cache', timed('cold', slim(join(scratch, 'cache')))])
    results.push(['slim analyze (all stages), warm cache', timed('warm', slim(join(scratch, 'cache')))])
    results.push([
      'skopeo copy + umoci unpack',
      timed('skopeo', `skopeo copy -q --src-tls-verify=false docker://${reg.host}/bench/big:1 oci:${scratch}/sk:1 && umoci unpack --image ${scratch}/sk:1 ${scratch}/bundle > /dev/null`),
    ])
    const floor = results[1][1].seconds
    console.log('')
    console.log('what'.padEnd(42), 'seconds'.padStart(8), 'x floor'.padStart(8), 'peak RSS MB'.padStart(12))
    for (const [what, r] of results) {
      console.log(what.padEnd(42), r.seconds.toFixed(2).padStart(8), (r.seconds / floor).toFixed(2).padStart(8), r.rssMB.toFixed(0).padStart(12))
    }
    console.log('\n(floor = the parallel decompress; targets: cold layer read <= 1.3x floor, slim peak RSS <= 200 MB.')
    console.log(' "all stages" adds inspection, which re-reads the layers holding the program and its libraries.)')
  } finally {
    await reg.stop()
    rmSync(scratch, { recursive: true, force: true })
  }
}

await main()
