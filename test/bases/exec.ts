/** Small process helpers for the test-base builder: run a tool, fail with its stderr. */
import { execFile } from 'node:child_process'
import { constants } from 'node:os'

export interface RunResult {
  stdout: string
  stderr: string
}

/** Runs `cmd args`, resolves with its output; rejects with the command line and stderr on a
 * non-zero exit so a failed build step says which tool failed and why. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; maxBuffer?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: opts.env, maxBuffer: opts.maxBuffer ?? 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException & { code?: unknown }).code
          reject(new Error(`${cmd} ${args.join(' ')} failed (${String(code)}): ${stderr.trim() || err.message}`))
        } else resolve({ stdout, stderr })
      },
    )
    if (opts.input !== undefined) child.stdin?.end(opts.input)
  })
}

/** The shell's view of how a child ended: its exit code, or 128 + signal number when killed. */
function exitStatus(err: unknown): number {
  if (!err) return 0
  const e = err as { code?: unknown; signal?: NodeJS.Signals | null }
  if (typeof e.code === 'number') return e.code
  if (e.signal) return 128 + (constants.signals[e.signal] ?? 0)
  return 1
}

/** Like run(), but resolves with the exit status instead of rejecting (for negative checks). */
export function runStatus(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<RunResult & { status: number }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, status: exitStatus(err) })
    })
  })
}
