import { Args, Flags } from '@oclif/core'
import { escapeControls, printableJson } from '../core/text-escape.js'
import { SlimCommand } from '../cli/base-command.js'
import { imageFlags, openOptionsFromFlags } from '../cli/image-flags.js'
import { adviceFlags, analyzeOptionsFromFlags } from '../cli/pipeline.js'
import { pinBase } from '../cli/pin.js'
import { progressWanted } from '../cli/progress.js'
import { writeOutput } from '../cli/write-output.js'
import { SlimError } from '../core/errors.js'
import { analyzeCached } from '../pipeline/cached.js'
import { dockerfileDocument } from '../report/document.js'
import { summarizeImage } from '../report/image-summary.js'

export default class Dockerfile extends SlimCommand {
  static override description = 'Write a hardened multi-stage Dockerfile that rebuilds IMAGE on the smallest base its program needs.'

  static override examples = [
    '<%= config.bin %> dockerfile registry.example.com/app:2 > Dockerfile.slim',
    '<%= config.bin %> dockerfile oci:./layout:v1 --base distroless/cc-debian12 -o Dockerfile.slim',
    '<%= config.bin %> dockerfile registry.example.com/app:2 --json | jq -r .advice.dockerfile',
  ]

  static override args = {
    image: Args.string({ description: 'Image reference (as for `slim analyze`).', required: true }),
  }

  static override flags = {
    ...imageFlags,
    ...adviceFlags,
    output: Flags.string({ char: 'o', description: 'Write the Dockerfile (or, with --json, the document) here instead of standard output.' }),
    quiet: Flags.boolean({ char: 'q', description: 'No progress output.', default: false }),
    pin: Flags.boolean({ description: 'Resolve the base tag to its digest in its registry (or through --base-mirror) and write FROM base@sha256:….', default: false }),
    json: Flags.boolean({ description: 'Print the advice as JSON (schema/dockerfile.schema.json; the same advice object as `slim analyze --json`), its Dockerfile in advice.dockerfile.', default: false }),
    harden: Flags.boolean({ description: 'Write the Dockerfile even when the image is already small (it then only hardens: pinned base, numeric non-root USER, and may be larger).', default: false }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Dockerfile)
    const open = await openOptionsFromFlags(flags, this.debugLog)
    const { image, result: a } = await analyzeCached(args.image, { ...analyzeOptionsFromFlags(open, flags, { progress: progressWanted(flags) }), layerFigures: false })
    try {
      let advice = a.advice
      if (advice.dockerfile && flags.pin) {
        const pinned = await pinBase(advice.dockerfile, open)
        advice = { ...advice, dockerfile: pinned.dockerfile }
        if (pinned.note && !flags.quiet) process.stderr.write(`slim: ${escapeControls(pinned.note)}\n`)
      }
      // --json is the whole answer whatever the verdict: scripts read advice.verdict.
      if (flags.json) {
        const doc = `${printableJson(JSON.stringify(dockerfileDocument(this.config.version, summarizeImage(image), advice), null, 2))}\n`
        if (flags.output) await writeOutput(flags.output, doc, '--output')
        else process.stdout.write(doc)
        return
      }
      if (!advice.dockerfile) throw new SlimError('unsupported', `${image.reference}: no Dockerfile: ${advice.summary}`)
      // Already small: a Dockerfile would make it bigger. Not an error (exit 0, nothing on stdout,
      // so `slim dockerfile IMG > Dockerfile.slim` leaves an empty file a build fails on loudly).
      if (advice.verdict === 'already-small' && !flags.harden) {
        process.stderr.write(`slim: ${escapeControls(image.reference)}: no Dockerfile written: ${escapeControls(advice.summary)}\n`)
        return
      }
      if (flags.output) {
        await writeOutput(flags.output, advice.dockerfile, '--output')
        if (!flags.quiet) process.stderr.write(`slim: ${escapeControls(advice.summary)}\nslim: Dockerfile written to ${escapeControls(flags.output)}\n`)
      } else {
        process.stdout.write(advice.dockerfile)
      }
    } finally {
      await image.close()
    }
  }
}
