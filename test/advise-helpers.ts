/**
 * Hand-built inspections for the advice unit tests: a few builders that fill every field of the
 * inspection types with what a real inspection of such a program reports, so each test states
 * only what it is about. Plus a small in-memory RootFs for the copy plan's size and symlink logic.
 */
import { posix } from 'node:path'
import type { ElfSummary, Inspection, Need, NeedKind, Program, ResolvedLibrary, Runtime, SymbolVersions } from '../src/inspect/types.js'
import type { GoBuildInfo } from '../src/inspect/gobuildinfo.js'
import type { FileInfo, RootFs } from '../src/layers/rootfs.js'
import type { SourceImage } from '../src/advise/types.js'
import { builtinBases } from '../src/advise/catalogue/load.js'
import type { Base } from '../src/advise/catalogue/types.js'

export const GLIBC_LOADER = '/lib64/ld-linux-x86-64.so.2'
export const MUSL_LOADER = '/lib/ld-musl-x86_64.so.1'
const TRIPLET = '/lib/x86_64-linux-gnu'

export function versions(v: Partial<SymbolVersions> = {}): SymbolVersions {
  return { glibcPrivate: false, abiDtRelr: false, ...v }
}

export function elf(path: string, o: Partial<ElfSummary> = {}): ElfSummary {
  const dynamic = o.libc === 'glibc' || o.libc === 'musl'
  return {
    path,
    class: 64,
    endianness: 'little',
    machine: 'x86-64',
    type: dynamic ? 'PIE' : 'EXEC',
    libc: 'none',
    libcEvidence: dynamic ? `PT_INTERP ${o.interpreter ?? ''}` : 'static, no PT_INTERP',
    static: !dynamic,
    stripped: true,
    needed: [],
    rpath: [],
    runpath: [],
    versions: versions(),
    closureVersions: versions(),
    cxx: false,
    warnings: [],
    ...o,
  }
}

export function lib(name: string, o: Partial<ResolvedLibrary> = {}): ResolvedLibrary {
  const path = o.path ?? `${TRIPLET}/${name}`
  return {
    name,
    path,
    realPath: o.realPath ?? path,
    symlinks: [],
    size: 100_000,
    soname: name,
    neededBy: ['/app/prog'],
    depth: 1,
    rule: 'default',
    via: 'needed',
    ...o,
  }
}

export function loader(path = GLIBC_LOADER, size = 210_000): ResolvedLibrary {
  return lib(posix.basename(path), { path, realPath: path, rule: 'interpreter', via: 'interpreter', size })
}

export function need(kind: NeedKind, paths: string[], o: Partial<Need> = {}): Need {
  return { kind, paths, present: true, reason: `the program needs ${kind}`, evidence: [`evidence for ${kind}`], confidence: 'certain', providedBy: 'image', ...o }
}

export function program(path: string, o: Partial<Program> = {}): Program {
  return {
    kind: 'elf',
    command: [path],
    commandSource: 'entrypoint',
    path,
    realPath: path,
    argv: [path],
    chain: [{ kind: 'command', from: path, to: path, detail: `runs ${path}` }],
    executables: [path],
    scripts: [],
    symlinks: [],
    workdir: '/',
    env: {},
    pathDirs: { dirs: ['/usr/bin', '/bin'], source: 'docker-default' },
    shellReasons: [],
    ...o,
  }
}

export interface InspectionParts {
  program?: Partial<Program>
  path?: string
  elf?: Partial<ElfSummary>
  libraries?: ResolvedLibrary[]
  interpreter?: ResolvedLibrary
  needs?: Need[]
  runtime?: Runtime
  go?: GoBuildInfo
  gaps?: Inspection['gaps']
  findings?: Inspection['findings']
  unresolved?: Inspection['closure']['unresolved']
}

export function inspection(p: InspectionParts = {}): Inspection {
  const path = p.path ?? '/app/prog'
  const libs = [...(p.interpreter ? [p.interpreter] : []), ...(p.libraries ?? [])]
  const loaderKind = p.elf?.libc === 'musl' ? 'musl' : p.elf?.libc === 'glibc' ? 'glibc' : 'none'
  const insp: Inspection = {
    program: program(path, p.program),
    elf: elf(p.program?.realPath ?? path, p.elf),
    ...(p.go !== undefined ? { go: p.go } : {}),
    ...(p.runtime ? { runtime: p.runtime } : {}),
    closure: {
      loader: loaderKind,
      roots: [path],
      ...(p.interpreter ? { interpreter: p.interpreter } : {}),
      libraries: libs,
      unresolved: p.unresolved ?? [],
      tree: [],
      searchPath: { ldLibraryPath: [], ldSoConf: [], defaults: [TRIPLET, '/usr/lib/x86_64-linux-gnu', '/lib', '/usr/lib'] },
      warnings: [],
    },
    needs: p.needs ?? [],
    findings: p.findings ?? [],
    gaps: p.gaps ?? [],
    files: [],
  }
  return insp
}

/** A glibc program with the given libraries (libc.so.6 always), PT_INTERP and closure versions. */
export function glibcProgram(libNames: string[], o: { glibc?: string; glibcxx?: string; cxx?: boolean; needs?: Need[]; path?: string; distroLibs?: ResolvedLibrary[] } = {}): Inspection {
  const path = o.path ?? '/app/prog'
  const libs = ['libc.so.6', ...libNames].map((n) => lib(n, { neededBy: [path] }))
  return inspection({
    path,
    elf: {
      libc: 'glibc',
      interpreter: GLIBC_LOADER,
      needed: ['libc.so.6', ...libNames],
      cxx: o.cxx ?? false,
      closureVersions: versions({ glibc: o.glibc ?? '2.34', glibcxx: o.glibcxx }),
    },
    interpreter: loader(),
    libraries: libs,
    needs: o.needs,
  })
}

export function staticGo(needs: Need[] = [], path = '/app/hello'): Inspection {
  return inspection({ path, elf: { libc: 'none', libcEvidence: 'Go program, no libc' }, go: { goVersion: 'go1.19' } as GoBuildInfo, needs })
}

export function sourceImage(o: Partial<SourceImage> = {}): SourceImage {
  return {
    reference: 'docker://registry.example:5000/team/app:1.0',
    transport: 'docker',
    name: 'registry.example:5000/team/app',
    tag: '1.0',
    manifestDigest: `sha256:${'a'.repeat(64)}`,
    platform: { os: 'linux', architecture: 'amd64' },
    config: { Entrypoint: ['/app/prog'] },
    layers: [{ compressedSize: 30_000_000, fileBytes: 80_000_000 }],
    ...o,
  }
}

let catalogue: Base[] | undefined
/** The shipped catalogue (a fresh copy per call is not needed: advice never changes it). */
export function bases(): Base[] {
  catalogue ??= builtinBases()
  return catalogue
}

/** Sizes for bases whose catalogue entry has none yet, so ranking by size is deterministic in tests. */
export function withSizes(list: Base[], sizes: Record<string, number>): Base[] {
  return list.map((b) => (sizes[b.name] !== undefined ? { ...b, size: { ...b.size, uncompressed: sizes[b.name], basis: 'test' } } : b))
}

// ---------------------------------------------------------------------------------------------
// An in-memory RootFs: files with sizes, directories, symlinks.
// ---------------------------------------------------------------------------------------------

type Entry = { type: 'file'; size: number } | { type: 'dir' } | { type: 'symlink'; target: string }

export class MapRootFs implements RootFs {
  private readonly map = new Map<string, Entry>([['/', { type: 'dir' }]])

  constructor(spec: Record<string, number | string | 'dir'>) {
    for (const [path, v] of Object.entries(spec)) {
      this.mkdirs(posix.dirname(path))
      if (v === 'dir') this.map.set(path, { type: 'dir' })
      else if (typeof v === 'number') this.map.set(path, { type: 'file', size: v })
      else this.map.set(path, { type: 'symlink', target: v })
    }
  }

  private mkdirs(dir: string): void {
    for (let d = dir; d !== '/' && !this.map.has(d); d = posix.dirname(d)) this.map.set(d, { type: 'dir' })
  }

  private info(path: string, e: Entry): FileInfo {
    return { path, type: e.type, mode: e.type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, size: e.type === 'file' ? e.size : 0, layer: 0, ...(e.type === 'symlink' ? { linkTarget: e.target } : {}) }
  }

  realpath(path: string): { path: string; chain: string[] } | undefined {
    const chain: string[] = []
    let parts = posix.normalize(path).split('/').filter(Boolean)
    let at = '/'
    for (let hops = 0; parts.length; ) {
      const next = posix.join(at, parts.shift()!)
      const e = this.map.get(next)
      if (!e) return undefined
      if (e.type === 'symlink') {
        if (++hops > 40) return undefined
        chain.push(next)
        const t = e.target.startsWith('/') ? e.target : posix.join(at, e.target)
        parts = [...t.split('/').filter(Boolean), ...parts]
        at = '/'
      } else at = next
    }
    return { path: at, chain }
  }

  lstat(path: string): FileInfo | undefined {
    const parent = this.realpath(posix.dirname(path))
    if (!parent) return undefined
    const p = posix.join(parent.path, posix.basename(path))
    const e = this.map.get(p)
    return e && this.info(path, e)
  }

  stat(path: string): FileInfo | undefined {
    const r = this.realpath(path)
    const e = r && this.map.get(r.path)
    return e && this.info(r.path, e)
  }

  readdir(path: string): string[] {
    const r = this.realpath(path)
    if (!r || this.map.get(r.path)?.type !== 'dir') return []
    const prefix = r.path === '/' ? '/' : `${r.path}/`
    return [...this.map.keys()].filter((k) => k !== r.path && k.startsWith(prefix) && !k.slice(prefix.length).includes('/')).map((k) => k.slice(prefix.length)).sort()
  }

  async readFile(): Promise<Buffer> {
    return Buffer.alloc(0)
  }

  *entries(): Iterable<FileInfo> {
    for (const [p, e] of [...this.map].sort(([a], [b]) => (a < b ? -1 : 1))) yield this.info(p, e)
  }
}
