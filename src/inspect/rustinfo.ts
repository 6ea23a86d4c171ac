/**
 * Rust facts from an ELF file: whether rustc built it (and which rustc), and the dependency list
 * cargo-auditable embeds in a `.dep-v0` section (zlib-compressed JSON:
 * {"packages":[{"name","version","source","kind","dependencies":[indices],"root"}]}).
 *
 * Rust has no build-info blob like Go's, so detection uses what rustc leaves behind:
 *  - panic locations of the standard library, "/rustc/<commit or version>/library/...", kept in
 *    .rodata even in stripped release builds (the strongest marker);
 *  - "rustc version X" in .comment (present unless the linker or strip dropped .comment);
 *  - symbol names such as __rust_alloc / rust_begin_unwind (only in unstripped files).
 */
import { inflateSync } from 'node:zlib'
import { sourceIndexOf, type ByteSource } from '../core/byte-source.js'
import { findSection, openElf, sectionBytes, type ElfFile } from './elf/elf-file.js'

export interface RustPackage {
  name: string
  version: string
  source?: string
  kind?: string
  /** Indices into `packages`. */
  dependencies: number[]
  root?: boolean
}

export interface RustInfo {
  isRust: boolean
  /** What showed it, e.g. ["std panic paths /rustc/1.62.0/library", ".dep-v0 section"]. */
  evidence: string[]
  /** rustc version when known ("1.95.0"), from .comment or a versioned /rustc/ path. */
  rustcVersion?: string
  /** rustc commit hash from "/rustc/<hash>/library" paths (official rustup builds). */
  rustcCommit?: string
  /** cargo-auditable dependency list, when the binary carries one. */
  auditable?: { packages: RustPackage[] }
  warnings: string[]
}

/** More than any real dependency list; stops a zlib bomb in a hostile file. */
const MAX_DEP_JSON = 32 * 1024 * 1024

const RUSTC = Buffer.from('/rustc/', 'latin1')

function rustcPath(src: ByteSource): { version?: string; commit?: string; sample: string } | undefined {
  for (let at = sourceIndexOf(src, RUSTC), tries = 0; at >= 0 && tries < 64; at = sourceIndexOf(src, RUSTC, at + 1), tries++) {
    const tail = src.read(at + 7, Math.max(0, Math.min(64, src.size - at - 7))).toString('latin1')
    const m = /^([0-9a-f]{40}|\d+\.\d+\.\d+[^/\0]{0,20})\/(library|src)\//.exec(tail)
    if (!m) continue
    const id = m[1]!
    const sample = `/rustc/${id}/${m[2]}`
    return /^[0-9a-f]{40}$/.test(id) ? { commit: id, sample } : { version: id, sample }
  }
  return undefined
}

function rustcComment(file: ElfFile): string | undefined {
  const comment = findSection(file, '.comment')
  if (!comment) return undefined
  const m = /rustc version (\d+\.\d+\.\d+[^\s\0)]*)/.exec(sectionBytes(file, comment).toString('latin1'))
  return m?.[1]
}

function readAuditable(file: ElfFile, warnings: string[]): RustInfo['auditable'] {
  const sec = findSection(file, '.dep-v0')
  if (!sec) return undefined
  let json: string
  try {
    json = inflateSync(sectionBytes(file, sec), { maxOutputLength: MAX_DEP_JSON }).toString('utf8')
  } catch (e) {
    warnings.push(`.dep-v0 section does not inflate: ${e instanceof Error ? e.message : String(e)}`)
    return undefined
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch (e) {
    warnings.push(`.dep-v0 section is not JSON: ${e instanceof Error ? e.message : String(e)}`)
    return undefined
  }
  const list = (parsed as { packages?: unknown } | null)?.packages
  if (!Array.isArray(list)) {
    warnings.push('.dep-v0 JSON has no "packages" array')
    return undefined
  }
  const packages: RustPackage[] = []
  for (const item of list) {
    const p = item as Record<string, unknown> | null
    if (!p || typeof p.name !== 'string' || typeof p.version !== 'string') {
      warnings.push('.dep-v0 package without a name and version ignored')
      continue
    }
    const deps = Array.isArray(p.dependencies) ? p.dependencies.filter((d): d is number => Number.isInteger(d) && (d as number) >= 0 && (d as number) < list.length) : []
    const pkg: RustPackage = { name: p.name, version: p.version, dependencies: deps }
    if (typeof p.source === 'string') pkg.source = p.source
    if (typeof p.kind === 'string') pkg.kind = p.kind
    if (typeof p.root === 'boolean') pkg.root = p.root
    packages.push(pkg)
  }
  return { packages }
}

/** Rust facts; `isRust: false` with empty evidence for other files. Non-ELF input throws SlimError('format'). */
export function readRustInfo(bytes: Buffer | ByteSource, options: { name?: string } = {}): RustInfo {
  const file = openElf(bytes, options.name)
  const warnings: string[] = []
  const evidence: string[] = []
  const info: RustInfo = { isRust: false, evidence, warnings }

  const path = rustcPath(file.bytes.src)
  if (path) {
    evidence.push(`std panic paths ${path.sample}`)
    if (path.commit) info.rustcCommit = path.commit
    if (path.version) info.rustcVersion = path.version
  }
  const commentVersion = rustcComment(file)
  if (commentVersion) {
    evidence.push(`.comment says rustc version ${commentVersion}`)
    info.rustcVersion = commentVersion
  }
  const symbol = ['\0__rust_alloc\0', '\0rust_begin_unwind\0', '\0__rust_probestack\0', '\0rust_panic\0'].find((m) => sourceIndexOf(file.bytes.src, Buffer.from(m, 'latin1')) >= 0)
  if (symbol) evidence.push(`symbol ${symbol.replace(/\0/g, '')}`)
  const auditable = readAuditable(file, warnings)
  if (auditable) {
    evidence.push('cargo-auditable .dep-v0 section')
    info.auditable = auditable
  }
  info.isRust = evidence.length > 0
  return info
}
