/**
 * Commands a program's config makes it run through a shell at every start (lighttpd's
 * `include_shell "/usr/share/lighttpd/create-mime.conf.pl"`): the final image must carry the shell,
 * the script, the script's interpreter with its libraries, the module directories the script's
 * `use`/`require` lines load from, and the files the script names. slim does not run the command,
 * so what it prints (more config) stays a gap the reader reports; what it needs to run is copied.
 */
import { posix } from 'node:path'
import type { ConfigFacts } from '../configs/index.js'
import type { Gap, Need } from '../types.js'
import { isElf } from '../elf/header.js'
import { readHead } from '../entrypoint/resolve.js'
import { readSmallText, withChain, type NeedsInput } from './context.js'

const MAX_SCRIPT = 1024 * 1024
/** Files a script names that are copied, at most (a script listing hundreds of paths is not a start-up helper). */
const MAX_NAMED_FILES = 20

/** Debian's perl @INC (perl -V), arch dirs for both 64-bit arches, versioned dirs found by listing. */
const PERL_INC = [
  '/etc/perl',
  '/usr/local/lib/x86_64-linux-gnu/perl/*', '/usr/local/lib/aarch64-linux-gnu/perl/*', '/usr/local/share/perl/*',
  '/usr/lib/x86_64-linux-gnu/perl5/*', '/usr/lib/aarch64-linux-gnu/perl5/*', '/usr/share/perl5',
  '/usr/lib/x86_64-linux-gnu/perl-base', '/usr/lib/aarch64-linux-gnu/perl-base',
  '/usr/lib/x86_64-linux-gnu/perl/*', '/usr/lib/aarch64-linux-gnu/perl/*', '/usr/share/perl/*',
]

/** ELF by its magic, from the head the layer pass recorded (no whole-file read). */
async function isElfFile(input: NeedsInput, path: string): Promise<boolean> {
  return isElf(await readHead(input.rootfs, input.readFile, path))
}

function perlInc(input: NeedsInput): string[] {
  const out: string[] = []
  for (const d of PERL_INC) {
    if (!d.endsWith('/*')) out.push(d)
    else {
      const parent = d.slice(0, -2)
      for (const v of input.rootfs.readdir(parent).filter((n) => /^5\.\d+(\.\d+)?$/.test(n)).sort()) out.push(`${parent}/${v}`)
    }
  }
  return out.filter((d) => input.rootfs.stat(d)?.type === 'dir')
}

/** The @INC directories providing the modules a perl script loads (`use Socket;`, `require File::Glob;`). */
function perlModuleDirs(input: NeedsInput, text: string): { dirs: Map<string, string[]>; missing: string[] } {
  const inc = perlInc(input)
  const dirs = new Map<string, string[]>()
  const missing: string[] = []
  for (const m of text.matchAll(/^\s*(?:use|require)\s+([A-Za-z_][\w:]*)/gm)) {
    const mod = m[1]!
    if (/^v?\d/.test(mod)) continue // use 5.010;
    const file = `${mod.replace(/::/g, '/')}.pm`
    const dir = inc.find((d) => input.rootfs.stat(`${d}/${file}`))
    if (!dir) missing.push(mod)
    else dirs.set(dir, [...(dirs.get(dir) ?? []), mod])
  }
  return { dirs, missing }
}

export async function startCommandNeeds(input: NeedsInput, facts: ConfigFacts): Promise<{ needs: Need[]; gaps: Gap[] }> {
  const needs: Need[] = []
  const gaps: Gap[] = []
  const { rootfs } = input
  const name = facts.program
  for (const c of facts.startCommands) {
    const gap = (message: string) => gaps.push({ area: 'needs', message: `${c.source}: ${message}` })
    const script = c.command.trim().split(/\s+/)[0] ?? ''
    const shell = rootfs.realpath(c.shell)?.path
    if (!shell) {
      gap(`${name} runs it through ${c.shell}, which is not in the image`)
      continue
    }
    if (!script.startsWith('/') || !rootfs.stat(script)) {
      gap(`the command ${script || '(empty)'} is not an absolute path in the image; slim cannot tell what it needs`)
      continue
    }
    const paths = [...withChain(rootfs, c.shell), ...withChain(rootfs, script)]
    const exes: [string, string][] = [[shell, c.shell]]
    const text = await readSmallText(input, script, MAX_SCRIPT)
    const shebang = text !== undefined ? /^#!\s*(\S+)/.exec(text)?.[1] : undefined
    const interp = shebang ? rootfs.realpath(shebang)?.path : undefined
    if (shebang && !interp) gap(`${script} starts with #!${shebang}, which is not in the image`)
    if (shebang && interp) {
      paths.push(...withChain(rootfs, shebang))
      exes.push([interp, shebang])
    }
    if (!shebang && text !== undefined && !(await isElfFile(input, script))) gap(`${script} has no #! line; the shell runs it as a shell script`)
    if (await isElfFile(input, script)) exes.push([rootfs.realpath(script)!.path, script])
    // The shell, the interpreter and an ELF command join the library closure.
    for (const [real, path] of exes) if (await isElfFile(input, real)) await input.closure.addExecutable(real, path, { primary: false })
    needs.push({
      kind: 'script-command',
      paths: [...new Set(paths)],
      present: true,
      reason: `${name} runs \`${c.command.trim()}\` through ${c.shell} at every start${shebang ? ` (the script runs on ${shebang})` : ''}`,
      evidence: [c.source],
      confidence: 'certain',
    })
    if (text === undefined) continue
    if (shebang && /perl/.test(posix.basename(shebang))) {
      const { dirs, missing } = perlModuleDirs(input, text)
      // The whole directory: a module loads others from where it was found (Socket → XSLoader, Exporter).
      for (const [dir, mods] of dirs) needs.push({ kind: 'app-tree', paths: withChain(rootfs, dir), present: true, reason: `${script} loads ${mods.join(', ')} from ${dir}`, evidence: [c.source], confidence: 'certain' })
      if (missing.length) gap(`${script} loads ${missing.join(', ')}, which slim did not find in perl's @INC`)
    } else if (shebang && !/\/(sh|dash|bash)$/.test(shebang)) {
      gap(`${script} runs on ${shebang}; slim copies the interpreter but does not know which of its library files the script loads`)
    }
    // Files the script names in quotes (create-mime.conf.pl reads "/etc/mime.types").
    const named = [...new Set([...text.matchAll(/["'](\/[A-Za-z0-9_.+/-]+)["']/g)].map((m) => m[1]!))]
      .filter((p) => ['file', 'hardlink'].includes(rootfs.stat(p)?.type ?? '') && !paths.includes(p))
      .slice(0, MAX_NAMED_FILES)
    for (const p of named) needs.push({ kind: 'program-data', paths: withChain(rootfs, p), present: true, reason: `${script}, run at ${name}'s start, names ${p}`, evidence: [c.source], confidence: 'likely' })
  }
  return { needs, gaps }
}
