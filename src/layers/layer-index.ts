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
import { LayerFileReader } from './read-file.js'
import { resolvePath, resolvePathOrWhy } from './resolve.js'
import type { FileInfo, OpenedFile, RootFs } from './rootfs.js'
import { Flag, KIND_NAMES, Kind, type Node } from './tree.js'
import { DEFAULT_MAX_READ_BYTES, type FileHead, type LayerSummary } from './types.js'

export interface LayerIndexParts {
  image: Image
  root: Node
  layers: LayerSummary[]
  warnings: string[]
  dive: DiveSummary
  captured: WeakMap<Node, Buffer>
  heads: WeakMap<Node, FileHead>
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
  /** The root of the merged tree, for the layer stage's own metrics and facts. */
  readonly root: Node
  private readonly captured: WeakMap<Node, Buffer>
  private readonly heads: WeakMap<Node, FileHead>
  private readonly indexPasses: number[]
  private readonly reader: LayerFileReader
  private readonly maxTempBytes: number

  constructor(parts: LayerIndexParts) {
    this.image = parts.image
    this.root = parts.root
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

  /** What the index pass saw at the start of a regular file (ELF summary, script line), following links. */
  head(path: string): FileHead | undefined {
    const r = resolvePath(this.root, path, true)
    return r ? this.heads.get(r.node.content) : undefined
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
    const r = resolvePath(this.root, path, false)
    return r && this.info(r.node, r.path)
  }

  /**
   * Like stat(2): the entry the path leads to; `path` in the result is the path asked for
   * (normalised). A hard link is the file it links to (one inode: its type, size and mode), as
   * the kernel sees it; `hardlinkTo` still names that file. lstat() and entries() keep the tar's view.
   */
  stat(path: string): FileInfo | undefined {
    const r = resolvePath(this.root, path, true)
    if (!r) return undefined
    const content = r.node.content
    if (r.node.kind === Kind.Hardlink && content !== r.node && content.kind === Kind.File) {
      return { ...this.info(content, content.path()), path: normalise(path), hardlinkTo: `/${content.path()}` }
    }
    return { ...this.info(r.node, r.path), path: normalise(path) }
  }

  realpath(path: string): { path: string; chain: string[] } | undefined {
    const r = resolvePath(this.root, path, true)
    return r && { path: `/${r.path}`, chain: r.chain }
  }

  whyMissing(path: string): 'loop' | 'missing' {
    const r = resolvePathOrWhy(this.root, path, true)
    return 'failure' in r && r.failure === 'loop' ? 'loop' : 'missing'
  }

  readdir(path: string): string[] {
    const r = resolvePath(this.root, path, true)
    if (!r?.node.children) return []
    return [...r.node.children.keys()].sort()
  }

  /** The whole content of a regular file; `maxBytes` (default 1 GiB) bounds what is held in memory. */
  async readFile(path: string, opts: { maxBytes?: number } = {}): Promise<Buffer> {
    const node = this.fileNode(path)
    const max = opts.maxBytes ?? DEFAULT_MAX_READ_BYTES
    if (node.size > max) {
      throw new SlimError('limit', `${path} is ${humanBytes(node.size)}, more than the ${humanBytes(max)} slim reads into memory`)
    }
    if (node.size === 0) return Buffer.alloc(0)
    const kept = this.captured.get(node)
    if (kept) return Buffer.from(kept)
    return this.reader.read(node)
  }

  /**
   * A regular file for reading by ranges: copied from its layer into a private temp file (counted
   * against the temp budget, removed by close() or when slim exits), so memory stays small
   * whatever the file's size.
   */
  async openFile(path: string): Promise<OpenedFile> {
    const node = this.fileNode(path)
    const kept = this.captured.get(node)
    if (kept || node.size === 0) return { ...bufferSource(kept ?? Buffer.alloc(0)), close: async () => {} }
    const dir = mkdtempSync(join(tmpdir(), 'slim-file-'))
    const handle = trackTemp(dir, { dir: true })
    const file = join(dir, 'content')
    try {
      const fd = openSync(file, 'wx', 0o600)
      try {
        await this.reader.spill(node, { fd, charge: (n) => handle.charge(n, this.maxTempBytes, `reading ${path} by ranges`) })
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

  /** The regular file `path` leads to, or a one-line error saying why it is not one. */
  private fileNode(path: string): Node {
    const r = resolvePath(this.root, path, true)
    if (!r) {
      if (this.whyMissing(path) === 'loop') throw new SlimError('not-found', `${path}: a symlink loop in the image (more than 40 links followed)`)
      throw new SlimError('not-found', `${path}: no such file in the image`)
    }
    const node = r.node.content
    if (node.kind !== Kind.File) {
      const what = r.node.kind === Kind.Hardlink ? 'a hard link whose target is missing' : `a ${KIND_NAMES[node.kind]}`
      throw new SlimError('not-found', `${path} is ${what}, not a regular file`)
    }
    if (node.flags & Flag.Sparse) {
      throw new SlimError('unsupported', `${path} is stored as a sparse file, which slim does not read`)
    }
    return node
  }

  *entries(): Iterable<FileInfo> {
    for (const [node, path] of this.walk()) yield this.info(node, path)
  }

  /** Every node of the final tree with its index path, parents first, names sorted. */
  *walk(): Generator<[Node, string]> {
    const stack: Array<[Node, string]> = []
    const push = (dir: Node, path: string): void => {
      const names = [...dir.children!.keys()].sort().reverse()
      for (const n of names) stack.push([dir.children!.get(n)!, path === '' ? n : `${path}/${n}`])
    }
    push(this.root, '')
    while (stack.length > 0) {
      const item = stack.pop()!
      yield item
      if (item[0].children && item[0].children.size > 0) push(item[0], item[1])
    }
  }

  /** The RootFs view of one node. */
  info(node: Node, path: string): FileInfo {
    const fi: FileInfo = {
      path: `/${path}`,
      type: KIND_NAMES[node.kind],
      mode: node.mode,
      uid: node.uid,
      gid: node.gid,
      size: 0,
      layer: node.layer,
    }
    if (node.kind === Kind.File) fi.size = node.size
    else if (node.kind === Kind.Symlink) {
      fi.linkTarget = typeof node.link === 'string' ? node.link : ''
    } else if (node.kind === Kind.Hardlink) {
      const target = node.content
      if (target !== node) {
        fi.size = target.size
        fi.hardlinkTo = `/${target.path()}`
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
