/**
 * The Dockerfile a user can commit: a `source` stage pinned to the analysed image, and a final
 * stage on the chosen base that copies exactly the planned paths, runs as a numeric non-root
 * user, and carries the runtime settings over. A comment header says why.
 *
 * Every value is written through dockerfile-escape.ts, one function per place. Besides the text,
 * renderDockerfileParts returns the instructions slim means to write (what the builder reads back:
 * literal paths, unescaped values), so a test can parse the text and compare.
 */
import { posix } from 'node:path'
import { humanBytes } from '../core/format.js'
import {
  comment,
  copyInstruction,
  fromRef,
  healthFlag,
  envPair,
  jsonArray,
  portArg,
  labelPair,
  signalArg,
  userArg,
  volumeInstruction,
  workdirArg,
} from './dockerfile-escape.js'
import { gapText } from './gaps.js'
import type { AdviceGap, Copy, Plan, Rejection, SourceImage } from './types.js'

export interface DockerfileInput {
  source: SourceImage
  plan: Plan
  reasons: string[]
  /** Rejected bases worth naming (those smaller than the choice); `otherRejections` counts the rest. */
  rejected: Rejection[]
  otherRejections?: number
  forced: boolean
  confidence: string
  gaps: AdviceGap[]
  /** Other viable options, one line each (alternatives.ts). */
  alternatives?: string[]
}

const STAGE = 'source'
/** At most this many rejected bases are named in the header (the JSON report has them all). */
const MAX_REJECTED = 8

/** "57% smaller", or "12% larger" when the source was already minimal. */
export function savedText(percent: number): string {
  return percent >= 0 ? `${percent}% smaller` : `${Math.round(-percent * 10) / 10}% larger`
}

/** humanBytes, with a word for a size slim does not know. */
export function formatBytes(n: number | undefined): string {
  return n === undefined ? 'unknown' : humanBytes(n)
}

/** What the builder reads from one instruction: its keyword, flags and (unescaped) arguments. */
export interface IntendedInstruction {
  keyword: string
  flags: string[]
  args: string[]
}

export interface SourceStage {
  from: string
  /** Why this reference, when it is not the registry image pinned by digest. */
  comment?: string
}

/**
 * The reference the `source` stage builds from: the registry image pinned by manifest digest, or
 * for archives, layouts and daemon images a name the user must make available first.
 */
export function sourceStage(img: SourceImage): SourceStage {
  // A name from an archive's manifest is the image's own text: only a well-formed one is written.
  const named = img.name && isFromRef(`${img.name}:${img.tag ?? 'latest'}`) ? img.name : undefined
  if (img.transport === 'docker' && named) {
    if (img.manifestDigest) return { from: `${named}@${img.manifestDigest}` }
    return { from: `${named}:${img.tag ?? 'latest'}`, comment: 'the registry gave no manifest digest: pin it with @sha256:...' }
  }
  const name = named ? `${named}:${img.tag ?? 'latest'}` : 'slim-source:local'
  const path = img.reference.replace(/^[a-z-]+:/, '')
  const how: Record<string, string> = {
    'docker-daemon': `the image ${named ?? ''} from the local Docker daemon (no registry digest to pin)`,
    'docker-archive': `${img.reference}: load it first (docker load -i ${path.split(':')[0]}) so ${name} exists`,
    'oci-archive': `${img.reference}: push or load it first (skopeo copy ${img.reference} docker-daemon:${name})`,
    oci: `${img.reference}: push or load it first (skopeo copy ${img.reference} docker-daemon:${name})`,
  }
  return { from: name, comment: `built from ${how[img.transport] ?? img.reference}` }
}

function isFromRef(r: string): boolean {
  try {
    fromRef(r)
    return true
  } catch {
    return false
  }
}

/** One COPY as the builder reads it: flags, literal sources, destination. */
export interface CopyGroup {
  flags: string[]
  sources: string[]
  dest: string
}

function group(sources: string[], dest: string, c: Pick<Copy, 'chown' | 'chmod'>): CopyGroup {
  // chown and chmod are slim's own (numeric ids, octal modes), never the image's text.
  if (c.chown && !/^\d+(:\d+)?$/.test(c.chown)) throw new Error(`internal: --chown=${c.chown} is not numeric`)
  if (c.chmod && !/^[0-7]{3,4}$/.test(c.chmod)) throw new Error(`internal: --chmod=${c.chmod} is not an octal mode`)
  const flags = [`--from=${STAGE}`, ...(c.chown ? [`--chown=${c.chown}`] : []), ...(c.chmod ? [`--chmod=${c.chmod}`] : [])]
  return { flags, sources, dest }
}

/**
 * COPY groups: each directory on its own (COPY copies a directory's contents into the destination);
 * files grouped by destination directory, ownership and mode, as few lines as that allows.
 * Plain copies come first so a later --chown line wins where they overlap.
 */
export function copyGroups(copies: readonly Copy[]): CopyGroup[] {
  const ordered = [...copies].sort((a, b) => Number(!!(a.chown || a.chmod)) - Number(!!(b.chown || b.chmod)) || (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0))
  const out: CopyGroup[] = []
  const groups = new Map<string, { sources: string[]; dir: string; c: Copy }>()
  const flush = () => {
    for (const g of groups.values()) out.push(group(g.sources, g.dir.endsWith('/') ? g.dir : `${g.dir}/`, g.c))
    groups.clear()
  }
  let plain = true
  for (const c of ordered) {
    const isPlain = !(c.chown || c.chmod)
    if (isPlain !== plain) {
      flush()
      plain = isPlain
    }
    if (c.type === 'dir') {
      out.push(group([c.source], c.dest, c))
      continue
    }
    // A file keeps its name only when COPY writes it into a directory; a renamed copy gets its own line.
    if (posix.basename(c.source) !== posix.basename(c.dest)) {
      out.push(group([c.source], c.dest, c))
      continue
    }
    const dir = posix.dirname(c.dest)
    const key = `${dir}\0${c.chown ?? ''}\0${c.chmod ?? ''}`
    const g = groups.get(key)
    if (g) g.sources.push(c.source)
    else groups.set(key, { sources: [c.source], dir, c })
  }
  flush()
  return out
}

/** The COPY lines' text (see copyGroups). */
export function copyLines(copies: readonly Copy[]): string[] {
  return copyGroups(copies).map((g) => copyInstruction(g.flags, g.sources, g.dest))
}

function header(input: DockerfileInput): string[] {
  const { plan, source } = input
  const p = source.platform
  const platform = `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`
  const est = plan.estimate
  const out = [
    `Slim final image for ${source.reference} (${platform}), generated by slim.`,
    '',
    `Base: ${plan.base.publicRef}${input.forced ? ' (chosen with --base)' : ''}`,
    ...input.reasons.map((r) => `  why: ${r}`),
  ]
  if (input.rejected.length) {
    const shown = input.rejected.slice(0, MAX_REJECTED).map((r) => `${r.base}: ${r.reason}`)
    out.push('  smaller bases rejected:', ...shown.map((s) => `    - ${s}`))
  }
  const more = (input.otherRejections ?? 0) + Math.max(0, input.rejected.length - MAX_REJECTED)
  if (more > 0) out.push(`  (${more} ${input.rejected.length ? 'other ' : ''}bases rejected too; 'slim dockerfile --json' lists why)`)
  if (input.alternatives?.length) out.push('  alternatives:', ...input.alternatives.map((a) => `    - ${a}`))
  out.push(`  confidence: ${input.confidence}${input.gaps.length ? '' : ' (no gaps)'}`)
  for (const g of input.gaps) out.push(`  gap: ${gapText(g)}`)
  const total = est.totalBytes !== undefined ? `about ${formatBytes(est.totalBytes)}` : 'unknown'
  const saved = est.savedPercent !== undefined ? `, ${savedText(est.savedPercent)}` : ''
  out.push(`  size: ${total} (base ${formatBytes(est.baseBytes)} + copied ${formatBytes(est.copiedBytes)}) vs ${formatBytes(est.todayBytes)} today${saved}`)
  out.push(`  user: ${plan.user.note}`)
  for (const n of [...plan.runtime.commandNotes, ...plan.notes]) out.push(`  note: ${n}`)
  if (plan.runtime.droppedEnv.length) out.push(`  note: build-only ENV left out: ${plan.runtime.droppedEnv.join(', ')}`)
  if (plan.runtime.healthcheckDropped) out.push(`  note: ${plan.runtime.healthcheckDropped}`)
  out.push('', 'COPY follows a symlink named as a source: each library and program is copied under the name the')
  out.push('loader or the command uses, with its target\'s content.')
  return out.map((l) => (l ? comment(l) : '#'))
}

export interface RenderedDockerfile {
  text: string
  /** The instructions in order, as the builder will read them. */
  instructions: IntendedInstruction[]
}

const ACCOUNTS = 'accounts'
const BASE_STAGE = 'slim-base'
const JRE_STAGE = 'jre'

/**
 * The stage that links the Java runtime: jlink of the source image's own JDK (or, for a JRE, the
 * steps that relink it from its own modules image), as root (the image's USER may not write
 * /slim-jre), in exec form so the source needs no shell.
 */
function jlinkStage(plan: Plan): { text: string; keyword: string; flags: string[]; args: string[] }[] {
  const j = plan.java?.mode === 'jlink' ? plan.java.jlink : undefined
  if (!j) return []
  // A JRE relinked from its own modules image: jimage extract and the jmods first (java-relink.ts).
  const runs = [...(j.relink?.steps ?? []), [j.tool, ...j.args]]
  return [
    { text: `FROM ${STAGE} AS ${JRE_STAGE}`, keyword: 'FROM', flags: [], args: [STAGE, 'AS', JRE_STAGE] },
    { text: 'USER 0', keyword: 'USER', flags: [], args: ['0'] },
    ...runs.map((argv) => ({ text: `RUN ${jsonArray(argv)}`, keyword: 'RUN', flags: [], args: argv })),
  ]
}

/**
 * The stage that merges users and groups: the base's own /etc/passwd and /etc/group, with the
 * source image's lines appended by the source's shell (the base may have none). The lines were
 * validated by accounts.ts (no quote, backslash, `$` or newline), so single quotes hold them.
 */
function accountsStage(plan: Plan): { text: string; keyword: string; flags: string[]; args: string[] }[] {
  const a = plan.accounts
  if (!a?.viaSourceShell || (!a.users.length && !a.groups.length)) return []
  const out: { text: string; keyword: string; flags: string[]; args: string[] }[] = [
    { text: `FROM ${fromRef(plan.base.ref)} AS ${BASE_STAGE}`, keyword: 'FROM', flags: [], args: [plan.base.ref, 'AS', BASE_STAGE] },
    { text: `FROM ${STAGE} AS ${ACCOUNTS}`, keyword: 'FROM', flags: [], args: [STAGE, 'AS', ACCOUNTS] },
    { text: 'USER 0:0', keyword: 'USER', flags: [], args: ['0:0'] },
  ]
  const files = [a.basePasswd ? '/etc/passwd' : '', a.baseGroup ? '/etc/group' : ''].filter(Boolean)
  if (files.length) {
    const flags = [`--from=${BASE_STAGE}`]
    out.push({ text: copyInstruction(flags, files, '/slim-accounts/'), keyword: 'COPY', flags, args: [...files, '/slim-accounts/'] })
  }
  const add = (lines: string[], file: string) => (lines.length ? `printf '%s\\n' ${lines.map((l) => `'${l}'`).join(' ')} >> /slim-accounts/${file}` : `touch /slim-accounts/${file}`)
  const run = ['mkdir -p /slim-accounts', add(a.users.map((u) => u.line!), 'passwd'), add(a.groups.map((g) => g.line!), 'group')].join(' && ')
  out.push({ text: `RUN ${run}`, keyword: 'RUN', flags: [], args: [run] })
  return out
}

export function renderDockerfile(input: DockerfileInput): string {
  return renderDockerfileParts(input).text
}

export function renderDockerfileParts(input: DockerfileInput): RenderedDockerfile {
  const { plan } = input
  const rt = plan.runtime
  const src = sourceStage(input.source)
  const lines = [...header(input), '']
  const instructions: IntendedInstruction[] = []
  const emit = (text: string, keyword: string, args: string[], flags: string[] = []) => {
    lines.push(text)
    instructions.push({ keyword, flags, args })
  }
  if (src.comment) lines.push(comment(`source: ${src.comment}`))
  emit(`FROM ${fromRef(src.from)} AS ${STAGE}`, 'FROM', [src.from, 'AS', STAGE])
  lines.push('')
  for (const st of accountsStage(plan)) emit(st.text, st.keyword, st.args, st.flags)
  for (const st of jlinkStage(plan)) emit(st.text, st.keyword, st.args, st.flags)
  if (!plan.base.digest && plan.base.family !== 'scratch') {
    lines.push(comment(`No digest is known for ${plan.base.ref}: pin it (skopeo inspect docker://${plan.base.ref}) and add @sha256:... here.`))
  }
  const p = input.source.platform
  if (!plan.base.digest && p.architecture !== 'amd64') lines.push(comment(`Build with --platform ${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}.`))
  emit(`FROM ${fromRef(plan.base.ref)}`, 'FROM', [plan.base.ref])
  if (accountsStage(plan).length) {
    const files = ['/slim-accounts/passwd', '/slim-accounts/group']
    emit(copyInstruction([`--from=${ACCOUNTS}`], files, '/etc/'), 'COPY', [...files, '/etc/'], [`--from=${ACCOUNTS}`])
  }
  const linked = plan.java?.mode === 'jlink' ? plan.java : undefined
  if (linked?.jlink) {
    // First, so the image's own conf/ and trust store (copied below) land over the linked runtime's.
    const flags = [`--from=${JRE_STAGE}`]
    emit(copyInstruction(flags, [linked.jlink.output], linked.home), 'COPY', [linked.jlink.output, linked.home], flags)
  }
  for (const g of copyGroups(plan.copies)) emit(copyInstruction(g.flags, g.sources, g.dest), 'COPY', [...g.sources, g.dest], g.flags)
  const env = rt.env
  if (env.length) emit(`ENV ${env.map(([k, v]) => envPair(k, v)).join(' \\\n    ')}`, 'ENV', env.map(([k, v]) => `${k}=${v}`))
  emit(`WORKDIR ${workdirArg(rt.workdir)}`, 'WORKDIR', [rt.workdir])
  emit(`USER ${userArg(plan.user.spec)}`, 'USER', [plan.user.spec])
  if (rt.exposedPorts.length) emit(`EXPOSE ${rt.exposedPorts.map(portArg).join(' ')}`, 'EXPOSE', rt.exposedPorts)
  if (rt.volumes.length) emit(volumeInstruction(rt.volumes), 'VOLUME', rt.volumes)
  if (rt.stopSignal) emit(`STOPSIGNAL ${signalArg(rt.stopSignal)}`, 'STOPSIGNAL', [rt.stopSignal])
  const labels = Object.entries(rt.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  if (labels.length) emit(`LABEL ${labels.map(([k, v]) => labelPair(k, v)).join(' \\\n      ')}`, 'LABEL', labels.map(([k, v]) => `${k}=${v}`))
  if (rt.healthcheck) {
    const h = rt.healthcheck
    const flags = [
      h.interval !== undefined ? healthFlag('interval', h.interval) : '',
      h.timeout !== undefined ? healthFlag('timeout', h.timeout) : '',
      h.startPeriod !== undefined ? healthFlag('start-period', h.startPeriod) : '',
      h.retries !== undefined ? healthFlag('retries', h.retries) : '',
    ].filter(Boolean)
    const argv = h.test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', h.test[1] ?? ''] : h.test.slice(1)
    emit(`HEALTHCHECK ${flags.length ? `${flags.join(' ')} ` : ''}CMD ${jsonArray(argv)}`, 'HEALTHCHECK', ['CMD', ...argv], flags)
  }
  if (rt.entrypoint !== undefined) emit(`ENTRYPOINT ${jsonArray(rt.entrypoint)}`, 'ENTRYPOINT', rt.entrypoint)
  if (rt.cmd !== undefined) emit(`CMD ${jsonArray(rt.cmd)}`, 'CMD', rt.cmd)
  return { text: `${lines.join('\n')}\n`, instructions }
}
