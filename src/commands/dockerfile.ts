import { Args, Flags } from '@oclif/core'
import { escapeControls } from '../core/text-escape.js'
import { SlimCommand } from '../cli/base-command.js'
import { imageFlags, openOptionsFromFlags } from '../cli/image-flags.js'
import { adviceFlags, analyzeOptionsFromFlags } from '../cli/pipeline.js'
import { pinBase } from '../cli/pin.js'
import { progressWanted } from '../cli/progress.js'
import { writeOutput } from '../cli/write-output.js'
import { SlimError } from '../core/errors.js'
import { analyzeImage } from '../pipeline/index.js'

export default class Dockerfile extends SlimCommand {
  static override description = 'Write a hardened multi-stage Dockerfile that rebuilds IMAGE on the smallest base its program needs.'

  static override examples = [
    '<%= config.bin %> dockerfile registry.example.com/app:2 > Dockerfile.slim',
    '<%= config.bin %> dockerfile oci:./layout:v1 --base distroless/cc-debian12 -o Dockerfile.slim',
  ]

  static override args = {
    image: Args.string({ description: 'Image reference (as for `slim analyze`).', required: true }),
  }

  static override flags = {
    ...imageFlags,
    ...adviceFlags,
    output: Flags.string({ char: 'o', description: 'Write the Dockerfile here instead of standard output.' }),
    quiet: Flags.boolean({ char: 'q', description: 'No progress output.', default: false }),
    pin: Flags.boolean({ description: 'Resolve the base tag to its digest in its registry (or through --base-mirror) and write FROM base@sha256:….', default: false }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Dockerfile)
    const open = await openOptionsFromFlags(flags, this.debugLog)
    const a = await analyzeImage(args.image, { ...analyzeOptionsFromFlags(open, flags, { progress: progressWanted(flags) }), layerFigures: false })
    try {
      if (!a.advice.dockerfile) throw new SlimError('unsupported', `${a.image.reference}: no Dockerfile: ${a.advice.summary}`)
      let text = a.advice.dockerfile
      if (flags.pin) {
        const pinned = await pinBase(text, open)
        text = pinned.dockerfile
        if (pinned.note && !flags.quiet) process.stderr.write(`slim: ${escapeControls(pinned.note)}\n`)
      }
      if (flags.output) {
        await writeOutput(flags.output, text, '--output')
        if (!flags.quiet) process.stderr.write(`slim: ${escapeControls(a.advice.summary)}\nslim: Dockerfile written to ${escapeControls(flags.output)}\n`)
      } else {
        process.stdout.write(text)
      }
    } finally {
      await a.image.close()
    }
  }
}
