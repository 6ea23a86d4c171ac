import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SlimError } from '../../../src/core/errors.js'
import { isOciRefName, parseImageLocation } from '../../../src/image/open.js'

const work = mkdtempSync(join(tmpdir(), 'slim-open-test-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const layout = join(work, 'layout')
const colonDir = join(work, 'a:b')
const archive = join(work, 'img.tar')
const colonArchive = join(work, 'x:1.tar')
mkdirSync(layout)
mkdirSync(colonDir)
writeFileSync(archive, '')
writeFileSync(colonArchive, '')

async function failure(input: string): Promise<SlimError> {
  try {
    await parseImageLocation(input)
  } catch (e) {
    if (e instanceof SlimError) return e
    throw e
  }
  throw new Error(`expected ${input} to fail`)
}

describe('parseImageLocation: transports', () => {
  it('treats a bare reference as docker://', async () => {
    expect(await parseImageLocation('nginx')).toEqual({ transport: 'docker', reference: 'docker://nginx', name: 'nginx' })
    expect(await parseImageLocation('localhost:5000/app:1')).toMatchObject({ transport: 'docker', name: 'localhost:5000/app:1' })
    expect(await parseImageLocation('docker://quay.io/a/b@sha256:' + 'a'.repeat(64))).toMatchObject({ transport: 'docker', name: 'quay.io/a/b@sha256:' + 'a'.repeat(64) })
  })

  it('reads docker-daemon:REF', async () => {
    expect(await parseImageLocation('docker-daemon:alpine:3.10')).toEqual({ transport: 'docker-daemon', reference: 'docker-daemon:alpine:3.10', name: 'alpine:3.10' })
  })

  it('refuses skopeo transports slim does not read, and docker: without //', async () => {
    const dir = await failure('dir:/tmp/x')
    expect(dir.kind).toBe('unsupported')
    expect(dir.message).toMatch(/the dir: transport is not supported; slim reads docker:\/\/, docker-archive:, oci:, oci-archive:, docker-daemon:/)
    expect((await failure('containers-storage:foo')).kind).toBe('unsupported')
    const docker = await failure('docker:nginx')
    expect(docker.kind).toBe('usage')
    expect(docker.message).toMatch(/docker:\/\/REF/)
  })

  it('rejects invalid references and empty input', async () => {
    expect((await failure('Nginx/UPPER')).kind).toBe('reference')
    expect((await failure('docker-daemon:bad@@x')).kind).toBe('reference')
    expect((await failure('')).kind).toBe('usage')
    expect((await failure('oci:')).kind).toBe('usage')
  })
})

describe('parseImageLocation: PATH[:REF] splitting', () => {
  it('oci: a plain directory, and DIR:REF', async () => {
    expect(await parseImageLocation(`oci:${layout}`)).toMatchObject({ transport: 'oci', path: layout })
    expect(await parseImageLocation(`oci:${layout}:v1.0`)).toMatchObject({ path: layout, ref: 'v1.0' })
    expect(await parseImageLocation(`oci:${layout}:@2`)).toMatchObject({ path: layout, ref: '@2' })
    expect(await parseImageLocation(`oci:${layout}:`)).toEqual({ transport: 'oci', reference: `oci:${layout}:`, path: layout })
  })

  it('oci: a directory whose name contains ":" is a path, with or without a ref after it', async () => {
    expect(await parseImageLocation(`oci:${colonDir}`)).toMatchObject({ path: colonDir })
    expect((await parseImageLocation(`oci:${colonDir}`)).ref).toBeUndefined()
    expect(await parseImageLocation(`oci:${colonDir}:latest`)).toMatchObject({ path: colonDir, ref: 'latest' })
    // OCI ref names may contain ':' and '/': the split is at the last ':' whose left side exists.
    expect(await parseImageLocation(`oci:${layout}:repo/name:tag`)).toMatchObject({ path: layout, ref: 'repo/name:tag' })
  })

  it('oci: when nothing exists, a suffix that looks like a path is not a ref', async () => {
    expect(await parseImageLocation('oci:/nonexistent/dir:v1')).toMatchObject({ path: '/nonexistent/dir', ref: 'v1' })
    const loc = await parseImageLocation('oci:/nonexistent/a:b/c')
    expect(loc.path).toBe('/nonexistent/a:b/c')
    expect(loc.ref).toBeUndefined()
  })

  it('docker-archive: PATH:NAME:TAG keeps the whole reference, and files with ":" work', async () => {
    expect(await parseImageLocation(`docker-archive:${archive}`)).toMatchObject({ transport: 'docker-archive', path: archive })
    expect(await parseImageLocation(`docker-archive:${archive}:nginx:latest`)).toMatchObject({ path: archive, ref: 'nginx:latest' })
    expect(await parseImageLocation(`docker-archive:${archive}:localhost:5000/app:1`)).toMatchObject({ path: archive, ref: 'localhost:5000/app:1' })
    expect(await parseImageLocation(`docker-archive:${archive}:@1`)).toMatchObject({ path: archive, ref: '@1' })
    expect(await parseImageLocation(`docker-archive:${colonArchive}`)).toMatchObject({ path: colonArchive })
    expect(await parseImageLocation(`docker-archive:${colonArchive}:app:2`)).toMatchObject({ path: colonArchive, ref: 'app:2' })
    expect(await parseImageLocation(`oci-archive:${archive}:tag`)).toMatchObject({ transport: 'oci-archive', path: archive, ref: 'tag' })
  })

  it('knows the OCI ref-name grammar', () => {
    for (const ok of ['latest', '1.0', 'a-b_c.d', 'repo/name:tag', 'a+b@c', 'x--y', '@0']) expect(isOciRefName(ok), ok).toBe(true)
    for (const bad of ['', '-a', 'a-', 'a//b', 'a b', '@x', 'tag/']) expect(isOciRefName(bad), bad).toBe(false)
  })
})

describe('parseImageLocation: a bare path is opened by content', () => {
  const ociDir = join(work, 'ocidir')
  mkdirSync(ociDir)
  writeFileSync(join(ociDir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  const savedDir = join(work, 'saved')
  mkdirSync(savedDir)
  writeFileSync(join(savedDir, 'manifest.json'), '[]')

  it('an existing archive file (absolute, ./relative or by its extension) is read by content', async () => {
    expect(await parseImageLocation(archive)).toEqual({ transport: 'docker-archive', reference: archive, path: archive, byContent: true })
    expect(await parseImageLocation('./package.json')).toMatchObject({ path: './package.json', byContent: true })
  })

  it('a directory holding an OCI layout is oci:DIR, with or without a trailing slash', async () => {
    expect(await parseImageLocation(ociDir)).toEqual({ transport: 'oci', reference: `oci:${ociDir}`, path: ociDir })
    expect(await parseImageLocation(`${ociDir}/`)).toMatchObject({ transport: 'oci', path: `${ociDir}/` })
  })

  it('a directory without a layout, an unpacked docker save and a missing path each say what to do', async () => {
    expect((await failure(layout)).message).toMatch(/is a directory without an OCI layout \(no oci-layout or index\.json/)
    expect((await failure(savedDir)).message).toMatch(/unpacked docker save directory; slim reads the archive: tar -cf image\.tar/)
    const missing = await failure('./nope.tar')
    expect(missing.kind).toBe('not-found')
    expect(missing.message).toBe('./nope.tar: no such file or directory')
    expect((await failure('nope.tar')).message).toMatch(/^nope\.tar: no such file or directory; for a registry image of that name write docker:\/\/nope\.tar$/)
  })

  it('a bare word that is both a local file and a valid image name is ambiguous and names both spellings', async () => {
    // "src" exists in the repository root (the tests' working directory) and is a valid image name.
    const e = await failure('src')
    expect(e.kind).toBe('usage')
    expect(e.message).toBe('"src" is both a directory here and an image name; write ./src to read the directory, or docker://src for the registry image')
    expect(await parseImageLocation('docker://src')).toMatchObject({ transport: 'docker', name: 'src' })
  })
})
