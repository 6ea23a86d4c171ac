/**
 * The bounded zstd decoder (src/image/zstd.ts) against the zstd tool: whatever the framing
 * (several frames, checksums, skippable frames, content sizes, tiny reads), the bytes come out
 * the same, and a window above the limit is refused before decoding.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { decompressStream } from '../src/image/compression.js'
import { ZstdFrameWalker } from '../src/image/zstd.js'

const HAVE_ZSTD = spawnSync('zstd', ['--version']).status === 0

async function decode(blob: Buffer, chunk: number, maxZstdWindow?: number): Promise<Buffer> {
  const parts: Buffer[] = []
  for (let i = 0; i < blob.length; i += chunk) parts.push(blob.subarray(i, i + chunk))
  const { stream } = await decompressStream(Readable.from(parts), 'test layer', { maxZstdWindow })
  const out: Buffer[] = []
  for await (const c of stream) out.push(c as Buffer)
  return Buffer.concat(out)
}

function skippable(payload: Buffer): Buffer {
  const h = Buffer.alloc(8)
  h.writeUInt32LE(0x184d2a5e, 0)
  h.writeUInt32LE(payload.length, 4)
  return Buffer.concat([h, payload])
}

describe.skipIf(!HAVE_ZSTD)('zstd decoding with the frame walker', () => {
  // Half random, half repetitive: raw, RLE and compressed blocks all appear.
  const data = Buffer.concat([randomBytes(700_000), Buffer.alloc(900_000, 7), Buffer.from('tail'.repeat(50_000))])
  const variants: Array<[string, Buffer]> = [
    ['one frame, checksum', execFileSync('zstd', ['-q', '-c', '-3'], { input: data })],
    ['no checksum, from stdin', execFileSync('zstd', ['-q', '-c', '--no-check', '-1'], { input: data })],
    ['content size known (-19)', execFileSync('zstd', ['-q', '-c', '-19', '--stream-size=' + data.length], { input: data })],
    [
      'three frames and a skippable frame',
      Buffer.concat([
        execFileSync('zstd', ['-q', '-c'], { input: data.subarray(0, 100_000) }),
        skippable(Buffer.from('metadata')),
        execFileSync('zstd', ['-q', '-c', '--no-check'], { input: data.subarray(100_000, 1_000_000) }),
        execFileSync('zstd', ['-q', '-c'], { input: data.subarray(1_000_000) }),
      ]),
    ],
  ]
  it.each(variants)('%s: same bytes whatever the read size', async (_name, blob) => {
    for (const chunk of [1 << 20, 4096, 7]) {
      if (chunk === 7 && blob.length > 600_000) continue // byte-sized reads of the random part take long; 4096 covers splits
      expect((await decode(blob, chunk)).equals(data)).toBe(true)
    }
  })

  it('a window above the limit is refused before decoding, with the flag to raise it', async () => {
    const blob = execFileSync('zstd', ['-q', '-c', '--long=28'], { input: Buffer.from('x') })
    await expect(decode(blob, 1 << 16)).rejects.toThrow(/needs a 268 MB window, more than the 134 MB slim allows.*--max-zstd-window 256MiB/)
    expect((await decode(blob, 1 << 16, 256 * 1024 * 1024)).toString()).toBe('x')
  })

  it('a block larger than zstd allows is corrupt data', () => {
    const w = new ZstdFrameWalker(1 << 27, 'test layer')
    const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38, ((1 << 18) << 3) & 0xff, ((1 << 18) >> 5) & 0xff, ((1 << 18) >> 13) & 0xff])
    expect(() => w.advance(frame, 0, Infinity)).toThrow(/corrupt/)
  })
})
