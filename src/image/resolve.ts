import { pipeline, type Readable } from 'node:stream'
import { SlimError, isSlimError } from '../core/errors.js'
import { VerifyStream, digestOf, verifyBytes } from '../core/digest.js'
import { BlobCache } from './cache.js'
import { decompressStream } from './compression.js'
import {
  MAX_CONFIG_BYTES,
  artifactTypeOf,
  configPlatform,
  isImageConfigMediaType,
  isIndexMediaType,
  layerKind,
  parseImageConfig,
  parseManifestDocument,
  validateImageManifest,
  type ManifestDocument,
} from './manifest.js'
import { formatPlatform, hostPlatform, isAttestationPlatform, normalizePlatform, platformMatches, selectPlatform } from './platform.js'
import { readAllLimited } from './read-all.js'
import type { ImageSource } from './source.js'
import type { Descriptor, Image, ImageConfig, ImageIndex, ImageManifest, Layer, OpenOptions, Platform } from './types.js'

/**
 * Turns any ImageSource into an Image: fetch the root document and verify it, walk an index down
 * to the wanted platform (verifying every child against its descriptor), fetch and verify the
 * config, and wire each layer's lazy, verified streams (through the blob cache for registries).
 * Transports only hand over raw bytes; every integrity rule lives here, once.
 */

/** Index → index → manifest chains deeper than this are loops or abuse. */
const MAX_INDEX_DEPTH = 4

/** BuildKit marks provenance/SBOM manifests in an index with this annotation (and unknown/unknown). */
const REFERENCE_TYPE_ANNOTATION = 'vnd.docker.reference.type'

export async function resolveImage(source: ImageSource, opts: OpenOptions): Promise<Image> {
  try {
    return await resolve(source, opts)
  } catch (e) {
    await source.close().catch(() => {})
    throw e
  }
}

interface Chosen {
  manifest: ImageManifest
  mediaType: string
  digest?: string
  indexDigest?: string
  /** Platform the index descriptor claimed, when the manifest came from an index. */
  indexPlatform?: Platform
}

async function resolve(source: ImageSource, opts: OpenOptions): Promise<Image> {
  const log = opts.log ?? (() => {})
  const ref = source.reference
  const warnings: string[] = []
  const want = opts.platform ? normalizePlatform(opts.platform, { keepDefaultVariant: true }) : hostPlatform()

  const root = await source.root()
  if (root.digest) verifyBytes(root.bytes, { digest: root.digest }, `${ref}: manifest`)
  const rootDoc = parseManifestDocument(root.bytes, `${ref}: manifest`, root.mediaType)
  const rootDigest = source.synthesizedManifest ? undefined : (root.digest ?? digestOf(root.bytes))
  const chosen = await walkToManifest(source, rootDoc, rootDigest, want, warnings, log)

  const artifact = artifactTypeOf(chosen.manifest)
  if (artifact) throw notAnImage(ref, artifact, chosen.manifest)
  const manifest = validateImageManifest(chosen.manifest, `${ref}: manifest`)

  const cache = opts.cacheDir && source.transport === 'docker' ? new BlobCache(opts.cacheDir, log, opts.maxTempBytes) : undefined
  const fetchVerified = async (desc: Descriptor, what: string): Promise<Readable> => {
    const fetch = async (): Promise<Readable> => {
      try {
        return await source.blob(desc)
      } catch (e) {
        throw foreignLayerError(e, desc, what, ref)
      }
    }
    if (cache) return cache.read(desc, what, fetch)
    const verify = new VerifyStream({ digest: desc.digest, size: desc.size }, what)
    pipeline(await fetch(), verify, () => {})
    return verify
  }

  const configWhat = `${ref}: config ${manifest.config.digest}`
  const configBytes = await readAllLimited(await fetchVerified(manifest.config, configWhat), MAX_CONFIG_BYTES, configWhat)
  let config: ImageConfig
  try {
    config = parseImageConfig(configBytes, configWhat)
  } catch (e) {
    // A config typed application/octet-stream that is not an image config is some artifact; so is
    // an "image" whose config is not one and whose layers are not layers (e.g. a `{}` config).
    if (isSlimError(e) && e.kind === 'format') {
      if (!isImageConfigMediaType(manifest.config.mediaType)) throw notAnImage(ref, manifest.config.mediaType || 'unknown', manifest)
      const foreignType = manifest.layers.find((l) => !layerKind(l.mediaType).known)?.mediaType
      if (foreignType) throw notAnImage(ref, foreignType, manifest)
    }
    throw e
  }
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new SlimError(
      'format',
      `${ref}: the config lists ${config.rootfs.diff_ids.length} layer diff IDs but the manifest has ${manifest.layers.length} layers; the image is inconsistent, rebuild or re-push it`,
    )
  }

  const platform = imagePlatform(config, chosen.indexPlatform, ref, warnings)
  if (opts.platform && !chosen.indexDigest && platform.os && !platformMatches(want, platform)) {
    // As for an index: analysing another platform than the one asked for would be a silent lie.
    throw new SlimError('not-found', `${ref} has no image for ${formatPlatform(want)}; it is a single-platform image for ${formatPlatform(platform)} (drop --platform or use --platform ${formatPlatform(platform)})`)
  }

  const layers = manifest.layers.map((desc, index) => {
    const kind = layerKind(desc.mediaType)
    const what = `${ref}: layer ${index} (${desc.digest})`
    if (kind.foreign) warnings.push(`layer ${index} is a foreign (non-distributable) layer${desc.urls?.length ? ` hosted at ${desc.urls[0]}` : ''}; it is read only if ${ref} contains it`)
    if (kind.encrypted) warnings.push(`layer ${index} is encrypted (${desc.mediaType}); its files cannot be analysed`)
    else if (!kind.known) warnings.push(`layer ${index} has the unexpected media type "${desc.mediaType}"; it is read by its magic bytes`)
    return new ResolvedLayer(index, desc, config.rootfs.diff_ids[index], what, kind.encrypted, !!source.layersVerifiedByDiffId, source, fetchVerified, opts.maxZstdWindow)
  })

  let closed = false
  return {
    reference: ref,
    transport: source.transport,
    ...(source.name ? { name: source.name } : {}),
    ...(source.tag ? { tag: source.tag } : {}),
    ...(chosen.digest ? { manifestDigest: chosen.digest } : {}),
    ...(chosen.indexDigest ? { indexDigest: chosen.indexDigest } : {}),
    manifest,
    manifestMediaType: chosen.mediaType,
    configDigest: manifest.config.digest,
    config,
    platform,
    layers,
    warnings,
    async close() {
      if (closed) return
      closed = true
      await source.close()
    },
  }
}

function notAnImage(ref: string, artifactType: string, manifest: ImageManifest): SlimError {
  const configType = manifest.config?.mediaType
  const detail = configType && configType !== artifactType ? ` (config ${configType})` : ''
  return new SlimError('unsupported', `${ref} is not a container image but an artifact of type ${artifactType}${detail}; slim analyses runnable images only`)
}

/** A blob fetch that failed for a foreign layer gets the message that explains why. */
function foreignLayerError(e: unknown, desc: Descriptor, what: string, ref: string): unknown {
  if (!isSlimError(e) || e.kind !== 'not-found' || !layerKind(desc.mediaType).foreign) return e
  const where = desc.urls?.length ? ` (its content lives at ${desc.urls[0]})` : ''
  return new SlimError('unsupported', `${what} is a foreign (non-distributable) layer that ${ref} does not contain${where}; slim does not download foreign layers`, { cause: e })
}

function imagePlatform(config: ImageConfig, fromIndex: Platform | undefined, ref: string, warnings: string[]): Platform {
  const p = configPlatform(config)
  if (p.os && p.architecture) {
    if (fromIndex && !isAttestationPlatform(fromIndex) && !platformMatches(normalizePlatform(fromIndex, { keepDefaultVariant: true }), p)) {
      warnings.push(`the index says ${formatPlatform(fromIndex)} but the image config says ${formatPlatform(p)}`)
    }
    return p
  }
  if (fromIndex) return { ...fromIndex, os: p.os || fromIndex.os, architecture: p.architecture || fromIndex.architecture }
  warnings.push(`${ref}: the image config does not name its ${p.os ? 'architecture' : p.architecture ? 'os' : 'os and architecture'}`)
  return p
}

/**
 * From the root document down to one image manifest. Each child of an index is fetched by digest
 * and verified against its descriptor (digest and size) before it is parsed.
 */
async function walkToManifest(
  source: ImageSource,
  rootDoc: ManifestDocument,
  rootDigest: string | undefined,
  want: Platform,
  warnings: string[],
  log: (msg: string) => void,
): Promise<Chosen> {
  const ref = source.reference
  if (rootDoc.kind === 'manifest') return { manifest: rootDoc.manifest, mediaType: rootDoc.mediaType, digest: rootDigest }
  const fetchChild = async (desc: Descriptor): Promise<ManifestDocument> => {
    const what = `${ref}: manifest ${desc.digest}`
    const { bytes, mediaType } = await source.manifest(desc)
    verifyBytes(bytes, { digest: desc.digest, size: desc.size }, what)
    return parseManifestDocument(bytes, what, mediaType ?? desc.mediaType)
  }
  const picked = await pickFromIndex(rootDoc.index, want, fetchChild, ref, 0, log)
  if ('platforms' in picked) {
    const have = [...new Set(picked.platforms)]
    if (have.length === 0) throw new SlimError('not-found', `${ref}: the image index lists no runnable images (only attestations or artifacts)`)
    throw new SlimError('not-found', `${ref} has no image for ${formatPlatform(want)}; it has: ${have.join(', ')} (choose one with --platform)`)
  }
  if (picked.note) warnings.push(picked.note)
  log(`${ref}: chose ${picked.desc.digest}${picked.desc.platform ? ` (${formatPlatform(picked.desc.platform)})` : ''}`)
  return {
    manifest: picked.doc.manifest,
    mediaType: picked.doc.mediaType,
    digest: picked.desc.digest,
    indexDigest: rootDigest,
    ...(picked.desc.platform ? { indexPlatform: picked.desc.platform } : {}),
  }
}

type Picked =
  | { desc: Descriptor; doc: Extract<ManifestDocument, { kind: 'manifest' }>; note?: string }
  | { platforms: string[] }

function isAttestation(d: Descriptor): boolean {
  return isAttestationPlatform(d.platform) || d.annotations?.[REFERENCE_TYPE_ANNOTATION] === 'attestation-manifest'
}

async function pickFromIndex(
  index: ImageIndex,
  want: Platform,
  fetchChild: (d: Descriptor) => Promise<ManifestDocument>,
  ref: string,
  depth: number,
  log: (msg: string) => void,
): Promise<Picked> {
  if (depth >= MAX_INDEX_DEPTH) throw new SlimError('format', `${ref}: image indexes nest more than ${MAX_INDEX_DEPTH} deep (a loop?)`)
  const artifactType = (index as ImageIndex & { artifactType?: string }).artifactType
  if (artifactType) throw new SlimError('unsupported', `${ref} is not a container image but an artifact index of type ${artifactType}; slim analyses runnable images only`)
  const entries = index.manifests.filter((d) => !isAttestation(d))
  const platforms: string[] = entries.filter((d) => d.platform).map((d) => formatPlatform(d.platform as Platform))

  // Follows one entry: a manifest is the answer; a nested index is searched in turn.
  const follow = async (desc: Descriptor, note?: string): Promise<Picked> => {
    const doc = await fetchChild(desc)
    if (doc.kind === 'manifest') return { desc, doc, ...(note ? { note } : {}) }
    log(`${ref}: descending into nested index ${desc.digest}`)
    const inner = await pickFromIndex(doc.index, want, fetchChild, ref, depth + 1, log)
    return inner
  }

  const i = selectPlatform(want, entries.map((d) => d.platform))
  if (i >= 0) return follow(entries[i])

  // Entries without a platform: nested indexes are searched; a lone manifest is taken as is.
  const unplatformed = entries.filter((d) => !d.platform)
  for (const d of unplatformed.filter((x) => isIndexMediaType(x.mediaType))) {
    const inner = await follow(d)
    if ('desc' in inner) return inner
    platforms.push(...inner.platforms)
  }
  const loneManifests = unplatformed.filter((x) => !isIndexMediaType(x.mediaType))
  if (loneManifests.length === 1 && platforms.length === 0) {
    const picked = await follow(loneManifests[0])
    if ('desc' in picked) return picked
    platforms.push(...picked.platforms)
  }
  return { platforms }
}

/** One layer, verified whichever way it is read. */
class ResolvedLayer implements Layer {
  readonly digest: string
  readonly verifiedDigest: string | undefined
  readonly mediaType: string
  readonly size: number

  constructor(
    readonly index: number,
    private readonly desc: Descriptor,
    readonly diffId: string | undefined,
    private readonly what: string,
    private readonly encrypted: boolean,
    private readonly byDiffId: boolean,
    private readonly source: ImageSource,
    private readonly fetchVerified: (desc: Descriptor, what: string) => Promise<Readable>,
    private readonly maxZstdWindow: number | undefined,
  ) {
    this.digest = desc.digest
    this.verifiedDigest = encrypted ? undefined : byDiffId && diffId ? diffId : desc.digest
    this.mediaType = desc.mediaType
    this.size = desc.size
  }

  compressed(): Promise<Readable> {
    return this.fetchVerified(this.desc, this.what)
  }

  async uncompressed(): Promise<Readable> {
    if (this.encrypted) {
      throw new SlimError('unsupported', `${this.what} is encrypted (${this.mediaType}); decrypt the image first (skopeo copy --decryption-key ...)`)
    }
    if (this.byDiffId && this.diffId) {
      // Archives are not content-addressed by compressed digest: check what matters, the tar.
      const { stream } = await decompressStream(await this.source.blob(this.desc), this.what, { requireTar: true, maxZstdWindow: this.maxZstdWindow })
      const verify = new VerifyStream({ digest: this.diffId }, `${this.what}: uncompressed content (diff ID ${this.diffId})`)
      pipeline(stream, verify, () => {})
      return verify
    }
    const { stream } = await decompressStream(await this.compressed(), this.what, { requireTar: true, maxZstdWindow: this.maxZstdWindow })
    return stream
  }
}
