/**
 * Our own checks of a Dockerfile, parsed with dockerfile-ast: the hadolint and dockle rules that
 * apply to a generated final stage, one small function each. Codes are hadolint's (DL...) and
 * dockle's (CIS-DI-...) where one exists, slim's own (SLIM-...) otherwise.
 */
import { DockerfileParser, type Dockerfile, type From, type Instruction } from 'dockerfile-ast'
import { posix } from 'node:path'
import type { LintFinding } from './types.js'

export interface LintContext {
  /** The final base has a POSIX shell (a shell-form HEALTHCHECK can run). Unknown: not checked. */
  baseShell?: boolean
  /** Paths the final base itself provides, for HEALTHCHECK commands that are not copied. */
  baseHas?: (path: string) => boolean
}

interface Stage {
  index: number
  from: From
  name?: string
  instructions: Instruction[]
}

type Check = (stages: Stage[], ctx: LintContext) => LintFinding[]

const lineOf = (i: Instruction): number => i.getRange().start.line + 1

function stagesOf(df: Dockerfile): Stage[] {
  const stages: Stage[] = []
  for (const ins of df.getInstructions()) {
    if (ins.getKeyword() === 'FROM') {
      const from = ins as From
      stages.push({ index: stages.length, from, name: from.getBuildStage() ?? undefined, instructions: [] })
    } else stages.at(-1)?.instructions.push(ins)
  }
  return stages
}

const final = (stages: Stage[]): Stage | undefined => stages.at(-1)

/** DL3006 (untagged) and DL3007 (`latest` without a digest): an image that can change under you. */
export const checkPinnedFrom: Check = (stages) => {
  const out: LintFinding[] = []
  const names = new Set<string>()
  for (const s of stages) {
    const image = s.from.getImageName()
    const line = lineOf(s.from)
    if (!image) out.push({ rule: 'DL3006', line, message: 'FROM names no image' })
    else if (image !== 'scratch' && !names.has(image)) {
      const tag = s.from.getImageTag()
      const digest = s.from.getImageDigest()
      if (!tag && !digest) out.push({ rule: 'DL3006', line, message: `FROM ${image} has no tag or digest; pin it` })
      else if (tag === 'latest' && !digest) out.push({ rule: 'DL3007', line, message: `FROM ${image}:latest without a digest; pin a version or a digest` })
    }
    if (s.name) names.add(s.name)
  }
  return out
}

/** The arguments' text without leading --flags (COPY --from=x [...] is JSON form too). */
function rawArgs(ins: Instruction): string {
  return (ins.getRawArgumentsContent() ?? '').trim().replace(/^(--\S+\s+)*/, '')
}

function isJsonForm(ins: Instruction): boolean {
  const raw = rawArgs(ins)
  if (!raw.startsWith('[')) return false
  try {
    const v: unknown = JSON.parse(raw)
    return Array.isArray(v) && v.every((x) => typeof x === 'string')
  } catch {
    return false
  }
}

/** DL3025: ENTRYPOINT and CMD in JSON (exec) form, so signals reach the program and no shell is needed. */
export const checkJsonForm: Check = (stages) =>
  stages.flatMap((s) =>
    s.instructions
      .filter((i) => (i.getKeyword() === 'ENTRYPOINT' || i.getKeyword() === 'CMD') && !isJsonForm(i))
      .map((i) => ({ rule: 'DL3025', line: lineOf(i), message: `${i.getKeyword()} is not in JSON form: ${i.getRawArgumentsContent() ?? ''}` })),
  )

/** DL3002 / dockle CIS-DI-0001: the final stage's last USER exists, is numeric and is not root. */
export const checkUser: Check = (stages) => {
  const s = final(stages)
  if (!s) return []
  const users = s.instructions.filter((i) => i.getKeyword() === 'USER')
  const last = users.at(-1)
  if (!last) return [{ rule: 'CIS-DI-0001', line: lineOf(s.from), message: 'the final stage sets no USER: the container runs as root' }]
  const spec = (last.getArgumentsContent() ?? '').trim()
  const m = /^(\d+)(?::(\d+))?$/.exec(spec)
  if (!m) {
    if (/^root(:|$)/.test(spec)) return [{ rule: 'DL3002', line: lineOf(last), message: `the last USER is root (${spec})` }]
    return [{ rule: 'SLIM-USER-NUMERIC', line: lineOf(last), message: `USER ${spec} is not numeric uid[:gid]; runAsNonRoot cannot verify a name` }]
  }
  if (Number(m[1]) === 0) return [{ rule: 'DL3002', line: lineOf(last), message: `the last USER is root (${spec})` }]
  return []
}

interface CopyArgs {
  ins: Instruction
  from?: string
  sources: string[]
  dest: string
}

/** copyArgs per instruction: three checks read every COPY, and dockerfile-ast re-scans the text on each call. */
const copyArgsOf = new WeakMap<Instruction, CopyArgs | undefined>()

function copyArgs(ins: Instruction): CopyArgs | undefined {
  if (copyArgsOf.has(ins)) return copyArgsOf.get(ins)
  const c = readCopyArgs(ins)
  copyArgsOf.set(ins, c)
  return c
}

function readCopyArgs(ins: Instruction): CopyArgs | undefined {
  if (ins.getKeyword() !== 'COPY') return undefined
  const flags = (ins as unknown as { getFlags(): { getName(): string; getValue(): string | null }[] }).getFlags()
  const from = flags.find((f) => f.getName() === 'from')?.getValue() ?? undefined
  let words: string[]
  if (isJsonForm(ins)) words = JSON.parse(rawArgs(ins)) as string[]
  else words = ins.getArguments().map((a) => a.getValue())
  if (words.length < 2) return { ins, from, sources: words, dest: '' }
  return { ins, from, sources: words.slice(0, -1), dest: words.at(-1)! }
}

/** No `COPY --from=x / /`: copying a whole root defeats the point of a slim stage. */
export const checkCopyRoot: Check = (stages) =>
  stages.flatMap((s) =>
    s.instructions
      .map(copyArgs)
      .filter((c): c is CopyArgs => !!c && c.sources.some((src) => posix.normalize(src) === '/' || posix.normalize(src) === '.'))
      .map((c) => ({ rule: 'SLIM-COPY-ROOT', line: lineOf(c.ins), message: `COPY of a whole root (${c.sources.join(' ')} -> ${c.dest}): copy only the paths the program needs` })),
  )

/** DL3022 / DL3023: COPY --from names an earlier stage, never its own. */
export const checkCopyFrom: Check = (stages) => {
  const out: LintFinding[] = []
  for (const s of stages) {
    for (const c of s.instructions.map(copyArgs)) {
      if (!c?.from) continue
      const earlier = stages.slice(0, s.index)
      const byIndex = /^\d+$/.test(c.from) ? Number(c.from) : undefined
      if (c.from === s.name || byIndex === s.index) out.push({ rule: 'DL3023', line: lineOf(c.ins), message: `COPY --from=${c.from} names its own stage` })
      else if (byIndex !== undefined ? byIndex >= s.index : !earlier.some((e) => e.name === c.from)) {
        out.push({ rule: 'DL3022', line: lineOf(c.ins), message: `COPY --from=${c.from} names no earlier stage` })
      }
    }
  }
  return out
}

/** DL4003 / DL4004: one CMD and one ENTRYPOINT per stage (only the last would count). */
export const checkDuplicates: Check = (stages) => {
  const out: LintFinding[] = []
  for (const s of stages) {
    for (const [kw, rule] of [['CMD', 'DL4003'], ['ENTRYPOINT', 'DL4004']] as const) {
      const found = s.instructions.filter((i) => i.getKeyword() === kw)
      for (const extra of found.slice(1)) out.push({ rule, line: lineOf(extra), message: `more than one ${kw} in a stage; only the last takes effect` })
    }
  }
  return out
}

/** Paths the final stage's COPY lines create (files by name, directories as prefixes). */
function copiedPaths(s: Stage): { files: Set<string>; dirs: string[] } {
  const files = new Set<string>()
  const dirs: string[] = []
  for (const c of s.instructions.map(copyArgs)) {
    if (!c || !c.dest) continue
    if (c.dest.endsWith('/') || c.sources.length > 1) for (const src of c.sources) files.add(posix.join(c.dest, posix.basename(src)))
    else {
      files.add(c.dest)
      dirs.push(c.dest)
    }
  }
  return { files, dirs }
}

/** A HEALTHCHECK only when the final image can run it: its shell, or its program, must be there. */
export const checkHealthcheck: Check = (stages, ctx) => {
  const s = final(stages)
  if (!s) return []
  const out: LintFinding[] = []
  const copied = copiedPaths(s)
  for (const hc of s.instructions.filter((i) => i.getKeyword() === 'HEALTHCHECK')) {
    const args = hc.getArguments().map((a) => a.getValue())
    const sub = (hc as unknown as { getSubcommand(): { getValue(): string } | null }).getSubcommand()?.getValue().toUpperCase()
    if (sub === 'NONE') continue
    const raw = (hc.getRawArgumentsContent() ?? '').replace(/^(\s*--\S+)*\s*CMD\s*/i, '').trim()
    let argv: string[] | undefined
    try {
      const v: unknown = raw.startsWith('[') ? JSON.parse(raw) : undefined
      if (Array.isArray(v)) argv = v as string[]
    } catch {
      argv = undefined
    }
    const shell = !argv || /^\/(usr\/)?bin\/(ba|da)?sh$/.test(argv[0] ?? '')
    if (shell) {
      if (ctx.baseShell === false) out.push({ rule: 'SLIM-HEALTHCHECK', line: lineOf(hc), message: 'HEALTHCHECK needs a shell and the final base has none' })
      continue
    }
    const exe = argv![0] ?? ''
    const there = copied.files.has(exe) || copied.dirs.some((d) => exe.startsWith(d.replace(/\/?$/, '/'))) || ctx.baseHas?.(exe)
    if (!there) out.push({ rule: 'SLIM-HEALTHCHECK', line: lineOf(hc), message: `HEALTHCHECK runs ${exe || args.join(' ')}, which the final stage does not copy` })
  }
  return out
}

/** The final stage says which base it is built on (OCI annotation org.opencontainers.image.base.name). */
export const checkBaseLabel: Check = (stages) => {
  const s = final(stages)
  if (!s) return []
  const labels = s.instructions.filter((i) => i.getKeyword() === 'LABEL')
  const has = labels.some((l) => (l as unknown as { getProperties(): { getName(): string }[] }).getProperties().some((p) => p.getName() === 'org.opencontainers.image.base.name'))
  return has ? [] : [{ rule: 'SLIM-LABEL-BASE', line: lineOf(s.from), message: 'no org.opencontainers.image.base.name label in the final stage' }]
}

export const CHECKS: readonly Check[] = [checkPinnedFrom, checkJsonForm, checkUser, checkCopyRoot, checkCopyFrom, checkDuplicates, checkHealthcheck, checkBaseLabel]

export function lintDockerfile(text: string, ctx: LintContext = {}): LintFinding[] {
  const df = DockerfileParser.parse(text)
  const stages = stagesOf(df)
  if (stages.length === 0) return [{ rule: 'SLIM-NO-FROM', line: 0, message: 'no FROM instruction' }]
  return CHECKS.flatMap((c) => c(stages, ctx)).sort((a, b) => a.line - b.line || (a.rule < b.rule ? -1 : 1))
}
