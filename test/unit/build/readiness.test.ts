/**
 * The port prober (src/build/readiness.ts) as it runs, on the host network (sharedNetwork, so no
 * nsenter): a prober starved of CPU right after it asked for a connection must still count the
 * connection the kernel completed meanwhile. The starvation is made deterministic by a --require
 * hook that blocks the prober's event loop after its first connect() for longer than the interval;
 * what is asserted is the counted verdict (ready on attempt 1), never a time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startProber, type Readiness } from '../../../src/build/readiness.js'

let dir: string
let server: Server
let port: number

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slim-prober-'))
  server = createServer((c) => c.destroy())
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  port = (server.address() as { port: number }).port
})

afterAll(async () => {
  await new Promise((r) => server.close(r))
  rmSync(dir, { recursive: true, force: true })
})

/** Runs the prober with `hook` preloaded (NODE_OPTIONS reaches the child through the environment). */
async function probe(hook: string | undefined, check: { ports: number[]; attempts: number; intervalMs: number }): Promise<Readiness> {
  const saved = process.env.NODE_OPTIONS
  if (hook) {
    const file = join(dir, 'hook.cjs')
    writeFileSync(file, hook)
    process.env.NODE_OPTIONS = `--require ${file}`
  }
  try {
    return await new Promise<Readiness>((resolve) => startProber(process.pid, check, true, resolve))
  } finally {
    if (saved === undefined) delete process.env.NODE_OPTIONS
    else process.env.NODE_OPTIONS = saved
  }
}

// After the first round is set up, the event loop is blocked 6 intervals long: the
// kernel completes the loopback handshake meanwhile, and the prober's timers come due first.
const STARVE_AFTER_FIRST_CONNECT = `
const net = require('net'), connect = net.connect
let first = true
net.connect = function (...args) {
  const s = connect.apply(this, args)
  // Once the round's sockets are set up (their timeouts armed), before the loop goes on.
  if (first) { first = false; queueMicrotask(() => { const t = Date.now(); while (Date.now() - t < 300) {} }) }
  return s
}
`

describe('port prober', () => {
  it('counts a connection completed while it was starved past its interval: ready on the first attempt', async () => {
    const r = await probe(STARVE_AFTER_FIRST_CONNECT, { ports: [port], attempts: 1, intervalMs: 50 })
    expect(r).toEqual({ ready: true, port, attempts: 1 })
  })

  it('without starvation: ready at once on a listening port, not ready after exactly the counted attempts on a closed one', async () => {
    expect(await probe(undefined, { ports: [port], attempts: 3, intervalMs: 50 })).toEqual({ ready: true, port, attempts: 1 })
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const free = (closed.address() as { port: number }).port
    await new Promise((r) => closed.close(r))
    expect(await probe(undefined, { ports: [free], attempts: 3, intervalMs: 50 })).toEqual({ ready: false, attempts: 3, reason: 'nothing accepted a connection' })
  })
})
