/** The CI rules of `slim analyze --fail-on` and `slim audit`: what a rule is and what a failure says. */

export type CheckName = 'efficiency' | 'wasted' | 'user-wasted' | 'root' | 'shell' | 'package-manager' | 'setuid' | 'savings'

export interface RuleInfo {
  /** The rule as written ("efficiency<0.9"), canonical spacing. */
  id: string
  check: CheckName
  /** Bytes (wasted), a ratio (efficiency, user-wasted, savings), or null (yes/no checks). */
  threshold: number | null
  text: string
}

export interface RuleFailure {
  rule: string
  check: CheckName
  /** The figure as shown: "efficiency 0.72". */
  figure: string
  /** The limit broken: "< 0.9". */
  threshold: string
  /** One line naming the figure, the threshold and the fix. */
  message: string
  fix: string
}
