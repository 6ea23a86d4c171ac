import { Args } from '@oclif/core'
import { SlimCommand } from '../cli/base-command.js'
import { imageFlags, openOptionsFromFlags } from '../cli/image-flags.js'
import { adviceFlags, analyzeOptionsFromFlags } from '../cli/pipeline.js'
import { progressWanted } from '../cli/progress.js'
import { verifyFlags, verifyOptionsFromFlags, verifyText } from '../cli/verify.js'
import { NOT_VIABLE_EXIT, verifySlim } from '../build/verify.js'
import { openImage } from '../image/open.js'
import { analyzeImage } from '../pipeline/index.js'
import { Flags } from '@oclif/core'

export default class Verify extends SlimCommand {
  static override description = `Run the program of ORIGINAL and of SLIM in a sandbox (bwrap; no network unless --network) with the same probe and compare them. Exit 0: verified; ${NOT_VIABLE_EXIT}: the slim image is not viable (the missing file and the --keep that adds it are named); 1: error.`

  static override examples = [
    '<%= config.bin %> verify oci:./layout:app oci:./slim-layout:app',
    '<%= config.bin %> verify registry.example.com/app:2 oci:./slim:app --probe=--version --expect-exit 0',
  ]

  static override args = {
    original: Args.string({ description: 'The original image (as for `slim analyze`).', required: true }),
    slim: Args.string({ description: 'The slim image (any reference slim reads).', required: true }),
  }

  static override flags = {
    ...imageFlags,
    ...adviceFlags,
    ...verifyFlags,
    quiet: Flags.boolean({ char: 'q', description: 'No progress output.', default: false }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Verify)
    const open = await openOptionsFromFlags(flags, this.debugLog)
    const options = analyzeOptionsFromFlags(open, flags, { progress: progressWanted(flags) })
    const verifyOptions = verifyOptionsFromFlags(flags, options.maxExpandedBytes)
    const a = await analyzeImage(args.original, { ...options, layerFigures: false })
    try {
      const slim = await openImage(args.slim, { ...open, platform: a.image.platform })
      try {
        const report = await verifySlim(a, slim, verifyOptions)
        process.stdout.write(`${verifyText(report).join('\n')}\n`)
        if (!report.verified) process.exitCode = NOT_VIABLE_EXIT
      } finally {
        await slim.close()
      }
    } finally {
      await a.image.close()
    }
  }
}
