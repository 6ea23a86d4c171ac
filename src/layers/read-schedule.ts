/**
 * When each layer of an image starts: the order buildIndex follows so that neither the cores nor
 * the memory are wasted.
 *
 * - A layer whose index is in the layer index cache costs a decode on this thread and no waiting:
 *   it starts in merge order, at most one ahead of the merge (decoded early it would only sit in
 *   memory).
 * - A layer that must be read waits on the network or the disk and is inflated on libuv's threads:
 *   reads start as early as `concurrency` slots allow, in layer order, and a slot is refilled as
 *   soon as its layer is parsed, not when every layer before it is merged (layers differ in size,
 *   6 to 70 MB in one image, and waiting on the biggest left a core idle). An image that shares
 *   its base with one analysed before starts reading its own top layer at once instead of after
 *   decoding every cached layer below it.
 * - Parsed layers wait for their merge at most LOOKAHEAD_PER_SLOT * concurrency reads ahead, which
 *   bounds the memory they hold.
 *
 * A layer predicted cached whose entry turns out stale is read in its decode's turn, without a slot.
 */
const LOOKAHEAD_PER_SLOT = 2

/** Layers read at once when the caller does not say: one per core, at most this many. */
export const DEFAULT_MAX_SLOTS = 4

export class ReadSchedule {
  private readonly started: boolean[]
  private reading = 0
  private merging = 0

  constructor(
    private readonly concurrency: number,
    /** Per layer: whether its index is expected from the cache. */
    private readonly cached: boolean[],
    /** Starts layer i; the schedule goes on when the promise settles. */
    private readonly start: (i: number) => Promise<unknown>,
    /** True once the whole index failed or was cancelled: nothing more starts. */
    private readonly stopped: () => boolean,
  ) {
    this.started = cached.map(() => false)
  }

  /** The merge is waiting for layer i (layers before it are merged). */
  mergingAt(i: number): void {
    this.merging = i
    this.fill()
  }

  private fill(): void {
    if (this.stopped()) return
    const n = this.cached.length
    for (let i = this.merging; i < Math.min(n, this.merging + 2); i++) if (this.cached[i] && !this.started[i]) this.launch(i, false)
    let ahead = 0
    for (let i = this.merging; i < n && this.reading < this.concurrency; i++) {
      if (this.cached[i]) continue
      if (ahead >= LOOKAHEAD_PER_SLOT * this.concurrency) break
      ahead++
      if (!this.started[i]) this.launch(i, true)
    }
  }

  private launch(i: number, read: boolean): void {
    this.started[i] = true
    if (read) this.reading++
    const settled = (): void => {
      if (read) this.reading--
      this.fill()
    }
    this.start(i).then(settled, settled)
  }
}
