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
  /** Each chunk's size as it arrives (progress, expansion limit: throw to abort). */
  onBytes?(n: number): void
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
  const guard = new TarGuard()
  // gzip/zstd/brotli sniffing off: the image stage already decompressed; a second layer of
  // compression must not be expanded behind the expansion limit's back.
  const parser = new Parser({ zstd: false, brotli: false, strict: false })
  let ordinal = 0
  let failure: unknown
  let parserEnded = false
  let held: Buffer[] | undefined = []
  let first = true

  parser.on('entry', (entry: ReadEntry) => {
    try {
      let info = guard.next()
      while (info?.ignored) {
        hooks.onIgnored?.(info)
        info = guard.next()
      }
      const size = entry.header.size ?? 0
      if (!info || info.size !== size) {
        throw new SlimError(
          'format',
          `${what}: the tar structure is ambiguous at entry "${printable(entry.path)}" (two readings disagree); refusing to guess: rebuild the layer with a standard tar writer`,
        )
      }
      hooks.onEntry(entry, info, ordinal++)
    } catch (e) {
      failure ??= e
      entry.resume()
    }
  })
  parser.on('warn', (code: string, message: string, data: { header?: { path?: string } }) => {
    // Truncation and "not a tar" are judged by the guard, which knows more.
    if (code === 'TAR_BAD_ARCHIVE') return
    hooks.onWarn?.(`tar headers skipped as invalid (${message})`, data?.header?.path)
  })
  parser.on('error', (e: unknown) => {
    failure ??= e
  })
  const ended = new Promise<void>((resolve) => parser.once('end', () => resolve()))

  const forward = (buf: Buffer): void => {
    if (buf.length === 0) return
    if (held) {
      held.push(buf)
      // Hold bytes back until the first block is judged: the parser must never see a non-tar.
      if (guard.firstBlockValid === undefined && !guard.ended) return
      buf = Buffer.concat(held)
      held = undefined
    }
    parser.write(buf)
  }
  const endParser = (): void => {
    if (parserEnded) return
    parserEnded = true
    if (held && held.length > 0) {
      parser.write(Buffer.concat(held))
    }
    held = undefined
    parser.end()
  }

  let stoppedEarly = false
  // Cancellation must not wait for the next chunk (a stalled registry may never send it).
  const onAbort = (): void => {
    stream.destroy(hooks.signal?.reason instanceof Error ? hooks.signal.reason : new Error('aborted'))
  }
  hooks.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    for await (const raw of stream) {
      const chunk: Buffer = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as Uint8Array)
      hooks.signal?.throwIfAborted()
      hooks.onBytes?.(chunk.length)
      if (first && chunk.length > 0) {
        first = false
        if (chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b) {
          throw new SlimError('format', `${what} is still gzip-compressed after decompression (compressed twice?); slim reads only one level of compression`)
        }
      }
      const fwd = guard.push(chunk)
      if (guard.ambiguous) {
        const a = guard.ambiguous
        throw new SlimError(
          'format',
          `${what}: the tar entry "${printable(a.path)}" (${a.type}) ${a.why}; tar readers disagree on where the next entry starts, so slim refuses to guess: rebuild the layer with a standard tar writer`,
        )
      }
      if (guard.firstBlockValid === false) {
        throw new SlimError('format', `${what} is not a tar archive (its first block is not a tar header); the image is damaged or the blob is not a layer`)
      }
      if (!parserEnded) forward(fwd)
      if (failure) throw failure
      if (guard.ended && !parserEnded) {
        endParser()
        if (failure) throw failure
      }
      const stop = hooks.shouldStop?.()
      if (stop === true || (stop instanceof Promise && (await stop))) {
        stoppedEarly = true
        break
      }
    }
  } catch (e) {
    stream.destroy()
    if (hooks.signal?.aborted) throw hooks.signal.reason
    // Errors of the stream itself (digest mismatch, network) are already the right SlimError.
    throw e === failure ? wrap(e, what) : e
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort)
  }
  if (stoppedEarly) {
    stream.destroy()
    return { bytes: guard.bytes, trailingBytes: guard.trailingBytes, entries: ordinal, stoppedEarly }
  }

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
  endParser()
  await ended
  if (failure) throw wrap(failure, what)
  for (let info = guard.next(); info; info = guard.next()) {
    if (!info.ignored) {
      throw new SlimError('format', `${what}: the tar structure is ambiguous at entry "${printable(info.path)}" (two readings disagree); refusing to guess`)
    }
    hooks.onIgnored?.(info)
  }

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
  return { bytes: guard.bytes, trailingBytes: guard.trailingBytes, entries: ordinal, stoppedEarly: false }
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
