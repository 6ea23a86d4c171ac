/**
 * `slim verify` as a function: the original and the slim image are unpacked into bounded temp
 * directories, the same probe runs in each inside a sandbox (src/build/sandbox.ts), and the two
 * runs are compared: exit code, output (loosely normalised), and the loader/runtime failures a
 * missing file causes, each mapped back to the file of the original image that slim should have
 * kept and the --keep that adds it.
 */
import { readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { SlimError } from '../core/errors.js'
import { DEFAULT_MAX_TEMP_BYTES } from '../core/temp.js'
import type { Image } from '../image/types.js'
import type { Analysis } from '../pipeline/analyze.js'
import { readinessUnavailable, type ReadyCheck } from './readiness.js'
import { runSandboxed, sandboxTool, type SandboxResult } from './sandbox.js'
import { RootWriter, unpackTemp } from './unpack.js'

/** Exit code of `slim verify` when the slim image is not viable. */
export const NOT_VIABLE_EXIT = 4

export interface VerifyOptions {
  /** Arguments for the program instead of the default probe. */
  probe?: string[]
  /** The exit code both runs must give (default: the original's). */
  expectExit?: number
  timeoutSeconds: number
  network: boolean
  maxBytes?: number
  /** Start the program as a server even where a configuration check exists (--serve). */
  serve?: boolean
  /** TCP ports that mean "ready" (--port); default: the original's EXPOSE, else the server's usual port. */
  ports?: number[]
  /** Seconds a server may take to accept a connection (counted as attempts READY_INTERVAL_MS apart). */
  readySeconds?: number
}

/** Time between two rounds of connection attempts to a starting server. */
export const READY_INTERVAL_MS = 200
export const DEFAULT_READY_SECONDS = 10

export type Probe =
  | { mode: 'args'; args: string[]; why: string }
  /**
   * Run ENTRYPOINT+CMD. With `ready`: started = a port accepted a TCP connection inside the
   * sandbox within the counted attempts. Without (no port known, or no way to join the sandbox's
   * network): started = still running when the window ends, with no failure seen.
   */
  | { mode: 'server'; seconds: number; why: string; ready?: ReadyCheck; noPortWhy?: string }

export interface Missing {
  /** What the failure message names (a soname, a path, "CA certificates"...). */
  what: string
  message: string
  /** Path in the original image that provides it, when found. */
  path?: string
}

export interface VerifyRun extends SandboxResult {
  argv: string[]
  started?: boolean
}

export interface VerifyReport {
  verified: boolean
  probe: Probe
  original: VerifyRun
  slim: VerifyRun
  missing: Missing[]
  /** One-line findings, in order of importance. */
  findings: string[]
  notes: string[]
}

const KNOWN_PROBES: Record<string, string[]> = {
  nginx: ['-t'],
  haproxy: ['-c', '-f', '/etc/haproxy/haproxy.cfg'],
  lighttpd: ['-tt', '-f', '/etc/lighttpd/lighttpd.conf'],
}
/** Known servers and the TCP port they listen on when nothing else is configured. */
const SERVERS: Record<string, number> = {
  'redis-server': 6379,
  'valkey-server': 6379,
  postgres: 5432,
  mysqld: 3306,
  mariadbd: 3306,
  httpd: 80,
  apache2: 80,
  memcached: 11211,
  mongod: 27017,
  caddy: 80,
  traefik: 80,
  envoy: 10000,
}

/** TCP port numbers of an image's ExposedPorts ("80/tcp", "53/udp" left out). */
export function exposedTcpPorts(exposed: Record<string, unknown> | undefined): number[] {
  const out: number[] = []
  for (const key of Object.keys(exposed ?? {})) {
    const m = /^(\d{1,5})(?:\/tcp)?$/i.exec(key)
    if (m && Number(m[1]) > 0 && Number(m[1]) < 65536) out.push(Number(m[1]))
  }
  return [...new Set(out)].sort((a, b) => a - b)
}

/**
 * The probe for a program: --probe, a known config check (unless --serve), a start for servers
 * (ready when a port accepts a connection), else --version. `readyUnavailable` says why ports
 * cannot be probed on this machine (then a server only has to be still running).
 */
export function chooseProbe(
  programPath: string | undefined,
  exposedPorts: number[],
  opts: Pick<VerifyOptions, 'probe' | 'timeoutSeconds' | 'serve' | 'ports' | 'readySeconds'>,
  readyUnavailable?: string,
): Probe {
  if (opts.probe) return { mode: 'args', args: opts.probe, why: '--probe' }
  const name = basename(programPath ?? '')
  if (KNOWN_PROBES[name] && !opts.serve) return { mode: 'args', args: KNOWN_PROBES[name], why: `${name}'s configuration check` }
  const isServer = opts.serve || name in SERVERS || exposedPorts.length > 0 || (opts.ports?.length ?? 0) > 0
  if (!isServer) return { mode: 'args', args: ['--version'], why: 'a --version run (no known probe for this program; use --probe ARGS for a better one)' }
  const who = name || 'the server'
  const ports = opts.ports?.length ? opts.ports : exposedPorts.length ? exposedPorts : SERVERS[name] ? [SERVERS[name]] : []
  const source = opts.ports?.length ? '--port' : exposedPorts.length ? 'EXPOSE' : `${name}'s usual port`
  const noPortWhy = ports.length === 0 ? 'no port known (no EXPOSE; give --port N)' : readyUnavailable
  if (noPortWhy) {
    const seconds = Math.min(3, opts.timeoutSeconds)
    return { mode: 'server', seconds, noPortWhy, why: `${who} started with its ENTRYPOINT/CMD; ${noPortWhy}, so "started" only means still running after ${seconds}s with no loader or runtime error` }
  }
  const readySeconds = Math.min(opts.readySeconds ?? DEFAULT_READY_SECONDS, opts.timeoutSeconds)
  const ready = { ports, attempts: Math.max(1, Math.ceil((readySeconds * 1000) / READY_INTERVAL_MS)), intervalMs: READY_INTERVAL_MS }
  return { mode: 'server', seconds: opts.timeoutSeconds, ready, why: `${who} started with its ENTRYPOINT/CMD; ready = a TCP connection to ${ports.map((p) => `${p}`).join(' or ')} (${source}) accepted inside the sandbox within ${ready.attempts} attempts ${READY_INTERVAL_MS} ms apart` }
}

const FAILURES: { re: RegExp; what: (m: RegExpMatchArray) => string }[] = [
  { re: /error while loading shared libraries: ([^\s:]+)/g, what: (m) => m[1] },
  { re: /Error loading shared library ([^\s:]+)/g, what: (m) => m[1] },
  { re: /([^\s:'"]+\.so[.\d]*): cannot open shared object file/g, what: (m) => m[1] },
  { re: /execvp? ([^\s:]+): No such file or directory/g, what: (m) => m[1] },
  { re: /chroot: failed to run command '([^']+)': No such file or directory/g, what: (m) => m[1] },
  { re: /(?:^|\s)([^\s:]+): not found/gm, what: (m) => m[1] },
  { re: /x509: certificate signed by unknown authority|unable to get local issuer certificate|certificate verify failed/g, what: () => 'CA certificates' },
  { re: /unknown time ?zone ([^\s:]+)/gi, what: (m) => `time zone ${m[1]}` },
  { re: /getpw(?:nam|uid)\(\s*"?([^")]*)"?\s*\) failed|unknown user ([^\s:]+)/g, what: (m) => `user ${m[1] ?? m[2]}` },
  { re: /open\(\) "([^"]+)" failed \(2: No such file or directory\)/g, what: (m) => m[1] },
]

/** Loader and runtime failures named in `output`. */
export function failuresIn(output: string): { what: string; message: string }[] {
  const out: { what: string; message: string }[] = []
  for (const f of FAILURES) {
    for (const m of output.matchAll(f.re)) {
      const what = f.what(m)
      if (!out.some((o) => o.what === what)) out.push({ what, message: m[0].trim() })
    }
  }
  return out
}

/** Output with pids, timestamps, addresses and numbers blurred, for a loose comparison. */
export function normaliseOutput(s: string): string {
  return s
    .replace(/\d{4}[-/]\d\d[-/]\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?/g, 'TIME')
    .replace(/0x[0-9a-f]+/gi, 'ADDR')
    .replace(/\d+/g, 'N')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .join('\n')
}

const LIB_DIRS = ['/lib', '/lib64', '/usr/lib', '/usr/lib64', '/usr/local/lib']

/** Where the original image has `what`: the analysis closure first, then the usual library dirs of its root. */
function locate(analysis: Analysis, originalRoot: string, what: string): string | undefined {
  const closure = analysis.inspection.closure
  const lib = closure.libraries.find((l) => l.soname === what || basename(l.path) === what) ?? (closure.interpreter?.path === what ? closure.interpreter : undefined)
  if (lib) return lib.path
  if (what === 'CA certificates') return '/etc/ssl/certs/ca-certificates.crt'
  if (what.startsWith('time zone ')) return `/usr/share/zoneinfo/${what.slice('time zone '.length)}`
  if (what.startsWith('user ')) return '/etc/passwd'
  const reader = new RootWriter(originalRoot)
  if (what.startsWith('/')) return reader.resolveDir(what.split('/').filter(Boolean), false) ? what : undefined
  for (const dir of LIB_DIRS) {
    const host = reader.resolveDir(dir.split('/').filter(Boolean), false)
    if (!host) continue
    const subdirs = ['', ...safeReaddir(host).filter((d) => d.includes('-linux-'))]
    for (const sub of subdirs) {
      if (safeReaddir(join(host, sub)).includes(what)) return join(dir, sub, what)
    }
  }
  return undefined
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

function commandOf(image: Image): string[] {
  const c = image.config.config ?? {}
  return [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])]
}

async function runProbe(label: 'original' | 'slim', image: Image, root: string, probe: Probe, programPath: string, opts: VerifyOptions): Promise<VerifyRun> {
  const c = image.config.config ?? {}
  const argv = probe.mode === 'args' ? [programPath, ...probe.args] : commandOf(image)
  if (argv.length === 0) throw new SlimError('unsupported', `${image.reference}: no ENTRYPOINT or CMD to start; give --probe ARGS`)
  const timeoutMs = (probe.mode === 'server' ? probe.seconds : opts.timeoutSeconds) * 1000
  // A runtime creates a missing WorkingDir; so does verify (inside the root, links resolved there).
  if (c.WorkingDir) new RootWriter(root).resolveDir(c.WorkingDir.split('/').filter(Boolean))
  const ready = probe.mode === 'server' ? probe.ready : undefined
  const r = await runSandboxed({ root, argv, user: c.User, workdir: c.WorkingDir, env: c.Env ?? [], network: opts.network, timeoutMs, ready })
  // The sandbox itself failing is an error, not a verdict; only the slim image's exec of a
  // missing file (the program or its interpreter) is a finding.
  const tool = /^(?:\S*\/)?(bwrap|unshare|chroot): (.*)$/m.exec(r.output)
  const missingExec = tool && /^(execvp|failed to run command).*No such file or directory/.test(tool[2])
  if (tool && (label === 'original' || !missingExec)) {
    throw new SlimError('unsupported', `the sandbox (${r.tool}) could not run ${image.reference}'s program: ${tool[0]}`)
  }
  const started = probe.mode !== 'server' ? undefined : probe.ready ? r.readiness?.ready === true : r.timedOut
  return { ...r, argv, started }
}

/**
 * The program's path in the slim image, when its command names another path than the original's:
 * a launcher that finds its home from its own path (JAVA_HOME/bin/java) is copied under its real
 * path only, and on a runtime image the command names the base's interpreter (python3.11 for
 * python3); the slim command names that real path (advise/runtime-config.ts), so the probe must
 * too. Any other difference keeps the original's path (a missing program is then what verify reports).
 */
function slimProgramPath(analysis: Analysis, slim: Image): string | undefined {
  const first = commandOf(slim)[0]
  const { path, realPath } = analysis.inspection.program
  return first && realPath && first === realPath && first !== path ? realPath : undefined
}

/** Verifies `slim` against the original of `analysis` (whose image is still open). */
export async function verifySlim(analysis: Analysis, slim: Image, opts: VerifyOptions): Promise<VerifyReport> {
  const programPath = analysis.inspection.program.path
  if (!programPath && !opts.probe) throw new SlimError('unsupported', `${analysis.image.reference}: slim found no program to verify (${analysis.advice.summary})`)
  const exposed = exposedTcpPorts(analysis.image.config.config?.ExposedPorts)
  const unavailable = sandboxTool() === 'bwrap' ? readinessUnavailable() : 'the unshare+chroot sandbox has no loopback network to connect to'
  const probe = chooseProbe(programPath, exposed, opts, unavailable)
  const max = opts.maxBytes ?? DEFAULT_MAX_TEMP_BYTES
  const orig = await unpackTemp(analysis.image, 'verify-original', max)
  try {
    const thin = await unpackTemp(slim, 'verify-slim', max)
    try {
      const original = await runProbe('original', analysis.image, orig.root, probe, programPath ?? '', opts)
      const slimRun = await runProbe('slim', slim, thin.root, probe, slimProgramPath(analysis, slim) ?? programPath ?? '', opts)
      return judge(analysis, { original: orig.root, slim: thin.root }, probe, original, slimRun, opts, [...orig.notes, ...thin.notes])
    } finally {
      await thin.remove()
    }
  } finally {
    await orig.remove()
  }
}

/**
 * "execvp /app/x: No such file or directory" when /app/x IS in the slim root means the kernel
 * could not find its interpreter (PT_INTERP): name the loader instead.
 */
function interpreterInstead(analysis: Analysis, slimRoot: string, f: { what: string; message: string }): { what: string; message: string } {
  const interp = analysis.inspection.closure.interpreter?.path
  if (!interp || !/^(execvp|chroot)/.test(f.message) || !f.what.startsWith('/')) return f
  const present = new RootWriter(slimRoot).resolveDir(f.what.split('/').filter(Boolean), false)
  return present ? { what: interp, message: `${f.message} (the program is there: its interpreter ${interp} is not)` } : f
}

export function outcome(r: VerifyRun): string {
  if (r.readiness) {
    if (r.readiness.ready) return `ready (port ${r.readiness.port} accepted a connection on attempt ${r.readiness.attempts})`
    if (r.readiness.attempts > 0) return `not ready (${r.readiness.reason} after ${r.readiness.attempts} attempts; still running)`
    return `not ready (${r.readiness.reason})`
  }
  if (r.started !== undefined) return r.started ? 'still running at the end of the window (started)' : `exited ${r.code ?? r.signal}${r.timedOut ? '' : ' before it was ready'}`
  return r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`
}

function judge(analysis: Analysis, roots: { original: string; slim: string }, probe: Probe, original: VerifyRun, slim: VerifyRun, opts: VerifyOptions, notes: string[]): VerifyReport {
  const findings: string[] = []
  const before = new Set(failuresIn(original.output).map((f) => f.what))
  const missing: Missing[] = failuresIn(slim.output)
    .filter((f) => !before.has(f.what))
    .map((f) => interpreterInstead(analysis, roots.slim, f))
    .map((f) => ({ ...f, path: locate(analysis, roots.original, f.what) }))
  for (const m of missing) {
    findings.push(`not viable: missing ${m.what}${m.path ? ` (${m.path} in the original; add --keep ${m.path})` : ''}: "${m.message}"`)
  }
  const expect = opts.expectExit
  if (expect !== undefined && probe.mode === 'args' && original.code !== expect) {
    throw new SlimError('unsupported', `the original image itself does not pass the probe (${outcome(original)}, expected ${expect}): ${firstLine(original.output)}`)
  }
  // A server that never became ready while still running: the original itself fails the probe.
  if (original.readiness && !original.readiness.ready) {
    throw new SlimError('unsupported', `the original image itself is ${outcome(original)}${original.output ? `: ${firstLine(lastFailure(original.output))}` : ''}; give the port it listens on with --port, more time with --ready-timeout, or another probe with --probe ARGS`)
  }
  // A server that became ready is judged by readiness; one that exits by itself, like a probe, by its exit code.
  const sameEnd = original.readiness?.ready ? slim.readiness?.ready === true : original.code === slim.code && original.timedOut === slim.timedOut
  if (!sameEnd) findings.push(`not viable: the slim image ${outcome(slim)}, the original ${outcome(original)}${slim.output ? `: ${firstLine(lastFailure(slim.output))}` : ''}`)
  if (expect !== undefined && probe.mode === 'args' && slim.code !== expect) findings.push(`not viable: the slim image gave exit ${slim.code}, --expect-exit ${expect}`)
  const verified = findings.length === 0
  if (verified && probe.mode === 'args' && normaliseOutput(original.output) !== normaliseOutput(slim.output)) {
    notes.push(`the output differs beyond pids and timestamps (same exit code): original "${firstLine(original.output)}", slim "${firstLine(slim.output)}"`)
  }
  return { verified, probe, original, slim, missing, findings, notes }
}

function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim() !== '') ?? ''
  return line.length > 200 ? `${line.slice(0, 200)}…` : line
}

function lastFailure(s: string): string {
  const lines = s.split('\n').filter((l) => l.trim() !== '')
  return lines.find((l) => /error|fail|not found|cannot/i.test(l)) ?? lines[0] ?? ''
}
