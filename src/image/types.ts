import type { Readable } from 'node:stream'

/** OCI media types slim understands, and their Docker twins. */
export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociDescriptor: 'application/vnd.oci.descriptor.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const

export interface Platform {
  os: string
  architecture: string
  variant?: string
  'os.version'?: string
  'os.features'?: string[]
}

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  urls?: string[]
  annotations?: Record<string, string>
  platform?: Platform
  artifactType?: string
}

export interface ImageManifest {
  schemaVersion: number
  mediaType?: string
  artifactType?: string
  config: Descriptor
  layers: Descriptor[]
  subject?: Descriptor
  annotations?: Record<string, string>
}

export interface ImageIndex {
  schemaVersion: number
  mediaType?: string
  manifests: Descriptor[]
  annotations?: Record<string, string>
}

export interface HistoryEntry {
  created?: string
  created_by?: string
  author?: string
  comment?: string
  empty_layer?: boolean
}

export interface HealthConfig {
  Test?: string[]
  Interval?: number
  Timeout?: number
  StartPeriod?: number
  Retries?: number
}

/** The runtime part of an image config (`config` in the OCI image spec). */
export interface ContainerConfig {
  User?: string
  ExposedPorts?: Record<string, object>
  Env?: string[]
  Entrypoint?: string[] | null
  Cmd?: string[] | null
  Volumes?: Record<string, object>
  WorkingDir?: string
  Labels?: Record<string, string>
  StopSignal?: string
  Healthcheck?: HealthConfig
  Shell?: string[]
}

export interface ImageConfig {
  architecture: string
  os: string
  variant?: string
  'os.version'?: string
  created?: string
  author?: string
  config?: ContainerConfig
  rootfs: { type: string; diff_ids: string[] }
  history?: HistoryEntry[]
}

/** skopeo's transport names; `docker` is the default for a bare reference. */
export type TransportName = 'docker' | 'docker-archive' | 'oci' | 'oci-archive' | 'docker-daemon'

/**
 * One layer of an image, whatever the source. Streams are lazy: nothing is read until asked.
 * Both streams are verified while they flow: they emit an error at the end (before 'end') when
 * the size or digest is wrong, so a consumer must discard what it derived from a stream that
 * errored.
 */
export interface Layer {
  /** 0-based position in the manifest. */
  readonly index: number
  /** Digest of the blob as stored (compressed). For archives that only know diff IDs, the diff ID. */
  readonly digest: string
  /** Uncompressed digest from the config's rootfs.diff_ids, when the config has one for this layer. */
  readonly diffId?: string
  /**
   * The digest that reading this layer checks its bytes against: the stored digest, or the diff ID
   * for archives whose layers are verified by it. A read that ended without an error saw bytes with
   * this digest, so what was derived from them may be kept under it. Undefined: nothing is checked.
   */
  readonly verifiedDigest?: string
  readonly mediaType: string
  /** Stored (compressed) size in bytes; -1 when the source does not say. */
  readonly size: number
  /** The stored bytes, verified against `digest` (and `size`). */
  compressed(): Promise<Readable>
  /**
   * The tar stream: the stored bytes decompressed by their magic bytes (gzip, zstd, xz or none,
   * whatever the media type claims), verified against the stored digest when known, else the diff ID.
   */
  uncompressed(): Promise<Readable>
}

/** One image, already resolved to a single platform. */
export interface Image {
  /** The reference as the user gave it, transport-qualified (e.g. `docker://docker.io/library/nginx:latest`). */
  readonly reference: string
  readonly transport: TransportName
  /** Registry/repository name when known (e.g. `docker.io/library/nginx`); used for pinning in Dockerfiles. */
  readonly name?: string
  readonly tag?: string
  /** Digest of the manifest bytes. Sources without a manifest (docker-archive) synthesise none: undefined. */
  readonly manifestDigest?: string
  /** Digest of the index the manifest was chosen from, when there was one. */
  readonly indexDigest?: string
  readonly manifest: ImageManifest
  /** Media type of the manifest (the document's, or the one the source reported). */
  readonly manifestMediaType: string
  readonly configDigest: string
  readonly config: ImageConfig
  readonly platform: Platform
  readonly layers: readonly Layer[]
  /** Things the user should know that are not errors (e.g. "index lists 11 platforms, only 1 present"). */
  readonly warnings: readonly string[]
  /** Releases resources (temp files of a daemon export, open handles). Safe to call twice. */
  close(): Promise<void>
}

/** Options every transport understands. */
export interface OpenOptions {
  /** Wanted platform; default: the host's (linux/<node arch>). */
  platform?: Platform
  /** Blob cache directory; undefined disables caching. */
  cacheDir?: string
  /** Per-registry settings, credentials and TLS; ignored by local transports. */
  registry?: RegistryOptions
  /** Debug logger (already redacted by the caller's sink); default: nothing. */
  log?: (msg: string) => void
  /** Largest zstd window a layer may ask for (default DEFAULT_MAX_ZSTD_WINDOW, 128 MiB). */
  maxZstdWindow?: number
  /** Bound on the bytes written to temp files (unwrapped archives, daemon exports); default 32 GiB. */
  maxTempBytes?: number
  /** Registry mirrors for `docker://` images ("docker.io" -> "registry.internal:5000"): a reference
   * under a key is read from the mirror instead (reference.ts applyMirror), for air-gapped hosts. */
  registryMirrors?: Readonly<Record<string, string>>
}

export interface RegistryOptions {
  /** Hosts that may be reached over plain http (localhost and 127.0.0.0/8 always may). */
  insecureRegistries?: string[]
  /** Explicit credentials (from --username/--password-stdin). */
  username?: string
  password?: string
  /** Directory with <host>/ca.crt, client.cert, client.key (Docker's certs.d layout), or a flat dir of *.crt. */
  certDir?: string
  /** Docker config dir (default $DOCKER_CONFIG or ~/.docker). */
  dockerConfigDir?: string
  /** Extra auth.json path (default $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json). */
  authFile?: string
  /** Total retries on 429/5xx/resets. */
  retries?: number
  /** How to wait between retries (tests record the waits instead of sleeping). */
  sleep?: (ms: number) => Promise<void>
  /** Base backoff in ms (tests shorten it). */
  backoffMs?: number
  /** Request timeout in ms. */
  timeoutMs?: number
}
