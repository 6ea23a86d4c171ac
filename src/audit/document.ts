/**
 * The audit document: records sorted by estimated savings (largest first), totals, the rules.
 * `mergeDocuments` joins shard documents into the one an unsharded run would have written.
 */
import { SlimError } from '../core/errors.js'
import type { RuleInfo } from './rules/types.js'
import { AUDIT_SCHEMA_VERSION, type AuditDocument, type AuditImage, type AuditTotals } from './types.js'

export function auditDocument(version: string, rules: readonly RuleInfo[], images: readonly AuditImage[], shard?: { index: number; count: number }): AuditDocument {
  const sorted = [...images].sort(compareImages)
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    tool: { name: 'slim', version },
    ...(shard && shard.count > 1 ? { shard } : {}),
    rules: [...rules],
    images: sorted,
    totals: totalsOf(sorted),
  }
}

export function compareImages(a: AuditImage, b: AuditImage): number {
  const sa = a.estimatedSavingsBytes ?? -1
  const sb = b.estimatedSavingsBytes ?? -1
  if (sa !== sb) return sb - sa
  if (a.reference !== b.reference) return a.reference < b.reference ? -1 : 1
  const pa = a.platform ?? ''
  const pb = b.platform ?? ''
  return pa < pb ? -1 : pa > pb ? 1 : 0
}

export function totalsOf(images: readonly AuditImage[]): AuditTotals {
  const t: AuditTotals = {
    images: images.length,
    analyzed: 0,
    errors: 0,
    compressedBytes: 0,
    uncompressedBytes: 0,
    wastedBytes: 0,
    deadBytes: 0,
    estimatedSavingsBytes: 0,
    runAsRoot: 0,
    withShell: 0,
    withPackageManager: 0,
    failingImages: 0,
    ruleFailures: {},
  }
  for (const i of images) {
    if (i.status === 'error') {
      t.errors++
      continue
    }
    t.analyzed++
    t.compressedBytes += i.compressedBytes ?? 0
    t.uncompressedBytes += i.uncompressedBytes ?? 0
    t.wastedBytes += i.wastedBytes ?? 0
    t.deadBytes += i.deadBytes ?? 0
    t.estimatedSavingsBytes += i.estimatedSavingsBytes ?? 0
    if (i.runsAsRoot) t.runAsRoot++
    if (i.shells?.length) t.withShell++
    if (i.packageManagers?.length) t.withPackageManager++
    if (i.failedRules.length) t.failingImages++
    for (const f of i.failedRules) t.ruleFailures[f.rule] = (t.ruleFailures[f.rule] ?? 0) + 1
  }
  return t
}

/** Checks the shape `merge` relies on; a one-line error names the file and the problem. */
export function readAuditDocument(text: string, what: string): AuditDocument {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new SlimError('format', `${what}: not JSON; give files written by slim audit --format json`)
  }
  const d = doc as Partial<AuditDocument> | null
  if (!d || typeof d !== 'object' || typeof d.schemaVersion !== 'string' || !Array.isArray(d.images) || !Array.isArray(d.rules)) {
    throw new SlimError('format', `${what}: not a slim audit document (no schemaVersion, rules and images); give files written by slim audit --format json`)
  }
  if (d.schemaVersion.split('.')[0] !== AUDIT_SCHEMA_VERSION.split('.')[0]) {
    throw new SlimError('format', `${what}: audit schema ${d.schemaVersion}, this slim reads ${AUDIT_SCHEMA_VERSION.split('.')[0]}.x; re-run the audit with this version`)
  }
  for (const i of d.images) {
    if (!i || typeof i !== 'object' || typeof i.reference !== 'string' || (i.status !== 'ok' && i.status !== 'error') || !Array.isArray(i.failedRules)) {
      throw new SlimError('format', `${what}: an image record lacks reference, status or failedRules; the file is damaged`)
    }
  }
  return d as AuditDocument
}

/**
 * One document from several (shards, or audits of different registries). The same image
 * (reference and platform) in two files is kept once: the successful record wins over an error.
 */
export function mergeDocuments(version: string, docs: readonly AuditDocument[]): AuditDocument {
  const rules = new Map<string, RuleInfo>()
  for (const d of docs) for (const r of d.rules) if (!rules.has(r.id)) rules.set(r.id, r)
  const byKey = new Map<string, AuditImage>()
  for (const d of docs) {
    for (const i of d.images) {
      const key = `${i.reference} ${i.platform ?? ''}`
      const had = byKey.get(key)
      if (!had || (had.status === 'error' && i.status === 'ok')) byKey.set(key, i)
    }
  }
  return auditDocument(version, [...rules.values()], [...byKey.values()])
}
