/**
 * A tiny evaluator for the part of sh that wrapper scripts and the env files they source use to
 * prepare a program's environment: assignments (`export NAME=value`, `NAME=value`, `export NAME`,
 * `unset NAME`), `set -e`-style options, and one-level `if [ a = b ]; then ... else ... fi` on
 * values already known (Debian's /etc/apache2/envvars picks its SUFFIX that way). Expansions:
 * `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME#x}`, `${NAME##x}`, `${NAME%x}`, `${NAME%%x}` with
 * literal patterns. Anything else (a command substitution, a glob, another command, a loop) makes
 * the line not understood: the caller then keeps the shell, as the script really needs it.
 */

export interface ShellState {
  /** Every variable set so far (exported or not). */
  vars: Map<string, string>
  /** Exported names in the order they were first exported. */
  exported: string[]
}

export function newState(): ShellState {
  return { vars: new Map(), exported: [] }
}

const NAME = '[A-Za-z_][A-Za-z0-9_]*'

/** One word's value with its expansions done, or undefined when it uses what slim does not evaluate. */
function expand(word: string, st: ShellState): string | undefined {
  let out = ''
  let i = 0
  let quote: '"' | "'" | undefined
  while (i < word.length) {
    const c = word[i]!
    if (quote === "'") {
      if (c === "'") quote = undefined
      else out += c
      i++
      continue
    }
    if (c === "'" && !quote) (quote = "'"), i++
    else if (c === '"') (quote = quote ? undefined : '"'), i++
    else if (c === '`' || c === '\\') return undefined
    else if (!quote && /[*?[\]{}~;&|<>()]/.test(c)) return undefined
    else if (c === '$') {
      const rest = word.slice(i + 1)
      const plain = new RegExp(`^(${NAME})`).exec(rest)
      const braced = new RegExp(`^\\{(${NAME})(?:(:-|##|#|%%|%)([^}$\`\\\\*?[]*))?\\}`).exec(rest)
      if (braced) {
        const v = st.vars.get(braced[1]!)
        const op = braced[2]
        const arg = braced[3] ?? ''
        out += op === ':-' ? (v ? v : arg) : op === '#' || op === '##' ? (v?.startsWith(arg) ? v.slice(arg.length) : (v ?? '')) : op === '%' || op === '%%' ? (v?.endsWith(arg) ? v.slice(0, v.length - arg.length) : (v ?? '')) : (v ?? '')
        i += 1 + braced[0].length
      } else if (plain) {
        out += st.vars.get(plain[1]!) ?? ''
        i += 1 + plain[0].length
      } else return undefined // $(...), $@, $1, ...
    } else (out += c), i++
  }
  return quote ? undefined : out
}

/** Splits a line into words at unquoted blanks (quotes kept for expand). */
export function words(line: string): string[] | undefined {
  const out: string[] = []
  let cur = ''
  let quote: string | undefined
  for (const c of line) {
    if (quote) {
      cur += c
      if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") (quote = c), (cur += c)
    else if (c === ' ' || c === '\t') {
      if (cur) out.push(cur)
      cur = ''
    } else cur += c
  }
  if (quote) return undefined
  if (cur) out.push(cur)
  return out
}

/** The expanded values of `ws`, or undefined when one cannot be evaluated. */
export function expandAll(ws: string[], st: ShellState): string[] | undefined {
  const out: string[] = []
  for (const w of ws) {
    const v = expand(w, st)
    if (v === undefined) return undefined
    out.push(v)
  }
  return out
}

function assign(word: string, st: ShellState, exportIt: boolean): boolean {
  const m = new RegExp(`^(${NAME})=(.*)$`, 's').exec(word)
  if (!m) {
    if (!exportIt || !new RegExp(`^${NAME}$`).test(word)) return false
    if (!st.exported.includes(word)) st.exported.push(word)
    return true
  }
  const v = expand(m[2]!, st)
  if (v === undefined) return false
  st.vars.set(m[1]!, v)
  if (exportIt && !st.exported.includes(m[1]!)) st.exported.push(m[1]!)
  return true
}

/** `[ a = b ]`, `[ a != b ]`, `[ -z a ]`, `[ -n a ]` (also `test ...`) on known values. */
function condition(line: string, st: ShellState): boolean | undefined {
  const m = /^(?:\[\s+(.*)\s+\]|test\s+(.*))\s*;?\s*(?:then)?$/.exec(line.trim())
  const inner = m?.[1] ?? m?.[2]
  if (inner === undefined) return undefined
  const w = words(inner)
  const v = w && expandAll(w, st)
  if (!v) return undefined
  if (v.length === 3 && (v[1] === '=' || v[1] === '!=')) return (v[0] === v[2]) === (v[1] === '=')
  if (v.length === 2 && v[0] === '-z') return v[1] === ''
  if (v.length === 2 && v[0] === '-n') return v[1] !== ''
  return undefined
}

/**
 * Evaluates `lines` into `st`. `other` handles a line this evaluator does not (the wrapper's
 * `mkdir -p`, `exec "$@"`, `. FILE`): it returns false when the line is not understood either.
 * Returns false at the first line nobody understood.
 */
export async function evaluate(lines: string[], st: ShellState, other: (line: string) => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '' || line.startsWith('#')) continue
    if (/^set\s+-[eux]+(\s+-[eux]+)*$/.test(line) || /^set\s+-o\s+(errexit|nounset|pipefail)$/.test(line)) continue
    if (/^if\s/.test(line)) {
      // One level: if COND [; then] ... [else ...] fi
      const cond = condition(line.slice(3).replace(/;\s*then$/, ''), st)
      if (cond === undefined) return false
      const thenAt = /then$/.test(line) ? i : lines.findIndex((l, j) => j > i && l.trim() === 'then')
      const elseAt = lines.findIndex((l, j) => j > thenAt && l.trim() === 'else')
      const fiAt = lines.findIndex((l, j) => j > thenAt && l.trim() === 'fi')
      if (thenAt < 0 || fiAt < 0 || lines.slice(thenAt + 1, fiAt).some((l) => /^\s*(if|elif|while|for|case)\b/.test(l))) return false
      const body = cond ? lines.slice(thenAt + 1, elseAt > 0 && elseAt < fiAt ? elseAt : fiAt) : elseAt > 0 && elseAt < fiAt ? lines.slice(elseAt + 1, fiAt) : []
      if (!(await evaluate(body, st, other))) return false
      i = fiAt
      continue
    }
    const w = words(line)
    if (!w || w.length === 0) return false
    if (w[0] === 'export' && w.length > 1) {
      if (!w.slice(1).every((x) => assign(x, st, true))) return false
      continue
    }
    if (w[0] === 'unset' && w.length > 1 && w.slice(1).every((x) => new RegExp(`^${NAME}$`).test(x))) {
      for (const n of w.slice(1)) (st.vars.delete(n), (st.exported = st.exported.filter((e) => e !== n)))
      continue
    }
    if (w.length === 1 && new RegExp(`^${NAME}=`).test(w[0]!)) {
      if (!assign(w[0]!, st, false)) return false
      continue
    }
    if (!(await other(line))) return false
  }
  return true
}
