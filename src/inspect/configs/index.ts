/**
 * The program-config readers. To teach slim a program: write `configs/NAME.ts` exporting a
 * ConfigReader (read the real file from the RootFs, return ConfigFacts with a source line for
 * every fact and a gap for everything not understood), add it to READERS, and test it on the
 * program's real packaged config (test/inspect-configs.test.ts).
 */
import { posix } from 'node:path'
import { apacheReader } from './apache.js'
import { haproxyReader } from './haproxy.js'
import { lighttpdReader } from './lighttpd.js'
import { memcachedReader } from './memcached.js'
import { mysqlReader } from './mysql.js'
import { nginxReader } from './nginx.js'
import { postgresReader } from './postgres.js'
import { redisReader } from './redis.js'
import type { ConfigFacts, ConfigReader, ReaderInput } from './types.js'

export type { ConfigFacts, ConfigReader, ReaderInput } from './types.js'

export const READERS: readonly ConfigReader[] = [nginxReader, haproxyReader, redisReader, lighttpdReader, apacheReader, memcachedReader, postgresReader, mysqlReader]

/** The reader for an executable ("/usr/sbin/nginx", "/usr/bin/redis-server"), if slim has one. */
export function readerFor(paths: (string | undefined)[]): ConfigReader | undefined {
  for (const p of paths) {
    if (!p) continue
    const name = posix.basename(p)
    const hit = READERS.find((r) => r.names.includes(name))
    if (hit) return hit
  }
  return undefined
}

/** Reads the program's config, or undefined when slim has no reader for it. */
export async function readProgramConfig(paths: (string | undefined)[], input: ReaderInput): Promise<ConfigFacts | undefined> {
  return readerFor(paths)?.read(input)
}
