/**
 * Which C library a file was built against. Dynamic files say so through the loader they ask for
 * (PT_INTERP) and the libc they need; static files only through what the library left inside them,
 * so for those the evidence names the marker that decided it.
 */
import type { ByteSource } from '../../core/byte-source.js'
import { firstMarker, GLIBC_MARKERS, MUSL_MARKERS, showMarker, type ByteRange } from './markers.js'
import type { ElfType, LibcFlavour, VersionNeed } from './types.js'

export interface LibcInput {
  type: ElfType
  interpreter?: string
  needed: string[]
  soname?: string
  versionNeeds: VersionNeed[]
  isGo: boolean
}

export interface LibcVerdict {
  libc: LibcFlavour
  evidence: string
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1)
}

/** glibc's loaders: ld-linux-*.so.N (x86, arm, aarch64, riscv), ld64.so.N (s390x, ppc64), ld.so.1 (ppc, mips). */
function isGlibcLoader(name: string): boolean {
  return /^ld-linux[-.]/.test(name) || /^ld64\.so\.\d/.test(name) || /^ld\.so\.\d/.test(name) || /^ld-2\.\d+\.so$/.test(name)
}

function isMuslLoader(name: string): boolean {
  return /^ld-musl-/.test(name)
}

function fromLibraries(input: LibcInput): LibcVerdict | undefined {
  const musl = input.needed.find((n) => n.startsWith('libc.musl-') || n === 'libc.so')
  if (musl) return { libc: 'musl', evidence: `NEEDED ${musl}` }
  const glibc = input.needed.find((n) => n === 'libc.so.6' || n === 'libc.so.6.1' || n === 'libc.so.7')
  if (glibc) return { libc: 'glibc', evidence: `NEEDED ${glibc}` }
  const glibcVersion = input.versionNeeds.find((v) => v.versions.some((x) => x.startsWith('GLIBC_')))
  if (glibcVersion) return { libc: 'glibc', evidence: `needs GLIBC_* symbol versions from ${glibcVersion.file}` }
  return undefined
}

/**
 * `markerRanges`: where the markers (string literals and symbol names) can be, the file minus its
 * code; the whole file when omitted.
 */
export function detectLibc(input: LibcInput, whole: ByteSource, markerRanges?: ByteRange[]): LibcVerdict {
  if (input.interpreter) {
    const name = basename(input.interpreter)
    if (isMuslLoader(name)) return { libc: 'musl', evidence: `PT_INTERP ${input.interpreter}` }
    if (isGlibcLoader(name)) return { libc: 'glibc', evidence: `PT_INTERP ${input.interpreter}` }
    return fromLibraries(input) ?? { libc: 'unknown', evidence: `PT_INTERP ${input.interpreter} is neither a glibc nor a musl loader` }
  }
  // A C library itself: its SONAME says which.
  if (input.soname) {
    if (isMuslLoader(input.soname) || input.soname === 'libc.so') return { libc: 'musl', evidence: `SONAME ${input.soname}` }
    if (isGlibcLoader(input.soname) || input.soname === 'libc.so.6') return { libc: 'glibc', evidence: `SONAME ${input.soname}` }
  }
  const byLibs = fromLibraries(input)
  if (byLibs) return byLibs
  if (input.needed.length > 0) return { libc: 'unknown', evidence: `no PT_INTERP and no libc among NEEDED ${input.needed.join(' ')}` }

  const isExecutable = input.type === 'EXEC' || input.type === 'static-pie' || input.type === 'PIE'
  const glibc = firstMarker(whole, GLIBC_MARKERS, markerRanges)
  const musl = glibc ? undefined : firstMarker(whole, MUSL_MARKERS, markerRanges)
  if (!isExecutable) {
    // A shared object or object file without NEEDED: markers can still say which libc it came from.
    if (glibc) return { libc: 'glibc', evidence: `no NEEDED; contains ${showMarker(glibc)}` }
    if (musl) return { libc: 'musl', evidence: `no NEEDED; contains ${showMarker(musl)}` }
    return { libc: 'unknown', evidence: `${input.type} file with no PT_INTERP, no NEEDED and no libc markers` }
  }
  if (glibc) return { libc: 'static-glibc', evidence: `static (no PT_INTERP, no NEEDED); contains ${showMarker(glibc)}${input.isGo ? '; a Go program with cgo linked statically' : ''}` }
  if (musl) return { libc: 'static-musl', evidence: `static (no PT_INTERP, no NEEDED); contains ${showMarker(musl)}` }
  if (input.isGo) return { libc: 'none', evidence: 'static Go program (Go build metadata present) with no glibc or musl markers' }
  return { libc: 'unknown', evidence: 'static (no PT_INTERP, no NEEDED) and no glibc or musl markers found (stripped musl, another libc, or no libc)' }
}
