/**
 * File contents on demand: re-reads only the layer that holds the file (layer.uncompressed() comes
 * from the blob cache when there is one) and stops as soon as the file has gone by; nothing is
 * extracted. Requests for the same layer that arrive together share one pass, so inspecting thirty
 * libraries of the base layer reads that layer once, not thirty times. A file too big to hold in
 * memory is written to a file the caller names instead (spill), for reading by ranges.
 */
import { createHash, type Hash } from 'node:crypto'
import { writeSync } from 'node:fs'
import type { Layer } from '../image/types.js'
import { SlimError } from '../core/errors.js'
import { walkTar, type BodySink } from './tar-walk.js'

/** The file a read is for: where its entry is and what it must read back as. */
export interface FileRef {
  layer: number
  /** Position of the entry among the entries of its layer tar. */
  ordinal: number
  size: number
  /** sha256 (32 raw bytes as latin1) when the index hashed it. */
  hash: string | null
  /** Index path, for messages. */
  path: string
}

interface Request {
  node: FileRef
  resolve: (b: Buffer) => void
  reject: (e: unknown) => void
  /** Write the content to this open file instead of handing it back (resolves with no bytes). */
  to?: SpillTarget
}

export interface SpillTarget {
  fd: number
  /** Called with each chunk's size before it is written; throws to stop (the temp budget). */
  charge(n: number): void
}

const NO_BYTES = Buffer.alloc(0)

interface Pass {
  /** Ordinal of the entry the pass is at: later requests can still join it. */
  at: number
  wanted: Map<number, Request[]>
  /** Requests present when the pass started: only those can be declared missing by it. */
  initial: Set<Request>
  /** The entry at `at`, kept when small, for a request that arrives just after it went by. */
  current?: { ordinal: number; data?: Buffer }
}

/** Entries up to this size are kept while the pass is on them (see Pass.current). */
const KEEP_CURRENT = 1024 * 1024

export class LayerFileReader {
  private readonly queued = new Map<number, Request[]>()
  private readonly passes = new Map<number, Pass>()
  /** Passes made over each layer (the pass count "one pass, never re-read" is measured by). */
  private readonly passCounts = new Map<number, number>()

  /** Reads that failed so far (see LayerIndex.lateReadFailures). */
  failures = 0

  constructor(
    private readonly layers: readonly Layer[],
    private readonly describeLayer: (i: number) => string,
  ) {}

  passCount(layer: number): number {
    return this.passCounts.get(layer) ?? 0
  }

  read(node: FileRef): Promise<Buffer> {
    return this.request(node)
  }

  /** Writes the file's content to `to.fd` (verified like read), for files too big for memory. */
  async spill(node: FileRef, to: SpillTarget): Promise<void> {
    await this.request(node, to)
  }

  private request(node: FileRef, to?: SpillTarget): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const fail = (e: unknown): void => {
        this.failures++
        reject(e)
      }
      const req: Request = { node, resolve, reject: fail, ...(to ? { to } : {}) }
      const pass = this.passes.get(node.layer)
      if (pass && node.ordinal > pass.at) {
        add(pass.wanted, node.ordinal, req)
        return
      }
      if (!to && pass && node.ordinal === pass.at && pass.current?.ordinal === node.ordinal) {
        // The entry the pass is on (reading it, or just read): served from what it keeps.
        if (pass.current.data) this.deliver([req], pass.current.data, this.describeLayer(node.layer))
        else add(pass.wanted, node.ordinal, req)
        return
      }
      const q = this.queued.get(node.layer)
      if (q) {
        q.push(req)
        return
      }
      this.queued.set(node.layer, [req])
      // Let the other reads of this tick join before the pass starts.
      if (!pass) setImmediate(() => this.start(node.layer))
    })
  }

  private start(layer: number): void {
    const reqs = this.queued.get(layer)
    this.queued.delete(layer)
    if (!reqs || reqs.length === 0) return
    const pass: Pass = { at: -1, wanted: new Map(), initial: new Set(reqs) }
    this.passCounts.set(layer, this.passCount(layer) + 1)
    for (const r of reqs) add(pass.wanted, r.node.ordinal, r)
    this.passes.set(layer, pass)
    this.run(layer, pass)
      .catch((e: unknown) => {
        for (const list of pass.wanted.values()) for (const r of list) r.reject(e)
        pass.wanted.clear()
      })
      .finally(() => {
        this.passes.delete(layer)
        if (this.queued.has(layer)) this.start(layer)
      })
  }

  /** The same bytes must come back: the blob is content-addressed, so a difference means the cache or the source changed. */
  private deliver(reqs: Request[], data: Buffer, what: string): void {
    const node = reqs[0].node
    this.settle(reqs, data, data.length, node.hash === null ? null : createHash('sha256').update(data).digest('binary'), what)
  }

  private settle(reqs: Request[], data: Buffer | undefined, got: number, digest: string | null, what: string): void {
    const node = reqs[0].node
    const ok = got === node.size && (node.hash === null || digest === node.hash)
    for (const r of reqs) {
      if (!ok) r.reject(new SlimError('integrity', `${what}: /${node.path} reads back different from when the layer was indexed; clear the cache and retry`))
      else if (r.to) r.resolve(NO_BYTES)
      else r.resolve(data!)
    }
  }

  private async run(layer: number, pass: Pass): Promise<void> {
    const what = this.describeLayer(layer)
    const stream = await this.layers[layer].uncompressed()
    const result = await walkTar(stream, what, {
      // Before giving up the stream, let callers that await one file and then ask for the next
      // (a loop over files in layer order) join this pass instead of starting over.
      shouldStop: () => (pass.wanted.size > 0 ? false : new Promise<boolean>((done) => setImmediate(() => done(pass.wanted.size === 0)))),
      onEntry: (info, ordinal) => this.entry(layer, pass, info.size, ordinal, what),
    })
    // Requests that joined while the pass was ending get a pass of their own; one that was there
    // from the start of a complete pass and never came by is really missing.
    for (const list of pass.wanted.values()) {
      for (const r of list) {
        if (pass.initial.has(r) && !result.stoppedEarly) {
          r.reject(new SlimError('integrity', `${what}: /${r.node.path} was not found again in its layer; clear the cache and retry`))
        } else {
          const q = this.queued.get(layer)
          if (q) q.push(r)
          else this.queued.set(layer, [r])
        }
      }
    }
    pass.wanted.clear()
  }

  /** Where the body of the entry at `ordinal` goes: the requests waiting for it, and Pass.current. */
  private entry(layer: number, pass: Pass, size: number, ordinal: number, what: string): BodySink | null {
    pass.at = ordinal
    const first = pass.wanted.get(ordinal) ?? []
    if (first.length === 0 && size > KEEP_CURRENT) {
      pass.current = undefined
      return null
    }
    const current: { ordinal: number; data?: Buffer } = { ordinal }
    pass.current = current
    // Spills stream to their files; bytes are gathered in memory only when someone wants them.
    const sinks = new Set(first.filter((r) => r.to))
    const collect = size <= KEEP_CURRENT || first.some((r) => !r.to)
    const hash: Hash | null = sinks.size > 0 && first[0]!.node.hash !== null ? createHash('sha256') : null
    const failed = new Map<Request, unknown>()
    const chunks: Buffer[] = []
    let got = 0
    return {
      data: (c) => {
        got += c.length
        if (collect) chunks.push(c)
        hash?.update(c)
        for (const r of sinks) {
          if (failed.has(r)) continue
          try {
            r.to!.charge(c.length)
            writeSync(r.to!.fd, c)
          } catch (e) {
            failed.set(r, e)
          }
        }
      },
      end: () => {
        const data = collect ? Buffer.concat(chunks, got) : undefined
        current.data = data
        const reqs = pass.wanted.get(ordinal)
        if (!reqs) return
        pass.wanted.delete(ordinal)
        for (const [r, e] of failed) r.reject(e)
        const streamed = reqs.filter((r) => sinks.has(r) && !failed.has(r))
        if (streamed.length) this.settle(streamed, undefined, got, hash ? hash.digest('binary') : null, what)
        const buffered = reqs.filter((r) => !r.to)
        if (buffered.length && data) this.deliver(buffered, data, what)
        // A request that joined after the entry began and whose bytes were not gathered: next pass.
        const late = reqs.filter((r) => (r.to ? !sinks.has(r) : !data))
        if (late.length) this.queued.set(layer, [...(this.queued.get(layer) ?? []), ...late])
      },
    }
  }
}

function add(map: Map<number, Request[]>, ordinal: number, req: Request): void {
  const list = map.get(ordinal)
  if (list) list.push(req)
  else map.set(ordinal, [req])
}
