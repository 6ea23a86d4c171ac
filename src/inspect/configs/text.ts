/** Small helpers every config reader shares: reading text from the image, globs in include lines, facts. */
import { posix } from 'node:path'
import { globInRoot } from '../../layers/glob.js'
import type { RootFs } from '../../layers/rootfs.js'
import type { ConfigFacts } from './types.js'

/** Config files are small; a bigger one is not a config file. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024
/** Bounds includes so a config that includes itself (or a huge conf.d) cannot loop or explode. */
export const MAX_CONFIG_FILES = 200

export async function readText(fs: RootFs, path: string): Promise<string | undefined> {
  const st = fs.stat(path)
  if (!st || (st.type !== 'file' && st.type !== 'hardlink') || st.size > MAX_CONFIG_BYTES) return undefined
  try {
    return (await fs.readFile(path)).toString('utf8')
  } catch {
    return undefined
  }
}

/**
 * Reads one config file of an include tree into `facts.files`, or says why not: undefined when it
 * was read already or the include bound is reached (nothing to add), a gap when it is unreadable.
 */
export async function readConfigFile(fs: RootFs, facts: ConfigFacts, file: string): Promise<string | undefined> {
  if (facts.files.includes(file)) return undefined
  if (facts.files.length >= MAX_CONFIG_FILES) {
    facts.gaps.push(`${file}: ${facts.program} includes more than ${MAX_CONFIG_FILES} config files; slim stopped reading there`)
    return undefined
  }
  const text = await readText(fs, file)
  if (text === undefined) {
    facts.gaps.push(`${file}: ${facts.program} reads this config file but slim could not read it (missing, not a file, or over ${MAX_CONFIG_BYTES / 1024 / 1024} MB)`)
    return undefined
  }
  facts.files.push(file)
  return text
}

export function emptyFacts(program: string): ConfigFacts {
  return { program, files: [], users: [], groups: [], read: [], write: [], modules: [], startCommands: [], gaps: [] }
}

/** An absolute path: `p` as is, or joined to `dir`. */
export function absolute(p: string, dir: string): string {
  return posix.normalize(p.startsWith('/') ? p : posix.join(dir, p))
}

/** Expands `*`, `?` and `[...]` in an absolute pattern, sorted (as glob(3) does), at most MAX_CONFIG_FILES. */
export function expandGlob(fs: RootFs, pattern: string): string[] {
  return globInRoot(fs, pattern, MAX_CONFIG_FILES)
}

/** The value after `flag` in argv ("-f FILE" or "-fFILE"), the last one winning. */
export function flagValue(argv: string[], flag: string): string | undefined {
  let v: string | undefined
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === flag && argv[i + 1] !== undefined) v = argv[++i]
    else if (argv[i]!.startsWith(flag) && argv[i]!.length > flag.length && !argv[i]!.startsWith('--')) v = argv[i]!.slice(flag.length)
  }
  return v
}

/** Unquotes a "double" or 'single' quoted word. */
export function unquote(s: string): string {
  return /^(["']).*\1$/s.test(s) ? s.slice(1, -1) : s
}

/** Paths that are not files in the image: syslog targets, standard streams, devices. */
export function isSpecialPath(p: string): boolean {
  return p === '' || !p.startsWith('/') || p.startsWith('/dev/') || p.startsWith('/proc/')
}
