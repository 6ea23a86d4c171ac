/**
 * The slim image's config and manifest: the base's runtime settings with the plan's applied the
 * way the generated Dockerfile's instructions would (ENV adds to the base's, ENTRYPOINT resets an
 * inherited CMD, LABEL adds), the base's diff IDs and history plus the new layer's, and an OCI
 * manifest over the base's blobs and the new one. JSON is written with sorted keys so the same
 * input gives the same digests.
 */
import type { Plan } from '../advise/types.js'
import { digestOf } from '../core/digest.js'
import { MediaType, type ContainerConfig, type Descriptor, type ImageConfig, type Platform } from '../image/types.js'

export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip'

/** OCI media type of a base layer (Docker's twins carry the same bytes). */
export function ociLayerType(mediaType: string): string {
  switch (mediaType) {
    case 'application/vnd.docker.image.rootfs.diff.tar.gzip':
      return OCI_LAYER_GZIP
    case 'application/vnd.docker.image.rootfs.diff.tar':
      return 'application/vnd.oci.image.layer.v1.tar'
    case 'application/vnd.docker.image.rootfs.diff.tar.zstd':
      return 'application/vnd.oci.image.layer.v1.tar+zstd'
    default:
      return mediaType
  }
}

export interface AssembleInput {
  plan: Plan
  platform: Platform
  /** The base's config (undefined for scratch) and manifest digest. */
  baseConfig?: ImageConfig
  baseDigest?: string
  /** The base's layer blobs, in order (already OCI media types). */
  baseLayers: Descriptor[]
  layer: { digest: string; diffId: string; size: number }
  /** Time written into the config and history (the layer's mtimes use the same). */
  created: Date
  /** Where the copies came from, for the history entry. */
  sourceReference: string
}

export interface Assembled {
  config: Buffer
  configDigest: string
  manifest: Buffer
  manifestDigest: string
  layers: Descriptor[]
}

/** JSON with object keys sorted at every level: one byte sequence per value. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  )
}

export function runtimeConfig(plan: Plan, base: ContainerConfig | undefined, baseDigest: string | undefined): ContainerConfig {
  const rt = plan.runtime
  const env = new Map<string, string>()
  for (const kv of base?.Env ?? []) {
    const at = kv.indexOf('=')
    env.set(at < 0 ? kv : kv.slice(0, at), at < 0 ? '' : kv.slice(at + 1))
  }
  for (const [k, v] of rt.env) env.set(k, v)
  const labels: Record<string, string> = { ...(base?.Labels ?? {}), ...rt.labels }
  labels['org.opencontainers.image.base.name'] = plan.base.publicRef
  const digest = plan.base.digest ?? baseDigest
  if (digest) labels['org.opencontainers.image.base.digest'] = digest
  // ENTRYPOINT in the Dockerfile clears a CMD inherited from the base.
  const entrypoint = rt.entrypoint ?? base?.Entrypoint ?? undefined
  const cmd = rt.cmd ?? (rt.entrypoint !== undefined ? undefined : (base?.Cmd ?? undefined))
  const out: ContainerConfig = {
    User: plan.user.spec,
    Env: [...env].map(([k, v]) => `${k}=${v}`),
    WorkingDir: rt.workdir,
    Labels: labels,
  }
  if (entrypoint && entrypoint.length) out.Entrypoint = entrypoint
  if (cmd && cmd.length) out.Cmd = cmd
  const ports = [...new Set([...Object.keys(base?.ExposedPorts ?? {}), ...rt.exposedPorts])].sort()
  if (ports.length) out.ExposedPorts = Object.fromEntries(ports.map((p) => [p, {}]))
  const volumes = [...new Set([...Object.keys(base?.Volumes ?? {}), ...rt.volumes])].sort()
  if (volumes.length) out.Volumes = Object.fromEntries(volumes.map((v) => [v, {}]))
  const stop = rt.stopSignal ?? base?.StopSignal
  if (stop) out.StopSignal = stop
  if (rt.healthcheck) {
    const h = rt.healthcheck
    out.Healthcheck = { Test: h.test, Interval: h.interval, Timeout: h.timeout, StartPeriod: h.startPeriod, Retries: h.retries }
  }
  return out
}

export function assemble(input: AssembleInput): Assembled {
  const { plan, created } = input
  const when = created.toISOString()
  const copied = plan.copies.length
  const config: ImageConfig = {
    created: when,
    architecture: input.platform.architecture,
    os: input.platform.os,
    ...(input.platform.variant ? { variant: input.platform.variant } : {}),
    config: runtimeConfig(plan, input.baseConfig?.config, input.baseDigest),
    rootfs: { type: 'layers', diff_ids: [...(input.baseConfig?.rootfs.diff_ids ?? []), input.layer.diffId] },
    history: [
      ...(input.baseConfig?.history ?? []),
      { created: when, created_by: `slim build: ${copied} copies from ${input.sourceReference}`, comment: 'slim build' },
    ],
  }
  const configBytes = Buffer.from(canonicalJson(config))
  const configDigest = digestOf(configBytes)
  const layers: Descriptor[] = [...input.baseLayers, { mediaType: OCI_LAYER_GZIP, digest: input.layer.digest, size: input.layer.size }]
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configDigest, size: configBytes.length },
    layers,
  }
  const manifestBytes = Buffer.from(canonicalJson(manifest))
  return { config: configBytes, configDigest, manifest: manifestBytes, manifestDigest: digestOf(manifestBytes), layers }
}

/**
 * An OCI image index over several platforms' manifests (image-spec image-index.md: each entry a
 * manifest descriptor with its platform), written with sorted keys like the manifests.
 */
export function assembleIndex(images: { platform: Platform; assembled: Assembled }[]): { bytes: Buffer; digest: string } {
  const manifests = images.map(({ platform, assembled: a }) => ({
    mediaType: MediaType.ociManifest,
    digest: a.manifestDigest,
    size: a.manifest.length,
    platform: { os: platform.os, architecture: platform.architecture, ...(platform.variant ? { variant: platform.variant } : {}) },
  }))
  const bytes = Buffer.from(canonicalJson({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }))
  return { bytes, digest: digestOf(bytes) }
}
