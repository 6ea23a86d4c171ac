/**
 * The waste figures of the layer report.
 *
 * dive's, with dive's exact definitions so numbers compare (dive/filetree/efficiency.go and
 * dive/image/analysis.go; rules in dive.ts): efficiency, wasted bytes, user-wasted percent.
 *
 * slim's own, which say more plainly where bytes go:
 *  - dead bytes: file bytes stored in some layer that the final image never shows (a later layer,
 *    or the same one, deleted or replaced them). Unlike dive's "wasted", the surviving copy is not
 *    counted, and a chmod that rewrites a file counts once, not twice;
 *  - duplicate files: the same content at several paths of the final image (hard links excluded:
 *    they share one copy);
 *  - the largest files and directories of the final image (directory = recursive sum, each file's
 *    bytes counted once however many hard links reach it).
 */
import type { DivePath } from './dive.js'
import type { LayerIndex } from './layer-index.js'
import { Flag, Kind, NO_NODE, type Node } from './tree.js'

export interface DiveMetrics {
  /** sum of smallest copies / sum of all copies, over every path dive visits (1 when nothing). */
  efficiency: number
  /** Bytes of every copy (the surviving one included) of paths found in 2 or more layers. */
  wastedBytes: number
  /** wastedBytes / userSizeBytes: a ratio, may exceed 1; 0 when the image has a single layer. */
  userWastedPercent: number
  /** Sum of the layer sizes (tar header sizes). */
  sizeBytes: number
  /** The same, without layer 0 (dive counts only the first layer as "base"). */
  userSizeBytes: number
  /** Paths found in 2 or more layers, largest first (at most `top`). */
  inefficientFiles: DivePath[]
  inefficientCount: number
}

export interface DuplicateGroup {
  size: number
  /** sha256 of the content, hex. */
  sha256: string
  /** One path per distinct copy, sorted. */
  paths: string[]
  /** Bytes the extra copies take: (copies - 1) * size. */
  wastedBytes: number
}

export interface LayerMetrics {
  dive: DiveMetrics
  deadBytes: { total: number; byLayer: number[] }
  /** `checked` is false when the index was built without hashing (hashContent: false): nothing is known. */
  duplicates: { checked: boolean; wastedBytes: number; groupCount: number; groups: DuplicateGroup[] }
  largestFiles: Array<{ path: string; size: number; layer: number }>
  largestDirs: Array<{ path: string; size: number; files: number }>
  /** The final image: entries by type and the bytes of its files (each counted once). */
  totals: { files: number; dirs: number; symlinks: number; hardlinks: number; other: number; bytes: number }
}

export function computeMetrics(index: LayerIndex, opts: { top?: number } = {}): LayerMetrics {
  const top = opts.top ?? 20
  const dive = diveMetrics(index, top)

  const totals = { files: 0, dirs: 0, symlinks: 0, hardlinks: 0, other: 0, bytes: 0 }
  // A content seen once (most files) is its first path's node; a group is only made for a second copy.
  const byContent = new Map<string, Node | ContentGroup>()
  const files = new TopFiles(top)
  const dirSize = new Map<Node, { size: number; files: number }>()
  const counted = new Set<Node>() // contents reached through hard links, counted once

  const t = index.tree
  for (const [node, path] of index.walk()) {
    switch (t.kind(node)) {
      case Kind.Dir:
        totals.dirs++
        continue
      case Kind.Symlink:
        totals.symlinks++
        continue
      case Kind.File:
        totals.files++
        break
      case Kind.Hardlink:
        totals.hardlinks++
        break
      default:
        totals.other++
        continue
    }
    const content = t.content(node)
    if (t.kind(content) !== Kind.File) continue
    // A file and its hard links are one copy: the first path met stands for it.
    if (t.flags(content) & Flag.Linked) {
      if (counted.has(content)) continue
      counted.add(content)
    }
    const size = t.size(content)
    totals.bytes += size
    files.offer(path, size, t.layer(content))
    for (let d = t.parent(node); d !== NO_NODE; d = t.parent(d)) {
      const s = dirSize.get(d)
      if (s) {
        s.size += size
        s.files++
      } else dirSize.set(d, { size, files: 1 })
    }
    const hash = t.hash(content)
    if (hash !== null) {
      const key = `${size}:${hash}`
      let g = byContent.get(key)
      if (g === undefined) {
        byContent.set(key, node)
        continue
      }
      if (!(g instanceof ContentGroup)) {
        const first = t.content(g)
        if (first === content) continue
        g = new ContentGroup(t.size(first), first, `/${t.path(g)}`)
        byContent.set(key, g)
      }
      if (!g.nodes.has(content)) {
        g.nodes.add(content)
        g.paths.push(`/${path}`)
      }
    }
  }

  const groups: DuplicateGroup[] = []
  let dupWasted = 0
  for (const [key, g] of byContent) {
    if (!(g instanceof ContentGroup) || g.nodes.size < 2) continue
    const wasted = (g.nodes.size - 1) * g.size
    dupWasted += wasted
    const hash = key.slice(key.indexOf(':') + 1)
    groups.push({ size: g.size, sha256: Buffer.from(hash, 'latin1').toString('hex'), paths: g.paths.sort(), wastedBytes: wasted })
  }
  groups.sort((a, b) => b.wastedBytes - a.wastedBytes || (a.paths[0] < b.paths[0] ? -1 : 1))

  const dirs = [...dirSize]
    .filter(([d]) => t.parent(d) !== NO_NODE) // the root's total is totals.bytes
    .map(([d, s]) => ({ path: `/${t.path(d)}`, size: s.size, files: s.files }))
    .sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1))

  const byLayer = index.layers.map((l) => l.deadBytes)
  return {
    dive,
    deadBytes: { total: byLayer.reduce((a, b) => a + b, 0), byLayer },
    duplicates: { checked: index.hashed, wastedBytes: dupWasted, groupCount: groups.length, groups: groups.slice(0, top) },
    largestFiles: files.list(),
    largestDirs: dirs.slice(0, top),
    totals,
  }
}

class ContentGroup {
  readonly nodes: Set<Node>
  readonly paths: string[]

  constructor(
    readonly size: number,
    first: Node,
    firstPath: string,
  ) {
    this.nodes = new Set([first])
    this.paths = [firstPath]
  }
}

/**
 * The `top` largest files, largest first, ties by path: kept as they come instead of sorting a
 * list of every file (an object and a path string per file, for 20 of them).
 */
class TopFiles {
  private readonly best: Array<{ path: string; size: number; layer: number }> = []

  constructor(private readonly top: number) {}

  /** `path` without its leading slash, as index.walk() gives it. */
  offer(path: string, size: number, layer: number): void {
    const best = this.best
    if (this.top <= 0) return
    if (best.length >= this.top) {
      const last = best[best.length - 1]!
      if (size < last.size || (size === last.size && `/${path}` >= last.path)) return
    }
    const item = { path: `/${path}`, size, layer }
    let i = best.length
    while (i > 0 && before(item, best[i - 1]!)) i--
    best.splice(i, 0, item)
    if (best.length > this.top) best.pop()
  }

  list(): Array<{ path: string; size: number; layer: number }> {
    return this.best
  }
}

function before(a: { path: string; size: number }, b: { path: string; size: number }): boolean {
  return a.size > b.size || (a.size === b.size && a.path < b.path)
}

export function diveMetrics(index: LayerIndex, top = 20): DiveMetrics {
  const { sumMin, sumCumulative, inefficient } = index.dive
  const sizeBytes = index.layers.reduce((s, l) => s + l.size, 0)
  const userSizeBytes = index.layers.reduce((s, l) => s + (l.index >= 1 ? l.size : 0), 0)
  const wastedBytes = inefficient.reduce((s, p) => s + p.cumulativeSize, 0)
  return {
    efficiency: sumCumulative === 0 ? 1 : sumMin / sumCumulative,
    wastedBytes,
    // dive divides by zero here (NaN/Inf); a single-layer image has no user layers: report 0.
    userWastedPercent: userSizeBytes > 0 ? wastedBytes / userSizeBytes : 0,
    sizeBytes,
    userSizeBytes,
    inefficientFiles: inefficient.slice(0, top),
    inefficientCount: inefficient.length,
  }
}
