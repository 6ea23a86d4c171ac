/**
 * Redis (redis.io/docs/management/config-file): `dir` (the working directory: RDB/AOF files),
 * `logfile`, `pidfile`, `unixsocket`, `loadmodule`, `include`, `aclfile`. The config file is the
 * first argument that does not start with `--`; `--name value` arguments after it override it,
 * as redis-server applies them.
 */
import { posix } from 'node:path'
import { absolute, emptyFacts, MAX_CONFIG_FILES, readText, unquote } from './text.js'
import { type ConfigFacts, type ConfigReader, type ReaderInput, configKeeps } from './types.js'

type Settings = Map<string, { value: string; source: string }[]>

function redisWords(line: string): string[] {
  return (line.match(/"(?:\\.|[^"])*"|'[^']*'|\S+/g) ?? []).map(unquote)
}

async function read(input: ReaderInput): Promise<ConfigFacts | undefined> {
  const { rootfs, argv } = input
  const facts = emptyFacts('redis')
  const settings: Settings = new Map()
  const set = (k: string, value: string, source: string, multi = false) => {
    const list = multi ? (settings.get(k) ?? []) : []
    list.push({ value, source })
    settings.set(k, list)
  }
  const visit = async (file: string): Promise<void> => {
    if (facts.files.includes(file) || facts.files.length >= MAX_CONFIG_FILES) return
    const text = await readText(rootfs, file)
    if (text === undefined) {
      facts.gaps.push(`${file}: redis reads this config file but slim could not read it`)
      return
    }
    facts.files.push(file)
    for (const [n, raw] of text.split('\n').entries()) {
      const line = raw.trim()
      if (!line || line.startsWith('#')) continue
      const [k = '', ...rest] = redisWords(line)
      const at = `${file}:${n + 1} ${line}`
      const key = k.toLowerCase()
      if (key === 'include') await visit(absolute(rest[0] ?? '', input.workdir))
      else set(key, rest.join(' '), at, key === 'loadmodule')
    }
  }
  const confArg = argv.slice(1).find((a, i) => !a.startsWith('-') && (i === 0 || !argv[i]!.startsWith('--')))
  if (confArg) await visit(absolute(confArg, input.workdir))
  // --name value on the command line, after the file: they win.
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--') || a === '--') continue
    const vals: string[] = []
    while (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) vals.push(argv[++i]!)
    set(a.slice(2).toLowerCase(), vals.join(' '), `argument ${a} ${vals.join(' ')}`.trim(), a === '--loadmodule')
  }
  const one = (k: string) => settings.get(k)?.at(-1)
  const dir = one('dir')
  const workdir = dir ? absolute(dir.value, input.workdir) : input.workdir
  if (dir) facts.write.push({ path: workdir, why: `redis keeps its data files (RDB/AOF) in dir ${dir.value}`, source: dir.source })
  const file = (k: string, why: string, list: 'write' | 'read' = 'write') => {
    const s = one(k)
    if (!s || s.value === '' || s.value === '""') return
    const p = absolute(s.value, workdir)
    if (list === 'write') facts.write.push({ path: posix.dirname(p), why: `${why} ${p}`, source: s.source })
    else facts.read.push({ path: p, why: `${why} ${p}`, source: s.source })
  }
  file('logfile', 'redis writes its log file')
  file('pidfile', 'redis writes its pid file')
  file('unixsocket', 'redis creates its unix socket')
  file('aclfile', 'redis reads its ACL file', 'read')
  for (const m of settings.get('loadmodule') ?? []) {
    const path = m.value.split(/\s+/)[0]
    if (path) facts.modules.push({ path: absolute(path, workdir), why: 'redis loads this module at start', source: m.source })
  }
  return facts
}

export const redisReader: ConfigReader = { program: 'redis', names: ['redis-server', 'redis-sentinel'], keeps: configKeeps(['/etc/redis', '/usr/local/etc/redis']), read }
