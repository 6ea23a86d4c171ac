import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const REPO = resolve(import.meta.dirname, '../..')
export const BIN = join(REPO, 'bin/run.js')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs the BUILT CLI (bin/run.js → dist/) as a user would: a separate node process, no TTY.
 * scripts/test.sh builds before the tests; a missing dist/ is a clear failure, not a skip.
 */
export function runCli(args: string[], opts: { input?: string; env?: Record<string, string | undefined>; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  if (!existsSync(join(REPO, 'dist/commands/analyze.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (scripts/test.sh does) before the end-to-end tests')
  }
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, CI: 'true', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolvePromise({ code: code ?? -1, stdout, stderr })
    })
    child.stdin.end(opts.input ?? '')
  })
}
