/**
 * The layer index cache: what one layer's index pass produced (entries, sizes, hashes, warnings,
 * ELF summaries, script heads, kept small files), stored per layer under the digest its read
 * verified (the blob's digest; for archives verified by diff ID, the diff ID), so a warm
 * analysis reads no layer and an image sharing base layers with one analyzed before reads only its
 * own layers.
 *
 *   <cache>/layer-index/sha256/<hex>     one file per layer (format: index-cache-codec.ts)
 *
 * The file starts with a magic, the format version and a header (that digest, the summariser's
 * version, whether files were hashed) and ends with the sha256 of every byte before it. An entry
 * is written to <cache>/tmp and renamed into place (atomic: two processes writing the same layer
 * both leave a whole file). An entry is only written after a read of the layer that checked its
 * bytes against that digest and ended without an error, so an image cannot plant a lying entry for
 * another image's layer. The key is not the diff ID: checking it would mean a sha256 of every
 * uncompressed byte (0.7 s of CPU per GB on the cold run's busiest thread) on top of the blob's
 * own digest, bought only for sharing entries between copies of a layer compressed differently.
 * Reading checks the header and the digest; anything wrong (torn, edited, older format) is removed
 * and the layer is read again.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { markUsed } from '../core/cache-use.js'
import { parseDigest } from '../core/digest.js'
import { describe } from '../core/errors.js'
import { ByteWriter, headerBytes, readHeader, readLayer, writeEntry, writeParent, type EntryHeader } from './index-cache-codec.js'
import type { ParsedLayer } from './parse-layer.js'
import type { Tree } from './tree.js'

/**
 * Bump whenever what the index pass records, or how it is written, changes.
 * 2: the binary codec (index-cache-codec.ts).
 * 3: header fields read by image/archive/tar-header.ts (Go's rules for extended headers,
 *    malformed numbers refused or ignored).
 * 4: keyed by the verified (stored) digest instead of the diff ID.
 */
export const INDEX_FORMAT = 4

/** Records are written out in pieces of about this size (the entry of a huge layer is never whole in memory). */
const WRITE_CHUNK = 1024 * 1024

export interface CacheKey {
  /** The layer's verified digest (Layer.verifiedDigest). */
  digest: string
  /** The ELF summariser's version ('none' without one): summaries of another version are stale. */
  summaryVersion: string
  /** Whether the caller needs content hashes: an entry without them is then stale. */
  needHashes: boolean
}

export class LayerIndexCache {
  constructor(
    readonly dir: string,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  pathOf(digest: string): string {
    const { algorithm, hex } = parseDigest(digest)
    return join(this.dir, 'layer-index', algorithm, hex)
  }

  /** Whether an entry exists for the key (whole and current or not: read() decides). */
  has(key: CacheKey): boolean {
    return existsSync(this.pathOf(key.digest))
  }

  /** The cached parse of a layer as layer `index` of the current image, or undefined (miss, stale or corrupt: removed). */
  async read(key: CacheKey, index: number, tree: Tree): Promise<ParsedLayer | undefined> {
    const path = this.pathOf(key.digest)
    try {
      const layer = await readEntry(path, key, index, tree)
      if (layer) {
        await markUsed(path)
        return layer
      }
      this.log(`layer index cache: ${path} is stale; reading the layer again`)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      this.log(`layer index cache: ${path} is unreadable (${describe(e)}); reading the layer again`)
    }
    await unlink(path).catch(() => {})
    return undefined
  }

  /** Writes a layer's parse (call BEFORE merging: merging changes the nodes). */
  async write(key: CacheKey, layer: ParsedLayer): Promise<void> {
    const final = this.pathOf(key.digest)
    const tmpDir = join(this.dir, 'tmp')
    await mkdir(tmpDir, { recursive: true, mode: 0o700 })
    await mkdir(join(final, '..'), { recursive: true, mode: 0o700 })
    const tmp = join(tmpDir, `${randomBytes(12).toString('hex')}.layer-index`)
    const fh = await open(tmp, 'wx', 0o600)
    try {
      const hash = createHash('sha256')
      const put = async (buf: Buffer): Promise<void> => {
        hash.update(buf)
        await fh.write(buf)
      }
      const header: EntryHeader = {
        digest: key.digest,
        summaryVersion: key.summaryVersion,
        hashed: key.needHashes,
        size: layer.size,
        entryCount: layer.entryCount,
        tarBytes: layer.tarBytes,
        fileBytes: layer.fileBytes,
        warnings: layer.warnings.toData(),
        records: layer.entries.length,
        parents: layer.parents.size,
      }
      await put(headerBytes(header, INDEX_FORMAT))
      const w = new ByteWriter()
      for (const e of layer.entries) {
        writeEntry(w, e, layer)
        if (w.length > WRITE_CHUNK) await put(w.takeChunk())
      }
      for (const p of layer.parents) {
        writeParent(w, p)
        if (w.length > WRITE_CHUNK) await put(w.takeChunk())
      }
      await put(w.takeChunk())
      await fh.write(hash.digest())
      // No fsync: after a crash a torn entry fails its digest and is rebuilt, so durability buys
      // nothing here, and a flush per layer is wall time on a cold run.
      await fh.close()
      await rename(tmp, final)
    } catch (e) {
      await fh.close().catch(() => {})
      await unlink(tmp).catch(() => {})
      this.log(`layer index cache: could not write ${final}: ${describe(e)}`)
    }
  }
}

/** Undefined when the entry is whole but of another format, key or hashing; throws when torn or edited. */
async function readEntry(path: string, key: CacheKey, index: number, tree: Tree): Promise<ParsedLayer | undefined> {
  const buf = await readFile(path)
  const start = readHeader(buf)
  if (!start) throw new Error('it does not start like a layer index entry')
  if (start.format !== INDEX_FORMAT) return undefined
  const h = start.header
  if (!h) throw new Error('the file ends inside its header (torn write?)')
  if (h.digest !== key.digest || h.summaryVersion !== key.summaryVersion || (key.needHashes && !h.hashed)) return undefined
  const end = buf.length - 32
  if (end < start.bodyAt) throw new Error('the file ends before its digest (torn write?)')
  const digest = createHash('sha256').update(buf.subarray(0, end)).digest()
  if (!digest.equals(buf.subarray(end))) throw new Error('its digest does not match its content')
  return readLayer(buf, start.bodyAt, end, h, index, tree)
}
