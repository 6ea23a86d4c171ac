/**
 * CLI wiring of `slim verify`, shared by `slim verify` and `slim build --verify`: the flags, and
 * the report as text (every value from an image escaped for the terminal).
 */
import { Flags } from '@oclif/core'
import { SlimError } from '../core/errors.js'
import { escapeControls } from '../core/text-escape.js'
import { DEFAULT_READY_SECONDS, READY_INTERVAL_MS, outcome, type VerifyOptions, type VerifyReport } from '../build/verify.js'

export const verifyFlags = {
  probe: Flags.string({ description: 'Run the program with these arguments instead of the default probe (split on spaces; repeatable, appended in order), e.g. --probe=-t or --probe "-c -f /etc/app.conf".', multiple: true, helpGroup: 'VERIFY' }),
  'expect-exit': Flags.integer({ description: 'The exit code both images must give for the probe (default: the original\'s).', helpGroup: 'VERIFY' }),
  timeout: Flags.integer({ description: 'Seconds each probe may run before the sandbox is killed.', default: 20, min: 1, helpGroup: 'VERIFY' }),
  network: Flags.boolean({ description: 'Give the sandbox the host network (default: no network at all).', default: false, helpGroup: 'VERIFY' }),
  serve: Flags.boolean({ description: 'Start the program as a server with its ENTRYPOINT/CMD and wait for its port, even where a configuration check exists (nginx -t, ...).', default: false, helpGroup: 'VERIFY' }),
  port: Flags.integer({ description: 'TCP port whose accepted connection means the server is ready (repeatable; default: the original\'s EXPOSE, else the server\'s usual port).', multiple: true, min: 1, max: 65535, helpGroup: 'VERIFY' }),
  'ready-timeout': Flags.integer({ description: `Seconds a server may take to accept a connection on its port (tried every ${READY_INTERVAL_MS} ms inside the sandbox).`, default: DEFAULT_READY_SECONDS, min: 1, helpGroup: 'VERIFY' }),
}

export interface VerifyFlagValues {
  probe?: string[]
  'expect-exit'?: number
  timeout: number
  network: boolean
  serve: boolean
  port?: number[]
  'ready-timeout': number
}

export function verifyOptionsFromFlags(flags: VerifyFlagValues, maxBytes: number | undefined): VerifyOptions {
  const probe = flags.probe?.flatMap((p) => p.split(/\s+/).filter(Boolean))
  if (flags.probe && probe!.length === 0) throw new SlimError('usage', '--probe is empty; give the arguments to run the program with, e.g. --probe=--version')
  return { probe, expectExit: flags['expect-exit'], timeoutSeconds: flags.timeout, network: flags.network, maxBytes, serve: flags.serve, ports: flags.port, readySeconds: flags['ready-timeout'] }
}

const show = (s: string): string => escapeControls(s)

function runLine(label: string, r: VerifyReport['original']): string {
  const end = outcome(r)
  const out = r.output.split('\n').find((l) => l.trim() !== '')
  return `${label}: ${end}${out ? ` — ${show(out.length > 160 ? `${out.slice(0, 160)}…` : out)}` : ''}`
}

/** The report as lines for stdout. */
export function verifyText(report: VerifyReport): string[] {
  const p = report.probe
  const probe = p.mode === 'args' || p.ready ? `probe: ${show(report.original.argv.join(' '))} (${show(p.why)})` : `probe: ${show(report.original.argv.join(' '))} for ${p.seconds}s (${show(p.why)})`
  const lines = [probe, `sandbox: ${report.original.tool}`, runLine('original', report.original), runLine('slim', report.slim)]
  for (const f of report.findings) lines.push(show(f))
  for (const n of report.notes) lines.push(`note: ${show(n)}`)
  const keeps = report.missing.filter((m) => m.path).map((m) => `--keep ${m.path}`)
  if (keeps.length > 0) lines.push(`rebuild with: ${show(keeps.join(' '))}`)
  lines.push(report.verified ? 'verified: the slim image behaves like the original for this probe' : 'not viable: the slim image does not behave like the original')
  return lines
}
