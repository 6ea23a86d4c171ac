/**
 * Writes the new layer: the entries in order as a tar (headers by node-tar's Header and Pax, one
 * fixed mtime, no user or group names, no atime/ctime), gzip-compressed, to a file. The same
 * entries give the same bytes, so the same digests: the slim image is reproducible.
 */
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { createGzip } from 'node:zlib'
import { Header, Pax } from 'tar'
import type { LayerEntry } from './entries.js'

export interface WrittenLayer {
  /** sha256 of the uncompressed tar (the config's diff_id). */
  diffId: string
  /** sha256 of the gzip blob (the manifest's digest). */
  digest: string
  size: number
  tarBytes: number
}

const TYPES = { file: 'File', dir: 'Directory', symlink: 'SymbolicLink', link: 'Link' } as const

/** Writes `entries` to `file` (.tar.gz); `read` gives the bytes of an entry read from the source image. */
export async function writeLayer(entries: LayerEntry[], file: string, mtime: Date, read: (e: LayerEntry) => Promise<Buffer>): Promise<WrittenLayer> {
  const tarHash = createHash('sha256')
  const gzHash = createHash('sha256')
  let tarBytes = 0
  let size = 0
  // level 9 and no file name or time in the gzip header: stable output for the same input.
  const gzip = createGzip({ level: 9 })
  const out = createWriteStream(file)
  gzip.on('data', (chunk: Buffer) => {
    gzHash.update(chunk)
    size += chunk.length
  })
  gzip.pipe(out)
  const done = once(out, 'close')
  const push = async (buf: Buffer): Promise<void> => {
    tarHash.update(buf)
    tarBytes += buf.length
    if (!gzip.write(buf)) await once(gzip, 'drain')
  }

  for (const e of entries) {
    const data = e.type === 'file' ? (e.data ?? (await read(e))) : undefined
    const path = e.path.slice(1) + (e.type === 'dir' ? '/' : '')
    const linkpath = e.type === 'link' ? e.target!.slice(1) : e.type === 'symlink' ? e.target : undefined
    const fields = { path, linkpath, mode: e.mode, uid: e.uid, gid: e.gid, size: data?.length ?? 0, mtime, type: TYPES[e.type], uname: '', gname: '' }
    const header = new Header(fields)
    if (header.encode()) {
      // Names past ustar's 100/155 bytes (or non-ASCII ones) go in a PAX record before the header.
      await push(new Pax({ path, linkpath, mtime }).encode())
    }
    await push(header.block!)
    if (data && data.length > 0) {
      await push(data)
      const pad = (512 - (data.length % 512)) % 512
      if (pad) await push(Buffer.alloc(pad))
    }
  }
  await push(Buffer.alloc(1024))
  gzip.end()
  await done
  return { diffId: `sha256:${tarHash.digest('hex')}`, digest: `sha256:${gzHash.digest('hex')}`, size, tarBytes }
}
