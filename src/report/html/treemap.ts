/**
 * The filesystem treemap: laid out here, at generation time, with d3-hierarchy's squarified
 * treemap, and written as static SVG (one rect per tree node, a <title> each for hovering without
 * JavaScript). The page's script zooms by moving the viewBox, so nothing is laid out in the browser.
 */
import { hierarchy, treemap, treemapSquarify, type HierarchyRectangularNode } from 'd3-hierarchy'
import { humanBytes } from '../../core/format.js'
import { esc } from './escape.js'
import type { ReportTree, ReportTreeNode } from './fs-tree.js'

export const TREEMAP_WIDTH = 1200
export const TREEMAP_HEIGHT = 720

/** What the search box looks through: one row per box, [path, bytes, class, collapsed count, parent row or -1]. */
export type SearchRow = [string, number, string, number, number]

interface Box {
  name: string
  path: string
  size: number
  cls: string
  dup: number
  collapsed?: number
  dead?: boolean
  children?: Box[]
}

const LABEL: Record<string, string> = { program: 'program', library: 'library', need: 'runtime need', dropped: 'dropped', dead: 'dead bytes' }
const r = (n: number): number => Math.round(n * 10) / 10

/**
 * The SVG and the search rows. `deadBytes` is drawn as its own box beside the filesystem: bytes
 * the layers store that no path of the final image shows.
 */
export function treemapSvg(tree: ReportTree, deadBytes: number): { svg: string; rows: SearchRow[] } {
  const fs = toBox(tree.root)
  const data: Box =
    deadBytes > 0
      ? { name: '', path: '', size: 0, cls: 'dropped', dup: 0, children: [fs, { name: 'dead bytes (stored in layers, never visible)', path: '(dead bytes)', size: deadBytes, cls: 'dead', dup: 0, dead: true }] }
      : fs
  const root = hierarchy<Box>(data, (d) => d.children)
    .sum((d) => (d.children ? 0 : d.size))
    .sort((a, b) => (b.value ?? 0) - (a.value ?? 0))
  const layout = treemap<Box>()
    .tile(treemapSquarify)
    .size([TREEMAP_WIDTH, TREEMAP_HEIGHT])
    .paddingInner(0.6)
    .paddingOuter((n) => (n.depth === 0 && deadBytes > 0 ? 0 : Math.min(2, (n.x1 - n.x0) / 40)))
    // A band on top of each directory for its name, smaller as the box gets smaller.
    .paddingTop((n) => (n.depth === 0 && deadBytes > 0 ? 0 : Math.min(14, Math.max(0.3, (n.y1 - n.y0) / 9))))
  const laid = layout(root)

  const rows: SearchRow[] = []
  const parts: string[] = []
  const rowOf = new Map<HierarchyRectangularNode<Box>, number>()
  for (const n of laid.descendants()) {
    if (n.depth === 0 && deadBytes > 0) continue
    const w = n.x1 - n.x0
    const h = n.y1 - n.y0
    if (w <= 0 || h <= 0) continue
    const d = n.data
    const i = rows.length
    rowOf.set(n, i)
    rows.push([d.path, d.size, d.cls, d.collapsed ?? 0, n.parent ? (rowOf.get(n.parent) ?? -1) : -1])
    const dir = !!d.children
    const kind = dir ? 'd' : `f k-${d.cls}${d.dup > 0 && d.dup >= d.size / 2 ? ' dup' : ''}`
    const title = `${d.collapsed ? `${d.path === '/' ? '' : d.path}/… ${d.name}` : d.path}: ${humanBytes(d.size)}${d.dead ? '' : `, ${LABEL[d.cls]}`}${d.dup > 0 ? `, ${humanBytes(d.dup)} duplicate copies` : ''}`
    parts.push(`<g id="t${i}" class="${kind}"><rect x="${r(n.x0)}" y="${r(n.y0)}" width="${r(w)}" height="${r(h)}"><title>${esc(title)}</title></rect>${label(n, dir)}</g>`)
  }
  const svg =
    `<svg id="treemap" viewBox="0 0 ${TREEMAP_WIDTH} ${TREEMAP_HEIGHT}" preserveAspectRatio="xMidYMid meet" role="img" aria-label="Treemap of the final filesystem by size">` +
    `<defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="4" height="4" fill="#fee2e2"/><rect width="2" height="4" fill="#b91c1c" fill-opacity=".5"/></pattern></defs>` +
    parts.join('') +
    '</svg>'
  return { svg, rows }
}

function toBox(n: ReportTreeNode): Box {
  const b: Box = { name: n.name, path: n.path, size: n.size, cls: n.cls, dup: n.dup, collapsed: n.collapsed }
  if (n.children && n.children.length > 0) b.children = n.children.map(toBox)
  return b
}

/** A label fitted to the box (directories: in their top band); none where it could not be read even zoomed in. */
function label(n: HierarchyRectangularNode<Box>, dir: boolean): string {
  const w = n.x1 - n.x0
  const h = n.y1 - n.y0
  const text = n.depth === 0 || (n.depth === 1 && n.parent && !n.parent.data.path) ? n.data.path || n.data.name : n.data.name
  const band = dir ? Math.min(14, Math.max(0.3, h / 9)) : h
  const size = Math.min(12, band * 0.8, (w / Math.max(4, text.length + 10)) * 1.7)
  if (size < 0.6) return ''
  const caption = dir || h < size * 2.6 ? `${text} ${humanBytes(n.data.size)}` : text
  const second = !dir && h >= size * 2.6 ? `<tspan x="${r(n.x0 + size * 0.3)}" dy="1.2em" class="s">${esc(humanBytes(n.data.size))}</tspan>` : ''
  return `<text x="${r(n.x0 + size * 0.3)}" y="${r(n.y0 + size * 1.05)}" font-size="${r(size)}">${esc(dir || h < size * 2.6 ? caption : text)}${second}</text>`
}
