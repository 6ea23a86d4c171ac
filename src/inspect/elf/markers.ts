import { forEachChunk, type ByteSource } from '../../core/byte-source.js'

/**
 * Byte markers that identify a C library or language runtime inside a binary. Searched with
 * Buffer.indexOf (native memmem), so a scan of a 50 MB binary costs milliseconds.
 */

/** Strings every static glibc (>= 2.26) links: the tunables parser runs in every static startup. */
export const GLIBC_MARKERS = ['GLIBC_TUNABLES', 'Fatal glibc error', 'glibc.malloc.', 'GNU C Library', 'FATAL: kernel too old']

/**
 * musl markers. Symbol names only survive in unstripped files; the printf prefix table
 * ("-0X+0X 0X-0x+0x 0x", musl's fmt_fp) and musl's strerror text for errno 0 survive stripping
 * whenever printf/strerror are linked. A stripped static musl program that uses neither has no
 * marker at all, and is then reported as unknown rather than guessed.
 */
export const MUSL_MARKERS = ['\0__init_libc\0', '\0__libc_start_init\0', '\0libc_start_main_stage2\0', '-0X+0X 0X-0x+0x 0x', 'No error information', '/etc/ld-musl-']

/** A byte range [start, end) of a file. */
export interface ByteRange {
  start: number
  end: number
}

/**
 * The first marker (in list order) present in `src` (in memory, or scanned in chunks from a file),
 * if any; only inside `ranges` when given (the whole file otherwise). One read of each range for
 * all the markers: a static program without any reads its whole file, and did so once per marker.
 */
export function firstMarker(src: ByteSource, markers: string[], ranges: ByteRange[] = [{ start: 0, end: src.size }]): string | undefined {
  const needles = markers.map((m) => Buffer.from(m, 'latin1'))
  const overlap = Math.max(0, ...needles.map((n) => n.length - 1))
  // The list position of the first marker seen so far: only those before it are still looked for.
  let best = needles.length
  for (const r of ranges) {
    forEachChunk(src, r.start, r.end - r.start, overlap, (chunk) => {
      const k = needles.findIndex((n, i) => i < best && chunk.indexOf(n) >= 0)
      if (k >= 0) best = k
      return best === 0
    })
    if (best === 0) break
  }
  return markers[best]
}

/** Show a marker readably in evidence text (NUL delimiters removed). */
export function showMarker(m: string): string {
  return `'${m.replace(/\0/g, '')}'`
}

/** The magic that starts Go's build info blob (runtime/debug.BuildInfo, read by `go version -m`). */
export const GO_BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1')
