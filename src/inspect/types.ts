/**
 * What inspection tells the advice stage: which program the image runs, how slim got there from
 * the config, the ELF facts and library closure the dynamic loader would produce, and every other
 * file or setting the program needs at run time, each with its reason and evidence.
 *
 * Every path is absolute and inside the image root. Nothing here is host data.
 */
import type { ElfClass, ElfMachine, ElfType, LibcFlavour } from './elf/types.js'
import type { GoBuildInfo } from './gobuildinfo.js'
import type { RustInfo } from './rustinfo.js'

/** How sure slim is about a need. `certain`: the loader or the config demands it; `likely`: the
 * program's code shows it uses it (imports, build info); `possible`: a heuristic (a name in strings,
 * a table of known programs). */
export type Confidence = 'certain' | 'likely' | 'possible'

// ---------------------------------------------------------------------------------------------
// The program
// ---------------------------------------------------------------------------------------------

/** The kind of thing the container finally runs. */
export type ProgramKind =
  /** A native executable (C, C++, Go, Rust, a shell with no script, ...). */
  | 'elf'
  /** A language runtime running an app (python app.py, java -jar app.jar, node server.js, ...). */
  | 'interpreted'
  /** A shell script slim could not see past: the shell and the script are known, what the script runs is not. */
  | 'script'
  /** Nothing to run: no ENTRYPOINT/CMD, or the named program is not in the image (or is not executable). */
  | 'missing'

/** One step from the config's command to the program that really runs, in order. */
export interface ChainStep {
  kind:
    | 'command' // the argv Docker builds from ENTRYPOINT + CMD (or --entrypoint)
    | 'shell-form' // ["/bin/sh","-c","..."]: the string, read statically
    | 'path-lookup' // a bare name found on PATH
    | 'workdir' // a relative path joined with WORKDIR (or a `cd` in a shell string)
    | 'symlink' // a symlink followed inside the image (busybox applets, /etc/alternatives)
    | 'shebang' // a script's #! line names its interpreter
    | 'env' // /usr/bin/env NAME: NAME looked up on PATH
    | 'launcher' // an init or user switcher (tini, dumb-init, gosu, su-exec, ...) runs the next words
    | 'wrapper' // a shell wrapper's `exec` line
    | 'interpreter' // a language runtime and the app it runs
  /** The word or path the step started from. */
  from: string
  /** The path (or word) it led to, when it led somewhere. */
  to?: string
  /** One line for humans, e.g. "found 'nginx' on PATH in /usr/sbin". */
  detail: string
}

/** Where a static reading had to stop, and why (the program may still be right, but unproven). */
export interface Stop {
  /** The script, word or path slim was looking at. */
  at: string
  reason: string
}

export interface Program {
  kind: ProgramKind
  /** The argv Docker would start: ENTRYPOINT + CMD as stored in the config, or the override. */
  command: string[]
  commandSource: 'entrypoint+cmd' | 'entrypoint' | 'cmd' | 'override' | 'none'
  /** The final program as found (may be a symlink), e.g. "/usr/bin/python3". */
  path?: string
  /** The same after resolving symlinks inside the image, e.g. "/usr/bin/python3.11". */
  realPath?: string
  /** The argv the final program receives (argv[0] first), as far as a static reading tells. */
  argv: string[]
  /** Every step from the config to the final program. */
  chain: ChainStep[]
  /** Real paths of every ELF executable that runs on the way (init, user switcher, the shell that
   * runs a wrapper, the interpreter, the program): each needs its library closure. */
  executables: string[]
  /** Scripts read on the way (wrappers, shebang scripts, the app's main script when it is a file). */
  scripts: string[]
  /** Symlinks crossed on the way: a slim image must keep them or call the target directly. */
  symlinks: string[]
  /** Where the static reading stopped before reaching a final program, if it did. */
  stopped?: Stop
  /** The program's working directory: WORKDIR (default "/"), or where a `cd` in a shell-form
   * command moved it before the program started. */
  workdir: string
  /** The environment the program starts with: the config's Env (later entries win, as Docker
   * applies them), changed by `env NAME=value` launchers and by top-level assignments and
   * exports in the wrapper scripts on the way. */
  env: Record<string, string>
  /** The PATH used for lookups, and where it came from. */
  pathDirs: { dirs: string[]; source: 'config' | 'docker-default' }
  /** Why a shell is needed at run time (empty: the program runs without one). */
  shellReasons: string[]
}

// ---------------------------------------------------------------------------------------------
// ELF facts (summary of the program's ELF, for reports and base-image choice)
// ---------------------------------------------------------------------------------------------

export interface SymbolVersions {
  /** Highest GLIBC_2.x needed, e.g. "2.34". */
  glibc?: string
  /** Highest GLIBCXX_3.4.x needed (libstdc++), e.g. "3.4.30". */
  glibcxx?: string
  /** Highest CXXABI_1.3.x needed. */
  cxxabi?: string
  /** Highest GCC_x.y needed from libgcc_s. */
  gcc?: string
  /** GLIBC_PRIVATE symbols tie the file to the exact glibc build it came with. */
  glibcPrivate: boolean
  /** GLIBC_ABI_DT_RELR (packed relocations) needs glibc >= 2.36. */
  abiDtRelr: boolean
}

export interface ElfSummary {
  path: string
  class: ElfClass
  endianness: 'little' | 'big'
  machine: ElfMachine
  type: ElfType
  libc: LibcFlavour
  libcEvidence: string
  interpreter?: string
  static: boolean
  stripped: boolean
  needed: string[]
  rpath: string[]
  runpath: string[]
  /** Versions the program itself requires. */
  versions: SymbolVersions
  /** Versions required by the program and every library of its closure that the C/C++ runtime does
   * not itself provide: what a replacement base image's glibc/libstdc++ must satisfy. */
  closureVersions: SymbolVersions
  /** libstdc++ is in the closure. */
  cxx: boolean
  warnings: string[]
}

// ---------------------------------------------------------------------------------------------
// Interpreted apps
// ---------------------------------------------------------------------------------------------

export type RuntimeLanguage = 'python' | 'node' | 'java' | 'ruby' | 'php' | 'perl' | 'shell'

export interface Runtime {
  language: RuntimeLanguage
  /** The runtime executable (real path), e.g. "/usr/bin/python3.11". */
  executable: string
  version?: string
  /** Where the version came from ("binary name python3.11", "/usr/lib/jvm/.../release"). */
  versionEvidence?: string
  /** The runtime's home or library root (JAVA_HOME, /usr/lib/python3.11, /usr/local/lib/node_modules). */
  home?: string
  /** What the runtime runs. */
  app: {
    kind: 'script' | 'module' | 'jar' | 'classpath' | 'inline' | 'repl' | 'fpm' | 'unknown'
    /** The main file, when there is one (app.py, app.jar, server.js). */
    path?: string
    /** Module or class name (python -m NAME, java MainClass). */
    name?: string
    /** Extra code locations (classpath entries, PYTHONPATH). */
    classpath?: string[]
  }
  /** The app directory: the script's or jar's directory, else WORKDIR. */
  appDir: string
  /** Trees the runtime needs besides its executable's closure (stdlib, site-packages, node_modules,
   * JAVA_HOME/lib, gem and extension dirs), only those that exist in the image. */
  trees: string[]
  /** Java only: what slim read about the JVM's home and the app's classes (inspect/java/facts.ts). */
  java?: JavaFacts
}

/** A file of a Java home's lib/, bin/ or conf/ and the module it belongs to (inspect/java/home-files.ts). */
export interface JavaHomeFile {
  /** Relative to the home ("lib/libnet.so"). */
  path: string
  bytes: number
  module?: string
  /** false: a file slim's table does not know, kept with java.base. */
  known?: boolean
  /** Why no linked runtime takes it (lib/modules, the whole image's CDS archives). */
  leftOut?: string
  /** A link to a directory: what jmod would make of it is not known, so such a home is not relinked. */
  dirLink?: boolean
}

/** A part of a Java home a running JVM does not read for this app, and why. */
export interface JavaUnused {
  path: string
  /** Bytes of a file (0 for a directory or a link). */
  bytes: number
  why: string
}

export interface JavaFacts {
  /**
   * What jlink links from. jmods: the home has bin/jlink and jmods/ (same home, so the same release
   * as the JVM). runtime-image: no jmods, but the home's own lib/modules holds jdk.jlink: the
   * launcher (tool) runs jimage, jmod and jlink from it to relink the runtime from its own modules.
   */
  jlink?: { kind: 'jmods'; tool: string; jmods: string; jmodCount: number } | { kind: 'runtime-image'; tool: string; image: string; moduleCount: number; files: JavaHomeFile[] }
  /** The modules for `jlink --add-modules`, each with why; absent when slim could not decide them. */
  modules?: { name: string; why: string }[]
  /** For the chosen modules: the native libraries they put in the runtime (paths in this home),
   * and the estimated bytes of the linked runtime (natives as they are, classes as stored in the jmods). */
  linked?: { native: string[]; bytes: number; modules: string[] }
  /** Why no module list (no jmods, nothing read, an unreadable jmod), when there is none. */
  noModulesWhy?: string
  /** What the app's classes were read from. */
  read: { classes: number; jars: number; packagesUsed: number }
  /** Parts of the home the app's JVM does not read (for a copied runtime). */
  unused: JavaUnused[]
  /** Bytes of the home's lib/modules (the jimage of every module the home has). */
  modulesImageBytes?: number
}

// ---------------------------------------------------------------------------------------------
// Library closure
// ---------------------------------------------------------------------------------------------

/** Which loader rule found a library (glibc's order: rpath, ld-library-path, runpath, ld.so.conf
 * (the ld.so.cache), default; musl's: ld-library-path, rpath/runpath (either tag), musl-path).
 * A name answered by an object already loaded (a soname match, or musl's own libc names) adds no
 * library: it is an edge to that object in the tree, so `libraries` never carries
 * 'already-loaded' and carries 'musl-self' only if musl had to answer before its own file was known. */
export type SearchRule =
  | 'interpreter' // PT_INTERP
  | 'path' // the name contains '/', used as a path
  | 'already-loaded' // the name matches an already loaded object's soname (glibc) or short name (musl)
  | 'musl-self' // musl resolves libc.so, libpthread.so.0, libm.so.6, ... to itself
  | 'rpath'
  | 'ld-library-path'
  | 'runpath'
  | 'ld.so.conf'
  | 'default'
  | 'musl-path'

export interface ResolvedLibrary {
  /** The name as requested (DT_NEEDED or a dlopen name), e.g. "libssl.so.3". */
  name: string
  /** Where the loader found it (search dir + name) exactly as ld.so prints it, e.g.
   * "/lib/x86_64-linux-gnu/libssl.so.3" (through the /lib -> usr/lib link) or
   * "/opt/app/bin/../lib/libx.so" (ld.so does not normalise $ORIGIN paths). To copy files, use
   * `symlinks` + `realPath` (or Inspection.files()). */
  path: string
  /** The file itself after resolving symlinks inside the image. */
  realPath: string
  /** Symlinks crossed from `path` to `realPath` (each the absolute path of a link). */
  symlinks: string[]
  size: number
  soname?: string
  /** Real paths of every object that needs it (the first is the one that made the loader load it). */
  neededBy: string[]
  /** 1 = needed by a root (the program), 2 = by one of those, ... */
  depth: number
  rule: SearchRule
  /** How it got into the closure: DT_NEEDED, PT_INTERP, or dlopen (from notes/strings, see needs). */
  via: 'needed' | 'interpreter' | 'dlopen'
  /** CPU-specific copies in glibc-hwcaps/ subdirectories that some machines would load instead. */
  variants?: string[]
}

export interface UnresolvedLibrary {
  name: string
  neededBy: string[]
  /** Directories searched, in order, so a human can check the loader's reasoning. */
  searched: string[]
  /** Candidates skipped (wrong ELF class/machine, not an ELF), with why. */
  skipped: { path: string; reason: string }[]
  via: 'needed' | 'dlopen'
}

/** The closure as a tree for display: each object's DT_NEEDED in order. An object shown once
 * already is repeated with `seen: true` and no children, as lddtree does. */
export interface ClosureNode {
  name: string
  path?: string
  seen?: boolean
  missing?: boolean
  children: ClosureNode[]
}

export interface Closure {
  /** 'glibc' / 'musl': rules of that loader were applied; 'none': static executables, no loader. */
  loader: 'glibc' | 'musl' | 'none' | 'unknown'
  /** Real paths of the executables the closure starts from (Program.executables that are ELF). */
  roots: string[]
  /** The program's dynamic loader (PT_INTERP); for a static program started through a dynamic
   * shell or launcher, that executable's loader. It is also in `libraries`. */
  interpreter?: ResolvedLibrary
  /** Every object the loader maps, in the loader's breadth-first order. */
  libraries: ResolvedLibrary[]
  unresolved: UnresolvedLibrary[]
  tree: ClosureNode[]
  /** The search path pieces slim used (for explanations): ld.so.conf dirs, default dirs, musl path. */
  searchPath: { ldLibraryPath: string[]; ldSoConf: string[]; defaults: string[]; muslPath?: string[] }
  warnings: string[]
}

// ---------------------------------------------------------------------------------------------
// Needs beyond libraries
// ---------------------------------------------------------------------------------------------

export type NeedKind =
  | 'ca-certificates'
  | 'tzdata'
  | 'nsswitch'
  | 'nss-module'
  | 'hosts'
  | 'resolv.conf'
  | 'services'
  | 'user'
  | 'home'
  | 'tmp'
  | 'locale'
  | 'gconv'
  | 'dlopen'
  | 'program-data' // config/data dirs of a known program, or paths in its args
  | 'app-tree' // the interpreted app's code and its runtime's library trees
  | 'writable' // paths the program writes (VOLUME, known log/state dirs)
  | 'port'
  | 'shell'
  | 'script-command' // a command a wrapper script runs besides the program
  | 'account' // users and groups the program's config names (passwd/group entries it looks up)

export interface Need {
  kind: NeedKind
  /** Files or directories in the image that satisfy it. A directory stands for its whole tree,
   * except for `writable` needs (/tmp, HOME, VOLUMEs, log/state dirs): there the directory itself
   * must exist, its build-time contents are not needed. */
  paths: string[]
  /** The image has what satisfies it (or the runtime provides it, see `providedBy`). */
  present: boolean
  /** Why the program needs it, in one sentence. */
  reason: string
  /** What slim saw: symbols, build info, closure members, config fields. */
  evidence: string[]
  confidence: Confidence
  /** 'runtime': the container runtime supplies it (Docker bind-mounts /etc/resolv.conf, /etc/hosts). */
  providedBy?: 'image' | 'runtime'
  /** For writable needs and /tmp: the path must be writable by the USER. */
  writable?: boolean
  /** Resolved USER for `user`/`home` needs. */
  user?: {
    spec: string
    name?: string
    uid?: number
    gid?: number
    group?: string
    home?: string
    /** The groups /etc/group lists the user in besides its primary one: the runtime adds them only when USER names no group. */
    supplementary?: { name: string; gid: number }[]
  }
  /** For `port`: "80/tcp". */
  port?: string
  /** For `account`: the passwd and group entries, as the image defines them, that the program looks up by name. */
  accounts?: { users: AccountEntry[]; groups: AccountEntry[] }
  /** For `shell`: the wrapper only exports, makes directories and execs its arguments, so the
   * final image can start the program directly (ENV for the exports) and needs no shell. */
  replaceable?: { script: string; env: [string, string][]; mkdir: string[]; sourced?: string[] }
  /** For `account`: why the program must start as root (its config makes it switch user or chroot). */
  rootReason?: string
}

/** One /etc/passwd or /etc/group line of the image, by name. */
export interface AccountEntry {
  name: string
  /** The image's whole line ("haproxy:x:100:101::/var/lib/haproxy:/usr/sbin/nologin"); absent when the image lacks the name. */
  line?: string
  uid?: number
  gid?: number
}

// ---------------------------------------------------------------------------------------------
// Findings and gaps
// ---------------------------------------------------------------------------------------------

/** Something wrong or notable about the image itself (a missing program, an unresolved library). */
export interface Finding {
  severity: 'error' | 'warning' | 'info'
  code:
    | 'no-command'
    | 'program-missing'
    | 'not-executable'
    | 'library-unresolved'
    | 'interpreter-missing'
    | 'user-unknown'
    | 'need-missing'
    | 'malformed-elf'
    | 'foreign-arch'
  message: string
}

/** What slim could not see statically, so the advice is less sure there. */
export interface Gap {
  area: 'entrypoint' | 'elf' | 'closure' | 'needs' | 'runtime'
  message: string
}

// ---------------------------------------------------------------------------------------------
// The whole answer
// ---------------------------------------------------------------------------------------------

export interface Inspection {
  program: Program
  /** The final program's ELF facts (for interpreted apps: the runtime's). */
  elf?: ElfSummary
  /** Go build info of the final program, when it is a Go binary. */
  go?: GoBuildInfo
  /** Rust facts of the final program, when it is a Rust binary. */
  rust?: RustInfo
  runtime?: Runtime
  closure: Closure
  needs: Need[]
  findings: Finding[]
  gaps: Gap[]
  /**
   * The exact, sorted list of paths the program needs: the chain's symlinks and scripts, every
   * executable, every library with its symlink chain, and the paths of needs that are present in
   * the image with `certain` or `likely` confidence (directories listed with their whole tree).
   * Runtime-provided files and `possible` needs are left out (see files.ts for the policy).
   */
  files: string[]
}
