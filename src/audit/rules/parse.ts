/**
 * The rule grammar of `--fail-on` and of the `fail-on` list in .slim.yml / --rules FILE:
 *   efficiency<0.9   wasted>20MB   user-wasted>10%   savings>50%   root   shell   package-manager   setuid
 * A check without a threshold takes dive's default (efficiency 0.9, wasted 20MB, user-wasted 10%)
 * or slim's (savings 50%). Ratios may be written as 0.1 or 10%.
 */
import { SlimError } from '../../core/errors.js'
import { humanBytes, parseBytes } from '../../core/format.js'
import type { CheckName, RuleInfo } from './types.js'

interface CheckSpec {
  op?: '<' | '>'
  kind: 'ratio' | 'bytes' | 'flag'
  default?: number
  /** What the rule asks, given the threshold as shown. */
  text: (shown: string) => string
}

export const CHECKS: Record<CheckName, CheckSpec> = {
  efficiency: { op: '<', kind: 'ratio', default: 0.9, text: (t) => `dive's efficiency must be at least ${t}` },
  wasted: { op: '>', kind: 'bytes', default: 20e6, text: (t) => `dive's wasted bytes must be at most ${t}` },
  'user-wasted': { op: '>', kind: 'ratio', default: 0.1, text: (t) => `dive's user-wasted figure must be at most ${t}` },
  savings: { op: '>', kind: 'ratio', default: 0.5, text: (t) => `slimming must not save more than ${t} of the image` },
  root: { kind: 'flag', text: () => 'the image must not run as root' },
  shell: { kind: 'flag', text: () => 'the image must not ship a shell' },
  'package-manager': { kind: 'flag', text: () => 'the image must not ship a package manager' },
  setuid: { kind: 'flag', text: () => 'the image must have no setuid files' },
}

export const CHECK_NAMES = Object.keys(CHECKS) as CheckName[]

const RULE = /^\s*([a-z-]+)\s*(?:([<>])\s*(\S+))?\s*$/

/** Parses one rule; a usage error names the rule and what is accepted. */
export function parseRule(input: string): RuleInfo {
  const m = RULE.exec(input)
  const known = `known rules: efficiency<0.9, wasted>20MB, user-wasted>10%, savings>50%, root, shell, package-manager, setuid`
  if (!m) throw new SlimError('usage', `rule "${input}" does not parse; ${known}`)
  const check = m[1] as CheckName
  const spec = CHECKS[check]
  if (!spec) throw new SlimError('usage', `unknown rule "${m[1]}"; ${known}`)
  if (spec.kind === 'flag') {
    if (m[2]) throw new SlimError('usage', `rule "${input}": ${check} takes no threshold (write just "${check}")`)
    return { id: check, check, threshold: null, text: spec.text('') }
  }
  if (m[2] && m[2] !== spec.op) throw new SlimError('usage', `rule "${input}": ${check} is written ${check}${spec.op}N`)
  const threshold = m[3] === undefined ? spec.default! : spec.kind === 'bytes' ? parseSize(input, m[3]) : parseRatio(input, m[3])
  const shown = showThreshold(check, threshold)
  return { id: `${check}${spec.op}${shown.replace(/\s+/g, '')}`, check, threshold, text: spec.text(shown) }
}

/** Parses a comma-separated list (the --fail-on flag); duplicates keep the last. */
export function parseRules(list: string | string[]): RuleInfo[] {
  const items = (Array.isArray(list) ? list : [list]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)
  const byCheck = new Map<CheckName, RuleInfo>()
  for (const item of items) {
    const r = parseRule(item)
    byCheck.set(r.check, r)
  }
  return [...byCheck.values()]
}

export function showThreshold(check: CheckName, t: number): string {
  const kind = CHECKS[check].kind
  if (kind === 'bytes') return compactBytes(t)
  if (check === 'efficiency') return String(Number(t.toFixed(4)))
  return `${Number((t * 100).toFixed(2))}%`
}

/** "20MB", "1GiB": the unit the number is a whole multiple of, as a user writes it. */
function compactBytes(n: number): string {
  const units: Array<[string, number]> = [['TB', 1e12], ['TiB', 1024 ** 4], ['GB', 1e9], ['GiB', 1024 ** 3], ['MB', 1e6], ['MiB', 1024 ** 2], ['kB', 1e3], ['KiB', 1024]]
  for (const [name, size] of units) if (n >= size && n % size === 0) return `${n / size}${name}`
  return n < 1000 ? `${n}B` : humanBytes(n).replace(' ', '')
}

function parseRatio(rule: string, s: string): number {
  const pct = s.endsWith('%')
  const n = Number(pct ? s.slice(0, -1) : s)
  const r = pct ? n / 100 : n
  if (!Number.isFinite(r) || r < 0 || (!pct && r > 1 && !rule.startsWith('user-wasted'))) {
    throw new SlimError('usage', `rule "${rule}": "${s}" is not a ratio; write e.g. 0.9 or 90%`)
  }
  return r
}

function parseSize(rule: string, s: string): number {
  const n = parseBytes(s)
  if (n === undefined) throw new SlimError('usage', `rule "${rule}": "${s}" is not a size; write e.g. 20MB or 1GiB`)
  return n
}
