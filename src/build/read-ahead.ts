import type { LayerEntry } from './entries.js'

/** Bytes of file contents read ahead at once (one pass per source layer for each such batch). */
export const READ_AHEAD_BYTES = 256 * 1024 * 1024

/**
 * The layer writer asks for one file's content at a time, in entry order. Asked one by one, the
 * source would stream its layer once per file (600 files of a Python tree took minutes); so the
 * first request reads the files that follow it too, up to `budget` bytes, in one readFiles call,
 * whose reads share a pass per layer. Memory stays within the budget (or one file, if bigger).
 */
export function readAhead(
  entries: readonly LayerEntry[],
  readFiles: (paths: string[]) => Promise<Map<string, Buffer | Error>>,
  budget = READ_AHEAD_BYTES,
): (e: LayerEntry) => Promise<Buffer> {
  const wanted = entries.filter((e) => e.type === 'file' && !e.data && e.source)
  const position = new Map(wanted.map((e, i) => [e, i]))
  const ready = new Map<LayerEntry, Buffer | Error>()
  return async (e) => {
    let got = ready.get(e)
    if (!got) {
      const start = position.get(e)
      if (start === undefined) throw new Error(`${e.path} is not a file the layer plan reads`)
      const batch: LayerEntry[] = []
      let bytes = 0
      for (let i = start; i < wanted.length && (batch.length === 0 || bytes + wanted[i].size <= budget); i++) {
        if (ready.has(wanted[i])) continue
        batch.push(wanted[i])
        bytes += wanted[i].size
      }
      const read = await readFiles([...new Set(batch.map((b) => b.source!))])
      for (const b of batch) ready.set(b, read.get(b.source!) ?? new Error(`${b.source} was not read`))
      got = ready.get(e)!
    }
    ready.delete(e)
    if (got instanceof Error) throw got
    return got
  }
}
