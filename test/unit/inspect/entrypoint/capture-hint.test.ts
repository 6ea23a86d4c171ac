import { describe, expect, it } from 'vitest'
import { inspectionCaptureHint } from '../../../../src/inspect/entrypoint/capture-hint.js'

const config = (Entrypoint: string[] | null, Cmd: string[] | null = null) => ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Entrypoint, Cmd } })

describe('inspectionCaptureHint', () => {
  it('keeps the named programs wherever they are, the loaders and the loader config', () => {
    const hint = inspectionCaptureHint(config(['/usr/bin/curl'], ['--version']))
    expect(hint('/usr/bin/curl', 300_000)).toBe(true)
    expect(hint('/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 200_000)).toBe(true)
    expect(hint('/lib/ld-musl-x86_64.so.1', 700_000)).toBe(true)
    expect(hint('/etc/ld.so.conf.d/x86_64-linux-gnu.conf', 100)).toBe(true)
    expect(hint('/usr/lib/x86_64-linux-gnu/libcurl.so.4.8.0', 600_000)).toBe(false)
    expect(hint('/usr/bin/wget', 500_000)).toBe(false)
  })

  it('reads the first words of a shell-form command, not the shell', () => {
    const hint = inspectionCaptureHint(config(null, ['/bin/sh', '-c', 'exec gunicorn app:wsgi --bind 0.0.0.0']))
    expect(hint('/usr/local/bin/gunicorn', 10_000)).toBe(true)
    expect(hint('/bin/sh', 100_000)).toBe(false)
  })

  it('never keeps a huge file', () => {
    expect(inspectionCaptureHint(config(['/app/big']))('/app/big', 65 * 1024 * 1024)).toBe(false)
  })

  it('keeps what inspection reads (accounts, NSS, libc, libcrypto), versioned program names, and the caller\'s extra rules', () => {
    const hint = inspectionCaptureHint(config(null, ['python3']), [{ path: '/etc/app.yml' }, { under: '/opt/app/conf' }, { baseName: /^settings\.ini$/ }])
    for (const p of ['/etc/passwd', '/etc/group', '/etc/nsswitch.conf', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/x86_64-linux-gnu/libcrypto.so.3', '/usr/bin/python3.11']) expect(hint(p, 5_000_000)).toBe(true)
    for (const p of ['/etc/app.yml', '/opt/app/conf/a.toml', '/srv/settings.ini']) expect(hint(p, 100)).toBe(true)
    for (const p of ['/etc/shadow', '/usr/lib/x86_64-linux-gnu/libssl.so.3', '/usr/bin/python3-config', '/opt/app/confx']) expect(hint(p, 100)).toBe(false)
  })

  it('keeps the program-config readers\' files (include chains), /etc/services and a JVM\'s release file, each up to its own size', () => {
    const hint = inspectionCaptureHint(config(['/usr/sbin/apache2ctl'], ['-D', 'FOREGROUND']))
    for (const p of ['/etc/apache2/mods-available/alias.load', '/etc/apache2/conf-available/security.conf', '/etc/nginx/mime.types', '/usr/share/nginx/modules-available/mod-http-echo.conf', '/etc/mysql/mariadb.conf.d/50-server.cnf', '/etc/my.cnf', '/etc/lighttpd/conf-enabled/99-unconfigured.conf', '/usr/share/lighttpd/create-mime.conf.pl', '/etc/postgresql/15/main/postgresql.conf', '/var/lib/postgresql/15/main/postgresql.auto.conf', '/etc/haproxy/haproxy.cfg', '/etc/redis/redis.conf', '/etc/services', '/usr/lib/jvm/java-17-openjdk-amd64/release', '/opt/java/openjdk/release']) {
      expect(hint(p, 4_000), p).toBe(true)
    }
    // A config directory holds text: a big file there is not kept; the JVM rule keeps only `release`.
    expect(hint('/etc/nginx/big.bin', 2 * 1024 * 1024)).toBe(false)
    expect(hint('/etc/apache2/apache2.conf', 1024 * 1024)).toBe(true)
    expect(hint('/usr/lib/jvm/java-17-openjdk-amd64/release', 100 * 1024)).toBe(false)
    for (const p of ['/usr/lib/jvm/java-17-openjdk-amd64/lib/libjava.so', '/srv/release', '/var/lib/postgresql/15/main/base/1/1247', '/etc/nginxx/nginx.conf']) expect(hint(p, 4_000), p).toBe(false)
  })

  it('an extra rule with several parts keeps what matches them all', () => {
    const hint = inspectionCaptureHint(config(null), [{ under: '/srv/app', baseName: /\.ya?ml$/, maxSize: 1000 }])
    expect(hint('/srv/app/conf/a.yml', 1000)).toBe(true)
    expect(hint('/srv/app/conf/a.yml', 1001)).toBe(false)
    expect(hint('/srv/app/conf/a.json', 10)).toBe(false)
    expect(hint('/srv/other/a.yml', 10)).toBe(false)
    // A rule under the root applies everywhere; a pattern keeps its flags.
    const wide = inspectionCaptureHint(config(null), [{ under: '/', baseName: /^app\.ini$/ }, { baseName: /^SETTINGS\.toml$/i }])
    expect(wide('/usr/share/app/app.ini', 10)).toBe(true)
    expect(wide('/app.ini', 10)).toBe(true)
    expect(wide('/srv/settings.toml', 10)).toBe(true)
    expect(wide('/srv/settings.json', 10)).toBe(false)
  })
})
