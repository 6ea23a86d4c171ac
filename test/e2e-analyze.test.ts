import { readFileSync, readdirSync } from 'node:fs'
import Ajv2020 from 'ajv/dist/2020.js'
import { join } from 'node:path'
import { describe, expect, it, afterAll } from 'vitest'
import { runCli } from './helpers/cli.js'
import { CORPUS } from './helpers/shared.js'
import { tempDirs } from './helpers/temp-dirs.js'

const temps = tempDirs()
afterAll(temps.removeAll)

const DIVE = `docker-archive:${CORPUS}/wagoodman__dive/.data/test-docker-image.tar`
const HELLO = 'oci-archive:fixtures/images/hello-static.oci.tar'

const schema = JSON.parse(readFileSync(new URL('../schema/analysis.schema.json', import.meta.url), 'utf8'))
const validate = new Ajv2020.default({ allErrors: true, strict: false }).compile(schema)

/** A one-line error: exactly one line on stderr, prefixed, no stack frames. */
function expectOneLineError(stderr: string): void {
  const lines = stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^slim: error: /)
  expect(stderr).not.toMatch(/\n\s+at /)
}

describe('slim analyze (built CLI, end to end)', () => {
  it('prints the image, layers, waste and facts sections for dive\'s test image', async () => {
    const r = await runCli(['analyze', DIVE, '--no-cache'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    for (const section of ['Image', 'Config', 'Layers (14;', 'Waste', 'Facts']) expect(r.stdout).toContain(section)
    expect(r.stdout).toMatch(/cmd\s+\["sh"\]/)
    expect(r.stdout).toMatch(/dive efficiency\s+98\.\d+%/)
  })

  it('--json prints one versioned JSON document with the same figures', async () => {
    const r = await runCli(['analyze', DIVE, '--json', '--no-cache'])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.schemaVersion).toMatch(/^\d+\.\d+$/)
    expect(doc.image.platform).toBe('linux/amd64')
    expect(doc.image.config.cmd).toEqual(['sh'])
    expect(doc.image.layers).toHaveLength(14)
    expect(doc.layers.layers).toHaveLength(14)
    expect(doc.layers.metrics.dive.efficiency).toBeGreaterThan(0.98)
    expect(doc.layers.metrics.dive.efficiency).toBeLessThan(0.99)
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true)
  })

  it('the bundled fixture: entrypoint, needs and advice in text, JSON (valid against the schema), --files and --dockerfile', async () => {
    const text = await runCli(['analyze', HELLO])
    expect(text.code, text.stderr).toBe(0)
    for (const section of ['Entrypoint', 'Libraries', 'Runtime needs', 'Recommendation']) expect(text.stdout).toContain(section)
    expect(text.stdout).toMatch(/program\s+\/app\/hello\s+\(elf\)/)
    expect(text.stdout).toMatch(/libc\s+static-musl/)

    const json = await runCli(['analyze', HELLO, '--json'])
    const doc = JSON.parse(json.stdout)
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true)
    expect(doc.inspection.program.realPath).toBe('/app/hello')
    expect(doc.inspection.closure.libraries).toEqual([])
    expect(doc.advice.verdict).toBe('slim')
    expect(doc.advice.ranking[0].name).toBe('scratch')

    const files = await runCli(['analyze', HELLO, '--files'])
    expect(files.code, files.stderr).toBe(0)
    expect(files.stdout.trim().split('\n')).toEqual(doc.inspection.files)
    expect(files.stdout).toContain('/app/hello\n')

    const out = join(temps.make('slim-e2e-df-'), 'Dockerfile')
    const df = await runCli(['analyze', HELLO, '--dockerfile', out])
    expect(df.code, df.stderr).toBe(0)
    expect(df.stdout).toContain(`Dockerfile written to ${out}`)
    const written = readFileSync(out, 'utf8')
    expect(written).toMatch(/^FROM scratch/m)
    expect(written).toMatch(/^ENTRYPOINT \["\/app\/hello"\]/m)
    expect(written).toMatch(/^USER 65534:65534$/m)

    const cmd = await runCli(['dockerfile', HELLO])
    expect(cmd.code, cmd.stderr).toBe(0)
    expect(cmd.stdout).toBe(written)
  })

  it('--entrypoint overrides the program; --base forces a base', async () => {
    const r = await runCli(['analyze', HELLO, '--json', '--entrypoint', '["/app/hello","--version"]', '--base', 'distroless/static-debian12'])
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.inspection.program.command).toEqual(['/app/hello', '--version'])
    expect(doc.advice.forced).toBe(true)
    expect(doc.advice.ranking[0].name).toBe('distroless/static-debian12')
    const bad = await runCli(['analyze', HELLO, '--base', 'no-such-base:1'])
    expect(bad.code).not.toBe(0)
    expectOneLineError(bad.stderr)
    expect(bad.stderr).toContain('no-such-base')
  })

  it('reads an OCI archive and an OCI layout directory', async () => {
    const a = await runCli(['analyze', `oci-archive:${CORPUS}/anchore__stereoscope/pkg/image/oci/testdata/valid-oci.tar`, '--json', '--no-cache'])
    expect(a.code, a.stderr).toBe(0)
    expect(JSON.parse(a.stdout).image.platform).toBe('linux/amd64')
    const l = await runCli(['analyze', `oci:${CORPUS}/buildpacks__imgutil/layout/testdata/layout/busybox`, '--json', '--no-cache'])
    expect(l.code, l.stderr).toBe(0)
    expect(JSON.parse(l.stdout).layers.facts.shells.length).toBeGreaterThan(0)
  })

  it('picks the platform asked for, and lists the platforms when none matches', async () => {
    const dir = `oci:${CORPUS}/anchore__stereoscope/pkg/image/oci/testdata/multiplatform_oci_dir`
    const ok = await runCli(['analyze', dir, '--platform', 'linux/arm64', '--json', '--no-cache'])
    expect(ok.code, ok.stderr).toBe(0)
    expect(JSON.parse(ok.stdout).image.platform).toMatch(/^linux\/arm64/)
    const bad = await runCli(['analyze', dir, '--platform', 'linux/s390x', '--no-cache'])
    expect(bad.code).toBe(1)
    expectOneLineError(bad.stderr)
    expect(bad.stderr).toContain('linux/amd64')
    expect(bad.stderr).toContain('linux/arm64')
  })

  it('bad input: one line naming the thing, exit 1, no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['analyze', 'docker-archive:/nonexistent/x.tar'], /\/nonexistent\/x\.tar/],
      [['analyze', `oci:${CORPUS}/aquasecurity__trivy/pkg/fanal/test/testdata/test_index_json_dir.oci`], /index\.json/],
      [['analyze', `docker-archive:${CORPUS}/google__go-containerregistry/pkg/v1/tarball/testdata/null_manifest.tar`], /manifest/],
      [['analyze', 'docker://127.0.0.1:1/none/such:1', '--no-cache'], /127\.0\.0\.1:1/],
      [['analyze', 'UPPER/Case:tag'], /UPPER|upper|lower/i],
    ]
    for (const [args, pattern] of cases) {
      const r = await runCli(args)
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1)
      expectOneLineError(r.stderr)
      expect(r.stderr).toMatch(pattern)
      expect(r.stdout).toBe('')
    }
  })

  it('usage errors exit 2; --debug adds the stack trace', async () => {
    const u = await runCli(['analyze'])
    expect(u.code).toBe(2)
    expectOneLineError(u.stderr)
    const s = await runCli(['analyze', DIVE, '--max-expanded-size', 'lots'])
    expect(s.code).toBe(2)
    expect(s.stderr).toMatch(/--max-expanded-size/)
    const d = await runCli(['analyze', 'docker-archive:/nonexistent/x.tar', '--debug'])
    expect(d.code).toBe(1)
    expect(d.stderr).toMatch(/\n\s+at /)
  })

  it('a decompression limit below the image size stops with a clear error', async () => {
    const r = await runCli(['analyze', DIVE, '--max-expanded-size', '100kB', '--no-cache'])
    expect(r.code).toBe(1)
    expectOneLineError(r.stderr)
    expect(r.stderr).toMatch(/--max-expanded-size/)
  })

  it('writes nothing but the cache it is given', async () => {
    const cache = temps.make('slim-e2e-cache-')
    const r = await runCli(['analyze', DIVE, '--cache-dir', cache, '--json'])
    expect(r.code, r.stderr).toBe(0)
    // local archives are read in place: nothing needs caching, and no temp file is left behind
    const left = readdirSync(cache, { recursive: true }).filter((f) => !String(f).endsWith('/'))
    expect(left.filter((f) => /tmp/.test(String(f)) && !/^tmp$/.test(String(f)))).toEqual([])
  })
})
