import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, open, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { SlimError, describe, isSlimError } from '../../core/errors.js'
import { chargingStream, DEFAULT_MAX_TEMP_BYTES, trackTemp, type TempHandle } from '../../core/temp.js'
import { BlobCache } from '../cache.js'
import { decompressStream, detectCompression } from '../compression.js'
import { TarIndex } from './tar-index.js'

/**
 * Opens an outer archive file (docker save, OCI archive) as a TarIndex. Archives wrapped in gzip,
 * xz or zstd (`docker save | gzip`, skopeo's test tarballs) cannot be read by offset, so they are
 * decompressed once into a temp file, in the cache dir when there is one (else the system temp
 * dir), which `close()` deletes. The temp file counts against the temp budget (core/temp.ts) while
 * it is written, so a small gzip bomb stops at the limit instead of filling the disk.
 */

/** Where temp files go and how much they may hold together. */
export interface TempPlace {
  cacheDir?: string
  /** Default DEFAULT_MAX_TEMP_BYTES. */
  maxTempBytes?: number
}
export interface OuterArchive {
  index: TarIndex
  /** Set when the archive was decompressed into a temp file first. */
  wrappedIn?: string
  close(): Promise<void>
}

export async function openOuterArchive(path: string, display: string, place: TempPlace = {}): Promise<OuterArchive> {
  await checkIsFile(path, display)
  const head = await readHead(path, 6)
  const wrapping = detectCompression(head)
  if (wrapping === 'none') {
    return { index: await TarIndex.open(path, display), close: async () => {} }
  }
  const { tempFile, cleanup, handle } = await makeTemp(place.cacheDir)
  try {
    const what = `${display} (${wrapping}-compressed archive)`
    const { stream } = await decompressStream(createReadStream(path), what)
    await pipeline(stream, chargingStream(handle, place.maxTempBytes ?? DEFAULT_MAX_TEMP_BYTES, what), createWriteStream(tempFile, { mode: 0o600 }))
    const index = await TarIndex.open(tempFile, display)
    let closed = false
    return {
      index,
      wrappedIn: wrapping,
      close: async () => {
        if (closed) return
        closed = true
        await cleanup()
      },
    }
  } catch (e) {
    await cleanup()
    if (isSlimError(e)) throw e
    throw new SlimError('format', `${display}: cannot decompress the ${wrapping} archive (${describe(e)})`, { cause: e })
  }
}

export async function checkIsFile(path: string, display: string): Promise<void> {
  let st
  try {
    st = await stat(path)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new SlimError('not-found', `${display}: file ${path} does not exist`)
    throw new SlimError('not-found', `${display}: cannot read ${path} (${describe(e)})`)
  }
  if (st.isDirectory()) {
    throw new SlimError('format', `${display}: ${path} is a directory, not an archive file (for an OCI layout directory use oci:${path})`)
  }
  // A FIFO or a device would block or never end: archives are read by offset, from regular files only.
  if (!st.isFile()) throw new SlimError('format', `${display}: ${path} is not a regular file (a pipe or a device); save the archive to a file first`)
}

async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(n)
    const { bytesRead } = await fh.read(buf, 0, n, 0)
    return buf.subarray(0, bytesRead)
  } finally {
    await fh.close()
  }
}

/**
 * A temp file in `<cacheDir>/tmp` (shared with the blob cache), or in a private dir under
 * os.tmpdir(); registered so that exit and signals remove it (core/temp.ts).
 */
async function makeTemp(cacheDir: string | undefined): Promise<{ tempFile: string; cleanup: () => Promise<void>; handle: TempHandle }> {
  if (cacheDir) {
    const tempFile = await new BlobCache(cacheDir).tempPath('.tar')
    const handle = trackTemp(tempFile)
    return { tempFile, cleanup: () => handle.remove(), handle }
  }
  const dir = await mkdtemp(join(tmpdir(), 'slim-'))
  const handle = trackTemp(dir, { dir: true })
  return { tempFile: join(dir, 'archive.tar'), cleanup: () => handle.remove(), handle }
}

export { makeTemp as makeArchiveTemp }
