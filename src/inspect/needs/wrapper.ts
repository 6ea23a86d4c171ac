/**
 * A wrapper script that only prepares and hands over (`set -e`, `export NAME=value`, `mkdir -p
 * DIR`, then `exec "$@"` or `exec PROGRAM`) needs no shell at run time: the final image can start
 * the program directly, with the exports as ENV. Anything else in the script (a condition, a
 * loop, a command substitution, another command) keeps the shell.
 */
import type { NeedsInput } from './context.js'

export interface ReplaceableWrapper {
  script: string
  /** `export NAME=value` lines, in order (plain values only). */
  env: [string, string][]
  /** Directories `mkdir -p` creates before the exec. */
  mkdir: string[]
}

const MAX_SCRIPT = 64 * 1024

export async function replaceableWrapper(input: NeedsInput): Promise<ReplaceableWrapper | undefined> {
  const { program } = input
  if (program.scripts.length !== 1 || !program.chain.some((s) => s.kind === 'wrapper')) return undefined
  if (!program.path || program.kind !== 'elf') return undefined
  const script = program.scripts[0]!
  const st = input.rootfs.stat(script)
  if (!st || st.size > MAX_SCRIPT) return undefined
  let text: string
  try {
    text = (await input.readFile(script)).toString('utf8')
  } catch {
    return undefined
  }
  const env: [string, string][] = []
  const mkdir: string[] = []
  let execSeen = false
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) {
      if (i === 0 || !line.startsWith('#!')) continue
    }
    if (line.startsWith('#!')) continue
    if (execSeen) return undefined // nothing runs after exec, but a reader should not have to prove it
    if (/^set\s+-[eux]+(\s+-[eux]+)*$/.test(line) || /^set\s+-o\s+(errexit|nounset|pipefail)$/.test(line)) continue
    const exp = /^export\s+([A-Za-z_][A-Za-z0-9_]*)=("([^"$`\\]*)"|'([^']*)'|([^\s"'$`\\;&|<>()]*))$/.exec(line)
    if (exp) {
      env.push([exp[1]!, exp[3] ?? exp[4] ?? exp[5] ?? ''])
      continue
    }
    const mk = /^mkdir\s+-p\s+((?:\/[A-Za-z0-9_./-]+\s*)+)$/.exec(line)
    if (mk) {
      mkdir.push(...mk[1]!.trim().split(/\s+/))
      continue
    }
    if (/^exec\s+"\$@"$/.test(line)) {
      execSeen = true
      continue
    }
    return undefined
  }
  return execSeen ? { script, env, mkdir } : undefined
}
