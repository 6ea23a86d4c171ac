import { Flags } from '@oclif/core'
import { resolve } from 'node:path'
import { SlimError } from '../core/errors.js'
import { parseBytes, parseDuration } from '../core/format.js'
import { CACHE_DIR_DESCRIPTION, cacheDirOf } from './image-flags.js'
import type { PruneRules } from '../pipeline/cache-store.js'

export const cacheDirFlags = {
  'cache-dir': Flags.string({ description: CACHE_DIR_DESCRIPTION }),
  json: Flags.boolean({ description: 'Print JSON instead of text.', default: false }),
}

export const pruneFlags = {
  all: Flags.boolean({ description: 'Remove every entry.', default: false }),
  'older-than': Flags.string({ description: 'Remove entries not used for longer than this (45s, 90m, 12h, 30d, 2w).' }),
  'max-size': Flags.string({ description: 'Then remove the entries used longest ago until the cache holds at most this much (500MB, 10GB, 2GiB).' }),
  'dry-run': Flags.boolean({ description: 'Say what would be removed; remove nothing.', default: false }),
}

export function cacheDirFromFlags(flags: { 'cache-dir'?: string }): string {
  return resolve(cacheDirOf(flags))
}

export function pruneRulesFromFlags(flags: { all: boolean; 'older-than'?: string; 'max-size'?: string }): PruneRules {
  const rules: PruneRules = {}
  if (flags.all) rules.all = true
  if (flags['older-than'] !== undefined) {
    const ms = parseDuration(flags['older-than'])
    if (ms === undefined) throw new SlimError('usage', `--older-than ${flags['older-than']} is not a duration; use a number and s, m, h, d or w (e.g. 30d)`)
    rules.olderThanMs = ms
  }
  if (flags['max-size'] !== undefined) {
    const bytes = parseBytes(flags['max-size'])
    if (bytes === undefined) throw new SlimError('usage', `--max-size ${flags['max-size']} is not a size; use e.g. 500MB, 10GB or 2GiB`)
    rules.maxBytes = bytes
  }
  return rules
}
