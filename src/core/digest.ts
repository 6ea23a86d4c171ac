import { createHash, type Hash } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { SlimError } from './errors.js'

const DIGEST_RE = /^(sha256|sha512):([a-f0-9]+)$/
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 }

export function parseDigest(digest: string): { algorithm: 'sha256' | 'sha512'; hex: string } {
  const m = DIGEST_RE.exec(digest)
  if (!m || m[2].length !== HEX_LENGTH[m[1]]) {
    throw new SlimError('format', `invalid digest "${digest.slice(0, 80)}": expected sha256:<64 hex digits>`)
  }
  return { algorithm: m[1] as 'sha256' | 'sha512', hex: m[2] }
}

export function isDigest(s: string): boolean {
  const m = DIGEST_RE.exec(s)
  return !!m && m[2].length === HEX_LENGTH[m[1]]
}

export function digestOf(data: Uint8Array | string, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`
}

/** Throws unless `data` has the expected digest (and size, when given). */
export function verifyBytes(data: Uint8Array, expected: { digest: string; size?: number }, what: string): void {
  const { algorithm } = parseDigest(expected.digest)
  if (expected.size !== undefined && expected.size >= 0 && data.length !== expected.size) {
    throw new SlimError('integrity', `${what}: size ${data.length} does not match the expected ${expected.size}; the data is truncated or corrupt`)
  }
  const actual = digestOf(data, algorithm)
  if (actual !== expected.digest) {
    throw new SlimError('integrity', `${what}: digest ${actual} does not match the expected ${expected.digest}; the data is corrupt or was tampered with`)
  }
}

/**
 * A pass-through stream that hashes what flows through it and fails at the end (before signalling
 * completion) when the size or digest is wrong. Consumers must treat a stream error as "discard
 * everything you derived from these bytes".
 */
export class VerifyStream extends Transform {
  private readonly hash: Hash
  private bytes = 0

  constructor(
    private readonly expected: { digest: string; size?: number },
    private readonly what: string,
  ) {
    super()
    this.hash = createHash(parseDigest(expected.digest).algorithm)
  }

  get bytesSeen(): number {
    return this.bytes
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length
    if (this.expected.size !== undefined && this.expected.size >= 0 && this.bytes > this.expected.size) {
      cb(new SlimError('integrity', `${this.what}: more than the expected ${this.expected.size} bytes; the data is corrupt`))
      return
    }
    this.hash.update(chunk)
    cb(null, chunk)
  }

  override _flush(cb: TransformCallback): void {
    if (this.expected.size !== undefined && this.expected.size >= 0 && this.bytes !== this.expected.size) {
      cb(new SlimError('integrity', `${this.what}: got ${this.bytes} bytes, expected ${this.expected.size}; the data is truncated`))
      return
    }
    const actual = `${parseDigest(this.expected.digest).algorithm}:${this.hash.digest('hex')}`
    if (actual !== this.expected.digest) {
      cb(new SlimError('integrity', `${this.what}: digest ${actual} does not match the expected ${this.expected.digest}; the data is corrupt or was tampered with`))
      return
    }
    cb()
  }
}
