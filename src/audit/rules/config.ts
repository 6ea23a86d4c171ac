/**
 * Where the rules come from: `--fail-on RULE[,RULE…]`, else `--rules FILE`, else `.slim.yml` in
 * the working directory when there is one. The file is YAML (JSON is YAML too):
 *
 *   fail-on:
 *     - efficiency<0.9
 *     - root
 *
 * (`fail-on` may also be one comma-separated string.)
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SlimError, describe } from '../../core/errors.js'
import { parseRules } from './parse.js'
import type { RuleInfo } from './types.js'

export const PROJECT_RULES_FILE = '.slim.yml'

export interface RuleSource {
  rules: RuleInfo[]
  /** "--fail-on", the file's path, or undefined when no rules apply. */
  from?: string
}

export async function loadRules(opts: { failOn?: string; rulesFile?: string; cwd?: string }): Promise<RuleSource> {
  if (opts.failOn !== undefined && opts.rulesFile !== undefined) throw new SlimError('usage', '--fail-on and --rules both give rules; use one')
  if (opts.failOn !== undefined) {
    const rules = parseRules(opts.failOn)
    if (rules.length === 0) throw new SlimError('usage', '--fail-on is empty; give rules such as efficiency<0.9,root')
    return { rules, from: '--fail-on' }
  }
  if (opts.rulesFile !== undefined) return { rules: await readRulesFile(opts.rulesFile, '--rules'), from: opts.rulesFile }
  const project = join(opts.cwd ?? process.cwd(), PROJECT_RULES_FILE)
  if (existsSync(project)) return { rules: await readRulesFile(project, PROJECT_RULES_FILE), from: PROJECT_RULES_FILE }
  return { rules: [] }
}

async function readRulesFile(path: string, what: string): Promise<RuleInfo[]> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new SlimError('usage', `${what} ${path}: cannot read it (${describe(e)}); check the path`)
  }
  // The YAML parser is loaded only when there is a rules file: most runs have none, and loading it
  // costs more start-up time than reading the rules.
  const { parse: parseYaml } = await import('yaml')
  let doc: unknown
  try {
    doc = parseYaml(text, { maxAliasCount: 10 })
  } catch (e) {
    throw new SlimError('usage', `${what} ${path}: not valid YAML (${describe(e).split('\n')[0]}); write e.g. "fail-on: [efficiency<0.9, root]"`)
  }
  const list = doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>)['fail-on'] : undefined
  if (list === undefined || list === null) throw new SlimError('usage', `${what} ${path}: no "fail-on" list; write e.g. "fail-on: [efficiency<0.9, root]"`)
  const items = typeof list === 'string' ? [list] : Array.isArray(list) && list.every((x) => typeof x === 'string') ? (list as string[]) : undefined
  if (!items) throw new SlimError('usage', `${what} ${path}: "fail-on" must be a list of rules (strings) or one comma-separated string`)
  try {
    return parseRules(items)
  } catch (e) {
    throw new SlimError('usage', `${what} ${path}: ${(e as Error).message}`)
  }
}
