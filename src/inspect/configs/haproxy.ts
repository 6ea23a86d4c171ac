/**
 * HAProxy (docs.haproxy.org, "3. Global parameters"): `user`/`group` (names looked up in
 * passwd/group), `uid`/`gid`, `chroot` (only root can chroot), `pidfile`, `stats socket PATH`,
 * `lua-load`, `errorfile CODE PATH`, `ca-base`/`crt-base`. Line based: a keyword and its words,
 * `#` comments. The file comes from `-f` (several allowed; a directory means its *.cfg files).
 */
import { posix } from 'node:path'
import { absolute, emptyFacts, expandGlob, isSpecialPath, MAX_CONFIG_FILES, readText } from './text.js'
import { type ConfigFacts, type ConfigReader, type ReaderInput, configKeeps } from './types.js'

const DEFAULT_CONF = '/etc/haproxy/haproxy.cfg'

/** HAProxy's words: whitespace separated, quotes and backslash escapes, `#` starts a comment. */
export function haproxyWords(line: string): string[] {
  const out: string[] = []
  let w = ''
  let q = ''
  let any = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (q) {
      if (c === q) q = ''
      else if (c === '\\' && q === '"' && i + 1 < line.length) w += line[++i]
      else w += c
    } else if (c === '"' || c === "'") (q = c, (any = true))
    else if (c === '\\' && i + 1 < line.length) (w += line[++i], (any = true))
    else if (c === '#') break
    else if (/\s/.test(c)) {
      if (any) out.push(w)
      w = ''
      any = false
    } else (w += c, (any = true))
  }
  if (any) out.push(w)
  return out
}

function configFiles(input: ReaderInput): string[] {
  const files: string[] = []
  for (let i = 1; i < input.argv.length; i++) {
    if ((input.argv[i] === '-f' || input.argv[i] === '-C') && input.argv[i + 1]) {
      const p = absolute(input.argv[++i]!, input.workdir)
      if (input.argv[i - 1] === '-C') continue
      files.push(p)
    }
  }
  return files.length ? files : [DEFAULT_CONF]
}

async function read(input: ReaderInput): Promise<ConfigFacts | undefined> {
  const { rootfs } = input
  const facts = emptyFacts('haproxy')
  let chroot: string | undefined
  let user: string | undefined
  const list = configFiles(input).flatMap((f) => (rootfs.stat(f)?.type === 'dir' ? expandGlob(rootfs, `${f}/*.cfg`) : [f]))
  for (const file of list.slice(0, MAX_CONFIG_FILES)) {
    const text = await readText(rootfs, file)
    if (text === undefined) {
      facts.gaps.push(`${file}: haproxy reads this config file but slim could not read it`)
      continue
    }
    facts.files.push(file)
    const dir = posix.dirname(file)
    for (const [n, raw] of text.split('\n').entries()) {
      const w = haproxyWords(raw)
      if (!w.length) continue
      const at = `${file}:${n + 1} ${w.join(' ')}`
      const [k, a = '', b = ''] = w
      if (k === 'user') (user = a, facts.users.push({ name: a, source: at }))
      else if (k === 'group') facts.groups.push({ name: a, source: at })
      else if (k === 'uid' || k === 'gid') user ??= `${k} ${a}`
      else if (k === 'chroot') {
        chroot = absolute(a, dir)
        facts.read.push({ path: chroot, why: 'haproxy chroots into this directory after start', source: at })
      } else if (k === 'pidfile') facts.write.push({ path: posix.dirname(absolute(a, dir)), why: `haproxy writes its pid file ${a}`, source: at })
      else if (k === 'stats' && a === 'socket' && b.startsWith('/')) facts.write.push({ path: posix.dirname(b), why: `haproxy creates its stats socket ${b}`, source: at })
      else if (k === 'lua-load' || k === 'lua-load-per-thread') facts.read.push({ path: absolute(a, dir), why: 'haproxy runs this Lua script', source: at })
      else if (k === 'errorfile' && b) facts.read.push({ path: absolute(b, dir), why: `haproxy serves this page for HTTP ${a}`, source: at })
      else if ((k === 'crt' || k === 'ca-file') && a && !isSpecialPath(absolute(a, dir))) facts.read.push({ path: absolute(a, dir), why: `haproxy loads ${a} (${k})`, source: at })
      // ca-base/crt-base only prefix relative certificate paths; `log /dev/log` is the runtime's socket.
    }
  }
  if (chroot || user) {
    const why = [user ? `\`${user.startsWith('uid') || user.startsWith('gid') ? user : `user ${user}`}\` (it switches to that user)` : '', chroot ? `\`chroot ${chroot}\` (only root can chroot)` : ''].filter(Boolean).join(' and ')
    facts.startsAsRoot = { why: `haproxy's config says ${why}: it must start as root`, source: list[0] ?? DEFAULT_CONF }
  }
  return facts
}

export const haproxyReader: ConfigReader = { program: 'haproxy', names: ['haproxy'], keeps: configKeeps([posix.dirname(DEFAULT_CONF)]), read }
