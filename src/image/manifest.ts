import { validateContainerConfig, validateHistory } from './config-types.js'
import { SlimError, describe } from '../core/errors.js'
import { isDigest } from '../core/digest.js'
import {
  MediaType,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type Platform,
} from './types.js'

/**
 * Parsing and validation of the three JSON documents of an image: the index (OCI image index or
 * Docker manifest list), the manifest (OCI or Docker schema 2) and the config. Registries, layouts
 * and archives all hand us untrusted bytes; everything here either returns a well-typed document or
 * throws a one-line SlimError naming the document (`what`) and the problem.
 */

/** Distribution refuses manifests above 4 MiB; so do we (they are read whole). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024
/** Configs with very long histories reach a few hundred KiB; 32 MiB is far above any real one. */
export const MAX_CONFIG_BYTES = 32 * 1024 * 1024

export type ManifestDocument =
  | { kind: 'index'; mediaType: string; index: ImageIndex }
  | { kind: 'manifest'; mediaType: string; manifest: ImageManifest }

const INDEX_TYPES = new Set<string>([MediaType.ociIndex, MediaType.dockerList])
const MANIFEST_TYPES = new Set<string>([MediaType.ociManifest, MediaType.dockerManifest])
const SCHEMA1_TYPES = new Set<string>([MediaType.dockerSchema1, MediaType.dockerSchema1Signed])
const IMAGE_CONFIG_TYPES = new Set<string>([MediaType.ociConfig, MediaType.dockerConfig])

export function isIndexMediaType(t: string | undefined): boolean {
  return !!t && INDEX_TYPES.has(t)
}

export function isManifestMediaType(t: string | undefined): boolean {
  return !!t && MANIFEST_TYPES.has(t)
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** JSON.parse with a message that names the document. */
export function parseJson(bytes: Buffer | string, what: string): unknown {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('utf8')
  if (text.trim() === '') throw new SlimError('format', `${what} is empty (0 bytes of JSON)`)
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new SlimError('format', `${what} is not valid JSON (${describe(e)})`)
  }
}

export function validateDescriptor(v: unknown, what: string): Descriptor {
  if (!isObject(v)) throw new SlimError('format', `${what} is not a descriptor object`)
  const { mediaType, digest, size } = v
  if (typeof digest !== 'string' || !isDigest(digest)) {
    throw new SlimError('format', `${what} has an invalid digest ${JSON.stringify(digest)?.slice(0, 80)}`)
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new SlimError('format', `${what} has an invalid size ${JSON.stringify(size)?.slice(0, 40)}`)
  }
  if (mediaType !== undefined && typeof mediaType !== 'string') {
    throw new SlimError('format', `${what} has a non-string mediaType`)
  }
  if (v.urls !== undefined && (!Array.isArray(v.urls) || v.urls.some((u) => typeof u !== 'string'))) {
    throw new SlimError('format', `${what} has invalid urls`)
  }
  if (v.platform !== undefined && !isObject(v.platform)) throw new SlimError('format', `${what} has an invalid platform`)
  return { ...(v as unknown as Descriptor), mediaType: (mediaType as string | undefined) ?? '' }
}

function schema1Error(what: string): SlimError {
  return new SlimError(
    'unsupported',
    `${what} is a Docker schema 1 manifest; schema 1 manifests are deprecated; re-push the image with a current Docker or skopeo (skopeo copy --format v2s2)`,
  )
}

/**
 * Detects whether `bytes` is an index or a manifest, from the document's own mediaType field, then
 * the media type the source reported (`hint`), then the shape of the content. The content wins over
 * a descriptor's claim: layouts exist whose descriptors say "OCI manifest" for Docker manifests.
 */
export function parseManifestDocument(bytes: Buffer, what: string, hint?: string): ManifestDocument {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new SlimError('limit', `${what} is ${bytes.length} bytes, above the ${MAX_MANIFEST_BYTES}-byte limit for manifests`)
  }
  const doc = parseJson(bytes, what)
  if (!isObject(doc)) throw new SlimError('format', `${what} is not a JSON object (got ${doc === null ? 'null' : Array.isArray(doc) ? 'an array' : typeof doc})`)
  const own = typeof doc.mediaType === 'string' ? doc.mediaType : undefined
  if (doc.schemaVersion === 1 || (own && SCHEMA1_TYPES.has(own)) || 'fsLayers' in doc) {
    throw schema1Error(what)
  }
  if (doc.schemaVersion !== 2) {
    throw new SlimError('unsupported', `${what} has schemaVersion ${JSON.stringify(doc.schemaVersion)?.slice(0, 20)}; slim reads only schema 2 manifests and OCI documents`)
  }
  const looksLikeIndex = Array.isArray(doc.manifests) || ('manifests' in doc && !('layers' in doc) && !('config' in doc))
  const looksLikeManifest = 'config' in doc || 'layers' in doc
  let kind: 'index' | 'manifest' | undefined
  if (own && INDEX_TYPES.has(own)) kind = 'index'
  else if (own && MANIFEST_TYPES.has(own)) kind = 'manifest'
  else if (own) {
    // A mediaType field we do not know: trust the shape only when it is unambiguous.
    if (looksLikeIndex !== looksLikeManifest) kind = looksLikeIndex ? 'index' : 'manifest'
    else throw new SlimError('unsupported', `${what} has media type ${own}, which is not an image manifest or index`)
  } else if (looksLikeIndex !== looksLikeManifest) kind = looksLikeIndex ? 'index' : 'manifest'
  else if (hint && INDEX_TYPES.has(hint)) kind = 'index'
  else if (hint && MANIFEST_TYPES.has(hint)) kind = 'manifest'
  if (!kind) throw new SlimError('format', `${what} is neither an image manifest nor an image index (no config/layers or manifests field)`)

  if (kind === 'index') {
    return { kind, mediaType: own ?? (hint && INDEX_TYPES.has(hint) ? hint : MediaType.ociIndex), index: validateIndex(doc, what) }
  }
  return { kind, mediaType: own ?? (hint && MANIFEST_TYPES.has(hint) ? hint : MediaType.ociManifest), manifest: validateManifest(doc, what) }
}

function validateIndex(doc: Record<string, unknown>, what: string): ImageIndex {
  if (!Array.isArray(doc.manifests)) {
    throw new SlimError('format', `${what} lists no manifests ("manifests" is ${doc.manifests === undefined ? 'missing' : JSON.stringify(doc.manifests)})`)
  }
  const manifests = doc.manifests.map((m, i) => validateDescriptor(m, `${what}: manifests[${i}]`))
  return { ...(doc as unknown as ImageIndex), manifests }
}

/**
 * Structural checks only. Config digests are validated later, after the artifact check, because
 * artifacts legitimately carry empty config descriptors and deserve the "not an image" message.
 */
function validateManifest(doc: Record<string, unknown>, what: string): ImageManifest {
  if (!isObject(doc.config)) throw new SlimError('format', `${what} has no config descriptor`)
  if (doc.layers !== undefined && doc.layers !== null && !Array.isArray(doc.layers)) {
    throw new SlimError('format', `${what} has a "layers" field that is not a list`)
  }
  const layers = (doc.layers ?? []) as unknown[]
  return { ...(doc as unknown as ImageManifest), config: doc.config as unknown as Descriptor, layers: layers as Descriptor[] }
}

/**
 * Why this manifest is not a runnable container image, or undefined when it is one (or might be:
 * configs typed application/octet-stream are decided by their content later).
 */
export function artifactTypeOf(manifest: ImageManifest): string | undefined {
  const configType = typeof manifest.config?.mediaType === 'string' ? manifest.config.mediaType : ''
  if (IMAGE_CONFIG_TYPES.has(configType)) return manifest.artifactType || undefined
  if (manifest.artifactType) return manifest.artifactType
  if (configType === '' || configType === 'application/octet-stream') return undefined
  return configType
}

export function isImageConfigMediaType(t: string): boolean {
  return IMAGE_CONFIG_TYPES.has(t)
}

/** Validates the manifest's descriptors strictly (after the artifact check). */
export function validateImageManifest(manifest: ImageManifest, what: string): ImageManifest {
  const config = validateDescriptor(manifest.config, `${what}: config descriptor`)
  const layers = manifest.layers.map((l, i) => validateDescriptor(l, `${what}: layer ${i}`))
  return { ...manifest, config, layers }
}

export interface LayerKind {
  /** Foreign (Docker) or non-distributable (OCI) layers usually live outside the registry. */
  foreign: boolean
  encrypted: boolean
  /** The media type is one of the known layer types (else: read by magic bytes, with a warning). */
  known: boolean
}

const LAYER_TYPE = /^application\/vnd\.(oci\.image\.layer\.(?:nondistributable\.)?v1\.tar|docker\.image\.rootfs\.(?:foreign\.)?diff\.tar)(?:[+.](?:gzip|zstd))?(\+encrypted)?$/

export function layerKind(mediaType: string): LayerKind {
  const m = LAYER_TYPE.exec(mediaType)
  return {
    foreign: /nondistributable|foreign/.test(mediaType),
    encrypted: mediaType.endsWith('+encrypted'),
    known: !!m || mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  }
}

/** Parses and checks an image config: an object with rootfs.diff_ids, os and architecture. */
export function parseImageConfig(bytes: Buffer, what: string): ImageConfig {
  if (bytes.length > MAX_CONFIG_BYTES) {
    throw new SlimError('limit', `${what} is ${bytes.length} bytes, above the ${MAX_CONFIG_BYTES}-byte limit for configs`)
  }
  const doc = parseJson(bytes, what)
  if (!isObject(doc)) throw new SlimError('format', `${what} is not a JSON object`)
  const rootfs = doc.rootfs
  if (!isObject(rootfs) || !Array.isArray(rootfs.diff_ids)) {
    throw new SlimError('format', `${what} has no rootfs.diff_ids; it is not an image config`)
  }
  rootfs.diff_ids.forEach((d, i) => {
    if (typeof d !== 'string' || !isDigest(d)) throw new SlimError('format', `${what}: rootfs.diff_ids[${i}] is not a valid digest`)
  })
  const config = validateContainerConfig(doc.config, what)
  const history = validateHistory(doc.history, what)
  for (const k of ['created', 'author', 'os.version'] as const) {
    if (doc[k] !== undefined && doc[k] !== null && typeof doc[k] !== 'string') throw new SlimError('format', `${what}: ${k} must be a string, got ${typeof doc[k]}`)
  }
  const str = (v: unknown): string => (typeof v === 'string' ? v : '')
  return {
    ...(doc as unknown as ImageConfig),
    os: str(doc.os),
    architecture: str(doc.architecture),
    ...(typeof doc.variant === 'string' && doc.variant ? { variant: doc.variant } : {}),
    config,
    history,
    rootfs: { type: str(rootfs.type) || 'layers', diff_ids: rootfs.diff_ids as string[] },
  }
}

/** The platform an image config describes. */
export function configPlatform(config: ImageConfig): Platform {
  return {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant ? { variant: config.variant } : {}),
    ...(config['os.version'] ? { 'os.version': config['os.version'] } : {}),
  }
}
