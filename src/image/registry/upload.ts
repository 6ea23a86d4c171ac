/**
 * The push side of a blob upload (OCI distribution spec, "Pushing blobs"): after the POST that
 * opened an upload session, either one monolithic PUT ?digest= with the whole blob, or, for a blob
 * larger than the chunk size, a PATCH per chunk (Content-Range: START-END, each to the Location the
 * previous answer gave) and a closing PUT ?digest= with no body. Only one chunk is in memory.
 *
 * A chunk that fails is retried where it is safe: HTTP-level retries (5xx, 429, resets) happen in
 * the HTTP client; a chunk that still fails asks the registry how far the upload got (GET on the
 * session, its Range header) and resumes there, or, when the registry dropped the session (Docker
 * Distribution cancels an upload whose offset it no longer agrees with), starts a new session from
 * byte 0, at most `retries` times. Then it is one line naming the blob, the byte range and why.
 */
import { SlimError, describe } from '../../core/errors.js'
import type { RegistryClient } from './client.js'
import { discard, headerValue } from './http.js'

/** Blobs above this go in chunks unless --chunk-size says otherwise (one chunk's bytes are held in memory). */
export const DEFAULT_CHUNK_BYTES = 32 * 1024 * 1024

export interface UploadSource {
  digest: string
  size: number
  /** `length` bytes from `offset` (the blob file, or bytes already in memory). */
  read(offset: number, length: number): Promise<Buffer>
}

export interface UploadOptions {
  chunkBytes: number
  /** Session restarts/resumes allowed after a chunk failed (default 3). */
  retries?: number
  log?: (msg: string) => void
}

export interface UploadResult {
  /** 'monolithic' or the number of PATCH requests that succeeded. */
  chunks: number
  /** Times the upload resumed or restarted after a failed chunk. */
  recoveries: number
}

/** A Location header as a request path (relative) or an absolute URL, with `extra` query parameters set. */
function target(location: string, extra: Record<string, string> = {}): string {
  const url = new URL(location, 'http://placeholder')
  for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v)
  return /^https?:/.test(location) ? url.toString() : `${url.pathname}${url.search}`
}

function locationOf(res: Awaited<ReturnType<RegistryClient['request']>>, what: string): string {
  const location = headerValue(res, 'location')
  if (!location) throw new SlimError('format', `${what}: the registry answered an upload request without a Location header`)
  return location
}

/** The last byte the registry says it holds, from `Range: 0-N` (bytes=0-N tolerated); -1 for none. */
export function rangeEnd(value: string | undefined): number | undefined {
  const m = /^(?:bytes=)?0-(\d+)$/.exec((value ?? '').trim())
  return m ? Number(m[1]) : undefined
}

/** Opens an upload session (POST) and returns its Location. */
export async function openUpload(client: RegistryClient, repo: string, what: string): Promise<string> {
  const res = await client.request(`/v2/${repo}/blobs/uploads/`, repo, what, 'blob', { method: 'POST', push: true, headers: { 'content-length': '0' } })
  await discard(res)
  return locationOf(res, what)
}

/** Uploads `blob` into the session at `location` (from openUpload or a refused mount). */
export async function uploadBlob(client: RegistryClient, repo: string, what: string, blob: UploadSource, location: string, opts: UploadOptions): Promise<UploadResult> {
  const put = (loc: string, body: Buffer) =>
    client.request(target(loc, { digest: blob.digest }), repo, what, 'blob', {
      method: 'PUT',
      push: true,
      body,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
      expectedBytes: body.length,
    })
  if (blob.size <= opts.chunkBytes) {
    await discard(await put(location, await blob.read(0, blob.size)))
    return { chunks: 0, recoveries: 0 }
  }

  const retries = opts.retries ?? 3
  let loc = location
  let offset = 0
  let chunks = 0
  let recoveries = 0
  while (offset < blob.size) {
    const length = Math.min(opts.chunkBytes, blob.size - offset)
    const end = offset + length - 1
    try {
      const res = await client.request(target(loc), repo, what, 'blob', {
        method: 'PATCH',
        push: true,
        body: await blob.read(offset, length),
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(length), 'content-range': `${offset}-${end}` },
        expectedBytes: length,
      })
      await discard(res)
      loc = locationOf(res, what)
      // The registry's Range is the truth; a registry that took less than the chunk is resumed from there.
      const held = rangeEnd(headerValue(res, 'range'))
      offset = held !== undefined && held < end ? held + 1 : end + 1
      chunks++
    } catch (e) {
      if (recoveries >= retries || (e instanceof SlimError && (e.kind === 'auth' || e.kind === 'usage'))) {
        throw new SlimError(e instanceof SlimError ? e.kind : 'network', `${what}: uploading blob ${blob.digest} failed at bytes ${offset}-${end} of ${blob.size} after ${recoveries + 1} attempt(s): ${reason(e, what)}`, { cause: e })
      }
      recoveries++
      const resumed = await uploadStatus(client, repo, what, loc)
      if (resumed && resumed.offset <= blob.size) {
        opts.log?.(`${what}: chunk ${offset}-${end} of ${blob.digest} failed (${reason(e, what)}); the registry holds ${resumed.offset} bytes, resuming there`)
        ;({ loc, offset } = resumed)
      } else {
        opts.log?.(`${what}: chunk ${offset}-${end} of ${blob.digest} failed (${reason(e, what)}); the registry dropped the upload, starting a new one`)
        loc = await openUpload(client, repo, what)
        offset = 0
      }
      await client.pause(recoveries - 1, what)
    }
  }
  await discard(await put(loc, Buffer.alloc(0)))
  return { chunks, recoveries }
}

/** GET on an upload session: how many bytes the registry holds and where to continue; undefined when the session is gone. */
async function uploadStatus(client: RegistryClient, repo: string, what: string, loc: string): Promise<{ loc: string; offset: number } | undefined> {
  try {
    const res = await client.request(target(loc), repo, what, 'blob', { push: true, allow: [400, 404, 416] })
    await discard(res)
    if (res.statusCode !== 204 && res.statusCode !== 200) return undefined
    // Distribution answers "0-0" for an empty session too: resuming at 0 is safe either way (a
    // wrong offset makes the registry refuse the next chunk, and the upload starts over).
    const held = rangeEnd(headerValue(res, 'range'))
    const next = headerValue(res, 'location') ?? loc
    return { loc: next, offset: held === undefined || held === 0 ? 0 : held + 1 }
  } catch {
    return undefined
  }
}

/** The cause's first line, without the `what:` prefix the error already starts with. */
function reason(e: unknown, what: string): string {
  const text = (e instanceof Error ? e.message : describe(e)).split('\n')[0]
  return text.startsWith(`${what}: `) ? text.slice(what.length + 2) : text
}
