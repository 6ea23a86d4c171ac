/**
 * Go build info: the blob the Go linker embeds and `go version -m` prints. It starts with the
 * 14-byte magic "\xff Go buildinf:", then a pointer size and a flags byte, padded to 32 bytes.
 *  - flags bit 1 set (Go >= 1.18): the version and the module info follow inline, each as a
 *    uvarint length and bytes.
 *  - otherwise (Go 1.13-1.17): two pointers (size and endianness from the header) to Go string
 *    headers {data pointer, length}, which must be followed through the program's virtual
 *    addresses.
 * The module info text sits between two 16-byte sentinels and holds lines `path`, `mod`, `dep`,
 * `=>` (replacement of the line before) and `build key=value` (values quoted Go-style when needed).
 *
 * Go also writes which std packages it linked nowhere in the build info, so "does it use
 * crypto/x509 / net / os/user / time/tzdata" is answered from function names, see linkedPackages.
 */
import { sourceIndexOf, subSource, type ByteSource } from '../core/byte-source.js'
import { PF_W, PF_X, PT } from './elf/constants.js'
import { addressToOffset, findSection, openElf, readAtAddress, sectionBytes, sectionSource, segmentSource, type ElfFile } from './elf/elf-file.js'
import { GO_BUILDINFO_MAGIC } from './elf/markers.js'
import type { ElfMachine } from './elf/types.js'

export interface GoModule {
  path: string
  version: string
  sum?: string
  /** The `=>` line: what this module was replaced with (a local directory has version "(devel)"). */
  replace?: GoModule
}

export interface GoSetting {
  key: string
  value: string
}

/** Whether a std package is linked, and the marker that showed it. */
export interface GoPackageUse {
  linked: boolean
  evidence?: string
}

export interface GoBuildInfo {
  /** As embedded, e.g. "go1.22.1" or "go1.22.1 X:loopvar". */
  goVersion: string
  format: 'inline' | 'pointer'
  /** Main package path ("command-line-arguments" for `go build file.go`). */
  path?: string
  main?: GoModule
  deps: GoModule[]
  /** `build` lines in order (Go >= 1.18 only). */
  settings: GoSetting[]
  /** CGO_ENABLED from the settings; undefined before Go 1.18. */
  cgoEnabled?: boolean
  /** runtime/cgo is in the binary: C code is really linked (CGO_ENABLED=1 alone does not mean that). */
  cgoLinked: GoPackageUse
  tags: string[]
  netgo: boolean
  osusergo: boolean
  timetzdata: boolean
  goos?: string
  goarch?: string
  packages: {
    cryptoX509: GoPackageUse
    net: GoPackageUse
    osUser: GoPackageUse
    timeTzdata: GoPackageUse
    /** time.LoadLocation: named time zones are loaded at run time. */
    loadLocation: GoPackageUse
  }
  warnings: string[]
}

/** Go's uvarint (encoding/binary): 7 bits per byte, low groups first. */
function uvarint(buf: Buffer, pos: number): { value: number; next: number } | undefined {
  let value = 0
  let scale = 1
  for (let i = 0; i < 10 && pos + i < buf.length; i++) {
    const b = buf[pos + i]!
    value += (b & 0x7f) * scale
    if ((b & 0x80) === 0) return { value, next: pos + i + 1 }
    scale *= 128
  }
  return undefined
}

/** Where the blob is: the .go.buildinfo section, else the first 16-byte-aligned magic in a data segment. */
function findBlob(file: ElfFile): Buffer | undefined {
  const sec = findSection(file, '.go.buildinfo')
  if (sec) {
    const data = sectionBytes(file, sec)
    if (data.subarray(0, GO_BUILDINFO_MAGIC.length).equals(GO_BUILDINFO_MAGIC)) return data
  }
  const areas = file.segments.filter((s) => s.type === PT.LOAD && (s.flags & (PF_W | PF_X)) === PF_W).map((s) => ({ data: segmentSource(file, s), base: s.vaddr }))
  // No usable segments (or a damaged table): scan the whole file, aligning on file offsets.
  if (areas.length === 0) areas.push({ data: file.bytes.src, base: 0 })
  for (const { data, base } of areas) {
    for (let at = sourceIndexOf(data, GO_BUILDINFO_MAGIC); at >= 0; at = sourceIndexOf(data, GO_BUILDINFO_MAGIC, at + 1)) {
      // The blob (header and inline strings) is kilobytes; a file read by ranges yields at most MAX_BLOB.
      if ((base + at) % 16 === 0) return data.read(at, Math.min(data.size - at, MAX_BLOB))
    }
  }
  return undefined
}

/** Most of a build info blob read from a file read by ranges (module lists are tens of KB). */
const MAX_BLOB = 16 * 1024 * 1024

/** Follow a Go string header {ptr, len} at a virtual address. */
function readGoString(file: ElfFile, addr: number, ptrSize: number, little: boolean): string | undefined {
  const at = addressToOffset(file, addr, 2 * ptrSize)
  if (at === undefined || !file.bytes.has(at, 2 * ptrSize)) return undefined
  const dataAddr = file.bytes.ptr(at, ptrSize, little)
  const len = file.bytes.ptr(at + ptrSize, ptrSize, little)
  if (len === 0) return ''
  if (len > file.bytes.size) return undefined
  return readAtAddress(file, dataAddr, len)?.toString('utf8')
}

interface RawInfo {
  version: string
  modinfo: string
  format: 'inline' | 'pointer'
}

function decodeBlob(file: ElfFile, blob: Buffer, warnings: string[]): RawInfo | undefined {
  if (blob.length < 32) {
    warnings.push('Go build info header is truncated')
    return undefined
  }
  const ptrSize = blob[14]!
  const flags = blob[15]!
  if ((flags & 2) !== 0) {
    const v = uvarint(blob, 32)
    if (!v || v.next + v.value > blob.length) {
      warnings.push('Go build info version string runs past its section')
      return undefined
    }
    const version = blob.toString('utf8', v.next, v.next + v.value)
    const m = uvarint(blob, v.next + v.value)
    if (!m || m.next + m.value > blob.length) {
      warnings.push('Go build info module string runs past its section')
      return { version, modinfo: '', format: 'inline' }
    }
    return { version, modinfo: blob.toString('utf8', m.next, m.next + m.value), format: 'inline' }
  }
  if (ptrSize !== 4 && ptrSize !== 8) {
    warnings.push(`Go build info has an invalid pointer size ${ptrSize}`)
    return undefined
  }
  const little = (flags & 1) === 0
  const ptr = (off: number) => (ptrSize === 8 ? Number(little ? blob.readBigUInt64LE(off) : blob.readBigUInt64BE(off)) : little ? blob.readUInt32LE(off) : blob.readUInt32BE(off))
  const version = readGoString(file, ptr(16), ptrSize, little)
  if (version === undefined) {
    warnings.push('Go build info version pointer does not resolve to data in the file')
    return undefined
  }
  const modinfo = readGoString(file, ptr(16 + ptrSize), ptrSize, little)
  if (modinfo === undefined) warnings.push('Go build info module pointer does not resolve to data in the file')
  return { version, modinfo: modinfo ?? '', format: 'pointer' }
}

/** The module text sits between 16-byte sentinels; Go drops it when they are missing. */
function stripSentinels(mod: string): string {
  if (mod.length >= 33 && mod[mod.length - 17] === '\n') return mod.slice(16, -16)
  return ''
}

/** strconv.Unquote for the forms Go writes: "..." with Go escapes, or `...` raw. */
export function goUnquote(s: string): string | undefined {
  if (s.length >= 2 && s.startsWith('`') && s.endsWith('`')) return s.slice(1, -1)
  if (s.length < 2 || !s.startsWith('"') || !s.endsWith('"')) return undefined
  const body = s.slice(1, -1)
  let out = ''
  const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" }
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!
    if (c !== '\\') {
      out += c
      continue
    }
    const e = body[++i]
    if (e === undefined) return undefined
    if (e in simple) out += simple[e]
    else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8
      const hex = body.slice(i + 1, i + 1 + n)
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) return undefined
      const code = parseInt(hex, 16)
      if (e === 'x') out += String.fromCharCode(code) // a raw byte; fine for the ASCII Go writes here
      else if (code > 0x10ffff) return undefined
      else out += String.fromCodePoint(code)
      i += n
    } else if (/[0-7]/.test(e)) {
      const oct = body.slice(i, i + 3)
      if (!/^[0-7]{3}$/.test(oct)) return undefined
      out += String.fromCharCode(parseInt(oct, 8))
      i += 2
    } else return undefined
  }
  return out
}

function parseModuleFields(fields: string[]): GoModule | undefined {
  if (fields.length < 2 || fields[0] === '') return undefined
  const m: GoModule = { path: fields[0]!, version: fields[1]! }
  if (fields[2]) m.sum = fields[2]
  return m
}

function parseSetting(kv: string): GoSetting | undefined {
  let key: string
  let raw: string
  if (kv.startsWith('"') || kv.startsWith('`')) {
    // Quoted key (Go >= 1.20 quotes keys holding '=', spaces or quotes).
    const close = kv[0] === '`' ? kv.indexOf('`', 1) : findClosingQuote(kv)
    if (close < 0) return undefined
    const k = goUnquote(kv.slice(0, close + 1))
    if (k === undefined || kv[close + 1] !== '=') return undefined
    key = k
    raw = kv.slice(close + 2)
  } else {
    const eq = kv.indexOf('=')
    if (eq <= 0) return undefined
    key = kv.slice(0, eq)
    raw = kv.slice(eq + 1)
  }
  const value = raw.startsWith('"') || raw.startsWith('`') ? goUnquote(raw) : raw
  return value === undefined ? undefined : { key, value }
}

function findClosingQuote(s: string): number {
  for (let i = 1; i < s.length; i++) {
    if (s[i] === '\\') i++
    else if (s[i] === '"') return i
  }
  return -1
}

/** Parse the module info text (debug.ParseBuildInfo's format). */
export function parseModInfo(text: string, warnings: string[]): Pick<GoBuildInfo, 'path' | 'main' | 'deps' | 'settings'> {
  const out: Pick<GoBuildInfo, 'path' | 'main' | 'deps' | 'settings'> = { deps: [], settings: [] }
  let last: GoModule | undefined
  for (const line of text.split('\n')) {
    if (line === '') continue
    const tab = line.indexOf('\t')
    const kind = tab < 0 ? line : line.slice(0, tab)
    const rest = tab < 0 ? '' : line.slice(tab + 1)
    switch (kind) {
      case 'path':
        out.path = rest
        break
      case 'mod':
        out.main = parseModuleFields(rest.split('\t'))
        last = out.main
        break
      case 'dep': {
        const m = parseModuleFields(rest.split('\t'))
        if (m) out.deps.push(m)
        last = m
        break
      }
      case '=>': {
        const r = parseModuleFields(rest.split('\t'))
        if (last && r) last.replace = r
        else warnings.push(`Go build info replacement line without a module: ${line.slice(0, 200)}`)
        last = undefined
        break
      }
      case 'build': {
        const s = parseSetting(rest)
        if (s) out.settings.push(s)
        else warnings.push(`Go build info setting not understood: ${line.slice(0, 200)}`)
        break
      }
      case 'go':
        break // Go's own String() form; the version comes from the header.
      default:
        warnings.push(`Go build info line not understood: ${line.slice(0, 200)}`)
    }
  }
  return out
}

/**
 * Std packages linked into the binary, found by their function names. The Go runtime keeps every
 * function's name in the pclntab (also in binaries built with -ldflags=-s -w, because tracebacks
 * need them, and also for inlined calls), each NUL-terminated, so "\0net." starts some function of
 * package net. Scans .gopclntab when present, else the whole file (PIE and externally linked
 * binaries keep the table in .data.rel.ro). How far each answer goes:
 *  - crypto/x509: linked by anything that verifies TLS peers, so a good "may need a CA bundle"
 *    signal; a program that only parses certificates is a false positive for "needs the bundle".
 *  - net: linked by any networking. Whether names are resolved through libc (cgo) or by Go itself
 *    (netgo, CGO_ENABLED=0: reads /etc/hosts, /etc/resolv.conf, /etc/nsswitch.conf) is a separate
 *    question: see cgoLinked and netgo.
 *  - os/user: linked when the program looks up users; with osusergo or without cgo Go reads
 *    /etc/passwd and /etc/group itself.
 *  - time/tzdata: linked exactly when the zone database is embedded (-tags timetzdata, or
 *    import _ "time/tzdata"); then /usr/share/zoneinfo is optional.
 *  - time.LoadLocation (a function, not a package): the program loads named zones, which needs
 *    /usr/share/zoneinfo unless time/tzdata is linked.
 * A package used only for its types or constants contributes no function and would be missed;
 * none of these is normally used that way.
 */
const PACKAGE_MARKERS = {
  cryptoX509: 'crypto/x509.',
  net: 'net.',
  osUser: 'os/user.',
  timeTzdata: 'time/tzdata.',
} as const

/** A function with exactly this name is in the table. */
function functionUse(region: ByteSource, name: string, where: string): GoPackageUse {
  return sourceIndexOf(region, Buffer.from(`\0${name}\0`, 'latin1')) >= 0 ? { linked: true, evidence: `function ${name} in ${where}` } : { linked: false }
}

/** Up to `max` bytes of `region` from `at`: the window a name starting there must end in. */
function windowAt(region: ByteSource, at: number, max: number): Buffer {
  return region.read(at, Math.min(max, region.size - at))
}

function packageUse(region: ByteSource, pkgPrefix: string, where: string): GoPackageUse {
  const needle = Buffer.from(`\0${pkgPrefix}`, 'latin1')
  // Bounded: each hit advances the search; give up after a few hundred non-function hits.
  for (let at = sourceIndexOf(region, needle), tries = 0; at >= 0 && tries < 256; at = sourceIndexOf(region, needle, at + 1), tries++) {
    const win = windowAt(region, at, 302)
    const end = win.indexOf(0, 1)
    if (end < 0 || end > 300) continue
    const name = win.toString('latin1', 1, end)
    // With -trimpath the file table holds names like "runtime/cgo.go": files, not functions.
    if (/\.(go|s|c|h)$/.test(name)) continue
    return { linked: true, evidence: `function ${name} in ${where}` }
  }
  return { linked: false }
}

/**
 * runtime/cgo has no Go functions of its own in the pclntab, but its source files are in the file
 * table ("runtime/cgo/callbacks.go", or an absolute GOROOT path without -trimpath).
 */
function cgoUse(region: ByteSource, where: string): GoPackageUse {
  const at = sourceIndexOf(region, Buffer.from('runtime/cgo/', 'latin1'))
  if (at < 0) return { linked: false }
  const win = windowAt(region, at, 202)
  const end = win.indexOf(0)
  const file = win.toString('latin1', 0, end < 0 || end > 200 ? 12 : end)
  return { linked: true, evidence: `source file ${file} in ${where}` }
}

const GOARCH: Partial<Record<ElfMachine, string>> = {
  'x86-64': 'amd64',
  aarch64: 'arm64',
  arm: 'arm',
  i386: '386',
  riscv64: 'riscv64',
  s390x: 's390x',
  ppc64le: 'ppc64le',
  ppc64: 'ppc64',
  loongarch64: 'loong64',
}

export interface GoBuildInfoOptions {
  name?: string
  /** The ELF machine, to report GOARCH for binaries older than Go 1.18 (which do not record it). */
  machine?: ElfMachine
}

/**
 * Read Go build info from an ELF file. Undefined when the file has no Go build info blob (not Go,
 * or older than Go 1.13). Damaged blobs give what could be read plus warnings; non-ELF input
 * throws SlimError('format') like parseElf.
 */
export function readGoBuildInfo(bytes: Buffer | ByteSource, options: GoBuildInfoOptions = {}): GoBuildInfo | undefined {
  const file = openElf(bytes, options.name)
  const warnings: string[] = []
  const blob = findBlob(file)
  if (!blob) return undefined
  const raw = decodeBlob(file, blob, warnings)
  if (!raw) return { goVersion: '', format: 'inline', deps: [], settings: [], ...derive(file, [], options.machine), warnings }
  const mod = parseModInfo(stripSentinels(raw.modinfo), warnings)
  const info: GoBuildInfo = { goVersion: raw.version, format: raw.format, ...mod, ...derive(file, mod.settings, options.machine), warnings }
  if (info.path === undefined) delete info.path
  if (info.main === undefined) delete info.main
  return info
}

function derive(file: ElfFile, settings: GoSetting[], machine: ElfMachine | undefined) {
  const get = (k: string) => settings.find((s) => s.key === k)?.value
  const tags = (get('-tags') ?? '').split(',').filter((t) => t !== '')
  const pclntab = findSection(file, '.gopclntab')
  const region = pclntab ? sectionSource(file, pclntab) : subSource(file.bytes.src, 0, file.bytes.size)
  const where = pclntab ? '.gopclntab' : 'the file'
  const cgo = get('CGO_ENABLED')
  const goarch = get('GOARCH') ?? (machine ? GOARCH[machine] : undefined)
  const goos = get('GOOS')
  return {
    ...(cgo !== undefined ? { cgoEnabled: cgo === '1' } : {}),
    cgoLinked: cgoUse(region, where),
    tags,
    netgo: tags.includes('netgo'),
    osusergo: tags.includes('osusergo'),
    timetzdata: tags.includes('timetzdata'),
    ...(goos !== undefined ? { goos } : {}),
    ...(goarch !== undefined ? { goarch } : {}),
    packages: {
      cryptoX509: packageUse(region, PACKAGE_MARKERS.cryptoX509, where),
      net: packageUse(region, PACKAGE_MARKERS.net, where),
      osUser: packageUse(region, PACKAGE_MARKERS.osUser, where),
      timeTzdata: packageUse(region, PACKAGE_MARKERS.timeTzdata, where),
      loadLocation: functionUse(region, 'time.LoadLocation', where),
    },
  }
}
