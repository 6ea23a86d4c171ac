/**
 * dive's efficiency bookkeeping (wagoodman/dive, dive/filetree/efficiency.go), fed while layers are
 * merged so no per-layer tree has to be kept. The rules, from shared/reference/anchors.md section 1:
 *  - in every layer, only the LEAVES of that layer's own tree are visited (files, links, empty
 *    directories, whiteouts), keyed by path with the whiteout prefix removed;
 *  - a regular leaf contributes its tar header size; a whiteout contributes the total size of
 *    everything under that path in the stack of the layers below when it was a directory there,
 *    0 when it was a file;
 *  - per path: cum = sum of contributions, min = smallest contribution; a path seen in 2 or more
 *    layers is inefficient; efficiency = sum(min) / sum(cum) (1 when 0); wasted = sum(cum) over
 *    inefficient paths (the surviving copy included).
 * dive never applies opaque directories (`.wh..wh..opq`) to its stacked tree, so the children they
 * hide stay visible to later whiteouts there: `ghosts` keeps their sizes so those numbers match too.
 */

export interface DivePath {
  /** Absolute path as dive prints it ("/root/saved.txt"). */
  path: string
  /** Layers in which the path was a leaf. */
  count: number
  cumulativeSize: number
  minSize: number
}

export interface DiveSummary {
  sumMin: number
  sumCumulative: number
  /** Paths seen in 2 or more layers, largest cumulative size first. */
  inefficient: DivePath[]
}

interface Stat {
  n: number
  cum: number
  min: number
}

export class DiveTally {
  /**
   * Per path: its size while seen in one layer only (most paths, so no object for them: on a
   * layer of a million files this map is most of what the index holds), a Stat once seen again.
   */
  private readonly paths = new Map<string, number | Stat>()
  /** Sizes (> 0) of files an opaque directory hid from slim's tree but not from dive's. */
  readonly ghosts = new GhostTree()
  /** Top-layer paths no other visit shares, counted at once instead of kept in `paths`. */
  private sumOnce = 0

  /** One leaf of one layer. `key` is the index path (no leading slash). */
  visit(key: string, size: number): void {
    const s = this.paths.get(key)
    if (s === undefined) {
      this.paths.set(key, size)
      return
    }
    if (typeof s === 'number') {
      this.paths.set(key, { n: 2, cum: s + size, min: Math.min(s, size) })
      return
    }
    s.n++
    s.cum += size
    if (size < s.min) s.min = size
  }

  /**
   * One leaf of the top layer: no later layer will visit it, so a path no lower layer visited
   * needs no entry in `paths` (on a single layer of a million files, that map would be as large
   * as the tree). `mayRepeat`: this layer visits the same key again (a whiteout and an entry of
   * one name), so it must be kept after all. Sizes are whole numbers: the sums are exact in any order.
   */
  visitTop(key: string, size: number, mayRepeat: boolean): void {
    if (mayRepeat || this.paths.has(key)) this.visit(key, size)
    else this.sumOnce += size
  }

  summary(): DiveSummary {
    let sumMin = this.sumOnce
    let sumCumulative = this.sumOnce
    const inefficient: DivePath[] = []
    for (const [key, s] of this.paths) {
      if (typeof s === 'number') {
        sumMin += s
        sumCumulative += s
        continue
      }
      sumMin += s.min
      sumCumulative += s.cum
      if (s.n >= 2) inefficient.push({ path: `/${key}`, count: s.n, cumulativeSize: s.cum, minSize: s.min })
    }
    inefficient.sort((a, b) => b.cumulativeSize - a.cumulativeSize || (a.path < b.path ? -1 : 1))
    return { sumMin, sumCumulative, inefficient }
  }

  /** Drops the per-path map once the summary is taken (it is as large as the file list). */
  clear(): void {
    this.paths.clear()
    this.ghosts.clear()
    this.sumOnce = 0
  }
}

interface Ghost {
  size: number
  present: boolean
  children?: Map<string, Ghost>
}

/**
 * The ghosts as a small tree, so "everything at or below this path" costs the size of that subtree,
 * not a scan of every ghost (an opaque directory can hide thousands of files).
 */
export class GhostTree {
  private root: Ghost = { size: 0, present: false }
  private count = 0

  get size(): number {
    return this.count
  }

  set(path: string, size: number): void {
    let g = this.root
    for (const name of path.split('/')) {
      g.children ??= new Map()
      let next = g.children.get(name)
      if (!next) {
        next = { size: 0, present: false }
        g.children.set(name, next)
      }
      g = next
    }
    if (!g.present) this.count++
    g.present = true
    g.size = size
  }

  /** dive overwrote the entry at exactly this path (what is below it stays). */
  delete(path: string): void {
    if (this.count === 0) return
    const g = this.find(path)
    if (g?.present) {
      g.present = false
      g.size = 0
      this.count--
    }
  }

  /** Sizes below `path` (not the path itself), whether the path itself is a ghost, and whether anything is below. */
  under(path: string, forget: boolean): { total: number; exact: boolean; below: boolean } {
    const none = { total: 0, exact: false, below: false }
    if (this.count === 0) return none
    const parts = path.split('/')
    let parent: Ghost | undefined
    let g: Ghost | undefined = this.root
    for (const name of parts) {
      parent = g
      g = g.children?.get(name)
      if (!g) return none
    }
    let total = 0
    let below = false
    let n = 0
    const stack: Ghost[] = [...(g.children?.values() ?? [])]
    while (stack.length > 0) {
      const x = stack.pop()!
      if (x.present) {
        below = true
        total += x.size
        n++
      }
      if (x.children) for (const c of x.children.values()) stack.push(c)
    }
    const exact = g.present
    if (forget) {
      parent!.children!.delete(parts[parts.length - 1])
      this.count -= n + (exact ? 1 : 0)
    }
    return { total, exact, below }
  }

  clear(): void {
    this.root = { size: 0, present: false }
    this.count = 0
  }

  private find(path: string): Ghost | undefined {
    let g: Ghost | undefined = this.root
    for (const name of path.split('/')) {
      g = g.children?.get(name)
      if (!g) return undefined
    }
    return g
  }
}
