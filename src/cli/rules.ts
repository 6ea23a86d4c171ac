/**
 * CLI wiring of the CI rules shared by `analyze` and `audit`: the flags, where the rules come
 * from, and the exit code 3 that says "a rule failed" (1 is an error, 2 a usage error).
 */
import { Flags } from '@oclif/core'
import { loadRules, type RuleSource } from '../audit/rules/config.js'
import type { RuleFailure } from '../audit/rules/types.js'
import { redact } from '../core/redact.js'

export const RULE_FAILED_EXIT = 3

export const ruleFlags = {
  'fail-on': Flags.string({
    description: 'Exit 3 when the image breaks one of these rules: efficiency<0.9, wasted>20MB, user-wasted>10%, savings>50%, root, shell, package-manager, setuid (comma-separated; default: the fail-on list of ./.slim.yml, if any).',
    helpGroup: 'RULES',
    exclusive: ['rules'],
  }),
  rules: Flags.string({ description: 'Read the rules from this YAML file ("fail-on: [efficiency<0.9, root]") instead of ./.slim.yml.', helpGroup: 'RULES' }),
}

export function rulesFromFlags(flags: { 'fail-on'?: string; rules?: string }): Promise<RuleSource> {
  return loadRules({ failOn: flags['fail-on'], rulesFile: flags.rules })
}

/** One stderr line per failed rule (prefixed with the image when several are audited); sets exit code 3. */
export function reportRuleFailures(failures: Array<{ image?: string; failure: RuleFailure }>): void {
  for (const { image, failure } of failures) {
    process.stderr.write(`slim: rule failed: ${redact(image ? `${image}: ${failure.message}` : failure.message)}\n`)
  }
  if (failures.length > 0) process.exitCode = RULE_FAILED_EXIT
}
