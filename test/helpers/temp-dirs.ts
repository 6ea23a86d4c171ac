/**
 * Temp directories a test file makes, removed together when it ends: `const temps = tempDirs()`
 * at the top of the file, `afterAll(temps.removeAll)`, and `temps.make('slim-x-')` wherever a
 * directory is needed. Tests must leave /tmp as they found it, like slim itself.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TempDirs {
  make(prefix: string): string
  removeAll(): void
}

export function tempDirs(): TempDirs {
  const made: string[] = []
  return {
    make(prefix) {
      const dir = mkdtempSync(join(tmpdir(), prefix))
      made.push(dir)
      return dir
    },
    removeAll() {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
    },
  }
}
