/**
 * nginx (nginx.org/en/docs/ngx_core_module.html): `user` (the workers' user; only a master
 * started as root can switch), `pid`, `include`, `load_module`, `error_log`/`access_log`,
 * `*_temp_path`, `root`/`alias`. Relative paths are relative to the prefix (Debian's
 * /usr/share/nginx) for load_module and to the config directory for include. `-c`, `-p` and `-g`
 * on the command line are honoured.
 */
import { posix } from 'node:path'
import { absolute, emptyFacts, expandGlob, flagValue, isSpecialPath, MAX_CONFIG_FILES, readText } from './text.js'
import { type ConfigFacts, type ConfigReader, type ReaderInput, configKeeps } from './types.js'

/** Debian's build (`nginx -V`): prefix, config, pid and log paths compiled in. */
const DEFAULT_PREFIX = '/usr/share/nginx'
const DEFAULT_CONF = '/etc/nginx/nginx.conf'
const DEFAULT_PID = '/run/nginx.pid'
const DEFAULT_ERROR_LOG = '/var/log/nginx/error.log'
const DEFAULT_TEMP = '/var/lib/nginx'

/** Directives whose arguments slim does not need (they name no file, user or module). */
const TEMP = /_temp_path$/

interface Directive {
  name: string
  args: string[]
  line: number
}

/** nginx's lexer: words, quoted strings, `;`, `{`, `}`, `#` comments to end of line. */
export function parseNginx(text: string): Directive[] {
  const out: Directive[] = []
  let words: string[] = []
  let line = 1
  let start = 1
  let i = 0
  const flush = () => {
    if (words.length) out.push({ name: words[0]!, args: words.slice(1), line: start })
    words = []
  }
  while (i < text.length) {
    const c = text[i]!
    if (c === '\n') (line++, i++)
    else if (/\s/.test(c)) i++
    else if (c === '#') while (i < text.length && text[i] !== '\n') i++
    else if (c === ';' || c === '{' || c === '}') (flush(), i++)
    else {
      if (!words.length) start = line
      let w = ''
      if (c === '"' || c === "'") {
        i++
        while (i < text.length && text[i] !== c) {
          if (text[i] === '\\' && i + 1 < text.length) i++
          if (text[i] === '\n') line++
          w += text[i++]
        }
        i++
      } else {
        while (i < text.length && !/[\s;{}]/.test(text[i]!)) w += text[i++]
      }
      words.push(w)
    }
  }
  flush()
  return out
}

async function read(input: ReaderInput): Promise<ConfigFacts | undefined> {
  const { rootfs, argv } = input
  const facts = emptyFacts('nginx')
  const prefix = absolute(flagValue(argv, '-p') ?? DEFAULT_PREFIX, input.workdir)
  const main = absolute(flagValue(argv, '-c') ?? DEFAULT_CONF, prefix)
  const confDir = posix.dirname(main)
  const seen = new Set<string>()
  let user: string | undefined
  let pid: string | undefined
  let errorLog = false
  const temps = new Set<string>()

  const visit = async (file: string, directives?: Directive[]): Promise<void> => {
    if (seen.has(file) || seen.size >= MAX_CONFIG_FILES) return
    let list = directives
    if (!list) {
      const text = await readText(rootfs, file)
      if (text === undefined) {
        facts.gaps.push(`${file}: nginx reads this config file but slim could not read it`)
        return
      }
      seen.add(file)
      facts.files.push(file)
      list = parseNginx(text)
    }
    for (const d of list) {
      const at = `${file}:${d.line} ${d.name} ${d.args.join(' ')}`.trim()
      const arg = d.args[0] ?? ''
      switch (d.name) {
        case 'user':
          user = arg
          facts.users.push({ name: arg, source: at })
          facts.groups.push({ name: d.args[1] ?? arg, source: at })
          break
        case 'pid':
          pid = absolute(arg, prefix)
          break
        case 'include':
          for (const f of expandGlob(rootfs, absolute(arg, confDir))) await visit(f)
          break
        case 'load_module':
          facts.modules.push({ path: absolute(arg, prefix), why: 'nginx loads this dynamic module at start', source: at })
          break
        case 'error_log':
        case 'access_log': {
          if (d.name === 'error_log' && seen.size <= 1) errorLog = true
          const p = absolute(arg, prefix)
          if (arg === 'off' || arg.startsWith('syslog:') || arg === 'stderr' || isSpecialPath(p)) break
          facts.write.push({ path: posix.dirname(p), why: `nginx writes its ${d.name === 'error_log' ? 'error' : 'access'} log ${p}`, source: at })
          break
        }
        case 'root':
        case 'alias':
          if (!arg.includes('$')) facts.read.push({ path: absolute(arg, prefix), why: `nginx serves files from ${arg}`, source: at })
          break
        default:
          if (TEMP.test(d.name) && arg) temps.add(absolute(arg, prefix))
      }
    }
  }

  if (!rootfs.stat(main)) {
    facts.gaps.push(`${main}: nginx's config file is not in the image`)
    return facts
  }
  await visit(main)
  const g = argv.indexOf('-g')
  if (g > 0 && argv[g + 1]) await visit('(command line -g)', parseNginx(argv[g + 1]!))
  const pidPath = pid ?? DEFAULT_PID
  facts.write.push({ path: posix.dirname(pidPath), why: `nginx writes its pid file ${pidPath}`, source: pid ? `${main} pid` : 'nginx default pid path' })
  if (!errorLog) facts.write.push({ path: posix.dirname(DEFAULT_ERROR_LOG), why: `nginx opens its default error log ${DEFAULT_ERROR_LOG} before reading the config`, source: 'nginx default error log' })
  for (const t of temps.size ? temps : [DEFAULT_TEMP]) facts.write.push({ path: t, why: 'nginx buffers request bodies and proxied responses in its temp paths', source: temps.size ? `${main} *_temp_path` : 'nginx default temp paths' })
  if (user) facts.startsAsRoot = { why: `nginx's config says \`user ${user}\`: the master process starts as root and runs its workers as ${user}`, source: facts.users[0]!.source }
  return facts
}

export const nginxReader: ConfigReader = { program: 'nginx', names: ['nginx'], keeps: configKeeps([posix.dirname(DEFAULT_CONF), posix.join(DEFAULT_PREFIX, 'modules-available'), '/usr/local/nginx/conf']), read }
