/**
 * The SourceImage advice needs, read from an opened image and (optionally) its layer index: the
 * pinning facts for the `source` stage, the config, per-layer sizes for "today's size", and the
 * distribution release from /etc/os-release.
 */
import type { Image } from '../image/types.js'
import type { LayerSummary } from '../layers/types.js'
import type { SourceImage } from './types.js'

export interface SourceFacts {
  /** The layer index's per-layer summaries (file bytes per layer). */
  layers?: readonly LayerSummary[]
  /** os-release of the image (collectFacts().os). */
  os?: { id?: string; versionId?: string }
}

export function sourceImageFrom(image: Image, facts: SourceFacts = {}): SourceImage {
  const byIndex = new Map((facts.layers ?? []).map((l) => [l.index, l]))
  return {
    reference: image.reference,
    transport: image.transport,
    ...(image.name ? { name: image.name } : {}),
    ...(image.tag ? { tag: image.tag } : {}),
    ...(image.manifestDigest ? { manifestDigest: image.manifestDigest } : {}),
    platform: image.platform,
    config: image.config.config ?? {},
    layers: image.layers.map((l) => {
      const s = byIndex.get(l.index)
      return { compressedSize: l.size, ...(s ? { fileBytes: s.fileBytes } : {}) }
    }),
    ...(facts.os?.id ? { distro: { id: facts.os.id, ...(facts.os.versionId ? { versionId: facts.os.versionId } : {}) } } : {}),
  }
}
