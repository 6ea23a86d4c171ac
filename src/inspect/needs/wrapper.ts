/**
 * A wrapper script that only prepares and hands over (`set -e`, `export NAME=value`, `. ENVFILE`
 * of plain assignments, `mkdir -p DIR`, then `exec "$@"`) needs no shell at run time: the final
 * image can start the program directly, with the exports as ENV and the directories made at build
 * time. Anything else in the script (a loop, a command substitution, another command) keeps the
 * shell. env-script.ts evaluates the assignments and simple conditions.
 */
import { evaluate, expandAll, newState, words } from './env-script.js'
import { readSmallText, type NeedsInput } from './context.js'

export interface ReplaceableWrapper {
  script: string
  /** Exported variables the script set, in order, with their values (expanded). */
  env: [string, string][]
  /** Directories `mkdir -p` creates before the exec (expanded, absolute). */
  mkdir: string[]
  /** Env files the script sources (`. /etc/apache2/envvars`). */
  sourced?: string[]
}

const MAX_SCRIPT = 64 * 1024

export async function replaceableWrapper(input: NeedsInput): Promise<ReplaceableWrapper | undefined> {
  const { program } = input
  // One wrapper script; other scripts on the way may only be the env files it sources (checked below).
  if (program.scripts.length === 0 || !program.chain.some((s) => s.kind === 'wrapper')) return undefined
  if (!program.path || program.kind !== 'elf') return undefined
  const script = program.scripts[0]!
  const body = await readSmallText(input, script, MAX_SCRIPT)
  if (body === undefined) return undefined
  // The script starts with the image's environment (its ENV), so `${APACHE_CONFDIR}` means the same.
  const st = newState()
  for (const [k, v] of Object.entries(program.env)) st.vars.set(k, v)
  const mkdir: string[] = []
  const sourced: string[] = []
  let execSeen = false
  let depth = 0
  const other = async (line: string): Promise<boolean> => {
    if (execSeen) return false // nothing runs after exec, but a reader should not have to prove it
    if (/^exec\s+"\$@"$/.test(line)) return (execSeen = true)
    const w = words(line)
    const v = w && expandAll(w, st)
    if (!v) return false
    if (v[0] === 'mkdir' && v[1] === '-p' && v.length > 2 && v.slice(2).every((d) => /^\/[A-Za-z0-9_./-]+$/.test(d))) {
      mkdir.push(...v.slice(2).map((d) => d.replace(/\/+$/, '') || '/'))
      return true
    }
    // `. FILE` / `source FILE`: an env file of the same plain assignments (one level deep).
    if ((v[0] === '.' || v[0] === 'source') && v.length === 2 && v[1]!.startsWith('/') && depth === 0) {
      const t = await readSmallText(input, v[1]!, MAX_SCRIPT)
      if (t === undefined) return false
      depth++
      const ok = await evaluate(t.split('\n'), st, async () => false)
      depth--
      if (ok) sourced.push(v[1]!)
      return ok
    }
    return false
  }
  const lines = body.split('\n')
  if (lines[0]?.startsWith('#!')) lines.shift()
  if (!(await evaluate(lines, st, other)) || !execSeen) return undefined
  if (!program.scripts.slice(1).every((x) => sourced.includes(x))) return undefined
  // ENV: what the script exported (runtime-config lets these win over the image's own ENV).
  const env: [string, string][] = st.exported.filter((k) => st.vars.has(k)).map((k) => [k, st.vars.get(k)!])
  return { script, env, mkdir, ...(sourced.length ? { sourced } : {}) }
}
