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
import { ownerAccounts, programConfigNeeds } from './program-config.js'
import { portNeeds, programDataNeeds } from './program-data.js'
import { tmpNeed } from './tmp.js'
import { tzdataNeed } from './tzdata.js'
import { userNeeds } from './user.js'
import { replaceableWrapper, type ReplaceableWrapper } from './wrapper.js'

/** What one detector found: needs, and what it could not tell (gaps) or found wrong (findings). */
export interface DetectorResult {
  needs: Need[]
  gaps?: Gap[]
  findings?: Finding[]
}

/** One kind of need; every detector has this shape, whatever it looks at. */
export interface NeedDetector {
  name: string
  detect(input: NeedsInput): DetectorResult | Promise<DetectorResult>
}

const one = (n: Need | undefined): DetectorResult => ({ needs: n ? [n] : [] })

/**
 * In order: dlopen first (it extends the closure the others read); the order is also the order of
 * the needs in the output.
 */
export const DETECTORS: readonly NeedDetector[] = [
  { name: 'dlopen', detect: dlopenNeeds },
  // The program's own config: its modules join the closure before the detectors read imports.
  { name: 'program-config', detect: programConfigNeeds },
  { name: 'ca-certificates', detect: async (i) => one(await caCertificatesNeed(i)) },
  { name: 'tzdata', detect: async (i) => one(await tzdataNeed(i)) },
  { name: 'nss', detect: nssNeeds },
  { name: 'user', detect: userNeeds },
  { name: 'tmp', detect: (i) => one(tmpNeed(i)) },
  { name: 'locale', detect: async (i) => one(await localeNeed(i)) },
  { name: 'gconv', detect: (i) => one(gconvNeed(i)) },
  { name: 'program-data', detect: (i) => ({ needs: programDataNeeds(i) }) },
  { name: 'app-tree', detect: (i) => ({ needs: appTreeNeeds(i) }) },
  { name: 'ports', detect: (i) => ({ needs: portNeeds(i) }) },
  { name: 'shell', detect: async (i) => ({ needs: shellNeeds(i, await replaceableWrapper(i)) }) },
]

export async function collectNeeds(input: NeedsInput): Promise<{ needs: Need[]; gaps: Gap[]; findings: Finding[] }> {
  const needs: Need[] = []
  const gaps: Gap[] = []
  const findings: Finding[] = []
  for (const d of DETECTORS) {
    const r = await d.detect(input)
    needs.push(...r.needs)
    gaps.push(...(r.gaps ?? []))
    findings.push(...(r.findings ?? []))
  }
  // Owners of the files the needs name (after every detector): their passwd/group entries come along.
  const owners = await ownerAccounts(input, needs)
  if (owners) needs.push(owners)
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
function shellNeeds(input: NeedsInput, wrapper: ReplaceableWrapper | undefined): Need[] {
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
      ...(wrapper && program.shellReasons.length === 1 ? { replaceable: wrapper } : {}),
    })
  }
  for (const c of input.scriptCommands) {
    // The commands of a wrapper the final image replaces (its `mkdir -p`) do not run there.
    if (wrapper && c.script === wrapper.script) continue
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
