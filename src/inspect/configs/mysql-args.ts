/**
 * The MariaDB/MySQL server's command line: `--defaults-file=`, `--defaults-extra-file=`,
 * `--no-defaults`, `--defaults-group-suffix=` choose the option files; `--name=value` (and
 * `--name value` for the options slim reads that take a path), `--skip-name`, and the short
 * `-u USER`, `-h DATADIR`, `-b BASEDIR`, `-t TMPDIR` set options, winning over the files.
 */
import { optionName } from './mysql-cnf.js'

export interface MysqlCommandLine {
  defaultsFile?: string
  extraFile?: string
  noDefaults: boolean
  groupSuffix?: string
  /** Option name (as optionName spells it) -> value (undefined for a bare flag). */
  options: Map<string, string | undefined>
}

/** Options that require a value: `--datadir /x` takes the next word. */
const WITH_VALUE = new Set(['user', 'datadir', 'basedir', 'socket', 'pid_file', 'tmpdir', 'general_log_file', 'slow_query_log_file', 'log_slow_query_file', 'plugin_dir', 'plugin_load', 'plugin_load_add', 'lc_messages_dir', 'character_sets_dir', 'secure_file_priv', 'innodb_data_home_dir', 'innodb_log_group_home_dir'])
const SHORT: Record<string, string> = { u: 'user', h: 'datadir', b: 'basedir', t: 'tmpdir' }

export function mysqlCommandLine(args: string[]): MysqlCommandLine {
  const out: MysqlCommandLine = { noDefaults: false, options: new Map() }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const short = /^-([a-zA-Z])(.*)$/s.exec(a)
    if (short && SHORT[short[1]!]) {
      const v = short[2] || args[++i]
      if (v !== undefined) out.options.set(SHORT[short[1]!]!, v)
      continue
    }
    if (!a.startsWith('--')) continue
    const eq = a.indexOf('=')
    const name = optionName(eq < 0 ? a.slice(2) : a.slice(2, eq))
    let value = eq < 0 ? undefined : a.slice(eq + 1)
    if (value === undefined && WITH_VALUE.has(name) && args[i + 1] !== undefined && !args[i + 1]!.startsWith('-')) value = args[++i]
    if (name === 'defaults_file') out.defaultsFile = value
    else if (name === 'defaults_extra_file') out.extraFile = value
    else if (name === 'no_defaults') out.noDefaults = true
    else if (name === 'defaults_group_suffix') out.groupSuffix = value
    else if (name.startsWith('skip_')) out.options.set(name.slice(5), '0')
    else out.options.set(name, value)
  }
  return out
}
