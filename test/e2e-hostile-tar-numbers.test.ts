/**
 * Issue 8, hostile tar numbers: every numeric header field and PAX record a hostile image can bend,
 * each in a tar built here byte by byte, run through the built CLI inside an OCI layout (a layer)
 * or as the outer docker-archive. A malformed size (which decides where the next header is) is
 * refused with one line naming the layer, the entry and the field; a malformed mode, owner or time
 * is a warning and ignored (README, "Threat model").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { gzipLayer, HAVE_GNU_TIME, runMeasured, sha256, writeLayout } from './helpers/hostile-layout.js'
import { makeTar, paxBody, tarEntry, type TarEntrySpec } from './helpers/tar-layers.js'

const MB = 1024 * 1024
const work = mkdtempSync(join(tmpdir(), 'slim-hostile-numbers-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** Overwrites a header field of the first header in `entry` with raw bytes and re-seals its checksum. */
function withField(spec: TarEntrySpec, offset: number, raw: Buffer): Buffer {
  const bytes = Buffer.from(tarEntry(spec))
  const at = bytes.length - 512 * (1 + Math.ceil(Buffer.byteLength(spec.data ?? '') / 512)) // the entry's own header
  raw.copy(bytes, at + offset)
  bytes.fill(0x20, at + 148, at + 156)
  let sum = 0
  for (let i = at; i < at + 512; i++) sum += bytes[i]
  bytes.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1')
  return bytes
}

const FIELD = { mode: 100, uid: 108, gid: 116, size: 124, mtime: 136 }
const octalText = (s: string, width: number): Buffer => Buffer.from(s.padEnd(width, '\0').slice(0, width), 'latin1')
const base256 = (bytes: number[], width: number): Buffer => Buffer.concat([Buffer.from(bytes), Buffer.alloc(width - bytes.length)])
const SCRIPT = '#!/bin/sh\necho hi\n'
const app = (extra: Partial<TarEntrySpec> = {}): TarEntrySpec => ({ name: 'app', data: SCRIPT, mode: 0o755, ...extra })
const END = Buffer.alloc(1024)

async function analyzeLayer(name: string, tar: Buffer): Promise<Awaited<ReturnType<typeof runMeasured>>> {
  const dir = join(work, name.replace(/\W+/g, '-'))
  await writeLayout(dir, 'latest', [gzipLayer(tar)], { Entrypoint: ['/app'] })
  return runMeasured(['analyze', `oci:${dir}:latest`, '--json', '--no-cache'], { timeoutMs: 120_000 })
}

function expectRefused(r: Awaited<ReturnType<typeof runMeasured>>, field: RegExp): void {
  expect(r.signal).toBeNull()
  expect(r.code, r.stderr).toBe(1)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  // names the layer, the entry and the field
  expect(lines[0]).toMatch(/^slim: error: layer 0 \(sha256:[0-9a-f]+…\): the tar entry "app" \(File\) /)
  expect(lines[0]).toMatch(field)
  if (HAVE_GNU_TIME) expect(r.peakRss).toBeLessThan(400 * MB)
}

function warningsOf(stdout: string): string[] {
  const doc = JSON.parse(stdout) as { layers: { layers: Array<{ warnings: unknown[] }> } }
  return doc.layers.layers.flatMap((l) => l.warnings.map((w) => JSON.stringify(w)))
}

describe('a malformed size is refused: it decides where the next header is', () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['header size not octal', Buffer.concat([withField(app(), FIELD.size, octalText('0000000002x', 12)), END]), /has an invalid size field \("0000000002x" is not octal\)/],
    ['header size with a leading NUL', Buffer.concat([withField(app(), FIELD.size, octalText('\u000000000022', 12)), END]), /has an invalid size field \(.* is not octal\)/],
    ['header size negative in base-256', Buffer.concat([withField(app(), FIELD.size, Buffer.alloc(12, 0xff)), END]), /has an invalid size field \(negative\)/],
    ['header size above 2^53 in base-256', Buffer.concat([withField(app(), FIELD.size, base256([0x80, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 12)), END]), /has a size field that is not a readable number \(base-256 above 2\^53\)/],
    ['PAX size=-1', makeTar([app({ pax: { size: '-1' } })]), /has an invalid PAX size record \(size=-1\)/],
    ['PAX size=1e3', makeTar([app({ pax: { size: '1e3' } })]), /has an invalid PAX size record \(size=1e3\)/],
    ['PAX size=+18', makeTar([app({ pax: { size: '+18' } })]), /has an invalid PAX size record \(size=\+18\)/],
    ['PAX size with a space', makeTar([app({ pax: { size: ' 18' } })]), /has an invalid PAX size record \(size= 18\)/],
    ['PAX size empty', makeTar([app({ pax: { size: '' } })]), /has an invalid PAX size record \(size=\)/],
    ['PAX size in hex', makeTar([app({ pax: { size: '0x12' } })]), /has an invalid PAX size record \(size=0x12\)/],
    ['PAX size not a number', makeTar([app({ pax: { size: 'eighteen' } })]), /has an invalid PAX size record \(size=eighteen\)/],
    ['PAX size above Number.MAX_SAFE_INTEGER', makeTar([app({ pax: { size: '9007199254740993' } })]), /has an invalid PAX size record \(size=9007199254740993\)/],
    [
      'a size in a global PAX header',
      makeTar([{ name: 'pax_global_header', type: 'g', data: paxBody({ size: '512' }) }, app()]),
      /follows a global PAX header that sets a size \(size=512\)/,
    ],
    [
      'two PAX headers, only the first with a size',
      makeTar([{ name: 'PaxHeader', type: 'x', data: paxBody({ size: '512' }) }, app({ pax: { path: 'app' } })]),
      /has two PAX headers and only the first sets its size/,
    ],
  ]
  it.each(cases)('%s: one line naming layer, entry and field, exit 1', async (name, tar, field) => {
    expectRefused(await analyzeLayer(name, tar), field)
  })

  it('a base-256 mtime node-tar cannot decode is refused too (its Parser would skip the header and read the body as headers)', async () => {
    const tar = Buffer.concat([withField(app(), FIELD.mtime, base256([0x81, 1, 2, 3], 12)), END])
    expectRefused(await analyzeLayer('mtime-unreadable', tar), /has a mtime field that is not a readable number \(base-256 with an invalid first byte\)/)
  })

  it('in the outer docker-archive: "not a valid tar archive", naming the entry and the field', async () => {
    const layer = makeTar([app()])
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Entrypoint: ['/app'] }, rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }))
    const manifest = JSON.stringify([{ Config: 'config.json', RepoTags: ['hostile/numbers:1'], Layers: ['layer.tar'] }])
    const archive = Buffer.concat([
      tarEntry({ name: 'manifest.json', data: manifest }),
      tarEntry({ name: 'config.json', data: config }),
      tarEntry({ name: 'layer.tar', data: layer, pax: { size: `${layer.length}.0` } }),
      END,
    ])
    const file = join(work, 'outer.tar')
    writeFileSync(file, archive)
    const r = await runMeasured(['analyze', `docker-archive:${file}`, '--no-cache'], { timeoutMs: 120_000 })
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^slim: error: docker-archive:.*outer\.tar is not a valid tar archive \(the entry "layer\.tar" at offset \d+ has an invalid PAX size record \(size=\d+\.0\)\)/)
    if (HAVE_GNU_TIME) expect(r.peakRss).toBeLessThan(400 * MB)
  })
})

describe('a malformed mode, owner or time is a warning and ignored', () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['uid not octal', Buffer.concat([withField(app(), FIELD.uid, octalText('12x', 8)), END]), /tar headers with an invalid uid field, ignored \(read as 0\)/],
    ['gid negative in base-256', Buffer.concat([withField(app(), FIELD.gid, Buffer.alloc(8, 0xff)), END]), /tar headers with an invalid gid field, ignored \(read as 0\)/],
    ['mtime not octal', Buffer.concat([withField(app(), FIELD.mtime, octalText('yesterday', 12)), END]), /tar headers with an invalid mtime field, ignored/],
    ['PAX uid=-5', makeTar([app({ pax: { uid: '-5' } })]), /tar headers with an invalid PAX uid record, ignored/],
    ['PAX mtime=1e9', makeTar([app({ pax: { mtime: '1e9' } })]), /tar headers with an invalid PAX mtime record, ignored/],
    ['PAX atime not a number', makeTar([app({ pax: { atime: 'now' } })]), /tar headers with an invalid PAX atime record, ignored/],
  ]
  it.each(cases)('%s: analysed, with a warning on the layer', async (name, tar, warning) => {
    const r = await analyzeLayer(name, tar)
    expect(r.signal).toBeNull()
    expect(r.code, r.stderr).toBe(0)
    const warnings = warningsOf(r.stdout)
    expect(warnings.some((w) => warning.test(w)), JSON.stringify(warnings)).toBe(true)
    // the program is still found and analysed
    expect(JSON.stringify((JSON.parse(r.stdout) as { inspection: { program: unknown } }).inspection.program)).toContain('"/app"')
    if (HAVE_GNU_TIME) expect(r.peakRss).toBeLessThan(400 * MB)
  })
})
