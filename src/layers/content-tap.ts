/**
 * What the index pass takes from a regular file's bytes as they stream by, so nothing needs to
 * read the layer again: the sha256 (duplicates), the whole content of the small files callers
 * asked to keep, and the head: ELF files are summarised on the spot by the caller's summariser
 * (which needs random access: a file up to a bound is buffered in ONE scratch buffer per layer,
 * reused from file to file; a bigger one is written to a temp file that the summariser reads by
 * ranges and that is removed at once), scripts keep their first line.
 */
import { createHash, hash as hashOnce, type Hash } from 'node:crypto'
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bufferSource, FileSource, type ByteSource } from '../core/byte-source.js'
import { trackTemp, type TempHandle } from '../core/temp.js'
import { DEFAULT_MAX_SLOTS } from './read-schedule.js'
import type { FileHead } from './types.js'

const ELF_MAGIC = 0x7f454c46 // "\x7fELF"
/** Longest script first line kept ("#!/usr/bin/env -S python3 -u ..."): as much as a kernel reads. */
const FIRST_LINE_MAX = 512
const EMPTY = Buffer.alloc(0)

export interface TapOptions {
  hash: boolean
  /** Keep the whole content (the caller's capture list). */
  keep: boolean
  /** Summarise an ELF file (random access to its content); undefined when nobody asked. */
  summarizeElf?: (bytes: ByteSource) => unknown
  /** Largest ELF file buffered for the summary; bigger ones are summarised from a temp copy. */
  elfMax: number
  /** Bound on temp bytes; a copy that would pass it is dropped (the file is only marked ELF). */
  maxTempBytes: number
}

/** A big ELF file's temp copy while it streams by. */
interface Spill {
  handle: TempHandle
  file: string
  fd: number
}

export interface TapResult {
  hash: string | null
  kept?: Buffer
  head?: FileHead
}

/**
 * A growable buffer for one layer's pass at a time: no allocation per file. Passes borrow one
 * (Scratch.borrow) and give it back, so an image's layers reuse the same few buffers instead of
 * each growing its own up to the ELF bound (10 layers: up to 80 MB of garbage, 18 MB of it
 * uncollected at a cold run's peak).
 */
export class Scratch {
  /** Returned scratches: as many as one analysis reads layers at once by default; more would sit idle. */
  private static readonly free: Scratch[] = []

  static borrow(): Scratch {
    return Scratch.free.pop() ?? new Scratch()
  }

  static giveBack(s: Scratch): void {
    if (Scratch.free.length < DEFAULT_MAX_SLOTS) Scratch.free.push(s)
  }

  private buf = Buffer.alloc(0)
  /** `size` bytes; the buffer doubles as it grows, never past `max` (the largest size asked for). */
  take(size: number, max: number): Buffer {
    if (this.buf.length < size) this.buf = Buffer.allocUnsafe(Math.max(size, Math.min(Math.max(this.buf.length * 2, 64 * 1024), max)))
    return this.buf.subarray(0, size)
  }
}

/** Consumes one file's chunks; `end()` returns what was taken. */
export class ContentTap {
  /** sha256 the body (a non-empty file, when asked). */
  private readonly hashing: boolean
  /** The running hash, made on the body's second chunk: most files arrive in one chunk and are
   * hashed at the end in one call, without a Hash object each (30,000 fewer on a 1.2 GB image). */
  private hash: Hash | null = null
  /** The body's only chunk so far (while `hash` is not made). */
  private first: Buffer | null = null
  private readonly chunks: Buffer[] | null
  private got = 0
  /** The first 4 bytes, as a number, once known; -1 before. */
  private magic = -1
  private headBytes: Buffer[] = []
  private elf: Buffer | null = null
  private spill: Spill | null = null
  private line: Buffer | null = null

  constructor(
    private readonly size: number,
    private readonly opts: TapOptions,
    private readonly scratch: Scratch,
  ) {
    this.hashing = opts.hash && size > 0
    this.chunks = opts.keep ? [] : null
  }

  data(c: Buffer): void {
    const at = this.got
    this.got += c.length
    if (this.hashing) this.hashChunk(c)
    this.chunks?.push(c)
    if (this.magic < 0) return this.sniff(c)
    if (this.elf) c.copy(this.elf, at, 0, Math.min(c.length, this.elf.length - at))
    else if (this.spill) this.write(c)
    else if (this.line && at < FIRST_LINE_MAX) this.headBytes.push(c)
  }

  private hashChunk(c: Buffer): void {
    if (this.hash) this.hash.update(c)
    else if (!this.first) this.first = c
    else {
      this.hash = createHash('sha256').update(this.first).update(c)
      this.first = null
    }
  }

  /** Decides from the first bytes whether this file is an ELF (buffer it) or a script (keep a line). */
  private sniff(c: Buffer): void {
    this.headBytes.push(c)
    const head = this.headBytes.length === 1 ? c : Buffer.concat(this.headBytes)
    if (head.length < 4 && this.got < this.size) return
    this.magic = head.length >= 4 ? head.readUInt32BE(0) : 0
    const opts = this.opts
    if (this.magic === ELF_MAGIC && opts.summarizeElf && this.size <= opts.elfMax) {
      this.elf = this.scratch.take(this.size, opts.elfMax)
      head.copy(this.elf, 0, 0, Math.min(head.length, this.size))
      this.headBytes = []
    } else if (this.magic === ELF_MAGIC && opts.summarizeElf) {
      const dir = mkdtempSync(join(tmpdir(), 'slim-elf-'))
      const handle = trackTemp(dir, { dir: true })
      const file = join(dir, 'content')
      this.spill = { handle, file, fd: openSync(file, 'wx', 0o600) }
      this.write(head)
      this.headBytes = []
    } else if (head[0] === 0x23 && head[1] === 0x21) {
      this.line = head
    } else {
      this.headBytes = []
    }
  }

  /** Appends to the temp copy; past the temp budget (or on a write error) the copy is dropped. */
  private write(c: Buffer): void {
    const spill = this.spill!
    try {
      spill.handle.charge(c.length, this.opts.maxTempBytes, 'an ELF file')
      writeSync(spill.fd, c)
    } catch {
      this.dropSpill()
    }
  }

  private dropSpill(): void {
    const spill = this.spill
    if (!spill) return
    this.spill = null
    try {
      closeSync(spill.fd)
    } catch {
      // Already closed.
    }
    rmSync(join(spill.file, '..'), { recursive: true, force: true })
    spill.handle.forget()
  }

  end(): TapResult {
    const out: TapResult = { hash: !this.hashing ? null : this.hash ? this.hash.digest('binary') : hashOnce('sha256', this.first ?? EMPTY, 'binary') }
    this.first = null
    // A short body means the tar was cut: walkTar reports that as an error for the whole layer.
    const complete = this.got === this.size
    if (this.chunks && complete) out.kept = Buffer.concat(this.chunks, this.got)
    if (this.magic === ELF_MAGIC) {
      out.head = { magic: 'elf' }
      if ((this.elf || this.spill) && complete) {
        let source: FileSource | undefined
        try {
          if (this.spill) {
            closeSync(this.spill.fd)
            this.spill.fd = -1
            source = new FileSource(this.spill.file)
          }
          out.head.summary = this.opts.summarizeElf!(source ?? bufferSource(this.elf!))
        } catch {
          // Not summarisable here (a damaged header): whoever needs it reads the file and says why.
        } finally {
          source?.close()
        }
      }
      this.dropSpill()
    } else if (this.line) {
      const bytes = Buffer.concat(this.headBytes)
      const nl = bytes.indexOf(0x0a)
      out.head = { magic: 'script', firstLine: bytes.toString('latin1', 0, Math.min(nl < 0 ? bytes.length : nl, FIRST_LINE_MAX)) }
    }
    this.elf = null
    return out
  }

  /** The body will not be completed (the walk stopped inside it): the temp copy goes now, not at exit. */
  abort(): void {
    this.dropSpill()
    this.elf = null
  }
}
