/**
 * The shape of the audit document (schema/audit.schema.json) as the HTML renderer reads it.
 * The audit stage (src/audit/types.ts) owns these types; until it lands on this branch the renderer
 * names the fields it reads here. When wiring, replace this file's use with
 * `import type { AuditDocument, AuditImage } from '../../audit/types.js'` (same fields).
 */
export interface AuditRuleFailure {
  rule: string
  check?: string
  figure: string
  threshold: string
  message: string
  fix: string
}

export interface AuditImage {
  reference: string
  status: 'ok' | 'error'
  error: { kind: string; message: string } | null
  digest: string | null
  platform: string | null
  compressedBytes: number | null
  uncompressedBytes: number | null
  layers: number | null
  efficiency: number | null
  wastedBytes: number | null
  userWastedRatio: number | null
  deadBytes: number | null
  os: { id?: string; versionId?: string; prettyName?: string } | null
  baseFamily: string | null
  user: string | null
  runsAsRoot: boolean | null
  rootReason: string | null
  shells: string[] | null
  packageManagers: string[] | null
  packageCount: number | null
  setuidCount: number | null
  suggestedBase: string | null
  verdict: 'slim' | 'already-small' | 'keep' | 'nothing-to-run' | null
  estimatedSavingsBytes: number | null
  estimatedSavingsRatio: number | null
  confidence: 'high' | 'medium' | 'low' | null
  advice: string | null
  failedRules: AuditRuleFailure[]
}

export interface AuditDocument {
  schemaVersion: string
  tool: { name: 'slim'; version: string }
  shard?: { index: number; count: number }
  rules: Array<{ id: string; check: string; threshold: number | null; text: string }>
  images: AuditImage[]
  totals: {
    images: number
    analyzed: number
    errors: number
    compressedBytes: number
    uncompressedBytes: number
    wastedBytes: number
    deadBytes: number
    estimatedSavingsBytes: number
    runAsRoot: number
    withShell: number
    withPackageManager: number
    failingImages: number
    ruleFailures: Record<string, number>
  }
}
