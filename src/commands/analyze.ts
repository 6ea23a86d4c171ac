import { Args, Flags } from '@oclif/core'
import { escapeControls, printableJson } from '../core/text-escape.js'
import { SlimCommand } from '../cli/base-command.js'
import { imageFlags, openOptionsFromFlags } from '../cli/image-flags.js'
import { adviceFlags, analyzeOptionsFromFlags } from '../cli/pipeline.js'
import { progressWanted } from '../cli/progress.js'
import { reportRuleFailures, ruleFlags, rulesFromFlags } from '../cli/rules.js'
import { writeOutput } from '../cli/write-output.js'
import { SlimError } from '../core/errors.js'
import { analyzeCached, resultOf } from '../pipeline/cached.js'
import type { Analysis } from '../pipeline/analyze.js'
import { analysisDocument } from '../report/document.js'
import { summarizeImage } from '../report/image-summary.js'
import { layersReport } from '../report/layers-report.js'
import { renderAdviceSection } from '../report/text-advice.js'
import { renderImageSection } from '../report/text-image.js'
import { renderInspectionSections } from '../report/text-inspect.js'
import { renderLayersSection } from '../report/text-layers.js'

export default class Analyze extends SlimCommand {
  static override description = 'Show what is inside an image, what its program needs, and how to slim it.'

  static override examples = [
    '<%= config.bin %> analyze nginx:1.25',
    '<%= config.bin %> analyze docker-archive:app.tar --json',
    '<%= config.bin %> analyze oci:./layout:v1 --platform linux/arm64 --dockerfile Dockerfile.slim',
    '<%= config.bin %> analyze registry.example.com/app:2 --files',
    '<%= config.bin %> analyze nginx:1.25 --format html -o report.html',
  ]

  static override args = {
    image: Args.string({
      description: 'Image reference: [docker://]REF, docker-archive:PATH[:REF], oci:DIR[:REF], oci-archive:PATH[:REF], docker-daemon:REF',
      required: true,
    }),
  }

  static override flags = {
    ...imageFlags,
    ...adviceFlags,
    ...ruleFlags,
    json: Flags.boolean({ description: 'Same as --format json.', default: false, exclusive: ['files'] }),
    format: Flags.string({ description: 'Report format: text (default), json (one document, schema/analysis.schema.json) or html (one self-contained page).', options: ['text', 'json', 'html'], exclusive: ['files'] }),
    output: Flags.string({ char: 'o', description: 'Write the report to this file instead of standard output.', exclusive: ['files'] }),
    files: Flags.boolean({
      description: 'Print only the files the program needs, one path per line. Control characters and backslashes in a path are escaped (\\n, \\t, \\\\, \\xHH, \\uHHHH); use -0 for raw paths.',
      default: false,
    }),
    null: Flags.boolean({ description: 'With --files (also -0): end each path with a NUL byte instead of a newline, unescaped (for xargs -0).', default: false, dependsOn: ['files'] }),
    dockerfile: Flags.string({ description: 'Also write the generated multi-stage Dockerfile to this file.' }),
    quiet: Flags.boolean({ char: 'q', description: 'No progress output.', default: false }),
    top: Flags.integer({ description: 'How many entries the "largest" and "wasted" lists show.', default: 10, min: 1 }),
    tree: Flags.boolean({ description: 'Show the library closure as a tree (default on a terminal).', allowNo: true }),
  }

  async run(): Promise<void> {
    // oclif short flags are letters; -0 is spelled as find and xargs spell it.
    this.argv = this.argv.map((a) => (a === '-0' ? '--null' : a))
    const { args, flags } = await this.parse(Analyze)
    if (flags.json && flags.format && flags.format !== 'json') throw new SlimError('usage', `--json and --format ${flags.format}: choose one (--json means --format json)`)
    const rules = (await rulesFromFlags(flags)).rules
    const open = await openOptionsFromFlags(flags, this.debugLog)
    const options = analyzeOptionsFromFlags(open, flags, { progress: progressWanted({ ...flags, quiet: flags.quiet || flags.files }), top: flags.top })
    const format = flags.json ? 'json' : (flags.format ?? 'text')
    const analyzeOptions = { ...options, layerFigures: !flags.files }
    // The html report and the rules need the merged index itself; every other output is made of the
    // analysis' plain data, which the result cache can serve without reading a layer.
    const full = format === 'html' || rules.length > 0 ? await (await import('../pipeline/analyze.js')).analyzeImage(args.image, analyzeOptions) : undefined
    const { image, result: a } = full ? { image: full.image, result: resultOf(full) } : await analyzeCached(args.image, analyzeOptions)
    try {
      let dockerfilePath: string | undefined
      if (flags.dockerfile) {
        if (!a.advice.dockerfile) throw new SlimError('unsupported', `${image.reference}: no Dockerfile to write (${a.advice.summary})`)
        // Already small: the report says so; a Dockerfile that grows it is written only on request.
        if (a.advice.verdict === 'already-small') {
          process.stderr.write(`slim: --dockerfile ${escapeControls(flags.dockerfile)} not written: the image is already small (\`slim dockerfile --harden\` writes a Dockerfile that only hardens it)\n`)
        } else {
          await writeOutput(flags.dockerfile, a.advice.dockerfile, '--dockerfile')
          dockerfilePath = flags.dockerfile
        }
      }
      if (flags.files) {
        const files = a.inspection.files
        if (flags.null) process.stdout.write(files.map((f) => `${f}\0`).join(''))
        else for (const f of files) this.log(escapeControls(f, { backslash: true }))
        return
      }
      const layers = layersReport(a, a.metrics!, a.facts)
      const doc = () => analysisDocument(this.config.version, summarizeImage(image), layers, a.inspection, a.advice)
      const report =
        format === 'json'
          ? printableJson(JSON.stringify(doc(), null, 2))
          : format === 'html'
            ? await renderHtml(doc(), full!)
            : [
                renderImageSection(summarizeImage(image)),
                renderLayersSection(layers, { top: flags.top }),
                renderInspectionSections(a.inspection, { tree: flags.tree ?? !!process.stdout.isTTY }),
                renderAdviceSection(a.advice, { dockerfilePath }),
              ].join('\n\n')
      if (flags.output) await writeOutput(flags.output, `${report}\n`, '--output')
      else this.log(report)
      // The CI gate: after the report, one stderr line per broken rule and exit 3.
      if (rules.length > 0) {
        const { auditRecord } = await import('../audit/record.js')
        reportRuleFailures((await auditRecord(image.reference, full!, rules)).failedRules.map((failure) => ({ failure })))
      }
    } finally {
      await image.close()
    }
  }
}

/**
 * The html renderer (and its graph layout and treemap libraries) is loaded only for --format html:
 * loading it costs start-up time every other run would pay for nothing.
 */
async function renderHtml(doc: ReturnType<typeof analysisDocument>, a: Analysis): Promise<string> {
  const { keptPaths, renderAnalysisHtml, reportTree } = await import('../report/html/index.js')
  return renderAnalysisHtml(doc, { tree: reportTree(a.index, keptPaths(a.inspection, a.advice)) })
}
