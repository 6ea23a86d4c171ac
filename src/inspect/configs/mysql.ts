/**
 * MariaDB and MySQL servers (mariadb.com/kb/en/configuring-mariadb-with-option-files). Option
 * files: `--defaults-file=F` alone, else /etc/my.cnf, /etc/mysql/my.cnf, $MYSQL_HOME/my.cnf, then
 * `--defaults-extra-file=F`, with `!include`/`!includedir` (its `*.cnf` in name order). The server
 * reads the [mysqld], [server], [mariadb], [mariadbd], [client-server] and [galera] groups, and
 * the same names with its version ([mariadb-10.11]); mysqld_safe also its own. Then `--name=value`
 * arguments win. From them: `user`, `datadir`, `socket`, `pid-file`, `log-error`, `tmpdir`, the
 * general/slow/binary logs, `plugin-load(-add)` (modules in `plugin_dir`), `lc-messages-dir`,
 * `character-sets-dir`, `secure-file-priv`, the InnoDB dirs and ssl files. Defaults are Debian's
 * build (`mariadbd --help --verbose`).
 */
import { posix } from 'node:path'
import { bufferSource, firstMatchIn } from '../../core/byte-source.js'
import { parseCnf } from './mysql-cnf.js'
import { mysqlCommandLine, type MysqlCommandLine } from './mysql-args.js'
import { absolute, emptyFacts, expandGlob, isSpecialPath, readConfigFile } from './text.js'
import { type ConfigFacts, type ConfigReader, type ReaderInput, configKeeps } from './types.js'

const DEFAULT_FILES = ['/etc/my.cnf', '/etc/mysql/my.cnf']
const DEFAULTS = { datadir: '/var/lib/mysql', socket: '/run/mysqld/mysqld.sock', plugin_dir: '/usr/lib/mysql/plugin', lc_messages_dir: '/usr/share/mysql', character_sets_dir: '/usr/share/mysql/charsets' }
const SERVER_GROUPS = ['mysqld', 'server', 'mariadb', 'mariadbd', 'client-server', 'galera']
const SAFE_GROUPS = ['mysqld_safe', 'safe_mysqld', 'mariadb-safe', 'mariadbd-safe']
/** my_default.c: deeper !include nesting is ignored by the server. */
const MAX_DEPTH = 10
const ON = /^(on|true|yes|1)$/i

interface Option {
  name: string
  value?: string
  group: string
  source: string
}

/** The server's version ("10.11"), read from its binary only when a versioned group needs it. */
async function serverVersion(input: ReaderInput, binary: string): Promise<string | undefined> {
  const st = input.rootfs.stat(binary)
  if (!st || st.type !== 'file') return undefined
  const bytes = input.open ? await input.open(binary) : bufferSource(await input.rootfs.readFile(binary))
  return firstMatchIn(bytes, /\0(?:mariadb|mysqld)-(\d+\.\d+)\0/)?.[1]
}

async function readOptions(input: ReaderInput, facts: ConfigFacts, cmd: MysqlCommandLine): Promise<Option[]> {
  const { rootfs } = input
  const options: Option[] = []
  const stack: string[] = []
  const visit = async (file: string, depth: number, required: boolean): Promise<void> => {
    if (stack.includes(file)) return void facts.gaps.push(`${stack.at(-1)}: ${file} includes itself; slim read it once`)
    if (depth > MAX_DEPTH) return void facts.gaps.push(`${stack.at(-1)}: option files nested deeper than ${MAX_DEPTH}; the server ignores the deeper ones and so does slim`)
    if (!required && rootfs.stat(file)?.type !== 'file') return
    const text = await readConfigFile(rootfs, facts, file)
    if (text === undefined) return
    stack.push(file)
    const parsed = parseCnf(text)
    for (const e of parsed.errors) facts.gaps.push(`${file}:${e.line}: ${e.message}`)
    let group = ''
    for (const l of parsed.lines) {
      if (l.kind === 'group') group = l.name
      else if (l.kind === 'option') options.push({ name: l.name, value: l.value, group, source: `${file}:${l.line} ${l.name}${l.value === undefined ? '' : ` = ${JSON.stringify(l.value)}`}` })
      else if (l.kind === 'include') await visit(absolute(l.path, posix.dirname(file)), depth + 1, true)
      else {
        const dir = absolute(l.path, posix.dirname(file))
        for (const f of expandGlob(rootfs, `${dir}/*.cnf`)) if (rootfs.stat(f)?.type === 'file') await visit(f, depth + 1, true)
      }
    }
    stack.pop()
  }
  if (cmd.noDefaults) return options
  if (cmd.defaultsFile) return (await visit(absolute(cmd.defaultsFile, input.workdir), 0, true), options)
  const home = input.env?.MARIADB_HOME ?? input.env?.MYSQL_HOME
  for (const f of [...DEFAULT_FILES, ...(home ? [posix.join(home, 'my.cnf')] : [])]) await visit(f, 0, false)
  if (cmd.extraFile) await visit(absolute(cmd.extraFile, input.workdir), 0, true)
  return options
}

async function read(input: ReaderInput): Promise<ConfigFacts | undefined> {
  const { rootfs, argv } = input
  const name = posix.basename(argv[0] ?? 'mariadbd')
  const safe = /safe/.test(name)
  const facts = emptyFacts('mariadb')
  const cmd = mysqlCommandLine(argv.slice(1))
  const all = await readOptions(input, facts, cmd)
  const groups = new Set([...SERVER_GROUPS, ...(safe ? SAFE_GROUPS : [])].map((g) => (cmd.groupSuffix ? [g, `${g}${cmd.groupSuffix}`] : [g])).flat())
  const versioned = all.filter((o) => /^(mysqld|mariadb|mariadbd)-\d+\.\d+$/.test(o.group))
  let version: string | undefined
  if (versioned.length) {
    const binary = rootfs.realpath(argv[0]?.startsWith('/') && !safe ? argv[0] : '/usr/sbin/mariadbd')?.path ?? '/usr/sbin/mysqld'
    version = await serverVersion(input, binary)
    if (!version) facts.gaps.push(`${versioned[0]!.source}: set in a group for one server version ([${versioned[0]!.group}]), and slim could not read the version from ${binary}`)
  }
  const applies = (g: string) => groups.has(g) || (version !== undefined && new RegExp(`^(mysqld|mariadb|mariadbd)-${version.replace('.', '\\.')}$`).test(g))
  const settings = new Map<string, { value?: string; source: string }>()
  // `skip-NAME` is NAME = 0, in files as on the command line.
  for (const o of all) if (applies(o.group)) settings.set(o.name.replace(/^skip_/, ''), { value: o.name.startsWith('skip_') ? '0' : o.value, source: o.source })
  for (const [k, v] of cmd.options) settings.set(k, { value: v, source: `argument --${k}${v === undefined ? '' : `=${v}`}` })
  const get = (k: string) => settings.get(k)
  const on = (k: string) => { const s = get(k); return s !== undefined && (s.value === undefined || ON.test(s.value)) }
  const path = (k: string, base: string, fallback?: string) => {
    const s = get(k)
    const v = s?.value ?? fallback
    return v ? { path: absolute(v, base), source: s?.source ?? `the server's default ${k} ${v}` } : undefined
  }

  const user = get('user')
  // `user = NAME` is looked up with getpwnam and switched to when the server starts as root; as
  // another user the server ignores it. A number needs no passwd entry; root needs no switch.
  if (user?.value && user.value !== 'root' && user.value !== '0') {
    if (!/^\d+$/.test(user.value)) facts.users.push({ name: user.value, source: user.source })
    facts.startsAsRoot = { why: `the config says \`user = ${user.value}\`: started as root the server switches to ${user.value} (started as another user it ignores the option)`, source: user.source }
  }
  const basedir = path('basedir', input.workdir, '/usr')!.path
  const data = path('datadir', basedir, DEFAULTS.datadir)!
  facts.read.push({ path: data.path, why: `the server's data directory ${data.path} holds the databases`, source: data.source })
  facts.write.push({ path: data.path, why: `the server writes its data directory ${data.path}; it must be owned by the user the server runs as`, source: data.source })
  const dirOf = (k: string, why: string, fallback?: string) => {
    const p = path(k, data.path, fallback)
    if (p && !isSpecialPath(p.path)) facts.write.push({ path: posix.dirname(p.path), why: `${why} ${p.path}`, source: p.source })
  }
  dirOf('socket', 'the server creates its unix socket', DEFAULTS.socket)
  dirOf('pid_file', 'the server writes its pid file')
  const logError = get('log_error')
  if (logError?.value && logError.value !== '0') dirOf('log_error', 'the server writes its error log')
  if (on('general_log')) dirOf('general_log_file', 'the server writes its general query log', 'host.log')
  if (on('slow_query_log')) dirOf(get('log_slow_query_file') ? 'log_slow_query_file' : 'slow_query_log_file', 'the server writes its slow query log', 'host-slow.log')
  if (get('log_bin')) dirOf('log_bin', 'the server writes its binary log', get('log_bin')!.value || 'mysql-bin')
  // The default, $TMPDIR or /tmp, is every program's temp dir: slim's /tmp need covers it.
  const tmp = get('tmpdir')
  for (const d of (tmp?.value ?? '').split(':').filter(Boolean)) facts.write.push({ path: absolute(d, '/'), why: `the server writes temporary files into ${d}`, source: tmp!.source })
  for (const k of ['innodb_data_home_dir', 'innodb_log_group_home_dir']) {
    const p = path(k, data.path)
    if (p) facts.write.push({ path: p.path, why: `InnoDB writes its files into ${p.path} (${k})`, source: p.source })
  }
  readFacts(facts, get, path, basedir)
  moduleFacts(facts, get, path, basedir)
  if (safe) facts.gaps.push(`${argv[0]}: ${name} is a shell script that starts the server after running my_print_defaults and other tools; slim reads its option groups, not what the script runs`)
  return facts
}

type Get = (k: string) => { value?: string; source: string } | undefined
type PathOf = (k: string, base: string, fallback?: string) => { path: string; source: string } | undefined

/** Files and trees the server reads at start. */
function readFacts(facts: ConfigFacts, get: Get, path: PathOf, basedir: string): void {
  const messages = path('lc_messages_dir', basedir, DEFAULTS.lc_messages_dir)!
  // Without lc_messages the server reads english/errmsg.sys; with one, the language is the server's mapping.
  const msgDir = get('lc_messages') || get('language') ? messages.path : posix.join(messages.path, 'english')
  facts.read.push({ path: msgDir, why: `the server loads its error messages (errmsg.sys) from ${msgDir}; it refuses to start without them`, source: messages.source })
  const charsets = path('character_sets_dir', basedir, DEFAULTS.character_sets_dir)!
  facts.read.push({ path: charsets.path, why: `the server loads character set definitions from ${charsets.path}`, source: charsets.source })
  const priv = get('secure_file_priv')
  if (priv?.value && priv.value.toUpperCase() !== 'NULL') facts.read.push({ path: absolute(priv.value, '/'), why: `LOAD DATA and SELECT ... INTO OUTFILE are limited to ${priv.value} (secure_file_priv); the server refuses to start when it is missing`, source: priv.source })
  for (const k of ['ssl_cert', 'ssl_key', 'ssl_ca', 'ssl_capath', 'ssl_crl', 'ssl_crlpath']) {
    const p = path(k, basedir)
    if (p) facts.read.push({ path: p.path, why: `the server loads ${p.path} (${k})`, source: p.source })
  }
}

/** plugin-load / plugin-load-add: `[name=]library[;...]`, libraries in plugin_dir. */
function moduleFacts(facts: ConfigFacts, get: Get, path: PathOf, basedir: string): void {
  const dir = path('plugin_dir', basedir, DEFAULTS.plugin_dir)!.path
  for (const k of ['plugin_load', 'plugin_load_add']) {
    const s = get(k)
    for (const item of (s?.value ?? '').split(';').map((x) => x.trim()).filter(Boolean)) {
      const lib = item.includes('=') ? item.slice(item.indexOf('=') + 1) : item
      if (!lib || lib.includes('/')) {
        facts.gaps.push(`${s!.source}: ${JSON.stringify(item)} is not a library name in plugin_dir; the server refuses paths there`)
        continue
      }
      facts.modules.push({ path: posix.join(dir, /\.so$/.test(lib) ? lib : `${lib}.so`), why: `the server loads the plugin library ${lib} (${k.replace(/_/g, '-')})`, source: s!.source })
    }
  }
}

export const mysqlReader: ConfigReader = { program: 'mariadb', names: ['mysqld', 'mariadbd', 'mysqld_safe', 'mariadbd-safe'], keeps: configKeeps(['/etc/mysql', '/etc/my.cnf.d'], DEFAULT_FILES), read }
