/**
 * How big the HTML report's treemap gets for a large image: a synthetic 1.5 GB image of 100,000
 * files in 2,000 directories (sizes heavy-tailed, like a real rootfs), streamed through the real
 * layer index (content not hashed), then the report tree and the treemap SVG. Prints the boxes
 * drawn and the bytes of the treemap and its search data. Nothing here asserts: it prints numbers.
 *
 *   npx tsx bench/html-report.ts
 */
import { Readable } from 'node:stream'
import { buildIndex } from '../src/layers/build-index.js'
import { reportTree } from '../src/report/html/fs-tree.js'
import { jsonForScript } from '../src/report/html/escape.js'
import { treemapSvg } from '../src/report/html/treemap.js'
import { makeImage, tarHeader } from '../test/helpers/tar-layers.js'

const FILES = 100_000
const DIRS = 2_000
const TOTAL = 1.5e9

// Pareto-like sizes scaled to TOTAL, from a fixed seed so runs compare.
let seed = 42
const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
const raw = Array.from({ length: FILES }, () => 1 / Math.pow(1 - rand() * 0.999, 1 / 1.1))
const scale = TOTAL / raw.reduce((a, b) => a + b, 0)
const sizes = raw.map((r) => Math.max(1, Math.round(r * scale)))

function* tar(): Generator<Buffer> {
  const zeros = Buffer.alloc(1 << 20)
  for (let d = 0; d < DIRS; d++) {
    const dir = `d${d % 20}/s${Math.floor(d / 20) % 10}/x${d}/`
    if (d < 20) yield tarHeader({ name: `d${d}/`, type: '5' }, 0)
    if (d < 200) yield tarHeader({ name: `d${d % 20}/s${Math.floor(d / 20) % 10}/`, type: '5' }, 0)
    yield tarHeader({ name: dir, type: '5' }, 0)
    for (let f = d; f < FILES; f += DIRS) {
      const size = sizes[f]!
      yield tarHeader({ name: `${dir}file${f}` }, size)
      let left = size + ((512 - (size % 512)) % 512)
      while (left > 0) {
        const n = Math.min(left, zeros.length)
        yield zeros.subarray(0, n)
        left -= n
      }
    }
  }
  yield Buffer.alloc(1024)
}

const layer = {
  index: 0,
  digest: 'sha256:' + '0'.repeat(64),
  mediaType: 'application/vnd.oci.image.layer.v1.tar',
  size: -1,
  compressed: async () => Readable.from(tar()),
  uncompressed: async () => Readable.from(tar()),
}
const index = await buildIndex(makeImage([layer]), { hashContent: false })
const tree = reportTree(index, new Map())
const { svg, rows } = treemapSvg(tree, 0)
const data = jsonForScript(rows)
console.log(`image: ${FILES} files, ${(tree.root.size / 1e9).toFixed(2)} GB; collapse threshold ${tree.threshold} B`)
console.log(`treemap: ${tree.nodes} tree nodes, ${rows.length} boxes, SVG ${(svg.length / 1e3).toFixed(0)} kB, search data ${(data.length / 1e3).toFixed(0)} kB`)
