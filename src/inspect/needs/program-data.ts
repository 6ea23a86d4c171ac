/**
 * Configuration and data a program reads or writes that no ELF header mentions: a small table of
 * well-known server programs (their packaged defaults), paths named in the command's arguments,
 * the image's VOLUMEs, and exposed ports.
 */
import { posix } from 'node:path'
import type { Need } from '../types.js'
import { exists, withChain, type NeedsInput } from './context.js'

interface KnownProgram {
  /** Read at start-up: configuration, static content, modules. */
  read: string[]
  /** Written at run time: logs, state, pid files, caches. */
  write: string[]
}

/** Keyed by executable base name. Paths are Debian's and the official images' defaults. */
export const KNOWN_PROGRAMS: Record<string, KnownProgram> = {
  nginx: { read: ['/etc/nginx', '/usr/share/nginx', '/usr/lib/nginx/modules'], write: ['/var/log/nginx', '/var/lib/nginx', '/var/cache/nginx', '/run'] },
  'redis-server': { read: ['/etc/redis', '/usr/local/etc/redis'], write: ['/var/lib/redis', '/var/log/redis', '/data', '/run/redis'] },
  'docker-registry': { read: ['/etc/docker/registry'], write: ['/var/lib/docker-registry', '/var/lib/registry'] },
  registry: { read: ['/etc/docker/registry'], write: ['/var/lib/registry'] },
  haproxy: { read: ['/etc/haproxy', '/usr/local/etc/haproxy'], write: ['/run/haproxy', '/var/lib/haproxy'] },
  memcached: { read: ['/etc/memcached.conf'], write: [] },
  postgres: { read: ['/usr/share/postgresql', '/usr/lib/postgresql', '/etc/postgresql', '/usr/local/share/postgresql'], write: ['/var/lib/postgresql', '/var/run/postgresql', '/run/postgresql'] },
  mysqld: { read: ['/etc/mysql', '/usr/share/mysql'], write: ['/var/lib/mysql', '/run/mysqld', '/var/log/mysql'] },
  mariadbd: { read: ['/etc/mysql', '/usr/share/mysql', '/usr/share/mariadb'], write: ['/var/lib/mysql', '/run/mysqld'] },
  httpd: { read: ['/usr/local/apache2/conf', '/usr/local/apache2/modules', '/usr/local/apache2/htdocs', '/etc/httpd'], write: ['/usr/local/apache2/logs', '/var/log/httpd', '/run/httpd'] },
  apache2: { read: ['/etc/apache2', '/usr/lib/apache2/modules', '/var/www'], write: ['/var/log/apache2', '/var/run/apache2', '/var/lock/apache2'] },
  caddy: { read: ['/etc/caddy'], write: ['/config', '/data'] },
  prometheus: { read: ['/etc/prometheus', '/usr/share/prometheus'], write: ['/prometheus', '/var/lib/prometheus'] },
  etcd: { read: [], write: ['/var/lib/etcd'] },
  traefik: { read: ['/etc/traefik'], write: [] },
  squid: { read: ['/etc/squid', '/usr/share/squid'], write: ['/var/spool/squid', '/var/log/squid', '/var/cache/squid'] },
  'php-fpm': { read: ['/usr/local/etc/php-fpm.d', '/usr/local/etc/php-fpm.conf'], write: ['/var/run', '/run/php'] },
  mongod: { read: ['/etc/mongod.conf'], write: ['/data/db', '/data/configdb', '/var/lib/mongodb'] },
  rabbitmq: { read: ['/etc/rabbitmq'], write: ['/var/lib/rabbitmq', '/var/log/rabbitmq'] },
  unbound: { read: ['/etc/unbound'], write: [] },
  dnsmasq: { read: ['/etc/dnsmasq.conf', '/etc/dnsmasq.d'], write: ['/var/lib/misc'] },
}

export function programDataNeeds(input: NeedsInput): Need[] {
  const { rootfs } = input
  const out: Need[] = []
  const prog = input.program
  const names = [prog.path, prog.realPath].filter((p): p is string => !!p).map((p) => posix.basename(p).replace(/\d+(\.\d+)*$/, '').replace(/-fpm\d.*$/, '-fpm'))
  const known = names.map((n) => KNOWN_PROGRAMS[n]).find(Boolean)
  const name = names.find((n) => KNOWN_PROGRAMS[n])
  if (known && name) {
    for (const p of known.read) {
      const present = exists(rootfs, p)
      if (!present) continue
      out.push({ kind: 'program-data', paths: withChain(rootfs, p), present, reason: `${name} reads its packaged configuration or data from ${p}`, evidence: [`known layout of ${name}`], confidence: 'likely' })
    }
    for (const p of known.write) {
      const present = rootfs.stat(p)?.type === 'dir'
      if (!present) continue
      out.push({ kind: 'writable', paths: withChain(rootfs, p), present, writable: true, reason: `${name} writes logs, state or pid files under ${p}; it must exist and be writable by the USER`, evidence: [`known layout of ${name}`], confidence: 'likely' })
    }
  }
  // Paths named on the command line (config files, data dirs), as the program will open them.
  const seen = new Set<string>()
  for (const arg of prog.argv.slice(1)) {
    for (const candidate of argPaths(arg)) {
      const abs = candidate.startsWith('/') ? posix.normalize(candidate) : posix.join(prog.workdir, candidate)
      if (seen.has(abs) || abs === '/' || !exists(rootfs, abs)) continue
      if (out.some((n) => n.paths.includes(abs)) || input.runtime?.app.path === abs) continue
      seen.add(abs)
      out.push({ kind: 'program-data', paths: withChain(rootfs, abs), present: true, reason: `the command names ${abs}`, evidence: [`argument ${arg}`], confidence: 'likely' })
    }
  }
  for (const v of Object.keys(input.config.config?.Volumes ?? {})) {
    const present = exists(rootfs, v)
    out.push({ kind: 'writable', paths: present ? withChain(rootfs, v) : [], present, writable: true, reason: `VOLUME ${v}: the program keeps data there; the runtime mounts a volume${present ? '' : ' (the directory is created when mounted)'}`, evidence: [`config Volumes ${v}`], confidence: 'likely' })
  }
  return out
}

/** Path-like parts of an argument: "/etc/x.conf", "--config=/etc/x", "-c/etc/x", "conf/app.yml". */
function argPaths(arg: string): string[] {
  const out: string[] = []
  const eq = /^--?[A-Za-z0-9_.-]+=(.+)$/.exec(arg)
  const value = eq ? eq[1]! : arg
  if (value.startsWith('/') && value.length > 1 && !/\s/.test(value)) out.push(value)
  else if (/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]+$/.test(value) && !value.startsWith('-')) out.push(value)
  else if (/^[A-Za-z0-9_-]+\.(conf|cfg|ini|ya?ml|json|toml|xml|properties)$/.test(value)) out.push(value)
  return out
}

export function portNeeds(input: NeedsInput): Need[] {
  const ports = Object.keys(input.config.config?.ExposedPorts ?? {})
  const user = input.config.config?.User ?? ''
  const root = user === '' || user === 'root' || user === '0' || user.startsWith('0:') || user.startsWith('root:')
  return ports.map((p) => {
    const n = Number(/^(\d+)/.exec(p)?.[1])
    const low = Number.isInteger(n) && n < 1024
    return {
      kind: 'port' as const,
      paths: [],
      present: true,
      port: p,
      reason: `the image exposes ${p}${low && !root ? '; binding a port below 1024 as a non-root USER needs CAP_NET_BIND_SERVICE' : ''}`,
      evidence: [`config ExposedPorts ${p}`],
      confidence: 'certain' as const,
    }
  })
}
