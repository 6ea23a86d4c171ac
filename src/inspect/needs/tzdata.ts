/**
 * Time zone data. glibc's localtime/tzset read TZ, /etc/localtime and /usr/share/zoneinfo (TZDIR);
 * Go's time package reads the same files for time.Local and time.LoadLocation unless the binary
 * embeds the database (the timetzdata tag or an import of time/tzdata); Java carries its own
 * (JAVA_HOME/lib/tzdb.dat). Without the files programs silently fall back to UTC, so the need is
 * "likely" only when the image asks for a zone (TZ) or the program looks zones up by name.
 */
import { sourceIndexOf } from '../../core/byte-source.js'
import type { Confidence, Need } from '../types.js'
import { exists, importEvidence, withChain, type NeedsInput } from './context.js'

const TZ_SYMBOLS = ['tzset', 'localtime', 'localtime_r', 'mktime', 'strftime', 'timelocal']

export async function tzdataNeed(input: NeedsInput): Promise<Need | undefined> {
  const { rootfs } = input
  const env = input.program.env
  const evidence: string[] = []
  let confidence: Confidence | undefined
  const go = input.go
  if (go) {
    if (go.timetzdata || go.packages.timeTzdata.linked) {
      return {
        kind: 'tzdata',
        paths: [],
        present: true,
        reason: 'the Go binary embeds the time zone database (time/tzdata), it needs no zoneinfo files',
        evidence: [go.timetzdata ? 'build tag timetzdata' : `time/tzdata linked (${go.packages.timeTzdata.evidence ?? ''})`],
        confidence: 'certain',
      }
    }
    evidence.push('Go programs read /etc/localtime and /usr/share/zoneinfo for local time and time.LoadLocation')
    confidence = (await goLoadsLocations(input)) ? 'likely' : 'possible'
    if (confidence === 'likely') evidence.push('the binary contains time.LoadLocation')
  }
  if (input.runtime?.language === 'java') return undefined // the JDK's tzdb.dat is part of its lib tree
  const imports = importEvidence(input, TZ_SYMBOLS)
  if (imports.evidence.length > 0) {
    evidence.push(...imports.evidence)
    confidence ??= 'possible'
  }
  if (input.runtime?.language === 'python' || input.runtime?.language === 'php' || input.runtime?.language === 'ruby') {
    evidence.push(`${input.runtime.language} apps commonly convert time zones with the system database`)
    confidence ??= 'possible'
  }
  const tz = env.TZ
  if (tz !== undefined && tz !== '') {
    evidence.push(`Env sets TZ=${tz}`)
    confidence = 'likely'
  }
  if (!confidence) return undefined

  const tzdir = env.TZDIR ?? '/usr/share/zoneinfo'
  const paths: string[] = []
  // TZ=":Europe/Paris" or "Europe/Paris" names a file; POSIX strings like "CET-1CEST" need none.
  const zone = tz?.replace(/^:/, '')
  const zoneFile = zone && /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone) && !/^[A-Z]{3,}[-+]?\d/.test(zone) ? (zone.startsWith('/') ? zone : `${tzdir}/${zone}`) : undefined
  if (zoneFile) paths.push(...withChain(rootfs, zoneFile))
  else if (exists(rootfs, tzdir)) paths.push(...withChain(rootfs, tzdir))
  for (const f of ['/etc/localtime', '/etc/timezone']) if (rootfs.lstat(f)) paths.push(...withChain(rootfs, f))
  const present = zoneFile ? exists(rootfs, zoneFile) : exists(rootfs, tzdir)
  return {
    kind: 'tzdata',
    paths: [...new Set(paths)],
    present,
    reason: zoneFile
      ? `TZ names the zone ${zone}: the program reads ${zoneFile}${present ? '' : ', which is missing (times will be UTC)'}`
      : `the program converts times to local time or named zones, reading ${tzdir}${present ? '' : ' (missing: local time is UTC, named zones fail)'}`,
    evidence,
    confidence,
  }
}

async function goLoadsLocations(input: NeedsInput): Promise<boolean> {
  const path = input.program.realPath
  if (!path) return false
  try {
    return sourceIndexOf(await input.open(path), Buffer.from('time.LoadLocation')) >= 0
  } catch {
    return false
  }
}
