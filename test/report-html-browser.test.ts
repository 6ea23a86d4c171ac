/**
 * The HTML report in a real browser: Debian's headless Chromium, driven by playwright-core, opens
 * reports written by the built CLI from disk (file://, every network request refused and counted),
 * checks the key figures in the rendered DOM against the JSON document, that the script runs
 * without console errors (zoom, search, copy button), that a hostile image runs no script of its
 * own, and saves a screenshot of each page under test-artifacts/ (no pixel comparison).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { humanBytes, percent } from '../src/core/format.js'
import { renderAuditHtml } from '../src/report/html/audit.js'
import { auditDoc } from './helpers/audit-doc.js'
import { ensureFixtures } from './fixtures/index.js'
import { REPO, runCli } from './helpers/cli.js'
import { writeHostileArchive } from './helpers/hostile-archive.js'
import { CORPUS } from './helpers/shared.js'
import { tempDirs } from './helpers/temp-dirs.js'

const temps = tempDirs()
afterAll(temps.removeAll)

const CHROMIUM = '/usr/bin/chromium'
const HAVE_CHROMIUM = existsSync(CHROMIUM)
const DIVE = `docker-archive:${CORPUS}/wagoodman__dive/.data/test-docker-image.tar`
const ARTIFACTS = join(REPO, 'test-artifacts')

let context: BrowserContext
let profile: string
let requests: string[] = []

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return
  profile = mkdtempSync(join(tmpdir(), 'slim-chromium-'))
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  })
  // The page must load nothing: every request other than the report file itself is refused.
  await context.route('**/*', (route) => {
    const url = route.request().url()
    if (url.startsWith('file://') && url.endsWith('.html')) return route.continue()
    requests.push(url)
    return route.abort()
  })
}, 60_000)

afterAll(async () => {
  await context?.close()
  if (profile) rmSync(profile, { recursive: true, force: true })
})

/** Writes the report with the built CLI and also its JSON document, for the expected figures. */
async function report(reference: string, name: string): Promise<{ file: string; doc: any }> {
  const dir = temps.make('slim-html-')
  const file = join(dir, `${name}.html`)
  const html = await runCli(['analyze', reference, '--format', 'html', '-o', file])
  expect(html.code, html.stderr).toBe(0)
  const json = await runCli(['analyze', reference, '--json'])
  expect(json.code, json.stderr).toBe(0)
  // The page-size target for the fixture images.
  expect(statSync(file).size).toBeLessThan(1_000_000)
  return { file, doc: JSON.parse(json.stdout) }
}

/** Opens a report, collecting console errors and page errors; fails on any network request. */
async function open(file: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage()
  const errors: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text())
  })
  page.on('pageerror', (e) => errors.push(String(e)))
  page.on('dialog', (d) => {
    errors.push(`dialog: ${d.message()}`)
    void d.dismiss()
  })
  requests = []
  await page.goto(pathToFileURL(file).href)
  return { page, errors }
}

async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true })
  const path = join(ARTIFACTS, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  expect(statSync(path).size).toBeGreaterThan(10_000)
  return path
}

const figure = (page: Page, k: string): Promise<string | null> => page.locator(`[data-k="${k}"]`).first().textContent()

describe.skipIf(!HAVE_CHROMIUM)('HTML report in headless Chromium', () => {
  it("dive's test image: sizes, efficiency and layers in the rendered DOM, no console errors, screenshot", async () => {
    const { file, doc } = await report(DIVE, 'dive')
    const { page, errors } = await open(file)
    const dive = doc.layers.metrics.dive
    expect(await figure(page, 'efficiency')).toBe(percent(dive.efficiency, 2))
    expect(await figure(page, 'efficiency')).toBe('98.44%')
    expect(await figure(page, 'image-size')).toBe(humanBytes(doc.layers.sizeBytes))
    expect(await figure(page, 'wasted')).toBe(humanBytes(dive.wastedBytes))
    expect(await figure(page, 'layers')).toBe('14')
    expect(await page.locator('#layers tbody tr').count()).toBe(14)
    expect(await figure(page, 'base')).toBe(doc.advice.plan?.base.name ?? 'none')
    // The treemap is drawn and has a box per search row.
    const boxes = await page.locator('#treemap g').count()
    expect(boxes).toBeGreaterThan(10)
    expect(await page.evaluate(() => JSON.parse(document.getElementById('tm-rows')!.textContent!).length)).toBe(boxes)
    await screenshot(page, 'report-dive')
    expect(errors).toEqual([])
    expect(requests).toEqual([])
    await page.close()
  }, 120_000)

  it('a fixture image with a library closure: verdict, base, estimate, graph; search and zoom work', async () => {
    const fx = await ensureFixtures(['cpp'])
    const { file, doc } = await report(fx.refs.cpp!, 'cpp')
    const { page, errors } = await open(file)
    const est = doc.advice.plan.estimate
    expect(await figure(page, 'verdict')).toBe(doc.advice.verdict)
    expect(await figure(page, 'base')).toBe(doc.advice.plan.base.name)
    expect(await figure(page, 'today')).toBe(humanBytes(est.todayBytes))
    expect(await figure(page, 'estimate')).toBe(humanBytes(est.totalBytes))
    expect(await figure(page, 'confidence')).toBe(doc.advice.confidence)
    // One graph node per library plus the program.
    expect(await page.locator('#closure g.n').count()).toBe(doc.inspection.closure.libraries.length + doc.inspection.closure.roots.length)
    await expect.poll(() => page.locator('#closure').textContent()).toContain('libstdc++.so.6')
    // The program is coloured as kept.
    expect(await page.locator('#treemap g.k-program').count()).toBeGreaterThan(0)
    // Search: matching boxes are highlighted and listed.
    await page.fill('#tm-search', 'libstdc++')
    expect(await page.locator('#treemap g.hit').count()).toBeGreaterThan(0)
    expect(await page.locator('#hits li').first().textContent()).toMatch(/^\d+ match/)
    // Zoom: clicking a directory moves the viewBox onto it; Up goes back.
    const before = await page.getAttribute('#treemap', 'viewBox')
    await page.locator('#hits li a').first().click()
    const zoomed = await page.getAttribute('#treemap', 'viewBox')
    expect(zoomed).not.toBe(before)
    const height = (await page.locator('#treemap').boundingBox())!.height
    expect(height).toBeCloseTo((await page.locator('#treemap').boundingBox())!.width * 0.6, 0)
    expect(await page.locator('#tm-crumb').textContent()).toMatch(/^\//)
    await page.click('#tm-up')
    // The Dockerfile is there with its copy button (shown only by the script).
    expect(await page.locator('#dockerfile').textContent()).toBe(doc.advice.dockerfile)
    expect(await page.isVisible('#copy-df')).toBe(true)
    await page.fill('#tm-search', '')
    await screenshot(page, 'report-cpp')
    expect(errors).toEqual([])
    expect(requests).toEqual([])
    await page.close()
  }, 300_000)

  it('a hostile image: its names and labels run no script and open no dialog', async () => {
    const archive = writeHostileArchive(temps)
    const dir = temps.make('slim-html-')
    const file = join(dir, 'hostile.html')
    const r = await runCli(['analyze', `docker-archive:${archive}`, '--format', 'html', '-o', file])
    expect(r.code, r.stderr).toBe(0)
    const { page, errors } = await open(file)
    await page.fill('#tm-search', 'script')
    expect(await page.locator('#hits li').count()).toBeGreaterThan(1)
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined()
    expect(await page.locator('script').count()).toBe(2)
    expect(await page.locator('img').count()).toBe(0)
    expect(readFileSync(file, 'utf8')).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;')
    await screenshot(page, 'report-hostile')
    expect(errors).toEqual([])
    expect(requests).toEqual([])
    await page.close()
  }, 120_000)

  it('the audit dashboard: sorting by a column reorders the rows; a row links to its image section', async () => {
    const file = join(temps.make('slim-html-'), 'audit.html')
    writeFileSync(file, renderAuditHtml(auditDoc()))
    const { page, errors } = await open(file)
    const firstCells = (): Promise<string[]> => page.locator('#images tbody tr td:first-child').allTextContents()
    expect((await firstCells())[0]).toMatch(/api:1\.2/) // the document's order: savings, largest first
    await page.click('#images th:has-text("savings")') // descending
    await page.click('#images th:has-text("savings")') // ascending: the error row (no figure) first
    expect((await firstCells())[0]).toMatch(/broken:1/)
    expect((await firstCells())[3]).toMatch(/api:1\.2/)
    await page.click('#images tbody tr:has-text("/web:2") a')
    expect(new URL(page.url()).hash).toMatch(/^#img-\d$/)
    expect(await page.locator(`${new URL(page.url()).hash} h3`).textContent()).toMatch(/\/web:2$/)
    await screenshot(page, 'report-audit')
    expect(errors).toEqual([])
    await page.close()
  })
})
