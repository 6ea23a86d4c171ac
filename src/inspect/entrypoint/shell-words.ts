/**
 * A static reader for the shell text slim meets in images: shell-form CMDs ("/bin/sh -c STRING")
 * and entrypoint wrapper scripts. It splits the text into simple commands the way a POSIX shell
 * tokenises (quotes, escapes, comments, line continuations, operators, redirections, here-docs),
 * and expands what can be known without running anything: variables from the image's Env and
 * from plain assignments seen earlier, and the positional parameters ("$@", "$1"). Anything else
 * ($(...), unknown variables, globs, ${VAR#pattern}) marks the word as dynamic, so callers can say
 * where a static reading has to stop.
 *
 * Control structures are not evaluated: their bodies are read as commands with a nesting depth,
 * so a caller can prefer top-level commands and report conditional ones.
 */
import { Lexer } from './shell-lexer.js'
import type { ShellCommand, ShellVars, ShellWord } from './shell-types.js'

export type { ShellCommand, ShellVars, ShellWord } from './shell-types.js'

/** $( $( $( ... ) ) ): deeper nesting is not read (bounds work on hostile scripts). */
const MAX_SUBSTITUTION_NESTING = 4

const RESERVED_OPENERS = new Set(['if', 'while', 'until', '{'])
const RESERVED_CLOSERS = new Set(['fi', 'done', 'esac', '}'])
const RESERVED_INNER = new Set(['then', 'else', 'elif', 'do', '!', 'in'])


/** Splits shell text into simple commands, expanding what is statically known. */
export function parseShell(text: string, vars: ShellVars, nesting = 0): { commands: ShellCommand[]; functions: string[]; warnings: string[] } {
  const lexer = new Lexer(text, vars)
  const commands: ShellCommand[] = []
  let depth = 0
  const functionStack: { name: string; depth: number }[] = []
  let words: ShellWord[] = []
  let raws: string[] = []
  let assignments: ShellCommand['assignments'] = []
  let line = 1
  let prevOp = ''
  let caseDepth = 0
  /** Inside case, after "in" or ";;": the next words up to ')' are a pattern, not a command. */
  let expectPattern = false
  let pendingFunction: string | undefined
  const functions: string[] = []

  const flush = (op: string): void => {
    if (words.length > 0 || assignments.length > 0) {
      const cmd: ShellCommand = { words, assignments, line, depth, op, prevOp }
      const fn = functionStack[functionStack.length - 1]
      if (fn) cmd.inFunction = fn.name
      commands.push(cmd)
      if (depth === 0) applyAssignments(cmd, vars)
    }
    words = []
    raws = []
    assignments = []
    prevOp = op === '\n' ? '' : op
  }

  for (let tok = lexer.next(); tok; tok = lexer.next()) {
    if (tok.kind === 'op') {
      if (expectPattern && (tok.op === '(' || tok.op === '|')) continue
      if (expectPattern && tok.op === ')') {
        words = []
        raws = []
        expectPattern = false
        continue
      }
      if (expectPattern && tok.op === '\n') continue
      if (tok.op === '(' && words.length === 1 && assignments.length === 0 && /^[A-Za-z_][A-Za-z0-9_.:-]*$/.test(raws[0]!)) {
        // name() { ... }: a function definition.
        pendingFunction = raws[0]
        words = []
        raws = []
        const close = lexer.next()
        if (close?.kind !== 'op' || close.op !== ')') lexer.warnings.push(`line ${tok.line}: odd function definition`)
        continue
      }
      if (tok.op === '(' && words.length === 0) {
        depth++
        continue
      }
      if (tok.op === ')' && words.length === 0) {
        depth = Math.max(0, depth - 1)
        continue
      }
      if (tok.op === ')') {
        flush(';')
        depth = Math.max(0, depth - 1)
        continue
      }
      if (tok.op === ';;' || tok.op === ';&' || tok.op === ';;&') {
        flush(';')
        if (caseDepth > 0) expectPattern = true
        continue
      }
      flush(tok.op)
      continue
    }
    const raw = tok.raw
    if (expectPattern) {
      if (raw === 'esac') {
        expectPattern = false
        caseDepth = Math.max(0, caseDepth - 1)
        depth = Math.max(0, depth - 1)
      }
      continue
    }
    if (words.length === 0 && assignments.length === 0) {
      line = tok.line
      // Reserved words only count in command position.
      if (pendingFunction && raw === '{') {
        depth++
        functionStack.push({ name: pendingFunction, depth })
        if (!functions.includes(pendingFunction)) functions.push(pendingFunction)
        pendingFunction = undefined
        continue
      }
      if (raw === 'function') {
        const nameTok = lexer.next()
        if (nameTok?.kind === 'word') pendingFunction = nameTok.raw.replace(/\(\)$/, '')
        const maybeParen = lexer.peek()
        if (maybeParen?.kind === 'op' && maybeParen.op === '(') {
          lexer.next()
          lexer.next()
        }
        continue
      }
      if (raw === 'for' || raw === 'select') {
        depth++
        // "NAME in WORDS": not a command; skip to the terminator before "do".
        for (let t = lexer.peek(); t && t.kind === 'word' && t.raw !== 'do'; t = lexer.peek()) lexer.next()
        continue
      }
      if (raw === 'case') {
        depth++
        caseDepth++
        for (let t = lexer.next(); t && !(t.kind === 'word' && t.raw === 'in'); t = lexer.next()) {
          /* the subject word */
        }
        expectPattern = true
        continue
      }
      if (RESERVED_OPENERS.has(raw)) {
        depth++
        continue
      }
      if (RESERVED_CLOSERS.has(raw)) {
        if (raw === 'esac') caseDepth = Math.max(0, caseDepth - 1)
        const fn = functionStack[functionStack.length - 1]
        if (fn && fn.depth === depth && raw === '}') functionStack.pop()
        depth = Math.max(0, depth - 1)
        continue
      }
      if (RESERVED_INNER.has(raw)) continue
    }
    const assign = words.length === 0 ? /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(raw) : null
    if (assign) {
      const value = tok.word.text.slice(tok.word.text.indexOf('=') + 1)
      assignments.push({ name: assign[1]!, value: { ...tok.word, text: value } })
      continue
    }
    words.push(tok.word)
    raws.push(raw)
  }
  flush('')
  // Commands inside $(...) run as well; they count as conditional (depth >= 1), with their line.
  if (nesting < MAX_SUBSTITUTION_NESTING) {
    for (const sub of lexer.substitutions) {
      const inner = parseShell(sub.text, { ...vars, env: { ...vars.env } }, nesting + 1)
      for (const c of inner.commands) commands.push({ ...c, line: sub.line + c.line - 1, depth: c.depth + 1 })
    }
    commands.sort((a, b) => a.line - b.line)
  }
  return { commands, functions, warnings: lexer.warnings }
}

/** Plain top-level assignments (and `export NAME=value`) change what later words expand to. */
function applyAssignments(cmd: ShellCommand, vars: ShellVars): void {
  const set = (name: string, w: ShellWord, value: string): void => {
    if (w.dynamic.length === 0) vars.env[name] = value
    else delete vars.env[name]
  }
  if (cmd.words.length === 0) for (const a of cmd.assignments) set(a.name, a.value, a.value.text)
  if (cmd.words[0]?.text === 'export' || cmd.words[0]?.text === 'readonly') {
    for (const w of cmd.words.slice(1)) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(w.text)
      if (m) set(m[1]!, w, m[2]!)
    }
  }
}

/** Splices "$@" words into the positional parameters and returns plain strings plus what stayed dynamic. */
export function expandWords(words: ShellWord[], positional: string[]): { argv: string[]; dynamic: string[] } {
  const argv: string[] = []
  const dynamic: string[] = []
  for (const w of words) {
    if (w.allArgs) argv.push(...positional)
    else argv.push(w.text)
    dynamic.push(...w.dynamic)
  }
  return { argv, dynamic }
}
