/**
 * chunksOf hands over a stream's chunks as they were pushed (the same buffers, never joined), ends
 * and fails as `for await` does, and destroys the stream when the consumer stops early.
 */
import { PassThrough, Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { chunksOf } from '../../../src/core/chunks.js'

/** A stream with `n` chunks of `size` bytes pushed at once, before anything reads. */
function buffered(n: number, size: number): { stream: PassThrough; pushed: Buffer[] } {
  const stream = new PassThrough({ highWaterMark: n * size * 2 })
  const pushed = Array.from({ length: n }, (_, i) => Buffer.alloc(size, i))
  for (const c of pushed) stream.write(c)
  stream.end()
  return { stream, pushed }
}

describe('chunksOf', () => {
  it('yields each buffered chunk itself, where for await joins them into new buffers', async () => {
    const a = buffered(8, 64 * 1024)
    const got: Buffer[] = []
    for await (const c of chunksOf(a.stream)) got.push(c)
    expect(got).toHaveLength(8)
    got.forEach((c, i) => expect(c.buffer).toBe(a.pushed[i]!.buffer))

    // The behaviour this avoids: for await hands over the 8 chunks joined (copied).
    const b = buffered(8, 64 * 1024)
    await new Promise((r) => setImmediate(r))
    const joined: Buffer[] = []
    for await (const c of b.stream) joined.push(c as Buffer)
    expect(joined.length).toBeLessThan(8)
    expect(Buffer.concat(joined).equals(Buffer.concat(b.pushed))).toBe(true)
  })

  it('reads a slow producer whole and in order', async () => {
    async function* slow(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setImmediate(r))
        yield Buffer.from(`part ${i};`)
      }
    }
    let text = ''
    for await (const c of chunksOf(Readable.from(slow(), { objectMode: false }))) text += c.toString()
    expect(text).toBe(Array.from({ length: 20 }, (_, i) => `part ${i};`).join(''))
  })

  it('rejects with the stream error, after the chunks that came before it', async () => {
    const stream = new PassThrough()
    stream.write(Buffer.from('before'))
    setImmediate(() => stream.destroy(new Error('connection reset')))
    const got: string[] = []
    await expect(
      (async () => {
        for await (const c of chunksOf(stream)) got.push(c.toString())
      })(),
    ).rejects.toThrow('connection reset')
    expect(got).toEqual(['before'])
  })

  it('rejects when the stream closes before its end', async () => {
    const stream = new PassThrough()
    stream.write(Buffer.from('x'))
    setImmediate(() => stream.destroy())
    await expect(
      (async () => {
        for await (const _ of chunksOf(stream)) void _
      })(),
    ).rejects.toThrow(/premature close/i)
  })

  it('destroys the stream when the consumer stops early', async () => {
    const { stream } = buffered(4, 16)
    for await (const _ of chunksOf(stream)) break
    expect(stream.destroyed).toBe(true)
  })

  it('keeps a fast producer bounded: it is paused while the consumer works', async () => {
    let produced = 0
    let maxAhead = 0
    let consumed = 0
    const stream = new Readable({
      highWaterMark: 16,
      read() {
        produced++
        this.push(produced <= 200 ? Buffer.alloc(16) : null)
      },
    })
    for await (const _ of chunksOf(stream)) {
      void _
      consumed++
      maxAhead = Math.max(maxAhead, produced - consumed)
      await new Promise((r) => setImmediate(r))
    }
    expect(consumed).toBe(200)
    expect(maxAhead).toBeLessThan(5)
  })
})
