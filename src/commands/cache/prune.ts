import { SlimCommand } from '../../cli/base-command.js'
import { cacheDirFlags, cacheDirFromFlags, pruneFlags, pruneRulesFromFlags } from '../../cli/cache-flags.js'
import { pruneCache } from '../../pipeline/cache-store.js'
import { pruneText } from '../../report/cache-text.js'

export default class CachePrune extends SlimCommand {
  static override description =
    "Remove cache entries: those not used for longer than --older-than, then those used longest ago until the cache fits --max-size, or --all. Only files slim writes are touched; temp files only once a day old. Exit 1 when an entry could not be removed."

  static override examples = [
    '<%= config.bin %> cache prune --max-size 10GB',
    '<%= config.bin %> cache prune --older-than 30d --dry-run',
    '<%= config.bin %> cache prune --all --cache-dir /ci/cache/slim',
  ]

  static override flags = { ...cacheDirFlags, ...pruneFlags }

  async run(): Promise<void> {
    const { flags } = await this.parse(CachePrune)
    const rules = pruneRulesFromFlags(flags)
    const report = await pruneCache(cacheDirFromFlags(flags), rules, { dryRun: flags['dry-run'] })
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${pruneText(report).join('\n')}\n`)
    if (report.failures.length > 0) process.exitCode = 1
  }
}
