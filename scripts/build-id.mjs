// Writes dist/build-id.json: a sha256 of every file npm run build put in dist/ (code and data), so
// slim's analysis result cache never serves a result made by another build (src/pipeline/cached.ts).
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const dist = join(import.meta.dirname, '..', 'dist')
const OUT = join(dist, 'build-id.json')
const files = []
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) walk(p)
    else if (e.isFile() && p !== OUT) files.push(p)
  }
}
walk(dist)
const hash = createHash('sha256')
for (const f of files.map((p) => relative(dist, p)).sort()) hash.update(`${f}\0`).update(readFileSync(join(dist, f))).update('\0')
writeFileSync(OUT, `${JSON.stringify({ id: hash.digest('hex') })}\n`)
