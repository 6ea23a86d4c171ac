/**
 * One image's audit record, from the pipeline's analysis (or from an error). The same record feeds
 * `slim analyze --fail-on`, so an image fails the same rules in both commands.
 */
import { describe, isSlimError } from '../core/errors.js'
import { formatPlatform } from '../image/platform.js'
import type { Analysis } from '../pipeline/index.js'
import type { RootFs } from '../layers/index.js'
import { evaluateRules } from './rules/evaluate.js'
import type { RuleInfo } from './rules/types.js'
import type { AuditImage, PackageManager } from './types.js'
import { resolveRunUser } from './user.js'

/** Programs that make an image a package-managed one (their database alone, as in distroless, does not). */
const PACKAGE_MANAGERS: Array<[PackageManager, string[]]> = [
  ['dpkg', ['dpkg', 'apt', 'apt-get']],
  ['apk', ['apk']],
  ['rpm', ['rpm', 'dnf', 'yum', 'microdnf', 'zypper']],
]
const BIN_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin']

export async function auditRecord(reference: string, a: Analysis, rules: readonly RuleInfo[]): Promise<AuditImage> {
  const { image, index, metrics, facts, advice } = a
  const run = await resolveRunUser(image.config.config?.User, index)
  const managers = packageManagers(index)
  const shells = facts.shells.map((s) => s.path)
  const estimate = advice.plan?.estimate
  let savingsBytes: number | null = null
  let savingsRatio: number | null = null
  if (advice.verdict === 'already-small') {
    savingsBytes = 0
    savingsRatio = 0
  } else if (advice.verdict === 'slim' && estimate?.totalBytes !== undefined && estimate.todayBytes > 0) {
    savingsBytes = Math.max(0, estimate.todayBytes - estimate.totalBytes)
    savingsRatio = savingsBytes / estimate.todayBytes
  }
  const counts = facts.packages.map((p) => p.count).filter((n): n is number => n !== undefined)
  const record: AuditImage = {
    reference,
    status: 'ok',
    error: null,
    digest: image.manifestDigest ?? null,
    platform: formatPlatform(image.platform),
    compressedBytes: image.layers.every((l) => l.size >= 0) ? image.layers.reduce((s, l) => s + l.size, 0) : null,
    uncompressedBytes: metrics?.dive.sizeBytes ?? null,
    layers: image.layers.length,
    efficiency: metrics?.dive.efficiency ?? null,
    wastedBytes: metrics?.dive.wastedBytes ?? null,
    userWastedRatio: metrics?.dive.userWastedPercent ?? null,
    deadBytes: metrics?.deadBytes.total ?? null,
    os: facts.os ? { id: facts.os.id, versionId: facts.os.versionId, prettyName: facts.os.prettyName } : null,
    baseFamily: baseFamily(a, shells.length > 0, managers.length > 0),
    user: run.user,
    runsAsRoot: run.runsAsRoot,
    rootReason: run.reason,
    shells,
    packageManagers: managers,
    packageCount: counts.length ? counts.reduce((s, n) => s + n, 0) : null,
    setuidCount: facts.setuid.length,
    suggestedBase: advice.verdict === 'slim' || advice.verdict === 'already-small' ? (advice.plan?.base.publicRef ?? advice.ranking[0]?.publicRef ?? null) : null,
    verdict: advice.verdict,
    estimatedSavingsBytes: savingsBytes,
    estimatedSavingsRatio: savingsRatio,
    confidence: advice.confidence,
    advice: advice.summary,
    failedRules: [],
  }
  record.failedRules = evaluateRules(record, rules)
  return record
}

/** The record of an image that could not be audited: the error, counted, and nothing else claimed. */
export function errorRecord(reference: string, e: unknown, known: { digest?: string; platform?: string } = {}): AuditImage {
  return {
    reference,
    status: 'error',
    error: { kind: isSlimError(e) ? e.kind : 'internal', message: isSlimError(e) ? e.message : `unexpected failure: ${describe(e)}` },
    digest: known.digest ?? null,
    platform: known.platform ?? null,
    compressedBytes: null,
    uncompressedBytes: null,
    layers: null,
    efficiency: null,
    wastedBytes: null,
    userWastedRatio: null,
    deadBytes: null,
    os: null,
    baseFamily: null,
    user: null,
    runsAsRoot: null,
    rootReason: null,
    shells: null,
    packageManagers: null,
    packageCount: null,
    setuidCount: null,
    suggestedBase: null,
    verdict: null,
    estimatedSavingsBytes: null,
    estimatedSavingsRatio: null,
    confidence: null,
    advice: null,
    failedRules: [],
  }
}

function packageManagers(rootfs: RootFs): PackageManager[] {
  const found: PackageManager[] = []
  for (const [manager, programs] of PACKAGE_MANAGERS) {
    const present = programs.some((p) => BIN_DIRS.some((d) => rootfs.stat(`${d}/${p}`)?.type === 'file'))
    if (present) found.push(manager)
  }
  return found
}

/** os-release ID; "distroless" for Debian without shell or package manager; "scratch" for no OS at all. */
function baseFamily(a: Analysis, hasShell: boolean, hasManager: boolean): string | null {
  const id = a.facts.os?.id
  if (id === 'debian' && !hasShell && !hasManager) return 'distroless'
  if (id) return id
  if (!hasShell && !hasManager && a.facts.packages.length === 0) return 'scratch'
  return null
}
