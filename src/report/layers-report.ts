import type { ImageFacts, LayerIndex, LayerMetrics, LayerSummary } from '../layers/index.js'

/** The layer part of the analysis document: per-layer figures, waste, and auditor facts. */
export interface LayersReport {
  /** Sum of the uncompressed tar streams. */
  uncompressedSize: number
  /** dive's image size (sum of tar header sizes). */
  sizeBytes: number
  layers: LayerSummary[]
  metrics: LayerMetrics
  facts: ImageFacts
  warnings: string[]
}

/** `index` is the merged index, or the same figures kept as plain data (the analysis result cache). */
export function layersReport(index: Pick<LayerIndex, 'layers' | 'sizeBytes' | 'warnings'>, metrics: LayerMetrics, facts: ImageFacts): LayersReport {
  return {
    uncompressedSize: index.layers.reduce((s, l) => s + l.tarBytes, 0),
    sizeBytes: index.sizeBytes,
    layers: [...index.layers],
    metrics,
    facts,
    warnings: [...index.warnings],
  }
}
