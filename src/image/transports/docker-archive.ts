import { createHash } from 'node:crypto'
import { SlimError } from '../../core/errors.js'
import { digestOf, isDigest } from '../../core/digest.js'
import { openOuterArchive, type OuterArchive } from '../archive/outer.js'
import type { TarEntry } from '../archive/tar-index.js'
import { detectCompression } from '../compression.js'
import { MAX_CONFIG_BYTES, parseJson } from '../manifest.js'
import { parseReference } from '../reference.js'
import type { ImageSource } from '../source.js'
import { MediaType, type Descriptor, type ImageManifest, type TransportName } from '../types.js'

/**
 * `docker-archive:PATH[:REF]`: a `docker save` tar. One reader covers the formats in the wild:
 * - legacy (Docker < 25, skopeo): manifest.json + `<id>/layer.tar` (possibly a tar symlink to
 *   another image's layer) + `<hex>.json` config + `repositories`;
 * - Docker 25+: an OCI layout plus a manifest.json whose paths are `blobs/sha256/<hex>`;
 * - kaniko/ggcr: gzip `<hex>.tar.gz` layers and a config literally named `sha256:<hex>`;
 * - any of these wrapped in gzip/xz (decompressed once to a temp file, see archive/outer.ts).
 * The archive has no manifest, so one is synthesised; layers are identified by their diff IDs
 * and resolveImage verifies their uncompressed bytes against those.
 */

const MAX_MANIFEST_JSON_BYTES = 16 * 1024 * 1024

interface ManifestJsonEntry {
  Config: string
  RepoTags: string[]
  Layers: string[]
  LayerSources?: Record<string, Descriptor>
}

export interface DockerArchiveOptions {
  transport?: TransportName
  /** Transport-qualified reference for messages; default `docker-archive:PATH[:REF]`. */
  reference?: string
  cacheDir?: string
  /** Bound on temp files (an unwrapped gzip archive); default DEFAULT_MAX_TEMP_BYTES. */
  maxTempBytes?: number
  /** How messages name the archive; default `docker-archive:PATH`. */
  display?: string
  /** Runs after the archive is closed (the daemon transport deletes its export here). */
  onClose?: () => Promise<void>
}


export async function openDockerArchive(path: string, ref: string | undefined, options: DockerArchiveOptions = {}): Promise<ImageSource> {
  const shown = options.display ?? `docker-archive:${path}`
  let archive: OuterArchive | undefined
  try {
    archive = await openOuterArchive(path, shown, { cacheDir: options.cacheDir, maxTempBytes: options.maxTempBytes })
    return await sourceFromArchive(archive, path, ref, options)
  } catch (e) {
    await archive?.close()
    await options.onClose?.()
    throw e
  }
}

function checkManifestJson(doc: unknown, shown: string): ManifestJsonEntry[] {
  if (doc === null) throw new SlimError('format', `${shown}: manifest.json is null; the archive holds no image, re-create it with docker save or skopeo copy`)
  if (!Array.isArray(doc)) throw new SlimError('format', `${shown}: manifest.json is not a list of images; this is not a docker save archive`)
  if (doc.length === 0) throw new SlimError('not-found', `${shown}: manifest.json lists no images; re-create the archive with docker save or skopeo copy`)
  return doc.map((e, i) => {
    const what = `${shown}: manifest.json entry ${i}`
    if (typeof e !== 'object' || e === null) throw new SlimError('format', `${what} is not an object`)
    const { Config, RepoTags, Layers, LayerSources } = e as Record<string, unknown>
    if (typeof Config !== 'string' || Config === '') throw new SlimError('format', `${what} has no Config file name`)
    if (!Array.isArray(Layers) || Layers.some((l) => typeof l !== 'string')) throw new SlimError('format', `${what} has no Layers list`)
    if (RepoTags !== undefined && RepoTags !== null && (!Array.isArray(RepoTags) || RepoTags.some((t) => typeof t !== 'string'))) {
      throw new SlimError('format', `${what} has invalid RepoTags`)
    }
    return {
      Config,
      Layers: Layers as string[],
      RepoTags: (RepoTags ?? []) as string[],
      ...(LayerSources && typeof LayerSources === 'object' ? { LayerSources: LayerSources as Record<string, Descriptor> } : {}),
    }
  })
}

/** Canonical form of a tag for comparison (`nginx` = `docker.io/library/nginx:latest`), or the raw text. */
function canonical(tag: string): string {
  try {
    return parseReference(tag).toString()
  } catch {
    return tag
  }
}

function chooseImage(entries: ManifestJsonEntry[], ref: string | undefined, shown: string): { entry: ManifestJsonEntry; tag?: string } {
  const listing = (): string =>
    entries
      .slice(0, 30)
      .map((e, i) => `@${i}${e.RepoTags.length ? ` (${e.RepoTags.join(', ')})` : ' (untagged)'}`)
      .join(', ')
  if (ref === undefined) {
    if (entries.length === 1) return { entry: entries[0], tag: entries[0].RepoTags[0] }
    throw new SlimError('usage', `${shown} holds ${entries.length} images; choose one by appending :TAG or :@N to the reference: ${listing()}`)
  }
  const at = /^@(\d+)$/.exec(ref)
  if (at) {
    const i = Number(at[1])
    if (i >= entries.length) throw new SlimError('not-found', `${shown}: there is no image @${i}; the archive has ${entries.length} (${listing()})`)
    return { entry: entries[i], tag: entries[i].RepoTags[0] }
  }
  const want = canonical(ref)
  for (const entry of entries) {
    const tag = entry.RepoTags.find((t) => t === ref || canonical(t) === want)
    if (tag) return { entry, tag }
  }
  throw new SlimError('not-found', `${shown}: no image tagged "${ref}"; the archive has: ${listing()}`)
}

const BLOB_PATH = /(?:^|\/)blobs\/sha256\/([a-f0-9]{64})$/
const HEX_NAMED_LAYER = /(?:^|\/)([a-f0-9]{64})\.tar(?:\.gz|\.gzip|\.zst|\.zstd|\.xz)?$/

function layerMediaType(compression: string): string {
  if (compression === 'gzip') return 'application/vnd.docker.image.rootfs.diff.tar.gzip'
  if (compression === 'zstd') return 'application/vnd.oci.image.layer.v1.tar+zstd'
  return 'application/vnd.docker.image.rootfs.diff.tar'
}

async function hashEntry(archive: OuterArchive, entry: TarEntry): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of archive.index.stream(entry)) hash.update(chunk as Buffer)
  return `sha256:${hash.digest('hex')}`
}

export async function sourceFromArchive(archive: OuterArchive, path: string, ref: string | undefined, options: DockerArchiveOptions): Promise<ImageSource> {
  const shown = archive.index.display
  const index = archive.index
  if (!index.get('manifest.json')) {
    if (index.get('repositories')) {
      throw new SlimError('unsupported', `${shown} is a pre-Docker-1.10 save (a repositories file but no manifest.json), which slim cannot read; re-save the image with a current docker save or skopeo copy`)
    }
    if (index.get('index.json')) throw new SlimError('format', `${shown} is an OCI archive without a docker manifest.json; open it as oci-archive:${path}`)
    throw new SlimError('format', `${shown} has no manifest.json; it is not a docker save archive`)
  }
  const entries = checkManifestJson(parseJson(await index.readFile('manifest.json', 'manifest.json', MAX_MANIFEST_JSON_BYTES), `${shown}: manifest.json`), shown)
  const { entry, tag } = chooseImage(entries, ref, shown)

  const blobs = new Map<string, TarEntry>()
  const configEntry = index.resolveFile(entry.Config, 'config')
  const configBytes = await index.readFile(entry.Config, 'config', MAX_CONFIG_BYTES)
  const configDigest = digestOf(configBytes)
  blobs.set(configDigest, configEntry)
  let diffIds: unknown[] = []
  try {
    const rootfs = (JSON.parse(configBytes.toString('utf8')) as { rootfs?: { diff_ids?: unknown } } | null)?.rootfs
    if (Array.isArray(rootfs?.diff_ids)) diffIds = rootfs.diff_ids
  } catch {
    // resolveImage reports a malformed config with its own message.
  }

  const foreign = new Map<string, Descriptor>()
  const layers: Descriptor[] = []
  for (const [i, layerPath] of entry.Layers.entries()) {
    const diffId = typeof diffIds[i] === 'string' && isDigest(diffIds[i] as string) ? (diffIds[i] as string) : undefined
    const source = diffId ? entry.LayerSources?.[diffId] : undefined
    let file: TarEntry
    try {
      file = index.resolveFile(layerPath, `layer ${i}`)
    } catch (e) {
      // ggcr/Docker 25+ may leave foreign layers out and describe them in LayerSources.
      if (e instanceof SlimError && e.kind === 'not-found' && source?.urls?.length && isDigest(source.digest)) {
        const d: Descriptor = { mediaType: source.mediaType, digest: source.digest, size: source.size, urls: source.urls }
        foreign.set(d.digest, d)
        layers.push(d)
        continue
      }
      throw e
    }
    const compression = detectCompression(await index.head(file, 6))
    const blobName = BLOB_PATH.exec(layerPath)?.[1]
    const hexName = HEX_NAMED_LAYER.exec(layerPath)?.[1]
    let digest: string
    if (blobName) digest = `sha256:${blobName}`
    else if (compression === 'none' && diffId) digest = diffId
    else if (compression !== 'none' && hexName) digest = `sha256:${hexName}`
    else digest = await hashEntry(archive, file)
    blobs.set(digest, file)
    const mediaType = source?.mediaType && source.digest === digest ? source.mediaType : layerMediaType(compression)
    layers.push({ mediaType, digest, size: file.size })
  }

  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.dockerManifest,
    config: { mediaType: MediaType.dockerConfig, digest: configDigest, size: configBytes.length },
    layers,
  }
  const manifestBytes = Buffer.from(JSON.stringify(manifest))
  let parsedTag: { name?: string; tag?: string } = {}
  if (tag) {
    try {
      const r = parseReference(tag)
      parsedTag = { name: r.name, ...(r.tag ? { tag: r.tag } : {}) }
    } catch {
      parsedTag = { tag }
    }
  }
  const transport = options.transport ?? 'docker-archive'
  let closed = false
  return {
    transport,
    reference: options.reference ?? `docker-archive:${path}${ref !== undefined ? `:${ref}` : ''}`,
    ...parsedTag,
    layersVerifiedByDiffId: true,
    synthesizedManifest: true,
    async root() {
      return { bytes: manifestBytes, mediaType: MediaType.dockerManifest }
    },
    async manifest(d) {
      throw new SlimError('internal', `${shown}: a docker-archive has no manifest ${d.digest}`)
    },
    async blob(d) {
      const file = blobs.get(d.digest)
      if (file) return index.stream(file)
      if (foreign.has(d.digest)) {
        throw new SlimError('not-found', `${shown}: layer ${d.digest} is a foreign layer that the archive does not contain (it lives at ${d.urls?.[0] ?? 'an external URL'})`)
      }
      throw new SlimError('not-found', `${shown}: blob ${d.digest} is not in the archive`)
    },
    async close() {
      if (closed) return
      closed = true
      await archive.close()
      await options.onClose?.()
    },
  }
}
