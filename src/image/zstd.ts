/**
 * zstd decoding with bounded memory. Two things make a zstd layer a bomb: a window the frame header
 * asks for (`zstd --long=31` needs 2 GiB, and the decoder allocates it up front), and blocks that
 * expand a few bytes into 128 KiB (an RLE block is 4 bytes), so one 64 KiB read could become 2 GiB
 * of output before anyone reads it. So the compressed stream is walked frame by frame and block by
 * block (RFC 8878, sections 3.1.1 and 3.1.1.2): a window above the limit is refused before any
 * allocation, and the decoder is fed a few blocks at a time and only when the reader wants more.
 */
import { Readable, Transform, type TransformCallback } from 'node:stream'
import * as zlib from 'node:zlib'
import { Decompress as FzstdDecompress } from 'fzstd'
import { SlimError } from '../core/errors.js'
import { humanBytes } from '../core/format.js'

/** The largest window slim decodes by default: zstd's own decoder default limit is 128 MiB (windowLog 27). */
export const DEFAULT_MAX_ZSTD_WINDOW = 128 * 1024 * 1024
/** At most this many blocks per decoder call: each block is at most 128 KiB of output. */
const BLOCKS_PER_STEP = 8
/** zstd's Block_Maximum_Size. */
const MAX_BLOCK = 128 * 1024

const ZSTD_MAGIC = 0xfd2fb528

type State =
  | { at: 'magic' }
  | { at: 'frame-header'; need: number }
  | { at: 'block-header' }
  | { at: 'skip'; left: number; then: 'magic' | 'block-header' | 'checksum' }
  | { at: 'skippable-size' }
  | { at: 'unknown' }

/**
 * Follows the frame structure of a zstd stream without decoding it. `advance` consumes bytes of one
 * chunk and stops after `maxBlocks` complete blocks, so the caller can feed the decoder in steps.
 */
export class ZstdFrameWalker {
  private state: State = { at: 'magic' }
  private pending: number[] = []
  private checksum = false
  private blockMax = MAX_BLOCK

  constructor(
    private readonly maxWindow: number,
    private readonly what: string,
  ) {}

  /** Consumes `chunk` from `pos`; returns where it stopped (chunk.length, or after maxBlocks blocks). */
  advance(chunk: Uint8Array, pos: number, maxBlocks: number): number {
    let blocks = 0
    while (pos < chunk.length) {
      const s = this.state
      if (s.at === 'unknown') return chunk.length // not zstd framing: the decoder reports it
      if (s.at === 'skip') {
        const n = Math.min(s.left, chunk.length - pos)
        pos += n
        s.left -= n
        if (s.left > 0) continue
        const endedBlock = s.then === 'block-header' || s.then === 'checksum'
        if (s.then === 'checksum') this.state = this.checksum ? { at: 'skip', left: 4, then: 'magic' } : { at: 'magic' }
        else this.state = { at: s.then }
        if (endedBlock && ++blocks >= maxBlocks) return pos
        continue
      }
      this.pending.push(chunk[pos++])
      this.step()
    }
    return pos
  }

  /** Interprets the header bytes gathered so far, when there are enough. */
  private step(): void {
    const p = this.pending
    const s = this.state
    if (s.at === 'magic') {
      if (p.length < 4) return
      const magic = (p[0] | (p[1] << 8) | (p[2] << 16) | (p[3] << 24)) >>> 0
      this.pending = []
      if (magic === ZSTD_MAGIC) this.state = { at: 'frame-header', need: 1 }
      else if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) this.state = { at: 'skippable-size' }
      else this.state = { at: 'unknown' }
      return
    }
    if (s.at === 'skippable-size') {
      if (p.length < 4) return
      const size = (p[0] | (p[1] << 8) | (p[2] << 16) | (p[3] << 24)) >>> 0
      this.pending = []
      this.state = { at: 'skip', left: size, then: 'magic' }
      return
    }
    if (s.at === 'frame-header') {
      const fhd = p[0]
      const fcsFlag = fhd >> 6
      const single = (fhd >> 5) & 1
      const didSize = [0, 1, 2, 4][fhd & 3]
      const fcsSize = [single, 2, 4, 8][fcsFlag]
      s.need = 1 + (single ? 0 : 1) + didSize + fcsSize
      if (p.length < s.need) return
      this.checksum = ((fhd >> 2) & 1) === 1
      let window: number
      if (!single) {
        const wd = p[1]
        const base = 2 ** (10 + (wd >> 3))
        window = base + (base / 8) * (wd & 7)
      } else {
        let fcs = 0
        for (let i = fcsSize - 1; i >= 0; i--) fcs = fcs * 256 + p[1 + didSize + i]
        window = fcsFlag === 1 ? fcs + 256 : fcs
      }
      if (window > this.maxWindow) {
        throw new SlimError(
          'limit',
          `${this.what}: a zstd frame needs a ${humanBytes(window)} window, more than the ${humanBytes(this.maxWindow)} slim allows (zstd --long layers); raise it with --max-zstd-window ${binarySize(window)} if you trust the image`,
        )
      }
      this.blockMax = Math.min(MAX_BLOCK, Math.max(window, 1))
      this.pending = []
      this.state = { at: 'block-header' }
      return
    }
    if (s.at === 'block-header') {
      if (p.length < 3) return
      const last = p[0] & 1
      const type = (p[0] >> 1) & 3
      const size = (p[0] >> 3) | (p[1] << 5) | (p[2] << 13)
      this.pending = []
      if (type === 3 || size > this.blockMax) {
        throw new SlimError('integrity', `${this.what}: the zstd data is corrupt (a block of type ${type} and ${size} bytes)`)
      }
      this.state = { at: 'skip', left: type === 1 ? 1 : size, then: last ? 'checksum' : 'block-header' }
    }
  }
}

/** The power of two at or above n, written as a flag value ("1GiB", "256MiB"). */
function binarySize(n: number): string {
  const p = 2 ** Math.ceil(Math.log2(n))
  return p >= 2 ** 30 ? `${p / 2 ** 30}GiB` : `${Math.max(1, p / 2 ** 20)}MiB`
}

/** Decompresses a zstd stream with a window limit and backpressure (see the top of this file). */
export function zstdDecompress(src: Readable, what: string, maxWindow: number): Readable {
  const native = (zlib as unknown as { createZstdDecompress?: (o: object) => Transform }).createZstdDecompress
  if (native) {
    // Node's binding decodes in bounded output chunks and honours backpressure; the walker only
    // gives a window above the limit its clear message before the decoder sees it.
    const walker = new ZstdFrameWalker(maxWindow, what)
    const guard = new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
        try {
          walker.advance(chunk, 0, Infinity)
          cb(null, chunk)
        } catch (e) {
          cb(e as Error)
        }
      },
    })
    const windowLogMax = Math.ceil(Math.log2(maxWindow))
    const constants = zlib.constants as unknown as Record<string, number>
    const dec = native({ chunkSize: 64 * 1024, params: { [constants.ZSTD_d_windowLogMax]: windowLogMax } })
    src.on('error', (e) => guard.destroy(e))
    guard.on('error', (e) => dec.destroy(e))
    return src.pipe(guard).pipe(dec)
  }
  return Readable.from(fzstdSteps(src, what, maxWindow), { objectMode: false, highWaterMark: 1024 * 1024 })
}

/** fzstd, fed at most BLOCKS_PER_STEP blocks at a time; a step runs only when the reader pulls. */
async function* fzstdSteps(src: Readable, what: string, maxWindow: number): AsyncGenerator<Buffer> {
  const walker = new ZstdFrameWalker(maxWindow, what)
  let out: Buffer[] = []
  const dec = new FzstdDecompress((data) => {
    if (data.length) out.push(Buffer.from(data.buffer, data.byteOffset, data.length))
  })
  for await (const chunk of src as AsyncIterable<Buffer>) {
    let pos = 0
    while (pos < chunk.length) {
      const end = walker.advance(chunk, pos, BLOCKS_PER_STEP)
      dec.push(chunk.subarray(pos, end))
      pos = end
      if (out.length) {
        const ready = out
        out = []
        for (const b of ready) yield b
      }
    }
  }
  dec.push(new Uint8Array(0), true)
  for (const b of out) yield b
}
