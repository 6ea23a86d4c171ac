/**
 * Apache httpd (httpd.apache.org/docs/2.4/mod/directives.html): `User`/`Group`, `LoadModule NAME
 * PATH`, `Include`/`IncludeOptional` (globs), `PidFile`, `ErrorLog`, `CustomLog`, `DocumentRoot`,
 * relative paths against `ServerRoot`. `${VAR}` comes from the environment; Debian's
 * /etc/apache2/envvars (which apache2ctl sources) supplies APACHE_RUN_USER and friends.
 */
import { posix } from 'node:path'
import { absolute, emptyFacts, expandGlob, flagValue, isSpecialPath, MAX_CONFIG_FILES, readText, unquote } from './text.js'
import { type ConfigFacts, type ConfigReader, type ReaderInput, configKeeps } from './types.js'

const LAYOUTS: Record<string, { root: string; conf: string; envvars?: string }> = {
  apache2: { root: '/etc/apache2', conf: 'apache2.conf', envvars: '/etc/apache2/envvars' },
  apache2ctl: { root: '/etc/apache2', conf: 'apache2.conf', envvars: '/etc/apache2/envvars' },
  httpd: { root: '/usr/local/apache2', conf: 'conf/httpd.conf' },
}

/** `export NAME=value` lines of a shell envvars file (no expansion beyond ${NAME} of earlier lines). */
function envvars(text: string, env: Record<string, string>): void {
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=("[^"]*"|'[^']*'|\S*)\s*$/.exec(line)
    if (m) env[m[1]!] = unquote(m[2]!).replace(/\$\{?([A-Z_][A-Z0-9_]*)\}?(?:\$SUFFIX)?/g, (_, n: string) => env[n] ?? '')
  }
}

async function read(input: ReaderInput): Promise<ConfigFacts | undefined> {
  const { rootfs, argv } = input
  const name = posix.basename(argv[0] ?? 'httpd')
  const layout = LAYOUTS[name] ?? LAYOUTS.httpd!
  const facts = emptyFacts('apache')
  const env: Record<string, string> = {}
  if (layout.envvars) {
    const t = await readText(rootfs, layout.envvars)
    if (t !== undefined) (envvars(t, env), facts.files.push(layout.envvars))
  }
  let serverRoot = absolute(flagValue(argv, '-d') ?? layout.root, input.workdir)
  const main = absolute(flagValue(argv, '-f') ?? layout.conf, serverRoot)
  const expand = (s: string, at: string): string =>
    s.replace(/\$\{([A-Za-z_][\w]*)\}/g, (_, n: string) => {
      if (env[n] === undefined) facts.gaps.push(`${at}: \${${n}} is not set in the image's config or envvars; slim cannot tell its value`)
      return env[n] ?? ''
    })
  let user: string | undefined
  const visit = async (file: string): Promise<void> => {
    if (facts.files.includes(file) || facts.files.length >= MAX_CONFIG_FILES) return
    const text = await readText(rootfs, file)
    if (text === undefined) {
      facts.gaps.push(`${file}: apache reads this config file but slim could not read it`)
      return
    }
    facts.files.push(file)
    for (const [n, raw] of text.replace(/\\\n/g, ' ').split('\n').entries()) {
      const line = raw.trim()
      if (!line || line.startsWith('#') || line.startsWith('<')) continue
      const at = `${file}:${n + 1} ${line}`
      const words = (line.match(/"[^"]*"|\S+/g) ?? []).map((w) => expand(unquote(w), at))
      const [k = '', a = '', b = ''] = words
      switch (k.toLowerCase()) {
        case 'serverroot': serverRoot = absolute(a, '/'); break
        case 'user': if (a && !a.startsWith('#')) (user = a, facts.users.push({ name: a, source: at })); break
        case 'group': if (a && !a.startsWith('#')) facts.groups.push({ name: a, source: at }); break
        case 'loadmodule': facts.modules.push({ path: absolute(b, serverRoot), why: `apache loads ${a}`, source: at }); break
        case 'include':
        case 'includeoptional': {
          const found = expandGlob(rootfs, absolute(a, serverRoot))
          if (!found.length && k.toLowerCase() === 'include' && !/[*?[]/.test(a)) facts.gaps.push(`${at}: the included file is not in the image`)
          for (const f of found) await visit(rootfs.stat(f)?.type === 'dir' ? `${f}/` : f)
          break
        }
        case 'pidfile':
        case 'errorlog':
        case 'customlog':
        case 'transferlog': {
          const p = absolute(a, serverRoot)
          if (!a.startsWith('|') && !a.startsWith('syslog') && !isSpecialPath(p)) facts.write.push({ path: posix.dirname(p), why: `apache writes ${p} (${k})`, source: at })
          break
        }
        case 'documentroot': facts.read.push({ path: absolute(a, serverRoot), why: 'apache serves files from its DocumentRoot', source: at }); break
      }
    }
  }
  if (!rootfs.stat(main)) {
    facts.gaps.push(`${main}: apache's config file is not in the image`)
    return facts
  }
  await visit(main)
  if (user) facts.startsAsRoot = { why: `apache's config says \`User ${user}\`: the parent process starts as root and runs its children as ${user}`, source: facts.users[0]!.source }
  return facts
}

export const apacheReader: ConfigReader = { program: 'apache', names: ['apache2', 'httpd', 'apache2ctl'], keeps: configKeeps([...Object.values(LAYOUTS).map((l) => posix.dirname(posix.join(l.root, l.conf))), '/etc/httpd']), read }
