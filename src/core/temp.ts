/**
 * Every temp file and directory slim creates is registered here, so that (1) one budget bounds the
 * bytes they hold together (an unwrapped `docker save | gzip` archive, a daemon export, blobs on
 * their way into the cache), and (2) they are removed when slim exits, normally or on SIGINT or
 * SIGTERM (exit codes 130 and 143, as shells report them). The registry is per process because
 * signals and exit are.
 */
import { rmSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { Transform, type TransformCallback } from 'node:stream'
import { SlimError } from './errors.js'
import { humanBytes } from './format.js'

/** Default bound on the bytes all temp files hold at once (the same as --max-expanded-size's default). */
export const DEFAULT_MAX_TEMP_BYTES = 32 * 1024 ** 3

const live = new Map<TempHandle, number>()

export class TempHandle {
  private removed = false

  constructor(
    readonly path: string,
    readonly isDir: boolean,
  ) {
    live.set(this, 0)
  }

  /**
   * Counts `n` more bytes written into this temp path; throws when all live temp paths together
   * hold more than `max`, naming `what` and the flag that raises the bound.
   */
  charge(n: number, max: number, what: string): void {
    live.set(this, (live.get(this) ?? 0) + n)
    const total = liveTempBytes()
    if (total > max) {
      throw new SlimError(
        'limit',
        `${what}: temp files would hold more than ${humanBytes(max)} (a decompression bomb, or an export that never ends); raise it with --max-expanded-size`,
      )
    }
  }

  /** Deletes the path and forgets it. */
  async remove(): Promise<void> {
    if (this.removed) return
    await rm(this.path, { recursive: true, force: true }).catch(() => {})
    this.forget()
  }

  /** The path became something else's (renamed into the cache): no longer a temp file. */
  forget(): void {
    this.removed = true
    live.delete(this)
  }
}

/** Registers a temp file or directory (it may not exist yet). */
export function trackTemp(path: string, opts: { dir?: boolean } = {}): TempHandle {
  installTempCleanup()
  return new TempHandle(path, opts.dir === true)
}

/** Bytes held by all live temp paths. */
export function liveTempBytes(): number {
  let total = 0
  for (const n of live.values()) total += n
  return total
}

/** Paths currently registered (tests). */
export function liveTempPaths(): string[] {
  return [...live.keys()].map((h) => h.path)
}

/** A pass-through stream that charges what flows through it to `handle`, failing past `max`. */
export function chargingStream(handle: TempHandle, max: number, what: string): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      try {
        handle.charge(chunk.length, max, what)
        cb(null, chunk)
      } catch (e) {
        cb(e as Error)
      }
    },
  })
}

/** Removes every registered path now, synchronously (exit handlers cannot wait). */
export function removeAllTemps(): void {
  for (const h of [...live.keys()]) {
    try {
      rmSync(h.path, { recursive: true, force: true })
    } catch {
      // Nothing more can be done while exiting.
    }
    h.forget()
  }
}

let installed = false

/** Removes the registered temp paths on exit, and on SIGINT / SIGTERM before exiting 130 / 143. */
export function installTempCleanup(): void {
  if (installed) return
  installed = true
  process.on('exit', removeAllTemps)
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      removeAllTemps()
      process.exit(code)
    })
  }
}
