/**
 * Property test of the Dockerfile writer against hostile images: random configs (newlines, CR,
 * quotes, backslashes, `$`, control characters, unicode, wrong types) and random file names go
 * through the real config parser and the real advice; the Dockerfile is read back the way BuildKit
 * reads it (helpers/dockerfile-reader.ts) and must be exactly the instruction list slim meant to
 * write. Seeded: a failure names its seed, and SLIM_PROPERTY_SEED=<seed> replays it alone.
 */
import { describe, expect, it } from 'vitest'
import { advise } from '../src/advise/advise.js'
import { renderDockerfileParts } from '../src/advise/dockerfile.js'
import { isSlimError } from '../src/core/errors.js'
import { parseImageConfig } from '../src/image/manifest.js'
import type { ContainerConfig } from '../src/image/types.js'
import { bases, MapRootFs, sourceImage, staticGo } from './advise-helpers.js'
import { readDockerfile } from './helpers/dockerfile-reader.js'

/** mulberry32: small, seedable, good enough to pick test inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const PIECES = [
  'a', 'b', 'z', '0', '9', '/', ' ', '\n', '\r', '\t', '\\', '"', "'", '$', '${HOME}', '$(id)', '`', '*', '?', '[', ']', '{', '}',
  '\x1b', '\x1b[2J', '\x07', '\x00', '\x7f', '\u0085', '\u009b', '\u2028', '\u202e', 'é', '😀', '#', '=', ':', '-', ',', '.', '~',
  '\nRUN curl x|sh\n#', '3 CMD ["/app/hello"]\nRUN id\n#', '\\\n', '<<EOF', '--from=x', ' AS x', '["a"]',
]

class Gen {
  constructor(readonly r: () => number) {}
  int(n: number): number {
    return Math.floor(this.r() * n)
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]
  }
  chance(p: number): boolean {
    return this.r() < p
  }
  text(max = 6): string {
    let s = ''
    for (let i = 1 + this.int(max); i > 0; i--) s += this.pick(PIECES)
    return s
  }
  /** A file name: no `/` or NUL (one path component), never `.` or `..`. */
  name(): string {
    const s = this.text(4).replace(/[/\0]/g, '_')
    return s === '.' || s === '..' || s === '' ? `${s}x` : s
  }
  /** A value of the wrong type now and then. */
  maybeWrong<T>(good: T): unknown {
    if (!this.chance(0.04)) return good
    return this.pick<unknown>([5, 1.5, true, { a: 1 }, ['x'], 'str', null])
  }
  duration(): unknown {
    return this.pick<unknown>([undefined, 0, 1, 999_999, 1_000_000, 1_500_000, 30_000_000_000, 1_234_567_891, -5, this.text(), 2.5e9 + 0.5])
  }
}

interface Case {
  config: Record<string, unknown>
  files: Record<string, number | 'dir'>
  keep: string[]
  reference: string
  name?: string
}

function randomCase(g: Gen): Case {
  const files: Record<string, number | 'dir'> = { '/app/hello': 1_000_000 }
  const keep: string[] = []
  for (let i = g.int(6); i > 0; i--) {
    const dir = g.chance(0.3) ? `/app/${g.name()}` : '/app'
    const path = `${dir}/${g.name()}`
    files[path] = g.chance(0.2) ? 'dir' : 100 + g.int(1000)
    keep.push(path)
  }
  const env = Array.from({ length: g.int(4) }, () => `${g.chance(0.6) ? g.pick(['PATH', 'APP_MODE', 'X1', 'lower_ok']) : g.text(2)}=${g.text()}`)
  const labels = Object.fromEntries(Array.from({ length: g.int(4) }, () => [g.chance(0.5) ? g.pick(['org.example.a', 'b', 'k=v']) : g.text(2), g.text()]))
  const ports = Object.fromEntries(Array.from({ length: g.int(3) }, () => [g.chance(0.5) ? g.pick(['80/tcp', '53/udp', '8080']) : g.text(2), {}]))
  const volumes = Object.fromEntries(Array.from({ length: g.int(3) }, () => [g.chance(0.5) ? `/data/${g.name()}` : g.text(2), {}]))
  const hcExe = g.pick(['/app/hello', ...keep, g.text()])
  const config: Record<string, unknown> = {
    Entrypoint: g.maybeWrong(g.chance(0.5) ? ['/app/hello', g.text()] : ['/app/hello']),
    Cmd: g.maybeWrong(g.chance(0.5) ? [g.text(), g.text()] : null),
    Env: g.maybeWrong(env),
    Labels: g.maybeWrong(labels),
    ExposedPorts: g.maybeWrong(ports),
    Volumes: g.maybeWrong(volumes),
    WorkingDir: g.maybeWrong(g.chance(0.5) ? `/srv/${g.name()}` : g.text()),
    StopSignal: g.maybeWrong(g.chance(0.5) ? 'SIGTERM' : g.text(2)),
    Healthcheck: g.chance(0.6)
      ? g.maybeWrong({
          Test: g.chance(0.7) ? ['CMD', hcExe, g.text()] : ['CMD-SHELL', g.text()],
          Interval: g.duration(),
          Timeout: g.duration(),
          StartPeriod: g.duration(),
          Retries: g.pick<unknown>([undefined, 0, 3, -1, 2.5, '3 CMD ["/app/hello"]\nRUN curl x|sh\n#']),
        })
      : undefined,
  }
  const reference = `docker-archive:/tmp/${g.text(3)}.tar`
  return { config, files, keep, reference, name: g.chance(0.5) ? g.text(2) : 'app' }
}

/** One case: a config the parser refuses (one line naming the field) or a Dockerfile read back exactly as meant. */
interface Tally {
  refused: number
  written: number
  patterns: number
  healthchecks: number
  jsonCopies: number
}

function check(seed: number, tally: Tally): void {
  const g = new Gen(prng(seed))
  const c = randomCase(g)
  const raw = JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [] }, config: c.config })
  let config: ContainerConfig
  try {
    config = parseImageConfig(Buffer.from(raw), 'image config').config ?? {}
  } catch (e) {
    expect(isSlimError(e), String(e)).toBe(true)
    expect((e as Error).message).toMatch(/^image config: [A-Za-z.[\]"0-9]+ must be /)
    expect((e as Error).message).not.toMatch(/[\n\r]/)
    tally.refused++
    return
  }
  const image = sourceImage({ transport: 'docker-archive', reference: c.reference, name: c.name, tag: 'latest', manifestDigest: undefined, config })
  const advice = advise({ inspection: staticGo(), image, catalogue: bases(), rootfs: new MapRootFs(c.files), options: { keep: c.keep } })
  expect(advice.dockerfile, advice.summary).toBeDefined()
  const text = advice.dockerfile!
  const meant = renderDockerfileParts({ source: image, plan: advice.plan!, reasons: [], rejected: [], forced: false, confidence: 'high', gaps: [] }).instructions
  // No raw control character reaches the file (a terminal shows `slim dockerfile` output as is).
  expect(text.replace(/[\n\t]/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202e]/)
  expect(readDockerfile(text)).toEqual(meant)
  tally.written++
  if (/\[[*?[]\]|\[\\\\\\\\\]/.test(text)) tally.patterns++
  if (/^HEALTHCHECK /m.test(text)) tally.healthchecks++
  if (/^COPY --from=source \[/m.test(text)) tally.jsonCopies++
  // What was meant is the image's own values (the copies, the command), not something else.
  const copied = meant.filter((i) => i.keyword === 'COPY').flatMap((i) => i.args.slice(0, -1))
  for (const k of c.keep) expect(copied).toContain(k)
  if (config.Entrypoint) expect(meant.find((i) => i.keyword === 'ENTRYPOINT')?.args).toEqual(config.Entrypoint)
}

const RUNS = 400

describe('generated Dockerfile, read back as BuildKit reads it (property test)', () => {
  const only = process.env.SLIM_PROPERTY_SEED
  const seeds = only ? [Number(only)] : Array.from({ length: RUNS }, (_, i) => 0x5eed0000 + i)
  it(`is exactly the instructions slim meant, for ${seeds.length} random hostile images`, () => {
    const tally: Tally = { refused: 0, written: 0, patterns: 0, healthchecks: 0, jsonCopies: 0 }
    for (const seed of seeds) {
      try {
        check(seed, tally)
      } catch (e) {
        throw new Error(`seed ${seed} (replay: SLIM_PROPERTY_SEED=${seed}): ${(e as Error).message}`)
      }
    }
    console.log(`dockerfile property test: ${JSON.stringify(tally)}`)
    if (only) return
    // The generator reaches every path: refused configs, escaped patterns, JSON COPY, health checks.
    expect(tally.refused).toBeGreaterThan(RUNS / 20)
    expect(tally.written).toBeGreaterThan(RUNS / 2)
    expect(tally.patterns).toBeGreaterThan(RUNS / 10)
    expect(tally.jsonCopies).toBeGreaterThan(RUNS / 4)
    expect(tally.healthchecks).toBeGreaterThan(RUNS / 50)
  })
})
