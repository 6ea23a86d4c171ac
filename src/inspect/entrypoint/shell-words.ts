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

export interface ShellWord {
  /** The word after quote removal and the expansions slim could do. */
  text: string
  /** Expansions slim could not do statically ("$(...)", "$FOO", "glob *"): the text is not the real value. */
  dynamic: string[]
  /** The word is "$@" or "$*" alone: it stands for all positional parameters. */
  allArgs: boolean
}

export interface ShellCommand {
  /** Words of the command, assignments and redirections removed. */
  words: ShellWord[]
  /** Leading NAME=value assignments. */
  assignments: { name: string; value: ShellWord }[]
  /** 1-based line where the command starts. */
  line: number
  /** Nesting depth: 0 at top level, more inside if/while/for/case/{ }/( )/functions. */
  depth: number
  /** The function the command is defined in, if any. */
  inFunction?: string
  /** The operator after the command (";", "&&", "||", "|", "&", "\n", or "" at the end). */
  op: string
  /** The operator before the command ("" at the start of a list). */
  prevOp: string
}

export interface ShellVars {
  /** Variables known statically (the image's Env, later plain assignments). */
  env: Record<string, string>
  /** $1, $2, ... */
  positional: string[]
  /** $0 */
  zero: string
}

/** $( $( $( ... ) ) ): deeper nesting is not read (bounds work on hostile scripts). */
const MAX_SUBSTITUTION_NESTING = 4

const RESERVED_OPENERS = new Set(['if', 'while', 'until', '{'])
const RESERVED_CLOSERS = new Set(['fi', 'done', 'esac', '}'])
const RESERVED_INNER = new Set(['then', 'else', 'elif', 'do', '!', 'in'])

type Token = { kind: 'word'; word: ShellWord; raw: string; line: number } | { kind: 'op'; op: string; line: number }

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

class Lexer {
  readonly warnings: string[] = []
  /** Command substitutions seen ($(...) and `...`): their commands run too. */
  readonly substitutions: { text: string; line: number }[] = []
  private i = 0
  private line = 1
  private readonly s: string
  private readonly vars: ShellVars
  private readonly queue: Token[] = []
  private heredocs: { delim: string; strip: boolean }[] = []

  constructor(s: string, vars: ShellVars) {
    this.s = s
    this.vars = vars
  }

  peek(): Token | undefined {
    if (this.queue.length === 0) {
      const t = this.read()
      if (t) this.queue.push(t)
    }
    return this.queue[0]
  }

  next(): Token | undefined {
    return this.queue.shift() ?? this.read()
  }

  private read(): Token | undefined {
    const s = this.s
    for (;;) {
      if (this.i >= s.length) return undefined
      const c = s[this.i]!
      if (c === '\\' && s[this.i + 1] === '\n') {
        this.i += 2
        this.line++
        continue
      }
      if (c === ' ' || c === '\t' || c === '\r') {
        this.i++
        continue
      }
      if (c === '#') {
        while (this.i < s.length && s[this.i] !== '\n') this.i++
        continue
      }
      if (c === '\n') {
        const line = this.line
        this.i++
        this.line++
        this.skipHeredocs()
        return { kind: 'op', op: '\n', line }
      }
      const op = this.readOperator()
      if (op !== undefined) {
        if (op === '<<' || op === '<<-') {
          const target = this.readWord()
          if (target) this.heredocs.push({ delim: target.raw.replace(/['"\\]/g, ''), strip: op === '<<-' })
          continue
        }
        if (/^[0-9]*(<|>|>>|<>|>&|<&|>\||&>|&>>)$/.test(op)) {
          this.readWord() // the redirection's target
          continue
        }
        return { kind: 'op', op, line: this.line }
      }
      const w = this.readWord()
      if (w) return w
      this.i++
    }
  }

  private readOperator(): string | undefined {
    const rest = this.s.slice(this.i, this.i + 4)
    const m = /^(?:[0-9]*(?:<<-|<<|>>|<>|>&|<&|>\||&>>|&>|<|>)|;;&|;;|;&|&&|\|\||[;&|()])/.exec(rest)
    if (!m) return undefined
    // A digit run is only an fd number when directly followed by a redirection.
    if (/^[0-9]/.test(m[0]) && !/^[0-9]+[<>]/.test(m[0])) return undefined
    this.i += m[0].length
    return m[0]
  }

  private skipHeredocs(): void {
    while (this.heredocs.length > 0) {
      const { delim, strip } = this.heredocs.shift()!
      for (;;) {
        if (this.i >= this.s.length) return
        const end = this.s.indexOf('\n', this.i)
        const lineText = this.s.slice(this.i, end < 0 ? this.s.length : end)
        this.i = end < 0 ? this.s.length : end + 1
        this.line++
        if ((strip ? lineText.replace(/^\t+/, '') : lineText) === delim) break
      }
    }
  }

  /** One word: quotes removed, expansions done where possible. */
  private readWord(): { kind: 'word'; word: ShellWord; raw: string; line: number } | undefined {
    const s = this.s
    const line = this.line
    // Skip blanks before a redirection target.
    while (s[this.i] === ' ' || s[this.i] === '\t') this.i++
    const wordStart = this.i
    let text = ''
    const dynamic: string[] = []
    let allArgsOnly = true
    let sawAllArgs = false
    let any = false
    /** `$...` or a backquote, inside double quotes or not: its text, and whether it is all of "$@". */
    const takeExpansion = () => {
      const e = this.expansion()
      text += e.text
      dynamic.push(...e.dynamic)
      if (e.allArgs) sawAllArgs = true
      else allArgsOnly = false
    }
    while (this.i < s.length) {
      const c = s[this.i]!
      if (' \t\r\n;&|()<>'.includes(c)) break
      any = true
      if (c === '\\') {
        if (s[this.i + 1] === '\n') {
          this.i += 2
          this.line++
          continue
        }
        text += s[this.i + 1] ?? ''
        this.i += 2
        allArgsOnly = false
        continue
      }
      if (c === "'") {
        const end = s.indexOf("'", this.i + 1)
        const stop = end < 0 ? s.length : end
        const lit = s.slice(this.i + 1, stop)
        this.line += lit.split('\n').length - 1
        text += lit
        this.i = stop + 1
        allArgsOnly = false
        continue
      }
      if (c === '"') {
        this.i++
        while (this.i < s.length && s[this.i] !== '"') {
          const d = s[this.i]!
          if (d === '\\' && '$`"\\\n'.includes(s[this.i + 1] ?? '')) {
            if (s[this.i + 1] === '\n') this.line++
            else text += s[this.i + 1]
            this.i += 2
            allArgsOnly = false
            continue
          }
          if (d === '$' || d === '`') {
            takeExpansion()
            continue
          }
          if (d === '\n') this.line++
          text += d
          this.i++
          allArgsOnly = false
        }
        this.i++
        continue
      }
      if (c === '$' || c === '`') {
        takeExpansion()
        continue
      }
      if ((c === '*' || c === '?' || c === '[') && !dynamic.includes('glob')) dynamic.push('glob')
      if (c === '~' && this.i === wordStart) {
        const home = this.vars.env.HOME
        if (home !== undefined) text += home
        else dynamic.push('~')
        this.i++
        allArgsOnly = false
        continue
      }
      text += c
      this.i++
      allArgsOnly = false
    }
    if (!any) return undefined
    const raw = s.slice(wordStart, this.i)
    const allArgs = sawAllArgs && allArgsOnly
    return { kind: 'word', word: { text, dynamic: allArgs ? [] : dynamic, allArgs }, raw, line }
  }

  /** At '$' or '`': one expansion. */
  private expansion(): { text: string; dynamic: string[]; allArgs: boolean } {
    const s = this.s
    const { env, positional, zero } = this.vars
    if (s[this.i] === '`') {
      const end = s.indexOf('`', this.i + 1)
      this.substitutions.push({ text: s.slice(this.i + 1, end < 0 ? s.length : end), line: this.line })
      this.i = end < 0 ? s.length : end + 1
      return { text: '', dynamic: ['`...`'], allArgs: false }
    }
    const next = s[this.i + 1] ?? ''
    if (next === '(') {
      const arith = s[this.i + 2] === '('
      const line = this.line
      const end = this.matching(this.i + 1, '(', ')')
      if (!arith) this.substitutions.push({ text: s.slice(this.i + 2, end), line })
      this.i = end + 1
      return { text: '', dynamic: [arith ? '$((...))' : '$(...)'], allArgs: false }
    }
    if (next === '{') {
      const end = this.matching(this.i + 1, '{', '}')
      const body = s.slice(this.i + 2, end)
      this.i = end + 1
      return this.parameter(body)
    }
    if (next === '@' || next === '*') {
      this.i += 2
      return { text: positional.join(' '), dynamic: [], allArgs: true }
    }
    if (/[0-9]/.test(next)) {
      this.i += 2
      if (next === '0') return { text: zero, dynamic: [], allArgs: false }
      const v = positional[Number(next) - 1]
      return { text: v ?? '', dynamic: [], allArgs: false }
    }
    if (next === '#') {
      this.i += 2
      return { text: String(positional.length), dynamic: [], allArgs: false }
    }
    if ('$!?-'.includes(next) && next !== '') {
      this.i += 2
      return { text: '', dynamic: [`$${next}`], allArgs: false }
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.i + 1))
    if (!m) {
      this.i++
      return { text: '$', dynamic: [], allArgs: false }
    }
    this.i += 1 + m[0].length
    const v = env[m[0]]
    return v === undefined ? { text: '', dynamic: [`$${m[0]}`], allArgs: false } : { text: v, dynamic: [], allArgs: false }
  }

  /** ${...}: NAME, N, @, NAME:-default, NAME-default, NAME:=default; the rest is dynamic. */
  private parameter(body: string): { text: string; dynamic: string[]; allArgs: boolean } {
    const { env, positional, zero } = this.vars
    if (body === '@' || body === '*') return { text: positional.join(' '), dynamic: [], allArgs: true }
    const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9]+)(?:(:?[-=+])(.*))?$/s.exec(body)
    if (!m) return { text: '', dynamic: [`\${${body}}`], allArgs: false }
    const name = m[1]!
    const value = /^[0-9]+$/.test(name) ? (name === '0' ? zero : positional[Number(name) - 1]) : env[name]
    const op = m[2]
    if (!op) return value === undefined ? { text: '', dynamic: [`\${${name}}`], allArgs: false } : { text: value, dynamic: [], allArgs: false }
    const empty = value === undefined || (op.startsWith(':') && value === '')
    if (op.endsWith('+')) return empty ? { text: '', dynamic: [], allArgs: false } : { text: m[3] ?? '', dynamic: /[$`]/.test(m[3] ?? '') ? [`\${${body}}`] : [], allArgs: false }
    if (!empty) return { text: value!, dynamic: [], allArgs: false }
    const def = m[3] ?? ''
    if (/[$`]/.test(def)) return { text: '', dynamic: [`\${${body}}`], allArgs: false }
    return { text: def.replace(/^["']|["']$/g, ''), dynamic: [], allArgs: false }
  }

  /** Index of the bracket closing the one at `open`, skipping quotes and nesting. */
  private matching(open: number, o: string, c: string): number {
    const s = this.s
    let depth = 0
    for (let j = open; j < s.length; j++) {
      const ch = s[j]!
      if (ch === '\\') {
        j++
        continue
      }
      if (ch === "'") {
        const e = s.indexOf("'", j + 1)
        j = e < 0 ? s.length : e
        continue
      }
      if (ch === '\n') this.line++
      if (ch === o) depth++
      else if (ch === c && --depth === 0) return j
    }
    return s.length - 1
  }
}
