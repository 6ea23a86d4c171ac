/**
 * Jars and jmods are zip files; yauzl reads them through a random-access reader over slim's
 * ByteSource (a file of the image in memory or read by ranges), so only the central directory and
 * the entries asked for are read. A jmod is the 4 bytes "JM\x01\x00" followed by a zip: the reader
 * starts after them. Entries are inflated with a size bound (a zip bomb stops at the bound).
 */
import { Readable } from 'node:stream'
import yauzl from 'yauzl'
import type { ByteSource } from '../../core/byte-source.js'

/** A zip's central directory: entry names with their sizes, and a way to read one. */
export interface ZipListing {
  entries: { name: string; size: number; compressedSize: number }[]
  read(name: string, maxBytes: number): Promise<Buffer>
  close(): void
}

/** Random access for yauzl: ranges of the source, offset by `start` (4 for a jmod). */
class SourceReader extends yauzl.RandomAccessReader {
  constructor(
    private readonly src: ByteSource,
    private readonly start: number,
  ) {
    super()
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const src = this.src
    const from = this.start + start
    const to = this.start + end
    const CHUNK = 1 << 20
    let at = from
    return new Readable({
      read() {
        if (at >= to) return void this.push(null)
        const n = Math.min(CHUNK, to - at)
        try {
          this.push(Buffer.from(src.read(at, n)))
          at += n
        } catch (e) {
          this.destroy(e as Error)
        }
      },
    })
  }
}

/** Opens the zip in `src` from byte `start` on; throws a one-line error when it is not one. */
export async function openZip(src: ByteSource, start = 0): Promise<ZipListing> {
  const reader = new SourceReader(src, start)
  const zip = await yauzl.fromRandomAccessReaderPromise(reader, src.size - start, { lazyEntries: true, autoClose: false, validateEntrySizes: true })
  const byName = new Map<string, yauzl.Entry>()
  try {
    for await (const e of zip.eachEntry()) if (!e.fileName.endsWith('/')) byName.set(e.fileName, e)
  } catch (e) {
    zip.close()
    throw e
  }
  return {
    entries: [...byName.values()].map((e) => ({ name: e.fileName, size: e.uncompressedSize, compressedSize: e.compressedSize })),
    async read(name, maxBytes) {
      const e = byName.get(name)
      if (!e) throw new Error(`${name} is not in the zip`)
      if (e.uncompressedSize > maxBytes) throw new Error(`${name} is ${e.uncompressedSize} bytes, over the ${maxBytes}-byte bound`)
      const stream = await zip.openReadStreamPromise(e)
      const parts: Buffer[] = []
      let n = 0
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        n += chunk.length
        if (n > maxBytes) {
          stream.destroy()
          throw new Error(`${name} inflates past the ${maxBytes}-byte bound`)
        }
        parts.push(chunk)
      }
      return Buffer.concat(parts)
    },
    close: () => zip.close(),
  }
}

/** A jmod's zip starts after its 4-byte header "JM" 0x01 0x00. */
export const JMOD_MAGIC = Buffer.from([0x4a, 0x4d, 0x01, 0x00])
