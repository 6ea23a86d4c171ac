import { PassThrough, Readable, type Transform, type TransformOptions } from 'node:stream'
import * as zlib from 'node:zlib'
import { SlimError, describe, isSlimError } from '../core/errors.js'
import { TAR_BLOCK, TarHeaderDecoder } from './archive/tar-header.js'
import { DEFAULT_MAX_ZSTD_WINDOW, zstdDecompress } from './zstd.js'

/**
 * Layers are decompressed by what their first bytes say, not by their media type: fixtures and real
 * registries both carry layers whose media type lies (a "tar.gzip" that is a plain tar, and so on).
 */
export type Compression = 'gzip' | 'zstd' | 'xz' | 'bzip2' | 'none'

/** Enough bytes to recognise every magic number, and one whole tar header. */
export const PEEK_BYTES = 512

export function detectCompression(head: Uint8Array): Compression {
  const b = (i: number): number => (i < head.length ? head[i] : -1)
  if (b(0) === 0x1f && b(1) === 0x8b) return 'gzip'
  if (b(0) === 0x28 && b(1) === 0xb5 && b(2) === 0x2f && b(3) === 0xfd) return 'zstd'
  // zstd skippable frames (magic 0x184D2A50..5F, little endian) may precede the first real frame.
  if ((b(0) & 0xf0) === 0x50 && b(1) === 0x2a && b(2) === 0x4d && b(3) === 0x18) return 'zstd'
  if (b(0) === 0xfd && b(1) === 0x37 && b(2) === 0x7a && b(3) === 0x58 && b(4) === 0x5a && b(5) === 0x00) return 'xz'
  if (b(0) === 0x42 && b(1) === 0x5a && b(2) === 0x68) return 'bzip2'
  return 'none'
}

/**
 * True when `head` (the first bytes of an uncompressed stream) can start a tar archive: empty, a
 * zero block (an empty archive), or a header whose checksum is right (as slim's tar header decoder
 * reads it). Used to reject placeholder or garbage "layers" early with a clear message instead of
 * a confusing tar parser error later.
 */
export function looksLikeTar(head: Uint8Array): boolean {
  if (head.length === 0) return true
  if (head.every((x) => x === 0)) return true
  if (head.length < TAR_BLOCK) return false
  const decoded = new TarHeaderDecoder().decode(Buffer.from(head.buffer, head.byteOffset, TAR_BLOCK))
  if (decoded.kind === 'zero') return true
  return decoded.kind === 'unreadable' ? decoded.checksumValid : decoded.header.checksumValid
}

export function hasNativeZstd(): boolean {
  return typeof (zlib as unknown as Record<string, unknown>).createZstdDecompress === 'function'
}

/**
 * Reads the first `n` bytes of `src` (fewer when it is shorter) without losing them: the returned
 * stream yields the same bytes as `src` would have. Errors of `src` flow into the returned stream.
 * The bytes read are put back with unshift(), so the returned stream is `src` itself and every
 * later chunk goes straight through (a replaying generator cost a promise per chunk of the layer).
 */
export async function peekStream(src: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = []
  let length = 0
  while (length < n) {
    const c = src.read() as Buffer | string | null
    if (c !== null) {
      const chunk = typeof c === 'string' ? Buffer.from(c) : c
      chunks.push(chunk)
      length += chunk.length
      continue
    }
    if (src.readableEnded || src.destroyed) break
    await new Promise<void>((resolve, reject) => {
      const done = (e?: Error): void => {
        src.off('readable', onReadable).off('end', onEnd).off('error', done).off('close', onEnd)
        if (e) reject(e)
        else resolve()
      }
      const onReadable = (): void => done()
      const onEnd = (): void => done()
      src.on('readable', onReadable).on('end', onEnd).on('error', done).on('close', onEnd)
    })
  }
  if (src.errored) throw src.errored
  if (src.destroyed && !src.readableEnded) {
    // Closed before its end without an error: as stream.finished() says it, never as a short stream.
    throw Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' })
  }
  const buffered = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
  if (src.readableEnded) {
    // Nothing more will come (and an ended stream takes no unshift): the head is all there is.
    return { head: buffered.subarray(0, n), stream: Readable.from(buffered.length ? [buffered] : [], { objectMode: false }) }
  }
  if (buffered.length) src.unshift(buffered)
  // Until the caller reads, an error must not be an unhandled 'error' event (a crash): it stays
  // recorded on the stream (errored, destroyed), and the caller's reads or pipes report it.
  src.on('error', () => {})
  return { head: buffered.subarray(0, n), stream: src }
}

/** gzip as a Node transform. 256 KiB output chunks instead of zlib's 16 KiB: 16x fewer callbacks,
 * buffers and downstream stream hops per layer (bench/layers.ts, bench/one-pass.ts). Up to 2 MiB
 * of output may wait to be read: Node's zlib queues its next piece of work on libuv's threads only
 * while its output buffer is below the high-water mark, so with the default (16 KiB, less than one
 * chunk) inflating and reading the tar took turns instead of overlapping (one 44 MB layer read by
 * a consumer that hashes each chunk twice: 0.54-0.57 s -> 0.46-0.52 s). Two layers are read at
 * once, so this is at most about 5 MiB of buffers. */
function gunzip(): Transform {
  // Node passes stream options on to the Transform; its zlib typings only list zlib's own.
  const options: zlib.ZlibOptions & Pick<TransformOptions, 'readableHighWaterMark'> = { chunkSize: 256 * 1024, readableHighWaterMark: 2 * 1024 * 1024 }
  return zlib.createGunzip(options)
}

/**
 * xz-decompress works on web streams; bridge it to Node streams. It is loaded on the first xz
 * stream: xz images are rare and loading it costs start-up time on every run.
 */
async function xzStream(src: Readable): Promise<Readable> {
  const { default: xzModule } = await import('xz-decompress')
  const XzReadableStream = (xzModule as unknown as { XzReadableStream: new (s: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array> })
    .XzReadableStream
  const web = Readable.toWeb(src) as unknown as ReadableStream<Uint8Array>
  return Readable.fromWeb(new XzReadableStream(web) as unknown as import('node:stream/web').ReadableStream<Uint8Array>)
}

/** The last stream of a chain: any error that reaches it is turned into a SlimError naming `what`. */
class ErrorMappingPassThrough extends PassThrough {
  constructor(private readonly mapError: (e: Error) => Error) {
    super()
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    cb(err ? this.mapError(err) : null)
  }
}

function decompressionError(kind: Compression, what: string, e: Error): Error {
  if (isSlimError(e)) return e
  const code = (e as NodeJS.ErrnoException).code
  if (code === 'ERR_STREAM_PREMATURE_CLOSE') return e
  return new SlimError('integrity', `${what}: the ${kind} data is corrupt or truncated (${describe(e)})`, { cause: e })
}

/**
 * Decompresses `src` by its magic bytes. Errors from `src` (for example a failed digest check)
 * and from the decompressor both end the returned stream with an error; decompressor errors
 * become SlimErrors naming `what`. With `requireTar`, an uncompressed stream that does not start
 * like a tar archive is rejected before anything is read by the caller.
 */
export async function decompressStream(
  src: Readable,
  what: string,
  options: { requireTar?: boolean; maxZstdWindow?: number } = {},
): Promise<{ compression: Compression; stream: Readable }> {
  const { head, stream } = await peekStream(src, PEEK_BYTES)
  const compression = detectCompression(head)
  if (compression === 'bzip2') {
    stream.destroy()
    throw new SlimError('unsupported', `${what} is bzip2-compressed, which slim does not read; recompress the image with gzip or zstd (e.g. skopeo copy --dest-compress-format gzip)`)
  }
  if (compression === 'none') {
    if (options.requireTar && !looksLikeTar(head)) {
      stream.destroy()
      throw new SlimError('format', `${what} is neither compressed (gzip, zstd, xz) nor a tar archive; the blob is not an image layer`)
    }
    return { compression, stream }
  }
  const out = new ErrorMappingPassThrough((e) => decompressionError(compression, what, e))
  const fail = (e: Error): void => {
    stream.destroy()
    out.destroy(e)
  }
  if (compression === 'xz') {
    const xz = await xzStream(stream)
    xz.on('error', fail)
    xz.pipe(out)
  } else if (compression === 'zstd') {
    const z = zstdDecompress(stream, what, options.maxZstdWindow ?? DEFAULT_MAX_ZSTD_WINDOW)
    z.on('error', fail)
    z.pipe(out)
    out.on('close', () => z.destroy())
  } else {
    const dec = gunzip()
    stream.on('error', (e) => {
      dec.destroy()
      out.destroy(e)
    })
    dec.on('error', fail)
    stream.pipe(dec).pipe(out)
  }
  out.on('close', () => {
    if (!stream.destroyed) stream.destroy()
  })
  return { compression, stream: out }
}
