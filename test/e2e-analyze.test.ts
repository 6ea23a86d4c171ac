import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from './helpers/cli.js'
import { CORPUS } from './helpers/shared.js'

const DIVE = `docker-archive:${CORPUS}/wagoodman__dive/.data/test-docker-image.tar`

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
    const cache = mkdtempSync(join(tmpdir(), 'slim-e2e-cache-'))
    const r = await runCli(['analyze', DIVE, '--cache-dir', cache, '--json'])
    expect(r.code, r.stderr).toBe(0)
    // local archives are read in place: nothing needs caching, and no temp file is left behind
    const left = readdirSync(cache, { recursive: true }).filter((f) => !String(f).endsWith('/'))
    expect(left.filter((f) => /tmp/.test(String(f)) && !/^tmp$/.test(String(f)))).toEqual([])
  })
})
