/**
 * The read-only view of an image's merged filesystem that inspection works against. The layer
 * index implements it for images; tests implement it over a directory or an in-memory map.
 * Paths are absolute, '/'-separated, inside the image root; nothing here ever touches the host.
 */
import type { ByteSource } from '../core/byte-source.js'
import type { FileHead } from './types.js'

/** A regular file open for reading by ranges; close() releases it (and the temp copy, if any). */
export interface OpenedFile extends ByteSource {
  close(): Promise<void>
}

export type FileType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'other'

export interface FileInfo {
  /** Normalised absolute path inside the image ("/usr/bin/env"). */
  path: string
  type: FileType
  mode: number // permission bits incl. setuid/setgid/sticky (no type bits)
  uid: number
  gid: number
  size: number
  /** Symlink target as written in the tar (may be relative or absolute). */
  linkTarget?: string
  /** For hard links: the path this one is linked to (already resolved to the real file entry). */
  hardlinkTo?: string
  /** Index of the layer that provides this entry. */
  layer: number
}

export interface RootFs {
  /** The entry at `path` without following a final symlink; undefined when absent. Intermediate
   * directory symlinks ARE followed (as the kernel does). */
  lstat(path: string): FileInfo | undefined
  /** Follows symlinks (inside the root; at most 40 hops, like Linux). Undefined when absent or looping. */
  stat(path: string): FileInfo | undefined
  /** Resolves every symlink in `path` inside the root and returns the real path plus the chain of
   * links followed (each as the absolute path of a link), or undefined when it does not exist. */
  realpath(path: string): { path: string; chain: string[] } | undefined
  /** Why stat(path) found nothing: 'loop' when symlinks loop (or chain over 40 hops, Linux's
   * ELOOP), else 'missing'. Optional for simple implementations (they have no loops). */
  whyMissing?(path: string): 'loop' | 'missing'
  /** Names (not paths) of the entries directly under a directory; [] when not a directory. */
  readdir(path: string): string[]
  /** The whole content of a regular file (follows symlinks and hard links). */
  readFile(path: string): Promise<Buffer>
  /**
   * A regular file opened for reading by ranges, never held in memory whole (a 900 MB program).
   * Optional: without it, callers read the file whole.
   */
  openFile?(path: string): Promise<OpenedFile>
  /** Iterates every entry of the merged tree (in path order). */
  entries(): Iterable<FileInfo>
  /**
   * What the index pass recorded about the start of a regular file (follows links): 'elf' (with
   * the ELF summary when one was taken) or 'script' (with its first line); undefined for any other
   * file. Absent on RootFs implementations that keep no heads: callers then read the file.
   */
  head?(path: string): FileHead | undefined
}
