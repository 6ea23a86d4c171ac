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
import { isShellName, runtimeLanguage } from '../interpreters/language.js'
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
  const read: FileReader = opts.readFile ?? ((p) => rootfs.readFile(p))
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

  let argv = [...command]
  let cwd = workdir
  const addUnique = (list: string[], ...items: string[]): void => {
    for (const i of items) if (!list.includes(i)) list.push(i)
  }
  const stop = (at: string, reason: string): void => {
    program.stopped = { at, reason }
    out.gaps.push({ area: 'entrypoint', message: `stopped at ${at}: ${reason}` })
  }

  for (let step = 0; ; step++) {
    if (step >= MAX_STEPS) {
      stop(argv[0] ?? '?', `more than ${MAX_STEPS} steps (a wrapper that runs itself?)`)
      break
    }
    if (argv.length === 0) {
      stop('argv', 'nothing left to run')
      break
    }
    const word = argv[0]!
    const found = lookupProgram(rootfs, word, { dirs: pathDirs(env).dirs, cwd })
    if (!isFound(found)) {
      program.kind = 'missing'
      program.argv = argv
      out.findings.push({ severity: 'error', code: 'program-missing', message: `${found.reason}: the container would fail to start` })
      program.stopped = { at: word, reason: found.reason }
      break
    }
    program.chain.push(...found.steps)
    addUnique(program.symlinks, ...found.symlinks)
    if (!found.executable) {
      program.kind = 'missing'
      program.argv = argv
      program.path = found.path
      program.realPath = found.realPath
      out.findings.push({ severity: 'error', code: 'not-executable', message: `${found.path} is not an executable file (no execute permission or not a regular file): the container would fail to start` })
      program.stopped = { at: found.path, reason: 'not executable' }
      break
    }
    if (found.size > MAX_PROGRAM_BYTES) {
      finalProgram(program, found, argv, 'elf')
      stop(found.path, `the file is larger than ${MAX_PROGRAM_BYTES} bytes; slim does not read it`)
      break
    }
    const head = await readHead(rootfs, read, found.realPath)
    if (isElf(head)) {
      addUnique(program.executables, found.realPath)
      const invoked = posix.basename(found.path)
      const real = posix.basename(found.realPath)
      let name = invoked
      let args = argv.slice(1)
      if (/^busybox/.test(real) && /^busybox/.test(invoked) && args[0] && !args[0].startsWith('-')) {
        // `busybox APPLET args`: the applet is the program.
        name = args[0]
        args = args.slice(1)
        program.chain.push({ kind: 'launcher', from: found.path, to: name, detail: `busybox runs its '${name}' applet` })
      } else if (/^busybox/.test(real) && invoked !== real) {
        program.chain.push({ kind: 'symlink', from: found.path, to: found.realPath, detail: `busybox applet '${invoked}'` })
      }
      const launcher = readLauncher(name, args) ?? (name !== real ? readLauncher(real, args) : undefined)
      if (launcher) {
        if ('stop' in launcher) {
          finalProgram(program, found, argv, 'elf')
          stop(found.path, launcher.stop)
          break
        }
        if (launcher.env) {
          if (launcher.env.clear) for (const k of Object.keys(env)) delete env[k]
          for (const k of launcher.env.unset) delete env[k]
          Object.assign(env, launcher.env.set)
        }
        const what = launcher.role === 'init' ? 'an init process' : launcher.role === 'user-switch' ? `a user switcher (to ${launcher.user ?? '?'})` : launcher.role === 'env' ? 'env' : 'a command prefix'
        program.chain.push({ kind: launcher.role === 'env' ? 'env' : 'launcher', from: name, to: launcher.rest[0], detail: `${name} is ${what}; it runs: ${launcher.rest.join(' ')}` })
        argv = launcher.rest
        continue
      }
      if (SUPERVISORS.has(name)) {
        finalProgram(program, found, argv, 'elf')
        stop(found.path, `${name} is a process supervisor; the programs it runs are in its configuration, not in the command`)
        break
      }
      if (isShellName(name)) {
        const r = await followShell(rootfs, read, { shell: found, name, args, env, cwd, out })
        if (r.kind === 'next') {
          argv = r.argv
          cwd = r.cwd
          continue
        }
        finalProgram(program, r.program ?? found, argv, r.kind === 'script' ? 'script' : 'elf')
        if (r.stopReason) stop(r.stopAt ?? found.path, r.stopReason)
        out.language = 'shell'
        break
      }
      const language = runtimeLanguage(name, real)
      finalProgram(program, found, [name === invoked ? word : name, ...args], language && language !== 'shell' ? 'interpreted' : 'elf')
      if (language) out.language = language
      break
    }
    const shebang = readShebang(head)
    if (shebang) {
      addUnique(program.scripts, found.path, found.realPath)
      program.chain.push({ kind: 'shebang', from: found.path, to: shebang.interpreter, detail: `#!${shebang.interpreter}${shebang.arg ? ` ${shebang.arg}` : ''}` })
      argv = [shebang.interpreter, ...(shebang.arg !== undefined ? [shebang.arg] : []), found.path, ...argv.slice(1)]
      continue
    }
    program.kind = 'missing'
    program.argv = argv
    program.path = found.path
    program.realPath = found.realPath
    out.findings.push({ severity: 'error', code: 'not-executable', message: `${found.path} is neither an ELF executable nor a #! script: the kernel refuses to run it (exec format error)` })
    program.stopped = { at: found.path, reason: 'exec format error' }
    break
  }
  if (cwd !== workdir) program.workdir = cwd
  return out
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
async function readHead(rootfs: RootFs, read: FileReader, path: string): Promise<Buffer> {
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
