/**
 * Issue 8 item 9, second half: an ELF entrypoint far bigger than the index pass keeps in memory is
 * read by ranges (header, tables, dynamic section, notes), never whole. The program is a real one:
 * a tiny C program compiled here, made 400 MiB big by an extra section of zeros (objcopy), so it is
 * still a valid ELF that runs. Its analysis must equal the small program's, with bounded RSS.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HAVE_GNU_TIME, runMeasured, sha256, writeLayout, type LayerBlob } from './helpers/hostile-layout.js'
import { makeTar, tarHeader } from './helpers/tar-layers.js'

const MB = 1024 * 1024
const HAVE_TOOLS = spawnSync('gcc', ['--version']).status === 0 && spawnSync('objcopy', ['--version']).status === 0
const LOADER = '/lib64/ld-linux-x86-64.so.2'
const LIBC = '/lib/x86_64-linux-gnu/libc.so.6'
const PAD = 400 * MB
let work: string

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'slim-big-elf-'))
})
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** An uncompressed layer: the program at /app/prog, the loader and libc from this machine. */
function layerWith(prog: Buffer): LayerBlob {
  const libs = makeTar(
    [
      { name: 'lib64/ld-linux-x86-64.so.2', data: readFileSync(LOADER), mode: 0o755 },
      { name: 'lib/x86_64-linux-gnu/libc.so.6', data: readFileSync(LIBC), mode: 0o755 },
    ],
    { end: false },
  )
  const rest = prog.length % 512
  const tar = Buffer.concat([libs, tarHeader({ name: 'app/prog', mode: 0o755 }, prog.length), prog, Buffer.alloc(rest ? 512 - rest : 0), Buffer.alloc(1024)])
  return { blob: tar, diffId: sha256(tar), mediaType: 'application/vnd.oci.image.layer.v1.tar' }
}

async function analyze(name: string, prog: Buffer) {
  const dir = join(work, name)
  await writeLayout(dir, 'latest', [layerWith(prog)], { Entrypoint: ['/app/prog'] })
  const tmp = join(work, `tmp-${name}`)
  mkdirSync(tmp)
  const r = await runMeasured(['analyze', `oci:${dir}:latest`, '--no-cache', '--json'], { env: { TMPDIR: tmp }, timeoutMs: 300_000 })
  expect(r.code, r.stderr).toBe(0)
  // The big program's temp copy (read by ranges) is gone once the analysis ends.
  expect(readdirSync(tmp)).toEqual([])
  return { run: r, doc: JSON.parse(r.stdout) }
}

describe('item 9: a 400 MiB ELF entrypoint is read by ranges', () => {
  it.skipIf(!HAVE_TOOLS || !HAVE_GNU_TIME || process.arch !== 'x64')('gives the small program\'s closure and needs, with bounded RSS', async () => {
    const src = join(work, 'prog.c')
    writeFileSync(src, '#include <stdio.h>\nint main(void) { puts("hello from a big program"); return 0; }\n')
    const small = join(work, 'prog')
    const big = join(work, 'prog-big')
    const zeros = join(work, 'zeros')
    execFileSync('gcc', ['-O2', '-o', small, src])
    writeFileSync(zeros, Buffer.alloc(PAD))
    execFileSync('objcopy', ['--add-section', `.slim_pad=${zeros}`, small, big])
    rmSync(zeros)
    expect(statSync(big).size).toBeGreaterThan(PAD)
    // Still a program that runs.
    expect(execFileSync(big).toString()).toBe('hello from a big program\n')

    const a = await analyze('small', readFileSync(small))
    const b = await analyze('big', readFileSync(big))
    const facts = (doc: { inspection: Record<string, any> }) => {
      const i = doc.inspection
      return {
        elf: { ...i.elf, path: undefined },
        libraries: i.closure.libraries.map((l: { name: string; path: string }) => `${l.name} ${l.path}`),
        unresolved: i.closure.unresolved,
        needs: i.needs.map((n: { kind: string; present: boolean }) => `${n.kind} ${n.present}`),
        findings: i.findings,
      }
    }
    expect(facts(b.doc)).toEqual(facts(a.doc))
    expect(b.doc.inspection.closure.libraries.map((l: { name: string }) => l.name)).toContain('libc.so.6')
    console.log(`big ELF (${Math.round(statSync(big).size / MB)} MiB): peak RSS ${Math.round(b.run.peakRss / MB)} MB (small: ${Math.round(a.run.peakRss / MB)} MB), ${b.run.ms} ms`)
    expect(b.run.peakRss).toBeLessThan(300 * MB)
  }, 600_000)
})
