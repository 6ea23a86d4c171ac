/**
 * The final stage's runtime settings, carried over from the source config: WORKDIR, ENV (minus
 * what only mattered while building), EXPOSE, VOLUME, STOPSIGNAL, labels, HEALTHCHECK when its
 * command still exists, and the command in exec form. A shell-form command is turned into exec
 * form when the base has no shell and inspection read the string without needing one.
 */
import type { ContainerConfig } from '../image/types.js'
import type { Inspection } from '../inspect/types.js'
import type { Evaluated } from './decide.js'
import { launcherInHome } from './plan.js'
import { canQuote, durationNs, isEnvName, isLabelKey, isPort, isSignal, retriesCount } from './dockerfile-escape.js'
import type { Copy, RuntimeConfig } from './types.js'

/** Env set only for the build (package managers, download checksums): useless or misleading at run time. */
const BUILD_ONLY_NAMES = new Set(['DEBIAN_FRONTEND', 'DEBCONF_NONINTERACTIVE_SEEN', 'APT_KEY_DONT_WARN_ON_DANGEROUS_USAGE', 'GPG_KEY', 'GPG_KEYS', 'BUILD_DEPS', 'BUILD_PACKAGES'])
const BUILD_ONLY_SUFFIX = /_(SHA1|SHA256|SHA512|SHA|CHECKSUM|DOWNLOAD_URL|GPG_KEYS?|BUILD_DEPS)$/

export function isBuildOnlyEnv(name: string): boolean {
  return BUILD_ONLY_NAMES.has(name) || BUILD_ONLY_SUFFIX.test(name)
}

export function parseEnv(list: readonly string[] | undefined): [string, string][] {
  const map = new Map<string, string>()
  for (const e of list ?? []) {
    const eq = e.indexOf('=')
    if (eq <= 0) continue
    map.set(e.slice(0, eq), e.slice(eq + 1))
  }
  return [...map]
}

const isShellForm = (argv: readonly string[] | null | undefined): boolean =>
  !!argv && argv.length === 3 && /^\/(usr\/)?bin\/(ba|da)?sh$/.test(argv[0]) && argv[1] === '-c'

interface CommandInput {
  insp: Inspection
  chosen: Evaluated
  config: ContainerConfig
}

/** ENTRYPOINT and CMD for the final stage, exec form, with what changed. */
export function finalCommand({ insp, chosen, config }: CommandInput): Pick<RuntimeConfig, 'entrypoint' | 'cmd' | 'commandNotes'> {
  const notes: string[] = []
  let entrypoint = config.Entrypoint ?? undefined
  let cmd = config.Cmd ?? undefined
  const base = chosen.base
  const prog = insp.program
  const shellGone = !base.provides.shell
  // Shell form whose words inspection read without needing a shell: call the program directly.
  if (shellGone && prog.shellReasons.length === 0 && prog.path && prog.argv.length > 0) {
    const direct = [prog.path, ...prog.argv.slice(1)]
    if (isShellForm(entrypoint)) {
      notes.push(`ENTRYPOINT was shell form (${entrypoint![2]}); ${base.name} has no shell, so it calls ${prog.path} directly`)
      entrypoint = direct
      cmd = cmd && entrypoint ? undefined : cmd
    } else if (!entrypoint?.length && isShellForm(cmd)) {
      notes.push(`CMD was shell form (${cmd![2]}); ${base.name} has no shell, so it calls ${prog.path} directly`)
      cmd = direct
    }
  }
  // A wrapper that only exports, makes directories and execs: start the program it execs directly.
  const wrapper = insp.needs.find((n) => n.kind === 'shell' && n.replaceable)?.replaceable
  if (wrapper && prog.path) {
    entrypoint = [prog.path, ...prog.argv.slice(1)]
    cmd = []
    notes.push(`${wrapper.script} only ${wrapper.env.length ? 'exports ' + wrapper.env.map(([k]) => k).join(', ') + ', ' : ''}${wrapper.mkdir.length ? 'makes ' + wrapper.mkdir.join(', ') + ', ' : ''}and execs its arguments: the ENTRYPOINT is the program it execs${wrapper.env.length ? ', the exports are ENV' : ''}, and no shell is needed`)
    if (wrapper.mkdir.length) notes.push(`the wrapper's \`mkdir -p ${wrapper.mkdir.join(' ')}\` no longer runs: the directories are made at build time (copied)`)
    if (wrapper.sourced?.length) notes.push(`${wrapper.script} sources ${wrapper.sourced.join(', ')}: the variables it exports are ENV`)
  }
  // A runtime image has its interpreter elsewhere: point the command at it.
  const rt = base.runtime
  const exe = insp.runtime?.executable
  if (rt && exe) {
    const names = new Set([exe, prog.path, prog.realPath].filter((x): x is string => !!x))
    const swap = (argv: string[] | undefined) => argv?.map((w, i) => (i === 0 && (names.has(w) || w === basename(exe) || w === basename(prog.path ?? '')) ? rt.path : w))
    const [e, c] = [swap(entrypoint), swap(cmd)]
    if (JSON.stringify(e) !== JSON.stringify(entrypoint) || JSON.stringify(c) !== JSON.stringify(cmd)) {
      notes.push(`the interpreter is ${rt.path} in ${base.name} (it was ${prog.path ?? exe})`)
    }
    entrypoint = e
    cmd = c
  }
  // A bare program name depends on PATH at run time: write the path it was found at instead.
  const lookup = (word: string | undefined) =>
    word && !word.includes('/') ? prog.chain.find((s) => s.kind === 'path-lookup' && s.from === word && s.to?.startsWith('/'))?.to : undefined
  if (!rt) {
    if (entrypoint?.length && lookup(entrypoint[0])) {
      notes.push(`ENTRYPOINT names ${entrypoint[0]}; it is written as ${lookup(entrypoint[0])}, where it was found on PATH`)
      entrypoint = [lookup(entrypoint[0])!, ...entrypoint.slice(1)]
    } else if (!entrypoint?.length && cmd?.length && lookup(cmd[0])) {
      notes.push(`CMD names ${cmd[0]}; it is written as ${lookup(cmd[0])}, where it was found on PATH`)
      cmd = [lookup(cmd[0])!, ...cmd.slice(1)]
    }
    // A launcher that finds its home from its own path (JAVA_HOME/bin/java) is copied under its
    // real path only (plan.ts): the command names that path.
    const own = insp.runtime
    if (own && launcherInHome(own) && prog.path && prog.realPath && prog.path !== prog.realPath) {
      const names = new Set([prog.path, ...prog.symlinks])
      const point = (argv: string[] | undefined) => (argv?.length && names.has(argv[0]!) ? [prog.realPath!, ...argv.slice(1)] : argv)
      if (entrypoint?.length ? names.has(entrypoint[0]!) : !!cmd?.length && names.has(cmd[0]!)) notes.push(`${prog.path} is a symlink to ${prog.realPath}, which finds its home (${own.home}) from its own path: the command names ${prog.realPath}`)
      entrypoint = point(entrypoint)
      if (!entrypoint?.length) cmd = point(cmd)
    }
  }
  // A base with its own ENTRYPOINT (runtime images) would prefix our CMD: reset it.
  const baseEntrypoint = chosen.tag.entrypoint ?? []
  if (!entrypoint?.length && baseEntrypoint.length > 0) {
    entrypoint = []
    notes.push(`ENTRYPOINT [] resets ${base.name}'s ${JSON.stringify(baseEntrypoint)}, which the original image did not have`)
  }
  return { entrypoint: entrypoint ?? undefined, cmd: cmd ?? undefined, commandNotes: notes }
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1)
}

/** Health checks keep working only if their program is in the new image. */
export function carryHealthcheck(config: ContainerConfig, chosen: Evaluated, copies: readonly Copy[]): Pick<RuntimeConfig, 'healthcheck' | 'healthcheckDropped'> {
  const hc = config.Healthcheck
  const test = hc?.Test
  if (!hc || !test || test.length === 0 || test[0] === 'NONE') return {}
  const has = (path: string) => copies.some((c) => c.dest === path || (c.type === 'dir' && path.startsWith(c.dest + '/')))
  const keep = { test, ...healthTiming(hc) }
  if (test[0] === 'CMD') {
    const exe = test[1] ?? ''
    if (exe.startsWith('/') && has(exe)) return { healthcheck: keep }
    return { healthcheckDropped: `HEALTHCHECK ${JSON.stringify(test.slice(1))} dropped: ${exe || 'its command'} is not in the new image (copy it with --keep and add the check back)` }
  }
  if (test[0] === 'CMD-SHELL') {
    const first = (test[1] ?? '').trim().split(/\s+/)[0] ?? ''
    if (!chosen.base.provides.shell) return { healthcheckDropped: `HEALTHCHECK "${test[1]}" dropped: it needs a shell and ${chosen.base.name} has none` }
    if (first.startsWith('/') && has(first)) return { healthcheck: keep }
    return { healthcheckDropped: `HEALTHCHECK "${test[1]}" dropped: slim cannot tell that ${first || 'its command'} exists in the new image` }
  }
  return { healthcheckDropped: `HEALTHCHECK ${JSON.stringify(test)} dropped: unknown form` }
}

/**
 * The check's timing, from typed values only: a duration under 1ms, a fraction or a non-number is
 * left to the builder's default (0 and absent mean the default too), never written as text.
 */
function healthTiming(hc: NonNullable<ContainerConfig['Healthcheck']>): Pick<NonNullable<RuntimeConfig['healthcheck']>, 'interval' | 'timeout' | 'startPeriod' | 'retries'> {
  const out: Pick<NonNullable<RuntimeConfig['healthcheck']>, 'interval' | 'timeout' | 'startPeriod' | 'retries'> = {}
  const interval = durationNs(hc.Interval)
  const timeout = durationNs(hc.Timeout)
  const startPeriod = durationNs(hc.StartPeriod)
  const retries = retriesCount(hc.Retries)
  if (interval !== undefined) out.interval = interval
  if (timeout !== undefined) out.timeout = timeout
  if (startPeriod !== undefined) out.startPeriod = startPeriod
  if (retries !== undefined) out.retries = retries
  return out
}

/** Settings whose text cannot be written faithfully into a Dockerfile (control characters). */
function healthTimingNote(hc: ContainerConfig['Healthcheck']): string | undefined {
  if (!hc) return undefined
  const bad = (['Interval', 'Timeout', 'StartPeriod', 'Retries'] as const).filter((k) => {
    const v: unknown = hc[k]
    if (v === undefined || v === null || v === 0) return false
    return k === 'Retries' ? retriesCount(v) === undefined : durationNs(v) === undefined
  })
  return bad.length ? `HEALTHCHECK ${bad.join(', ')} left at the builder's default: ${bad.map((k) => JSON.stringify(hc[k]) ?? 'null').join(', ')} is not a valid value` : undefined
}

export interface RuntimeConfigInput extends CommandInput {
  copies: readonly Copy[]
  ldLibraryPath: string[]
}

/** Config values are untrusted: anything that does not look like its kind is left out (a port or
 * an env name with a newline would otherwise write its own Dockerfile instruction). */

export function runtimeConfig(input: RuntimeConfigInput): RuntimeConfig {
  const { config, chosen } = input
  const env: [string, string][] = []
  const droppedEnv: string[] = []
  const skipped: string[] = []
  for (const [k, v] of parseEnv(config.Env)) {
    if (!isEnvName(k) || !canQuote(v)) skipped.push(`ENV ${JSON.stringify(k)}`)
    else if (isBuildOnlyEnv(k)) droppedEnv.push(k)
    else env.push([k, v])
  }
  // The exports of a replaced wrapper script become ENV (the wrapper set them before exec).
  const wrapper = input.insp.needs.find((n) => n.kind === 'shell' && n.replaceable)?.replaceable
  for (const [k, v] of wrapper?.env ?? []) {
    if (!isEnvName(k) || !canQuote(v)) continue
    const at = env.findIndex(([name]) => name === k)
    if (at >= 0) env[at] = [k, v]
    else env.push([k, v])
  }
  const ports = Object.keys(config.ExposedPorts ?? {})
  for (const p of ports) if (!isPort(p)) skipped.push(`EXPOSE ${JSON.stringify(p)}`)
  const stopSignal = config.StopSignal && isSignal(config.StopSignal) ? config.StopSignal : undefined
  if (config.StopSignal && !stopSignal) skipped.push(`STOPSIGNAL ${JSON.stringify(config.StopSignal)}`)
  if (input.ldLibraryPath.length) {
    const at = env.findIndex(([k]) => k === 'LD_LIBRARY_PATH')
    const dirs = [...input.ldLibraryPath, ...(at >= 0 ? env[at][1].split(':').filter(Boolean) : [])]
    const value = [...new Set(dirs)].join(':')
    if (at >= 0) env[at] = ['LD_LIBRARY_PATH', value]
    else env.push(['LD_LIBRARY_PATH', value])
  }
  const labels: Record<string, string> = {}
  for (const [k, v] of Object.entries(config.Labels ?? {})) {
    if (isLabelKey(k) && canQuote(v)) labels[k] = v
    else skipped.push(`LABEL ${JSON.stringify(k)}`)
  }
  const volumes = Object.keys(config.Volumes ?? {}).filter((v) => v.startsWith('/'))
  for (const v of volumes) if (!canQuote(v)) skipped.push(`VOLUME ${JSON.stringify(v)}`)
  const workdirOk = !config.WorkingDir || canQuote(config.WorkingDir)
  if (!workdirOk) skipped.push(`WORKDIR ${JSON.stringify(config.WorkingDir)} (written as /)`)
  labels['org.opencontainers.image.base.name'] = chosen.candidate.publicRef
  if (chosen.candidate.digest) labels['org.opencontainers.image.base.digest'] = chosen.candidate.digest
  else delete labels['org.opencontainers.image.base.digest']
  const command = finalCommand(input)
  const timing = healthTimingNote(config.Healthcheck)
  if (timing) command.commandNotes.push(timing)
  if (skipped.length) command.commandNotes.push(`left out, not valid in a Dockerfile: ${skipped.join(', ')}`)
  return {
    workdir: workdirOk && config.WorkingDir?.startsWith('/') ? config.WorkingDir : '/',
    env,
    droppedEnv,
    exposedPorts: ports.filter(isPort).sort(),
    volumes: volumes.filter(canQuote).sort(),
    ...(stopSignal ? { stopSignal } : {}),
    labels,
    ...command,
    ...carryHealthcheck(config, chosen, input.copies),
  }
}
