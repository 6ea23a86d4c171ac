/**
 * The layer walk over real layers: each header is decoded once (one decoder, no second parser),
 * and bodies cut into many small chunks arrive byte for byte as GNU tar extracts them.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { Header } from 'tar'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { TarHeaderDecoder } from '../src/image/archive/tar-header.js'
import { openImage } from '../src/image/open.js'
import { walkTar } from '../src/layers/tar-walk.js'
import { makeTar, type TarEntrySpec } from './helpers/tar-layers.js'
import { CORPUS } from './helpers/shared.js'
import { hasTool } from './helpers/tools.js'

/** Alpine 3.10's one layer: 480 entries, 70 regular files (busybox, musl, apk's database). */
const ALPINE = `docker-archive:${CORPUS}/aquasecurity__trivy/pkg/fanal/test/testdata/alpine-310.tar.gz`

async function layerTar(ref: string): Promise<Buffer> {
  const img = await openImage(ref)
  try {
    const parts: Buffer[] = []
    for await (const c of await img.layers[0].uncompressed()) parts.push(c as Buffer)
    return Buffer.concat(parts)
  } finally {
    await img.close()
  }
}

/** `data` cut into pieces of the given sizes, in turn. */
function pieces(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = []
  for (let at = 0, k = 0; at < data.length; k++) {
    const n = sizes[k % sizes.length]
    out.push(data.subarray(at, at + n))
    at += n
  }
  return out
}

/**
 * Header blocks of a well-formed tar, found with nothing but the type and size fields: one per
 * entry and per extended header, and the two zero blocks of the end marker.
 */
function countHeaderBlocks(tar: Buffer): number {
  let blocks = 0
  let zeros = 0
  for (let at = 0; at + 512 <= tar.length && zeros < 2; ) {
    const block = tar.subarray(at, at + 512)
    blocks++
    at += 512
    if (block.every((b) => b === 0)) {
      zeros++
      continue
    }
    zeros = 0
    const size = parseInt(block.toString('latin1', 124, 136).replace(/\0/g, '').trim() || '0', 8)
    if (block[156] !== 0x35) at += Math.ceil(size / 512) * 512 // a directory's size is not a body
  }
  return blocks
}

/** Walks `tar`; returns the sha256 of each regular file's body as delivered, by path. */
async function bodyHashes(tar: Buffer, sizes: number[]): Promise<Map<string, string>> {
  const hashes = new Map<string, string>()
  await walkTar(Readable.from(pieces(tar, sizes)), 'layer 0', {
    onEntry: (info) => {
      if (info.type !== 'File') return null
      const h = createHash('sha256')
      return { data: (c) => h.update(c), end: () => hashes.set(info.path.replace(/^\.\//, ''), h.digest('hex')) }
    },
  })
  return hashes
}

describe('the layer walk', () => {
  let alpine: Buffer
  beforeAll(async () => {
    alpine = await layerTar(ALPINE)
  })
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('decodes each header block once: slim decoder calls equal the header count, node-tar Header decodes are no more', async () => {
    // Bodies that are tars themselves: a second reading of the stream would find their headers.
    const inner = makeTar([{ name: 'inner', data: 'i' }])
    const specs: TarEntrySpec[] = [
      { name: 'dir/', type: '5' },
      { name: 'a.tar', data: inner },
      { name: 'p', pax: { path: `dir/${'p'.repeat(200)}` }, data: inner },
      { name: 'g', gnuLongName: `gnu/${'g'.repeat(150)}`, data: 'gnu' },
      { name: 'l', type: '2', linkname: 'a.tar' },
    ]
    const built = makeTar(specs)
    const cases: Array<[string, Buffer, number]> = [
      ['built', built, specs.length + 2 + 2], // 5 entries, 2 extended headers, 2 zero blocks
      ['alpine', alpine, countHeaderBlocks(alpine)],
    ]
    for (const [name, tar, headers] of cases) {
      const decoder = vi.spyOn(TarHeaderDecoder.prototype, 'decode')
      const nodeTar = vi.spyOn(Header.prototype, 'decode')
      let entries = 0
      await walkTar(Readable.from(pieces(tar, [65536])), name, {
        onEntry: () => {
          entries++
          return null
        },
      })
      expect([name, decoder.mock.calls.length]).toEqual([name, headers])
      // node-tar's Header reads only the blocks the fast path leaves to it (extended headers, zero blocks, ...).
      expect(nodeTar.mock.calls.length).toBeLessThanOrEqual(headers)
      expect(entries).toBeGreaterThan(name === 'alpine' ? 400 : 4)
      vi.restoreAllMocks()
    }
  })

  it.skipIf(!hasTool('tar'))('delivers bodies cut into many small chunks byte for byte as GNU tar extracts them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slim-tar-walk-'))
    try {
      const file = join(dir, 'layer.tar')
      writeFileSync(file, alpine)
      // GNU tar pipes each regular file to the command: its sha256, then its name.
      const r = spawnSync('tar', ['-xf', file, '--to-command=printf "%s %s\\n" "$(sha256sum | cut -c1-64)" "$TAR_FILENAME"'], { encoding: 'utf8', maxBuffer: 1 << 24 })
      expect(r.status, r.stderr).toBe(0)
      const want = new Map(r.stdout.trim().split('\n').map((l) => [l.slice(65).replace(/^\.\//, ''), l.slice(0, 64)] as [string, string]))
      expect(want.size).toBe(70)
      // Pieces from 1 byte to a little over a block: headers and bodies split at every kind of edge.
      const got = await bodyHashes(alpine, [1, 3, 97, 511, 512, 513, 4096, 7])
      expect(got).toEqual(want)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
