/**
 * From the image config to the program that really runs: the command Docker builds, looked up on
 * PATH, through symlinks, #! lines, shells (`sh -c STRING`, `sh script`), wrapper scripts that
 * `exec "$@"`, and launchers (tini, gosu, env, ...), recording each step and, when a static reading
 * cannot go on, where and why it stopped.
 */
import { posix } from 'node:path'
import type { ImageConfig } from '../../image/types.js'
import type { RootFs } from '../../layers/rootfs.js'
import { ELF_MAGIC, isElf } from '../elf/header.js'
import { isShellName } from '../../layers/shells.js'
import { runtimeLanguage } from '../interpreters/language.js'
import type { Finding, Gap, Program, RuntimeLanguage } from '../types.js'
import { effectiveCommand, envMap, pathDirs } from './command.js'
import { isFound, lookupProgram, type Found } from './lookup.js'
import { readLauncher, SUPERVISORS } from './launchers.js'
import { readShebang, readWrapper } from './script.js'
import { expandWords, parseShell, type ShellCommand } from './shell-words.js'

/** More hops than any real image needs; a bound against loops (a wrapper exec'ing itself). */
const MAX_STEPS = 32
/** Wrapper scripts are a few KB; a bigger "script" is not read (untrusted input stays bounded). */
const MAX_SCRIPT_BYTES = 1024 * 1024
/** The same bound inspectImage uses for ELF files. */
const MAX_PROGRAM_BYTES = 1024 * 1024 * 1024

export interface ScriptCommand {
  /** The command word as written. */
  name: string
  /** The script (or "sh -c" string) that runs it, and the line. */
  script: string
  line: number
  /** Where it is in the image, when found. */
  found?: Found
  /** Top level (always runs) or inside a condition/loop/function. */
  conditional: boolean
}

export interface ResolvedProgram {
  program: Program
  /** The final executable's language, when it is a runtime (python, java, ..., shell). */
  language?: RuntimeLanguage
  /** Commands scripts on the way run besides the program. */
  scriptCommands: ScriptCommand[]
  findings: Finding[]
  gaps: Gap[]
}

type FileReader = (path: string) => Promise<Buffer>

export async function resolveProgram(rootfs: RootFs, config: ImageConfig, opts: { entrypoint?: string[]; readFile?: FileReader } = {}): Promise<ResolvedProgram> {
  const cc = config.config
  const { argv: command, source } = effectiveCommand(cc, opts.entrypoint)
  const env = envMap(cc?.Env)
  const workdir = cc?.WorkingDir && cc.WorkingDir !== '' ? cc.WorkingDir : '/'
  const program: Program = {
    kind: 'missing',
    command,
    commandSource: source,
    argv: [],
    chain: [],
    executables: [],
    scripts: [],
    symlinks: [],
    workdir,
    env,
    pathDirs: pathDirs(env),
    shellReasons: [],
  }
  const out: ResolvedProgram = { program, scriptCommands: [], findings: [], gaps: [] }
  if (command.length === 0) {
    out.findings.push({ severity: 'error', code: 'no-command', message: 'the image has no ENTRYPOINT and no CMD: there is no program to analyse (use --entrypoint)' })
    program.stopped = { at: 'config', reason: 'no ENTRYPOINT and no CMD' }
    return out
  }
  program.chain.push({ kind: 'command', from: source, to: command.join(' '), detail: describeSource(source) })

  const walk: Walk = { rootfs, read: opts.readFile ?? ((p) => rootfs.readFile(p)), env, program, out, argv: [...command], cwd: workdir }
  for (let step = 0; ; step++) {
    if (step >= MAX_STEPS) {
      stop(walk, walk.argv[0] ?? '?', `more than ${MAX_STEPS} steps (a wrapper that runs itself?)`)
      break
    }
    if ((await followOneHop(walk)) === 'done') break
  }
  if (walk.cwd !== workdir) program.workdir = walk.cwd
  return out
}

/** The state of the walk from the command to the program: what runs next, and what was found so far. */
interface Walk {
  readonly rootfs: RootFs
  readonly read: FileReader
  readonly env: Record<string, string>
  readonly program: Program
  readonly out: ResolvedProgram
  argv: string[]
  cwd: string
}

type Hop = 'next' | 'done'

/** One hop: find argv[0] and either move on to what it runs ('next') or settle the program ('done'). */
async function followOneHop(w: Walk): Promise<Hop> {
  const { program, out } = w
  if (w.argv.length === 0) {
    stop(w, 'argv', 'nothing left to run')
    return 'done'
  }
  const word = w.argv[0]!
  const found = lookupProgram(w.rootfs, word, { dirs: pathDirs(w.env).dirs, cwd: w.cwd })
  if (!isFound(found)) {
    program.kind = 'missing'
    program.argv = w.argv
    out.findings.push({ severity: 'error', code: 'program-missing', message: `${found.reason}: the container would fail to start` })
    program.stopped = { at: word, reason: found.reason }
    return 'done'
  }
  program.chain.push(...found.steps)
  addUnique(program.symlinks, ...found.symlinks)
  if (!found.executable) {
    cannotRun(w, found, 'not executable', `${found.path} is not an executable file (no execute permission or not a regular file): the container would fail to start`)
    return 'done'
  }
  if (found.size > MAX_PROGRAM_BYTES) {
    finalProgram(program, found, w.argv, 'elf')
    stop(w, found.path, `the file is larger than ${MAX_PROGRAM_BYTES} bytes; slim does not read it`)
    return 'done'
  }
  const head = await readHead(w.rootfs, w.read, found.realPath)
  if (isElf(head)) return followElf(w, found, word)
  const shebang = readShebang(head)
  if (shebang) {
    addUnique(program.scripts, found.path, found.realPath)
    program.chain.push({ kind: 'shebang', from: found.path, to: shebang.interpreter, detail: `#!${shebang.interpreter}${shebang.arg ? ` ${shebang.arg}` : ''}` })
    w.argv = [shebang.interpreter, ...(shebang.arg !== undefined ? [shebang.arg] : []), found.path, ...w.argv.slice(1)]
    return 'next'
  }
  cannotRun(w, found, 'exec format error', `${found.path} is neither an ELF executable nor a #! script: the kernel refuses to run it (exec format error)`)
  return 'done'
}

/** An ELF program: a busybox applet, a launcher (next hop), a supervisor or shell, or the program itself. */
async function followElf(w: Walk, found: Found, word: string): Promise<Hop> {
  const { program, out } = w
  addUnique(program.executables, found.realPath)
  const invoked = posix.basename(found.path)
  const real = posix.basename(found.realPath)
  const { name, args } = busyboxApplet(w, found, invoked, real)
  const launcher = readLauncher(name, args) ?? (name !== real ? readLauncher(real, args) : undefined)
  if (launcher) {
    if ('stop' in launcher) {
      finalProgram(program, found, w.argv, 'elf')
      stop(w, found.path, launcher.stop)
      return 'done'
    }
    if (launcher.env) {
      if (launcher.env.clear) for (const k of Object.keys(w.env)) delete w.env[k]
      for (const k of launcher.env.unset) delete w.env[k]
      Object.assign(w.env, launcher.env.set)
    }
    const what = launcher.role === 'init' ? 'an init process' : launcher.role === 'user-switch' ? `a user switcher (to ${launcher.user ?? '?'})` : launcher.role === 'env' ? 'env' : 'a command prefix'
    program.chain.push({ kind: launcher.role === 'env' ? 'env' : 'launcher', from: name, to: launcher.rest[0], detail: `${name} is ${what}; it runs: ${launcher.rest.join(' ')}` })
    w.argv = launcher.rest
    return 'next'
  }
  if (SUPERVISORS.has(name)) {
    finalProgram(program, found, w.argv, 'elf')
    stop(w, found.path, `${name} is a process supervisor; the programs it runs are in its configuration, not in the command`)
    return 'done'
  }
  if (isShellName(name)) {
    const r = await followShell(w.rootfs, w.read, { shell: found, name, args, env: w.env, cwd: w.cwd, out })
    if (r.kind === 'next') {
      w.argv = r.argv
      w.cwd = r.cwd
      return 'next'
    }
    finalProgram(program, r.program ?? found, w.argv, r.kind === 'script' ? 'script' : 'elf')
    if (r.stopReason) stop(w, r.stopAt ?? found.path, r.stopReason)
    out.language = 'shell'
    return 'done'
  }
  const language = runtimeLanguage(name, real)
  finalProgram(program, found, [name === invoked ? word : name, ...args], language && language !== 'shell' ? 'interpreted' : 'elf')
  if (language) out.language = language
  return 'done'
}

/** `busybox APPLET args` runs the applet; a link named after an applet runs that applet. */
function busyboxApplet(w: Walk, found: Found, invoked: string, real: string): { name: string; args: string[] } {
  const args = w.argv.slice(1)
  if (/^busybox/.test(real) && /^busybox/.test(invoked) && args[0] && !args[0].startsWith('-')) {
    w.program.chain.push({ kind: 'launcher', from: found.path, to: args[0], detail: `busybox runs its '${args[0]}' applet` })
    return { name: args[0], args: args.slice(1) }
  }
  if (/^busybox/.test(real) && invoked !== real) {
    w.program.chain.push({ kind: 'symlink', from: found.path, to: found.realPath, detail: `busybox applet '${invoked}'` })
  }
  return { name: invoked, args }
}

/** The file exists but the kernel would not run it: an error finding, and the walk stops there. */
function cannotRun(w: Walk, found: Found, reason: string, message: string): void {
  w.program.kind = 'missing'
  w.program.argv = w.argv
  w.program.path = found.path
  w.program.realPath = found.realPath
  w.out.findings.push({ severity: 'error', code: 'not-executable', message })
  w.program.stopped = { at: found.path, reason }
}

/** A static reading cannot go on: where and why, as the program's stop and a named gap. */
function stop(w: Walk, at: string, reason: string): void {
  w.program.stopped = { at, reason }
  w.out.gaps.push({ area: 'entrypoint', message: `stopped at ${at}: ${reason}` })
}

function addUnique(list: string[], ...items: string[]): void {
  for (const i of items) if (!list.includes(i)) list.push(i)
}

function finalProgram(program: Program, found: Found, argv: string[], kind: Program['kind']): void {
  program.kind = kind
  program.path = found.path
  program.realPath = found.realPath
  program.argv = argv
}

function describeSource(source: Program['commandSource']): string {
  switch (source) {
    case 'override':
      return 'the --entrypoint override'
    case 'entrypoint+cmd':
      return 'ENTRYPOINT followed by CMD'
    case 'entrypoint':
      return 'ENTRYPOINT (no CMD)'
    case 'cmd':
      return 'CMD (no ENTRYPOINT)'
    default:
      return 'nothing'
  }
}

/**
 * The first bytes of a file, enough to tell ELF from script (and read a shebang). The layer index
 * recorded them during its pass: no read then. Empty when the file cannot be read.
 */
export async function readHead(rootfs: RootFs, read: FileReader, path: string): Promise<Buffer> {
  if (rootfs.head) {
    const head = rootfs.head(path)
    if (head?.magic === 'elf') return ELF_MAGIC
    return head?.magic === 'script' ? Buffer.from(head.firstLine ?? '', 'latin1') : Buffer.alloc(0)
  }
  try {
    return (await read(path)).subarray(0, 512)
  } catch {
    return Buffer.alloc(0)
  }
}

type ShellOutcome =
  | { kind: 'next'; argv: string[]; cwd: string }
  | { kind: 'final' | 'script'; program?: Found; stopReason?: string; stopAt?: string }

/**
 * A shell as the program: `sh [options] -c STRING [name [args]]`, `sh [options] SCRIPT [args]`, or
 * an interactive shell. Strings and scripts are read statically for the command they end in.
 */
async function followShell(
  rootfs: RootFs,
  read: FileReader,
  s: { shell: Found; name: string; args: string[]; env: Record<string, string>; cwd: string; out: ResolvedProgram },
): Promise<ShellOutcome> {
  const { program } = s.out
  let i = 0
  let flags = ''
  while (i < s.args.length) {
    const a = s.args[i]!
    if (a === '--' || a === '-') {
      i++
      break
    }
    if (!/^[-+]/.test(a)) break
    if (a === '-o' || a === '+o') i += 2
    else {
      flags += a.slice(1)
      i++
    }
  }
  if (flags.includes('c')) {
    const text = s.args[i]
    if (text === undefined) return { kind: 'final', stopReason: `${s.name} -c without a command string` }
    const zero = s.args[i + 1] ?? s.name
    const positional = s.args.slice(i + 2)
    program.chain.push({ kind: 'shell-form', from: `${s.name} -c`, to: text, detail: `the shell runs the command string: ${text}` })
    program.shellReasons.push(`${s.shell.path} -c runs the command string "${text}"`)
    const vars = { env: { ...s.env }, positional, zero }
    const { commands, warnings } = parseShell(text, vars)
    for (const w of warnings) s.out.gaps.push({ area: 'entrypoint', message: `command string: ${w}` })
    Object.assign(s.env, vars.env)
    return pickFromCommands(rootfs, commands, { ...s, where: `${s.name} -c string`, positional })
  }
  const scriptWord = s.args[i]
  if (scriptWord === undefined) return { kind: 'final' } // an interactive shell is the program
  // POSIX sh opens the operand as a path from the working directory; bash also tries PATH.
  let script = lookupProgram(rootfs, scriptWord.includes('/') ? scriptWord : `./${scriptWord}`, { dirs: [], cwd: s.cwd })
  if (!isFound(script) && !scriptWord.includes('/')) script = lookupProgram(rootfs, scriptWord, { dirs: pathDirs(s.env).dirs, cwd: s.cwd })
  if (!isFound(script)) {
    s.out.findings.push({ severity: 'error', code: 'program-missing', message: `the shell script ${scriptWord} is not in the image (${script.reason})` })
    return { kind: 'final', stopReason: `script ${scriptWord} not found`, stopAt: scriptWord }
  }
  for (const p of [script.path, script.realPath]) if (!program.scripts.includes(p)) program.scripts.push(p)
  for (const l of script.symlinks) if (!program.symlinks.includes(l)) program.symlinks.push(l)
  program.shellReasons.push(`${script.path} is a shell script run by ${s.shell.path}`)
  if (script.size > MAX_SCRIPT_BYTES) return { kind: 'script', program: script, stopReason: `the script is larger than ${MAX_SCRIPT_BYTES} bytes; slim does not read it`, stopAt: script.path }
  let text: string
  try {
    text = (await read(script.realPath)).toString('utf8')
  } catch {
    return { kind: 'script', program: script, stopReason: 'the script could not be read', stopAt: script.path }
  }
  if (text.includes('\0')) return { kind: 'script', program: script, stopReason: 'the script contains binary data', stopAt: script.path }
  const scriptArgs = s.args.slice(i + 1)
  const reading = readWrapper(text, { args: scriptArgs, scriptPath: script.path, env: s.env })
  for (const n of reading.notes) s.out.gaps.push({ area: 'entrypoint', message: `${script.path}: ${n}` })
  for (const f of reading.sourced) {
    const r = rootfs.realpath(f)
    if (r) for (const p of [f, r.path, ...r.chain]) if (!program.scripts.includes(p)) program.scripts.push(p)
  }
  for (const c of reading.commands) addScriptCommand(rootfs, s.out, { name: c.name, script: script.path, line: c.line, conditional: c.conditional }, s.env, s.cwd)
  if (!reading.argv) return { kind: 'script', program: script, stopReason: reading.stop ?? 'no exec found', stopAt: script.path }
  // `export PATH=/opt/app/bin:$PATH` before `exec "$@"` changes where the program is found.
  Object.assign(s.env, reading.env)
  program.chain.push({ kind: 'wrapper', from: script.path, to: reading.argv[0], detail: `line ${reading.line}: exec ${reading.argv.join(' ')}` })
  return { kind: 'next', argv: reading.argv, cwd: s.cwd }
}

/** From the commands of a `-c` string: the last top-level one that is not a builtin (after `cd`s). */
function pickFromCommands(
  rootfs: RootFs,
  commands: ShellCommand[],
  s: { shell: Found; name: string; env: Record<string, string>; cwd: string; out: ResolvedProgram; where: string; positional: string[] },
): ShellOutcome {
  let cwd = s.cwd
  let chosen: ShellCommand | undefined
  const others: ShellCommand[] = []
  for (const cmd of commands) {
    const first = cmd.words[0]
    if (!first) continue
    if (first.text === 'cd' && cmd.depth === 0) {
      const dir = cmd.words[1]
      if (dir && dir.dynamic.length === 0) cwd = posix.resolve(cwd, dir.text)
      else s.out.gaps.push({ area: 'entrypoint', message: `${s.where}: a \`cd\` to a directory slim cannot know` })
      continue
    }
    if (['set', 'export', 'echo', 'printf', 'true', ':', 'umask', 'ulimit', 'trap', 'unset', 'shift', 'wait'].includes(first.text)) continue
    if (chosen) others.push(chosen)
    chosen = cmd
  }
  if (!chosen) return { kind: 'script', stopReason: 'the command string runs only shell builtins' }
  if (chosen.prevOp === '|' || chosen.op === '|') s.out.gaps.push({ area: 'entrypoint', message: `${s.where}: the program is part of a pipeline; slim took its last command` })
  if (chosen.op === '&') s.out.gaps.push({ area: 'entrypoint', message: `${s.where}: the last command runs in the background` })
  for (const o of others) {
    const w = o.words[0]!
    if (w.dynamic.length === 0 && w.text !== 'exec') addScriptCommand(rootfs, s.out, { name: w.text, script: s.where, line: o.line, conditional: o.depth > 0 }, s.env, cwd)
  }
  let words = chosen.words
  if (words[0]!.text === 'exec') words = words.slice(1).filter((w, i) => !(i === 0 && /^-[acl]+$/.test(w.text)))
  if (words.length === 0) return { kind: 'script', stopReason: 'exec without a command' }
  const { argv, dynamic } = expandWords(words, s.positional)
  if (words[0]!.dynamic.length > 0) return { kind: 'script', stopReason: `the command is named by ${words[0]!.dynamic.join(', ')}, which slim cannot know without running it` }
  if (dynamic.length > 0) s.out.gaps.push({ area: 'entrypoint', message: `${s.where}: arguments slim cannot know: ${[...new Set(dynamic)].join(', ')}` })
  for (const a of chosen.assignments) if (a.value.dynamic.length === 0) s.env[a.name] = a.value.text
  s.out.program.chain.push({ kind: 'wrapper', from: s.where, to: argv[0], detail: `runs: ${argv.join(' ')}` })
  return { kind: 'next', argv, cwd }
}

function addScriptCommand(rootfs: RootFs, out: ResolvedProgram, c: Omit<ScriptCommand, 'found'>, env: Record<string, string>, cwd: string): void {
  if (out.scriptCommands.some((x) => x.name === c.name && x.script === c.script)) return
  const sc: ScriptCommand = { ...c }
  const f = lookupProgram(rootfs, c.name, { dirs: pathDirs(env).dirs, cwd })
  if (isFound(f)) sc.found = f
  out.scriptCommands.push(sc)
}
