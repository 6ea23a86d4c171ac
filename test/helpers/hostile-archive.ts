/**
 * A docker-archive whose every image-controlled string is hostile to an HTML page: file names,
 * labels, env, created_by and the entrypoint carry script tags, quotes, attribute breakers,
 * control characters and U+2028. Used by the HTML report tests.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeTar, sha256, type TarEntrySpec } from './tar-layers.js'
import type { TempDirs } from './temp-dirs.js'

/** Strings that would become markup or script if written raw. */
export const HOSTILE = [
  '<script>window.__pwned=1</script>',
  '"><img src=x onerror="window.__pwned=2">',
  "'><svg onload=window.__pwned=3>",
  '</script><script>window.__pwned=4</script>',
  '<!--',
  '\u2028\u2029&amp;',
]

/** A file name that is all of the above in one (slashes are path separators, so none). */
export const HOSTILE_FILE = 'x<script>window.__pwned=5<\u0007"q\'\u001b[31m.bin'

/** Writes the archive into a new directory of `temps` (removed with the test file's others). */
export function writeHostileArchive(temps: TempDirs): string {
  const dir = temps.make('slim-hostile-')
  const big = Buffer.alloc(40_000, 7)
  const entries: TarEntrySpec[] = [
    { name: 'app/', type: '5', mode: 0o755 },
    { name: `app/${HOSTILE_FILE}`, data: big },
    ...HOSTILE.slice(0, 4).map((h, i) => ({ name: `app/${h.replaceAll('/', '_')}${i}`, data: Buffer.alloc(20_000 + i, i + 1) })),
    // the same content twice: a duplicate the report marks
    { name: 'app/copy-of-x', data: big },
    // deleted by the next layer: dead bytes
    { name: 'app/dead', data: Buffer.alloc(30_000, 9) },
  ]
  const layer0 = makeTar(entries)
  const layer1 = makeTar([{ name: 'app/.wh.dead', data: '' }])
  writeFileSync(join(dir, 'l0.tar'), layer0)
  writeFileSync(join(dir, 'l1.tar'), layer1)
  const config = {
    architecture: 'amd64',
    os: 'linux',
    config: {
      Entrypoint: [`/app/${HOSTILE[1]}`],
      Env: [`EVIL=${HOSTILE[0]}`, 'PATH=/usr/bin'],
      Labels: Object.fromEntries(HOSTILE.map((h, i) => [`label${i}${h}`, h])),
    },
    rootfs: { type: 'layers', diff_ids: [sha256(layer0), sha256(layer1)] },
    history: [{ created_by: `RUN echo ${HOSTILE.join(' ')}` }, { created_by: HOSTILE[3] }],
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config))
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: ['hostile:latest'], Layers: ['l0.tar', 'l1.tar'] }]))
  const archive = join(dir, 'hostile.tar')
  writeFileSync(
    archive,
    makeTar(['manifest.json', 'config.json', 'l0.tar', 'l1.tar'].map((name) => ({ name, data: readFileSync(join(dir, name)) }))),
  )
  return archive
}
