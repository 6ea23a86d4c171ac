import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { SlimError } from '../../../src/core/errors.js'
import {
  artifactTypeOf,
  layerKind,
  parseImageConfig,
  parseManifestDocument,
  validateImageManifest,
  type ManifestDocument,
} from '../../../src/image/manifest.js'
import { MediaType } from '../../../src/image/types.js'
import { SHARED } from '../../helpers/shared.js'

const CI = `${SHARED}/corpus/containers__image`
const TESTDATA = `${CI}/internal/manifest/testdata`
const FIXTURES = `${CI}/manifest/fixtures`
const IMAGE_FIXTURES = `${CI}/internal/image/fixtures`

const read = (p: string): Buffer => readFileSync(p)

function failure(fn: () => unknown): SlimError {
  try {
    fn()
  } catch (e) {
    if (e instanceof SlimError) return e
    throw e
  }
  throw new Error('expected a SlimError')
}

function manifestOf(doc: ManifestDocument) {
  if (doc.kind !== 'manifest') throw new Error(`expected a manifest, got ${doc.kind}`)
  return doc.manifest
}

describe('parseManifestDocument: the containers/image manifest fixtures', () => {
  it.each([
    ['v2s2.manifest.json', MediaType.dockerManifest, 3],
    ['ociv1.manifest.json', MediaType.ociManifest, 3],
  ])('%s is a manifest (%s) with %i layers', (file, mediaType, layers) => {
    const doc = parseManifestDocument(read(`${TESTDATA}/${file}`), file)
    expect(doc.kind).toBe('manifest')
    expect(doc.mediaType).toBe(mediaType)
    expect(validateImageManifest(manifestOf(doc), file).layers).toHaveLength(layers)
  })

  it('detects manifests without a mediaType field by shape, and keeps the hint as their type', () => {
    const v2 = parseManifestDocument(read(`${TESTDATA}/v2s2nomime.manifest.json`), 'x', MediaType.dockerManifest)
    expect(v2.kind).toBe('manifest')
    expect(v2.mediaType).toBe(MediaType.dockerManifest)
    const oci = parseManifestDocument(read(`${TESTDATA}/ociv1nomime.manifest.json`), 'x')
    expect(oci.kind).toBe('manifest')
    expect(oci.mediaType).toBe(MediaType.ociManifest)
  })

  it.each([
    ['v2list.manifest.json', MediaType.dockerList, 5],
    ['schema2list.json', MediaType.dockerList, 7],
    ['ociv1.image.index.json', MediaType.ociIndex, 2],
    ['ociv1nomime.image.index.json', MediaType.ociIndex, 2],
    ['oci1index.json', MediaType.ociIndex, 3],
    ['oci1.index.everything.json', MediaType.ociIndex, undefined],
    ['oci1.index.zstd-selection.json', MediaType.ociIndex, undefined],
  ])('%s is an index (%s)', (file, mediaType, count) => {
    const doc = parseManifestDocument(read(`${TESTDATA}/${file}`), file)
    expect(doc.kind).toBe('index')
    expect(doc.mediaType).toBe(mediaType)
    if (doc.kind === 'index' && count !== undefined) expect(doc.index.manifests).toHaveLength(count)
  })

  it.each(['v2s1.manifest.json', 'v2s1-unsigned.manifest.json', 'v2s1-invalid-signatures.manifest.json'])(
    '%s (schema 1) is refused with the re-push advice',
    (file) => {
      const err = failure(() => parseManifestDocument(read(`${TESTDATA}/${file}`), 'docker://x/y:1'))
      expect(err.kind).toBe('unsupported')
      expect(err.message).toMatch(/schema 1 manifests are deprecated; re-push the image with a current Docker or skopeo/)
    },
  )

  it('refuses the schema 1 conversions in internal/image/fixtures', () => {
    for (const f of ['schema1.json', 'oci1-to-schema1.json', 'schema2-to-schema1-by-docker.json']) {
      expect(failure(() => parseManifestDocument(read(`${IMAGE_FIXTURES}/${f}`), f)).kind).toBe('unsupported')
    }
  })

  it('refuses an unknown schemaVersion', () => {
    const err = failure(() => parseManifestDocument(read(`${TESTDATA}/unknown-version.manifest.json`), 'm'))
    expect(err.kind).toBe('unsupported')
    expect(err.message).toMatch(/schemaVersion 99999/)
  })

  it('reports non-JSON bytes as a format error naming the document', () => {
    const err = failure(() => parseManifestDocument(read(`${TESTDATA}/non-json.manifest.json`), 'docker://r/x:1: manifest'))
    expect(err.kind).toBe('format')
    expect(err.message).toMatch(/^docker:\/\/r\/x:1: manifest is not valid JSON/)
  })

  it('reports null, arrays and empty input clearly', () => {
    expect(failure(() => parseManifestDocument(Buffer.from('null'), 'm')).message).toMatch(/not a JSON object \(got null\)/)
    expect(failure(() => parseManifestDocument(Buffer.from('[]'), 'm')).message).toMatch(/got an array/)
    expect(failure(() => parseManifestDocument(Buffer.alloc(0), 'm')).message).toMatch(/is empty/)
    expect(failure(() => parseManifestDocument(Buffer.from('{"schemaVersion":2}'), 'm')).message).toMatch(/neither an image manifest nor an image index/)
  })

  it('refuses documents above the 4 MiB manifest limit', () => {
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20)
    expect(failure(() => parseManifestDocument(big, 'm')).kind).toBe('limit')
  })

  it('trusts the content over a descriptor that claims the wrong kind', () => {
    // go-containerregistry's test_index says "OCI manifest" for what is an index, and vice versa.
    const doc = parseManifestDocument(read(`${TESTDATA}/oci1index.json`), 'x', MediaType.ociManifest)
    expect(doc.kind).toBe('index')
  })
})

describe('artifacts and layer kinds', () => {
  it('names the artifact type of non-image manifests', () => {
    expect(artifactTypeOf(manifestOf(parseManifestDocument(read(`${TESTDATA}/ociv1.artifact.json`), 'a')))).toBe('application/vnd.oci.custom.artifact.config.v1+json')
    expect(artifactTypeOf(manifestOf(parseManifestDocument(read(`${TESTDATA}/ociv1nomime.artifact.json`), 'a')))).toBe('application/vnd.oci.custom.artifact.config.v1+json')
    expect(artifactTypeOf(manifestOf(parseManifestDocument(read(`${FIXTURES}/ociv1.everything.json`), 'a')))).toBe('application/our-artifact')
    expect(artifactTypeOf(manifestOf(parseManifestDocument(read(`${IMAGE_FIXTURES}/oci1-artifact.json`), 'a')))).toBe('application/vnd.oci.custom.artifact.config.v1+json')
  })

  it('treats image configs as images, and octet-stream configs as "decide by content"', () => {
    expect(artifactTypeOf(manifestOf(parseManifestDocument(read(`${TESTDATA}/v2s2.manifest.json`), 'm')))).toBeUndefined()
    expect(artifactTypeOf(manifestOf(parseManifestDocument(read(`${IMAGE_FIXTURES}/schema2.json`), 'm')))).toBeUndefined()
  })

  it('classifies every layer media type of the all-media-types fixtures', () => {
    const oci = manifestOf(parseManifestDocument(read(`${IMAGE_FIXTURES}/oci1-all-media-types.json`), 'm'))
    expect(oci.layers.map((l) => layerKind(l.mediaType).foreign)).toEqual([false, false, false, true, true, true])
    expect(oci.layers.every((l) => layerKind(l.mediaType).known)).toBe(true)
    const docker = manifestOf(parseManifestDocument(read(`${IMAGE_FIXTURES}/schema2-all-media-types.json`), 'm'))
    expect(docker.layers.map((l) => layerKind(l.mediaType).foreign)).toEqual([false, false, true, true, true])
  })

  it('flags foreign, encrypted and unknown layers from the manifest fixtures', () => {
    for (const f of ['ociv1.nondistributable.manifest.json', 'ociv1.nondistributable.gzip.manifest.json', 'ociv1.nondistributable.zstd.manifest.json', 'v2s2.nondistributable.manifest.json', 'v2s2.nondistributable.gzip.manifest.json']) {
      const m = manifestOf(parseManifestDocument(read(`${FIXTURES}/${f}`), f))
      expect(layerKind(m.layers[0].mediaType).foreign).toBe(true)
    }
    const enc = manifestOf(parseManifestDocument(read(`${FIXTURES}/ociv1.encrypted.manifest.json`), 'e'))
    expect(enc.layers.every((l) => layerKind(l.mediaType).encrypted)).toBe(true)
    const bad = manifestOf(parseManifestDocument(read(`${FIXTURES}/ociv1.invalid.mediatype.manifest.json`), 'b'))
    expect(layerKind(bad.layers[0].mediaType).known).toBe(false)
    expect(layerKind(bad.layers[1].mediaType).known).toBe(true)
    const zstd = manifestOf(parseManifestDocument(read(`${FIXTURES}/ociv1.zstd.manifest.json`), 'z'))
    expect(zstd.layers.every((l) => layerKind(l.mediaType).known && !layerKind(l.mediaType).foreign)).toBe(true)
  })

  it('validates descriptors strictly after the artifact check', () => {
    const m = manifestOf(parseManifestDocument(Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: MediaType.ociConfig, digest: 'sha256:xyz', size: 1 }, layers: [] })), 'm'))
    expect(failure(() => validateImageManifest(m, 'docker://a/b:1: manifest')).message).toMatch(/config descriptor has an invalid digest "sha256:xyz"/)
    const neg = manifestOf(parseManifestDocument(Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: MediaType.ociConfig, digest: `sha256:${'a'.repeat(64)}`, size: -5 }, layers: [] })), 'm'))
    expect(failure(() => validateImageManifest(neg, 'm')).message).toMatch(/invalid size -5/)
  })
})

describe('parseImageConfig', () => {
  it('reads the httpd configs (5 layers, CMD httpd-foreground)', () => {
    for (const f of ['oci1-config.json', 'schema2-config.json', 'oci1-config-extra-fields.json']) {
      const c = parseImageConfig(read(`${IMAGE_FIXTURES}/${f}`), f)
      expect(c.rootfs.diff_ids).toHaveLength(5)
      expect(c.architecture).toBe('amd64')
      expect(c.os).toBe('linux')
      expect(c.config?.Cmd).toEqual(['httpd-foreground'])
    }
  })

  it('reads a real Docker engine config with user, ports and healthcheck', () => {
    const c = parseImageConfig(read(`${SHARED}/corpus/anchore__stereoscope/pkg/image/docker/testdata/engine-config.json`), 'engine-config')
    expect(c.config?.User).toBe('anchore:anchore')
    expect(Object.keys(c.config?.ExposedPorts ?? {}).length).toBeGreaterThan(0)
    expect(c.config?.Healthcheck?.Test?.length).toBeGreaterThan(0)
  })

  it('rejects configs without rootfs.diff_ids, with bad digests, or not objects', () => {
    expect(failure(() => parseImageConfig(Buffer.from('{"architecture":"amd64"}'), 'cfg')).message).toMatch(/cfg has no rootfs.diff_ids/)
    expect(failure(() => parseImageConfig(Buffer.from('{"rootfs":{"type":"layers","diff_ids":["nope"]}}'), 'cfg')).message).toMatch(/diff_ids\[0\] is not a valid digest/)
    expect(failure(() => parseImageConfig(Buffer.from('"text"'), 'cfg')).message).toMatch(/not a JSON object/)
  })
})
