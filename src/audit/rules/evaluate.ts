/**
 * Applies the rules to one image's audit record. Each failure is one line naming the figure, the
 * threshold it broke and the fix, so a CI log says what to do without opening the report.
 */
import { humanBytes } from '../../core/format.js'
import type { AuditImage } from '../types.js'
import { showThreshold } from './parse.js'
import type { CheckName, RuleFailure, RuleInfo } from './types.js'

const LAYER_FIX = 'delete or overwrite files in the same RUN that created them (or build in a stage and COPY only the result); `slim analyze IMAGE` lists the wasted paths'

export function evaluateRules(image: AuditImage, rules: readonly RuleInfo[]): RuleFailure[] {
  if (image.status !== 'ok') return []
  const out: RuleFailure[] = []
  for (const rule of rules) {
    const f = check(image, rule)
    if (f) out.push({ rule: rule.id, check: rule.check, ...f, message: `${rule.id}: ${f.figure} (limit ${f.threshold}); fix: ${f.fix}` })
  }
  return out
}

type Found = { figure: string; threshold: string; fix: string } | undefined

function check(img: AuditImage, rule: RuleInfo): Found {
  const t = rule.threshold ?? 0
  const shown = (v: number): string => showThreshold(rule.check, v)
  const c: CheckName = rule.check
  switch (c) {
    case 'efficiency':
      if (img.efficiency === null || img.efficiency >= t) return undefined
      return { figure: `efficiency ${shown(img.efficiency)}`, threshold: `>= ${shown(t)}`, fix: LAYER_FIX }
    case 'wasted':
      if (img.wastedBytes === null || img.wastedBytes <= t) return undefined
      return { figure: `wasted ${humanBytes(img.wastedBytes)}`, threshold: `<= ${shown(t)}`, fix: LAYER_FIX }
    case 'user-wasted':
      if (img.userWastedRatio === null || img.userWastedRatio <= t) return undefined
      return { figure: `user-wasted ${shown(img.userWastedRatio)}`, threshold: `<= ${shown(t)}`, fix: LAYER_FIX }
    case 'savings':
      if (img.estimatedSavingsRatio === null || img.estimatedSavingsRatio <= t) return undefined
      return {
        figure: `estimated savings ${shown(img.estimatedSavingsRatio)}${img.estimatedSavingsBytes !== null ? ` (${humanBytes(img.estimatedSavingsBytes)})` : ''}`,
        threshold: `<= ${shown(t)}`,
        fix: `rebuild on ${img.suggestedBase ?? 'the suggested base'} with the Dockerfile \`slim dockerfile IMAGE\` writes`,
      }
    case 'root':
      if (img.runsAsRoot !== true) return undefined
      return {
        figure: `runs as root (${img.rootReason ?? 'USER is root'})`,
        threshold: 'a non-root user',
        fix: 'add `USER 65532:65532` (or another non-root uid that owns what the program writes) to the final stage',
      }
    case 'shell':
      if (!img.shells || img.shells.length === 0) return undefined
      return {
        figure: `shell present (${img.shells.slice(0, 3).join(', ')}${img.shells.length > 3 ? ', …' : ''})`,
        threshold: 'no shell',
        fix: `use a base without a shell${img.suggestedBase ? ` such as ${img.suggestedBase}` : ' (distroless or scratch)'} and an exec-form ENTRYPOINT`,
      }
    case 'package-manager':
      if (!img.packageManagers || img.packageManagers.length === 0) return undefined
      return {
        figure: `package manager present (${img.packageManagers.join(', ')}${img.packageCount !== null ? `, ${img.packageCount} packages` : ''})`,
        threshold: 'no package manager',
        fix: `install packages in a build stage and copy the program onto a base without one${img.suggestedBase ? ` (${img.suggestedBase})` : ''}`,
      }
    case 'setuid':
      if (img.setuidCount === null || img.setuidCount === 0) return undefined
      return {
        figure: `${img.setuidCount} setuid file${img.setuidCount === 1 ? '' : 's'}`,
        threshold: 'none',
        fix: 'remove the setuid bit in the final stage (`RUN chmod u-s FILE…`, or COPY --chmod) or leave those programs out; `slim analyze IMAGE` lists them',
      }
  }
}
