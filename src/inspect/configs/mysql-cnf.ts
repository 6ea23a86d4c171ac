/**
 * MySQL/MariaDB option files (mariadb.com/kb/en/configuring-mariadb-with-option-files): `[group]`
 * lines, `name`, `name = value` (quotes around the whole value stripped, \n \t \\ \" \' \s
 * escapes), `#` and `;` comment lines, `#` after a value outside quotes, `!include FILE` and
 * `!includedir DIR`. Option names compare with `-` and `_` the same and a `loose-` prefix
 * ignored, as the server does.
 */

export type CnfLine =
  | { kind: 'group'; name: string; line: number }
  | { kind: 'option'; name: string; value?: string; line: number }
  | { kind: 'include' | 'includedir'; path: string; line: number }

export interface CnfParsed {
  lines: CnfLine[]
  /** Lines the server refuses (it then refuses to start) or slim will not follow: line number and why. */
  errors: { line: number; message: string }[]
}

/** `pid-file`, `pid_file`, `loose-pid-file` are one option: `pid_file`. */
export function optionName(raw: string): string {
  return raw.trim().toLowerCase().replace(/-/g, '_').replace(/^loose_/, '')
}

/** remove_end_comment: a `#` outside quotes ends the line. */
function stripComment(s: string): string {
  let q = ''
  let escaped = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if ((c === '"' || c === "'") && !escaped) q = q ? (q === c ? '' : q) : c
    if (!q && c === '#') return s.slice(0, i)
    escaped = q !== '' && c === '\\' && !escaped
  }
  return s
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', s: ' ', '"': '"', "'": "'", '\\': '\\' }

function unescapeValue(v: string): string {
  const quoted = v.length > 1 && (v[0] === '"' || v[0] === "'") && v.at(-1) === v[0]
  const body = quoted ? v.slice(1, -1) : v
  return body.replace(/\\(.)/g, (m, c: string) => ESCAPES[c] ?? m)
}

export function parseCnf(text: string): CnfParsed {
  const out: CnfParsed = { lines: [], errors: [] }
  let inGroup = false
  for (const [n, raw] of text.split('\n').entries()) {
    const line = n + 1
    const s = raw.replace(/\r$/, '').trim()
    if (!s || s.startsWith('#') || s.startsWith(';')) continue
    const directive = /^!(includedir|include)\s+(.+)$/.exec(s)
    if (directive) {
      out.lines.push({ kind: directive[1] as 'include' | 'includedir', path: directive[2]!.trim(), line })
      continue
    }
    if (s.startsWith('!')) {
      out.errors.push({ line, message: `unknown directive ${s.split(/\s/)[0]}` })
      continue
    }
    if (s.startsWith('[')) {
      const m = /^\[([^\]]*)\]/.exec(s)
      if (!m) out.errors.push({ line, message: 'a group line without its closing ]' })
      else out.lines.push({ kind: 'group', name: m[1]!.trim().toLowerCase(), line })
      inGroup = !!m
      continue
    }
    if (!inGroup) {
      out.errors.push({ line, message: 'an option before any [group]' })
      continue
    }
    const body = stripComment(s).trim()
    const eq = body.indexOf('=')
    const name = optionName(eq < 0 ? body : body.slice(0, eq))
    if (!name) continue
    if (eq >= 0 && /^["']/.test(body.slice(eq + 1).trim()) && !/^(["']).*\1$/s.test(body.slice(eq + 1).trim())) {
      out.errors.push({ line, message: `the value of ${name} opens a quote it does not close on its line (the server takes it literally; slim does not follow it)` })
      continue
    }
    out.lines.push(eq < 0 ? { kind: 'option', name, line } : { kind: 'option', name, value: unescapeValue(body.slice(eq + 1).trim()), line })
  }
  return out
}
