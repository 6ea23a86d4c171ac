/**
 * The analysis result cache: what an analysis of one image produced (layer figures, facts,
 * inspection, advice: plain data), stored under a key that names everything it depends on, so
 * analysing the same image again with the same options does no analysis at all: a warm run is
 * start-up, opening the image (its manifest and config) and reading one file.
 *
 *   <cache>/analysis/<sha256 of the key>     one file per result
 *
 * A file is "SLIMRES\n", a u32 format version, the key's digest (32 bytes), the result as JSON
 * and the sha256 of every byte before it. It is written to <cache>/tmp and renamed into place
 * (atomic: two processes writing the same result both leave a whole file). Reading checks the
 * magic, the format, the key and the digest; anything wrong (torn, edited, older format) is
 * removed and the analysis done again. The key (analysisKey) is built by the caller from the
 * image's identity (manifest, config and layer digests), slim's version and index formats, and
 * every option and input file that changes the result.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { markUsed } from '../core/cache-use.js'
import { describe } from '../core/errors.js'

/**
 * Bump whenever what a cached result holds, or how it is written, changes (slim's version is part
 * of every key too, so a release never reads another release's results).
 */
export const RESULT_FORMAT = 1

const MAGIC = Buffer.from('SLIMRES\n', 'latin1')
const HEAD = MAGIC.length + 4 + 32

/** The digest a result is stored under: sha256 of the canonical JSON of everything it depends on. */
export function analysisKey(inputs: unknown): string {
  return createHash('sha256').update(JSON.stringify({ format: RESULT_FORMAT, inputs })).digest('hex')
}

export class ResultCache {
  constructor(
    readonly dir: string,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  pathOf(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`not a result key: ${key}`)
    return join(this.dir, 'analysis', key)
  }

  /** The stored result for `key`, or undefined (miss; stale or corrupt entries are removed). */
  async read(key: string): Promise<unknown> {
    const path = this.pathOf(key)
    let why: string
    try {
      const value = decode(await readFile(path), key)
      if (value !== undefined) {
        await markUsed(path)
        return value
      }
      why = 'is stale'
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      why = `is unreadable (${describe(e)})`
    }
    this.log(`analysis cache: ${path} ${why}; analysing again`)
    await unlink(path).catch(() => {})
    return undefined
  }

  /** Stores `value` (plain JSON data) under `key`; a failure is logged, never thrown. */
  async write(key: string, value: unknown): Promise<void> {
    const final = this.pathOf(key)
    const tmpDir = join(this.dir, 'tmp')
    const tmp = join(tmpDir, `${randomBytes(12).toString('hex')}.analysis`)
    try {
      await mkdir(tmpDir, { recursive: true, mode: 0o700 })
      await mkdir(join(this.dir, 'analysis'), { recursive: true, mode: 0o700 })
      const fh = await open(tmp, 'wx', 0o600)
      try {
        await fh.write(encode(key, value))
      } finally {
        await fh.close()
      }
      // No fsync: a torn file fails its digest and is rebuilt.
      await rename(tmp, final)
    } catch (e) {
      await unlink(tmp).catch(() => {})
      this.log(`analysis cache: could not write ${final}: ${describe(e)}`)
    }
  }
}

export function encode(key: string, value: unknown, format = RESULT_FORMAT): Buffer {
  const head = Buffer.alloc(HEAD)
  MAGIC.copy(head)
  head.writeUInt32LE(format, MAGIC.length)
  Buffer.from(key, 'hex').copy(head, MAGIC.length + 4)
  const body = Buffer.concat([head, Buffer.from(JSON.stringify(value), 'utf8')])
  return Buffer.concat([body, createHash('sha256').update(body).digest()])
}

/** Undefined when the file is whole but of another format or key; throws when torn or edited. */
function decode(buf: Buffer, key: string): unknown {
  if (buf.length < HEAD || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('it does not start like an analysis cache entry')
  if (buf.readUInt32LE(MAGIC.length) !== RESULT_FORMAT) return undefined
  if (!buf.subarray(MAGIC.length + 4, HEAD).equals(Buffer.from(key, 'hex'))) return undefined
  const end = buf.length - 32
  if (end < HEAD) throw new Error('the file ends before its digest (torn write?)')
  if (!createHash('sha256').update(buf.subarray(0, end)).digest().equals(buf.subarray(end))) throw new Error('its digest does not match its content')
  return JSON.parse(buf.toString('utf8', HEAD, end))
}
