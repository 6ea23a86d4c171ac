import { Args, Flags } from '@oclif/core'
import { SlimCommand } from '../cli/base-command.js'
import { imageFlags, openOptionsFromFlags } from '../cli/image-flags.js'
import { adviceFlags, analyzeOptionsFromFlags } from '../cli/pipeline.js'
import { progressWanted } from '../cli/progress.js'
import { writeOutput } from '../cli/write-output.js'
import { SlimError } from '../core/errors.js'
import { analyzeImage } from '../pipeline/index.js'
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
    json: Flags.boolean({ description: 'Print one JSON document (schema: schema/analysis.schema.json) instead of text.', default: false, exclusive: ['files'] }),
    files: Flags.boolean({ description: 'Print only the files the program needs, one path per line.', default: false }),
    dockerfile: Flags.string({ description: 'Also write the generated multi-stage Dockerfile to this file.' }),
    quiet: Flags.boolean({ char: 'q', description: 'No progress output.', default: false }),
    top: Flags.integer({ description: 'How many entries the "largest" and "wasted" lists show.', default: 10, min: 1 }),
    tree: Flags.boolean({ description: 'Show the library closure as a tree (default on a terminal).', allowNo: true }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Analyze)
    const open = await openOptionsFromFlags(flags, this.debugLog)
    const options = analyzeOptionsFromFlags(open, flags, { progress: progressWanted({ ...flags, quiet: flags.quiet || flags.files }), top: flags.top })
    const a = await analyzeImage(args.image, { ...options, layerFigures: !flags.files })
    try {
      let dockerfilePath: string | undefined
      if (flags.dockerfile) {
        if (!a.advice.dockerfile) throw new SlimError('unsupported', `${a.image.reference}: no Dockerfile to write (${a.advice.summary})`)
        await writeOutput(flags.dockerfile, a.advice.dockerfile, '--dockerfile')
        dockerfilePath = flags.dockerfile
      }
      if (flags.files) {
        for (const f of a.inspection.files) this.log(f)
        return
      }
      const layers = layersReport(a.index, a.metrics!, a.facts)
      if (flags.json) {
        this.log(JSON.stringify(analysisDocument(this.config.version, summarizeImage(a.image), layers, a.inspection, a.advice), null, 2))
        return
      }
      this.log(renderImageSection(summarizeImage(a.image)))
      this.log('')
      this.log(renderLayersSection(layers, { top: flags.top }))
      this.log('')
      this.log(renderInspectionSections(a.inspection, { tree: flags.tree ?? !!process.stdout.isTTY }))
      this.log('')
      this.log(renderAdviceSection(a.advice, { dockerfilePath }))
    } finally {
      await a.image.close()
    }
  }
}
