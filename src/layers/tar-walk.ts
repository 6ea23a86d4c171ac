/**
 * One pass over a layer's tar stream (tar-guard.ts reads it), with the checks every reader of a
 * layer needs: not a tar, still compressed, truncated, a structure tar readers would read two ways.
 * The index pass and readFile both walk layers through here. Bodies are handed on as slices of the
 * stream's chunks: no copy, no stream object per entry.
 */
import type { Readable } from 'node:stream'
import { SlimError, describe, isSlimError } from '../core/errors.js'
import { TarGuard, PADDING_ALLOWANCE, type BodySink, type GuardEntry } from './tar-guard.js'
import { printable } from './warnings.js'

export type { BodySink } from './tar-guard.js'

export interface TarWalkHooks {
  /**
   * Every entry of a type runtimes extract, with its 0-based ordinal. Returns where its body goes
   * (slices of the stream's chunks, valid as long as the caller keeps them), or null to skip it.
   */
  onEntry(info: GuardEntry, ordinal: number): BodySink | null
  /** Entries of unknown types, GNU sparse files and oversized extended headers: no body is read. */
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
  try {
    const stoppedEarly = await walk.pump(stream)
    if (stoppedEarly) {
      stream.destroy()
      return walk.result(true)
    }
    walk.finish()
    return walk.result(false)
  } finally {
    walk.abandon()
  }
}

/** The state of one walk: the guard that reads the tar, and what it has handed on. */
class TarWalk {
  private readonly guard: TarGuard
  private ordinal = 0
  /**
   * Ignored entries are reported when the next entry is handed on, or at the end of a complete
   * walk: after the invalid blocks that follow them. That is the order layer warnings have always
   * come in, and cached layer indexes keep them in it (a changed order would make a warm run's
   * report differ from a cold one's).
   */
  private ignored: GuardEntry[] = []
  /** The stream's first bytes, until there are two to check for a gzip header. */
  private head: Buffer | undefined = Buffer.alloc(0)

  constructor(
    private readonly what: string,
    private readonly hooks: TarWalkHooks,
  ) {
    this.guard = new TarGuard({
      entry: (info) => this.entry(info),
      skipped: (why, path) => hooks.onWarn?.(`tar headers skipped as invalid (${why})`, path),
    })
  }

  private entry(info: GuardEntry): BodySink | null {
    if (info.ignored) {
      this.ignored.push(info)
      return null
    }
    try {
      this.reportIgnored()
      this.warnAboutFields(info)
      return this.hooks.onEntry(info, this.ordinal++)
    } catch (e) {
      // The caller's own failure while taking an entry, named after the layer.
      throw wrap(e, this.what)
    }
  }

  /** Releases the body being read, if the walk ended inside one (tar-guard.ts BodySink.abort). */
  abandon(): void {
    this.guard.abandon()
  }

  private reportIgnored(): void {
    if (this.ignored.length === 0) return
    const ignored = this.ignored
    this.ignored = []
    for (const info of ignored) {
      this.warnAboutFields(info)
      this.hooks.onIgnored?.(info)
    }
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
    try {
      for await (const raw of stream) {
        const chunk: Buffer = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as Uint8Array)
        hooks.signal?.throwIfAborted()
        hooks.onBytes?.(chunk.length, chunk)
        if (this.head) this.refuseDoubleCompression(chunk)
        this.push(chunk)
        const stop = hooks.shouldStop?.()
        if (stop === true || (stop instanceof Promise && (await stop))) return true
      }
      return false
    } catch (e) {
      stream.destroy()
      if (hooks.signal?.aborted) throw hooks.signal.reason
      // Errors of the stream itself (digest mismatch, network) are already the right SlimError.
      throw e
    } finally {
      hooks.signal?.removeEventListener('abort', onAbort)
    }
  }

  /** The image stage decompressed the layer already: a gzip header now means it was compressed twice. */
  private refuseDoubleCompression(chunk: Buffer): void {
    const head = this.head!.length === 0 ? chunk : Buffer.concat([this.head!, chunk.subarray(0, 2)])
    if (head.length < 2) {
      this.head = Buffer.from(head)
      return
    }
    this.head = undefined
    if (head[0] === 0x1f && head[1] === 0x8b) {
      throw new SlimError('format', `${this.what} is still gzip-compressed after decompression (compressed twice?); slim reads only one level of compression`)
    }
  }

  /** One chunk through the guard; its verdicts on the structure become errors. */
  private push(chunk: Buffer): void {
    const { guard } = this
    guard.push(chunk)
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
  }

  /** After the last chunk: truncation, and what follows the end marker. */
  finish(): void {
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
    this.reportIgnored()
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
