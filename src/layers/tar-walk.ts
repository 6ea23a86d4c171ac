/**
 * One pass over a layer's tar stream: the end-of-archive guard in front of node-tar's Parser, with
 * the checks every reader of a layer needs (not a tar, still compressed, truncated, structure
 * disagreement). The index pass and readFile both walk layers through here.
 */
import type { Readable } from 'node:stream'
import { Parser, type ReadEntry } from 'tar'
import { SlimError, describe, isSlimError } from '../core/errors.js'
import { TarGuard, PADDING_ALLOWANCE, type GuardEntry } from './tar-guard.js'
import { printable } from './warnings.js'

export interface TarWalkHooks {
  /** Every entry the parser emits, with its 0-based ordinal. Must consume the entry (data or resume). */
  onEntry(entry: ReadEntry, info: GuardEntry, ordinal: number): void
  /** Entries node-tar skips (unknown types, GNU sparse files): only the guard saw them. */
  onIgnored?(info: GuardEntry): void
  /** Recoverable oddities (grouped by the caller). */
  onWarn?(message: string, path?: string): void
  /** Each chunk as it arrives (progress, expansion limit: throw to abort; the tar's digest). */
  onBytes?(n: number, chunk: Buffer): void
  /** Checked after each chunk: true stops reading (the rest of the stream is not consumed). */
  shouldStop?(): boolean | Promise<boolean>
  signal?: AbortSignal
}

export interface TarWalkResult {
  bytes: number
  trailingBytes: number
  entries: number
  stoppedEarly: boolean
}

/** `what` names the layer in messages ("layer 3 (sha256:abcd…)"). */
export async function walkTar(stream: Readable, what: string, hooks: TarWalkHooks): Promise<TarWalkResult> {
  const walk = new TarWalk(what, hooks)
  const stoppedEarly = await walk.pump(stream)
  if (stoppedEarly) {
    stream.destroy()
    return walk.result(true)
  }
  await walk.finish()
  return walk.result(false)
}

/** The state of one walk: the guard, node-tar's parser behind it, and the first failure seen. */
class TarWalk {
  private readonly guard = new TarGuard()
  // gzip/zstd/brotli sniffing off: the image stage already decompressed; a second layer of
  // compression must not be expanded behind the expansion limit's back.
  private readonly parser = new Parser({ zstd: false, brotli: false, strict: false })
  private readonly ended: Promise<void>
  private ordinal = 0
  private failure: unknown
  private parserEnded = false
  /** Bytes held back until the first block is judged: the parser must never see a non-tar. */
  private held: Buffer[] | undefined = []

  constructor(
    private readonly what: string,
    private readonly hooks: TarWalkHooks,
  ) {
    this.parser.on('entry', (entry: ReadEntry) => this.onParserEntry(entry))
    this.parser.on('warn', (code: string, message: string, data: { header?: { path?: string } }) => {
      // Truncation and "not a tar" are judged by the guard, which knows more.
      if (code === 'TAR_BAD_ARCHIVE') return
      hooks.onWarn?.(`tar headers skipped as invalid (${message})`, data?.header?.path)
    })
    this.parser.on('error', (e: unknown) => {
      this.failure ??= e
    })
    this.ended = new Promise<void>((resolve) => this.parser.once('end', () => resolve()))
  }

  /** Pairs each parser entry with the guard's own reading of the same header; they must agree. */
  private onParserEntry(entry: ReadEntry): void {
    try {
      let info = this.guard.next()
      while (info?.ignored) {
        this.ignored(info)
        info = this.guard.next()
      }
      if (!info || info.size !== (entry.header.size ?? 0)) throw this.ambiguousAt(entry.path, true)
      this.warnAboutFields(info)
      this.hooks.onEntry(entry, info, this.ordinal++)
    } catch (e) {
      this.failure ??= e
      entry.resume()
    }
  }

  private ignored(info: GuardEntry): void {
    this.warnAboutFields(info)
    this.hooks.onIgnored?.(info)
  }

  /** Malformed numbers that do not move bytes (a mode, an owner, a time) are ignored, with a warning. */
  private warnAboutFields(info: GuardEntry): void {
    for (const field of info.ignoredFields) this.hooks.onWarn?.(`tar headers with an invalid ${fieldName(field)}, ignored${OWNERSHIP.test(field) ? ' (read as 0)' : ''}`, info.path)
  }

  /** Reads the stream chunk by chunk; returns true when shouldStop ended it early. */
  async pump(stream: Readable): Promise<boolean> {
    const { hooks } = this
    // Cancellation must not wait for the next chunk (a stalled registry may never send it).
    const onAbort = (): void => {
      stream.destroy(hooks.signal?.reason instanceof Error ? hooks.signal.reason : new Error('aborted'))
    }
    hooks.signal?.addEventListener('abort', onAbort, { once: true })
    let first = true
    try {
      for await (const raw of stream) {
        const chunk: Buffer = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as Uint8Array)
        hooks.signal?.throwIfAborted()
        hooks.onBytes?.(chunk.length, chunk)
        if (first && chunk.length > 0) {
          first = false
          this.refuseDoubleCompression(chunk)
        }
        this.push(chunk)
        const stop = hooks.shouldStop?.()
        if (stop === true || (stop instanceof Promise && (await stop))) return true
      }
      return false
    } catch (e) {
      stream.destroy()
      if (hooks.signal?.aborted) throw hooks.signal.reason
      // Errors of the stream itself (digest mismatch, network) are already the right SlimError.
      throw e === this.failure ? wrap(e, this.what) : e
    } finally {
      hooks.signal?.removeEventListener('abort', onAbort)
    }
  }

  private refuseDoubleCompression(chunk: Buffer): void {
    if (chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b) {
      throw new SlimError('format', `${this.what} is still gzip-compressed after decompression (compressed twice?); slim reads only one level of compression`)
    }
  }

  /** One chunk through the guard (which judges the structure) and on to the parser. */
  private push(chunk: Buffer): void {
    const { guard } = this
    const fwd = guard.push(chunk)
    if (guard.ambiguous) {
      const a = guard.ambiguous
      throw new SlimError(
        'format',
        `${this.what}: the tar entry "${printable(a.path)}" (${a.type}) ${a.why}; tar readers disagree on where the next entry starts, so slim refuses to guess: rebuild the layer with a standard tar writer`,
      )
    }
    if (guard.firstBlockValid === false) {
      throw new SlimError('format', `${this.what} is not a tar archive (its first block is not a tar header); the image is damaged or the blob is not a layer`)
    }
    if (!this.parserEnded) this.forward(fwd)
    if (this.failure) throw this.failure
    if (guard.ended && !this.parserEnded) {
      this.endParser()
      if (this.failure) throw this.failure
    }
  }

  private forward(buf: Buffer): void {
    if (buf.length === 0) return
    if (this.held) {
      this.held.push(buf)
      if (this.guard.firstBlockValid === undefined && !this.guard.ended) return
      buf = Buffer.concat(this.held)
      this.held = undefined
    }
    this.parser.write(buf)
  }

  private endParser(): void {
    if (this.parserEnded) return
    this.parserEnded = true
    if (this.held && this.held.length > 0) this.parser.write(Buffer.concat(this.held))
    this.held = undefined
    this.parser.end()
  }

  /** After the last chunk: truncation, leftovers only the guard saw, and what follows the end marker. */
  async finish(): Promise<void> {
    const { guard, what } = this
    const end = guard.finish()
    if (end.truncatedEntry) {
      throw new SlimError(
        'format',
        `${what}: the tar is truncated inside "${printable(end.truncatedEntry.path)}" (${end.missingBytes} bytes missing); the layer is damaged: pull or rebuild the image`,
      )
    }
    if (guard.bytes > 0 && guard.firstBlockValid === undefined && end.partialNonZero) {
      throw new SlimError('format', `${what} is not a tar archive (only ${guard.bytes} bytes); the image is damaged or the blob is not a layer`)
    }
    this.endParser()
    await this.ended
    if (this.failure) throw wrap(this.failure, what)
    for (let info = guard.next(); info; info = guard.next()) {
      if (!info.ignored) throw this.ambiguousAt(info.path, false)
      this.ignored(info)
    }
    this.warnAboutTheEnd(end)
  }

  private warnAboutTheEnd(end: ReturnType<TarGuard['finish']>): void {
    const { guard, hooks } = this
    if (guard.bytes > 0 && end.noMarker) {
      hooks.onWarn?.(
        end.partialBlock > 0 && end.partialNonZero
          ? `the tar ends with an incomplete ${end.partialBlock}-byte block and no end-of-archive marker (truncated?)`
          : 'the tar has no end-of-archive marker (it may be truncated at an entry boundary)',
      )
    }
    if (guard.trailingNonZero && isStargzToc(guard.trailingHead)) {
      // eStargz layers keep their table of contents after the marker: expected, not hidden data.
    } else if (guard.trailingNonZero) {
      hooks.onWarn?.(`${guard.trailingBytes} bytes of data follow the end-of-archive marker; ignored, as container runtimes ignore them`)
    } else if (guard.trailingBytes > PADDING_ALLOWANCE) {
      hooks.onWarn?.(`${guard.trailingBytes} zero bytes follow the end-of-archive marker (more than record padding); ignored`)
    }
  }

  private ambiguousAt(path: string, withFix: boolean): SlimError {
    const fix = withFix ? ': rebuild the layer with a standard tar writer' : ''
    return new SlimError('format', `${this.what}: the tar structure is ambiguous at entry "${printable(path)}" (two readings disagree); refusing to guess${fix}`)
  }

  result(stoppedEarly: boolean): TarWalkResult {
    return { bytes: this.guard.bytes, trailingBytes: this.guard.trailingBytes, entries: this.ordinal, stoppedEarly }
  }
}

/** A header field (not a PAX record) holding mode, uid or gid: the entry gets 0 instead. */
const OWNERSHIP = /^(mode|uid|gid) field/

/** "uid field (\"12x\" is not octal)" → "uid field": the warning groups by field, the value is in the example. */
function fieldName(field: string): string {
  return field.replace(/ \(.*$/s, '')
}

function wrap(e: unknown, what: string): unknown {
  if (isSlimError(e)) return e
  if (e instanceof Error && e.name === 'AbortError') return e
  return new SlimError('format', `${what}: ${describe(e)}`, { cause: e })
}

/** eStargz writes its TOC as a tar entry named stargz.index.json after the end-of-archive marker. */
function isStargzToc(head: Buffer): boolean {
  return head.length === 512 && head.toString('latin1', 0, 18) === 'stargz.index.json\0'
}
