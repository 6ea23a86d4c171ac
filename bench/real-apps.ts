/**
 * The README's table of slim builds: each real-app fixture image is built with the built CLI
 * (`slim build`, onto the distroless-equivalent test bases served by a local registry) and its
 * compressed size compared with the original's. Re-run with:
 *
 *   npm run build && SLIM_SHARED=/work/shared npx tsx bench/real-apps.ts [NAME...]
 *
 * Prints a Markdown table (stdout; progress on stderr). Sizes are the layer blobs as stored
 * (their manifest's sizes). "verified" is what `slim build --verify` said: the probe it ran
 * in the sandbox (and the port a server was ready on) and whether the slim image behaved like the
 * original (or what it was missing). Rows: the real-app fixtures, the legacy Debian servers
 * (haproxy, lighttpd, memcached) and the real busybox and alpine images of the shared corpus.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureFixtures } from '../test/fixtures/index.js'
import { startBaseRegistry } from '../test/helpers/base-registry.js'
import { runCli } from '../test/helpers/cli.js'
import { layerBytes } from '../test/helpers/image-bytes.js'
import { CORPUS } from '../test/helpers/shared.js'

const DEFAULT = ['debian-nginx', 'debian-redis', 'debian-curl', 'debian-rg', 'debian-registry', 'debian-python', 'go-net', 'c-glibc', 'cpp', 'c-dlopen', 'c-musl-dynamic']
const LEGACY = ['legacy-haproxy', 'legacy-lighttpd', 'legacy-memcached', 'legacy-apache', 'legacy-lookup', 'legacy-python', 'legacy-java', 'legacy-java-jdk', 'legacy-postgres', 'legacy-mariadb']
/** The real busybox and alpine images of the shared corpus (not built here). */
const CORPUS_IMAGES: Record<string, string> = {
  'corpus-busybox': `oci:${join(CORPUS, 'buildpacks__imgutil/layout/testdata/layout/busybox')}`,
  'corpus-alpine': `docker-archive:${join(CORPUS, 'aquasecurity__trivy/pkg/fanal/test/testdata/alpine-310.tar.gz')}`,
}
/**
 * Per-image flags, each with its reason. The test registry's only musl base is the corpus's
 * alpine 3.10, which the advice rightly rejects as end of life; naming it builds the image anyway.
 */
const EXTRA: Record<string, string[]> = {
  'c-musl-dynamic': ['--base', 'alpine:3.10'],
}


const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`
const cell = (s: string): string => s.replace(/\|/g, '/').replace(/\n/g, ' ')

/** "yes (`nginx -t`)" / "no: missing libX" / "error …" from `slim build --verify`'s stderr. */
function verifiedCell(stderr: string): string {
  const probe = /slim: verify: probe: (\S+)(.*?) \(/.exec(stderr)
  const ready = /slim: verify: slim: (ready \(port \d+)/.exec(stderr)?.[1]
  const what = probe ? `\`${probe[1].split('/').at(-1)}${probe[2]}\`${ready ? `, ${ready})` : ''}` : ''
  if (/slim: verify: verified/.test(stderr)) return `yes (${what})`
  const finding = /slim: verify: (not viable: missing [^\n]*)/.exec(stderr)?.[1] ?? /slim: verify: (slim: [^\n]*)/.exec(stderr)?.[1]
  if (finding) return `no (${what}): ${cell(finding).slice(0, 160)}`
  const error = /slim: error: ([^\n]*)/.exec(stderr)?.[1]
  return error ? `error: ${cell(error).slice(0, 140)}` : '?'
}

async function main(): Promise<void> {
  const fx = await ensureFixtures(['small', 'debian'])
  const refs: Record<string, string> = { ...fx.refs, ...CORPUS_IMAGES }
  const asked = process.argv.slice(2)
  // One row per image, even when a name is given twice.
  const names = [...new Set(asked.length ? asked : [...DEFAULT, ...LEGACY, ...Object.keys(CORPUS_IMAGES)])]
  const work = mkdtempSync(join(tmpdir(), 'slim-real-apps-'))
  const bases = await startBaseRegistry(work)
  const rows = ['| image | original | slim | smaller | base | verified |', '|---|---|---|---|---|---|']
  try {
    for (const name of names) {
      const ref = refs[name]
      process.stderr.write(`bench: ${name}…\n`)
      if (!ref) {
        rows.push(`| ${name} | | | | not built here: ${cell(fx.skipped[name] ?? 'unknown fixture')} | |`)
        continue
      }
      const out = join(work, name)
      const extra = EXTRA[name] ?? []
      const r = await runCli(['build', ref, '--output', `oci:${out}:slim`, '--no-cache', '--verify', ...extra, ...bases.flags], { timeoutMs: 900_000 })
      const before = await layerBytes(ref)
      const label = `${name}${extra.length ? ` (\`${extra.join(' ')}\`)` : ''}`
      if (r.code !== 0 && r.code !== 4) {
        rows.push(`| ${label} | ${mb(before)} | — | — | no build: ${cell(r.stderr.trim().split('\n').at(-1)!.replace(/^slim: error: /, '')).slice(0, 160)} | |`)
        continue
      }
      const after = await layerBytes(`oci:${out}:slim`)
      const base = /built \S+ on (\S+):/.exec(r.stderr)?.[1] ?? '?'
      rows.push(`| ${label} | ${mb(before)} | ${mb(after)} | ${(100 * (1 - after / before)).toFixed(0)} % | ${base} | ${verifiedCell(r.stderr)} |`)
    }
  } finally {
    await bases.reg.stop()
    rmSync(work, { recursive: true, force: true })
  }
  // The table goes to stdout only (progress is on stderr), so `2>&1` shows each row once.
  process.stdout.write(`${rows.join('\n')}\n`)
}

await main()
