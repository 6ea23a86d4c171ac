/**
 * The PostgreSQL and MariaDB config readers on the REAL Debian 12 configs (the legacy-db fixture:
 * postgresql-15 and mariadb-server installed by mmdebstrap, their postinsts run, so the 15/main
 * cluster and /var/lib/mysql exist), and on hostile configs laid over that rootfs (an upper
 * directory, as overlayfs stacks a layer).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readerFor } from '../src/inspect/configs/index.js'
import { parseCnf } from '../src/inspect/configs/mysql-cnf.js'
import { mysqlReader } from '../src/inspect/configs/mysql.js'
import { parsePostgresConf, pgCtlCommandLine } from '../src/inspect/configs/postgres-conf.js'
import { postgresReader } from '../src/inspect/configs/postgres.js'
import { ensureFixtures } from './fixtures/index.js'
import { DirRootFs } from './helpers/dir-rootfs.js'

let root: string
let fs: DirRootFs
let upper: string

beforeAll(async () => {
  const fx = await ensureFixtures(['legacy-db-rootfs'])
  root = fx.rootfs['legacy-db']!
  fs = new DirRootFs(root)
  upper = mkdtempSync(join(tmpdir(), 'slim-db-configs-'))
}, 900_000)
afterAll(() => rmSync(upper, { recursive: true, force: true }))

const paths = (list: { path: string }[]) => list.map((x) => x.path)
const PG = '/usr/lib/postgresql/15/bin/postgres'
const CONF = '/etc/postgresql/15/main'

/** A rootfs with `files` (path -> content) laid over the fixture, in a fresh upper directory. */
function overlay(files: Record<string, string | Buffer>): DirRootFs {
  const dir = mkdtempSync(join(upper, 'layer-'))
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true })
    writeFileSync(join(dir, p), content)
  }
  return new DirRootFs([dir, root])
}

describe('postgres on Debian 12 (postgresql-15, cluster 15/main)', () => {
  it('-D /etc/postgresql/15/main: data dir from data_directory, hba/ident, socket and pid dirs, ssl files; no user, not root', async () => {
    const f = (await postgresReader.read({ rootfs: fs, argv: [PG, '-D', CONF], workdir: '/' }))!
    expect(f.files).toEqual([`${CONF}/postgresql.conf`, '/var/lib/postgresql/15/main/postgresql.auto.conf'])
    expect(f.users).toEqual([])
    expect(f.startsAsRoot).toBeUndefined()
    expect(paths(f.write)).toEqual(['/var/lib/postgresql/15/main', '/var/run/postgresql', '/var/run/postgresql'])
    expect(f.write[0]!.why).toMatch(/owned by the user postgres runs as, with mode 0700 or 0750/)
    expect(f.write[0]!.source).toMatch(/^\/etc\/postgresql\/15\/main\/postgresql\.conf:\d+ data_directory = "\/var\/lib\/postgresql\/15\/main"$/)
    expect(paths(f.read)).toEqual([
      '/var/lib/postgresql/15/main', `${CONF}/pg_hba.conf`, `${CONF}/pg_ident.conf`,
      '/etc/ssl/certs/ssl-cert-snakeoil.pem', '/etc/ssl/private/ssl-cert-snakeoil.key',
      // lc_messages etc. are 'C.UTF-8': glibc loads that locale from /usr/lib/locale/C.utf8.
      '/usr/lib/locale/C.utf8',
    ])
    // The snakeoil key is root:ssl-cert 0640, which postgres accepts.
    expect(fs.stat('/etc/ssl/private/ssl-cert-snakeoil.key')!.mode & 0o777).toBe(0o640)
    expect(f.modules).toEqual([])
    expect(f.gaps).toEqual([])
  })

  it('preload libraries from the command line become modules under the pkglibdir', async () => {
    const f = (await postgresReader.read({
      rootfs: fs,
      argv: [PG, '-D', CONF, '-c', 'shared_preload_libraries=pg_stat_statements,"$libdir/auto_explain"', '--session-preload-libraries=auth_delay.so'],
      workdir: '/',
    }))!
    expect(paths(f.modules)).toEqual(['/usr/lib/postgresql/15/lib/pg_stat_statements.so', '/usr/lib/postgresql/15/lib/auto_explain.so', '/usr/lib/postgresql/15/lib/auth_delay.so'])
    for (const m of paths(f.modules)) expect(fs.stat(m)?.type, m).toBe('file')
    expect(f.modules[0]!.source).toBe('argument shared_preload_libraries=pg_stat_statements,"$libdir/auto_explain"')
  })

  it('PGDATA and config_file: the same cluster found without -D; no directory at all is a gap', async () => {
    const viaEnv = (await postgresReader.read({ rootfs: fs, argv: ['postgres'], workdir: '/', env: { PGDATA: CONF } }))!
    expect(paths(viaEnv.write)[0]).toBe('/var/lib/postgresql/15/main')
    const viaFile = (await postgresReader.read({ rootfs: fs, argv: [PG, `--config-file=${CONF}/postgresql.conf`], workdir: '/' }))!
    expect(viaFile.files[0]).toBe(`${CONF}/postgresql.conf`)
    expect(paths(viaFile.read)).toContain(`${CONF}/pg_hba.conf`)
    const none = (await postgresReader.read({ rootfs: fs, argv: [PG], workdir: '/' }))!
    expect(none.gaps).toEqual([expect.stringMatching(/no -D, no PGDATA and no config_file/)])
  })

  it("Debian's pg_ctlcluster 15 main start: the cluster dir, its own files, the log under /var/log/postgresql", async () => {
    const f = (await postgresReader.read({ rootfs: fs, argv: ['/usr/bin/pg_ctlcluster', '15', 'main', 'start', '--foreground'], workdir: '/' }))!
    expect(f.files).toEqual(expect.arrayContaining([`${CONF}/postgresql.conf`, `${CONF}/start.conf`, `${CONF}/pg_ctl.conf`, `${CONF}/environment`]))
    expect(paths(f.write)).toEqual(expect.arrayContaining(['/var/lib/postgresql/15/main', '/var/log/postgresql']))
    const ctl = pgCtlCommandLine(['start', '-D', CONF, '-l', '/var/log/pg.log', '-o', "-c config_file='/x/y.conf' -k /sock"])
    expect([ctl.dataArg, ctl.logFile, ctl.settings.get('config_file'), ctl.settings.get('unix_socket_directories')]).toEqual([CONF, '/var/log/pg.log', '/x/y.conf', '/sock'])
  })

  it('logging_collector, socket lists and include_dir from a config laid over the image', async () => {
    const o = overlay({
      [`${CONF}/conf.d/10-log.conf`]: "logging_collector = on\nlog_directory = 'pglog'\nunix_socket_directories = '/var/run/postgresql, /tmp, @abstract'\n",
      [`${CONF}/conf.d/.hidden.conf`]: "log_directory = '/nope'\n",
    })
    const f = (await postgresReader.read({ rootfs: o, argv: [PG, '-D', CONF], workdir: '/' }))!
    expect(f.files).toContain(`${CONF}/conf.d/10-log.conf`)
    expect(f.files).not.toContain(`${CONF}/conf.d/.hidden.conf`)
    expect(paths(f.write)).toEqual(expect.arrayContaining(['/var/lib/postgresql/15/main/pglog', '/tmp', '/var/run/postgresql']))
    expect(paths(f.write)).not.toContain('/nope')
    expect(f.gaps).toEqual([])
  })
})

describe('postgres on hostile configs: gaps, never crashes', () => {
  const read = (files: Record<string, string | Buffer>) => postgresReader.read({ rootfs: overlay(files), argv: [PG, '-D', CONF], workdir: '/' }).then((f) => f!)

  it('an include loop, a nesting chain, a missing include and a missing include_dir', async () => {
    const f = await read({
      [`${CONF}/postgresql.conf`]: "data_directory = '/var/lib/postgresql/15/main'\ninclude 'a.conf'\ninclude_if_exists 'absent.conf'\ninclude 'absent.conf'\ninclude_dir 'no-such-dir'\n",
      [`${CONF}/a.conf`]: "include 'postgresql.conf'\n",
    })
    expect(f.gaps).toEqual([
      expect.stringMatching(/a\.conf:1 include = "postgresql\.conf": \/etc\/postgresql\/15\/main\/postgresql\.conf includes itself/),
      expect.stringMatching(/absent\.conf: postgres reads this config file but slim could not read it/),
      expect.stringMatching(/include_dir = "no-such-dir": the directory is not in the image/),
    ])
    const chain: Record<string, string> = {}
    for (let i = 0; i < 14; i++) chain[`${CONF}/${i === 0 ? 'postgresql' : `n${i}`}.conf`] = `include 'n${i + 1}.conf'\ndata_directory = '/var/lib/postgresql/15/main'\n`
    const deep = await read(chain)
    expect(deep.gaps).toEqual([expect.stringMatching(/nested deeper than 10; postgres refuses to start/)])
    expect(deep.files).toContain(`${CONF}/n10.conf`)
    expect(deep.files).not.toContain(`${CONF}/n11.conf`)
  })

  it('an absurdly big include, ../ escapes and absolute paths stay inside the image', async () => {
    const f = await read({
      [`${CONF}/postgresql.conf`]: "include 'big.conf'\ninclude '../../../../../../etc/passwd'\ninclude '/proc/self/environ'\ndata_directory = '../../../../../srv/data'\n",
      [`${CONF}/big.conf`]: Buffer.alloc(5 * 1024 * 1024, 0x23),
    })
    expect(f.files).toEqual([`${CONF}/postgresql.conf`, '/etc/passwd'])
    expect(f.gaps.filter((g) => /could not read it/.test(g)).map((g) => g.split(':')[0])).toEqual([`${CONF}/big.conf`, '/proc/self/environ'])
    // /etc/passwd of the image is not a postgres config: every line is a syntax error gap.
    expect(f.gaps.some((g) => /^\/etc\/passwd:1: /.test(g))).toBe(true)
    // data_directory is relative to the working directory ('/'): `..` stops at the image's root.
    expect(paths(f.write)[0]).toBe('/srv/data')
  })

  it('quoted values with newlines, escapes and a key with loose permissions', async () => {
    const parsed = parsePostgresConf("a = 'one\ntwo'\nb = 'it''s \\n \\101'\nc 5 # c\nd = 'x' junk\n= 3\n")
    expect(parsed.settings).toEqual([{ name: 'b', value: "it's \n A", line: 3 }, { name: 'c', value: '5', line: 4 }])
    expect(parsed.errors.map((e) => e.line)).toEqual([1, 2, 5, 6])
    const o = overlay({ [`${CONF}/conf.d/ssl.conf`]: "ssl_key_file = '/etc/ssl/private/loose.key'\n", '/etc/ssl/private/loose.key': 'k' })
    // The overlay's file is the test user's, mode 0644 here: not root-owned 0640, not 0600.
    const f = (await postgresReader.read({ rootfs: o, argv: [PG, '-D', CONF], workdir: '/' }))!
    expect(f.gaps).toEqual([expect.stringMatching(/loose\.key has mode 6\d\d .*refuses a key with group or world permissions/)])
  })
})

describe('MariaDB on Debian 12 (mariadb-server 10.11)', () => {
  it('mariadbd: /etc/mysql/my.cnf (alternatives symlink) and both includedirs in name order; datadir, socket, pid dir', async () => {
    const f = (await mysqlReader.read({ rootfs: fs, argv: ['/usr/sbin/mariadbd'], workdir: '/' }))!
    expect(f.files).toEqual([
      '/etc/mysql/my.cnf', '/etc/mysql/conf.d/mysql.cnf', '/etc/mysql/conf.d/mysqldump.cnf',
      '/etc/mysql/mariadb.conf.d/50-client.cnf', '/etc/mysql/mariadb.conf.d/50-mysql-clients.cnf', '/etc/mysql/mariadb.conf.d/50-mysqld_safe.cnf',
      '/etc/mysql/mariadb.conf.d/50-server.cnf', '/etc/mysql/mariadb.conf.d/60-galera.cnf',
    ])
    // Debian ships `#user = mysql` commented out: no user to look up, nothing that needs root.
    expect(f.users).toEqual([])
    expect(f.startsAsRoot).toBeUndefined()
    expect(paths(f.write)).toEqual(['/var/lib/mysql', '/run/mysqld', '/run/mysqld'])
    expect(f.write[1]!.source).toBe('/etc/mysql/my.cnf:25 socket = "/run/mysqld/mysqld.sock"')
    expect(f.write[2]!.source).toMatch(/50-server\.cnf:\d+ pid_file = "\/run\/mysqld\/mysqld\.pid"$/)
    expect(paths(f.read)).toEqual(['/var/lib/mysql', '/usr/share/mysql/english', '/usr/share/mysql/charsets'])
    for (const p of paths(f.read)) expect(fs.stat(p)?.type, p).toBe('dir')
    expect(f.gaps).toEqual([])
  })

  it('command-line user, plugins and paths win; mysqld_safe reads its own group and says it is a script', async () => {
    const f = (await mysqlReader.read({ rootfs: fs, argv: ['/usr/sbin/mysqld', '--user=mysql', '--plugin-load-add=ed=auth_ed25519;disks', '--datadir', '/srv/db', '--log-error=err.log', '-t', '/var/tmp:/tmp'], workdir: '/' }))!
    expect(f.users.map((u) => u.name)).toEqual(['mysql'])
    expect(f.startsAsRoot?.why).toMatch(/started as root the server switches to mysql/)
    expect(paths(f.modules)).toEqual(['/usr/lib/mysql/plugin/auth_ed25519.so', '/usr/lib/mysql/plugin/disks.so'])
    for (const m of paths(f.modules)) expect(fs.stat(m)?.type, m).toBe('file')
    expect(paths(f.write)).toEqual(['/srv/db', '/run/mysqld', '/run/mysqld', '/srv/db', '/var/tmp', '/tmp'])
    const safe = (await mysqlReader.read({ rootfs: fs, argv: ['/usr/bin/mysqld_safe'], workdir: '/' }))!
    expect(safe.gaps).toEqual([expect.stringMatching(/mysqld_safe is a shell script/)])
    // [mysqld_safe] skip_log_error: no error log dir.
    expect(paths(safe.write)).toEqual(['/var/lib/mysql', '/run/mysqld', '/run/mysqld'])
  })

  it('--defaults-file alone; [mariadb-10.11] applies (the version read from the binary), [mariadb-10.6] does not', async () => {
    const o = overlay({
      '/etc/db.cnf': '[mysqld]\ndatadir = /data\n[mariadb-10.11]\nsocket = "/run/maria/s.sock" # comment\n[mariadb-10.6]\nsocket = /old/s.sock\n[client]\nsocket = /client/s.sock\n',
    })
    const f = (await mysqlReader.read({ rootfs: o, argv: ['/usr/sbin/mariadbd', '--defaults-file=/etc/db.cnf'], workdir: '/' }))!
    expect(f.files).toEqual(['/etc/db.cnf'])
    expect(paths(f.write).slice(0, 2)).toEqual(['/data', '/run/maria'])
  })
})

describe('MariaDB on hostile option files: gaps, never crashes', () => {
  it('include loops, deep nesting, huge files, escapes, unclosed quotes, options before a group', async () => {
    const files: Record<string, string | Buffer> = {
      '/etc/mysql/my.cnf': '!include /etc/mysql/loop.cnf\n!includedir /etc/mysql/big.d\n!include ../../../../../etc/mysql/esc.cnf\n',
      '/etc/mysql/loop.cnf': '!include /etc/mysql/my.cnf\n',
      '/etc/mysql/big.d/1.cnf': Buffer.alloc(5 * 1024 * 1024, 0x23),
      '/etc/mysql/big.d/2.txt': '[mysqld]\ndatadir=/wrong\n',
      '/etc/mysql/esc.cnf': 'orphan = 1\n[mysqld]\ndatadir = "/var/lib/\ntmpdir = \'/t\\\\x\'\n!bogus\n[broken\n',
    }
    for (let i = 0; i < 13; i++) files[`/etc/mysql/d${i}.cnf`] = `!include /etc/mysql/d${i + 1}.cnf\n`
    files['/etc/my.cnf'] = '!include /etc/mysql/d0.cnf\n'
    const o = overlay(files)
    const f = (await mysqlReader.read({ rootfs: o, argv: ['/usr/sbin/mariadbd'], workdir: '/' }))!
    const g = f.gaps.join('\n')
    expect(g).toMatch(/my\.cnf includes itself/)
    expect(g).toMatch(/nested deeper than 10/)
    expect(g).toMatch(/big\.d\/1\.cnf: mariadb reads this config file but slim could not read it/)
    expect(g).toMatch(/esc\.cnf:1: an option before any \[group\]/)
    expect(g).toMatch(/esc\.cnf:3: the value of datadir opens a quote/)
    expect(g).toMatch(/esc\.cnf:5: unknown directive !bogus/)
    expect(g).toMatch(/esc\.cnf:6: a group line without its closing \]/)
    expect(f.files).not.toContain('/etc/mysql/big.d/2.txt')
    expect(paths(f.write)[0]).toBe('/var/lib/mysql')
    expect(paths(f.write)).toContain('/t\\x')
  })

  it('the option-file lexer: quotes, escapes, comments, dash and underscore', () => {
    const p = parseCnf('[MySQLd]\nPid-File = "/a b/#x.pid" # c\nloose-log_error\nsocket=\'/s\\tt\'\n; c\n')
    expect(p.lines).toEqual([
      { kind: 'group', name: 'mysqld', line: 1 },
      { kind: 'option', name: 'pid_file', value: '/a b/#x.pid', line: 2 },
      { kind: 'option', name: 'log_error', line: 3 },
      { kind: 'option', name: 'socket', value: '/s\tt', line: 4 },
    ])
    expect(p.errors).toEqual([])
  })
})

it('picks the database readers by executable name', () => {
  expect(['postgres', 'postmaster', 'pg_ctl', 'pg_ctlcluster'].map((n) => readerFor([`/usr/lib/postgresql/15/bin/${n}`])?.program)).toEqual(['postgres', 'postgres', 'postgres', 'postgres'])
  expect(['mysqld', 'mariadbd', 'mysqld_safe', 'mariadbd-safe'].map((n) => readerFor([`/usr/sbin/${n}`])?.program)).toEqual(['mariadb', 'mariadb', 'mariadb', 'mariadb'])
})
