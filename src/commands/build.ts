import { Args, Flags } from '@oclif/core'
import { SlimCommand } from '../cli/base-command.js'
import { imageFlags, openOptionsFromFlags } from '../cli/image-flags.js'
import { adviceFlags, analyzeOptionsFromFlags } from '../cli/pipeline.js'
import { progressWanted } from '../cli/progress.js'
import { writeOutput } from '../cli/write-output.js'
import { humanBytes } from '../core/format.js'
import { buildSlim } from '../build/build.js'
import { parseDestination, writeDestination } from '../build/output.js'
import { pushImage } from '../build/push.js'
import { renderSbom } from '../build/sbom.js'
import { withTempDir } from '../build/temp.js'
import { analyzeImage } from '../pipeline/index.js'
import { verifyFlags, verifyOptionsFromFlags, verifyText } from '../cli/verify.js'
import { NOT_VIABLE_EXIT, verifySlim } from '../build/verify.js'
import { openImage } from '../image/open.js'

export default class Build extends SlimCommand {
  static override description = 'Build the slim image of IMAGE without Docker: the chosen base\'s layers plus one reproducible layer with exactly the files the program needs.'

  static override examples = [
    '<%= config.bin %> build registry.example.com/app:2 --output oci:./slim-layout:app',
    '<%= config.bin %> build oci:./layout:v1 --output docker-archive:app-slim.tar:app:slim --sbom app.cdx.json',
  ]

  static override args = {
    image: Args.string({ description: 'Image reference (as for `slim analyze`).', required: true }),
  }

  static override flags = {
    ...imageFlags,
    ...adviceFlags,
    output: Flags.string({ char: 'o', description: 'Where to write the slim image: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG] or docker://REGISTRY/REPO:TAG (pushed).', required: true }),
    sbom: Flags.string({ description: 'Also write a software bill of materials of the slim image to this file.' }),
    'sbom-format': Flags.string({ description: 'SBOM format.', options: ['cyclonedx', 'spdx'], default: 'cyclonedx' }),
    quiet: Flags.boolean({ char: 'q', description: 'No progress output.', default: false }),
    verify: Flags.boolean({ description: 'After building, run `slim verify` on the original and the written image (the report goes to stderr; exit 4 when not viable).', default: false, helpGroup: 'VERIFY' }),
    ...verifyFlags,
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Build)
    const push = flags.output.startsWith('docker://') ? flags.output.slice('docker://'.length) : undefined
    const dest = push === undefined ? parseDestination(flags.output) : undefined
    const open = await openOptionsFromFlags(flags, this.debugLog)
    const options = analyzeOptionsFromFlags(open, flags, { progress: progressWanted(flags) })
    const verifyOptions = flags.verify ? verifyOptionsFromFlags(flags, options.maxExpandedBytes) : undefined
    const a = await analyzeImage(args.image, options)
    try {
      await withTempDir('build', async (work) => {
        const built = await buildSlim(a, open, work)
        if (dest) await writeDestination(dest, work, [{ platform: a.image.platform, assembled: built.assembled }], work)
        else {
          const pushed = await pushImage(push!, work, built.assembled, built.baseReference, { ...open.registry, log: this.debugLog })
          if (!flags.quiet) process.stderr.write(`slim: pushed: ${pushed.uploaded} blob(s) uploaded, ${pushed.mounted} mounted from the base's repository, ${pushed.existing} already there\n`)
        }
        if (flags.sbom) {
          const format = flags['sbom-format'] === 'spdx' ? 'spdx' : 'cyclonedx'
          await writeOutput(flags.sbom, renderSbom(format, { analysis: a, built }), '--sbom')
        }
        const out = flags.quiet ? () => {} : (l: string) => process.stderr.write(`slim: ${l}\n`)
        out(`${a.advice.summary}`)
        out(`built ${built.assembled.manifestDigest} on ${built.plan.base.publicRef}: ${built.entries.length} entries (${humanBytes(built.fileBytes)} of files), ${humanBytes(built.compressedBytes)} compressed in all`)
        out(`kept package metadata of ${built.packages.length} package(s); ${built.unownedFiles} copied file(s) belong to no package`)
        out(`written to ${flags.output}`)
        process.stdout.write(`${built.assembled.manifestDigest}\n`)
      })
      if (verifyOptions) {
        // The image as written, opened by its reference like any other image.
        const written = await openImage(flags.output, { ...open, platform: a.image.platform })
        try {
          const report = await verifySlim(a, written, verifyOptions)
          process.stderr.write(verifyText(report).map((l) => `slim: verify: ${l}\n`).join(''))
          if (!report.verified) {
            process.stderr.write('slim: verify: the image was written, but it is not viable; rebuild with the --keep shown above\n')
            process.exitCode = NOT_VIABLE_EXIT
          }
        } finally {
          await written.close()
        }
      }
    } finally {
      await a.image.close()
    }
  }
}
