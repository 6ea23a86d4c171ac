/**
 * buildIndex: reads every layer once, as a stream, and merges them into one index. Layers are
 * parsed concurrently (bounded: at most `concurrency` layers are read or waiting to be merged, so
 * memory stays bounded too) and merged strictly in layer order. A layer whose parse is in the
 * layer index cache (index-cache.ts) is not read at all.
 */
import { availableParallelism } from 'node:os'
import type { Image } from '../image/types.js'
import { SlimError } from '../core/errors.js'
import { DiveTally } from './dive.js'
import { isFactsFile } from './facts-files.js'
import { historyByLayer } from './history.js'
import { LayerIndexCache, type CacheKey } from './index-cache.js'
import { LayerIndex, describeLayer } from './layer-index.js'
import { DEFAULT_MAX_SLOTS, ReadSchedule } from './read-schedule.js'
import { mergeLayer } from './merge.js'
import { parseLayer, spendBudget, type ExpansionBudget, type ParsedLayer } from './parse-layer.js'
import { Flag, Kind, NO_NODE, Tree, type Node } from './tree.js'
import { DEFAULT_MAX_EXPANDED_BYTES, type BuildIndexOptions, type FileHead, type LayerSummary } from './types.js'

/** Largest file kept in memory from the first pass for facts or the caller's capture list. */
const CAPTURE_MAX = 64 * 1024 * 1024
/** Kept bytes per layer, and for the whole image (applied in merge order, so the same every run):
 * files past them are read when needed, so a hostile image cannot make the index hold gigabytes. */
const KEPT_LAYER_MAX = 128 * 1024 * 1024
const KEPT_IMAGE_MAX = 256 * 1024 * 1024
/** Largest ELF file buffered during the pass for its summary (bigger ones go through a temp copy). */
const ELF_SUMMARY_MAX = 8 * 1024 * 1024
/** Progress is reported at most every this many bytes per layer. */
const PROGRESS_STEP = 1024 * 1024

export async function buildIndex(image: Image, opts: BuildIndexOptions = {}): Promise<LayerIndex> {
  const max = opts.maxExpandedBytes ?? DEFAULT_MAX_EXPANDED_BYTES
  if (!(max > 0)) throw new SlimError('usage', `the expansion limit must be a positive number of bytes (got ${max})`)
  const concurrency = Math.max(1, Math.min(16, Math.floor(opts.concurrency ?? Math.min(DEFAULT_MAX_SLOTS, availableParallelism()))))
  const budget: ExpansionBudget = { used: 0, max }
  const extra = opts.capture
  const capture = (path: string, size: number): boolean => isFactsFile(path) || (extra?.(path, size) ?? false)
  const keptLayerMax = opts.maxKeptBytes?.layer ?? KEPT_LAYER_MAX
  const keptImageMax = opts.maxKeptBytes?.image ?? KEPT_IMAGE_MAX

  // One controller stops every layer still being read as soon as one fails or the caller aborts.
  const controller = new AbortController()
  const onAbort = (): void => controller.abort(opts.signal?.reason)
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  opts.signal?.throwIfAborted()

  const n = image.layers.length
  const hash = opts.hashContent !== false
  // One tree for the image: each layer's parse makes its nodes here, the merge attaches them.
  const tree = new Tree()
  const cache = opts.indexCacheDir ? new LayerIndexCache(opts.indexCacheDir) : undefined
  const keyOf = (i: number): CacheKey | undefined => {
    const digest = image.layers[i].verifiedDigest
    return cache && digest ? { digest, summaryVersion: opts.summarizeElf ? (opts.summaryVersion ?? '0') : 'none', needHashes: hash } : undefined
  }
  /** Layer passes per layer: 1 when the layer was read, 0 when its index came from the cache. */
  const passes = new Array<number>(n).fill(0)
  const parsing: Array<Promise<ParsedLayer> | undefined> = new Array(n)
  const readLayer = async (i: number, key: CacheKey | undefined): Promise<ParsedLayer> => {
    const what = describeLayer(image, i)
    let reported = 0
    passes[i]++
    const stream = await image.layers[i].uncompressed()
    const parsed = await parseLayer(stream, {
      index: i,
      tree,
      what,
      budget,
      capture,
      captureMax: CAPTURE_MAX,
      captureTotal: keptLayerMax,
      hash,
      summarizeElf: opts.summarizeElf,
      elfMax: ELF_SUMMARY_MAX,
      maxTempBytes: max,
      signal: controller.signal,
      onBytes: (total) => {
        if (opts.onProgress && total - reported >= PROGRESS_STEP) {
          reported = total
          opts.onProgress(i, total, undefined)
        }
      },
    })
    // The read ended without an error, so its bytes had the verified digest: safe to keep under it.
    if (key) await cache!.write(key, parsed)
    return parsed
  }
  const startLayer = (i: number): Promise<ParsedLayer> => {
    const key = keyOf(i)
    const p = (async () => {
      const cached = key && (await cache!.read(key, i, tree))
      if (cached) {
        spendBudget(budget, cached.tarBytes, describeLayer(image, i)) // a cached layer counts as reading it would
        return cached
      }
      return readLayer(i, key)
    })()
    p.catch((e: unknown) => controller.abort(e))
    parsing[i] = p
    return p
  }
  const schedule = new ReadSchedule(
    concurrency,
    image.layers.map((_, i) => {
      const key = keyOf(i)
      return key !== undefined && cache!.has(key)
    }),
    startLayer,
    () => controller.signal.aborted,
  )

  const dive = new DiveTally()
  const captured = new Map<Node, Buffer>()
  let keptBytes = 0
  const heads = new Map<Node, FileHead>()
  const summaries: LayerSummary[] = []
  const history = historyByLayer(image.config.history, n)
  try {
    for (let i = 0; i < n; i++) {
      schedule.mergingAt(i)
      const parsed = await parsing[i]!
      parsing[i] = undefined
      opts.onProgress?.(i, parsed.tarBytes, parsed.tarBytes)
      const changes = mergeLayer(tree, parsed, dive, i === n - 1)
      for (const [node, buf] of parsed.captured) {
        if (keptBytes + buf.length > keptImageMax) continue
        keptBytes += buf.length
        captured.set(node, buf)
      }
      for (const [node, head] of parsed.heads) heads.set(node, head)
      // The tree now holds the nodes; the change list is not needed again, and a local of this
      // async function may keep `parsed` reachable until it returns.
      parsed.entries.clear()
      parsed.parents.clear()
      parsed.captured.clear()
      parsed.heads.clear()
      const layer = image.layers[i]
      summaries.push({
        index: i,
        digest: layer.digest,
        diffId: layer.diffId,
        mediaType: layer.mediaType,
        compressedSize: layer.size,
        tarBytes: parsed.tarBytes,
        size: parsed.size,
        entries: parsed.entryCount,
        ...history.layers[i],
        ...changes,
        fileBytes: parsed.fileBytes,
        deadBytes: 0,
        warnings: parsed.warnings.lines(),
      })
    }
  } catch (e) {
    controller.abort(e)
    // Let every reader stop before reporting, so no stream is left half-read behind our back.
    await Promise.allSettled(parsing.filter(Boolean))
    throw e
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
  }

  countDeadBytes(tree, summaries)
  // Kept contents and heads of files a later layer replaced or deleted (and no hard link keeps)
  // are unreachable: let them go, as the weak maps keyed by node objects once did.
  for (const map of [captured, heads]) for (const node of map.keys()) if (!(tree.flags(node) & Flag.Alive)) map.delete(node)
  const summary = dive.summary()
  dive.clear()
  const warnings = history.warning ? [history.warning] : []
  return new LayerIndex({ image, tree, layers: summaries, warnings, dive: summary, captured, heads, hashed: hash, indexPasses: passes, maxTempBytes: max })
}

/**
 * Dead bytes: file bytes a layer stores that the final image does not show, because a later (or
 * the same) layer deleted or replaced them. A file removed by path but still reachable through a
 * surviving hard link is alive.
 */
function countDeadBytes(tree: Tree, layers: LayerSummary[]): void {
  const alive = new Array<number>(layers.length).fill(0)
  const linked: Node[] = []
  const count = (file: Node): void => {
    tree.setFlags(file, tree.flags(file) | Flag.Alive)
    const layer = tree.layer(file)
    if (layer >= 0) alive[layer] += tree.size(file)
  }
  for (const node of tree.subtree(tree.root)) {
    const kind = tree.kind(node)
    if (kind === Kind.File) count(node)
    else if (kind === Kind.Hardlink && tree.hardlinkTarget(node) !== NO_NODE) linked.push(tree.hardlinkTarget(node))
  }
  // Hard link targets that are not themselves in the final tree (deleted by path) keep their bytes alive.
  for (const file of linked) if (!(tree.flags(file) & Flag.Alive)) count(file)
  for (const l of layers) l.deadBytes = Math.max(0, l.fileBytes - alive[l.index])
}
