import type { Hook } from '@oclif/core'
import { distance } from 'fastest-levenshtein'

/**
 * oclif's command_not_found hook: `slim analyse x` gets one line naming the closest command
 * (edit distance) and exit 2 (a usage error), on a terminal or not. (@oclif/plugin-not-found asks
 * interactively and prints no suggestion at all when stdin is not a terminal.)
 */
const hook: Hook<'command_not_found'> = async function (opts) {
  const typed = opts.id.split(':')[0]
  const ids = opts.config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases])
  const suggestion = closestWithin(typed, ids, Math.max(2, Math.floor(typed.length / 3)))
  const hint = suggestion ? `did you mean "${opts.config.bin} ${suggestion}"? ` : ''
  process.stderr.write(`slim: error: "${typed.replace(/[^\x20-\x7e]/g, '?')}" is not a ${opts.config.bin} command; ${hint}(see: ${opts.config.bin} help)\n`)
  this.exit(2)
}

/** The candidate nearest to `word`, when at most `max` edits away. */
export function closestWithin(word: string, candidates: readonly string[], max: number): string | undefined {
  let best: string | undefined
  let bestDistance = max + 1
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [c, d]
  }
  return best
}

export default hook
