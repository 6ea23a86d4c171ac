import { Args, Flags } from '@oclif/core'
import { SlimCommand } from '../cli/base-command.js'
import { imageFlags, openOptionsFromFlags } from '../cli/image-flags.js'
import { adviceFlags, analyzeOptionsFromFlags } from '../cli/pipeline.js'
import { reportRuleFailures, ruleFlags, rulesFromFlags } from '../cli/rules.js'
import { writeOutput } from '../cli/write-output.js'
import { auditDocument } from '../audit/document.js'
import { errorRecord } from '../audit/record.js'
import { expandInputs } from '../audit/inputs.js'
import { runAudit } from '../audit/run.js'
import { inShard, parseShard } from '../audit/shard.js'
import { AuditState } from '../audit/state.js'
import { SlimError } from '../core/errors.js'
import { redact } from '../core/redact.js'
import { printable } from '../layers/warnings.js'
import { AUDIT_FORMATS, renderAudit } from '../report/audit-render.js'

export default class Audit extends SlimCommand {
  static override description = `Audit many images at once: size, dive's waste figures, root, shells, package managers, setuid files, the suggested base and what slimming would save.
A repository without a tag means its tags (filtered by --tags); --catalog walks the whole registry. One image failing never stops the run; with --state DIR a re-run skips images already audited; --shard K/N splits the work across machines and \`slim audit merge\` joins the JSON. Exit 3 when an image breaks a --fail-on rule.`

  static override examples = [
    '<%= config.bin %> audit registry.example.com/team/api registry.example.com/team/web:2.1',
    "<%= config.bin %> audit registry.example.com/team/api --tags '>=1.2 <2' --fail-on root,efficiency<0.9",
    '<%= config.bin %> audit --catalog registry.example.com --tags latest:3 --format markdown -o audit.md',
    '<%= config.bin %> audit --from-file images.txt --shard auto/4 --state /var/lib/slim-audit --format json -o shard.json',
  ]

  static override strict = false

  static override args = {
    images: Args.string({ description: 'Image references; a repository without a tag means its tags.', required: false }),
  }

  static override flags = {
    ...imageFlags,
    ...ruleFlags,
    config: adviceFlags.config,
    'base-mirror': adviceFlags['base-mirror'],
    'max-expanded-size': adviceFlags['max-expanded-size'],
    'from-file': Flags.string({ description: 'Read references from this file, one per line (# starts a comment).', helpGroup: 'INPUT' }),
    catalog: Flags.string({ description: 'Audit every repository this registry lists at /v2/_catalog (with --tags to choose tags).', helpGroup: 'INPUT' }),
    tags: Flags.string({ description: "Which tags of an untagged repository: a glob ('1.*'), a semver range ('>=1.2 <2') or latest:N (newest N by semver). Default: all.", helpGroup: 'INPUT' }),
    'all-platforms': Flags.boolean({ description: 'Audit every platform of a multi-platform image (default: one, --platform or the host\'s).', default: false, exclusive: ['platform'], helpGroup: 'INPUT' }),
    concurrency: Flags.integer({ description: 'Images analysed at the same time.', default: 2, min: 1, max: 64, helpGroup: 'RUN' }),
    shard: Flags.string({ description: 'Audit only shard K of N (K/N, 1-based), chosen by a stable hash of each reference; auto/N reads JOB_COMPLETION_INDEX.', helpGroup: 'RUN' }),
    state: Flags.string({ description: 'Save each result here as it completes (keyed by manifest digest); a re-run skips images whose digest is unchanged.', helpGroup: 'RUN' }),
    format: Flags.string({ description: 'Output format.', options: [...AUDIT_FORMATS], default: 'table', helpGroup: 'OUTPUT' }),
    output: Flags.string({ char: 'o', description: 'Write the report to this file instead of standard output.', helpGroup: 'OUTPUT' }),
    quiet: Flags.boolean({ char: 'q', description: 'No progress or summary on standard error.', default: false }),
  }

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Audit)
    const rules = (await rulesFromFlags(flags)).rules
    const shard = flags.shard ? parseShard(flags.shard) : undefined
    const state = flags.state ? await AuditState.open(flags.state) : undefined
    const open = await openOptionsFromFlags(flags, this.debugLog)
    const { targets, problems } = await expandInputs({
      refs: argv as string[],
      fromFile: flags['from-file'],
      catalog: flags.catalog,
      tags: flags.tags,
      allPlatforms: flags['all-platforms'],
      platform: open.platform,
      registry: open.registry ?? {},
      registryMirrors: open.registryMirrors,
      log: this.debugLog,
    })
    if (targets.length + problems.length === 0) throw new SlimError('not-found', `nothing to audit: no tag matched${flags.tags ? ` --tags ${flags.tags}` : ''}; check the pattern (slim audit REPO lists all tags)`)
    const mine = inShard(targets, shard)
    const chatty = !flags.quiet && !!process.stderr.isTTY
    let done = 0
    const result = await runAudit({
      targets: mine,
      analyze: analyzeOptionsFromFlags(open, flags, { progress: false }),
      rules,
      concurrency: flags.concurrency,
      state,
      log: this.debugLog,
      onRecord: (r, source) => {
        done++
        if (chatty) process.stderr.write(`[${done}/${mine.length}] ${printable(r.reference, 120)}: ${source === 'error' ? `error: ${redact(printable(r.error?.message ?? '', 300))}` : source}\n`)
      },
    })
    // An input that could not be expanded (a repository whose tags are unreadable) is an image
    // that was not audited: recorded and counted like one, in the shard its name hashes to.
    const inputErrors = inShard(problems.map((p) => ({ reference: p.reference })), shard).map((t) => errorRecord(t.reference, problems.find((p) => p.reference === t.reference)!.error))
    const doc = auditDocument(this.config.version, rules, [...result.records, ...inputErrors], shard)
    const text = renderAudit(doc, flags.format as (typeof AUDIT_FORMATS)[number])
    if (flags.output) await writeOutput(flags.output, `${text}\n`, '--output')
    else this.log(text)
    if (!flags.quiet) {
      const c = result.counts
      process.stderr.write(
        `slim: audited ${doc.totals.images} image${doc.totals.images === 1 ? '' : 's'}${shard ? ` (shard ${shard.index}/${shard.count} of ${targets.length + problems.length})` : ''}: ${c.analyzed} analyzed, ${c.state} from --state, ${c['same-digest']} same digest as another, ${doc.totals.errors} error${doc.totals.errors === 1 ? '' : 's'}; ${result.layerPasses} layer passes over ${result.distinctLayers} distinct layers\n`,
      )
    }
    reportRuleFailures(doc.images.flatMap((i) => i.failedRules.map((failure) => ({ image: i.reference, failure }))))
  }
}
