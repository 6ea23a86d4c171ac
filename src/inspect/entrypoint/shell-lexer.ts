/**
 * The tokeniser under the static shell reader: quotes, escapes, comments, line continuations,
 * operators, redirections and here-docs, as a POSIX shell splits them, with the expansion of what
 * is statically known ($VAR from the image's Env and earlier assignments, positional parameters).
 */
import type { ShellVars, ShellWord } from './shell-types.js'

export type Token = { kind: 'word'; word: ShellWord; raw: string; line: number } | { kind: 'op'; op: string; line: number }

export class Lexer {
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
