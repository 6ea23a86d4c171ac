/**
 * The Dockerfile a user can commit: a `source` stage pinned to the analysed image, and a final
 * stage on the chosen base that copies exactly the planned paths, runs as a numeric non-root
 * user, and carries the runtime settings over. A comment header says why.
 *
 * Quoting: ENV and LABEL values are double-quoted with `\`, `"` and `$` escaped (the builder
 * expands variables in them); paths that need quoting use the JSON form of COPY.
 */
import { posix } from 'node:path'
import { humanBytes } from '../core/format.js'
import type { Copy, Plan, Rejection, SourceImage } from './types.js'

export interface DockerfileInput {
  source: SourceImage
  plan: Plan
  reasons: string[]
  /** Rejected bases worth naming (those smaller than the choice); `otherRejections` counts the rest. */
  rejected: Rejection[]
  otherRejections?: number
  forced: boolean
  confidence: string
  gaps: string[]
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

/** A double-quoted Dockerfile string: the builder unescapes \ and expands $ inside it. */
export function quote(s: string): string {
  return `"${s.replace(/[\r\n\t]+/g, ' ').replace(/([\\"$])/g, '\\$1')}"`
}

const PLAIN_PATH = /^[A-Za-z0-9_@%+=:,./~-]+$/

/** Seconds in Docker duration syntax from the config's nanoseconds. */
function duration(ns: number): string {
  const ms = Math.round(ns / 1e6)
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
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
  if (img.transport === 'docker' && img.name) {
    if (img.manifestDigest) return { from: `${img.name}@${img.manifestDigest}` }
    return { from: `${img.name}:${img.tag ?? 'latest'}`, comment: 'the registry gave no manifest digest: pin it with @sha256:...' }
  }
  const name = img.name ? `${img.name}:${img.tag ?? 'latest'}` : 'slim-source:local'
  const path = img.reference.replace(/^[a-z-]+:/, '')
  const how: Record<string, string> = {
    'docker-daemon': `the image ${img.name ?? ''} from the local Docker daemon (no registry digest to pin)`,
    'docker-archive': `${img.reference}: load it first (docker load -i ${path.split(':')[0]}) so ${name} exists`,
    'oci-archive': `${img.reference}: push or load it first (skopeo copy ${img.reference} docker-daemon:${name})`,
    oci: `${img.reference}: push or load it first (skopeo copy ${img.reference} docker-daemon:${name})`,
  }
  return { from: name, comment: `built from ${how[img.transport] ?? img.reference}` }
}

function copyLine(sources: string[], dest: string, c: Pick<Copy, 'chown' | 'chmod'>): string {
  const flags = [`--from=${STAGE}`, ...(c.chown ? [`--chown=${c.chown}`] : []), ...(c.chmod ? [`--chmod=${c.chmod}`] : [])]
  const all = [...sources, dest]
  if (all.every((p) => PLAIN_PATH.test(p))) return `COPY ${flags.join(' ')} ${all.join(' ')}`
  return `COPY ${flags.join(' ')} ${JSON.stringify(all)}`
}

/**
 * COPY lines: each directory on its own (COPY copies a directory's contents into the destination);
 * files grouped by destination directory, ownership and mode, as few lines as that allows.
 * Plain copies come first so a later --chown line wins where they overlap.
 */
export function copyLines(copies: readonly Copy[]): string[] {
  const ordered = [...copies].sort((a, b) => Number(!!(a.chown || a.chmod)) - Number(!!(b.chown || b.chmod)) || (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0))
  const lines: string[] = []
  const groups = new Map<string, { sources: string[]; dir: string; c: Copy }>()
  const flush = () => {
    for (const g of groups.values()) lines.push(copyLine(g.sources, g.dir.endsWith('/') ? g.dir : `${g.dir}/`, g.c))
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
      lines.push(copyLine([c.source], c.dest, c))
      continue
    }
    // A file keeps its name only when COPY writes it into a directory; a renamed copy gets its own line.
    if (posix.basename(c.source) !== posix.basename(c.dest)) {
      lines.push(copyLine([c.source], c.dest, c))
      continue
    }
    const dir = posix.dirname(c.dest)
    const key = `${dir}\0${c.chown ?? ''}\0${c.chmod ?? ''}`
    const g = groups.get(key)
    if (g) g.sources.push(c.source)
    else groups.set(key, { sources: [c.source], dir, c })
  }
  flush()
  return lines
}

function header(input: DockerfileInput): string[] {
  const { plan, source } = input
  const p = source.platform
  const platform = `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`
  const est = plan.estimate
  const out = [
    `# Slim final image for ${source.reference} (${platform}), generated by slim.`,
    '#',
    `# Base: ${plan.base.publicRef}${input.forced ? ' (chosen with --base)' : ''}`,
    ...input.reasons.map((r) => `#   why: ${r}`),
  ]
  if (input.rejected.length) {
    const shown = input.rejected.slice(0, MAX_REJECTED).map((r) => `${r.base}: ${r.reason}`)
    out.push('#   smaller bases rejected:', ...shown.map((s) => `#     - ${s}`))
  }
  const more = (input.otherRejections ?? 0) + Math.max(0, input.rejected.length - MAX_REJECTED)
  if (more > 0) out.push(`#   (${more} ${input.rejected.length ? 'other ' : ''}bases rejected too; slim's JSON report lists why)`)
  out.push(`#   confidence: ${input.confidence}${input.gaps.length ? '' : ' (no gaps)'}`)
  for (const g of input.gaps) out.push(`#   gap: ${g}`)
  const total = est.totalBytes !== undefined ? `about ${formatBytes(est.totalBytes)}` : 'unknown'
  const saved = est.savedPercent !== undefined ? `, ${savedText(est.savedPercent)}` : ''
  out.push(`#   size: ${total} (base ${formatBytes(est.baseBytes)} + copied ${formatBytes(est.copiedBytes)}) vs ${formatBytes(est.todayBytes)} today${saved}`)
  out.push(`#   user: ${plan.user.note}`)
  for (const n of [...plan.runtime.commandNotes, ...plan.notes]) out.push(`#   note: ${n}`)
  if (plan.runtime.droppedEnv.length) out.push(`#   note: build-only ENV left out: ${plan.runtime.droppedEnv.join(', ')}`)
  if (plan.runtime.healthcheckDropped) out.push(`#   note: ${plan.runtime.healthcheckDropped}`)
  out.push('#', '# COPY follows a symlink named as a source: each library and program is copied under the name the')
  out.push('# loader or the command uses, with its target\'s content.')
  return out.map((l) => l.replace(/[\r\n]+/g, ' '))
}

export function renderDockerfile(input: DockerfileInput): string {
  const { plan } = input
  const rt = plan.runtime
  const src = sourceStage(input.source)
  const lines = [...header(input), '']
  if (src.comment) lines.push(`# source: ${src.comment}`)
  lines.push(`FROM ${src.from} AS ${STAGE}`, '')
  if (!plan.base.digest && plan.base.family !== 'scratch') {
    lines.push(`# No digest is known for ${plan.base.ref}: pin it (skopeo inspect docker://${plan.base.ref}) and add @sha256:... here.`)
  }
  if (!plan.base.digest && input.source.platform.architecture !== 'amd64') {
    lines.push(`# Build with --platform ${input.source.platform.os}/${input.source.platform.architecture}${input.source.platform.variant ? `/${input.source.platform.variant}` : ''}.`)
  }
  lines.push(`FROM ${plan.base.ref}`)
  lines.push(...copyLines(plan.copies))
  if (rt.env.length) lines.push(`ENV ${rt.env.map(([k, v]) => `${k}=${quote(v)}`).join(' \\\n    ')}`)
  lines.push(`WORKDIR ${PLAIN_PATH.test(rt.workdir) ? rt.workdir : quote(rt.workdir)}`)
  lines.push(`USER ${plan.user.spec}`)
  if (rt.exposedPorts.length) lines.push(`EXPOSE ${rt.exposedPorts.join(' ')}`)
  if (rt.volumes.length) lines.push(`VOLUME ${JSON.stringify(rt.volumes)}`)
  if (rt.stopSignal) lines.push(`STOPSIGNAL ${rt.stopSignal}`)
  const labels = Object.entries(rt.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  if (labels.length) lines.push(`LABEL ${labels.map(([k, v]) => `${quote(k)}=${quote(v)}`).join(' \\\n      ')}`)
  if (rt.healthcheck) {
    const h = rt.healthcheck
    const flags = [
      h.interval ? `--interval=${duration(h.interval)}` : '',
      h.timeout ? `--timeout=${duration(h.timeout)}` : '',
      h.startPeriod ? `--start-period=${duration(h.startPeriod)}` : '',
      h.retries ? `--retries=${h.retries}` : '',
    ].filter(Boolean)
    const cmd = h.test[0] === 'CMD-SHELL' ? JSON.stringify(['/bin/sh', '-c', h.test[1] ?? '']) : JSON.stringify(h.test.slice(1))
    lines.push(`HEALTHCHECK ${flags.length ? `${flags.join(' ')} ` : ''}CMD ${cmd}`)
  }
  if (rt.entrypoint !== undefined) lines.push(`ENTRYPOINT ${JSON.stringify(rt.entrypoint)}`)
  if (rt.cmd !== undefined) lines.push(`CMD ${JSON.stringify(rt.cmd)}`)
  return `${lines.join('\n')}\n`
}
