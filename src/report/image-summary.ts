import { formatPlatform } from '../image/platform.js'
import { imageIdentity, type ImageIdentity } from '../image/identity.js'
import type { Image } from '../image/types.js'

/** What `slim analyze` reports about the image itself (issue 2's first form of the command). */
export interface ImageSummary extends ImageIdentity {
  configMediaType: string
  platform: string
  created?: string
  config: {
    entrypoint?: string[] | null
    cmd?: string[] | null
    env: string[]
    user?: string
    workdir?: string
    exposedPorts: string[]
    volumes: string[]
    labels: Record<string, string>
    stopSignal?: string
    healthcheck?: string[]
  }
  history: { created?: string; createdBy?: string; emptyLayer: boolean; comment?: string }[]
  layers: { index: number; digest: string; diffId?: string; mediaType: string; size: number }[]
  compressedSize: number
  warnings: string[]
}

export function summarizeImage(image: Image): ImageSummary {
  const c = image.config.config ?? {}
  return {
    ...imageIdentity(image),
    configMediaType: image.manifest.config.mediaType,
    // The documents have always written an unknown os or architecture as empty ("/").
    platform: formatPlatform(image.platform, ''),
    created: image.config.created,
    config: {
      entrypoint: c.Entrypoint,
      cmd: c.Cmd,
      env: c.Env ?? [],
      user: c.User || undefined,
      workdir: c.WorkingDir || undefined,
      exposedPorts: Object.keys(c.ExposedPorts ?? {}),
      volumes: Object.keys(c.Volumes ?? {}),
      labels: c.Labels ?? {},
      stopSignal: c.StopSignal,
      healthcheck: c.Healthcheck?.Test,
    },
    history: (image.config.history ?? []).map((h) => ({
      created: h.created,
      createdBy: h.created_by,
      emptyLayer: !!h.empty_layer,
      comment: h.comment,
    })),
    layers: image.layers.map((l) => ({ index: l.index, digest: l.digest, diffId: l.diffId, mediaType: l.mediaType, size: l.size })),
    compressedSize: image.layers.reduce((s, l) => s + Math.max(0, l.size), 0),
    warnings: [...image.warnings],
  }
}
