/** Types of the layer stage: what buildIndex takes and what the index tells about each layer. */
import type { ByteSource } from '../core/byte-source.js'

/**
 * Default bound on the bytes all layers expand to (tar bytes after decompression, trailing bytes
 * included). 32 GiB is far above real images (the largest common ones are 10-20 GB) and far below
 * what a decompression bomb produces; the CLI raises it with --max-expanded-size.
 */
export const DEFAULT_MAX_EXPANDED_BYTES = 32 * 1024 ** 3

/** Largest file readFile hands back by default (it is held in memory whole). */
export const DEFAULT_MAX_READ_BYTES = 1024 ** 3

export interface BuildIndexOptions {
  /** Bound on the total expanded bytes of all layers; default DEFAULT_MAX_EXPANDED_BYTES. */
  maxExpandedBytes?: number
  /** Layers read at the same time (merged in order regardless); default min(DEFAULT_MAX_SLOTS (4), cores). */
  concurrency?: number
  /**
   * Progress while reading: bytes of tar (uncompressed) read so far for that layer. The total is
   * unknown until the layer ends (registries do not say how large a layer expands), so it is
   * undefined while reading and equal to bytesDone on the last call for the layer.
   */
  onProgress?: (layer: number, bytesDone: number, bytesTotal: number | undefined) => void
  signal?: AbortSignal
  /**
   * Hash every regular file (sha256, during the same pass) so metrics can find duplicate files.
   * Default true; costs about 0.7 s of CPU per GiB of file data on a CPU with SHA extensions.
   */
  hashContent?: boolean
  /**
   * Extra files whose content to keep from the first pass (path is absolute, e.g. "/etc/passwd"),
   * so reading them later does not re-read their layer. The facts files are always kept.
   */
  capture?: (path: string, size: number) => boolean
  /**
   * Bounds on the bytes `capture` keeps in memory, per layer and for the whole image (applied in
   * layer order); files past them are read from their layer when asked for. Defaults 128 and 256 MiB.
   */
  maxKeptBytes?: { layer?: number; image?: number }
  /**
   * Summarises an ELF file during the pass (inspection passes its ELF parser, which reads by
   * ranges). The result must be plain JSON data: it is kept in the layer index cache. Files up to
   * 64 MiB are summarised from memory; bigger ones from a temp copy written as they stream by
   * (counted against the temp budget, removed at once); a file the summariser throws on, or whose
   * copy would pass the budget, is only marked ELF.
   */
  summarizeElf?: (bytes: ByteSource) => unknown
  /** Changes when summarizeElf's output changes (part of the layer index cache key). */
  summaryVersion?: string
  /**
   * The layer index cache directory (one file per layer diffID); undefined: no cache. A layer
   * found there is not read at all.
   */
  indexCacheDir?: string
}

/** What the index pass recorded about the start of a regular file. */
export interface FileHead {
  /** 'elf': starts with \x7fELF; 'script': starts with "#!". */
  magic: 'elf' | 'script'
  /** A script's first line: its bytes (at most 512, no newline) as a latin1 string. */
  firstLine?: string
  /** BuildIndexOptions.summarizeElf's result for this file, when it was summarised. */
  summary?: unknown
}

export interface ChangeTally {
  /** Non-directory entries. */
  files: number
  bytes: number
}

export interface LayerSummary {
  index: number
  digest: string
  diffId?: string
  mediaType: string
  /** Stored (compressed) size; -1 when the source does not say. */
  compressedSize: number
  /** Bytes of the uncompressed tar stream, trailing bytes after the end marker included. */
  tarBytes: number
  /** dive's layer size: the sum of the tar header sizes of every entry. */
  size: number
  /** Entries in the tar (PAX and GNU long-name headers not counted). */
  entries: number
  /** The config history entry of this layer (empty_layer entries skipped); undefined when missing. */
  createdBy?: string
  comment?: string
  created?: string
  /** Paths that did not exist below (after this layer's own whiteouts). */
  added: ChangeTally
  /** Paths that existed below and that this layer replaces: count and the NEW bytes. */
  modified: ChangeTally
  /** Lower files this layer's whiteouts and opaque directories delete: count and their bytes. */
  removed: ChangeTally & { whiteouts: number; opaqueDirs: number }
  /** Lower files this layer overwrites (the old versions' count and bytes). */
  overwritten: ChangeTally
  /** Bytes of regular files in this layer's tar. */
  fileBytes: number
  /** Of those, the bytes not visible in the final image (deleted or overwritten later, or in this layer). */
  deadBytes: number
  warnings: string[]
}
