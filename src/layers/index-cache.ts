/**
 * The layer index cache: what one layer's index pass produced (entries, sizes, hashes, warnings,
 * ELF summaries, script heads, kept small files), stored per layer under its diffID, so a warm
 * analysis reads no layer and an image sharing base layers with one analyzed before reads only its
 * own layers.
 *
 *   <cache>/layer-index/sha256/<hex>     one file per layer
 *
 * The file is lines of JSON: a header (format version, diffID, the summariser's version, whether
 * files were hashed), one line per entry and per parent directory, and a trailer with the sha256
 * of every byte before it. An entry is written to <cache>/tmp and renamed into place (atomic: two
 * processes writing the same layer both leave a whole file). An entry is only written when the
 * layer's tar bytes were seen to hash to the diffID, so an image cannot plant a lying entry for
 * another image's layer. Reading checks the header and the trailer's digest; anything wrong (torn,
 * edited, older format) is removed and the layer is read again.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseDigest } from '../core/digest.js'
import { describe } from '../core/errors.js'
import { Op, type ParsedEntry, type ParsedLayer } from './parse-layer.js'
import { baseName } from './paths.js'
import { Node, type Kind } from './tree.js'
import type { FileHead } from './types.js'
import { WarningSet } from './warnings.js'

/**
 * Bump whenever what the index pass records, or how it is written, changes.
 * 2: header fields read by image/archive/tar-header.ts (Go's rules for extended
 * headers, malformed numbers refused or ignored).
 */
export const INDEX_FORMAT = 2

export interface CacheKey {
  diffId: string
  /** The ELF summariser's version ('none' without one): summaries of another version are stale. */
  summaryVersion: string
  /** Whether the caller needs content hashes: an entry without them is then stale. */
  needHashes: boolean
}

interface Header {
  slimLayerIndex: number
  diffId: string
  summaryVersion: string
  hashed: boolean
  size: number
  entryCount: number
  tarBytes: number
  fileBytes: number
  warnings: Array<[string, number, string[]]>
}

/** [path, op, kind, mode, uid, gid, size, ordinal, flags, link, hash(base64), linkPath, head, kept(base64)] */
type EntryLine = [string, number, number, number, number, number, number, number, number, string | null, string | null, string | null, FileHead | null, string | null]

export class LayerIndexCache {
  constructor(
    readonly dir: string,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  pathOf(diffId: string): string {
    const { algorithm, hex } = parseDigest(diffId)
    return join(this.dir, 'layer-index', algorithm, hex)
  }

  /** The cached parse of a layer as layer `index` of the current image, or undefined (miss, stale or corrupt: removed). */
  async read(key: CacheKey, index: number): Promise<ParsedLayer | undefined> {
    const path = this.pathOf(key.diffId)
    try {
      const layer = await readEntry(path, key, index)
      if (layer) return layer
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
    const final = this.pathOf(key.diffId)
    const tmpDir = join(this.dir, 'tmp')
    await mkdir(tmpDir, { recursive: true, mode: 0o700 })
    await mkdir(join(final, '..'), { recursive: true, mode: 0o700 })
    const tmp = join(tmpDir, `${randomBytes(12).toString('hex')}.layer-index`)
    const fh = await open(tmp, 'wx', 0o600)
    try {
      const hash = createHash('sha256')
      let pending: string[] = []
      let pendingBytes = 0
      const flush = async (): Promise<void> => {
        const buf = Buffer.from(pending.join(''), 'utf8')
        pending = []
        pendingBytes = 0
        hash.update(buf)
        await fh.write(buf)
      }
      const line = async (value: unknown): Promise<void> => {
        const s = `${JSON.stringify(value)}\n`
        pending.push(s)
        pendingBytes += s.length
        if (pendingBytes > 1024 * 1024) await flush()
      }
      const header: Header = {
        slimLayerIndex: INDEX_FORMAT,
        diffId: key.diffId,
        summaryVersion: key.summaryVersion,
        hashed: key.needHashes,
        size: layer.size,
        entryCount: layer.entryCount,
        tarBytes: layer.tarBytes,
        fileBytes: layer.fileBytes,
        warnings: layer.warnings.toData(),
      }
      await line(header)
      for (const e of layer.entries) await line(entryLine(e, layer))
      for (const p of layer.parents) await line(p)
      await flush()
      await fh.write(`${JSON.stringify({ end: hash.digest('hex') })}\n`)
      await fh.sync()
      await fh.close()
      await rename(tmp, final)
    } catch (e) {
      await fh.close().catch(() => {})
      await unlink(tmp).catch(() => {})
      this.log(`layer index cache: could not write ${final}: ${describe(e)}`)
    }
  }
}

function entryLine(e: ParsedEntry, layer: ParsedLayer): EntryLine {
  const n = e.node
  if (!n) return [e.path, e.op, 0, 0, 0, 0, 0, 0, 0, null, null, null, null, null]
  const kept = layer.captured.get(n)
  return [
    e.path,
    e.op,
    n.kind,
    n.mode,
    n.uid,
    n.gid,
    n.size,
    n.ordinal,
    n.flags,
    typeof n.link === 'string' ? n.link : null,
    n.hash === null ? null : Buffer.from(n.hash, 'binary').toString('base64'),
    e.linkPath ?? null,
    layer.heads.get(n) ?? null,
    kept ? kept.toString('base64') : null,
  ]
}

/** Undefined when the entry is whole but of another format, key or hashing; throws when torn or edited. */
async function readEntry(path: string, key: CacheKey, index: number): Promise<ParsedLayer | undefined> {
  const stream = createReadStream(path)
  const lines = createInterface({ input: stream, crlfDelay: Infinity })
  const hash = createHash('sha256')
  let header: Header | undefined
  let out: ParsedLayer | undefined
  let trailer: string | undefined
  try {
    for await (const text of lines) {
      if (trailer !== undefined) throw new Error('data after the trailer')
      if (text.startsWith('{"end":')) {
        trailer = (JSON.parse(text) as { end: string }).end
        continue
      }
      hash.update(`${text}\n`)
      const value: unknown = JSON.parse(text)
      if (!header) {
        header = value as Header
        if (header.slimLayerIndex !== INDEX_FORMAT || header.diffId !== key.diffId || header.summaryVersion !== key.summaryVersion || (key.needHashes && !header.hashed)) return undefined
        out = {
          index,
          entries: [],
          parents: new Set(),
          size: header.size,
          entryCount: header.entryCount,
          tarBytes: header.tarBytes,
          fileBytes: header.fileBytes,
          captured: new Map(),
          heads: new Map(),
          warnings: WarningSet.fromData(header.warnings),
        }
      } else if (typeof value === 'string') out!.parents.add(value)
      else out!.entries.push(entryOf(value as EntryLine, out!, index))
    }
  } finally {
    lines.close()
    stream.destroy()
  }
  if (!out || trailer === undefined) throw new Error('the file ends before its trailer (torn write?)')
  if (trailer !== hash.digest('hex')) throw new Error('its digest does not match its content')
  return out
}

function entryOf(l: EntryLine, layer: ParsedLayer, index: number): ParsedEntry {
  const [path, op, kind, mode, uid, gid, size, ordinal, flags, link, hash, linkPath, head, kept] = l
  if (op !== Op.Add) return { path, op: op as Op, node: null }
  const node = new Node(baseName(path), kind as Kind, mode, uid, gid, size, index, ordinal)
  node.flags = flags
  if (link !== null) node.link = link
  if (hash !== null) node.hash = Buffer.from(hash, 'base64').toString('binary')
  if (head) layer.heads.set(node, head)
  if (kept !== null) layer.captured.set(node, Buffer.from(kept, 'base64'))
  const e: ParsedEntry = { path, op: Op.Add, node }
  if (linkPath !== null) e.linkPath = linkPath
  return e
}
