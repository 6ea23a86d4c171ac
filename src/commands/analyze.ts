import { Args, Flags } from '@oclif/core'
import { SlimCommand } from '../cli/base-command.js'
import { imageFlags, openOptionsFromFlags } from '../cli/image-flags.js'
import { openImage } from '../image/open.js'
import { summarizeImage } from '../report/image-summary.js'
import { renderImageSection } from '../report/text-image.js'
import { REPORT_SCHEMA_VERSION } from '../report/schema.js'

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
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Analyze)
    const options = await openOptionsFromFlags(flags, this.debugLog)
    const image = await openImage(args.image, options)
    try {
      const summary = summarizeImage(image)
      if (flags.json) {
        this.log(JSON.stringify({ schemaVersion: REPORT_SCHEMA_VERSION, tool: { name: 'slim', version: this.config.version }, image: summary }, null, 2))
      } else {
        this.log(renderImageSection(summary))
      }
    } finally {
      await image.close()
    }
  }
}
