import { execFileSync } from 'node:child_process'

/** Whether `tool` is on PATH (for `it.skipIf(!hasTool(...))`, so a missing tool is a visible skip). */
export function hasTool(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
