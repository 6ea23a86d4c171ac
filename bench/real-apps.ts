/**
 * The README's table of slim builds: each real-app fixture image is built with the built CLI
 * (`slim build`, onto the distroless-equivalent test bases served by a local registry) and its
 * compressed size compared with the original's. Re-run with:
 *
 *   npm run build && SLIM_SHARED=/work/shared npx tsx bench/real-apps.ts [NAME...]
 *
 * Prints a Markdown table. "verified" is what `slim build --verify` said: the probe it ran in the
 * sandbox and whether the slim image behaved like the original (or what it was missing).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureFixtures } from '../test/fixtures/index.js'
import { startBaseRegistry } from '../test/helpers/base-registry.js'
import { runCli } from '../test/helpers/cli.js'

const DEFAULT = ['debian-nginx', 'debian-redis', 'debian-curl', 'debian-rg', 'debian-registry', 'debian-python', 'go-net', 'c-glibc', 'cpp', 'c-musl-dynamic']
const LEGACY = ['legacy-haproxy', 'legacy-lighttpd', 'legacy-memcached']

interface Manifest {
  layers: { size: number }[]
}

function layoutManifest(ref: string): Manifest {
  const at = ref.replace(/^oci:/, '').lastIndexOf(':')
  const dir = ref.replace(/^oci:/, '').slice(0, at)
  const tag = ref.replace(/^oci:/, '').slice(at + 1)
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] }
  const m = index.manifests.find((x) => x.annotations?.['org.opencontainers.image.ref.name'] === tag)
  if (!m) throw new Error(`${ref}: no such tag`)
  return JSON.parse(readFileSync(join(dir, 'blobs/sha256', m.digest.slice(7)), 'utf8')) as Manifest
}

const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`

/** "yes (`nginx -t`)" / "no: missing libX" / "error …" from `slim build --verify`'s stderr. */
function verifiedCell(stderr: string): string {
  const probe = /slim: verify: probe: (\S+)(.*?) \(/.exec(stderr)
  const what = probe ? `\`${probe[1].split('/').at(-1)}${probe[2]}\`` : ''
  if (/slim: verify: verified/.test(stderr)) return `yes (${what})`
  const finding = /slim: verify: (not viable: [^\n]*)/.exec(stderr)?.[1]
  if (finding) return `no (${what}): ${finding.replace(/\|/g, '/').slice(0, 100)}`
  const error = /slim: error: ([^\n]*)/.exec(stderr)?.[1]
  return error ? `error: ${error.replace(/\|/g, '/').slice(0, 100)}` : '?'
}

async function main(): Promise<void> {
  const fx = await ensureFixtures(['small', 'debian'])
  const names = process.argv.slice(2).length ? process.argv.slice(2) : [...DEFAULT, ...LEGACY.filter((n) => n in fx.refs)]
  const work = mkdtempSync(join(tmpdir(), 'slim-real-apps-'))
  const bases = await startBaseRegistry(work)
  const rows = ['| image | original (compressed) | slim (compressed) | smaller | base | verified |', '|---|---|---|---|---|---|']
  try {
    for (const name of names) {
      const ref = fx.refs[name]
      if (!ref) {
        rows.push(`| ${name} | | | | not built here: ${fx.skipped[name] ?? 'unknown fixture'} | |`)
        continue
      }
      const out = join(work, name)
      const r = await runCli(['build', ref, '--output', `oci:${out}:slim`, '--no-cache', '--verify', ...bases.flags], { timeoutMs: 900_000 })
      const before = layoutManifest(ref).layers.reduce((n, l) => n + l.size, 0)
      if (r.code !== 0 && r.code !== 4) {
        rows.push(`| ${name} | ${mb(before)} | — | — | ${r.stderr.trim().split('\n').at(-1)!.replace(/\|/g, '/').slice(0, 120)} | |`)
        continue
      }
      const after = layoutManifest(`oci:${out}:slim`).layers.reduce((n, l) => n + l.size, 0)
      const base = /built \S+ on (\S+):/.exec(r.stderr)?.[1] ?? '?'
      rows.push(`| ${name} | ${mb(before)} | ${mb(after)} | ${(100 * (1 - after / before)).toFixed(0)} % | ${base} | ${verifiedCell(r.stderr)} |`)
      process.stderr.write(`${rows.at(-1)}\n`)
    }
  } finally {
    await bases.reg.stop()
    rmSync(work, { recursive: true, force: true })
  }
  process.stdout.write(`${rows.join('\n')}\n`)
}

await main()
