import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { SlimError } from '../../../../src/core/errors.js'
import { MediaType } from '../../../../src/image/types.js'
import { rejectUnsupportedManifest } from '../../../../src/image/registry/manifest-kind.js'
import { SHARED } from '../../../helpers/shared.js'

const CORPUS = `${SHARED}/corpus`

function kindOf(fn: () => void): string | undefined {
  try {
    fn()
    return undefined
  } catch (e) {
    return (e as SlimError).kind + ': ' + (e as SlimError).message
  }
}

describe('rejectUnsupportedManifest', () => {
  it('refuses schema 1 by Content-Type or by document', () => {
    expect(kindOf(() => rejectUnsupportedManifest(Buffer.from('{}'), MediaType.dockerSchema1Signed, 'docker://r/a:1'))).toMatch(/^unsupported: docker:\/\/r\/a:1: .*schema 1/)
    expect(kindOf(() => rejectUnsupportedManifest(Buffer.from('{"schemaVersion":1,"name":"a","fsLayers":[]}'), 'application/json', 'x'))).toMatch(/^unsupported: .*schema 1/)
  })

  it('refuses OCI artifacts that are not images, naming their type', () => {
    const helm = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: 'sha256:' + '0'.repeat(64), size: 1 }, layers: [] }
    expect(kindOf(() => rejectUnsupportedManifest(Buffer.from(JSON.stringify(helm)), MediaType.ociManifest, 'x'))).toMatch(/^unsupported: .*artifact of type application\/vnd\.cncf\.helm\.config\.v1\+json/)
    const sig = { ...helm, artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json', config: { ...helm.config, mediaType: MediaType.ociEmpty } }
    expect(kindOf(() => rejectUnsupportedManifest(Buffer.from(JSON.stringify(sig)), MediaType.ociManifest, 'x'))).toMatch(/cosign/)
  })

  it('accepts real image manifests and indexes from the corpus', () => {
    const dir = `${CORPUS}/anchore__stereoscope/pkg/image/oci/testdata/multiplatform_oci_dir`
    const index = JSON.parse(readFileSync(`${dir}/index.json`, 'utf8')) as { manifests: Array<{ digest: string }> }
    const inner = readFileSync(`${dir}/blobs/sha256/${index.manifests[0].digest.slice(7)}`)
    expect(kindOf(() => rejectUnsupportedManifest(inner, MediaType.ociIndex, 'x'))).toBeUndefined()
    const child = (JSON.parse(inner.toString()) as { manifests: Array<{ digest: string }> }).manifests[0]
    expect(kindOf(() => rejectUnsupportedManifest(readFileSync(`${dir}/blobs/sha256/${child.digest.slice(7)}`), MediaType.ociManifest, 'x'))).toBeUndefined()
    // Malformed JSON is the caller's to report.
    expect(kindOf(() => rejectUnsupportedManifest(Buffer.from('{not json'), MediaType.ociManifest, 'x'))).toBeUndefined()
  })
})
