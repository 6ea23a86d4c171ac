/**
 * The program -> library closure as a layered graph (which object pulled in which), laid out at
 * generation time with dagre and written as static SVG. Edges follow `neededBy`: every object
 * that needs a library points at it, not only the first one that made the loader load it.
 */
import dagre from '@dagrejs/dagre'
import { humanBytes } from '../../core/format.js'
import type { Closure } from '../../inspect/types.js'
import { esc } from './escape.js'

const CHAR = 6.6 // average glyph width at the graph's 11px font
const NODE_H = 34

interface GraphNode {
  id: string
  label: string
  sub: string
  kind: 'root' | 'lib' | 'missing'
  title: string
}

/** The SVG, or '' when the program loads no library (static, or no ELF). */
export function closureSvg(closure: Pick<Closure, 'roots' | 'libraries' | 'unresolved'>): string {
  if (closure.libraries.length === 0 && closure.unresolved.length === 0) return ''
  const nodes = new Map<string, GraphNode>()
  const edges: Array<[string, string]> = []
  const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1) || p
  for (const root of closure.roots) nodes.set(root, { id: root, label: base(root), sub: 'program', kind: 'root', title: root })
  for (const l of closure.libraries) {
    nodes.set(l.realPath, { id: l.realPath, label: l.name, sub: humanBytes(l.size), kind: 'lib', title: `${l.path} → ${l.realPath}, ${humanBytes(l.size)}, found by ${l.rule} (${l.via})` })
  }
  for (const u of closure.unresolved) nodes.set(`missing:${u.name}`, { id: `missing:${u.name}`, label: u.name, sub: 'not found', kind: 'missing', title: `${u.name}: not found (searched ${u.searched.join(', ')})` })
  const link = (from: string, to: string): void => {
    if (!nodes.has(from)) nodes.set(from, { id: from, label: base(from), sub: '', kind: 'lib', title: from })
    edges.push([from, to])
  }
  for (const l of closure.libraries) for (const by of l.neededBy) if (by !== l.realPath) link(by, l.realPath)
  for (const u of closure.unresolved) for (const by of u.neededBy) link(by, `missing:${u.name}`)

  const g = new dagre.graphlib.Graph()
  g.setGraph({ rankdir: 'LR', nodesep: 8, ranksep: 46, marginx: 4, marginy: 4 })
  g.setDefaultEdgeLabel(() => ({}))
  for (const n of nodes.values()) g.setNode(n.id, { width: Math.max(n.label.length, n.sub.length) * CHAR + 16, height: NODE_H })
  for (const [a, b] of edges) g.setEdge(a, b)
  dagre.layout(g)

  const { width = 0, height = 0 } = g.graph()
  const out: string[] = []
  for (const e of g.edges()) {
    const pts = g.edge(e).points as Array<{ x: number; y: number }>
    out.push(`<path class="e" d="M${pts.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join('L')}"/>`)
  }
  for (const n of nodes.values()) {
    const p = g.node(n.id)
    const x = p.x - p.width / 2
    const y = p.y - p.height / 2
    out.push(
      `<g class="n ${n.kind}"><rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${p.width.toFixed(1)}" height="${p.height}" rx="5"><title>${esc(n.title)}</title></rect>` +
        `<text x="${(x + 8).toFixed(1)}" y="${(y + 14).toFixed(1)}">${esc(n.label)}</text>` +
        `<text class="s" x="${(x + 8).toFixed(1)}" y="${(y + 27).toFixed(1)}">${esc(n.sub)}</text></g>`,
    )
  }
  return (
    `<svg id="closure" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" width="${Math.ceil(width)}" role="img" aria-label="Library closure graph">` +
    `<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L8,4L0,8z" fill="#94a3b8"/></marker></defs>` +
    out.join('') +
    '</svg>'
  )
}
