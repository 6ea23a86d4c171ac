/**
 * Image values (file names, Env, Labels, history) are attacker-controlled text. Before any of them
 * reaches a terminal or a line-oriented output, control characters are made visible: ESC and BEL
 * would drive the terminal, CR would overwrite the line, and a newline would forge a line of its own.
 *
 * The escaped form is C-like and printable ASCII only for the escaped characters:
 *   newline, CR, tab      -> \n \r \t
 *   other C0 and DEL      -> \xHH
 *   C1, U+2028/U+2029 and the bidirectional overrides -> \uHHHH
 *   backslash             -> \\   (only with `backslash: true`, where the output must be reversible)
 */

/** C0, DEL, C1, the line/paragraph separators and the bidi controls ("Trojan source"). */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
const UNSAFE_OR_BACKSLASH = /[\\\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' }

function escapeOne(c: string): string {
  const named = NAMED[c]
  if (named) return named
  const code = c.charCodeAt(0)
  return code <= 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/**
 * `s` with every control character escaped (see above). Without `backslash` the result is for
 * humans: a backslash already in the value stays as it is, and escaping twice changes nothing.
 */
export function escapeControls(s: string, opts: { backslash?: boolean } = {}): string {
  return s.replace(opts.backslash ? UNSAFE_OR_BACKSLASH : UNSAFE, escapeOne)
}

/** True when `s` holds a character escapeControls would escape (backslash aside). */
export function hasControls(s: string): boolean {
  UNSAFE.lastIndex = 0
  const found = UNSAFE.test(s)
  UNSAFE.lastIndex = 0
  return found
}

/** Report lines for a terminal: each element is one line, so any newline inside it is a value's. */
export function textLines(lines: readonly string[]): string {
  return lines.map((l) => escapeControls(l)).join('\n')
}

/** C0 is escaped by JSON.stringify already; these it leaves raw. */
const JSON_RAW_UNSAFE = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** JSON text with the characters JSON.stringify leaves raw written as \uXXXX: the same document, printable. */
export function printableJson(json: string): string {
  return json.replace(JSON_RAW_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
