/**
 * Pushes a built image to a registry (OCI distribution API, push side), with the registry client
 * of src/image: each blob is first asked for (HEAD), then mounted from the base's repository when
 * on the same registry, else uploaded (src/image/registry/upload.ts: one PUT, or PATCH chunks for
 * blobs above the chunk size). Manifests go last: one platform's under the tag; for several, each
 * platform's manifest by its digest and then the OCI image index under the tag.
 */
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { SlimError } from '../core/errors.js'
import { parseReference } from '../image/reference.js'
import { RegistryClient } from '../image/registry/client.js'
import { discard, headerValue } from '../image/registry/http.js'
import { DEFAULT_CHUNK_BYTES, openUpload, uploadBlob, type UploadSource } from '../image/registry/upload.js'
import { MediaType, type Platform, type RegistryOptions } from '../image/types.js'
import { assembleIndex, type Assembled } from './assemble.js'

export interface PushResult {
  /** Blobs the registry already had, mounted from the base's repository, and uploaded. */
  existing: number
  mounted: number
  uploaded: number
  /** Of the uploaded blobs, those sent in chunks; and chunk failures recovered from. */
  chunked: number
  recoveries: number
}

export interface PushImage {
  platform: Platform
  assembled: Assembled
  /** The base the image was built on (its blobs may be mounted from there). */
  baseRef?: string
}

export interface PushOptions extends RegistryOptions {
  log?: (m: string) => void
  /** Blobs larger than this are uploaded in chunks of this size (default DEFAULT_CHUNK_BYTES). */
  chunkBytes?: number
  /** Push an index even for one platform (--all-platforms of a multi-platform source). */
  asIndex?: boolean
}

/** A blob of the build directory (read a chunk at a time) or already in memory (config). */
function blobSource(blobs: string, digest: string, size: number, bytes?: Buffer): UploadSource {
  if (bytes) return { digest, size: bytes.length, read: async (offset, length) => bytes.subarray(offset, offset + length) }
  const path = join(blobs, 'blobs', 'sha256', digest.slice('sha256:'.length))
  return {
    digest,
    size,
    async read(offset, length) {
      const file = await open(path, 'r')
      try {
        const buf = Buffer.alloc(length)
        const { bytesRead } = await file.read(buf, 0, length, offset)
        if (bytesRead !== length) throw new SlimError('integrity', `${path}: the built blob ended at ${offset + bytesRead} bytes, not ${size}`)
        return buf
      } finally {
        await file.close()
      }
    },
  }
}

export async function pushImage(dest: string, blobs: string, images: PushImage[], opts: PushOptions = {}): Promise<PushResult> {
  const ref = parseReference(dest)
  if (!ref.tag || ref.digest) throw new SlimError('usage', `--output docker://${dest}: name a tag (docker://REGISTRY/REPO:TAG)`)
  if (images.length === 0) throw new SlimError('usage', `--output docker://${dest}: nothing to push`)
  const client = new RegistryClient(ref.registry, { ...opts, repository: ref.repository })
  const repo = ref.repository
  const what = `docker://${dest}`
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES
  const out: PushResult = { existing: 0, mounted: 0, uploaded: 0, chunked: 0, recoveries: 0 }
  const done = new Set<string>()
  try {
    for (const { assembled: a, baseRef } of images) {
      const base = baseRef ? parseReference(baseRef) : undefined
      const all = [...a.layers.map((l) => ({ digest: l.digest, size: l.size, bytes: undefined as Buffer | undefined })), { digest: a.configDigest, size: a.config.length, bytes: a.config }]
      for (const blob of all) {
        if (done.has(blob.digest)) continue
        done.add(blob.digest)
        const head = await client.request(`/v2/${repo}/blobs/${blob.digest}`, repo, what, 'blob', { method: 'HEAD', push: true, allow: [404] })
        await discard(head)
        if (head.statusCode === 200) {
          out.existing++
          continue
        }
        let location: string
        if (base && base.registry === ref.registry && base.repository !== repo && blob.bytes === undefined) {
          const mount = `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(base.repository)}`
          const session = await client.request(mount, repo, what, 'blob', { method: 'POST', push: true, headers: { 'content-length': '0' } })
          await discard(session)
          if (session.statusCode === 201) {
            out.mounted++
            continue
          }
          // A refused mount opens an ordinary upload session (202).
          const loc = headerValue(session, 'location')
          if (!loc) throw new SlimError('format', `${what}: the registry opened an upload without a Location header`)
          location = loc
        } else location = await openUpload(client, repo, what)
        const r = await uploadBlob(client, repo, what, blobSource(blobs, blob.digest, blob.size, blob.bytes), location, { chunkBytes, log: opts.log })
        out.uploaded++
        if (r.chunks > 0) out.chunked++
        out.recoveries += r.recoveries
      }
    }
    const putManifest = async (reference: string, bytes: Buffer, mediaType: string, digest: string): Promise<void> => {
      const res = await client.request(`/v2/${repo}/manifests/${reference}`, repo, what, 'manifest', {
        method: 'PUT',
        push: true,
        body: bytes,
        headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
      })
      const said = headerValue(res, 'docker-content-digest')
      await discard(res)
      if (said && said !== digest) throw new SlimError('integrity', `${what}: the registry stored the ${mediaType === MediaType.ociIndex ? 'index' : 'manifest'} as ${said}, not ${digest}`)
    }
    if (images.length === 1 && !opts.asIndex) {
      const a = images[0].assembled
      await putManifest(ref.tag, a.manifest, MediaType.ociManifest, a.manifestDigest)
    } else {
      for (const { assembled: a } of images) await putManifest(a.manifestDigest, a.manifest, MediaType.ociManifest, a.manifestDigest)
      const index = assembleIndex(images)
      await putManifest(ref.tag, index.bytes, MediaType.ociIndex, index.digest)
    }
    return out
  } finally {
    await client.close()
  }
}
