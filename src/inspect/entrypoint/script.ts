/**
 * Scripts on the way to the program: the kernel's #! line, and shell wrappers (docker-entrypoint.sh
 * and friends) whose job is to prepare things and then `exec` the real program, usually "$@".
 */
import { parseShell, expandWords, type ShellCommand } from './shell-words.js'

/** binfmt_script reads at most this much of the #! line (BINPRM_BUF_SIZE). */
const SHEBANG_MAX = 256

export interface Shebang {
  interpreter: string
  /** Linux passes everything after the interpreter as ONE argument (no splitting). */
  arg?: string
}

export function readShebang(head: Buffer): Shebang | undefined {
  if (head.length < 3 || head[0] !== 0x23 || head[1] !== 0x21) return undefined
  const end = head.indexOf(0x0a)
  const line = head.subarray(2, end < 0 ? Math.min(head.length, SHEBANG_MAX) : Math.min(end, SHEBANG_MAX)).toString('utf8').replace(/\r$/, '')
  const m = /^[ \t]*(\S+)(?:[ \t]+(.*?))?[ \t]*$/.exec(line)
  if (!m) return undefined
  const shebang: Shebang = { interpreter: m[1]! }
  if (m[2]) shebang.arg = m[2]
  return shebang
}

/** Builtins and shell keywords: running them needs no file in the image. */
const BUILTINS = new Set([
  'cd', 'echo', 'printf', 'set', 'export', 'unset', 'shift', 'test', '[', '[[', 'true', 'false', ':', '.', 'source', 'local',
  'return', 'exit', 'read', 'eval', 'trap', 'wait', 'umask', 'ulimit', 'readonly', 'declare', 'typeset', 'let', 'command',
  'type', 'hash', 'alias', 'unalias', 'getopts', 'break', 'continue', 'exec', 'shopt', 'builtin', 'pwd', 'kill', 'jobs', 'times',
])

export interface WrapperReading {
  /** The argv the script finally execs ("$@" spliced), when slim found it. */
  argv?: string[]
  /** Line of that exec. */
  line?: number
  /** Other programs the script runs (first words of its commands that are not builtins). */
  commands: { name: string; line: number; conditional: boolean }[]
  /** Files the script sources with `.` or `source` (static paths only). */
  sourced: string[]
  /** Why slim could not name the program, if it could not. */
  stop?: string
  /** Doubts about the reading ("exec at line 40 is inside a condition"). */
  notes: string[]
  /** The environment after the script's top-level assignments and exports (PATH changes matter). */
  env: Record<string, string>
}

/**
 * Reads a shell wrapper statically. The program is the last `exec` that does not re-run the
 * script itself (the `exec gosu user "$0" "$@"` privilege-drop idiom); "$@" becomes the script's
 * arguments.
 */
export function readWrapper(text: string, opts: { args: string[]; scriptPath: string; env: Record<string, string> }): WrapperReading {
  const vars = { env: { ...opts.env }, positional: opts.args, zero: opts.scriptPath }
  const { commands, functions, warnings } = parseShell(text, vars)
  const out: WrapperReading = { commands: [], sourced: [], notes: [...warnings], env: vars.env }
  const execs: ShellCommand[] = []
  for (const cmd of commands) {
    const first = cmd.words[0]
    if (!first) continue
    if (first.text === 'exec') {
      const rest = execOperands(cmd)
      if (rest.length === 0) continue
      if (!reRunsItself(rest, opts.scriptPath)) execs.push(cmd)
      else if (rest[0]!.dynamic.length === 0 && !out.commands.some((c) => c.name === rest[0]!.text)) {
        // `exec gosu user "$0" "$@"`: the script runs again through gosu, which must be in the image.
        out.commands.push({ name: rest[0]!.text, line: cmd.line, conditional: cmd.depth > 0 })
      }
      continue
    }
    if ((first.text === '.' || first.text === 'source') && cmd.words[1]) {
      const w = cmd.words[1]
      if (w.dynamic.length === 0 && w.text.startsWith('/')) out.sourced.push(w.text)
      else out.notes.push(`line ${cmd.line} sources a file slim cannot name (${w.dynamic.join(', ') || w.text})`)
      continue
    }
    if (first.text === 'set' && cmd.words[1]?.text === '--') {
      out.notes.push(`line ${cmd.line} rewrites the arguments with \`set --\`${cmd.depth > 0 ? ' under a condition' : ''}; slim assumed it did not run`)
      continue
    }
    if (first.dynamic.length > 0 || first.allArgs) continue
    if (!BUILTINS.has(first.text) && !functions.includes(first.text) && !out.commands.some((c) => c.name === first.text)) out.commands.push({ name: first.text, line: cmd.line, conditional: cmd.depth > 0 })
  }
  const chosen = execs[execs.length - 1]
  if (!chosen) {
    out.stop = 'the script has no `exec` line slim can follow; it runs its commands itself'
    return out
  }
  out.line = chosen.line
  if (chosen.depth > 0) out.notes.push(`the exec at line ${chosen.line} is inside ${chosen.inFunction ? `function ${chosen.inFunction}` : 'a condition or loop'}`)
  if (execs.length > 1) out.notes.push(`the script has ${execs.length} exec lines; slim followed the last one (line ${chosen.line})`)
  const { argv, dynamic } = expandWords(execOperands(chosen), opts.args)
  const head = execOperands(chosen)[0]!
  if (head.dynamic.length > 0) {
    out.stop = `the exec at line ${chosen.line} runs a program named by ${head.dynamic.join(', ')}, which slim cannot know without running the script`
    return out
  }
  if (dynamic.length > 0) out.notes.push(`the exec at line ${chosen.line} has arguments slim cannot know: ${[...new Set(dynamic)].join(', ')}`)
  if (argv.length === 0) {
    out.stop = `the exec at line ${chosen.line} runs "$@" and the script got no arguments (no CMD)`
    return out
  }
  out.argv = argv
  return out
}

/** The words after `exec` and its own options (-a NAME, -c, -l). */
function execOperands(cmd: ShellCommand): ShellCommand['words'] {
  const words = cmd.words.slice(1)
  while (words[0] && /^-[acl]+$/.test(words[0].text)) {
    const opt = words.shift()!
    if (opt.text.includes('a')) words.shift()
  }
  if (words[0]?.text === '--') words.shift()
  return words
}

/** `exec gosu user "$0" "$@"` or `exec su-exec app "$BASH_SOURCE" "$@"`: the script runs again as another user. */
function reRunsItself(words: ShellCommand['words'], scriptPath: string): boolean {
  // Only as an argument of another program: `exec "$0"` alone is a real (endless) loop.
  return words.slice(1).some((w) => (w.text === scriptPath && !w.allArgs) || w.dynamic.some((d) => /BASH_SOURCE/.test(d)))
}
