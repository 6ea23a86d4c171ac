/**
 * `slim build --all-platforms` end to end with the built CLI: the go-multiarch fixture (an OCI
 * index of a static Go program for amd64 and one cross-built for arm64) becomes an OCI image index
 * whose every platform was analysed and assembled on its own (the arm64 image holds the arm64
 * ELF), written to an OCI layout and pushed to a real docker-registry, both checked with skopeo
 * (the index lists each platform; `skopeo copy --all` fetches and verifies every blob). A platform
 * that cannot be built (the served test base has no arm64 image) fails the build with nothing
 * written, unless --skip-failed-platforms, which writes an index of the rest and names the skipped.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBaseRegistry, type BaseRegistry } from './helpers/base-registry.js'
import { runCli } from './helpers/cli.js'
import { ensureFixtures, type Fixtures } from './fixtures/index.js'

const exec = promisify(execFile)
const skopeo = existsSync('/usr/bin/skopeo')

let work: string
let fx: Fixtures
let bases: BaseRegistry

beforeAll(async () => {
  if (!skopeo) return
  work = mkdtempSync(join(tmpdir(), 'slim-build-platforms-'))
  ;[fx, bases] = await Promise.all([ensureFixtures(['go-multiarch']), startBaseRegistry(work)])
}, 600_000)

afterAll(async () => {
  await bases?.reg.stop()
  if (work) rmSync(work, { recursive: true, force: true })
})

interface Index {
  mediaType: string
  manifests: { mediaType: string; digest: string; size: number; platform: { os: string; architecture: string } }[]
}

/** ELF e_machine of the program in a layer tarball: 62 = x86-64, 183 = AArch64. */
function elfMachine(layerGz: Buffer, path: string): number {
  const tar = gunzipSync(layerGz)
  for (let off = 0; off + 512 <= tar.length; ) {
    const name = tar.subarray(off, off + 100).toString('utf8').replace(/\0.*$/s, '')
    const size = parseInt(tar.subarray(off + 124, off + 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8)
    if (!name) break
    if (name === path) return tar.readUInt16LE(off + 512 + 18)
    off += 512 + Math.ceil(size / 512) * 512
  }
  throw new Error(`${path} not in the layer`)
}

describe.skipIf(!skopeo)('slim build --all-platforms', () => {
  it('to oci: an OCI index of amd64 and arm64, each built from its own platform (arm64 ELF in the arm64 image); every blob present', async () => {
    const dir = join(work, 'multi')
    const r = await runCli(['build', fx.refs['go-multiarch'], '--all-platforms', '--output', `oci:${dir}:slim`, '--no-cache', ...bases.flags], { timeoutMs: 300_000 })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/^slim: linux\/amd64: built sha256:/m)
    expect(r.stderr).toMatch(/^slim: linux\/arm64: built sha256:/m)
    expect(r.stderr).toMatch(/written to .* as an OCI image index of 2 platform\(s\)$/m)
    const raw = (await exec('skopeo', ['inspect', '--raw', `oci:${dir}:slim`])).stdout
    const index = JSON.parse(raw) as Index
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json')
    expect(r.stdout.trim()).toBe(`sha256:${createHashHex(raw)}`)
    expect(index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`).sort()).toEqual(['linux/amd64', 'linux/arm64'])
    const blob = (d: string): Buffer => readFileSync(join(dir, 'blobs/sha256', d.slice(7)))
    const machines: Record<string, number> = {}
    for (const m of index.manifests) {
      expect(m.mediaType).toBe('application/vnd.oci.image.manifest.v1+json')
      const manifest = JSON.parse(blob(m.digest).toString()) as { config: { digest: string }; layers: { digest: string; size: number }[] }
      const config = JSON.parse(blob(manifest.config.digest).toString()) as { architecture: string; config: { Entrypoint: string[] } }
      expect(config.architecture).toBe(m.platform.architecture)
      for (const l of manifest.layers) expect(blob(l.digest).length).toBe(l.size)
      machines[m.platform.architecture] = elfMachine(blob(manifest.layers.at(-1)!.digest), config.config.Entrypoint[0].replace(/^\//, ''))
    }
    expect(machines).toEqual({ amd64: 62, arm64: 183 })
    const arm = JSON.parse((await exec('skopeo', ['inspect', '--override-arch', 'arm64', `oci:${dir}:slim`])).stdout) as { Architecture: string }
    expect(arm.Architecture).toBe('arm64')
  }, 300_000)

  it('to docker://: the registry serves the index; skopeo copy --all fetches and verifies every platform\'s blobs', async () => {
    const dest = `${bases.reg.host}/slim/multi:1`
    const r = await runCli(['build', fx.refs['go-multiarch'], '--all-platforms', '--output', `docker://${dest}`, '--no-cache', ...bases.flags], { timeoutMs: 300_000 })
    expect(r.code, r.stderr).toBe(0)
    const raw = (await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${dest}`])).stdout
    const index = JSON.parse(raw) as Index
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json')
    expect(index.manifests.map((m) => m.platform.architecture).sort()).toEqual(['amd64', 'arm64'])
    expect(r.stdout.trim()).toBe(`sha256:${createHashHex(raw)}`)
    const copy = join(work, 'pulled')
    await exec('skopeo', ['copy', '--quiet', '--all', '--src-tls-verify=false', `docker://${dest}`, `oci:${copy}:x`])
    for (const m of index.manifests) expect(existsSync(join(copy, 'blobs/sha256', m.digest.slice(7)))).toBe(true)
  }, 300_000)

  it('a platform that cannot be built fails the build and nothing is written; --skip-failed-platforms writes the rest and names the skipped', async () => {
    const dir = join(work, 'partial')
    // The served distroless/static-debian12 is amd64 only: the arm64 platform has no base.
    const args = ['build', fx.refs['go-multiarch'], '--all-platforms', '--base', 'distroless/static-debian12', '--output', `oci:${dir}:slim`, '--no-cache', '-q', ...bases.flags]
    const failed = await runCli(args, { timeoutMs: 300_000 })
    expect(failed.code).toBe(1)
    expect(failed.stderr.trim().split('\n')).toHaveLength(1)
    expect(failed.stderr).toMatch(/^slim: error: .*: 1 of 2 platform\(s\) could not be built, nothing was written: linux\/arm64 \(.*has no image for linux\/arm64.*\); fix them, build one with --platform, or pass --skip-failed-platforms/)
    expect(existsSync(dir)).toBe(false)

    const partial = await runCli([...args, '--skip-failed-platforms'], { timeoutMs: 300_000 })
    expect(partial.code, partial.stderr).toBe(0)
    expect(partial.stderr).toMatch(/^slim: warning: skipped 1 platform\(s\): linux\/arm64 \(/m)
    const index = JSON.parse((await exec('skopeo', ['inspect', '--raw', `oci:${dir}:slim`])).stdout) as Index
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json')
    expect(index.manifests.map((m) => m.platform.architecture)).toEqual(['amd64'])
  }, 300_000)
})

/** The digest of the bytes skopeo printed (--raw prints the index as stored). */
function createHashHex(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
