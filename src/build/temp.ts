/**
 * Temp directories of the build stage, registered with src/core/temp.ts so they count against
 * the one temp budget and are removed on exit, SIGINT and SIGTERM as well as when the work ends.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { trackTemp } from '../core/temp.js'

/** Runs `work` with a fresh private temp directory, removed afterwards whatever happens. */
export async function withTempDir<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `slim-${prefix}-`))
  const handle = trackTemp(dir, { dir: true })
  try {
    return await work(dir)
  } finally {
    await handle.remove()
  }
}
