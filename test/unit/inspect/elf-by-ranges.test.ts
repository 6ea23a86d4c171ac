/**
 * The one ELF reader gives the same answers whether the file is in memory (a Buffer) or read by
 * ranges from disk (FileSource, what a 900 MB program gets): ELF facts, dlopen candidates, Go and
 * Rust facts. Real binaries of this machine; the Go toolchain's `go` (10 MB) crosses the 4 MiB scan
 * chunks, so the chunked string scans are checked at their boundaries too.
 */
import { existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { bufferSource, FileSource, firstMatchIn, matchesIn, sourceIndexOf, subSource } from '../../../src/core/byte-source.js'
import { dlopenCandidates, parseElf } from '../../../src/inspect/elf/index.js'
import { readGoBuildInfo } from '../../../src/inspect/gobuildinfo.js'
import { readRustInfo } from '../../../src/inspect/rustinfo.js'
import { firstMarker } from '../../../src/inspect/elf/markers.js'

const CANDIDATES = ['/usr/bin/bash', '/usr/bin/ls', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2', '/usr/lib/go/bin/go', '/usr/bin/node', process.execPath]
const FILES = [...new Set(CANDIDATES.filter((p) => existsSync(p)).map((p) => realpathSync(p)))]

function withFile<T>(path: string, use: (src: FileSource) => T): T {
  const src = new FileSource(path)
  try {
    return use(src)
  } finally {
    src.close()
  }
}

describe('ELF facts by ranges equal ELF facts in memory', () => {
  it.skipIf(FILES.length < 3)('parseElf, dlopenCandidates, Go and Rust facts agree on real binaries', () => {
    for (const path of FILES) {
      const buf = readFileSync(path)
      withFile(path, (src) => {
        expect(parseElf(src, { name: path }), path).toEqual(parseElf(buf, { name: path }))
        expect(dlopenCandidates(src), path).toEqual(dlopenCandidates(buf))
        expect(readGoBuildInfo(src, { name: path }), path).toEqual(readGoBuildInfo(buf, { name: path }))
        expect(readRustInfo(src, { name: path }), path).toEqual(readRustInfo(buf, { name: path }))
      })
    }
  })

  it.skipIf(!existsSync('/usr/lib/go/bin/go'))('a Go binary bigger than the scan chunk: its build info is found by ranges', () => {
    const path = realpathSync('/usr/lib/go/bin/go')
    const go = withFile(path, (src) => readGoBuildInfo(src, { name: path }))
    expect(go?.goVersion).toMatch(/^go1\./)
  })
})

describe('chunked scans', () => {
  // Needles placed across every 4 MiB chunk boundary of a 9 MiB file.
  const MiB = 1024 * 1024
  const buf = Buffer.alloc(9 * MiB, 0x20)
  const marks = [4 * MiB - 3, 8 * MiB - 5, 123]
  marks.forEach((at, i) => buf.write(`\0libneedle.so.${[2, 3, 1][i]}\0`, at, 'latin1'))
  const path = `${process.env.TMPDIR ?? '/tmp'}/slim-ranges-${process.pid}`
  it('sourceIndexOf and matchesIn find what the in-memory search finds, across chunk boundaries', () => {
    writeFileSync(path, buf)
    try {
      withFile(path, (src) => {
        const needle = Buffer.from('libneedle.so.')
        expect(sourceIndexOf(src, needle)).toBe(buf.indexOf(needle))
        expect(sourceIndexOf(src, needle, 200)).toBe(4 * MiB - 2)
        expect(sourceIndexOf(src, needle, 4 * MiB)).toBe(8 * MiB - 4)
        const pattern = /(?<=\0)lib[a-z]+\.so\.\d(?=\0)/g
        expect(matchesIn(src, pattern)).toEqual(matchesIn(bufferSource(buf), pattern))
        expect(matchesIn(src, pattern)).toHaveLength(3)
        // The first match with its groups, also when it lies past the first chunk.
        const re = /lib(needle)\.so\.(\d)/
        expect(firstMatchIn(src, re)?.slice(1)).toEqual(['needle', '1'])
        expect(firstMatchIn(subSource(src, 200, src.size - 200), re)?.slice(1)).toEqual(['needle', '2'])
        expect(firstMatchIn(subSource(src, 4 * MiB, src.size - 4 * MiB), re)?.slice(1)).toEqual(['needle', '3'])
        expect(firstMatchIn(src, /libneedle\.so\.9/)).toBeNull()
      })
    } finally {
      rmSync(path, { force: true })
    }
  })

  it('firstMarker: list order wins over file order, in memory and by ranges, in one read of each range', () => {
    // 'late' straddles the second chunk boundary, 'early' sits in the first chunk.
    const file = Buffer.alloc(9 * MiB, 0x20)
    file.write('early-marker', 1000, 'latin1')
    file.write('late-marker', 8 * MiB - 4, 'latin1')
    writeFileSync(path, file)
    try {
      withFile(path, (src) => {
        for (const s of [src, bufferSource(file)]) {
          expect(firstMarker(s, ['late-marker', 'early-marker'])).toBe('late-marker')
          expect(firstMarker(s, ['absent', 'early-marker', 'late-marker'])).toBe('early-marker')
          expect(firstMarker(s, ['absent', 'late-marker'], [{ start: 0, end: 8 * MiB }])).toBeUndefined()
          expect(firstMarker(s, ['absent', 'late-marker'], [{ start: 0, end: 100 }, { start: 8 * MiB - 4, end: 8 * MiB + 7 }])).toBe('late-marker')
          expect(firstMarker(s, ['absent', 'nowhere'])).toBeUndefined()
        }
        // The scan reuses one buffer: reading 9 MiB for six markers allocates one chunk at most
        // (none once a scan has made it), not a chunk per read per marker (which was 6 x 9 MiB).
        const allocUnsafe = Buffer.allocUnsafe
        let allocated = 0
        Buffer.allocUnsafe = (n: number) => ((allocated += n), allocUnsafe(n))
        try {
          withFile(path, (fresh) => {
            const window = fresh.window.bind(fresh)
            let reads = 0
            fresh.window = (offset: number, len: number) => ((reads += 1), window(offset, len))
            expect(firstMarker(fresh, ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'])).toBeUndefined()
            expect(reads).toBe(3)
          })
        } finally {
          Buffer.allocUnsafe = allocUnsafe
        }
        expect(allocated).toBeLessThan(5 * MiB)
      })
    } finally {
      rmSync(path, { force: true })
    }
  })
})
