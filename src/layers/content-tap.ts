/**
 * What the index pass takes from a regular file's bytes as they stream by, so nothing needs to
 * read the layer again: the sha256 (duplicates), the whole content of the small files callers
 * asked to keep, and the head: ELF files are summarised on the spot by the caller's summariser
 * (which needs random access, so the file is buffered, up to a bound, in ONE scratch buffer per
 * layer that is reused from file to file), scripts keep their first line.
 */
import { createHash, type Hash } from 'node:crypto'
import type { FileHead } from './types.js'

const ELF_MAGIC = 0x7f454c46 // "\x7fELF"
/** Longest script first line kept ("#!/usr/bin/env -S python3 -u ..."): as much as a kernel reads. */
const FIRST_LINE_MAX = 512

export interface TapOptions {
  hash: boolean
  /** Keep the whole content (the caller's capture list). */
  keep: boolean
  /** Summarise an ELF file from its whole content; undefined when nobody asked. */
  summarizeElf?: (bytes: Buffer) => unknown
  /** Largest ELF file buffered for the summary; bigger ones only get their magic recorded. */
  elfMax: number
}

export interface TapResult {
  hash: string | null
  kept?: Buffer
  head?: FileHead
}

/** A growable buffer that lives as long as one layer's pass: no allocation per file. */
export class Scratch {
  private buf = Buffer.alloc(0)
  take(size: number): Buffer {
    if (this.buf.length < size) this.buf = Buffer.allocUnsafe(Math.max(size, Math.min(this.buf.length * 2, 64 * 1024 * 1024), 64 * 1024))
    return this.buf.subarray(0, size)
  }
}

/** Consumes one file's chunks; `end()` returns what was taken. */
export class ContentTap {
  private readonly hash: Hash | null
  private readonly chunks: Buffer[] | null
  private got = 0
  /** The first 4 bytes, as a number, once known; -1 before. */
  private magic = -1
  private headBytes: Buffer[] = []
  private elf: Buffer | null = null
  private line: Buffer | null = null

  constructor(
    private readonly size: number,
    private readonly opts: TapOptions,
    private readonly scratch: Scratch,
  ) {
    this.hash = opts.hash && size > 0 ? createHash('sha256') : null
    this.chunks = opts.keep ? [] : null
  }

  data(c: Buffer): void {
    const at = this.got
    this.got += c.length
    this.hash?.update(c)
    this.chunks?.push(c)
    if (this.magic < 0) return this.sniff(c)
    if (this.elf) c.copy(this.elf, at, 0, Math.min(c.length, this.elf.length - at))
    else if (this.line && at < FIRST_LINE_MAX) this.headBytes.push(c)
  }

  /** Decides from the first bytes whether this file is an ELF (buffer it) or a script (keep a line). */
  private sniff(c: Buffer): void {
    this.headBytes.push(c)
    const head = this.headBytes.length === 1 ? c : Buffer.concat(this.headBytes)
    if (head.length < 4 && this.got < this.size) return
    this.magic = head.length >= 4 ? head.readUInt32BE(0) : 0
    const opts = this.opts
    if (this.magic === ELF_MAGIC && opts.summarizeElf && this.size <= opts.elfMax) {
      this.elf = this.scratch.take(this.size)
      head.copy(this.elf, 0, 0, Math.min(head.length, this.size))
      this.headBytes = []
    } else if (head[0] === 0x23 && head[1] === 0x21) {
      this.line = head
    } else {
      this.headBytes = []
    }
  }

  end(): TapResult {
    const out: TapResult = { hash: this.hash ? this.hash.digest('binary') : null }
    // A short body means the tar was cut: walkTar reports that as an error for the whole layer.
    const complete = this.got === this.size
    if (this.chunks && complete) out.kept = Buffer.concat(this.chunks, this.got)
    if (this.magic === ELF_MAGIC) {
      out.head = { magic: 'elf' }
      if (this.elf && complete) {
        try {
          out.head.summary = this.opts.summarizeElf!(this.elf)
        } catch {
          // Not summarisable here (a damaged header): whoever needs it reads the file and says why.
        }
      }
    } else if (this.line) {
      const bytes = Buffer.concat(this.headBytes)
      const nl = bytes.indexOf(0x0a)
      out.head = { magic: 'script', firstLine: bytes.toString('latin1', 0, Math.min(nl < 0 ? bytes.length : nl, FIRST_LINE_MAX)) }
    }
    this.elf = null
    return out
  }
}
