/**
 * `slim build` end to end, with the built CLI: fixture images slimmed onto the distroless-equivalent
 * test bases served by a real registry; the same input gives the same digest; the OCI output is
 * checked by umoci and skopeo, the docker archive by skopeo and by slim itself; the slim image
 * keeps the dpkg metadata of what it copied; the program starts in the unpacked slim root (bwrap);
 * the SBOMs pass their schemas' structure; and the slim image is >= 70 % smaller.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import Ajv2020 from 'ajv/dist/2020.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBaseRegistry, type BaseRegistry } from './helpers/base-registry.js'
import { startRegistry, type RunningRegistry } from './infra/registry.js'
import { runCli } from './helpers/cli.js'
import { ensureFixtures, type Fixtures } from './fixtures/index.js'

const exec = promisify(execFile)
const has = (bin: string): boolean => existsSync(`/usr/bin/${bin}`)

let work: string
let fx: Fixtures
let bases: BaseRegistry
let token: RunningRegistry | undefined

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'slim-build-e2e-'))
  ;[fx, bases] = await Promise.all([ensureFixtures(['debian-nginx', 'c-musl-dynamic', 'c-glibc']), startBaseRegistry(work)])
}, 600_000)

afterAll(async () => {
  await bases?.reg.stop()
  await token?.stop()
  if (work) rmSync(work, { recursive: true, force: true })
})

async function build(image: string, output: string, extra: string[] = []): Promise<string> {
  const r = await runCli(['build', image, '--output', output, '--no-cache', '-q', ...bases.flags, ...extra], { timeoutMs: 300_000 })
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return r.stdout.trim()
}

interface OciManifest {
  layers: { digest: string; size: number }[]
  config: { digest: string }
}
function manifestOf(layout: string, digest: string): OciManifest {
  return JSON.parse(readFileSync(join(layout, 'blobs/sha256', digest.slice(7)), 'utf8')) as OciManifest
}

describe('slim build', () => {
  it('debian-nginx: reproducible OCI image on a distroless base, valid for umoci and skopeo, dpkg metadata kept, >= 70 % smaller, nginx starts', async () => {
    const a = join(work, 'nginx-a')
    const b = join(work, 'nginx-b')
    const d1 = await build(fx.refs['debian-nginx'], `oci:${a}:slim`, ['--sbom', join(work, 'nginx.cdx.json')])
    const d2 = await build(fx.refs['debian-nginx'], `oci:${b}:slim`)
    expect(d1).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(d2).toBe(d1)

    const inspect = JSON.parse((await exec('skopeo', ['inspect', `oci:${a}:slim`])).stdout) as { Labels: Record<string, string>; Layers: string[] }
    expect(inspect.Labels['org.opencontainers.image.base.name']).toMatch(/^gcr\.io\/distroless\//)
    expect(inspect.Labels['org.opencontainers.image.base.digest']).toMatch(/^sha256:/)
    const config = JSON.parse((await exec('skopeo', ['inspect', '--config', `oci:${a}:slim`])).stdout) as { config: { User: string; Entrypoint: string[]; ExposedPorts: object } }
    expect(config.config.Entrypoint).toEqual(['/usr/sbin/nginx', '-g', 'daemon off;'])
    expect(config.config.User).toMatch(/^\d+:\d+$/)
    expect(Object.keys(config.config.ExposedPorts)).toEqual(['80/tcp'])

    // The new layer: sorted, fixed mtime, root-owned, holding nginx and the status.d entries of its packages.
    const m = manifestOf(a, d1)
    const top = join(a, 'blobs/sha256', m.layers.at(-1)!.digest.slice(7))
    const listing = (await exec('tar', ['-tzvf', top, '--numeric-owner'])).stdout.trim().split('\n')
    const names = (await exec('tar', ['-tzf', top])).stdout.trim().split('\n')
    expect(names).toContain('usr/sbin/nginx')
    expect(names).toContain('var/lib/dpkg/status.d/nginx')
    expect(names).toContain('var/lib/dpkg/status.d/libpcre2-8-0')
    // libssl3 is the base's own package: its entry is the base's, not written twice.
    expect(names).not.toContain('var/lib/dpkg/status.d/libssl3')
    expect(names.every((n) => !n.startsWith('/') && !n.includes('..'))).toBe(true)
    expect(new Set(listing.map((l) => l.split(/\s+/).slice(3, 5).join(' '))).size).toBe(1)
    const status = (await exec('tar', ['-xzOf', top, 'var/lib/dpkg/status.d/nginx'])).stdout
    expect(status).toMatch(/^Package: nginx$/m)
    expect(status).toMatch(/^Version: 1\.22\./m)

    if (has('umoci')) await exec('umoci', ['stat', '--image', `${a}:slim`])

    // Size: the slim image's blobs against the original's.
    const orig = fx.refs['debian-nginx'].replace(/^oci:/, '').split(':')
    const origIndex = JSON.parse(readFileSync(join(orig[0], 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] }
    const origDigest = origIndex.manifests.find((x) => x.annotations?.['org.opencontainers.image.ref.name'] === orig[1])!.digest
    const sum = (mm: OciManifest): number => mm.layers.reduce((n, l) => n + l.size, 0)
    const before = sum(manifestOf(orig[0], origDigest))
    const after = sum(m)
    expect(after).toBeLessThan(before * 0.3)

    // The program's loader closure is complete in the slim root: nginx -v runs there, sandboxed.
    if (has('umoci') && has('bwrap')) {
      const bundle = join(work, 'nginx-bundle')
      await exec('umoci', ['raw', 'unpack', '--rootless', '--image', `${a}:slim`, bundle])
      const r = await exec('bwrap', ['--unshare-all', '--bind', bundle, '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--uid', '65532', '--gid', '65532', '/usr/sbin/nginx', '-v'])
      expect(r.stderr).toMatch(/nginx version: nginx\/1\.22/)
    }
  }, 600_000)

  it.skipIf(!has('skopeo'))('docker-archive output: skopeo and slim read it back; SBOMs (CycloneDX 1.5, SPDX 2.3) pass their structure', async () => {
    const file = join(work, 'musl.tar')
    const cdx = join(work, 'musl.cdx.json')
    const spdxFile = join(work, 'musl.spdx.json')
    await build(fx.refs['c-musl-dynamic'], `docker-archive:${file}:slim/musl:1`, ['--base', 'scratch', '--sbom', cdx])
    await build(fx.refs['c-musl-dynamic'], `oci-archive:${join(work, 'musl-oci.tar')}:slim`, ['--base', 'scratch', '--sbom', spdxFile, '--sbom-format', 'spdx'])
    const inspected = JSON.parse((await exec('skopeo', ['inspect', `docker-archive:${file}`])).stdout) as { RepoTags: string[]; Labels: Record<string, string> }
    expect(inspected.Labels['org.opencontainers.image.base.name']).toBeTruthy()
    await exec('skopeo', ['inspect', `oci-archive:${join(work, 'musl-oci.tar')}:slim`])
    const again = await runCli(['analyze', `docker-archive:${file}`, '--json', '-q', '--no-cache', ...bases.flags])
    expect(again.code).toBe(0)
    const doc = JSON.parse(again.stdout) as { inspection: { program: { path: string } } }
    expect(doc.inspection.program.path).toBe('/app/hello')

    const ajv = new Ajv2020.default({ allErrors: true, strict: false })
    const cdxDoc = JSON.parse(readFileSync(cdx, 'utf8')) as { components: { type: string; name: string; purl?: string }[]; dependencies: { ref: string; dependsOn: string[] }[] }
    expect(ajv.validate(CYCLONEDX_15, cdxDoc), ajv.errorsText()).toBe(true)
    const musl = cdxDoc.components.find((c) => c.type === 'file' && /ld-musl/.test(c.name))
    expect(musl).toBeDefined()
    expect(cdxDoc.dependencies.find((d) => d.ref === 'file:/app/hello')?.dependsOn.some((r) => /musl/.test(r))).toBe(true)
    expect(ajv.validate(SPDX_23, JSON.parse(readFileSync(spdxFile, 'utf8'))), ajv.errorsText()).toBe(true)
  }, 600_000)
})

describe('slim build --output docker://', () => {
  it.skipIf(!has('skopeo'))('pushes to a plain registry (the base layer mounted from the base repository, then found on a re-push) and to a token registry with credentials, in chunks', async () => {
    const dest = `${bases.reg.host}/slim/c-glibc:1`
    const r1 = await runCli(['build', fx.refs['c-glibc'], '--output', `docker://${dest}`, '--no-cache', ...bases.flags], { timeoutMs: 300_000 })
    expect(r1.code, r1.stderr).toBe(0)
    expect(r1.stderr).toMatch(/pushed: 2 blob\(s\) uploaded, 1 mounted from the base's repository, 0 already there/)
    const digest = r1.stdout.trim()
    const remote = (await exec('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${dest}`])).stdout.trim()
    expect(remote).toBe(digest)
    const r2 = await runCli(['build', fx.refs['c-glibc'], '--output', `docker://${dest}`, '--no-cache', ...bases.flags], { timeoutMs: 300_000 })
    expect(r2.stderr).toMatch(/pushed: 0 blob\(s\) uploaded, 0 mounted from the base's repository, 3 already there/)

    token = await startRegistry('token')
    const tdest = `${token.host}/tok/c-glibc:slim`
    const denied = await runCli(['build', fx.refs['c-glibc'], '--output', `docker://${tdest}`, '--no-cache', '-q', ...bases.flags], { timeoutMs: 300_000 })
    expect(denied.code).not.toBe(0)
    expect(denied.stderr.trim().split('\n')).toHaveLength(1)
    // Chunked: the base layer (above 64 KiB) goes as PATCH chunks (the pull-back below checks every digest).
    const ok = await runCli(['build', fx.refs['c-glibc'], '--output', `docker://${tdest}`, '--chunk-size', '64KiB', '--username', token.username!, '--password-stdin', '--no-cache', ...bases.flags], {
      input: token.password!,
      timeoutMs: 300_000,
    })
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stderr).not.toContain(token.password!)
    expect(ok.stderr).toMatch(/pushed: 3 blob\(s\) uploaded \(1 in chunks\)/)
    const back = await runCli(['analyze', `docker://${tdest}`, '--json', '-q', '--no-cache', '--username', token.username!, '--password-stdin'], { input: token.password! })
    expect(back.code, back.stderr).toBe(0)
    expect((JSON.parse(back.stdout) as { image: { manifestDigest: string } }).image.manifestDigest).toBe(ok.stdout.trim())
  }, 600_000)
})

// The parts of the CycloneDX 1.5 and SPDX 2.3 JSON schemas that slim's documents use (required
// fields, enums and formats as the specifications give them).
const CYCLONEDX_15 = {
  type: 'object',
  required: ['bomFormat', 'specVersion', 'serialNumber', 'version', 'metadata', 'components', 'dependencies'],
  properties: {
    bomFormat: { const: 'CycloneDX' },
    specVersion: { const: '1.5' },
    serialNumber: { type: 'string', pattern: '^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' },
    version: { type: 'integer', minimum: 1 },
    metadata: { type: 'object', required: ['timestamp', 'component'], properties: { component: { type: 'object', required: ['type', 'name'] } } },
    components: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type', 'name', 'bom-ref'],
        properties: {
          type: { enum: ['application', 'framework', 'library', 'container', 'platform', 'operating-system', 'device', 'device-driver', 'firmware', 'file', 'machine-learning-model', 'data'] },
          purl: { type: 'string', pattern: '^pkg:(deb|apk)/[^/]+/[^@]+(@[^?]+)?(\\?arch=.+)?$' },
        },
      },
    },
    dependencies: { type: 'array', items: { type: 'object', required: ['ref'], properties: { ref: { type: 'string' }, dependsOn: { type: 'array', items: { type: 'string' }, uniqueItems: true } } } },
  },
}

const SPDX_23 = {
  type: 'object',
  required: ['spdxVersion', 'dataLicense', 'SPDXID', 'name', 'documentNamespace', 'creationInfo'],
  properties: {
    spdxVersion: { const: 'SPDX-2.3' },
    dataLicense: { const: 'CC0-1.0' },
    SPDXID: { const: 'SPDXRef-DOCUMENT' },
    creationInfo: { type: 'object', required: ['created', 'creators'], properties: { created: { type: 'string', pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$' } } },
    packages: { type: 'array', items: { type: 'object', required: ['SPDXID', 'name', 'downloadLocation'], properties: { SPDXID: { type: 'string', pattern: '^SPDXRef-[A-Za-z0-9.-]+$' } } } },
    relationships: {
      type: 'array',
      items: { type: 'object', required: ['spdxElementId', 'relationshipType', 'relatedSpdxElement'], properties: { relationshipType: { enum: ['DESCRIBES', 'CONTAINS', 'DEPENDS_ON'] } } },
    },
  },
}
