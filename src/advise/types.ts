/**
 * What the advice stage takes and gives: the inspection of one image plus a few facts about the
 * image itself go in; the chosen base, the reasons, the exact copy plan, a size estimate and a
 * Dockerfile come out. Everything a human reads is already phrased here (reasons, notes, gaps), so
 * the report stage only lays it out.
 */
import type { ContainerConfig, Platform } from '../image/types.js'
import type { AccountEntry, Gap, Inspection } from '../inspect/types.js'
import type { RootFs } from '../layers/rootfs.js'
import type { Base } from './catalogue/types.js'
import type { Mirrors } from './config.js'

/** The facts about the source image that advice needs besides the inspection. */
export interface SourceImage {
  /** The reference as the user gave it, transport-qualified ("docker://...", "oci:DIR:TAG"). */
  reference: string
  transport: 'docker' | 'docker-archive' | 'oci' | 'oci-archive' | 'docker-daemon'
  /** Registry repository ("127.0.0.1:5000/app", "docker.io/library/nginx"), when the image has one. */
  name?: string
  tag?: string
  /** Digest of the (platform) manifest: what `FROM name@digest` pins. */
  manifestDigest?: string
  platform: Platform
  config: ContainerConfig
  /** Per layer: stored (compressed) size and, when the layer index read it, the bytes of its files. */
  layers: { compressedSize: number; fileBytes?: number }[]
  /** /etc/os-release of the image, when it has one (id "debian", versionId "12"). */
  distro?: { id: string; versionId?: string }
}

export interface AdviseOptions {
  /** Force this base (catalogue name, alias or repository[:tag]). */
  base?: string
  /** Run as this user: "uid[:gid]" or a name the base or the image knows. */
  user?: string
  /** Extra paths to copy from the source image. */
  keep?: string[]
  /** The platform to build for; default: the source image's. */
  platform?: Platform
  /** Registry mirrors applied to base references (gcr.io -> registry.internal:5000). */
  mirrors?: Mirrors
}

export interface AdviseInput {
  inspection: Inspection
  image: SourceImage
  /** The candidate bases (the built-in catalogue with the user's config applied). */
  catalogue: Base[]
  /** The image's merged filesystem: sizes of copied trees, symlinks inside them, --keep checks.
   * Without it, sizes of directories are unknown and the estimate says so. */
  rootfs?: RootFs
  options?: AdviseOptions
}

export type AdviceConfidence = 'high' | 'medium' | 'low'

/** One base that failed a requirement; `rule` names the check function's requirement. */
export interface Rejection {
  base: string
  rule: RuleName
  /** "needs GLIBC_2.38 > 2.36": a sentence that names the requirement and what the base lacks. */
  reason: string
}

export type RuleName =
  | 'status'
  | 'architecture'
  | 'libc'
  | 'interpreter'
  | 'glibc-version'
  | 'glibc-relr'
  | 'glibcxx-version'
  | 'cxxabi-version'
  | 'ca-bundle'
  | 'tzdata'
  | 'users'
  | 'tmp'
  | 'shell'
  | 'runtime'
  | 'runtime-version'
  | 'not-needed'

/** A base that satisfies every requirement, with what using it would take. */
export interface Candidate {
  name: string
  family: Base['family']
  status: Base['status']
  tag: string
  /** The reference written in FROM: mirrored, with @digest when the catalogue knows it. */
  ref: string
  /** The reference without the mirror, as the catalogue names it (for the base.name label). */
  publicRef: string
  digest?: string
  /** Closure libraries the base does not provide (they are copied). */
  copiedLibraries: string[]
  /** Estimated final size in bytes (base + copied), when the base's size is known. */
  estimatedBytes?: number
  baseBytes?: number
  /** Where the base's size comes from ("measured", "estimate: compressed size x 2.3", "unknown"). */
  sizeBasis: string
  /** The base is the same distribution release as the source (libraries copied from it match). */
  sameDistro: boolean
  /** The base has a shell the program does not need (more attack surface). */
  idleShell: boolean
  /** For runtime images: how far its language version is from the app's (0: same line). */
  runtimeDistance?: number
  /** Things true of this choice worth saying (files copied because the base lacks them, ...). */
  notes: string[]
}

export type CopyKind =
  | 'program' // an executable on the way from the config to the program
  | 'script' // a wrapper or the app's main script
  | 'library' // a closure library the base does not provide
  | 'loader' // the dynamic loader (PT_INTERP)
  | 'need' // a file or tree a need names (CA bundle, zoneinfo, config dir, ...)
  | 'app' // an interpreted app's code and its runtime's trees
  | 'writable' // a directory the user must be able to write
  | 'link-target' // the target of a symlink inside a copied tree, which would dangle otherwise
  | 'keep' // --keep

export interface Copy {
  /** Path in the source image, as COPY names it. */
  source: string
  /** Path in the final image (directory symlinks of the source resolved). */
  dest: string
  type: 'file' | 'dir'
  /** Bytes it adds: a file's (or a symlink's target's) size, a tree's regular files; undefined when unknown. */
  bytes?: number
  /** "uid:gid" when the runtime user must own it. */
  chown?: string
  /** Octal mode when it must differ from the source's (e.g. "1777" for a /tmp copied onto scratch). */
  chmod?: string
  kind: CopyKind
  /** One line: why it is copied. */
  why: string
}

export interface RuntimeUser {
  uid: number
  gid: number
  /**
   * What USER says: "uid:gid", or the bare uid when the image's USER named no group and its user
   * has supplementary groups (a group in USER would drop them; the runtime finds them through the
   * slim image's /etc/passwd and /etc/group, where the user's lines are merged).
   */
  spec: string
  /** Supplementary group ids the runtime gives the user (only with a bare-uid spec). */
  groups?: number[]
  source: 'option' | 'image' | 'base-nonroot' | 'root-kept'
  /** Why this user, in one sentence. */
  note: string
}

export interface SizeEstimate {
  /** Base bytes when known. */
  baseBytes?: number
  baseBasis: string
  copiedBytes: number
  /** Copies whose size slim could not tell (directories without a rootfs). */
  unknownCopies: number
  totalBytes?: number
  /** Today's image: the bytes of every layer's files (what `docker images` reports, about). */
  todayBytes: number
  todayBasis: 'layer files' | 'compressed layers'
  /** Percentage saved (0-100), when the total is known. */
  savedPercent?: number
}

/** The final stage's runtime settings, carried over from the source config and adjusted. */
export interface RuntimeConfig {
  workdir: string
  env: [string, string][]
  /** Env names left out because they only matter while building (DEBIAN_FRONTEND, *_SHA256, ...). */
  droppedEnv: string[]
  exposedPorts: string[]
  volumes: string[]
  stopSignal?: string
  labels: Record<string, string>
  /** ENTRYPOINT and CMD in exec form; undefined: not set by the Dockerfile. `[]` resets the base's. */
  entrypoint?: string[]
  cmd?: string[]
  /** What happened to a shell-form command, a path rewrite or a reset, one line each. */
  commandNotes: string[]
  healthcheck?: { test: string[]; interval?: number; timeout?: number; startPeriod?: number; retries?: number }
  /** Why the source's HEALTHCHECK was not carried over. */
  healthcheckDropped?: string
}

/** passwd and group lines of the source image appended to the base's own files (the base's
 * entries, e.g. distroless's nonroot, stay). Lines are validated: no quote, backslash or newline. */
export interface Accounts {
  users: AccountEntry[]
  groups: AccountEntry[]
  /** The source image has a POSIX shell, so a build stage on it can append the lines. */
  viaSourceShell?: boolean
  /** The base has no /etc/passwd (or /etc/group) of its own: the lines make a new file. */
  basePasswd?: boolean
  baseGroup?: boolean
}

/** The Java runtime in the slim image: linked by jlink from the image's JDK, or the JRE copied trimmed. */
export interface JavaRuntimePlan {
  /** The JVM's home in the source (and the slim) image. */
  home: string
  mode: 'jlink' | 'trimmed-copy'
  /** jlink: the tool in the source image, its arguments and output (a build stage on the source). */
  jlink?: {
    tool: string
    modules: { name: string; why: string }[]
    args: string[]
    output: string
    estimatedBytes: number
    /**
     * A JRE relinked from its own modules image: the steps before jlink, in order, each an argv run
     * as root in the build stage (jimage extract; one jmod create per module, java.base last).
     */
    relink?: { image: string; workDir: string; steps: string[][]; moduleCount: number; unknownFiles: string[] }
  }
  /** What of the home (and its libraries) is not in the slim image, each with why. */
  leftOut: { path: string; bytes: number; why: string }[]
  /** Why this mode (for a trimmed copy: why no jlink). */
  why?: string
}

export interface Plan {
  base: Candidate
  /** For a Java app on a base without a JVM: how its runtime gets there. */
  java?: JavaRuntimePlan
  /** Users and groups merged into the base's /etc/passwd and /etc/group. */
  accounts?: Accounts
  copies: Copy[]
  user: RuntimeUser
  runtime: RuntimeConfig
  /** Directories added to LD_LIBRARY_PATH because the base's loader would not search them. */
  ldLibraryPath: string[]
  estimate: SizeEstimate
  notes: string[]
}

/** How an interpreted app gets its interpreter (alternatives.ts). */
export type OptionKind = 'runtime-image' | 'interpreter-copied' | 'base-with-shell'

/** Another viable option than the choice, with what it would cost. */
export interface Alternative {
  /** The base, as the catalogue names it (no mirror). */
  base: string
  kind: OptionKind
  /** Planned size of the final image (base plus copies), when known. */
  estimatedBytes?: number
  confidence: AdviceConfidence
  /** What taking it costs, one phrase each (a retired base, a frozen interpreter, an idle shell). */
  costs: string[]
}

export interface Advice {
  /** slim: a smaller base works. already-small: the image is already no bigger than the best base
   * would make it (the plan and Dockerfile are still given: they harden, they do not shrink).
   * keep: no catalogue base fits; stay on the current one. nothing-to-run: the image has no
   * program slim could find, so there is nothing to copy. */
  verdict: 'slim' | 'already-small' | 'keep' | 'nothing-to-run'
  /** One line for humans. */
  summary: string
  /** Why the chosen base (or the verdict), one sentence each. */
  reasons: string[]
  confidence: AdviceConfidence
  /** Why that level, one line per reason ("low: 1 unresolved library (libfoo.so.1)"). */
  confidenceWhy: string[]
  /** What slim could not check, each with where it comes from (gapText renders one). */
  gaps: AdviceGap[]
  /** Viable bases, best first; the first is the choice (or the forced base). */
  ranking: Candidate[]
  /** For interpreted apps: the best option of each other kind, with its size and confidence. */
  alternatives?: Alternative[]
  rejected: Rejection[]
  forced: boolean
  plan?: Plan
  /** The generated Dockerfile, when the verdict is `slim` or `already-small` (then it only hardens,
   * and `slim dockerfile` writes it only with --harden). */
  dockerfile?: string
  /** Our own rule checks run on `dockerfile` (all pass for a well-formed result). */
  lint: LintFinding[]
}

/**
 * What slim could not check, kept as data until a report renders it (gapText). The inspection's
 * areas carry over; the advice adds what its own checks could not settle: dlopen'd libraries,
 * unverified catalogue facts, and the plan's copy, accounts, access and base problems.
 */
export interface AdviceGap {
  area: Gap['area'] | 'dlopen' | 'catalogue' | 'copy' | 'accounts' | 'access' | 'base'
  message: string
}

export interface LintFinding {
  /** "DL3006", "DL3025", "CIS-DI-0001", or one of slim's own ("SLIM-COPY-ROOT", ...). */
  rule: string
  /** 1-based line of the instruction, 0 for the whole file. */
  line: number
  message: string
}
