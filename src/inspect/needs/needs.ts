/**
 * Every run-time need beyond the DT_NEEDED closure, each with its reason, evidence and confidence.
 * dlopen'd libraries come first because they extend the closure, whose imports the later
 * detectors read (an NSS user may be a dlopen'd library).
 */
import type { Finding, Gap, Need } from '../types.js'
import { caCertificatesNeed } from './certs.js'
import { exists, withChain, type NeedsInput } from './context.js'
import { dlopenNeeds } from './dlopen.js'
import { gconvNeed, localeNeed } from './locale.js'
import { nssNeeds } from './nss.js'
import { portNeeds, programDataNeeds } from './program-data.js'
import { tmpNeed } from './tmp.js'
import { tzdataNeed } from './tzdata.js'
import { userNeeds } from './user.js'

export async function collectNeeds(input: NeedsInput): Promise<{ needs: Need[]; gaps: Gap[]; findings: Finding[] }> {
  const needs: Need[] = []
  const gaps: Gap[] = []
  const findings: Finding[] = []
  const dl = await dlopenNeeds(input)
  needs.push(...dl.needs)
  gaps.push(...dl.gaps)
  const certs = await caCertificatesNeed(input)
  if (certs) needs.push(certs)
  const tz = await tzdataNeed(input)
  if (tz) needs.push(tz)
  const nss = await nssNeeds(input)
  needs.push(...nss.needs)
  gaps.push(...nss.gaps)
  const user = await userNeeds(input)
  needs.push(...user.needs)
  findings.push(...user.findings)
  needs.push(tmpNeed(input))
  const locale = await localeNeed(input)
  if (locale) needs.push(locale)
  const gconv = gconvNeed(input)
  if (gconv) needs.push(gconv)
  needs.push(...programDataNeeds(input))
  needs.push(...appTreeNeeds(input))
  needs.push(...portNeeds(input))
  needs.push(...shellNeeds(input))
  for (const n of needs) {
    if (!n.present && n.confidence !== 'possible' && n.providedBy !== 'runtime') {
      findings.push({ severity: n.confidence === 'certain' ? 'error' : 'warning', code: 'need-missing', message: `${n.kind}: ${n.reason}` })
    }
  }
  return { needs, gaps, findings }
}

/** The interpreted app: its main file and the runtime's trees (stdlib, site-packages, node_modules, JAVA_HOME/lib). */
function appTreeNeeds(input: NeedsInput): Need[] {
  const rt = input.runtime
  if (!rt || rt.language === 'shell') return []
  const { rootfs } = input
  const out: Need[] = []
  if (rt.app.path) {
    const present = exists(rootfs, rt.app.path)
    out.push({
      kind: 'app-tree',
      paths: present ? withChain(rootfs, rt.app.path) : [],
      present,
      reason: `the ${rt.language} app's main ${rt.app.kind === 'jar' ? 'jar' : 'file'} ${rt.app.path}${present ? '' : ' is missing'}`,
      evidence: [`${rt.executable} ${input.program.argv.slice(1).join(' ')}`],
      confidence: 'certain',
    })
  }
  for (const t of rt.trees) {
    out.push({
      kind: 'app-tree',
      paths: withChain(rootfs, t),
      present: true,
      reason: t === rt.appDir ? `the app directory ${t}` : `${rt.language} ${rt.version ?? ''} loads code from ${t}`.replace('  ', ' '),
      evidence: [rt.versionEvidence ? `runtime version from ${rt.versionEvidence}` : `${rt.language} runtime ${rt.executable}`],
      confidence: 'likely',
    })
  }
  return out
}

/** A shell is needed when the command is shell form or passes through shell scripts; and the commands those scripts run. */
function shellNeeds(input: NeedsInput): Need[] {
  const { program } = input
  const out: Need[] = []
  if (program.shellReasons.length > 0) {
    out.push({
      kind: 'shell',
      paths: [...new Set(program.scripts)],
      present: true,
      reason: `a shell runs on the way to the program: ${program.shellReasons.join('; ')}`,
      evidence: program.shellReasons,
      confidence: 'certain',
    })
  }
  for (const c of input.scriptCommands) {
    const present = c.found !== undefined
    out.push({
      kind: 'script-command',
      paths: c.found ? [...new Set([c.found.path, ...c.found.symlinks, c.found.realPath])] : [],
      present,
      reason: `${c.script} runs \`${c.name}\` (line ${c.line})${c.conditional ? ' under a condition' : ''}${present ? '' : ', which is not in the image'}`,
      evidence: [`${c.script}:${c.line}`],
      confidence: c.conditional ? 'possible' : 'likely',
    })
  }
  return out
}
