/**
 * What a final base must give the program, read once from the inspection so every rule in
 * rules.ts compares one field against one fact of a base. Only needs the image really satisfies
 * today count (present, `certain` or `likely`, not supplied by the container runtime): a base must
 * not be asked for what the program already lives without.
 */
import type { Platform } from '../image/types.js'
import type { Inspection, Need, NeedKind, ResolvedLibrary, Runtime } from '../inspect/types.js'
import { isShellName } from '../layers/shells.js'
import type { Arch } from './catalogue/types.js'
import type { SourceImage } from './types.js'

export type LibcNeed = 'glibc' | 'musl' | 'static' | 'unknown'

export interface Requirements {
  arch: Arch | string
  /** The C library the program's loader belongs to; `static`: no loader at all. */
  libc: LibcNeed
  libcEvidence: string
  /** PT_INTERP of the program (or, for interpreted apps, of the runtime). */
  interpreter?: string
  /** Highest GLIBC_2.x the program and its non-libc libraries need ("2.34"). */
  glibc?: string
  /** Highest GLIBCXX_3.4.x / CXXABI_1.3.x of the closure (only binding when the base ships libstdc++). */
  glibcxx?: string
  cxxabi?: string
  /** GLIBC_ABI_DT_RELR: packed relocations, glibc >= 2.36. */
  relr: boolean
  /** GLIBC_PRIVATE: tied to the exact glibc build the image has. */
  glibcPrivate: boolean
  /** Closure objects other than the loader, in loader order. */
  libraries: ResolvedLibrary[]
  /** The loader itself, when the program has one. */
  loader?: ResolvedLibrary
  /** Needs a base must meet or that must be copied, by kind (only present, certain/likely, image-provided). */
  needs: Map<NeedKind, Need[]>
  /** Needs slim is not sure of (`possible`): listed, never copied. */
  possibleNeeds: Need[]
  /** Why a shell must stay (empty: none needed). */
  shellReasons: string[]
  runtime?: Runtime
  /** The program links the distribution's libraries (a dynamic ELF): copied libraries are only safe
   * on a base of the same release, so that release is preferred. */
  usesDistroLibraries: boolean
  sourceDistro?: { id: string; versionId?: string }
}

/** OCI platform -> the catalogue's architecture spelling ("arm/v7", "arm64", "amd64"). */
export function archOf(p: Platform): string {
  if (p.architecture === 'arm') return `arm/${p.variant ?? 'v7'}`
  return p.architecture
}

const COUNTED: ReadonlySet<string> = new Set(['certain', 'likely'])

/** A need slim acts on: the image has it, slim is sure enough, and the image (not the runtime) supplies it. */
export function isBinding(n: Need): boolean {
  return n.present && COUNTED.has(n.confidence) && n.providedBy !== 'runtime'
}

function libcOf(insp: Inspection): { libc: LibcNeed; evidence: string } {
  const elf = insp.elf
  if (!elf) return { libc: 'unknown', evidence: 'no ELF program was found' }
  switch (elf.libc) {
    case 'glibc':
    case 'musl':
      return { libc: elf.libc, evidence: elf.interpreter ? `PT_INTERP ${elf.interpreter}` : elf.libcEvidence }
    case 'static-glibc':
    case 'static-musl':
    case 'none':
      return { libc: 'static', evidence: elf.libcEvidence || 'static executable, no PT_INTERP' }
    default:
      return elf.static ? { libc: 'static', evidence: elf.libcEvidence } : { libc: 'unknown', evidence: elf.libcEvidence }
  }
}

/**
 * A `user` need that exists only because the config's USER is a name (the runtime resolves it via
 * /etc/passwd before starting): the generated USER is always numeric, so it no longer applies.
 * Lookups by the program itself (getpwuid, os/user) show up as more evidence and still count.
 */
export function onlyForUserName(n: Need): boolean {
  return n.kind === 'user' && n.evidence.length > 0 && n.evidence.every((e) => e.startsWith('USER '))
}

export function requirementsOf(insp: Inspection, image: SourceImage, platform: Platform): Requirements {
  const { libc, evidence } = libcOf(insp)
  const needs = new Map<NeedKind, Need[]>()
  const possibleNeeds: Need[] = []
  for (const n of insp.needs) {
    if (onlyForUserName(n)) continue
    if (isBinding(n)) needs.set(n.kind, [...(needs.get(n.kind) ?? []), n])
    else if (n.present && n.confidence === 'possible' && n.providedBy !== 'runtime') possibleNeeds.push(n)
  }
  const cv = insp.elf?.closureVersions
  const loader = insp.closure.interpreter ?? insp.closure.libraries.find((l) => l.rule === 'interpreter')
  // A wrapper that only exports and execs is replaced by the command it runs: no shell needed.
  const replaced = (needs.get('shell') ?? []).some((n) => n.replaceable)
  const shellReasons = replaced ? [] : [...insp.program.shellReasons]
  for (const n of needs.get('shell') ?? []) if (!n.replaceable && !shellReasons.includes(n.reason)) shellReasons.push(n.reason)
  return {
    arch: archOf(platform),
    libc,
    // The byte markers behind a static libc guess ("contains '-0X+0X…'") mean nothing in advice.
    libcEvidence: evidence.replace(/;? ?contains .*$/, '').trim() || evidence,
    interpreter: insp.elf?.interpreter,
    glibc: cv?.glibc,
    glibcxx: cv?.glibcxx,
    cxxabi: cv?.cxxabi,
    relr: cv?.abiDtRelr ?? false,
    glibcPrivate: cv?.glibcPrivate ?? false,
    libraries: withoutReplacedWrapper(insp, replaced).filter((l) => l !== loader && l.rule !== 'interpreter'),
    loader,
    needs,
    possibleNeeds,
    shellReasons,
    runtime: insp.runtime,
    usesDistroLibraries: libc === 'glibc' || libc === 'musl',
    sourceDistro: image.distro,
  }
}

export function needsOf(req: Requirements, kind: NeedKind): Need[] {
  return req.needs.get(kind) ?? []
}

/** "2.34", "GLIBC_2.34" -> [2, 34]; undefined for anything else. */
export function versionParts(v: string | undefined): number[] | undefined {
  if (!v) return undefined
  const m = /(\d+(?:\.\d+)*)$/.exec(v)
  return m ? m[1].split('.').map(Number) : undefined
}

export function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/** "GLIBC_2.36" or "2.36" -> "2.36". */
export function bareVersion(v: string): string {
  return v.replace(/^[A-Z]+_/, '')
}

/**
 * With the wrapper replaced, the shell and the commands it ran (mkdir) do not run in the final
 * image: their libraries are needed only if something that still runs needs them.
 */
function withoutReplacedWrapper(insp: Inspection, replaced: boolean): ResolvedLibrary[] {
  const libs = insp.closure.libraries
  if (!replaced) return libs
  const kept = new Set(insp.program.executables.filter((e) => e === insp.program.realPath || !isShellFile(e)))
  for (const n of insp.needs) if (n.kind === 'dlopen') for (const p of n.paths) kept.add(p)
  const out = new Set<ResolvedLibrary>()
  for (let grew = true; grew; ) {
    grew = false
    for (const l of libs) {
      if (out.has(l) || !(l.via === 'interpreter' || l.neededBy.some((b) => kept.has(b)))) continue
      out.add(l)
      kept.add(l.realPath)
      grew = true
    }
  }
  return libs.filter((l) => out.has(l))
}

/** An executable (absolute path) that may be the shell a replaced wrapper ran: a shell, or
 * busybox, whose sh applet it may have been. */
export function isShellFile(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1)
  return name === 'busybox' || isShellName(name)
}
