/**
 * Temp directories of the build and verify stages: made under the system temp dir, removed when
 * the work is done and, should slim be interrupted, on exit, SIGINT and SIGTERM. (A shared helper
 * in src/core may replace this once one lands; this stays small on purpose.)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const live = new Set<string>()
let installed = false

function cleanupAll(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true })
  live.clear()
}

function install(): void {
  if (installed) return
  installed = true
  process.once('exit', cleanupAll)
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      cleanupAll()
      process.exit(code)
    })
  }
}

/** Runs `work` with a fresh private temp directory, removed afterwards whatever happens. */
export async function withTempDir<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  install()
  const dir = mkdtempSync(join(tmpdir(), `slim-${prefix}-`))
  live.add(dir)
  try {
    return await work(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
    live.delete(dir)
  }
}
