import { execFileSync } from 'node:child_process'
import { createReadStream, readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { SlimError } from '../../../src/core/errors.js'
import { decompressStream, detectCompression, hasNativeZstd, looksLikeTar, peekStream } from '../../../src/image/compression.js'
import { SHARED } from '../../helpers/shared.js'

const CORPUS = `${SHARED}/corpus`
const HELLO = `${CORPUS}/containers__image/pkg/compression/fixtures`
const COPY = `${CORPUS}/containers__image/copy/fixtures`

async function text(s: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of s) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** A stream that yields `data` in tiny pieces, to exercise peeking across chunk boundaries. */
function trickle(data: Buffer, size = 3): Readable {
  const parts: Buffer[] = []
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size))
  return Readable.from(parts, { objectMode: false })
}

describe('detectCompression (containers/image Hello.* fixtures)', () => {
  it.each([
    ['Hello.gz', 'gzip'],
    ['Hello.zst', 'zstd'],
    ['Hello.xz', 'xz'],
    ['Hello.bz2', 'bzip2'],
    ['Hello.uncompressed', 'none'],
  ])('%s is %s', (file, kind) => {
    expect(detectCompression(readFileSync(`${HELLO}/${file}`))).toBe(kind)
  })

  it('recognises zstd by content despite a misleading name (copy/fixtures/Hello.std)', () => {
    expect(detectCompression(readFileSync(`${COPY}/Hello.std`))).toBe('zstd')
  })

  it('treats short or empty input as uncompressed', () => {
    expect(detectCompression(Buffer.alloc(0))).toBe('none')
    expect(detectCompression(Buffer.from([0x1f]))).toBe('none')
  })
})

describe('decompressStream', () => {
  it.each(['Hello.gz', 'Hello.zst', 'Hello.xz', 'Hello.uncompressed'])('%s decompresses to "Hello"', async (file) => {
    const { stream } = await decompressStream(createReadStream(`${HELLO}/${file}`), file)
    expect(await text(stream)).toBe('Hello')
  })

  it('decompresses zstd with whatever this Node offers', async () => {
    const { compression, stream } = await decompressStream(trickle(readFileSync(`${COPY}/Hello.zst`), 2), 'Hello.zst')
    expect(compression).toBe('zstd')
    expect(await text(stream)).toBe('Hello')
    // Node 20 has no zlib zstd; the fzstd fallback is what ran there.
    expect(typeof hasNativeZstd()).toBe('boolean')
  })

  it('decompresses a real zstd tar (crane content.tar.zst) to the same bytes as its plain twin', async () => {
    const plain = readFileSync(`${CORPUS}/google__go-containerregistry/pkg/v1/tarball/testdata/content.tar`)
    const { stream } = await decompressStream(createReadStream(`${CORPUS}/google__go-containerregistry/pkg/crane/testdata/content.tar.zst`), 'content.tar.zst')
    const chunks: Buffer[] = []
    for await (const c of stream) chunks.push(c as Buffer)
    expect(Buffer.concat(chunks).equals(plain)).toBe(true)
  })

  it('rejects bzip2 with a clear unsupported error', async () => {
    const err = await decompressStream(createReadStream(`${HELLO}/Hello.bz2`), 'layer 0').catch((e) => e)
    expect(err).toBeInstanceOf(SlimError)
    expect(err.kind).toBe('unsupported')
    expect(err.message).toMatch(/layer 0 is bzip2-compressed.*recompress/)
  })

  it('turns corrupt gzip into an integrity SlimError naming the blob', async () => {
    const good = gzipSync(Buffer.alloc(100_000, 'a'))
    const bad = Buffer.from(good)
    bad.fill(0x55, 20, 60)
    const { stream } = await decompressStream(trickle(bad, 16), 'layer 3')
    const err = await text(stream).catch((e) => e)
    expect(err).toBeInstanceOf(SlimError)
    expect(err.kind).toBe('integrity')
    expect(err.message).toMatch(/^layer 3: the gzip data is corrupt/)
  })

  it('reports a truncated zstd stream', async () => {
    const zst = execFileSync('zstd', ['-q', '-c'], { input: Buffer.alloc(200_000, 'z') })
    const { stream } = await decompressStream(Readable.from([zst.subarray(0, zst.length - 4)], { objectMode: false }), 'layer 1')
    const err = await text(stream).catch((e) => e)
    expect(err).toBeInstanceOf(SlimError)
    expect(err.message).toMatch(/^layer 1: the zstd data is corrupt or truncated/)
  })

  it('passes errors of the source stream through to the consumer', async () => {
    const src = new Readable({ read() {} })
    // More than the 512 bytes decompressStream peeks, then the failure.
    src.push(gzipSync(randomBytes(4096)).subarray(0, 1000))
    const { stream } = await decompressStream(src, 'x')
    const failure = new SlimError('integrity', 'digest mismatch')
    setImmediate(() => src.destroy(failure))
    await expect(text(stream)).rejects.toBe(failure)
  })

  it('with requireTar, rejects an uncompressed blob that is not a tar (placeholder layers)', async () => {
    const placeholder = Readable.from([Buffer.from('insert binary content here #1\n')], { objectMode: false })
    await expect(decompressStream(placeholder, 'layer 0', { requireTar: true })).rejects.toThrow(/layer 0 is neither compressed .* nor a tar archive/)
  })
})

describe('looksLikeTar', () => {
  it('accepts real tar headers (v7, ustar, gnu, pax) and empty archives', () => {
    for (const f of ['v7.tar', 'ustar.tar', 'gnu.tar', 'pax.tar']) {
      expect(looksLikeTar(readFileSync(`${CORPUS}/vbatts__tar-split/archive/tar/testdata/${f}`).subarray(0, 512))).toBe(true)
    }
    expect(looksLikeTar(Buffer.alloc(1024))).toBe(true)
    expect(looksLikeTar(Buffer.alloc(0))).toBe(true)
  })

  it('rejects text, a bad checksum and short garbage', () => {
    expect(looksLikeTar(Buffer.from('Hello'))).toBe(false)
    const header = Buffer.from(readFileSync(`${CORPUS}/vbatts__tar-split/archive/tar/testdata/ustar.tar`).subarray(0, 512))
    header[0] ^= 0x01 // one flipped bit in the name: the stored checksum no longer matches
    expect(looksLikeTar(header)).toBe(false)
    expect(looksLikeTar(Buffer.alloc(100, 7))).toBe(false)
  })
})

describe('peekStream', () => {
  it('returns the head and a stream with every byte, across tiny chunks', async () => {
    const data = Buffer.from('0123456789abcdefghij')
    const { head, stream } = await peekStream(trickle(data, 3), 7)
    expect(head.toString()).toBe('0123456')
    expect(await text(stream)).toBe(data.toString())
  })

  it('releases the source when the replay is dropped unread', async () => {
    const src = trickle(Buffer.alloc(5000, 1), 100)
    const { stream } = await peekStream(src, 10)
    stream.destroy()
    await new Promise((r) => setImmediate(r))
    expect(src.destroyed).toBe(true)
  })

  it('copes with input shorter than the peek', async () => {
    const { head, stream } = await peekStream(trickle(Buffer.from('ab')), 512)
    expect(head.toString()).toBe('ab')
    expect(await text(stream)).toBe('ab')
  })

  it('copes with an empty source', async () => {
    const { head, stream } = await peekStream(trickle(Buffer.alloc(0)), 512)
    expect(head.length).toBe(0)
    expect(await text(stream)).toBe('')
  })

  it('passes an error of the source after the head on to the returned stream', async () => {
    const src = new Readable({ read() {} })
    src.push(Buffer.from('0123456789'))
    const { head, stream } = await peekStream(src, 4)
    expect(head.toString()).toBe('0123')
    const failure = new Error('connection reset')
    setImmediate(() => src.destroy(failure))
    await expect(text(stream)).rejects.toBe(failure)
  })

  it('an error of the source before anyone reads is kept for the reader, not thrown at the process', async () => {
    const src = new Readable({ read() {} })
    src.push(Buffer.from('0123456789'))
    const { stream } = await peekStream(src, 4)
    const failure = new Error('disk gone')
    src.destroy(failure)
    await new Promise((r) => setImmediate(r))
    await expect(text(stream)).rejects.toBe(failure)
  })

  it('rejects when the source is closed before its end without an error', async () => {
    const src = new Readable({ read() {} })
    src.push(Buffer.from('01'))
    setImmediate(() => src.destroy())
    await expect(peekStream(src, 512)).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' })
  })

  it('rejects when the source fails before the head is complete', async () => {
    const src = new Readable({ read() {} })
    src.push(Buffer.from('01'))
    const failure = new Error('connection reset')
    setImmediate(() => src.destroy(failure))
    await expect(peekStream(src, 512)).rejects.toBe(failure)
  })
})
