/**
 * The audit document (schema/audit.schema.json): one record per image, totals, the rules applied.
 * Plain data, so shards can be written, merged and re-read, and src/report can render it.
 */
import type { AdviceConfidence } from '../advise/types.js'
import type { RuleFailure, RuleInfo } from './rules/types.js'

export const AUDIT_SCHEMA_VERSION = '1.0'

export type PackageManager = 'dpkg' | 'apk' | 'rpm'

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
  packageManagers: PackageManager[] | null
  packageCount: number | null
  setuidCount: number | null
  suggestedBase: string | null
  verdict: 'slim' | 'already-small' | 'keep' | 'nothing-to-run' | null
  estimatedSavingsBytes: number | null
  estimatedSavingsRatio: number | null
  confidence: AdviceConfidence | null
  advice: string | null
  failedRules: RuleFailure[]
}

export interface AuditTotals {
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

export interface AuditDocument {
  schemaVersion: string
  tool: { name: 'slim'; version: string }
  shard?: { index: number; count: number }
  rules: RuleInfo[]
  images: AuditImage[]
  totals: AuditTotals
}
