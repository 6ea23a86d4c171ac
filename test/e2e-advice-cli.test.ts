/**
 * Advice as a new user meets it through the built CLI (issue 12 item 9): the corpus alpine:3.10
 * gets no end-of-life base and no Dockerfile that grows it, the rejected list leads with the bases
 * that came closest, and `slim dockerfile --json` prints the advice document (validated against
 * schema/ with ajv).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Ajv2020 from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import { builtinBases } from '../src/advise/catalogue/load.js'
import { runCli } from './helpers/cli.js'
import { CORPUS } from './helpers/shared.js'

const ALPINE_310 = `docker-archive:${CORPUS}/aquasecurity__trivy/pkg/fanal/test/testdata/alpine-310.tar.gz`
const HELLO = 'oci-archive:fixtures/images/hello-static.oci.tar'

const schema = (name: string) => JSON.parse(readFileSync(new URL(`../schema/${name}`, import.meta.url), 'utf8'))
const ajv = new Ajv2020.default({ allErrors: true, strict: false })
ajv.addSchema(schema('analysis.schema.json'))
const validateDockerfileDoc = ajv.compile(schema('dockerfile.schema.json'))

describe('an already-small image on an end-of-life base (alpine:3.10 from the corpus)', () => {
  it('slim analyze: verdict already small, a supported base, its own release rejected with why, closest rejections first, no noise', async () => {
    const r = await runCli(['analyze', ALPINE_310, '--no-cache'])
    expect(r.code).toBe(0)
    const rec = r.stdout.slice(r.stdout.indexOf('Recommendation'))
    expect(rec).toMatch(/^ {2}already small: 5\.55 MB today; the best base that fits, alpine:3\.2\d, would make it about [\d.]+ MB, so slim advises no Dockerfile/m)
    expect(rec).toMatch(/^ {2}base {9}alpine:3\.2\d$/m)
    expect(rec).toContain("alpine:3.10 (the source's own release, alpine 3.10.4) is end of life: slim does not advise it")
    // The rejected list: first the source's own release (fits the program, end of life), then the
    // other end-of-life alpines, then what lacks musl; identical reasons share one line.
    const after = rec.slice(rec.indexOf('  rejected:\n')).split('\n').slice(1)
    const rejected = after.slice(0, after.findIndex((l) => !l.startsWith('    ')))
    expect(rejected[0]).toBe("    alpine:3.10: end of life (no security fixes); it is the source's own release, but slim never advises an end-of-life base (--base forces it)")
    expect(rejected[1]).toMatch(/^ {4}alpine:3\.11(, alpine:3\.\d+)*: end of life \(no security fixes\)$/)
    expect(rejected[2]).toMatch(/needs musl/)
    // the glibc bases are one line, not a wall of ten
    expect(rejected.filter((l) => /^ {4}(\S+, ){4,}\S+: needs musl, PT_INTERP \/lib\/ld-musl-x86_64\.so\.1; has glibc$/.test(l))).toHaveLength(1)
    expect(rejected.length).toBeLessThanOrEqual(13)
    expect(rec).toContain('Dockerfile: none advised (it would grow the image)')
    // item 9's noise list
    expect(r.stdout).not.toMatch(/USER (\d+:\d+) \(\1\)/)
    expect(r.stdout).not.toMatch(/contains '-0X/)
    expect(r.stdout).not.toMatch(/--keep \/tmp/)
  })

  it('slim dockerfile: exit 0, one line on stderr saying why, nothing on stdout; --harden writes it (never FROM alpine:3.10)', async () => {
    const r = await runCli(['dockerfile', ALPINE_310, '--no-cache'])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^slim: docker-archive:\S+alpine-310\.tar\.gz: no Dockerfile written: already small: 5\.55 MB today; .*--harden.*\n$/)
    expect(r.stderr.split('\n')).toHaveLength(2)
    const hard = await runCli(['dockerfile', ALPINE_310, '--harden', '--no-cache'])
    expect(hard.code).toBe(0)
    expect(hard.stdout).toMatch(/^FROM alpine:3\.2\d$/m)
    expect(hard.stdout).not.toMatch(/^FROM (docker\.io\/library\/)?alpine:3\.10$/m)
    expect(hard.stdout).toMatch(/% larger$/m)
    expect(hard.stdout).toContain("'slim dockerfile --json' lists why")
  })

  it('no supported base fits (a config leaving out the supported alpines): keep, naming the closest supported base and what stops it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slim-eol-'))
    try {
      const config = join(dir, 'config.json')
      const exclude = builtinBases().filter((b) => b.family === 'alpine' && b.status === 'supported').map((b) => b.name)
      expect(exclude.length).toBeGreaterThan(0)
      writeFileSync(config, JSON.stringify({ exclude }))
      const r = await runCli(['analyze', ALPINE_310, '--config', config, '--json', '--no-cache'])
      expect(r.code).toBe(0)
      const { advice } = JSON.parse(r.stdout)
      expect(advice.verdict).toBe('keep')
      expect(advice.plan).toBeUndefined()
      expect(advice.summary).toMatch(/^keep the current base: only bases out of support would run it \(alpine:3\.10, alpine:3\.11, .*: end of life or retired\); add a supported one in the config file, or force one with --base; the closest supported base is \S+, and what stops it is: needs musl, PT_INTERP \/lib\/ld-musl-x86_64\.so\.1; has (no C library|glibc)/)
      expect(advice.reasons).toContain("alpine:3.10 (the source's own release, alpine 3.10.4) is end of life: slim does not advise it; move the image to a supported release")
      const d = await runCli(['dockerfile', ALPINE_310, '--config', config, '--no-cache'])
      expect(d.code).toBe(1)
      expect(d.stdout).toBe('')
      expect(d.stderr).toMatch(/^slim: error: .*: no Dockerfile: keep the current base: .*\n$/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('slim analyze --dockerfile FILE writes nothing for an already-small image and says so', async () => {
    const r = await runCli(['analyze', ALPINE_310, '--dockerfile', '/nonexistent-dir/Dockerfile.slim', '--no-cache', '--files'])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('slim: --dockerfile /nonexistent-dir/Dockerfile.slim not written: the image is already small (`slim dockerfile --harden` writes a Dockerfile that only hardens it)\n')
  })
})

describe('slim dockerfile --json', () => {
  it('prints the advice document, valid against schema/dockerfile.schema.json, its Dockerfile identical to plain slim dockerfile', async () => {
    const [j, plain] = await Promise.all([runCli(['dockerfile', HELLO, '--json']), runCli(['dockerfile', HELLO])])
    expect(j.code).toBe(0)
    expect(j.stderr).toBe('')
    const doc = JSON.parse(j.stdout)
    expect(validateDockerfileDoc(doc), JSON.stringify(validateDockerfileDoc.errors?.slice(0, 5))).toBe(true)
    expect(doc.tool.name).toBe('slim')
    expect(doc.image).toMatchObject({ reference: HELLO, platform: 'linux/amd64' })
    expect(doc.advice.verdict).toBe('slim')
    expect(doc.advice.dockerfile).toBe(plain.stdout)
    expect(doc.advice.rejected.length).toBeGreaterThan(0)
    // the same advice `slim analyze --json` prints
    const a = await runCli(['analyze', HELLO, '--json'])
    expect(JSON.parse(a.stdout).advice).toEqual(doc.advice)
  })

  it('already small: the document says so (exit 0), and the schema rejects a document without advice', async () => {
    const r = await runCli(['dockerfile', ALPINE_310, '--json', '--no-cache'])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(validateDockerfileDoc(doc)).toBe(true)
    expect(doc.advice.verdict).toBe('already-small')
    expect(doc.advice.plan.base.status).toBe('supported')
    expect(validateDockerfileDoc({ ...doc, advice: undefined })).toBe(false)
    expect(validateDockerfileDoc({ ...doc, advice: { ...doc.advice, verdict: 'maybe' } })).toBe(false)
  })
})
