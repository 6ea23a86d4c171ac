/**
 * An ELF file bigger than the in-memory bound is summarised during the index pass from a temp copy
 * read by ranges: the same summary as from memory, the copy removed at once, and a copy that would
 * pass the temp budget dropped (the file is then only marked ELF).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { liveTempPaths } from '../../../src/core/temp.js'
import { parseElf } from '../../../src/inspect/elf/index.js'
import { summarizeElfForIndex } from '../../../src/inspect/elf-reader.js'
import { ContentTap, Scratch } from '../../../src/layers/content-tap.js'

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

  it.skipIf(!existsSync(BIN))('past the temp budget the copy is dropped and the file is only marked ELF', () => {
    const bytes = readFileSync(BIN)
    const before = spills()
    const { result } = tapThrough(bytes, { elfMax: 1024, maxTempBytes: 4096 })
    expect(result.head).toEqual({ magic: 'elf' })
    expect(spills()).toEqual(before)
    expect(liveTempPaths()).toEqual([])
  })
})
