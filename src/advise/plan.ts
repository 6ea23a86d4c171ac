/**
 * What to copy from the source image onto the chosen base, and nothing else: the program (under the
 * names the command uses), the libraries the base does not provide (under the names the loader
 * looks up), the files the needs name that the base lacks, the app's trees for interpreted apps,
 * writable directories owned by the runtime user, and --keep paths.
 *
 * COPY follows a symlink given as a source (files.ts), so a chain libssl.so.3 -> libssl.so.3.0.x
 * is copied as one file named libssl.so.3: the name is all the loader needs, and copying both
 * names would store the bytes twice.
 */
import { posix } from 'node:path'
import { SlimError } from '../core/errors.js'
import type { Inspection, Need, NeedKind } from '../inspect/types.js'
import type { RootFs } from '../layers/rootfs.js'
import { isShellName } from '../layers/shells.js'
import type { Base } from './catalogue/types.js'
import type { Evaluated } from './decide.js'
import { canonicalParent, isInside, pathFacts } from './files.js'
import { isShellFile, type Requirements } from './requirements.js'
import { planAccounts } from './accounts.js'
import type { Accounts, AdviceGap, Copy, CopyKind, JavaRuntimePlan, RuntimeUser } from './types.js'
import { BASE_OWNED_DIRS } from './user.js'
import { planJavaRuntime } from './java-runtime.js'

export interface PlanInput {
  insp: Inspection
  req: Requirements
  chosen: Evaluated
  user: RuntimeUser
  rootfs?: RootFs
  keep: string[]
}

export interface CopyPlan {
  copies: Copy[]
  ldLibraryPath: string[]
  notes: string[]
  gaps: AdviceGap[]
  /** passwd/group lines of the image to add to the base's files (never replacing them). */
  accounts: Accounts
  /** A Java app's runtime: linked by jlink, or the JRE copied trimmed. */
  java?: JavaRuntimePlan
}

/** Bounds the symlink-target closure so a tree full of outside links cannot explode the plan. */
const MAX_LINK_TARGETS = 500

class Copies {
  readonly list: Copy[] = []
  private readonly keys = new Map<string, Copy>()

  constructor(private readonly fs: RootFs | undefined) {}

  /** Adds a path (deduplicated by where it lands; a later chown/chmod wins over none). */
  add(source: string, kind: CopyKind, why: string, o: { bytes?: number; chown?: string; chmod?: string; type?: 'file' | 'dir'; keepOwner?: boolean; dest?: string } = {}): Copy | undefined {
    const facts = this.fs ? pathFacts(this.fs, source) : undefined
    if (this.fs && !facts) return undefined // not in the image: nothing to copy (the need says so)
    if (o.keepOwner && !o.chown) {
      // A service user's file (redis's /etc/redis, redis:redis 2770) keeps its owner: COPY would make it root's.
      const st = this.fs?.stat(source)
      if (st && (st.uid !== 0 || st.gid !== 0)) o = { ...o, chown: `${st.uid}:${st.gid}` }
    }
    const dest = o.dest ?? source
    const key = canonicalParent(this.fs, dest)
    const old = this.keys.get(key)
    if (old) {
      old.chown ??= o.chown
      old.chmod ??= o.chmod
      return old
    }
    const copy: Copy = {
      source,
      dest,
      type: o.type ?? facts?.type ?? 'file',
      bytes: facts?.bytes ?? o.bytes,
      ...(o.chown ? { chown: o.chown } : {}),
      ...(o.chmod ? { chmod: o.chmod } : {}),
      kind,
      why,
    }
    this.keys.set(key, copy)
    this.list.push(copy)
    return copy
  }

  /** Drops the copies `drop` selects (the Java runtime planner replaces the home's trees). */
  remove(drop: (c: Copy) => boolean): void {
    const kept = this.list.filter((c) => !drop(c))
    this.list.length = 0
    this.list.push(...kept)
    for (const [k, c] of this.keys) if (!kept.includes(c)) this.keys.delete(k)
  }
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1)
}

/** Paths the command really names (so they must exist under exactly these names). */
function namesUsed(insp: Inspection): Set<string> {
  const used = new Set<string>()
  if (insp.program.path) used.add(insp.program.path)
  for (const s of insp.program.chain) {
    if (s.from.startsWith('/')) used.add(s.from)
    if (s.kind !== 'symlink' && s.to?.startsWith('/')) used.add(s.to)
  }
  return used
}

/** The file a symlink leads to, from the image or from the chain's symlink steps. */
function linkTarget(insp: Inspection, fs: RootFs | undefined, link: string): string | undefined {
  if (fs) return fs.realpath(link)?.path
  let at = link
  for (let hops = 0; hops < 40; hops++) {
    const step = insp.program.chain.find((s) => s.kind === 'symlink' && s.from === at && s.to)
    if (!step) break
    at = step.to!
  }
  return at === link ? undefined : at
}

/** A runtime launcher inside its home (JAVA_HOME/bin/java) finds the home from its own real path,
 * so a copy under another name (/usr/bin/java) would look for it in the wrong place. */
export function launcherInHome(rt: NonNullable<Inspection['runtime']>): boolean {
  return !!rt.home && rt.home !== '/' && isInside(rt.executable, rt.home)
}

function addProgram(p: PlanInput, copies: Copies): void {
  const { insp, chosen, rootfs } = p
  // On a runtime image the interpreter is the base's: the program's own path, its symlinks and
  // its real file all stay behind (the command is pointed at the base's interpreter).
  const onRuntime = !!chosen.base.runtime && !!insp.runtime
  const skip = new Set(onRuntime ? [insp.runtime!.executable, insp.program.path, insp.program.realPath, ...insp.program.symlinks].filter((x): x is string => !!x) : [])
  const used = namesUsed(insp)
  const covered = new Set<string>()
  if (!onRuntime && insp.runtime && launcherInHome(insp.runtime)) for (const l of insp.program.symlinks) skip.add(l)
  // A replaced wrapper (it only exports and execs) is not copied, nor the shell that ran it.
  const wrapper = insp.needs.find((n) => n.kind === 'shell' && n.replaceable)?.replaceable
  if (wrapper) {
    skip.add(wrapper.script)
    for (const exe of insp.program.executables) if (exe !== insp.program.realPath && isShellFile(exe)) skip.add(exe)
    for (const l of insp.program.symlinks) if (isShellName(basename(l))) skip.add(l)
  }
  for (const link of insp.program.symlinks) {
    if (!used.has(link) || skip.has(link)) continue
    if (rootfs && rootfs.stat(link)?.type === 'dir') continue
    const target = linkTarget(insp, rootfs, link)
    copies.add(link, 'program', `${link} (a symlink to ${target ?? '?'}) is how the command names the program`)
    if (target) covered.add(target)
  }
  for (const exe of insp.program.executables) {
    if (skip.has(exe) || (covered.has(exe) && !used.has(exe))) continue
    const role = exe === insp.program.realPath ? 'the program' : 'runs on the way to the program'
    copies.add(exe, 'program', `${exe}: ${role}`)
  }
  const path = insp.program.path
  if (path && !skip.has(path) && !covered.has(path) && !insp.program.executables.includes(path) && !insp.program.symlinks.includes(path)) {
    copies.add(path, 'program', `${path}: the program`)
  }
  for (const script of insp.program.scripts) if (!skip.has(script)) copies.add(script, 'script', `${script}: a script the command runs`)
}

function addLibraries(p: PlanInput, copies: Copies, out: CopyPlan): void {
  const { chosen, req } = p
  for (const lib of chosen.missing) {
    if (lib === req.loader || lib.rule === 'interpreter') {
      const at = req.interpreter ?? lib.path
      copies.add(at, 'loader', `${at}: the dynamic loader (PT_INTERP); ${chosen.base.name} has none at this path`, { bytes: lib.size })
      continue
    }
    const via = lib.rule === 'rpath' || lib.rule === 'runpath' ? ` via ${lib.rule.toUpperCase()}` : ''
    const by = lib.neededBy[0] ? `, needed by ${lib.neededBy[0]}` : ''
    // RPATH $ORIGIN/../lib gives ".../bin/../lib/libjli.so": COPY takes normalised paths only.
    copies.add(posix.normalize(lib.path), 'library', `${lib.name}${via}${by}; ${chosen.base.name} does not ship it`, { bytes: lib.size })
  }
  // Without an ld.so.cache that lists them, directories from ld.so.conf are not searched on the base.
  const defaults = new Set(p.insp.closure.searchPath.defaults)
  const dirs = new Set<string>()
  for (const lib of chosen.missing) {
    if ((lib.rule === 'ld.so.conf' || lib.rule === 'musl-path') && !defaults.has(posix.dirname(lib.path))) dirs.add(posix.dirname(lib.path))
  }
  out.ldLibraryPath.push(...dirs)
}

type NeedHandler = (need: Need, p: PlanInput, copies: Copies, out: CopyPlan) => void

const copyPaths = (kind: CopyKind, o: { chown?: string; keepOwner?: boolean } = {}): NeedHandler => (need, _p, copies) => {
  for (const path of need.paths) copies.add(path, kind, `${path}: ${need.reason}`, o)
}

const unlessBase = (has: (base: Base, path: string) => boolean, kind: CopyKind = 'need'): NeedHandler => (need, p, copies) => {
  for (const path of need.paths) if (!has(p.chosen.base, path)) copies.add(path, kind, `${path}: ${need.reason} (${p.chosen.base.name} lacks it)`)
}

const sonameOf = (base: Base, path: string) => base.provides.sonames.includes(basename(path))

/** One handler per need kind; kinds the rules already decided (CA, tzdata, users, /tmp) copy only through fills. */
const NEED_HANDLERS: Partial<Record<NeedKind, NeedHandler>> = {
  nsswitch: unlessBase((b) => b.provides.nsswitch),
  'nss-module': unlessBase(sonameOf),
  services: unlessBase((b, path) => b.provides.files.includes(path)),
  locale: unlessBase((b, path) => b.provides.locales.some((l) => l.toLowerCase() === basename(path).toLowerCase())),
  gconv: unlessBase((b, path) => b.provides.modules.some((m) => isInside(m, path) || m === path)),
  dlopen: unlessBase(sonameOf, 'library'),
  'program-data': copyPaths('need', { keepOwner: true }),
  // A command a script or config runs: a base with its own POSIX shell keeps it (never copy what the base has).
  'script-command': (need, p, copies) => {
    const shell = p.chosen.base.provides.shell
    for (const path of need.paths) if (!(shell && /^\/(usr\/)?bin\/sh$/.test(path) && p.rootfs?.lstat(path)?.type === 'symlink')) copies.add(path, 'program', `${path}: ${need.reason}`)
  },
  'app-tree': (need, p, copies) => {
    const home = p.chosen.base.runtime ? p.insp.runtime?.home : undefined
    for (const path of need.paths) {
      if (home && isInside(path, home)) continue // the runtime image brings its own standard library
      copies.add(path, 'app', `${path}: ${need.reason}`, { keepOwner: true })
    }
  },
  writable: (need, p, copies, out) => {
    for (const path of need.paths) {
      if (BASE_OWNED_DIRS.has(path) && p.chosen.base.family !== 'scratch') {
        if (p.user.uid !== 0) out.gaps.push({ area: 'copy', message: `${path} must be writable (${need.reason.replace(/\.$/, '')}), but the base already has it, owned by root; COPY cannot change that, so ${p.user.spec} cannot write there` })
        continue
      }
      // A directory a service user owns in the image keeps that owner (the program, or the user
      // it switches to, writes there); a root-owned one goes to the runtime user.
      const st = p.rootfs?.stat(path)
      const own = st && st.uid !== 0 ? `${st.uid}:${st.gid}` : undefined
      const chown = own ?? (p.user.uid === 0 ? undefined : `${p.user.uid}:${p.user.gid}`)
      copies.add(path, 'writable', `${path}: written at run time${chown ? `; owned by ${chown}` : ''}`, { chown })
    }
  },
  home: (need, p, copies) => {
    const baseHome = p.chosen.base.provides.users.find((u) => u.uid === p.user.uid)?.home
    for (const path of need.paths) {
      if (path === baseHome) continue
      const chown = p.user.uid === 0 ? undefined : `${p.user.uid}:${p.user.gid}`
      copies.add(path, 'writable', `${path}: the user's home directory${chown ? `; owned by ${chown}` : ''}`, { chown })
    }
  },
}

/**
 * Need paths list the directory symlinks crossed on the way ("/lib" next to
 * "/lib/x86_64-linux-gnu/libgcc_s.so.1" in a merged-/usr image). COPY would follow such a link and
 * copy the whole directory it points to, so a link that is only a parent of another listed path
 * is dropped; the deeper path brings what is needed.
 */
export function withoutCrossedLinks(need: Need, fs: RootFs | undefined): Need {
  if (!fs) return need
  const paths = need.paths.filter((p) => {
    if (fs.lstat(p)?.type !== 'symlink' || fs.stat(p)?.type !== 'dir') return true
    return !need.paths.some((q) => q !== p && q.startsWith(`${p}/`))
  })
  return paths.length === need.paths.length ? need : { ...need, paths }
}

function addNeeds(p: PlanInput, copies: Copies, out: CopyPlan): void {
  for (const [kind, needs] of p.req.needs) {
    const handler = NEED_HANDLERS[kind]
    if (handler) for (const need of needs) handler(withoutLinkTargets(withoutCrossedLinks(need, p.rootfs), p.rootfs), p, copies, out)
  }
  for (const fill of p.chosen.fills) {
    // The image's passwd/group are merged into the base's (accounts.ts), never copied over them.
    if (fill.need.kind === 'user' && p.chosen.base.provides.users.length > 0) continue
    for (const path of withoutCrossedLinks(fill.need, p.rootfs).paths) {
      copies.add(path, 'need', `${path}: ${fill.need.reason} (${p.chosen.base.name} lacks it)`, { chmod: fill.chmod })
    }
    out.notes.push(fill.note)
  }
  for (const need of p.req.possibleNeeds) {
    if (baseHas(p.chosen.base, need, p.user)) continue
    if (need.paths.length && need.paths.every((x) => copies.list.some((c) => isInside(x, c.source)))) continue
    const paths = withoutCrossedLinks(need, p.rootfs).paths.filter((x) => !BASE_OWNED_DIRS.has(x))
    out.notes.push(`not copied, only possibly needed: ${paths.join(', ') || need.kind} (${need.reason})${paths.length ? '; add it with --keep if the program uses it' : ''}`)
  }
}

/** Does the base already satisfy a need slim would only mention? Then the note is noise. */
function baseHas(base: Base, need: Need, user: RuntimeUser): boolean {
  const pv = base.provides
  switch (need.kind) {
    case 'tzdata': return pv.tzdata
    case 'tmp': return pv.tmp
    case 'nsswitch': return pv.nsswitch
    case 'ca-certificates': return !!pv.caBundle
    case 'services': return need.paths.every((x) => pv.files.includes(x))
    case 'home': return pv.users.some((u) => u.uid === user.uid && need.paths.includes(u.home))
    case 'nss-module': return !need.present // glibc skips a missing module silently: nothing to say
    default: return false
  }
}

/**
 * A need lists a symlink with its target (libsqlite3.so.0 -> libsqlite3.so.0.8.6). COPY follows
 * the link, so copying both stores the bytes twice: the name the program uses is enough.
 */
export function withoutLinkTargets(need: Need, fs: RootFs | undefined): Need {
  if (!fs) return need
  const drop = new Set<string>()
  for (const p of need.paths) {
    if (fs.lstat(p)?.type !== 'symlink' || fs.stat(p)?.type === 'dir') continue
    const real = fs.realpath(p)?.path
    if (real && real !== p) drop.add(real)
    for (const q of need.paths) if (q !== p && fs.lstat(q)?.type === 'symlink' && fs.realpath(q)?.path === real && need.paths.indexOf(q) > need.paths.indexOf(p)) drop.add(q)
  }
  return drop.size ? { ...need, paths: need.paths.filter((p) => !drop.has(p)) } : need
}

function addKeep(p: PlanInput, copies: Copies): void {
  for (const raw of p.keep) {
    const path = posix.normalize(raw.startsWith('/') ? raw : `/${raw}`)
    if (p.rootfs && !p.rootfs.lstat(path)) throw new SlimError('usage', `--keep ${raw}: no such path in the image; give an absolute path that exists in it`)
    copies.add(path, 'keep', `${path}: asked for with --keep`)
  }
}

/** Symlinks inside copied trees whose targets were left behind would dangle: copy the targets. */
function closeLinks(p: PlanInput, copies: Copies, out: CopyPlan): void {
  if (!p.rootfs) return
  let added = 0
  for (let i = 0; i < copies.list.length; i++) {
    const c = copies.list[i]
    if (c.type !== 'dir') continue
    const facts = pathFacts(p.rootfs, c.source)
    for (const [link, target] of facts?.outsideLinks ?? []) {
      if (copies.list.some((o) => isInside(target, canonicalParent(p.rootfs, o.source)))) continue
      if (++added > MAX_LINK_TARGETS) {
        out.gaps.push({ area: 'copy', message: `more than ${MAX_LINK_TARGETS} symlinks in copied trees point outside them; the rest may dangle` })
        return
      }
      copies.add(target, 'link-target', `${target}: target of the symlink ${link}`)
    }
  }
}

/** Drops copies a copied directory already brings with the same ownership and mode. */
function prune(list: Copy[]): Copy[] {
  const dirs = list.filter((c) => c.type === 'dir')
  return list.filter((c) => !dirs.some((d) => d !== c && isInside(c.dest, d.dest) && d.chown === c.chown && d.chmod === c.chmod))
}

/** Empty directories a Debian-like image has (root-owned, 0755): COPY of one makes a new
 * directory in the final image without a RUN (the final base may have no shell). */
const EMPTY_DIR_CANDIDATES = ['/srv', '/mnt', '/media', '/opt', '/home', '/usr/src', '/usr/local/src', '/usr/local/games', '/usr/games', '/var/opt', '/var/local', '/var/mail']

export function emptyDirOf(fs: RootFs): string | undefined {
  return EMPTY_DIR_CANDIDATES.find((d) => {
    const st = fs.lstat(d)
    return st?.type === 'dir' && st.uid === 0 && st.gid === 0 && (st.mode & 0o7777) === 0o755 && fs.readdir(d).length === 0
  })
}

/**
 * The directories a replaced wrapper made with `mkdir -p` before exec'ing the program: the final
 * image starts the program directly, so they are made at build time. The wrapper ran as the
 * image's USER, so a directory it created belongs to that user (now the runtime user); one the
 * image already has is copied with its owner.
 */
function addWrapperDirs(p: PlanInput, copies: Copies, out: CopyPlan): void {
  const wrapper = p.insp.needs.find((n) => n.kind === 'shell' && n.replaceable)?.replaceable
  if (!wrapper?.mkdir.length) return
  const chown = p.user.uid === 0 ? undefined : `${p.user.uid}:${p.user.gid}`
  for (const dir of wrapper.mkdir) {
    if (BASE_OWNED_DIRS.has(dir) || dir === '/tmp') continue
    const why = `${dir}: ${wrapper.script} makes it (mkdir -p) before it execs the program`
    const st = p.rootfs?.stat(dir)
    if (st?.type === 'dir') {
      copies.add(dir, 'writable', why, { keepOwner: true })
      continue
    }
    if (!p.rootfs) {
      out.gaps.push({ area: 'copy', message: `${why}; without the image's filesystem slim cannot plan it: create it in the final image` })
      continue
    }
    if (st) {
      out.gaps.push({ area: 'copy', message: `${why}, but in the image it is a ${st.type}: the wrapper would fail there too` })
      continue
    }
    const empty = emptyDirOf(p.rootfs)
    if (!empty) {
      out.gaps.push({ area: 'copy', message: `${why}; the image has no empty directory to COPY it from, so the final image lacks it: add it with a RUN on a base with a shell, or point the program elsewhere` })
      continue
    }
    copies.add(empty, 'writable', `${why}; made by copying the image's empty ${empty}${chown ? `, owned by ${chown} (the wrapper made it as the image's user)` : ''}`, { chown, dest: dir, type: 'dir' })
  }
}

export function planCopies(p: PlanInput): CopyPlan {
  const out: CopyPlan = { copies: [], ldLibraryPath: [], notes: [], gaps: [], accounts: { users: [], groups: [] } }
  const copies = new Copies(p.rootfs)
  addProgram(p, copies)
  addLibraries(p, copies, out)
  addNeeds(p, copies, out)
  addWrapperDirs(p, copies, out)
  addKeep(p, copies)
  const java = planJavaRuntime(p, copies)
  if (java) out.java = java
  closeLinks(p, copies, out)
  out.copies = prune(copies.list)
  out.accounts = planAccounts(p, out)
  if (!p.rootfs) {
    const dirs = out.copies.filter((c) => c.bytes === undefined).length
    if (dirs) out.notes.push(`${dirs} copied paths have no known size (no image filesystem was given): the estimate leaves them out`)
  }
  return out
}
