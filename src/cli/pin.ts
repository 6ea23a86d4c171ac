import { describe } from '../core/errors.js'
import { openRegistrySource } from '../image/transports/docker.js'
import type { OpenOptions } from '../image/types.js'

const UNPINNED = /^# No digest is known for (\S+): pin it .*\n/m

/**
 * `slim dockerfile --pin`: the base the Dockerfile names without a digest is looked up in its
 * registry (already rewritten to the mirror when --base-mirror applies) and `FROM base` becomes
 * `FROM base@sha256:…`, the digest the tag points to now (an index digest for a multi-arch base,
 * so the build still picks its platform). Unreachable: the Dockerfile stays as it was and the note
 * says how to pin by hand.
 */
export async function pinBase(dockerfile: string, open: OpenOptions): Promise<{ dockerfile: string; note?: string }> {
  const m = UNPINNED.exec(dockerfile)
  if (!m) return { dockerfile }
  const ref = m[1]
  let digest: string | undefined
  try {
    const source = await openRegistrySource(ref, open)
    try {
      digest = (await source.root()).digest
    } finally {
      await source.close()
    }
  } catch (e) {
    return { dockerfile, note: `--pin: could not resolve ${ref} (${describe(e)}); pin it by hand (skopeo inspect docker://${ref}) or reach its registry through --base-mirror REGISTRY=MIRROR` }
  }
  if (!digest) return { dockerfile, note: `--pin: ${ref}'s registry gave no digest; pin it by hand (skopeo inspect docker://${ref})` }
  const from = new RegExp(`^FROM ${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm')
  const pinned = dockerfile.replace(m[0], `# ${ref} pinned by slim --pin to the digest its registry gave.\n`).replace(from, `FROM ${ref}@${digest}`)
  return { dockerfile: pinned }
}
