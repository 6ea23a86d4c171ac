/**
 * An ELF file bigger than the in-memory bound is summarised during the index pass from a temp copy
 * read by ranges: the same summary as from memory, the copy removed at once, and a copy that would
 * pass the temp budget dropped (the file is then only marked ELF); a layer cut inside such a file
 * leaves no copy and no open descriptor behind.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { liveTempPaths } from '../../../src/core/temp.js'
import { parseElf } from '../../../src/inspect/elf/index.js'
import { ELF_SUMMARY_VERSION, summarizeElfForIndex } from '../../../src/inspect/elf-reader.js'
import { buildIndex } from '../../../src/layers/build-index.js'
import { ContentTap, Scratch } from '../../../src/layers/content-tap.js'
import { imageOf, makeTar } from '../../helpers/tar-layers.js'

const BIN = '/usr/bin/true'
const spills = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('slim-elf-'))

function tapThrough(bytes: Buffer, opts: { elfMax: number; maxTempBytes: number }) {
  const tap = new ContentTap(bytes.length, { hash: false, keep: false, summarizeElf: summarizeElfForIndex, ...opts }, new Scratch())
  let seenSpill = false
  for (let at = 0; at < bytes.length; at += 1000) {
    tap.data(bytes.subarray(at, at + 1000))
    if (at > 0) seenSpill ||= spills().length > 0
  }
  return { result: tap.end(), seenSpill }
}

describe('content tap: big ELF files', () => {
  it.skipIf(!existsSync(BIN))('are summarised from a temp copy, which is gone afterwards', () => {
    const bytes = readFileSync(BIN)
    const before = spills()
    const { result, seenSpill } = tapThrough(bytes, { elfMax: 1024, maxTempBytes: 1024 ** 3 })
    expect(seenSpill).toBe(true)
    expect(result.head?.magic).toBe('elf')
    expect(result.head?.summary).toEqual(parseElf(bytes))
    expect(spills()).toEqual(before)
    expect(liveTempPaths()).toEqual([])
  })

  it.skipIf(!existsSync(BIN))('a layer cut inside a big ELF file fails, and its temp copy and descriptor go at once, not at exit', async () => {
    // 9 MiB: above the index pass's in-memory bound (8 MiB), so the body goes to a temp copy.
    const elf = Buffer.concat([readFileSync(BIN), Buffer.alloc(9 * 1024 * 1024)])
    const cut = makeTar([{ name: 'usr/bin/big', data: elf, mode: 0o755 }]).subarray(0, 512 + 5 * 1024 * 1024)
    const before = spills()
    const fds = (): number => readdirSync('/proc/self/fd').length
    const fdsBefore = fds()
    for (let i = 0; i < 3; i++) {
      await expect(buildIndex(imageOf(cut), { summarizeElf: summarizeElfForIndex, summaryVersion: ELF_SUMMARY_VERSION })).rejects.toThrow(/truncated/)
    }
    expect(spills()).toEqual(before)
    expect(liveTempPaths()).toEqual([])
    expect(fds()).toBe(fdsBefore)
  })

  it.skipIf(!existsSync(BIN))('past the temp budget the copy is dropped and the file is only marked ELF', () => {
    const bytes = readFileSync(BIN)
    const before = spills()
    const { result } = tapThrough(bytes, { elfMax: 1024, maxTempBytes: 4096 })
    expect(result.head).toEqual({ magic: 'elf' })
    expect(spills()).toEqual(before)
    expect(liveTempPaths()).toEqual([])
  })

  it.skipIf(!existsSync(BIN))("an image's layers reuse the ELF scratch buffers instead of one each", async () => {
    const elf = readFileSync(BIN)
    const layers = Array.from({ length: 6 }, (_, i) => makeTar([{ name: `usr/bin/tool${i}`, data: elf, mode: 0o755 }]))
    const take = Scratch.prototype.take
    const seen = new Set<Scratch>()
    Scratch.prototype.take = function (this: Scratch, size: number, max: number) {
      seen.add(this)
      return take.call(this, size, max)
    }
    try {
      const index = await buildIndex(imageOf(...layers), { summarizeElf: summarizeElfForIndex, summaryVersion: ELF_SUMMARY_VERSION, concurrency: 2 })
      for (let i = 0; i < 6; i++) expect(index.head(`/usr/bin/tool${i}`)?.summary).toEqual(parseElf(elf))
    } finally {
      Scratch.prototype.take = take
    }
    // Layers are read two at a time: two buffers at most, not six.
    expect(seen.size).toBeGreaterThan(0)
    expect(seen.size).toBeLessThanOrEqual(2)
  })
})
