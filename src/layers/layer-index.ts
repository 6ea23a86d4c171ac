/**
 * The merged file index of an image: the RootFs that inspection works against, plus what the layer
 * report needs (per-layer summaries, dive's tally). Built by buildIndex (build-index.ts).
 */
import { closeSync, mkdtempSync, openSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import type { Image } from '../image/types.js'
import { bufferSource, FileSource } from '../core/byte-source.js'
import { SlimError } from '../core/errors.js'
import { humanBytes } from '../core/format.js'
import { DEFAULT_MAX_TEMP_BYTES, trackTemp } from '../core/temp.js'
import type { DiveSummary } from './dive.js'
import { LayerFileReader, type FileRef } from './read-file.js'
import { resolvePath, resolvePathOrWhy } from './resolve.js'
import type { FileInfo, OpenedFile, RootFs } from './rootfs.js'
import { Flag, KIND_NAMES, Kind, NO_NODE, type Node, type Tree } from './tree.js'
import { DEFAULT_MAX_READ_BYTES, type FileHead, type LayerSummary } from './types.js'

export interface LayerIndexParts {
  image: Image
  tree: Tree
  layers: LayerSummary[]
  warnings: string[]
  dive: DiveSummary
  captured: Map<Node, Buffer>
  heads: Map<Node, FileHead>
  hashed: boolean
  /** Passes the index itself made over each layer (0 for a layer whose index came from the cache). */
  indexPasses: number[]
  /** Bound on temp bytes (openFile's copies count against it); default DEFAULT_MAX_TEMP_BYTES. */
  maxTempBytes?: number
}

export class LayerIndex implements RootFs {
  readonly image: Image
  readonly layers: readonly LayerSummary[]
  /** Image-level warnings (history mismatch, ...); per-layer ones are in `layers[i].warnings`. */
  readonly warnings: readonly string[]
  /** dive's efficiency tally (see metrics.ts for the figures). */
  readonly dive: DiveSummary
  /** Whether file contents were hashed (BuildIndexOptions.hashContent): duplicates are known. */
  readonly hashed: boolean
  /** The merged tree (nodes are numbers into it), for the layer stage's own metrics and facts. */
  readonly tree: Tree
  /** The root of the merged tree. */
  readonly root: Node
  private readonly captured: Map<Node, Buffer>
  private readonly heads: Map<Node, FileHead>
  private readonly indexPasses: number[]
  private readonly reader: LayerFileReader
  private readonly maxTempBytes: number

  constructor(parts: LayerIndexParts) {
    this.image = parts.image
    this.tree = parts.tree
    this.root = parts.tree.root
    this.layers = parts.layers
    this.warnings = parts.warnings
    this.dive = parts.dive
    this.captured = parts.captured
    this.heads = parts.heads
    this.indexPasses = parts.indexPasses
    this.hashed = parts.hashed
    this.reader = new LayerFileReader(parts.image.layers, (i) => describeLayer(parts.image, i))
    this.maxTempBytes = parts.maxTempBytes ?? DEFAULT_MAX_TEMP_BYTES
  }

  /**
   * Passes over each layer's tar so far: the index pass (0 when the layer index cache had it) plus
   * the passes later reads made. The measure of "one pass, never re-read".
   */
  get layerPasses(): number[] {
    return this.indexPasses.map((n, i) => n + this.reader.passCount(i))
  }

  /** Late reads that failed (I/O, a layer that read back different): a result with such a gap is not worth keeping. */
  get lateReadFailures(): number {
    return this.reader.failures
  }

  /** What the index pass saw at the start of a regular file (ELF summary, script line), following links. */
  head(path: string): FileHead | undefined {
    const r = resolvePath(this.tree, path, true)
    return r ? this.heads.get(this.tree.content(r.node)) : undefined
  }

  /**
   * Many files at once: all their reads start in the same tick, so each layer they live in is read
   * at most once for the lot. A file that cannot be read maps to its error.
   */
  async readFiles(paths: readonly string[], opts: { maxBytes?: number } = {}): Promise<Map<string, Buffer | Error>> {
    const out = new Map<string, Buffer | Error>()
    await Promise.all(paths.map((p) => this.readFile(p, opts).then((b) => out.set(p, b), (e: unknown) => out.set(p, e instanceof Error ? e : new Error(String(e))))))
    return out
  }

  /** dive's image size: the sum of the layer sizes. */
  get sizeBytes(): number {
    return this.layers.reduce((s, l) => s + l.size, 0)
  }

  lstat(path: string): FileInfo | undefined {
    const r = resolvePath(this.tree, path, false)
    return r && this.info(r.node, r.path)
  }

  /**
   * Like stat(2): the entry the path leads to; `path` in the result is the path asked for
   * (normalised). A hard link is the file it links to (one inode: its type, size and mode), as
   * the kernel sees it; `hardlinkTo` still names that file. lstat() and entries() keep the tar's view.
   */
  stat(path: string): FileInfo | undefined {
    const t = this.tree
    const r = resolvePath(t, path, true)
    if (!r) return undefined
    const content = t.content(r.node)
    if (t.kind(r.node) === Kind.Hardlink && content !== r.node && t.kind(content) === Kind.File) {
      return { ...this.info(content, t.path(content)), path: normalise(path), hardlinkTo: `/${t.path(content)}` }
    }
    return { ...this.info(r.node, r.path), path: normalise(path) }
  }

  realpath(path: string): { path: string; chain: string[] } | undefined {
    const r = resolvePath(this.tree, path, true)
    return r && { path: `/${r.path}`, chain: r.chain }
  }

  whyMissing(path: string): 'loop' | 'missing' {
    const r = resolvePathOrWhy(this.tree, path, true)
    return 'failure' in r && r.failure === 'loop' ? 'loop' : 'missing'
  }

  readdir(path: string): string[] {
    const r = resolvePath(this.tree, path, true)
    if (!r || !this.tree.isDir(r.node)) return []
    return this.tree.children(r.node).map((c) => this.tree.name(c)).sort()
  }

  /** The whole content of a regular file; `maxBytes` (default 1 GiB) bounds what is held in memory. */
  async readFile(path: string, opts: { maxBytes?: number } = {}): Promise<Buffer> {
    const node = this.fileNode(path)
    const size = this.tree.size(node)
    const max = opts.maxBytes ?? DEFAULT_MAX_READ_BYTES
    if (size > max) {
      throw new SlimError('limit', `${path} is ${humanBytes(size)}, more than the ${humanBytes(max)} slim reads into memory`)
    }
    if (size === 0) return Buffer.alloc(0)
    const kept = this.captured.get(node)
    if (kept) return Buffer.from(kept)
    return this.reader.read(this.fileRef(node))
  }

  /**
   * A regular file for reading by ranges: copied from its layer into a private temp file (counted
   * against the temp budget, removed by close() or when slim exits), so memory stays small
   * whatever the file's size.
   */
  async openFile(path: string): Promise<OpenedFile> {
    const node = this.fileNode(path)
    const kept = this.captured.get(node)
    if (kept || this.tree.size(node) === 0) return { ...bufferSource(kept ?? Buffer.alloc(0)), close: async () => {} }
    const dir = mkdtempSync(join(tmpdir(), 'slim-file-'))
    const handle = trackTemp(dir, { dir: true })
    const file = join(dir, 'content')
    try {
      const fd = openSync(file, 'wx', 0o600)
      try {
        await this.reader.spill(this.fileRef(node), { fd, charge: (n) => handle.charge(n, this.maxTempBytes, `reading ${path} by ranges`) })
      } finally {
        closeSync(fd)
      }
      const source = new FileSource(file)
      return {
        size: source.size,
        read: (offset, len) => source.read(offset, len),
        close: async () => {
          source.close()
          await handle.remove()
        },
      }
    } catch (e) {
      await handle.remove()
      throw e
    }
  }

  private fileRef(node: Node): FileRef {
    const t = this.tree
    return { layer: t.layer(node), ordinal: t.ordinal(node), size: t.size(node), hash: t.hash(node), path: t.path(node) }
  }

  /** The regular file `path` leads to, or a one-line error saying why it is not one. */
  private fileNode(path: string): Node {
    const t = this.tree
    const r = resolvePath(t, path, true)
    if (!r) {
      if (this.whyMissing(path) === 'loop') throw new SlimError('not-found', `${path}: a symlink loop in the image (more than 40 links followed)`)
      throw new SlimError('not-found', `${path}: no such file in the image`)
    }
    const node = t.content(r.node)
    if (t.kind(node) !== Kind.File) {
      const what = t.kind(r.node) === Kind.Hardlink ? 'a hard link whose target is missing' : `a ${KIND_NAMES[t.kind(node)]}`
      throw new SlimError('not-found', `${path} is ${what}, not a regular file`)
    }
    if (t.flags(node) & Flag.Sparse) {
      throw new SlimError('unsupported', `${path} is stored as a sparse file, which slim does not read`)
    }
    return node
  }

  *entries(): Iterable<FileInfo> {
    for (const [node, path] of this.walk()) yield this.info(node, path)
  }

  /** Every node of the final tree with its index path, parents first, names sorted. */
  *walk(): Generator<[Node, string]> {
    const t = this.tree
    const stack: Array<[Node, string]> = []
    const push = (dir: Node, path: string): void => {
      const kids = t.sortedChildren(dir)
      for (let i = kids.length - 1; i >= 0; i--) {
        const n = t.name(kids[i]!)
        stack.push([kids[i]!, path === '' ? n : `${path}/${n}`])
      }
    }
    push(this.root, '')
    while (stack.length > 0) {
      const item = stack.pop()!
      yield item
      if (t.hasChildren(item[0])) push(item[0], item[1])
    }
  }

  /** The RootFs view of one node. */
  info(node: Node, path: string): FileInfo {
    const t = this.tree
    const kind = t.kind(node)
    const fi: FileInfo = {
      path: `/${path}`,
      type: KIND_NAMES[kind],
      mode: t.mode(node),
      uid: t.uid(node),
      gid: t.gid(node),
      size: 0,
      layer: t.layer(node),
    }
    if (kind === Kind.File) fi.size = t.size(node)
    else if (kind === Kind.Symlink) {
      fi.linkTarget = t.symlinkTarget(node)
    } else if (kind === Kind.Hardlink) {
      const target = t.hardlinkTarget(node)
      if (target !== NO_NODE) {
        fi.size = t.size(target)
        fi.hardlinkTo = `/${t.path(target)}`
      }
    }
    return fi
  }
}

/** "/a//b/../c/" → "/a/c", as the other RootFs implementations spell paths. */
function normalise(p: string): string {
  const n = posix.normalize(`/${p}`)
  return n.length > 1 ? n.replace(/\/+$/, '') : '/'
}

export function describeLayer(image: Image, i: number): string {
  const d = image.layers[i]?.digest ?? ''
  return `layer ${i} (${d.slice(0, 19)}${d.length > 19 ? '…' : ''})`
}
