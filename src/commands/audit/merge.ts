import { Args, Flags } from '@oclif/core'
import { readFile } from 'node:fs/promises'
import { SlimCommand } from '../../cli/base-command.js'
import { reportRuleFailures } from '../../cli/rules.js'
import { writeOutput } from '../../cli/write-output.js'
import { mergeDocuments, readAuditDocument } from '../../audit/document.js'
import { SlimError, describe } from '../../core/errors.js'
import { AUDIT_FORMATS, renderAudit } from '../../report/audit-render.js'

export default class AuditMerge extends SlimCommand {
  static override description = 'Join the JSON reports of `slim audit --shard K/N` runs (or of several audits) into one report, in any format. Exits 3 when an image broke a rule.'

  static override examples = ['<%= config.bin %> audit merge shard-*.json --format markdown -o audit.md']

  static override strict = false

  static override args = {
    files: Args.string({ description: 'JSON files written by slim audit --format json.', required: true }),
  }

  static override flags = {
    format: Flags.string({ description: 'Output format.', options: [...AUDIT_FORMATS], default: 'table' }),
    output: Flags.string({ char: 'o', description: 'Write the report to this file instead of standard output.' }),
  }

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(AuditMerge)
    const docs = []
    for (const file of argv as string[]) {
      const text = await readFile(file, 'utf8').catch((e) => {
        throw new SlimError('usage', `${file}: cannot read it (${describe(e)}); check the path`)
      })
      docs.push(readAuditDocument(text, file))
    }
    const doc = mergeDocuments(this.config.version, docs)
    const text = renderAudit(doc, flags.format as (typeof AUDIT_FORMATS)[number])
    if (flags.output) await writeOutput(flags.output, `${text}\n`, '--output')
    else this.log(text)
    reportRuleFailures(doc.images.flatMap((i) => i.failedRules.map((failure) => ({ image: i.reference, failure }))))
  }
}
