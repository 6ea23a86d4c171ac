/**
 * memcached reads no config file (Debian's /etc/memcached.conf is read by its init wrapper, not the
 * daemon): what it declares is on the command line. `-u USER` (required when started as root:
 * it switches to that user), `-P PIDFILE`, `-s SOCKET`.
 */
import { posix } from 'node:path'
import { absolute, emptyFacts, flagValue } from './text.js'
import type { ConfigFacts, ConfigReader, ReaderInput } from './types.js'

async function read(input: ReaderInput): Promise<ConfigFacts | undefined> {
  const { argv } = input
  const facts = emptyFacts('memcached')
  const long = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
  const user = flagValue(argv, '-u') ?? long('user')
  if (user) {
    const at = `argument -u ${user}`
    facts.users.push({ name: user, source: at })
    facts.startsAsRoot = { why: `memcached is told \`-u ${user}\`: it starts as root and switches to ${user}`, source: at }
  }
  for (const [flag, name, what] of [['-P', 'pidfile', 'pid file'], ['-s', 'unix-socket', 'unix socket']] as const) {
    const v = flagValue(argv, flag) ?? long(name)
    if (v) facts.write.push({ path: posix.dirname(absolute(v, input.workdir)), why: `memcached writes its ${what} ${v}`, source: `argument ${flag} ${v}` })
  }
  return facts
}

export const memcachedReader: ConfigReader = { program: 'memcached', names: ['memcached'], keeps: [], read }
