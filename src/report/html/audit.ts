/**
 * `slim audit --format html`: a registry dashboard from the audit JSON document
 * (schema/audit.schema.json): totals, savings per repository as a bar chart, a sortable table of
 * the images (each row links to that image's section), and one section per image.
 */
import { humanBytes, percent } from '../../core/format.js'
import { page } from './analysis.js'
import type { AuditDocument, AuditImage } from '../../audit/types.js'
import { esc } from './escape.js'

export function renderAuditHtml(doc: AuditDocument): string {
  const t = doc.totals
  const shard = doc.shard ? ` (shard ${doc.shard.index} of ${doc.shard.count})` : ''
  const figures: Array<[string, string, string]> = [
    ['images', 'Images', `${t.images} (${t.analyzed} analyzed, ${t.errors} errors)`],
    ['compressed', 'Compressed', humanBytes(t.compressedBytes)],
    ['uncompressed', 'Uncompressed', humanBytes(t.uncompressedBytes)],
    ['wasted', 'Wasted (dive)', humanBytes(t.wastedBytes)],
    ['dead', 'Dead bytes', humanBytes(t.deadBytes)],
    ['savings', 'Estimated savings', humanBytes(t.estimatedSavingsBytes)],
    ['root', 'Run as root', String(t.runAsRoot)],
    ['shell', 'With a shell', String(t.withShell)],
    ['pm', 'With a package manager', String(t.withPackageManager)],
    ['failing', 'Failing a rule', String(t.failingImages)],
  ]
  const body = `<header><h1>slim audit${esc(shard)}</h1>
<div class="mut">${doc.images.length} images · ${doc.rules.length ? `rules: ${doc.rules.map((r) => `<code>${esc(r.id)}</code>`).join(', ')}` : 'no rules'}</div>
<dl class="kv">${figures.map(([k, l, v]) => `<div><dt>${esc(l)}</dt><dd data-k="${k}">${esc(v)}</dd></div>`).join('')}</dl>
${ruleTable(doc)}</header>
${savingsChart(doc.images)}
<section id="images"><h2>Images</h2><p class="mut">Click a column to sort.</p>
<table class="sortable"><thead><tr><th data-sort="s">image</th><th data-sort="n" class="n">size</th><th data-sort="n" class="n">efficiency</th><th data-sort="n" class="n">wasted</th><th data-sort="n" class="n">savings</th><th data-sort="s">suggested base</th><th data-sort="n">root</th><th data-sort="n">shell</th><th data-sort="n" class="n">rules failed</th></tr></thead><tbody>
${doc.images.map(row).join('\n')}
</tbody></table></section>
${doc.images.map(section).join('\n')}`
  return page('slim audit', body, `slim ${doc.tool.version}, audit schema ${doc.schemaVersion}`)
}

const anchor = (i: number): string => `img-${i}`

function num(v: number | null, show: (n: number) => string): string {
  return v === null ? '<td class="n" data-v="">–</td>' : `<td class="n" data-v="${v}">${esc(show(v))}</td>`
}

function yesNo(v: boolean | null, why?: string | null): string {
  return v === null ? '<td data-v="">?</td>' : `<td data-v="${v ? 1 : 0}"${why ? ` title="${esc(why)}"` : ''}>${v ? '<span class="sev-warning">yes</span>' : 'no'}</td>`
}

function row(img: AuditImage, i: number): string {
  const shells = img.shells === null ? null : img.shells.length > 0
  return (
    `<tr><td data-v="${esc(img.reference)}"><a href="#${anchor(i)}">${esc(img.reference)}</a>${img.status === 'error' ? ' <span class="sev-error">error</span>' : ''}</td>` +
    num(img.uncompressedBytes, humanBytes) +
    num(img.efficiency, (n) => percent(n, 1)) +
    num(img.wastedBytes, humanBytes) +
    num(img.estimatedSavingsBytes, (n) => `${humanBytes(n)}${img.estimatedSavingsRatio !== null ? ` (${percent(img.estimatedSavingsRatio, 0)})` : ''}`) +
    `<td data-v="${esc(img.suggestedBase ?? '')}">${esc(img.suggestedBase ?? '–')}</td>` +
    yesNo(img.runsAsRoot, img.rootReason) +
    yesNo(shells, img.shells?.join(', ')) +
    `<td class="n" data-v="${img.failedRules.length}">${img.failedRules.length ? `<span class="sev-error">${img.failedRules.length}</span>` : '0'}</td></tr>`
  )
}

function section(img: AuditImage, i: number): string {
  const facts: Array<[string, string]> = [
    ['digest', img.digest ?? '–'],
    ['platform', img.platform ?? '–'],
    ['OS', img.os?.prettyName ?? img.os?.id ?? '–'],
    ['base family', img.baseFamily ?? '–'],
    ['layers', img.layers === null ? '–' : String(img.layers)],
    ['compressed', img.compressedBytes === null ? '–' : humanBytes(img.compressedBytes)],
    ['dead bytes', img.deadBytes === null ? '–' : humanBytes(img.deadBytes)],
    ['user-wasted', img.userWastedRatio === null ? '–' : percent(img.userWastedRatio, 1)],
    ['user', img.user === null ? '–' : img.user === '' ? '(unset: root)' : img.user],
    ['shells', img.shells === null ? '–' : img.shells.join(', ') || 'none'],
    ['package managers', img.packageManagers === null ? '–' : `${img.packageManagers.join(', ') || 'none'}${img.packageCount !== null ? ` (${img.packageCount} packages)` : ''}`],
    ['setuid files', img.setuidCount === null ? '–' : String(img.setuidCount)],
    ['verdict', img.verdict === null ? '–' : `${img.verdict}${img.confidence ? `, confidence ${img.confidence}` : ''}`],
  ]
  const failures = img.failedRules.length
    ? `<h4>Rules failed</h4><ul class="plain">${img.failedRules.map((f) => `<li><code>${esc(f.rule)}</code>: ${esc(f.figure)} (limit ${esc(f.threshold)}). ${esc(f.fix)}</li>`).join('')}</ul>`
    : ''
  return `<section class="img" id="${anchor(i)}"><h3>${esc(img.reference)}</h3>
${img.error ? `<p class="sev-error">${esc(img.error.kind)}: ${esc(img.error.message)}</p>` : ''}
${img.advice ? `<p>${esc(img.advice)}</p>` : ''}
<dl class="kv">${facts.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join('')}</dl>
${failures}</section>`
}

function ruleTable(doc: AuditDocument): string {
  if (doc.rules.length === 0) return ''
  return `<table><thead><tr><th>rule</th><th>asks</th><th class="n">images failing</th></tr></thead><tbody>
${doc.rules.map((r) => `<tr><td><code>${esc(r.id)}</code></td><td>${esc(r.text)}</td><td class="n">${doc.totals.ruleFailures[r.id] ?? 0}</td></tr>`).join('\n')}
</tbody></table>`
}

/** The repository of a reference: without the tag or digest (registry/repo:tag, oci:DIR:TAG, ...). */
export function repositoryOf(reference: string): string {
  const at = reference.indexOf('@')
  const noDigest = at >= 0 ? reference.slice(0, at) : reference
  const colon = noDigest.lastIndexOf(':')
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest
}

function savingsChart(images: AuditImage[]): string {
  const byRepo = new Map<string, number>()
  for (const img of images) if (img.estimatedSavingsBytes) byRepo.set(repositoryOf(img.reference), (byRepo.get(repositoryOf(img.reference)) ?? 0) + img.estimatedSavingsBytes)
  const bars = [...byRepo].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 30)
  if (bars.length === 0) return '<section id="savings"><h2>Savings per repository</h2><p>No savings estimated.</p></section>'
  const max = bars[0]![1]
  const H = 22
  const LABEL = 330
  const W = 900
  const rows = bars.map(([repo, bytes], i) => {
    const w = Math.max(1, (bytes / max) * (W - LABEL - 90))
    const name = repo.length > 52 ? `…${repo.slice(-51)}` : repo
    return `<g><title>${esc(`${repo}: ${humanBytes(bytes)}`)}</title><text x="${LABEL - 8}" y="${i * H + 15}" text-anchor="end">${esc(name)}</text><rect x="${LABEL}" y="${i * H + 4}" width="${w.toFixed(1)}" height="${H - 8}" rx="3"/><text x="${(LABEL + w + 6).toFixed(1)}" y="${i * H + 15}">${esc(humanBytes(bytes))}</text></g>`
  })
  return `<section id="savings"><h2>Savings per repository</h2><div class="chart card"><svg viewBox="0 0 ${W} ${bars.length * H + 4}" role="img" aria-label="Estimated savings per repository">${rows.join('')}</svg></div></section>`
}
