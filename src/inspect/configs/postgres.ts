/**
 * PostgreSQL (postgresql.org/docs/15/runtime-config-file-locations.html). The config file is
 * `-c config_file=` or `--config-file=`, else `postgresql.conf` in the `-D` directory (or PGDATA);
 * Debian's -D is /etc/postgresql/15/main, whose postgresql.conf names the real data_directory.
 * From it: data_directory, hba_file, ident_file, external_pid_file, unix_socket_directories,
 * log_directory (with logging_collector), stats_temp_directory, the ssl_* files, and the
 * *_preload_libraries (modules under the pkglibdir, `$libdir`); include, include_if_exists and
 * include_dir are followed. Command-line settings win over the file, as the server applies them.
 * postgres refuses to run as root and needs no passwd entry: nothing here makes it start as root.
 */
import { posix } from 'node:path'
import type { RootFs } from '../../layers/rootfs.js'
import { normaliseLocaleName } from '../needs/locale.js'
import { parsePostgresConf, pgCtlCommandLine, postgresCommandLine, type PgCommandLine } from './postgres-conf.js'
import { absolute, emptyFacts, expandGlob, isSpecialPath, readConfigFile, readText } from './text.js'
import { type ConfigFacts, type ConfigReader, type ReaderInput, configKeeps, CONFIG_KEEP_MAX } from './types.js'

/** guc-file.l's CONF_FILE_MAX_DEPTH: deeper includes make postgres refuse its config. */
const MAX_DEPTH = 10
/** Debian's cluster configs: pg_ctlcluster VERSION CLUSTER reads /etc/postgresql/VERSION/CLUSTER. */
const CLUSTER_CONF_ROOT = '/etc/postgresql'
const ON = /^(on|true|yes|1|t|y)$/i

interface Value {
  value: string
  source: string
}

/** Where the server binary is: pkglibdir is `../lib` from it (postgres finds it the same way). */
function serverBinary(rootfs: RootFs, argv0: string, version?: string): string | undefined {
  if (version) return `/usr/lib/postgresql/${version}/bin/postgres`
  const self = argv0.startsWith('/') ? rootfs.realpath(argv0)?.path : undefined
  if (self && /\/(postgres|postmaster|pg_ctl)$/.test(self)) return posix.join(posix.dirname(self), 'postgres')
  const installed = expandGlob(rootfs, '/usr/lib/postgresql/*/bin/postgres')
  return installed.length === 1 ? installed[0] : undefined
}

/** The command line, by launcher: postgres/postmaster, pg_ctl, Debian's pg_ctlcluster. */
function commandLine(input: ReaderInput, facts: ConfigFacts): { cmd: PgCommandLine; version?: string; clusterDir?: string } {
  const [argv0 = '', ...args] = input.argv
  const name = posix.basename(argv0)
  if (name === 'pg_ctl') return { cmd: pgCtlCommandLine(args) }
  if (name !== 'pg_ctlcluster') return { cmd: postgresCommandLine(args) }
  const positional = args.filter((a, i) => !a.startsWith('-') && !/^(-o|--options|-m|--mode)$/.test(args[i - 1] ?? ''))
  const [version, cluster] = positional
  const optionsAt = args.findIndex((a) => a === '-o' || a === '--options')
  const cmd = pgCtlCommandLine(optionsAt >= 0 && args[optionsAt + 1] ? ['-o', args[optionsAt + 1]!] : [])
  if (!version || !cluster || !/^\d+(\.\d+)?$/.test(version) || !/^[\w.-]+$/.test(cluster) || cluster.startsWith('.')) {
    facts.gaps.push(`argument ${args.join(' ')}: pg_ctlcluster is not given a version and a cluster slim understands`)
    return { cmd }
  }
  const clusterDir = posix.join(input.env?.PG_CLUSTER_CONF_ROOT ?? CLUSTER_CONF_ROOT, version, cluster)
  cmd.dataArg = clusterDir
  // pg_ctlcluster logs the server's stderr to /var/log/postgresql/postgresql-VERSION-CLUSTER.log.
  cmd.logFile ??= `/var/log/postgresql/postgresql-${version}-${cluster}.log`
  return { cmd, version, clusterDir }
}

async function read(input: ReaderInput): Promise<ConfigFacts | undefined> {
  const { rootfs } = input
  const facts = emptyFacts('postgres')
  const { cmd, version, clusterDir } = commandLine(input, facts)
  for (const u of cmd.unknown) facts.gaps.push(`argument ${u}: a postgres option slim does not understand`)
  const settings = new Map<string, Value>()
  const stack: string[] = []

  const visit = async (file: string, from: string, depth: number): Promise<void> => {
    if (stack.includes(file)) {
      facts.gaps.push(`${from}: ${file} includes itself; postgres stops at nesting depth ${MAX_DEPTH} and refuses to start`)
      return
    }
    if (depth > MAX_DEPTH) {
      facts.gaps.push(`${from}: config files nested deeper than ${MAX_DEPTH}; postgres refuses to start`)
      return
    }
    const text = await readConfigFile(rootfs, facts, file)
    if (text === undefined) return
    stack.push(file)
    const parsed = parsePostgresConf(text)
    for (const e of parsed.errors) facts.gaps.push(`${file}:${e.line}: ${e.message}; postgres refuses a config file with a syntax error`)
    const dir = posix.dirname(file)
    for (const s of parsed.settings) {
      const at = `${file}:${s.line} ${s.name} = ${JSON.stringify(s.value)}`
      if (s.name === 'include' || s.name === 'include_if_exists') {
        const target = absolute(s.value, dir)
        if (rootfs.stat(target)?.type === 'file' || s.name === 'include') await visit(target, at, depth + 1)
      } else if (s.name === 'include_dir') {
        const target = absolute(s.value, dir)
        if (rootfs.stat(target)?.type !== 'dir') facts.gaps.push(`${at}: the directory is not in the image; postgres refuses to start`)
        // The directory's *.conf files, not hidden ones, in name order (guc-file.l).
        else for (const f of expandGlob(rootfs, `${target}/*.conf`)) await visit(f, at, depth + 1)
      } else settings.set(s.name, { value: s.value, source: at })
    }
    stack.pop()
  }

  const configDir = cmd.dataArg ?? input.env?.PGDATA
  const configArg = cmd.settings.get('config_file')
  const main = configArg ? absolute(configArg, input.workdir) : configDir ? posix.join(absolute(configDir, input.workdir), 'postgresql.conf') : undefined
  if (!main) {
    facts.gaps.push('postgres is given no -D, no PGDATA and no config_file: it does not know where its data is and refuses to start')
    return facts
  }
  await visit(main, configArg ? `argument config_file=${configArg}` : `-D ${configDir}`, 0)
  if (clusterDir) {
    // pg_ctlcluster's own per-cluster files, read before it starts the server.
    for (const f of ['start.conf', 'pg_ctl.conf', 'environment']) if (await readText(rootfs, posix.join(clusterDir, f)) !== undefined) facts.files.push(posix.join(clusterDir, f))
  }
  const arg = (name: string): Value | undefined => (cmd.settings.has(name) ? { value: cmd.settings.get(name)!, source: `argument ${name}=${cmd.settings.get(name)}` } : undefined)
  const dataSetting = arg('data_directory') ?? settings.get('data_directory')
  const dataDir = dataSetting ? absolute(dataSetting.value, input.workdir) : configDir ? absolute(configDir, input.workdir) : undefined
  if (!dataDir) {
    facts.gaps.push(`${main}: sets no data_directory and postgres has no -D or PGDATA: it refuses to start`)
    return facts
  }
  // ALTER SYSTEM's file, read after the config (command-line settings still win).
  const auto = posix.join(dataDir, 'postgresql.auto.conf')
  if (rootfs.stat(auto)) await visit(auto, `${dataDir} postgresql.auto.conf`, 0)
  const get = (name: string): Value | undefined => arg(name) ?? settings.get(name)
  const dataSource = dataSetting?.source ?? (cmd.dataArg ? `argument -D ${cmd.dataArg}` : 'PGDATA')
  dataFacts(rootfs, facts, dataDir, dataSource)

  const configBase = configDir ? absolute(configDir, input.workdir) : dataDir
  for (const [name, what] of [['hba_file', 'pg_hba.conf'], ['ident_file', 'pg_ident.conf']] as const) {
    const s = get(name)
    const p = s ? absolute(s.value, input.workdir) : posix.join(configBase, what)
    facts.read.push({ path: p, why: `postgres reads its ${name} ${p} at start`, source: s?.source ?? `default ${what} in ${configBase}` })
  }
  const sockets = get('unix_socket_directories')
  for (const d of (sockets?.value ?? '').split(',').map((x) => x.trim().replace(/^"(.*)"$/, '$1')).filter(Boolean)) {
    // "@name" is the abstract namespace: no directory.
    if (!d.startsWith('@')) facts.write.push({ path: absolute(d, dataDir), why: `postgres creates its unix socket and its lock file in ${d}`, source: sockets!.source })
  }
  const inData = (name: string, why: string, dirOnly: boolean) => {
    const s = get(name)
    if (!s || !s.value) return
    const p = absolute(s.value, dataDir) // the server runs in its data directory
    if (!isSpecialPath(p)) facts.write.push({ path: dirOnly ? posix.dirname(p) : p, why: `${why} ${p}`, source: s.source })
  }
  inData('external_pid_file', 'postgres writes its extra pid file', true)
  inData('stats_temp_directory', 'postgres writes statistics into', false)
  const collector = get('logging_collector')
  if (collector && ON.test(collector.value)) {
    const s = get('log_directory')
    const p = absolute(s?.value ?? 'log', dataDir)
    facts.write.push({ path: p, why: `postgres's logging collector writes its log files into ${p} (logging_collector is on)`, source: s?.source ?? collector.source })
  }
  if (cmd.logFile) {
    const p = absolute(cmd.logFile, input.workdir)
    facts.write.push({ path: posix.dirname(p), why: `the server's output is written to ${p}`, source: `argument -l ${cmd.logFile}` })
  }
  const ssl = get('ssl')
  if (ssl && ON.test(ssl.value)) sslFacts(rootfs, facts, get, dataDir)
  localeFacts(rootfs, facts, get)
  const binary = serverBinary(rootfs, input.argv[0] ?? '', version)
  moduleFacts(facts, get, binary, dataDir)
  return facts
}

/** The data directory: its tree is the database; postgres checks its owner and mode at start. */
function dataFacts(rootfs: RootFs, facts: ConfigFacts, dataDir: string, source: string): void {
  const rule = 'postgres refuses to start unless it is owned by the user postgres runs as, with mode 0700 or 0750'
  facts.read.push({ path: dataDir, why: `postgres's data directory ${dataDir} holds the database`, source })
  facts.write.push({ path: dataDir, why: `postgres writes its data directory ${dataDir} (and postmaster.pid in it); ${rule}`, source })
  const st = rootfs.stat(dataDir)
  if (st?.type === 'dir' && (st.mode & 0o027) !== 0) facts.gaps.push(`${source}: the data directory ${dataDir} has mode ${(st.mode & 0o777).toString(8)}; ${rule}`)
}

/**
 * lc_messages/monetary/numeric/time: postgres checks each with setlocale at start and refuses a
 * config whose locale the C library cannot load, so the locale's data is read (Debian's initdb
 * writes the cluster's locale there, `C.UTF-8`, which glibc loads from /usr/lib/locale/C.utf8).
 */
function localeFacts(rootfs: RootFs, facts: ConfigFacts, get: (n: string) => Value | undefined): void {
  const seen = new Set<string>()
  for (const name of ['lc_messages', 'lc_monetary', 'lc_numeric', 'lc_time']) {
    const s = get(name)
    if (!s || /^(C|POSIX|)$/i.test(s.value)) continue
    const dir = `/usr/lib/locale/${normaliseLocaleName(s.value)}`
    const archive = '/usr/lib/locale/locale-archive'
    const path = rootfs.stat(dir) || !rootfs.stat(archive) ? dir : archive
    if (seen.has(path)) continue
    seen.add(path)
    facts.read.push({ path, why: `postgres loads the locale ${s.value} (${name}) at start and refuses its config when the C library cannot`, source: s.source })
  }
}

/** ssl = on: the certificate, key, CA and CRL files (relative to the data directory). */
function sslFacts(rootfs: RootFs, facts: ConfigFacts, get: (n: string) => Value | undefined, dataDir: string): void {
  const defaults: Record<string, string> = { ssl_cert_file: 'server.crt', ssl_key_file: 'server.key' }
  for (const name of ['ssl_cert_file', 'ssl_key_file', 'ssl_ca_file', 'ssl_crl_file', 'ssl_crl_dir', 'ssl_dh_params_file']) {
    const s = get(name)
    const value = s?.value || defaults[name]
    if (!value) continue
    const p = absolute(value, dataDir)
    const source = s?.source ?? `ssl is on; default ${name} ${value}`
    facts.read.push({ path: p, why: `postgres loads ${p} (${name}) at start since ssl is on`, source })
    const st = name === 'ssl_key_file' ? rootfs.stat(p) : undefined
    // be-secure-common.c: owned by root, at most 0640; owned by anyone else (the server's user), at most 0600.
    if (st && (st.uid === 0 ? (st.mode & 0o137) !== 0 : (st.mode & 0o077) !== 0)) {
      facts.gaps.push(`${source}: the key ${p} has mode ${(st.mode & 0o777).toString(8)} (owner uid ${st.uid}); postgres refuses a key with group or world permissions (0600 for its own user, 0640 when root owns it)`)
    }
  }
}

/** shared/local/session_preload_libraries: each NAME is $libdir/NAME(.so) (local ones under $libdir/plugins). */
function moduleFacts(facts: ConfigFacts, get: (n: string) => Value | undefined, binary: string | undefined, dataDir: string): void {
  const libdir = binary ? posix.join(posix.dirname(posix.dirname(binary)), 'lib') : undefined
  for (const name of ['shared_preload_libraries', 'local_preload_libraries', 'session_preload_libraries']) {
    const s = get(name)
    if (!s) continue
    for (const raw of s.value.split(',')) {
      const lib = raw.trim().replace(/^"(.*)"$/, '$1')
      if (!lib) continue
      let path = lib
      if (lib.startsWith('$libdir/') || !lib.includes('/')) {
        if (!libdir) {
          facts.gaps.push(`${s.source}: slim cannot tell where postgres's $libdir is (no single /usr/lib/postgresql/*/bin/postgres), so not where ${lib} is`)
          continue
        }
        path = lib.includes('/') ? lib.replace('$libdir', libdir) : posix.join(libdir, name === 'local_preload_libraries' ? 'plugins' : '', lib)
      } else if (lib.includes('$')) {
        facts.gaps.push(`${s.source}: ${lib} names a variable slim does not know`)
        continue
      }
      if (!/\.so(\.|$)/.test(path)) path += '.so'
      facts.modules.push({ path: absolute(path, dataDir), why: `postgres loads ${lib} (${name})`, source: s.source })
    }
  }
}

export const postgresReader: ConfigReader = { program: 'postgres', names: ['postgres', 'postmaster', 'pg_ctl', 'pg_ctlcluster'], keeps: [...configKeeps([CLUSTER_CONF_ROOT]), { under: '/var/lib/postgresql', baseName: /^postgresql(\.auto)?\.conf$/, maxSize: CONFIG_KEEP_MAX }], read }
