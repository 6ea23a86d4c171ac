import { finished, type Readable } from 'node:stream'

/**
 * A byte stream's chunks one at a time, as they were pushed. `for await (const c of stream)` takes
 * everything buffered at each step and concatenates it into a new buffer: a registry blob read over
 * loopback arrives faster than it is consumed, and that copied 388 of a 1.2 GB image's 424 MB of
 * layer blobs once more (2,958 copies, all of them garbage at once). Here the stream is paused
 * after each chunk and resumed when the consumer asks for the next, so nothing is joined.
 *
 * Errors and early closes reject as with `for await`; returning early (break, throw in the loop)
 * destroys the stream, as `for await` does.
 */
export async function* chunksOf(stream: Readable): AsyncGenerator<Buffer> {
  const queue: Buffer[] = []
  let ended = false
  let failure: unknown
  let wake: (() => void) | null = null
  const signal = (): void => {
    const w = wake
    wake = null
    w?.()
  }
  const onData = (chunk: Buffer | string): void => {
    queue.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    stream.pause()
    signal()
  }
  const stopWatching = finished(stream, (err) => {
    if (err) failure = err
    ended = true
    signal()
  })
  stream.on('data', onData)
  try {
    for (;;) {
      const chunk = queue.shift()
      if (chunk) {
        if (queue.length === 0 && !ended) stream.resume()
        yield chunk
        continue
      }
      if (failure !== undefined) throw failure
      if (ended) return
      await new Promise<void>((resolve) => (wake = resolve))
    }
  } finally {
    stream.off('data', onData)
    stopWatching()
    if (!ended) stream.destroy()
  }
}
