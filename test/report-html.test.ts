/**
 * The HTML reports: the filesystem tree they draw, the command's --format/-o, and escaping: a
 * hostile image's names, labels and commands must never become markup or script. Pages are
 * parsed with parse5 (the WHATWG parsing algorithm browsers use); the browser test is beside this.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import Ajv2020 from 'ajv/dist/2020.js'
import { parse } from 'parse5'
import { describe, expect, it, afterAll } from 'vitest'
import { buildIndex } from '../src/layers/build-index.js'
import { CSS, SCRIPT } from '../src/report/html/assets.js'
import { renderAuditHtml, repositoryOf } from '../src/report/html/audit.js'
import { jsonForScript } from '../src/report/html/escape.js'
import { reportTree, type ReportTreeNode } from '../src/report/html/fs-tree.js'
import { REPO, runCli } from './helpers/cli.js'
import { auditDoc } from './helpers/audit-doc.js'
import { HOSTILE, HOSTILE_FILE, writeHostileArchive } from './helpers/hostile-archive.js'
import { imageOf, makeTar } from './helpers/tar-layers.js'
import { tempDirs } from './helpers/temp-dirs.js'

const temps = tempDirs()
afterAll(temps.removeAll)

const HELLO = 'oci-archive:fixtures/images/hello-static.oci.tar'

interface El {
  nodeName: string
  tagName?: string
  attrs?: Array<{ name: string; value: string }>
  childNodes?: El[]
  value?: string
  content?: El
}

function* elements(n: El): Generator<El> {
  if (n.tagName) yield n
  for (const c of n.childNodes ?? []) yield* elements(c)
  if (n.content) yield* elements(n.content)
}

function textOf(n: El): string {
  if (n.nodeName === '#text') return n.value ?? ''
  return (n.childNodes ?? []).map(textOf).join('')
}

/** Every element and attribute the reports write; anything else in a parsed page was injected. */
const TAGS = new Set(
  ('html head meta title style body main header h1 h2 h3 h4 div span b i code pre p a ul li dl dt dd table thead tbody tr th td ' +
    'section details summary button input script svg defs pattern marker rect g text tspan path br').split(' '),
)
const ATTRS = new Set(
  ('lang charset name content http-equiv id class style title hidden disabled type placeholder aria-label aria-sort href role ' +
    'viewBox preserveAspectRatio width height x y rx dy fill fill-opacity font-size patternUnits patternTransform refX refY ' +
    'markerWidth markerHeight orient d text-anchor data-k data-v data-sort open').split(' ').map((a) => a.toLowerCase()),
)

/** Parses a page and checks it holds only the reports' own elements, attributes and scripts. */
function assertNoInjection(html: string): El {
  const doc = parse(html) as unknown as El
  const scripts: string[] = []
  for (const el of elements(doc)) {
    expect(TAGS.has(el.tagName!), `unexpected element <${el.tagName}>`).toBe(true)
    for (const a of el.attrs ?? []) {
      expect(ATTRS.has(a.name.toLowerCase()), `unexpected attribute ${a.name} on <${el.tagName}>`).toBe(true)
      expect(a.name.toLowerCase().startsWith('on')).toBe(false)
      if (a.name === 'href') expect(a.value).toMatch(/^#[a-z0-9-]+$/)
    }
    if (el.tagName === 'script') scripts.push(textOf(el))
    if (el.tagName === 'style') expect(textOf(el)).toBe(CSS)
  }
  // Our one script, and JSON data blocks that parse back.
  expect(scripts.filter((s) => s === SCRIPT)).toHaveLength(1)
  for (const s of scripts.filter((x) => x !== SCRIPT)) expect(() => JSON.parse(s)).not.toThrow()
  return doc
}

function find(n: ReportTreeNode, path: string): ReportTreeNode | undefined {
  if (n.path === path && !n.collapsed) return n
  for (const c of n.children ?? []) {
    const f = find(c, path)
    if (f) return f
  }
  return undefined
}

describe('report tree', () => {
  it('sums sizes, classes kept paths (through directory symlinks), marks duplicates and groups small entries', async () => {
    const lib = Buffer.alloc(50_000, 1)
    const tar = makeTar([
      { name: 'app/', type: '5' },
      { name: 'app/prog', data: Buffer.alloc(100_000, 2), mode: 0o755 },
      { name: 'usr/', type: '5' },
      { name: 'usr/lib/', type: '5' },
      { name: 'usr/lib/libx.so.1', data: lib },
      { name: 'usr/lib/unused.so', data: 'not needed' },
      { name: 'lib', type: '2', linkname: 'usr/lib' },
      { name: 'etc/', type: '5' },
      { name: 'etc/ssl/', type: '5' },
      { name: 'etc/ssl/ca.pem', data: Buffer.alloc(30_000, 3) },
      { name: 'opt/', type: '5' },
      { name: 'opt/copy-of-lib', data: lib },
      { name: 'doc/', type: '5' },
      ...Array.from({ length: 40 }, (_, i) => ({ name: `doc/page${i}.txt`, data: Buffer.alloc(10 + i, 4) })),
    ])
    const index = await buildIndex(imageOf(tar))
    const kept = new Map([
      ['/app/prog', 'program' as const],
      ['/lib/libx.so.1', 'library' as const],
      ['/lib', 'library' as const], // a directory symlink crossed on the way: the link, not usr/lib's tree
      ['/etc/ssl', 'need' as const],
    ])
    const t = reportTree(index, kept)
    const docBytes = Array.from({ length: 40 }, (_, i) => 10 + i).reduce((a, b) => a + b, 0)
    expect(t.root.size).toBe(100_000 + 50_000 + 10 + 30_000 + 50_000 + docBytes)
    expect(find(t.root, '/app/prog')).toMatchObject({ cls: 'program', size: 100_000, kept: 100_000 })
    expect(find(t.root, '/usr/lib/libx.so.1')).toMatchObject({ cls: 'library', dup: 0 })
    expect(find(t.root, '/etc/ssl/ca.pem')).toMatchObject({ cls: 'need' })
    expect(find(t.root, '/usr/lib')).toMatchObject({ cls: 'library', kept: 50_000 })
    expect(find(t.root, '/usr/lib/unused.so')).toMatchObject({ cls: 'dropped', kept: 0 })
    expect(t.threshold).toBe(Math.floor(t.root.size / 1000))
    // the second path of the same content is the duplicate copy, and dropped
    expect(find(t.root, '/opt/copy-of-lib')).toMatchObject({ cls: 'dropped', dup: 50_000 })
    expect(t.root.kept).toBe(180_000)
    expect(t.root.dup).toBe(50_000)
    // /doc's pages are each below 0.1 % of the total: one group of 40
    const doc = find(t.root, '/doc')!
    expect(doc.children).toHaveLength(1)
    expect(doc.children![0]).toMatchObject({ collapsed: 40, name: '40 small entries', size: docBytes, entries: 40 })
    expect(t.nodes).toBeLessThan(20)
  })
})

describe('slim analyze --format html (built CLI)', () => {
  it('a hostile image: no name, label, env or command becomes an element, an attribute or a script', async () => {
    const archive = writeHostileArchive(temps)
    const out = join(temps.make('slim-html-'), 'report.html')
    const r = await runCli(['analyze', `docker-archive:${archive}`, '--format', 'html', '-o', out])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('')
    const html = readFileSync(out, 'utf8')
    const doc = assertNoInjection(html)
    const text = textOf(doc)
    // The hostile strings are on the page as text (labels, env, created_by, file names in titles).
    for (const h of HOSTILE.slice(0, 4)) expect(text).toContain(h)
    // Control characters are shown, not passed through.
    expect(text).toContain('x<script>window.__pwned=5<\\u0007"q\'\\u001b[31m.bin')
    expect(html).not.toContain('\u0007')
    expect(html).not.toContain('\u001b')
    expect(html).not.toMatch(/<script>window/)
    // The search data holds the names escaped for a script block, and reads back exactly.
    const rows = JSON.parse(html.match(/<script type="application\/json" id="tm-rows">([^<]*)<\/script>/)![1]!) as Array<[string]>
    expect(rows.some(([p]) => p === `/app/${HOSTILE_FILE}`)).toBe(true)
    expect(html.length).toBeLessThan(1_000_000)
  })

  it('--format json is --json; -o writes the report to a file; --json with --format html is a usage error', async () => {
    const [a, b] = await Promise.all([runCli(['analyze', HELLO, '--json']), runCli(['analyze', HELLO, '--format', 'json'])])
    expect(a.code).toBe(0)
    expect(JSON.parse(b.stdout)).toEqual(JSON.parse(a.stdout))
    const out = join(temps.make('slim-html-'), 'r.html')
    const html = await runCli(['analyze', HELLO, '--format', 'html', '--output', out])
    expect(html.code, html.stderr).toBe(0)
    const page = readFileSync(out, 'utf8')
    expect(page.startsWith('<!DOCTYPE html>')).toBe(true)
    expect(page).toContain('/app/hello')
    assertNoInjection(page)
    const both = await runCli(['analyze', HELLO, '--json', '--format', 'html'])
    expect(both.code).toBe(2)
    expect(both.stderr).toMatch(/--json and --format html: choose one/)
  })
})

/** The audit schema: in the repository once the audit command lands, else from the `audit` branch. */
function auditSchema(): object | undefined {
  const inRepo = join(REPO, 'schema/audit.schema.json')
  if (existsSync(inRepo)) return JSON.parse(readFileSync(inRepo, 'utf8'))
  try {
    return JSON.parse(execFileSync('git', ['-C', REPO, 'show', 'audit:schema/audit.schema.json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))
  } catch {
    return undefined
  }
}

describe('slim audit --format html (renderer)', () => {
  const schema = auditSchema()
  it.skipIf(!schema)('the hand-made audit document is valid against schema/audit.schema.json', () => {
    const validate = new Ajv2020.default({ allErrors: true, strict: false }).compile(schema!)
    expect(validate(auditDoc()), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true)
  })

  it('totals, a sortable table whose rows link to each image section, savings per repository, nothing injected', () => {
    const d = auditDoc()
    const html = renderAuditHtml(d)
    const doc = assertNoInjection(html)
    const els = [...elements(doc)]
    const rows = els.filter((e) => e.tagName === 'tr' && e.childNodes?.some((c) => c.tagName === 'td' && (c.attrs ?? []).some((a) => a.name === 'data-v')))
    expect(rows).toHaveLength(4)
    const hrefs = els.filter((e) => e.tagName === 'a').map((e) => e.attrs!.find((a) => a.name === 'href')!.value)
    const ids = new Set(els.map((e) => e.attrs?.find((a) => a.name === 'id')?.value))
    expect(hrefs).toHaveLength(4)
    for (const h of hrefs) expect(ids.has(h.slice(1))).toBe(true)
    const fig = (k: string): string => textOf(els.find((e) => e.attrs?.some((a) => a.name === 'data-k' && a.value === k))!)
    expect(fig('savings')).toBe('130 MB')
    expect(fig('images')).toBe('4 (3 analyzed, 1 errors)')
    // two tags of one repository make one bar of 110 MB
    expect(repositoryOf('registry.local:5000/team/api:1.2')).toBe('registry.local:5000/team/api')
    const chart = textOf(els.find((e) => e.attrs?.some((a) => a.name === 'id' && a.value === 'savings'))!)
    expect(chart).toContain('registry.local:5000/team/api110 MB')
    const text = textOf(doc)
    for (const h of [HOSTILE[0], HOSTILE[2], HOSTILE[3]]) expect(text).toContain(h)
    expect(els.filter((e) => e.tagName === 'th' && e.attrs?.some((a) => a.name === 'data-sort'))).toHaveLength(9)
  })

  it('JSON for script blocks escapes what could end the block, and reads back unchanged', () => {
    const v = { s: '</script><!-- & \u2028\u2029 >' }
    const j = jsonForScript(v)
    expect(j).not.toMatch(/[<>&\u2028\u2029]/)
    expect(JSON.parse(j)).toEqual(v)
  })
})
