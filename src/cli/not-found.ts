import type { Config, Hook } from '@oclif/core'
import { distance } from 'fastest-levenshtein'

/**
 * oclif's command_not_found hook: `slim analyse x` gets one line naming the closest command
 * (edit distance) and exit 2 (a usage error), on a terminal or not. (@oclif/plugin-not-found asks
 * interactively and prints no suggestion at all when stdin is not a terminal.)
 */
const hook: Hook<'command_not_found'> = async function (opts) {
  process.stderr.write(notACommand(opts.id.split(':')[0], opts.config))
  this.exit(2)
}

/** The one line for a word that is no command: the closest command when one is near (`slim help
 * analyse` says the same through cli/help.ts). */
export function notACommand(typed: string, config: Pick<Config, 'bin' | 'commands'>, prefix = ''): string {
  const ids = config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases])
  const suggestion = closestWithin(typed, ids, Math.max(2, Math.floor(typed.length / 3)))
  const hint = suggestion ? `did you mean "${config.bin} ${prefix}${suggestion.replaceAll(':', ' ')}"? ` : ''
  return `slim: error: "${typed.replace(/[^\x20-\x7e]/g, '?')}" is not a ${config.bin} command; ${hint}(see: ${config.bin} help)\n`
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
