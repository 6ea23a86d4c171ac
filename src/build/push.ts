/**
 * Pushes a built image to a registry (OCI distribution API, push side), with the registry client
 * of src/image: each blob is first asked for (HEAD), then mounted from the base's repository when
 * on the same registry, else uploaded in one PUT (POST for a session, then PUT ?digest=); the
 * manifest goes last, under the tag.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SlimError } from '../core/errors.js'
import { parseReference } from '../image/reference.js'
import { RegistryClient } from '../image/registry/client.js'
import { discard, headerValue } from '../image/registry/http.js'
import { MediaType, type RegistryOptions } from '../image/types.js'
import type { Assembled } from './assemble.js'

export interface PushResult {
  /** Blobs the registry already had, mounted from the base's repository, and uploaded. */
  existing: number
  mounted: number
  uploaded: number
}

export async function pushImage(dest: string, blobs: string, a: Assembled, baseRef: string | undefined, opts: RegistryOptions & { log?: (m: string) => void } = {}): Promise<PushResult> {
  const ref = parseReference(dest)
  if (!ref.tag || ref.digest) throw new SlimError('usage', `--output docker://${dest}: name a tag (docker://REGISTRY/REPO:TAG)`)
  const base = baseRef ? parseReference(baseRef) : undefined
  const client = new RegistryClient(ref.registry, { ...opts, repository: ref.repository })
  const repo = ref.repository
  const what = `docker://${dest}`
  const out: PushResult = { existing: 0, mounted: 0, uploaded: 0 }
  try {
    const all = [...a.layers.map((l) => ({ digest: l.digest, bytes: undefined as Buffer | undefined })), { digest: a.configDigest, bytes: a.config }]
    for (const blob of all) {
      const head = await client.request(`/v2/${repo}/blobs/${blob.digest}`, repo, what, 'blob', { method: 'HEAD', push: true, allow: [404] })
      await discard(head)
      if (head.statusCode === 200) {
        out.existing++
        continue
      }
      let start = `/v2/${repo}/blobs/uploads/`
      if (base && base.registry === ref.registry && base.repository !== repo && blob.bytes === undefined) {
        start += `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(base.repository)}`
      }
      const session = await client.request(start, repo, what, 'blob', { method: 'POST', push: true, headers: { 'content-length': '0' } })
      await discard(session)
      if (session.statusCode === 201) {
        out.mounted++
        continue
      }
      const location = headerValue(session, 'location')
      if (!location) throw new SlimError('format', `${what}: the registry opened an upload without a Location header`)
      const bytes = blob.bytes ?? (await readFile(join(blobs, 'blobs', 'sha256', blob.digest.slice('sha256:'.length))))
      const url = new URL(location, 'http://placeholder')
      url.searchParams.set('digest', blob.digest)
      const target = /^https?:/.test(location) ? url.toString() : `${url.pathname}${url.search}`
      const put = await client.request(target, repo, what, 'blob', {
        method: 'PUT',
        push: true,
        body: bytes,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
      })
      await discard(put)
      out.uploaded++
    }
    const manifest = await client.request(`/v2/${repo}/manifests/${ref.tag}`, repo, what, 'manifest', {
      method: 'PUT',
      push: true,
      body: a.manifest,
      headers: { 'content-type': MediaType.ociManifest, 'content-length': String(a.manifest.length) },
    })
    const said = headerValue(manifest, 'docker-content-digest')
    await discard(manifest)
    if (said && said !== a.manifestDigest) throw new SlimError('integrity', `${what}: the registry stored the manifest as ${said}, not ${a.manifestDigest}`)
    return out
  } finally {
    await client.close()
  }
}
