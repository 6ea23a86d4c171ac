import { constants } from 'node:fs'
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream'
import { describe, isSlimError, SlimError } from '../core/errors.js'
import { markUsed } from '../core/cache-use.js'
import { parseDigest, VerifyStream } from '../core/digest.js'
import { DEFAULT_MAX_TEMP_BYTES, trackTemp, type TempHandle } from '../core/temp.js'
import type { Descriptor } from './types.js'

/**
 * Content-addressed blob cache: `<dir>/blobs/<alg>/<hex>` holds only bytes whose digest was
 * verified. A blob is streamed to its consumer and, at the same time, into `<dir>/tmp/<random>`;
 * only when the whole stream has passed its digest check is the temp file fsynced and renamed into
 * place. rename(2) is atomic, so two slim processes filling the same blob at once are harmless: the
 * second rename replaces identical bytes. A cache hit is verified again while it is read, and a
 * corrupt entry is deleted.
 */

/** `$XDG_CACHE_HOME/slim`, else `~/.cache/slim`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const xdg = env.XDG_CACHE_HOME
  // The XDG spec says relative values are invalid and must be ignored.
  if (xdg && xdg.startsWith('/')) return join(xdg, 'slim')
  return join(home, '.cache', 'slim')
}

/** Temp files older than this were left by a crashed process. */
export const STALE_TEMP_MS = 24 * 60 * 60 * 1000

export class BlobCache {
  private swept = false

  constructor(
    readonly dir: string,
    private readonly log: (msg: string) => void = () => {},
    /** Bound on all temp files together (core/temp.ts): a blob past it is passed on but not cached. */
    readonly maxTempBytes: number = DEFAULT_MAX_TEMP_BYTES,
  ) {}

  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest)
    return join(this.dir, 'blobs', algorithm, hex)
  }

  get tmpDir(): string {
    return join(this.dir, 'tmp')
  }

  /** A fresh, not yet existing path under `<dir>/tmp` (created with mode 0700). */
  async tempPath(suffix = ''): Promise<string> {
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 })
    await this.sweepStaleTemps()
    return join(this.tmpDir, `${randomBytes(12).toString('hex')}${suffix}`)
  }

  /**
   * A verified stream of a cached blob, or undefined when it is not cached. The file is opened
   * before anything else, so a `slim cache prune` that removes it meanwhile cannot fail the read.
   */
  async open(desc: Descriptor, what: string): Promise<Readable | undefined> {
    const path = this.blobPath(desc.digest)
    let fh: FileHandle
    let size: number
    try {
      // Non-blocking: a FIFO planted at the path must not hang the open (it is then not a file).
      fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
    } catch {
      return undefined
    }
    try {
      const st = await fh.stat()
      if (!st.isFile()) {
        await fh.close()
        return undefined
      }
      size = st.size
    } catch {
      await fh.close().catch(() => {})
      return undefined
    }
    if (desc.size >= 0 && size !== desc.size) {
      await fh.close()
      this.log(`cache: ${path} has ${size} bytes, expected ${desc.size}; discarding it`)
      await unlink(path).catch(() => {})
      return undefined
    }
    this.log(`cache: hit ${desc.digest}`)
    await markUsed(path)
    const verify = new VerifyStream({ digest: desc.digest, size: desc.size }, `${what} (cached copy ${path}, now removed; run again to download it afresh)`)
    pipeline(fh.createReadStream(), verify, (err) => {
      if (err && isSlimError(err) && err.kind === 'integrity') unlink(path).catch(() => {})
    })
    return verify
  }

  /**
   * Verifies `src` against `desc` while passing it on, and stores it when (and only when) the
   * whole blob verified. Failing to write the cache never fails the read.
   */
  writeThrough(src: Readable, desc: Descriptor, what: string): Readable {
    const verify = new VerifyStream({ digest: desc.digest, size: desc.size }, what)
    const tee = new CacheTee(this, this.blobPath(desc.digest), this.log)
    pipeline(src, verify, tee, () => {})
    return tee
  }

  /** Cached copy when there is one, else `fetch()` verified and written through. */
  async read(desc: Descriptor, what: string, fetch: () => Promise<Readable>): Promise<Readable> {
    const hit = await this.open(desc, what)
    if (hit) return hit
    return this.writeThrough(await fetch(), desc, what)
  }

  private async sweepStaleTemps(): Promise<void> {
    if (this.swept) return
    this.swept = true
    const now = Date.now()
    for (const name of await readdir(this.tmpDir).catch(() => [] as string[])) {
      const p = join(this.tmpDir, name)
      const st = await stat(p).catch(() => undefined)
      if (st?.isFile() && now - st.mtimeMs > STALE_TEMP_MS) await unlink(p).catch(() => {})
    }
  }
}

/**
 * Passes chunks through unchanged while writing them to a temp file; on a clean end (which the
 * VerifyStream before it only signals after the digest matched) the file is fsynced and renamed
 * into the cache before this stream ends, so a reader that saw 'end' can rely on the entry.
 */
class CacheTee extends Transform {
  private fh?: FileHandle
  private tmp?: string
  private handle?: TempHandle
  private abandoned = false
  private committed = false
  /** Chunks not yet written: a registry sends 16-64 KiB chunks, one awaited write each cost more than the bytes. */
  private batch: Buffer[] = []
  private batchBytes = 0

  constructor(
    private readonly cache: BlobCache,
    private readonly finalPath: string,
    private readonly log: (msg: string) => void,
  ) {
    super()
  }

  override _construct(cb: (error?: Error | null) => void): void {
    this.cache
      .tempPath('.partial')
      .then(async (tmp) => {
        this.tmp = tmp
        this.handle = trackTemp(tmp)
        this.fh = await open(tmp, 'wx', 0o600)
      })
      .then(
        () => cb(),
        (e) => {
          this.abandon(e)
          cb()
        },
      )
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.abandoned || !this.fh) {
      cb(null, chunk)
      return
    }
    try {
      this.handle?.charge(chunk.length, this.cache.maxTempBytes, `cache: ${this.finalPath}`)
    } catch (e) {
      this.abandon(e)
      cb(null, chunk)
      return
    }
    this.batch.push(chunk)
    this.batchBytes += chunk.length
    if (this.batchBytes < WRITE_BATCH) {
      cb(null, chunk)
      return
    }
    this.writeBatch().then(() => cb(null, chunk))
  }

  /** Writes the gathered chunks in one call; a failure abandons the entry (the read goes on). */
  private async writeBatch(): Promise<void> {
    const chunks = this.batch
    this.batch = []
    this.batchBytes = 0
    if (this.abandoned || !this.fh || chunks.length === 0) return
    try {
      await writeAll(this.fh, chunks)
    } catch (e) {
      this.abandon(e)
    }
  }

  override _flush(cb: TransformCallback): void {
    const fh = this.fh
    if (this.abandoned || !fh || !this.tmp) {
      cb()
      return
    }
    const tmp = this.tmp
    this.writeBatch()
      .then(() => {
        if (this.abandoned) throw new Error('abandoned')
        return fh.sync()
      })
      .then(() => fh.close())
      .then(() => {
        this.fh = undefined
        return mkdir(dirname(this.finalPath), { recursive: true, mode: 0o700 })
      })
      .then(() => rename(tmp, this.finalPath))
      .then(
        () => {
          this.handle?.forget()
          this.committed = true
          cb()
        },
        (e) => {
          this.abandon(e)
          cb()
        },
      )
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (this.committed) cb(err)
    else this.discard().then(() => cb(err))
  }

  private abandon(e: unknown): void {
    if (this.abandoned) return
    this.abandoned = true
    this.log(`cache: not storing ${this.finalPath}: ${describe(e)}`)
    void this.discard()
  }

  private async discard(): Promise<void> {
    const fh = this.fh
    const handle = this.handle
    this.fh = undefined
    this.tmp = undefined
    this.handle = undefined
    await fh?.close().catch(() => {})
    await handle?.remove()
  }
}

/** Bytes gathered before one write to the temp file (a registry sends ~64 KiB chunks: 6,300 awaited writes per 400 MB became 400). */
const WRITE_BATCH = 1024 * 1024

/** Writes `chunks` in order with as few calls as the kernel allows (writev; no copy into one buffer). */
async function writeAll(fh: FileHandle, chunks: Buffer[]): Promise<void> {
  let rest = chunks
  while (rest.length > 0) {
    const want = rest.reduce((n, c) => n + c.length, 0)
    const { bytesWritten } = await fh.writev(rest)
    if (bytesWritten === want) return
    if (bytesWritten <= 0) throw new SlimError('internal', 'short write to the cache')
    // A short write: drop what was written and go on from there.
    let skip = bytesWritten
    while (skip >= rest[0]!.length) skip -= rest.shift()!.length
    rest = [rest[0]!.subarray(skip), ...rest.slice(1)]
  }
}
