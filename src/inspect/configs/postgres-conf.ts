/**
 * postgresql.conf's format (postgresql.org/docs/15/config-setting.html, guc-file.l): one
 * `name [=] value` a line, `#` comments, values unquoted or in single quotes ('' and backslash
 * escapes; a quoted value never spans lines). And the server's command line (`postgres --help`):
 * `-D DIR`, `-c name=value`, `--name=value`, the shorthands that set settings (`-k`, `-l`, ...),
 * and pg_ctl's, whose `-o "OPTIONS"` carries the server's.
 */
import { parseShell } from '../entrypoint/shell-words.js'

export interface PgSetting {
  /** Lower-cased, as postgres compares them. */
  name: string
  value: string
  line: number
}

export interface PgParsed {
  settings: PgSetting[]
  /** Lines postgres would refuse (it then refuses to start): line number and why. */
  errors: { line: number; message: string }[]
}

const NAME = /^[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)?/
/** guc-file.l's unquoted values: a word starting with a letter (then letters, digits, -._:/), or a number with a unit. */
const UNQUOTED = /^(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff.:/-]*|[-+]?(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)[A-Za-z]*)/

/** guc-file.l's DeescapeQuotedString: '' is ', \n \t \b \f \r, \ooo octal, any other \c is c. */
function unescape(body: string): string {
  return body.replace(/''|\\([0-7]{1,3}|.)/g, (m, e: string | undefined) => {
    if (m === "''") return "'"
    const named: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }
    if (named[e!] !== undefined) return named[e!]!
    return /^[0-7]+$/.test(e!) ? String.fromCharCode(parseInt(e!, 8)) : e!
  })
}

export function parsePostgresConf(text: string): PgParsed {
  const out: PgParsed = { settings: [], errors: [] }
  for (const [n, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\r$/, '')
    const rest = line.trimStart()
    if (!rest || rest.startsWith('#')) continue
    const name = NAME.exec(rest)?.[0]
    if (!name) {
      out.errors.push({ line: n + 1, message: 'not a setting name' })
      continue
    }
    let i = name.length
    while (/\s/.test(rest[i] ?? '')) i++
    if (rest[i] === '=') i++
    while (/\s/.test(rest[i] ?? '')) i++
    let value: string
    if (rest[i] === "'") {
      const m = /^'((?:[^'\\]|\\.|'')*)'/.exec(rest.slice(i))
      if (!m) {
        out.errors.push({ line: n + 1, message: 'unterminated quoted string (a value in quotes cannot span lines)' })
        continue
      }
      value = unescape(m[1]!)
      i += m[0].length
    } else {
      const m = UNQUOTED.exec(rest.slice(i))
      if (!m) {
        out.errors.push({ line: n + 1, message: `${name} has no value postgres accepts (a path must be in quotes)` })
        continue
      }
      value = m[0]
      i += m[0].length
    }
    const tail = rest.slice(i).trim()
    if (tail && !tail.startsWith('#')) {
      out.errors.push({ line: n + 1, message: `unexpected text after the value of ${name}` })
      continue
    }
    out.settings.push({ name: name.toLowerCase(), value, line: n + 1 })
  }
  return out
}

/** What the command line says: the config dir (-D), settings, and for pg_ctl its log file. */
export interface PgCommandLine {
  dataArg?: string
  settings: Map<string, string>
  /** pg_ctl -l FILE: the server's stderr goes there. */
  logFile?: string
  /** Options slim does not know: named, never guessed. */
  unknown: string[]
}

/** postgres's getopt string: these letters take an argument. */
const POSTGRES_WITH_ARG = new Set('BCcDdfhkNprSstvW'.split(''))
/** The letters that set a setting (postgres.c process_postgres_switches). */
const POSTGRES_SETS: Record<string, [string, string?]> = {
  B: ['shared_buffers'], h: ['listen_addresses'], k: ['unix_socket_directories'], N: ['max_connections'],
  p: ['port'], S: ['work_mem'], d: ['log_min_messages'], l: ['ssl', 'on'], i: ['listen_addresses', '*'], F: ['fsync', 'off'],
}
const PG_CTL_WITH_ARG = new Set('DelmNopPStUt'.split(''))
const PG_CTL_LONG: Record<string, string> = { pgdata: 'D', log: 'l', options: 'o' }

function setting(out: PgCommandLine, assignment: string, long: boolean): void {
  const eq = assignment.indexOf('=')
  if (eq <= 0) {
    out.unknown.push(`${long ? '--' : '-c '}${assignment}`)
    return
  }
  // ParseLongOption: dashes in the name are underscores.
  out.settings.set(assignment.slice(0, eq).replace(/-/g, '_').toLowerCase(), assignment.slice(eq + 1))
}

/** postgres [OPTION]... (argv without argv[0]). */
export function postgresCommandLine(args: string[], out: PgCommandLine = { settings: new Map(), unknown: [] }): PgCommandLine {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a.startsWith('--')) {
      const body = a.slice(2)
      if (['single', 'boot', 'check', 'describe-config', 'forkchild', 'version', 'help'].includes(body)) continue
      setting(out, body, true)
      continue
    }
    if (!a.startsWith('-') || a === '-') {
      out.unknown.push(a)
      continue
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!
      if (!POSTGRES_WITH_ARG.has(c)) {
        const fixed = POSTGRES_SETS[c]
        if (fixed?.[1]) out.settings.set(fixed[0], fixed[1])
        continue
      }
      const v = j + 1 < a.length ? a.slice(j + 1) : args[++i]
      if (v === undefined) break
      if (c === 'D') out.dataArg = v
      else if (c === 'c') setting(out, v, false)
      else if (POSTGRES_SETS[c]) out.settings.set(POSTGRES_SETS[c]![0], v)
      break
    }
  }
  return out
}

/** pg_ctl ACTION [-D DIR] [-l FILE] [-o "OPTIONS"] ...: -o carries the server's own options. */
export function pgCtlCommandLine(args: string[]): PgCommandLine {
  let dataArg: string | undefined
  let logFile: string | undefined
  const options: string[] = []
  const unknown: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const long = /^--(pgdata|log|options)(?:=(.*))?$/s.exec(a)
    const letter = long ? PG_CTL_LONG[long[1]!]! : /^-([A-Za-z])/.exec(a)?.[1]
    if (!letter || !PG_CTL_WITH_ARG.has(letter)) continue // the action (start, ...), flags, other long options
    const v = long ? (long[2] ?? args[++i]) : a.length > 2 ? a.slice(2) : args[++i]
    if (v === undefined) break
    if (letter === 'D') dataArg = v
    else if (letter === 'l') logFile = v
    else if (letter === 'o') {
      // pg_ctl hands -o to the shell that runs postgres: shell words, nothing dynamic.
      const cmds = parseShell(v, { env: {}, positional: [], zero: 'pg_ctl' }).commands
      if (cmds.length === 1 && cmds[0]!.words.every((w) => !w.dynamic.length)) options.push(...cmds[0]!.words.map((w) => w.text))
      else unknown.push(`-o ${v}`)
    }
  }
  const server = postgresCommandLine(options)
  server.unknown.push(...unknown)
  return { ...server, dataArg: server.dataArg ?? dataArg, ...(logFile ? { logFile } : {}) }
}
