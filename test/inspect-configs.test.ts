/**
 * The program-config readers on the REAL Debian 12 configs (the legacy fixtures' mmdebstrap
 * rootfs: nginx-light, haproxy, redis-server, lighttpd, apache2, memcached as their packages
 * install them), plus the lexers on small in-memory inputs.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { apacheReader } from '../src/inspect/configs/apache.js'
import { haproxyReader, haproxyWords } from '../src/inspect/configs/haproxy.js'
import { lighttpdReader } from '../src/inspect/configs/lighttpd.js'
import { memcachedReader } from '../src/inspect/configs/memcached.js'
import { nginxReader, parseNginx } from '../src/inspect/configs/nginx.js'
import { redisReader } from '../src/inspect/configs/redis.js'
import { readerFor } from '../src/inspect/configs/index.js'
import { evaluate, newState } from '../src/inspect/needs/env-script.js'
import { ensureFixtures } from './fixtures/index.js'
import { DirRootFs } from './helpers/dir-rootfs.js'

let fs: DirRootFs

beforeAll(async () => {
  const fx = await ensureFixtures(['legacy-rootfs'])
  fs = new DirRootFs(fx.rootfs.legacy!)
}, 900_000)

const paths = (list: { path: string }[]) => list.map((x) => x.path)

describe('config readers on Debian 12 configs', () => {
  it('haproxy: user/group haproxy, chroot /var/lib/haproxy (root needed), stats socket dir, error pages', async () => {
    const f = (await haproxyReader.read({ rootfs: fs, argv: ['/usr/sbin/haproxy', '-f', '/etc/haproxy/haproxy.cfg'], workdir: '/' }))!
    expect(f.files).toEqual(['/etc/haproxy/haproxy.cfg'])
    expect(f.users.map((u) => u.name)).toEqual(['haproxy'])
    expect(f.groups.map((g) => g.name)).toEqual(['haproxy'])
    expect(f.users[0]!.source).toMatch(/^\/etc\/haproxy\/haproxy\.cfg:\d+ user haproxy$/)
    expect(f.startsAsRoot?.why).toMatch(/chroot \/var\/lib\/haproxy/)
    expect(paths(f.write)).toContain('/run/haproxy')
    expect(paths(f.read)).toEqual(expect.arrayContaining(['/var/lib/haproxy', '/etc/haproxy/errors/400.http', '/etc/haproxy/errors/504.http']))
    expect(f.gaps).toEqual([])
  })

  it('redis: dir, logfile and pidfile from /etc/redis/redis.conf; command-line overrides win', async () => {
    const f = (await redisReader.read({ rootfs: fs, argv: ['redis-server', '/etc/redis/redis.conf', '--daemonize', 'no'], workdir: '/' }))!
    expect(f.files).toEqual(['/etc/redis/redis.conf'])
    expect(paths(f.write)).toEqual(['/var/lib/redis', '/var/log/redis', '/run/redis'])
    const g = (await redisReader.read({ rootfs: fs, argv: ['redis-server', '/etc/redis/redis.conf', '--dir', '/data', '--logfile', ''], workdir: '/' }))!
    expect(paths(g.write)).toEqual(['/data', '/run/redis'])
    expect(f.users).toEqual([])
    expect(f.startsAsRoot).toBeUndefined()
  })

  it('nginx: user www-data (root needed), module includes resolved through the prefix, logs, pid, temp paths', async () => {
    const f = (await nginxReader.read({ rootfs: fs, argv: ['/usr/sbin/nginx', '-g', 'daemon off;'], workdir: '/' }))!
    expect(f.files[0]).toBe('/etc/nginx/nginx.conf')
    expect(f.files.some((x) => x.startsWith('/etc/nginx/modules-enabled/'))).toBe(true)
    expect(f.files).toContain('/etc/nginx/sites-enabled/default')
    expect(f.users.map((u) => u.name)).toEqual(['www-data'])
    expect(f.startsAsRoot?.why).toMatch(/user www-data/)
    expect(paths(f.modules).every((m) => m.startsWith('/usr/share/nginx/modules/') && m.endsWith('.so'))).toBe(true)
    expect(f.modules.length).toBeGreaterThan(0)
    expect(paths(f.write)).toEqual(expect.arrayContaining(['/var/log/nginx', '/run', '/var/lib/nginx']))
    expect(paths(f.read)).toContain('/var/www/html')
    expect(f.gaps).toEqual([])
  })

  it('lighttpd: username/groupname www-data, mod_*.so from /usr/lib/lighttpd, document root, include_shell as start commands (their output a gap)', async () => {
    const f = (await lighttpdReader.read({ rootfs: fs, argv: ['/usr/sbin/lighttpd', '-D', '-f', '/etc/lighttpd/lighttpd.conf'], workdir: '/' }))!
    expect(f.files).toEqual(['/etc/lighttpd/lighttpd.conf', '/etc/lighttpd/conf-enabled/99-unconfigured.conf'])
    expect(f.users.map((u) => u.name)).toEqual(['www-data'])
    expect(f.groups.map((g) => g.name)).toEqual(['www-data'])
    // mod_indexfile, mod_access, mod_alias, mod_redirect, mod_staticfile are built in; mod_dirlisting is a module file.
    expect(paths(f.modules)).toEqual(['/usr/lib/lighttpd/mod_dirlisting.so'])
    expect(paths(f.read)).toContain('/var/www/html')
    expect(paths(f.write)).toEqual(expect.arrayContaining(['/var/log/lighttpd', '/run', '/var/cache/lighttpd/uploads']))
    expect(f.startCommands.map((c) => [c.command, c.shell])).toEqual([['/usr/share/lighttpd/use-ipv6.pl ', '/bin/sh'], ['/usr/share/lighttpd/create-mime.conf.pl', '/bin/sh']])
    expect(f.gaps).toHaveLength(2)
    expect(f.gaps[0]).toMatch(/lighttpd\.conf:\d+ include_shell .*use-ipv6\.pl.*carries what the command runs on but does not run it/)
  })

  it("Debian's /etc/apache2/envvars evaluates as apache2ctl sources it: APACHE_* exported, SUFFIX empty, HOME unset", async () => {
    const st = newState()
    st.vars.set('HOME', '/root')
    const text = (await fs.readFile('/etc/apache2/envvars')).toString('utf8')
    expect(await evaluate(text.split('\n'), st, async () => false)).toBe(true)
    expect(Object.fromEntries(st.exported.map((k) => [k, st.vars.get(k)]))).toEqual({
      APACHE_RUN_USER: 'www-data', APACHE_RUN_GROUP: 'www-data', APACHE_PID_FILE: '/var/run/apache2/apache2.pid',
      APACHE_RUN_DIR: '/var/run/apache2', APACHE_LOCK_DIR: '/var/lock/apache2', APACHE_LOG_DIR: '/var/log/apache2', LANG: 'C',
    })
    expect(st.vars.has('HOME')).toBe(false)
    // With APACHE_CONFDIR=/etc/apache2-two (a second instance) the same file gives the suffixed dirs.
    const two = newState()
    two.vars.set('APACHE_CONFDIR', '/etc/apache2-two')
    expect(await evaluate(text.split('\n'), two, async () => false)).toBe(true)
    expect(two.vars.get('APACHE_RUN_DIR')).toBe('/var/run/apache2-two')
  })

  it('apache2: User/Group from /etc/apache2/envvars, LoadModule lines of mods-enabled, logs', async () => {
    const f = (await apacheReader.read({ rootfs: fs, argv: ['/usr/sbin/apache2', '-DFOREGROUND'], workdir: '/' }))!
    expect(f.files).toContain('/etc/apache2/apache2.conf')
    expect(f.users.map((u) => u.name)).toEqual(['www-data'])
    expect(f.modules.length).toBeGreaterThan(3)
    expect(paths(f.modules).every((m) => m.startsWith('/usr/lib/apache2/modules/'))).toBe(true)
    expect(paths(f.write)).toContain('/var/log/apache2')
    expect(f.startsAsRoot?.why).toMatch(/User www-data/)
  })

  it('memcached: -u memcache is a user it switches to', async () => {
    const f = (await memcachedReader.read({ rootfs: fs, argv: ['/usr/bin/memcached', '-u', 'memcache', '-P', '/run/memcached/memcached.pid'], workdir: '/' }))!
    expect(f.users.map((u) => u.name)).toEqual(['memcache'])
    expect(paths(f.write)).toEqual(['/run/memcached'])
    expect(f.startsAsRoot).toBeDefined()
  })

  it('picks the reader by executable name', () => {
    expect(readerFor(['/usr/sbin/nginx'])?.program).toBe('nginx')
    expect(readerFor(['/usr/bin/redis-server'])?.program).toBe('redis')
    expect(readerFor([undefined, '/usr/sbin/apache2'])?.program).toBe('apache')
    expect(readerFor(['/usr/bin/python3'])).toBeUndefined()
  })
})

describe('the wrapper-script evaluator (needs/env-script.ts)', () => {
  const run = async (lines: string[]) => {
    const st = newState()
    const other: string[] = []
    const ok = await evaluate(lines, st, async (l) => (other.push(l), /^mkdir|^exec/.test(l)))
    return { ok, st, other }
  }
  it('exports, expansions and a one-level if; other lines go to the caller', async () => {
    const r = await run(['set -eu', 'A=/srv', 'export B="${A}/x" C=${A:-no}', 'if [ -z "$D" ]; then', '  export E=empty', 'else', '  export E=set', 'fi', 'mkdir -p "$B"', 'exec "$@"'])
    expect(r.ok).toBe(true)
    expect(r.st.exported).toEqual(['B', 'C', 'E'])
    expect([r.st.vars.get('B'), r.st.vars.get('C'), r.st.vars.get('E')]).toEqual(['/srv/x', '/srv', 'empty'])
    expect(r.other).toEqual(['mkdir -p "$B"', 'exec "$@"'])
  })
  it('what it cannot evaluate is not understood (the shell stays)', async () => {
    for (const line of ['export A=$(hostname)', 'export A=`id -u`', 'A=*', 'for x in a; do :; done', 'if [ -f /x ]; then', 'export A="unterminated']) {
      expect((await run([line, 'fi'])).ok, line).toBe(false)
    }
  })
})

describe('config lexers', () => {
  it('nginx: quotes, comments, blocks', () => {
    const d = parseNginx('user "www data" grp; # c\nhttp { include /etc/x/*.conf; }\n')
    expect(d.map((x) => [x.name, x.args, x.line])).toEqual([['user', ['www data', 'grp'], 1], ['http', [], 2], ['include', ['/etc/x/*.conf'], 2]])
  })
  it('haproxy: quotes, escapes, comments', () => {
    expect(haproxyWords('  user "ha proxy" # admin')).toEqual(['user', 'ha proxy'])
    expect(haproxyWords('errorfile 400 /e\\ x/400.http')).toEqual(['errorfile', '400', '/e x/400.http'])
  })
})
