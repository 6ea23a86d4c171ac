import { SlimError } from '../../core/errors.js'
import { MediaType } from '../types.js'

/** Everything slim can read, in order of preference; sent as Accept on every manifest request. */
export const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerList,
  MediaType.dockerManifest,
  // Asked for only so that a schema-1-only image is recognised and refused clearly, instead of
  // the registry answering 404 or some older format we cannot tell apart.
  MediaType.dockerSchema1Signed,
  MediaType.dockerSchema1,
]

const IMAGE_CONFIG_TYPES = new Set<string>([MediaType.ociConfig, MediaType.dockerConfig])

/**
 * Refuses what slim cannot analyse, with the reason: Docker schema 1 manifests (deprecated, no
 * config blob), and OCI artifacts (Helm charts, signatures, SBOMs) that are not container images.
 * Malformed JSON is left to the caller, which reports it as a format error.
 */
export function rejectUnsupportedManifest(bytes: Buffer, contentType: string | undefined, what: string): void {
  if (contentType === MediaType.dockerSchema1 || contentType === MediaType.dockerSchema1Signed) throw schema1(what)
  let doc: unknown
  try {
    doc = JSON.parse(bytes.toString('utf8'))
  } catch {
    return
  }
  if (!doc || typeof doc !== 'object') return
  const m = doc as { schemaVersion?: unknown; mediaType?: unknown; config?: { mediaType?: unknown }; artifactType?: unknown; manifests?: unknown }
  if (m.schemaVersion === 1) throw schema1(what)
  if (m.mediaType === MediaType.dockerSchema1 || m.mediaType === MediaType.dockerSchema1Signed) throw schema1(what)
  if (Array.isArray(m.manifests)) return
  const configType = typeof m.config?.mediaType === 'string' ? m.config.mediaType : undefined
  if (configType !== undefined && !IMAGE_CONFIG_TYPES.has(configType)) {
    const kind = typeof m.artifactType === 'string' ? m.artifactType : configType
    throw new SlimError('unsupported', `${what}: this is an OCI artifact of type ${kind.slice(0, 100)}, not a container image; slim analyses container images only`)
  }
}

function schema1(what: string): SlimError {
  return new SlimError('unsupported', `${what}: the image has a Docker schema 1 manifest, which slim does not read; re-push it with a current Docker or skopeo (schema 2 or OCI)`)
}
