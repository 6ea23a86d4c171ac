/**
 * Server readiness for `slim verify`: a TCP connect loop run INSIDE the sandbox's network
 * namespace (the sandbox has its own, with only loopback, unless --network), from the host's own
 * node joined to that namespace with nsenter. Nothing from the image runs outside the sandbox; the
 * prober is slim's node, sharing only the network namespace (not the image's files).
 *
 * The loop is counted, not timed by the caller: `attempts` rounds, `intervalMs` apart, each trying
 * every port on 127.0.0.1 and ::1. It prints `ready PORT ROUND` or `not-ready ROUNDS` and exits.
 * A connection the kernel completed counts even when the prober itself was starved of CPU for
 * longer than the interval (a loaded machine): the per-attempt timeout only applies after the
 * I/O that came in meanwhile has been seen.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

export interface ReadyCheck {
  ports: number[]
  attempts: number
  intervalMs: number
}

export type Readiness =
  | { ready: true; port: number; attempts: number }
  | { ready: false; attempts: number; reason: string }

// Kept short and dependency-free: it runs as `node -e` in the sandbox's network namespace.
const PROBER = `
const net = require('net')
const ports = process.argv[1].split(',').map(Number), attempts = +process.argv[2], interval = +process.argv[3]
let round = 0
function once() {
  round++
  const targets = ports.flatMap((port) => [['127.0.0.1', port], ['::1', port]])
  let pending = targets.length, done = false
  for (const [host, port] of targets) {
    const s = net.connect({ host, port })
    s.setTimeout(interval)
    s.on('connect', () => { if (!done) { done = true; process.stdout.write('ready ' + port + ' ' + round + '\\n'); s.destroy(); process.exit(0) } })
    let failed = false
    const fail = () => {
      if (failed) return
      failed = true
      s.destroy()
      if (--pending > 0 || done) return
      if (round >= attempts) { process.stdout.write('not-ready ' + round + '\\n'); process.exit(0) }
      setTimeout(once, interval)
    }
    s.on('error', fail)
    // Timers run before I/O: a prober starved past the interval would see the timeout before the
    // connect the kernel already completed. Decide after the next I/O poll (setImmediate), where
    // a completed connect has run its handler (and exited) first.
    s.on('timeout', () => setImmediate(fail))
  }
}
once()
`

function nsenterPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/bin', '/bin', '/usr/sbin'])) {
    if (dir && existsSync(join(dir, 'nsenter'))) return join(dir, 'nsenter')
  }
  return undefined
}

/** Why readiness by port cannot be checked here, or undefined when it can. */
export function readinessUnavailable(): string | undefined {
  return nsenterPath() ? undefined : 'nsenter (util-linux) is not installed'
}

/** Parses the prober's last line. */
export function parseProberOutput(text: string): Readiness | undefined {
  const ready = /^ready (\d+) (\d+)$/m.exec(text)
  if (ready) return { ready: true, port: Number(ready[1]), attempts: Number(ready[2]) }
  const not = /^not-ready (\d+)$/m.exec(text)
  if (not) return { ready: false, attempts: Number(not[1]), reason: 'nothing accepted a connection' }
  return undefined
}

/**
 * Starts the prober in the network namespace of process `pid` (joining its user namespace too when
 * slim is not root, as the namespace's owner may). `done` gets the result once.
 */
export function startProber(pid: number, check: ReadyCheck, sharedNetwork: boolean, done: (r: Readiness) => void): ChildProcess {
  const nsenter = nsenterPath()!
  const enter = sharedNetwork ? [] : process.getuid?.() === 0 ? [nsenter, '--target', String(pid), '--net', '--'] : [nsenter, '--target', String(pid), '--user', '--net', '--preserve-credentials', '--']
  const argv = [...enter, process.execPath, '-e', PROBER, check.ports.join(','), String(check.attempts), String(check.intervalMs)]
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  let reported = false
  const report = (r: Readiness): void => {
    if (!reported) {
      reported = true
      done(r)
    }
  }
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString('utf8')
    const r = parseProberOutput(out)
    if (r) report(r)
  })
  child.stderr!.on('data', (b: Buffer) => {
    if (err.length < 4096) err += b.toString('utf8')
  })
  child.on('error', (e) => report({ ready: false, attempts: 0, reason: `the port prober could not start: ${e.message}` }))
  child.on('close', () => report(parseProberOutput(out) ?? { ready: false, attempts: 0, reason: `the port prober failed: ${err.trim().split('\n')[0] || 'no output'}` }))
  return child
}
