/**
 * lighttpd (redmine.lighttpd.net, "Configuration: File Syntax"): `server.username`/`groupname`,
 * `server.modules` (each "mod_x" is mod_x.so in the module dir, unless built in), `server.chroot`,
 * `server.document-root`, `server.errorlog`, `server.pid-file`, `server.upload-dirs`,
 * `accesslog.filename`, `include` (globs, relative to the including file's directory) and
 * `include_shell` (a command run through /bin/sh whose output is config: what it runs on is
 * carried, its output is a gap).
 */
import { posix } from 'node:path'
import { absolute, emptyFacts, expandGlob, flagValue, isSpecialPath, MAX_CONFIG_FILES, readText } from './text.js'
import { type ConfigFacts, type ConfigReader, type ReaderInput, configKeeps } from './types.js'

const DEFAULT_CONF = '/etc/lighttpd/lighttpd.conf'
/** Debian's LIBRARY_DIR; `-m DIR` on the command line changes it. */
const DEFAULT_MODULE_DIR = '/usr/lib/lighttpd'

/** Strips `#` comments outside double quotes, keeping line breaks (for line numbers). */
function stripComments(text: string): string {
  let out = ''
  let q = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '"' && text[i - 1] !== '\\') q = !q
    if (c === '#' && !q) {
      while (i < text.length && text[i] !== '\n') i++
      out += '\n'
      continue
    }
    if (c === '\n') q = false
    out += c
  }
  return out
}

const STRING = /"((?:\\.|[^"\\])*)"/g

/** Statements: `key op value` or `include[_shell] value`, a value running on while ( ) are open. */
function statements(text: string): { key: string; op?: string; value: string; line: number }[] {
  const out: { key: string; op?: string; value: string; line: number }[] = []
  let cur: { key: string; op?: string; value: string; line: number } | undefined
  let depth = 0
  for (const [n, raw] of text.split('\n').entries()) {
    if (cur && depth > 0) {
      cur.value += `\n${raw}`
    } else {
      const m = /^\s*(include_shell|include|[A-Za-z][\w.-]*)\s*(\+=|:=|=)?\s*(.*)$/.exec(raw)
      cur = m ? { key: m[1]!, op: m[2], value: m[3]!, line: n + 1 } : undefined
      if (cur) out.push(cur)
      depth = 0
      if (!cur) continue
      depth += count(cur.value, '(') - count(cur.value, ')')
      continue
    }
    depth += count(raw, '(') - count(raw, ')')
  }
  return out
}

function count(s: string, c: string): number {
  return s.split(c).length - 1
}

async function read(input: ReaderInput): Promise<ConfigFacts | undefined> {
  const { rootfs, argv } = input
  const facts = emptyFacts('lighttpd')
  const moduleDir = absolute(flagValue(argv, '-m') ?? DEFAULT_MODULE_DIR, input.workdir)
  const main = absolute(flagValue(argv, '-f') ?? DEFAULT_CONF, input.workdir)
  let chroot: string | undefined
  let user: string | undefined

  const visit = async (file: string): Promise<void> => {
    if (facts.files.includes(file) || facts.files.length >= MAX_CONFIG_FILES) return
    const raw = await readText(rootfs, file)
    if (raw === undefined) {
      facts.gaps.push(`${file}: lighttpd reads this config file but slim could not read it`)
      return
    }
    facts.files.push(file)
    const text = stripComments(raw)
    const dir = posix.dirname(file)
    for (const st of statements(text)) {
      const { key, op, value, line } = st
      const at = `${file}:${line} ${key}${op ? ` ${op}` : ''} ${value.trim().split('\n')[0]}`.trim()
      const strings = [...value.matchAll(STRING)].map((s) => s[1]!)
      if (key === 'include') {
        for (const s of strings) for (const f of expandGlob(rootfs, absolute(s, dir))) await visit(f)
      } else if (key === 'include_shell') {
        // The shell, the script and what it runs on are copied (needs/start-commands.ts); its output is not known.
        const command = strings.join('')
        if (command) facts.startCommands.push({ command, shell: '/bin/sh', source: at })
        facts.gaps.push(`${at}: lighttpd runs this command at every start and reads its output as config; slim carries what the command runs on but does not run it, so the config it prints is unchecked`)
      } else if (!op) continue
      else if (key === 'server.username') (user = strings[0], user && facts.users.push({ name: user, source: at }))
      else if (key === 'server.groupname' && strings[0]) facts.groups.push({ name: strings[0], source: at })
      else if (key === 'server.chroot' && strings[0]) chroot = strings[0]
      else if (key === 'server.modules') {
        for (const mod of strings) {
          const so = posix.join(moduleDir, `${mod}.so`)
          // Modules without a .so are built into lighttpd (mod_indexfile, mod_staticfile, ...).
          if (rootfs.stat(so)) facts.modules.push({ path: so, why: `lighttpd loads ${mod} (server.modules)`, source: at })
        }
      } else if (key === 'server.document-root' && strings[0]) facts.read.push({ path: absolute(strings[0], '/'), why: 'lighttpd serves files from its document root', source: at })
      else if ((key === 'server.errorlog' || key === 'accesslog.filename' || key === 'server.pid-file') && strings[0]) {
        const p = strings[0]
        if (!p.startsWith('|') && !isSpecialPath(p)) facts.write.push({ path: posix.dirname(p), why: `lighttpd writes ${p} (${key})`, source: at })
      } else if (key === 'server.upload-dirs') {
        for (const p of strings) if (!isSpecialPath(p)) facts.write.push({ path: p, why: 'lighttpd buffers uploads there (server.upload-dirs)', source: at })
      } else if (/\$\{|env\./.test(value) && /path|root|file|dir/.test(key)) facts.gaps.push(`${at}: the value depends on the environment; slim cannot tell the path`)
    }
  }
  if (!rootfs.stat(main)) {
    facts.gaps.push(`${main}: lighttpd's config file is not in the image`)
    return facts
  }
  await visit(main)
  if (user || chroot) {
    facts.startsAsRoot = { why: `lighttpd's config sets ${[user ? `server.username "${user}"` : '', chroot ? `server.chroot "${chroot}"` : ''].filter(Boolean).join(' and ')}: it starts as root and drops to that user`, source: main }
  }
  return facts
}

export const lighttpdReader: ConfigReader = { program: 'lighttpd', names: ['lighttpd'], keeps: configKeeps([posix.dirname(DEFAULT_CONF), '/usr/share/lighttpd']), read }
