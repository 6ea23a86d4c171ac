/**
 * Test helpers for the layer stage: write tar archives byte by byte (so tests can produce the
 * hostile ones no tar tool would: '..' names, bad checksums, lying sizes, data after the end
 * marker), and wrap tar bytes or tar files as Layer / Image objects with the same contract as the
 * image stage (lazy, verified streams).
 */
import { createHash } from 'node:crypto'
import { createReadStream, readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { gunzipSync } from 'node:zlib'
import { VerifyStream } from '../../src/core/digest.js'
import type { HistoryEntry, Image, ImageConfig, Layer } from '../../src/image/types.js'

export interface TarEntrySpec {
  name: string
  /** Typeflag character: '0' file (default), '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo, 'S' sparse, ... */
  type?: string
  data?: Buffer | string
  /** Header size field when it should differ from the data length (a lying header). */
  size?: number
  /** Raw 12-byte size field (base-256, negative, garbage). */
  rawSize?: Buffer
  mode?: number
  uid?: number
  gid?: number
  linkname?: string
  /** PAX records to put in an 'x' header before this entry. */
  pax?: Record<string, string>
  /** A GNU long name ('L') header before this entry carrying this name. */
  gnuLongName?: string
  badChecksum?: boolean
  devmajor?: number
  devminor?: number
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0'
}

export function tarHeader(spec: TarEntrySpec, size: number): Buffer {
  const h = Buffer.alloc(512)
  h.write(spec.name, 0, 100, 'utf8')
  h.write(octal(spec.mode ?? (spec.type === '5' ? 0o755 : 0o644), 8), 100, 'latin1')
  h.write(octal(spec.uid ?? 0, 8), 108, 'latin1')
  h.write(octal(spec.gid ?? 0, 8), 116, 'latin1')
  if (spec.rawSize) spec.rawSize.copy(h, 124, 0, 12)
  else h.write(octal(size, 12), 124, 'latin1')
  h.write(octal(1_700_000_000, 12), 136, 'latin1')
  h.write(spec.type ?? '0', 156, 'latin1')
  if (spec.linkname !== undefined) h.write(spec.linkname, 157, 100, 'utf8')
  h.write('ustar\u000000', 257, 'latin1')
  h.write(octal(spec.devmajor ?? 0, 8), 329, 'latin1')
  h.write(octal(spec.devminor ?? 0, 8), 337, 'latin1')
  h.fill(0x20, 148, 156)
  let sum = 0
  for (let i = 0; i < 512; i++) sum += h[i]
  if (spec.badChecksum) sum += 1
  h.write(octal(sum, 7) + ' ', 148, 'latin1')
  return h
}

function pad(data: Buffer): Buffer {
  const rest = data.length % 512
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rest)])
}

/** A PAX header body: each record with its self-counting length prefix ("13 size=1000\n"). */
export function paxBody(records: Record<string, string>): Buffer {
  let out = ''
  for (const [k, v] of Object.entries(records)) {
    const line = ` ${k}=${v}\n`
    let len = Buffer.byteLength(line) + 1
    while (String(len).length + Buffer.byteLength(line) !== len) len = String(len).length + Buffer.byteLength(line)
    out += `${len}${line}`
  }
  return Buffer.from(out)
}

export function tarEntry(spec: TarEntrySpec): Buffer {
  const parts: Buffer[] = []
  if (spec.pax) {
    const body = paxBody(spec.pax)
    parts.push(tarHeader({ name: 'PaxHeader', type: 'x' }, body.length), pad(body))
  }
  if (spec.gnuLongName !== undefined) {
    const body = Buffer.from(`${spec.gnuLongName}\0`)
    parts.push(tarHeader({ name: '././@LongLink', type: 'L' }, body.length), pad(body))
  }
  const data = spec.data === undefined ? Buffer.alloc(0) : Buffer.isBuffer(spec.data) ? spec.data : Buffer.from(spec.data)
  parts.push(tarHeader(spec, spec.size ?? data.length), pad(data))
  return Buffer.concat(parts)
}

export function makeTar(entries: TarEntrySpec[], opts: { end?: boolean; trailing?: Buffer } = {}): Buffer {
  const parts = entries.map(tarEntry)
  if (opts.end !== false) parts.push(Buffer.alloc(1024))
  if (opts.trailing) parts.push(opts.trailing)
  return Buffer.concat(parts)
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

/** Splits a buffer into chunks of `size` bytes (small sizes exercise headers split across chunks). */
function* chunks(data: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size)
}

export interface BufferLayerOptions {
  chunkSize?: number
  /** Make the stream fail its digest check at the end, as a corrupted blob would. */
  badDigest?: boolean
  /** Count how often the layer is opened (readFile re-reads) and how many bytes were handed out. */
  opened?: { count: number; bytes?: number }
  /** Serve different bytes after the first open (a cache that changed under slim). */
  later?: Buffer
}

/** A Layer over tar bytes in memory, verified like the image stage's layers. */
export function bufferLayer(data: Buffer, index: number, opts: BufferLayerOptions = {}): Layer {
  const digest = sha256(data)
  const expected = opts.badDigest ? sha256(Buffer.concat([data, Buffer.from('x')])) : digest
  return {
    index,
    digest,
    diffId: digest,
    verifiedDigest: digest,
    mediaType: 'application/vnd.oci.image.layer.v1.tar',
    size: data.length,
    compressed: async () => Readable.from(chunks(data, opts.chunkSize ?? 65536)),
    uncompressed: async () => {
      const counter = opts.opened
      if (counter) counter.count++
      const bytes = opts.later && counter && counter.count > 1 ? opts.later : data
      const counted = function* (): Generator<Buffer> {
        for (const c of chunks(bytes, opts.chunkSize ?? 65536)) {
          if (counter) counter.bytes = (counter.bytes ?? 0) + c.length
          yield c
        }
      }
      const want = opts.later ? sha256(bytes) : expected
      return Readable.from(counted()).pipe(new VerifyStream({ digest: want }, `layer ${index}`))
    },
  }
}

/** A Layer over a tar file on disk (a .gz file is gunzipped in memory: fixtures are small). */
export function fileLayer(path: string, index: number): Layer {
  if (path.endsWith('.gz') || path.endsWith('.tgz')) return bufferLayer(gunzipSync(readFileSync(path)), index)
  const digest = sha256(readFileSync(path))
  return {
    index,
    digest,
    verifiedDigest: digest,
    mediaType: 'application/vnd.oci.image.layer.v1.tar',
    size: -1,
    compressed: async () => createReadStream(path),
    uncompressed: async () => createReadStream(path).pipe(new VerifyStream({ digest }, path)),
  }
}

/** An Image around layers; the config is minimal unless given. */
export function makeImage(layers: Layer[], opts: { history?: HistoryEntry[]; config?: Partial<ImageConfig> } = {}): Image {
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId ?? l.digest) },
    history: opts.history,
    ...opts.config,
  }
  return {
    reference: 'test:layers',
    transport: 'docker-archive',
    manifest: {
      schemaVersion: 2,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('{}'), size: 2 },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    },
    manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
    configDigest: sha256('{}'),
    config,
    platform: { os: 'linux', architecture: 'amd64' },
    layers,
    warnings: [],
    close: async () => {},
  }
}

/** Shorthand: an image whose layers are the given tar buffers. */
export function imageOf(...tars: Buffer[]): Image {
  return makeImage(tars.map((t, i) => bufferLayer(t, i)))
}
