/**
 * Races for the caches' "two processes writing the same entry at once" tests: one TypeScript
 * script run by two tsx processes that start their work together. The script body sees `id`
 * ('0' or '1'), `other` (the other one's id), `barrier` (a path prefix for more rendezvous files of
 * its own) and `args`, and has existsSync, readFileSync and writeFileSync imported.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

const TSX = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname

/** Writes the script into `dir`, runs it twice at once with `args`, and returns each one's trimmed stdout. */
export async function runTwoAtOnce(dir: string, body: string, args: string[]): Promise<string[]> {
  const script = join(dir, 'two-processes.mts')
  const barrier = join(dir, 'barrier')
  writeFileSync(
    script,
    `import { existsSync, readFileSync, writeFileSync } from 'node:fs'
const [barrier, id, ...args] = process.argv.slice(2)
const other = id === '0' ? '1' : '0'
writeFileSync(barrier + '.ready-' + id, '')
while (!existsSync(barrier + '.ready-' + other)) await new Promise((r) => setTimeout(r, 5))
${body}`,
  )
  return Promise.all(['0', '1'].map((id) => runNode(TSX, [script, barrier, id, ...args])))
}

function runNode(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`${cmd} exited ${code}: ${err}`))))
  })
}
