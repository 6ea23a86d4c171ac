import { SlimCommand } from '../../cli/base-command.js'
import { cacheDirFlags, cacheDirFromFlags } from '../../cli/cache-flags.js'
import { summarizeCache } from '../../pipeline/cache-store.js'
import { cacheSummaryText } from '../../report/cache-text.js'

export default class CacheInfo extends SlimCommand {
  static override description = "What slim's cache holds: registry blobs, layer indexes, analysis results, compiled code and temp files, with their sizes."

  static override examples = ['<%= config.bin %> cache info', '<%= config.bin %> cache info --cache-dir /ci/cache/slim --json']

  static override flags = { ...cacheDirFlags }

  async run(): Promise<void> {
    const { flags } = await this.parse(CacheInfo)
    const summary = await summarizeCache(cacheDirFromFlags(flags))
    process.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : `${cacheSummaryText(summary).join('\n')}\n`)
  }
}
