import { Args, Flags } from '@oclif/core'
import { SlimCommand } from '../cli/base-command.js'
import { imageFlags, openOptionsFromFlags } from '../cli/image-flags.js'
import { adviceFlags, analyzeOptionsFromFlags } from '../cli/pipeline.js'
import { progressWanted } from '../cli/progress.js'
import { writeOutput } from '../cli/write-output.js'
import { humanBytes } from '../core/format.js'
import { assembleIndex } from '../build/assemble.js'
import { buildPlatforms, type PlatformBuild } from '../build/platforms.js'
import { parseDestination, writeDestination } from '../build/output.js'
import { pushImage } from '../build/push.js'
import { renderSbom } from '../build/sbom.js'
import { withTempDir } from '../build/temp.js'
import { verifyFlags, verifyOptionsFromFlags, verifyText } from '../cli/verify.js'
import { NOT_VIABLE_EXIT, verifySlim, type VerifyOptions } from '../build/verify.js'
import { openImage } from '../image/open.js'
import { formatPlatform, hostPlatform, platformMatches } from '../image/platform.js'
import type { OpenOptions, Platform } from '../image/types.js'
import { SlimError } from '../core/errors.js'
import { parseBytes } from '../core/format.js'
import { escapeControls } from '../core/text-escape.js'

export default class Build extends SlimCommand {
  static override description = 'Build the slim image of IMAGE without Docker: the chosen base\'s layers plus one reproducible layer with exactly the files the program needs.'

  static override examples = [
    '<%= config.bin %> build registry.example.com/app:2 --output oci:./slim-layout:app',
    '<%= config.bin %> build oci:./layout:v1 --output docker-archive:app-slim.tar:app:slim --sbom app.cdx.json',
    '<%= config.bin %> build registry.example.com/app:2 --all-platforms --output docker://registry.example.com/app:2-slim',
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
    'all-platforms': Flags.boolean({ description: 'Build every platform of a multi-platform IMAGE, each analysed on its own, into one OCI image index (not for docker-archive). A platform that cannot be built fails the build unless --skip-failed-platforms.', default: false, exclusive: ['platform'] }),
    'skip-failed-platforms': Flags.boolean({ description: 'With --all-platforms: write the platforms that built and name the others on stderr, instead of failing.', default: false, dependsOn: ['all-platforms'] }),
    'chunk-size': Flags.string({ description: 'docker:// output: upload blobs larger than this in chunks of this size (PATCH with Content-Range), e.g. 8MiB. Default 32MiB.' }),
    ...verifyFlags,
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Build)
    const push = flags.output.startsWith('docker://') ? flags.output.slice('docker://'.length) : undefined
    const dest = push === undefined ? parseDestination(flags.output) : undefined
    const all = flags['all-platforms']
    if (all && dest?.transport === 'docker-archive') throw new SlimError('usage', `--output ${flags.output}: a docker archive holds one platform; use oci:, oci-archive: or docker:// with --all-platforms`)
    const chunkBytes = parseChunkSize(flags['chunk-size'])
    const open = await openOptionsFromFlags(flags, this.debugLog)
    const options = analyzeOptionsFromFlags(open, flags, { progress: progressWanted(flags) })
    const verifyOptions = flags.verify ? verifyOptionsFromFlags(flags, options.maxExpandedBytes) : undefined
    const out = flags.quiet ? () => {} : (l: string) => process.stderr.write(`slim: ${escapeControls(l)}\n`)
    await withTempDir('build', async (work) => {
      const result = await buildPlatforms(args.image, options, work, all)
      try {
        const builds = result.builds
        if (result.failures.length > 0) {
          const list = result.failures.map((f) => `${formatPlatform(f.platform)} (${f.reason})`).join('; ')
          if (!flags['skip-failed-platforms'] || builds.length === 0) {
            throw new SlimError('unsupported', `${args.image}: ${result.failures.length} of ${result.failures.length + builds.length} platform(s) could not be built, nothing was written: ${list}; fix them, build one with --platform, or pass --skip-failed-platforms to write the others`)
          }
          process.stderr.write(`slim: warning: skipped ${result.failures.length} platform(s): ${escapeControls(list)}\n`)
        }
        const images = builds.map((b) => ({ platform: b.platform, assembled: b.built.assembled, baseRef: b.built.baseReference }))
        const asIndex = all && result.index
        if (dest) await writeDestination(dest, work, images, work, asIndex)
        else {
          const pushed = await pushImage(push!, work, images, { ...open.registry, log: this.debugLog, chunkBytes, asIndex })
          const chunked = pushed.chunked ? ` (${pushed.chunked} in chunks${pushed.recoveries ? `, ${pushed.recoveries} failed chunk(s) recovered` : ''})` : ''
          if (!flags.quiet) process.stderr.write(`slim: pushed: ${pushed.uploaded} blob(s) uploaded${chunked}, ${pushed.mounted} mounted from the base's repository, ${pushed.existing} already there\n`)
        }
        for (const { analysis: a, built, platform } of builds) {
          if (flags.sbom) {
            const format = flags['sbom-format'] === 'spdx' ? 'spdx' : 'cyclonedx'
            const file = all ? sbomPathFor(flags.sbom, platform) : flags.sbom
            await writeOutput(file, renderSbom(format, { analysis: a, built }), '--sbom')
          }
          const on = all ? `${formatPlatform(platform)}: ` : ''
          out(`${on}${a.advice.summary}`)
          out(`${on}built ${built.assembled.manifestDigest} on ${built.plan.base.publicRef}: ${built.entries.length} entries (${humanBytes(built.fileBytes)} of files), ${humanBytes(built.compressedBytes)} compressed in all`)
          out(`${on}kept package metadata of ${built.packages.length} package(s); ${built.unownedFiles} copied file(s) belong to no package`)
        }
        out(`written to ${flags.output}${asIndex ? ` as an OCI image index of ${builds.length} platform(s)` : ''}`)
        process.stdout.write(`${asIndex ? assembleIndex(images).digest : builds[0].built.assembled.manifestDigest}\n`)
        if (verifyOptions) await this.verifyWritten(flags.output, builds, open, verifyOptions, all)
      } finally {
        await result.close()
      }
    })
  }

  /** `--verify`: each platform this host can run, against the image as written (opened by its reference like any other). */
  private async verifyWritten(output: string, builds: PlatformBuild[], open: OpenOptions, verifyOptions: VerifyOptions, all: boolean): Promise<void> {
    const host = hostPlatform()
    for (const { analysis: a, platform } of builds) {
      const label = all ? `verify: ${formatPlatform(platform)}: ` : 'verify: '
      if (all && !platformMatches(host, platform)) {
        process.stderr.write(`slim: ${label}not verified: this host (${formatPlatform(host)}) cannot run it\n`)
        continue
      }
      const written = await openImage(output, { ...open, platform: a.image.platform })
      try {
        const report = await verifySlim(a, written, verifyOptions)
        process.stderr.write(verifyText(report).map((l) => `slim: ${label}${l}\n`).join(''))
        if (!report.verified) {
          const fix = report.missing.some((m) => m.path) ? 'rebuild with the --keep shown above' : 'the lines above say what failed (no file to --keep was found for it)'
          process.stderr.write(`slim: ${label}the image was written, but it is not viable; ${fix}\n`)
          process.exitCode = NOT_VIABLE_EXIT
        }
      } finally {
        await written.close()
      }
    }
  }
}

/** app.cdx.json -> app.linux-arm64.cdx.json: one SBOM per platform of an index. */
function sbomPathFor(file: string, platform: Platform): string {
  const slash = file.lastIndexOf('/') + 1
  const dot = file.indexOf('.', slash + 1)
  const tag = formatPlatform(platform).replace(/\//g, '-')
  return dot < 0 ? `${file}.${tag}` : `${file.slice(0, dot)}.${tag}${file.slice(dot)}`
}

function parseChunkSize(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = parseBytes(value)
  if (!n || n < 1024) throw new SlimError('usage', `--chunk-size "${value}" is not a size of at least 1KiB; use e.g. 8MiB`)
  return n
}
