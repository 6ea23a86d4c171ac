import { Args, Flags } from '@oclif/core'
import { SlimCommand } from '../cli/base-command.js'
import { imageFlags, openOptionsFromFlags } from '../cli/image-flags.js'
import { progressWanted, withLayerProgress } from '../cli/progress.js'
import { SlimError } from '../core/errors.js'
import { parseBytes } from '../core/format.js'
import { openImage } from '../image/open.js'
import { buildIndex, collectFacts, computeMetrics, DEFAULT_MAX_EXPANDED_BYTES } from '../layers/index.js'
import { summarizeImage } from '../report/image-summary.js'
import { layersReport } from '../report/layers-report.js'
import { REPORT_SCHEMA_VERSION } from '../report/schema.js'
import { renderImageSection } from '../report/text-image.js'
import { renderLayersSection } from '../report/text-layers.js'

export default class Analyze extends SlimCommand {
  static override description = 'Show what is inside an image, what its program needs, and how to slim it.'

  static override examples = [
    '<%= config.bin %> analyze nginx:1.25',
    '<%= config.bin %> analyze docker-archive:app.tar --json',
    '<%= config.bin %> analyze oci:./layout:v1 --platform linux/arm64',
  ]

  static override args = {
    image: Args.string({
      description: 'Image reference: [docker://]REF, docker-archive:PATH[:REF], oci:DIR[:REF], oci-archive:PATH[:REF], docker-daemon:REF',
      required: true,
    }),
  }

  static override flags = {
    ...imageFlags,
    json: Flags.boolean({ description: 'Print a JSON document (schema: schema/analysis.schema.json) instead of text.', default: false }),
    quiet: Flags.boolean({ char: 'q', description: 'No progress output.', default: false }),
    top: Flags.integer({ description: 'How many entries the "largest" and "wasted" lists show.', default: 10, min: 1 }),
    'max-expanded-size': Flags.string({
      description: `Stop when the layers expand to more than this (a decompression-bomb guard), e.g. 64GiB. Default ${DEFAULT_MAX_EXPANDED_BYTES / 1024 ** 3}GiB.`,
    }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Analyze)
    const maxExpandedBytes = flags['max-expanded-size'] === undefined ? undefined : parseBytes(flags['max-expanded-size'])
    if (maxExpandedBytes === 0 || (flags['max-expanded-size'] !== undefined && maxExpandedBytes === undefined)) {
      throw new SlimError('usage', `--max-expanded-size "${flags['max-expanded-size']}" is not a size; use e.g. 64GiB or 500MB`)
    }
    const options = await openOptionsFromFlags(flags, this.debugLog)
    const image = await openImage(args.image, options)
    try {
      const summary = summarizeImage(image)
      const index = await withLayerProgress(progressWanted(flags), image, (onProgress) => buildIndex(image, { maxExpandedBytes, onProgress }))
      const metrics = computeMetrics(index, { top: Math.max(flags.top, 20) })
      const facts = await collectFacts(index)
      const layers = layersReport(index, metrics, facts)

      if (flags.json) {
        const doc = { schemaVersion: REPORT_SCHEMA_VERSION, tool: { name: 'slim', version: this.config.version }, image: summary, layers }
        this.log(JSON.stringify(doc, null, 2))
        return
      }
      this.log(renderImageSection(summary, { layers: false }))
      this.log('')
      this.log(renderLayersSection(layers, { top: flags.top }))
    } finally {
      await image.close()
    }
  }
}
