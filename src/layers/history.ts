/**
 * Which config history entry made which layer. History lists every build step, but steps that only
 * change the config (ENV, CMD, ...) carry `empty_layer: true` and made no layer: they are skipped,
 * and the remaining entries pair with the layers in order (what docker history and dive do).
 */
import type { HistoryEntry } from '../image/types.js'

export interface LayerHistory {
  createdBy?: string
  comment?: string
  created?: string
}

export function historyByLayer(history: readonly HistoryEntry[] | undefined, layerCount: number): { layers: LayerHistory[]; warning?: string } {
  const layers: LayerHistory[] = Array.from({ length: layerCount }, () => ({}))
  if (!history || history.length === 0) {
    return { layers, warning: layerCount > 0 ? 'the image config has no history: layers have no created_by' : undefined }
  }
  const withLayer = history.filter((h) => h.empty_layer !== true)
  withLayer.slice(0, layerCount).forEach((h, i) => {
    layers[i] = { createdBy: h.created_by, comment: h.comment, created: h.created }
  })
  let warning: string | undefined
  if (withLayer.length !== layerCount) {
    warning =
      `the image config history has ${withLayer.length} entries that made a layer but the image has ${layerCount} layers: ` +
      `created_by is paired in order and may be misattributed${withLayer.length < layerCount ? ` (the last ${layerCount - withLayer.length} layers have none)` : ''}`
  }
  return { layers, warning }
}
