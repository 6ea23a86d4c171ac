/** A hand-made audit document (valid against schema/audit.schema.json) with hostile strings, for the HTML tests. */
import type { AuditDocument } from '../../src/audit/types.js'
import { HOSTILE } from './hostile-archive.js'

export function auditDoc(): AuditDocument {
  const img = (reference: string, savings: number | null, extra: Partial<AuditDocument['images'][number]> = {}): AuditDocument['images'][number] => ({
    reference, status: 'ok', error: null, digest: `sha256:${'a'.repeat(64)}`, platform: 'linux/amd64', compressedBytes: 30_000_000,
    uncompressedBytes: 80_000_000, layers: 5, efficiency: 0.93, wastedBytes: 4_000_000, userWastedRatio: 0.1, deadBytes: 2_000_000,
    os: { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' }, baseFamily: 'debian', user: '', runsAsRoot: true,
    rootReason: 'USER is unset', shells: ['/bin/sh'], packageManagers: ['dpkg'], packageCount: 90, setuidCount: 3,
    suggestedBase: 'distroless/cc-debian12', verdict: 'slim', estimatedSavingsBytes: savings, estimatedSavingsRatio: savings === null ? null : savings / 80_000_000,
    confidence: 'high', advice: 'slim to distroless/cc-debian12', failedRules: [], ...extra,
  })
  return {
    schemaVersion: '1.0',
    tool: { name: 'slim', version: '0.1.0' },
    rules: [{ id: 'efficiency<0.95', check: 'efficiency', threshold: 0.95, text: 'efficiency must be at least 0.95' }],
    images: [
      img('registry.local:5000/team/api:1.2', 60_000_000, {
        failedRules: [{ rule: 'efficiency<0.95', check: 'efficiency', figure: 'efficiency 0.93', threshold: '< 0.95', message: 'efficiency 0.93 < 0.95: remove files in the layer that adds them', fix: 'remove files in the layer that adds them' }],
      }),
      img('registry.local:5000/team/api:1.1', 50_000_000),
      img(`registry.local:5000/${HOSTILE[1].replace(/[^a-z0-9]/g, '')}/web:2`, 20_000_000, { advice: HOSTILE[0], user: HOSTILE[2] }),
      { ...img('registry.local:5000/team/broken:1', null), status: 'error', error: { kind: 'network', message: HOSTILE[3] }, digest: null, platform: null, compressedBytes: null, uncompressedBytes: null, layers: null, efficiency: null, wastedBytes: null, userWastedRatio: null, deadBytes: null, os: null, baseFamily: null, user: null, runsAsRoot: null, rootReason: null, shells: null, packageManagers: null, packageCount: null, setuidCount: null, suggestedBase: null, verdict: null, estimatedSavingsRatio: null, confidence: null, advice: null },
    ],
    totals: {
      images: 4, analyzed: 3, errors: 1, compressedBytes: 90_000_000, uncompressedBytes: 240_000_000, wastedBytes: 12_000_000, deadBytes: 6_000_000,
      estimatedSavingsBytes: 130_000_000, runAsRoot: 3, withShell: 3, withPackageManager: 3, failingImages: 1, ruleFailures: { 'efficiency<0.95': 1 },
    },
  }
}

