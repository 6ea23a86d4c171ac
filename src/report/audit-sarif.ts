/**
 * `slim audit --format sarif`: SARIF 2.1.0 (OASIS). One reportingDescriptor per check, one result
 * per finding (an image that breaks a rule), the image reference as the location (an artifact URI
 * `docker://REF` plus a logical location), and the remedy in the message. Without rules the
 * default thresholds of every check are reported as warnings, so the log is useful on its own.
 * Images that could not be audited are tool execution notifications, not results.
 */
import { CHECK_NAMES, CHECKS, parseRule } from '../audit/rules/parse.js'
import { evaluateRules } from '../audit/rules/evaluate.js'
import type { CheckName, RuleFailure, RuleInfo } from '../audit/rules/types.js'
import type { AuditDocument, AuditImage } from '../audit/types.js'

const SARIF_SCHEMA = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json'
const HELP_URI = 'https://github.com/slim-image/slim#slim-audit'

const NAMES: Record<CheckName, string> = {
  efficiency: 'LayerEfficiency',
  wasted: 'WastedBytes',
  'user-wasted': 'UserWasted',
  savings: 'SlimmingSavings',
  root: 'RunsAsRoot',
  shell: 'ShellPresent',
  'package-manager': 'PackageManagerPresent',
  setuid: 'SetuidFiles',
}

export function renderAuditSarif(doc: AuditDocument): string {
  const gate = doc.rules.length > 0
  const rules: RuleInfo[] = gate ? doc.rules : CHECK_NAMES.map((c) => parseRule(c))
  const findings = (i: AuditImage): RuleFailure[] => (gate ? i.failedRules : evaluateRules(i, rules))
  const ruleIndex = new Map(rules.map((r, n) => [r.id, n]))
  const results = doc.images.flatMap((image) =>
    findings(image).map((f) => ({
      ruleId: `slim/${f.check}`,
      ruleIndex: ruleIndex.get(f.rule) ?? 0,
      level: gate ? 'error' : 'warning',
      message: { text: `${image.reference}: ${f.figure} (limit ${f.threshold}). Fix: ${f.fix}` },
      locations: [location(image)],
      partialFingerprints: { imageRule: `${image.reference}|${image.platform ?? ''}|${f.check}` },
      properties: { digest: image.digest, platform: image.platform, rule: f.rule, figure: f.figure, threshold: f.threshold },
    })),
  )
  const notifications = doc.images
    .filter((i) => i.status === 'error')
    .map((i) => ({
      level: 'error',
      message: { text: `${i.reference} was not audited: ${i.error?.message ?? 'unknown error'}` },
      locations: [location(i)],
    }))
  const log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'slim',
            version: doc.tool.version,
            informationUri: 'https://github.com/slim-image/slim',
            rules: rules.map((r) => ({
              id: `slim/${r.check}`,
              name: NAMES[r.check],
              shortDescription: { text: r.text },
              fullDescription: { text: `${r.text} (rule ${r.id}).` },
              helpUri: HELP_URI,
              defaultConfiguration: { level: gate ? 'error' : 'warning' },
              properties: { rule: r.id, threshold: r.threshold, kind: CHECKS[r.check].kind },
            })),
          },
        },
        invocations: [{ executionSuccessful: true, toolExecutionNotifications: notifications }],
        results,
        properties: { totals: doc.totals },
      },
    ],
  }
  return JSON.stringify(log, null, 2)
}

function location(i: AuditImage) {
  return {
    physicalLocation: { artifactLocation: { uri: imageUri(i.reference) } },
    logicalLocations: [{ name: i.reference, fullyQualifiedName: i.platform ? `${i.reference} (${i.platform})` : i.reference, kind: 'image' }],
  }
}

/** docker://REF for registry references; a local source (oci:DIR:TAG, …) keeps its transport as the scheme. */
function imageUri(ref: string): string {
  const local = /^(docker-archive|oci-archive|oci|docker-daemon):(.*)$/.exec(ref)
  return local ? `${local[1]}:${encodeURI(local[2]!)}` : `docker://${encodeURI(ref)}`
}
