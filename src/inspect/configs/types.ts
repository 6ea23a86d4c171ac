/**
 * What a program's own configuration declares that no ELF header shows: the users and groups it
 * switches to, the files and directories it reads and writes, the modules it loads. One reader per
 * program (configs/*.ts), each reading the real config from the image; the needs stage turns the
 * facts into needs with reasons (needs/program-config.ts).
 */
import type { ByteSource } from '../../core/byte-source.js'
import type { RootFs } from '../../layers/rootfs.js'
import type { KeepRule } from '../keep-rule.js'

/** Where a fact came from: "/etc/haproxy/haproxy.cfg:8 user haproxy". */
export type Source = string

export interface PathFact {
  path: string
  why: string
  source: Source
}

export interface ConfigFacts {
  /** The program, as the reader names it ("haproxy"). */
  program: string
  /** Every config file read, main file first (includes follow). */
  files: string[]
  /** Users and groups the program looks up by name (passwd/group entries it needs). */
  users: { name: string; source: Source }[]
  groups: { name: string; source: Source }[]
  /** Why the program must start as root (it switches user or chroots itself), when it does. */
  startsAsRoot?: { why: string; source: Source }
  /** Files or trees it reads (document roots, error pages, scripts). */
  read: PathFact[]
  /** Directories it writes into (logs, pid files, sockets, state): the directory must exist and be writable. */
  write: PathFact[]
  /** Shared objects it loads as modules (they join the library closure). */
  modules: PathFact[]
  /** Commands it runs through a shell at every start (lighttpd's include_shell): what they run on is copied. */
  startCommands: { command: string; shell: string; source: Source }[]
  /** What the reader could not understand or see, one line each, naming the file and line. */
  gaps: string[]
}

export interface ReaderInput {
  rootfs: RootFs
  /** The program's argv (argv[0] first) and working directory. */
  argv: string[]
  workdir: string
  /** The environment the program starts with (PGDATA, MYSQL_HOME, TMPDIR), when known. */
  env?: Record<string, string>
  /** Random access to a file, as inspection reads one (a big binary by ranges); else readFile. */
  open?: (path: string) => Promise<ByteSource>
}

export interface ConfigReader {
  program: string
  /** Executable base names this reader understands ("nginx"; "apache2", "httpd"). */
  names: string[]
  /**
   * Where the program's config lives by default, for the index pass to keep (include chains are
   * read a file at a time; each file not kept would cost a pass over its layer). A hint only.
   */
  keeps: readonly KeepRule[]
  read(input: ReaderInput): Promise<ConfigFacts | undefined>
}

/** A config file is text: files bigger than this in a config directory are not kept. */
export const CONFIG_KEEP_MAX = 1024 * 1024

/** Keep rules for config directories and files (each named once), each file up to CONFIG_KEEP_MAX. */
export function configKeeps(dirs: readonly string[], files: readonly string[] = []): KeepRule[] {
  return [...new Set(dirs)].map((under): KeepRule => ({ under, maxSize: CONFIG_KEEP_MAX })).concat([...new Set(files)].map((path) => ({ path, maxSize: CONFIG_KEEP_MAX })))
}
