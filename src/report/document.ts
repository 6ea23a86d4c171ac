import { gapText } from '../advise/gaps.js'
import type { Advice } from '../advise/types.js'
import type { Inspection } from '../inspect/types.js'
import type { ImageSummary } from './image-summary.js'
import type { LayersReport } from './layers-report.js'
import { REPORT_SCHEMA_VERSION } from './schema.js'

/** The advice as both documents carry it: its gaps written as their text (the schemas' strings). */
function adviceJson(advice: Advice) {
  return { ...advice, gaps: advice.gaps.map(gapText) }
}

/** The `slim analyze --json` document (described by schema/analysis.schema.json). The inspection's
 * gaps keep their area and message. */
export function analysisDocument(version: string, image: ImageSummary, layers: LayersReport, inspection: Inspection, advice: Advice) {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'slim', version },
    image,
    layers,
    inspection: { ...inspection, files: inspection.files },
    advice: adviceJson(advice),
  }
}

/** The `slim dockerfile --json` document (schema/dockerfile.schema.json): the image it is about and
 * the same advice object `slim analyze --json` carries, its Dockerfile as written. */
export function dockerfileDocument(version: string, image: ImageSummary, advice: Advice) {
  const { reference, name, tag, manifestDigest, platform } = image
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'slim', version },
    image: { reference, name, tag, manifestDigest, platform },
    advice: adviceJson(advice),
  }
}
