import type { Readable } from 'node:stream'
import { SlimError, describe, isSlimError } from '../core/errors.js'

/**
 * Reads a small document (manifest, config, manifest.json) whole, refusing more than `limit`
 * bytes so a hostile source cannot make slim buffer a layer-sized "config".
 */
export async function readAllLimited(stream: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  let length = 0
  try {
    for await (const chunk of stream) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
      length += b.length
      if (length > limit) {
        throw new SlimError('limit', `${what} is larger than ${limit} bytes; refusing to read it into memory`)
      }
      chunks.push(b)
    }
  } catch (e) {
    if (isSlimError(e)) throw e
    throw new SlimError('not-found', `${what}: cannot be read (${describe(e)})`, { cause: e })
  } finally {
    if (!stream.destroyed) stream.destroy()
  }
  return Buffer.concat(chunks)
}
