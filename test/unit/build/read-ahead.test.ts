import { describe, expect, it } from 'vitest'
import type { LayerEntry } from '../../../src/build/entries.js'
import { readAhead } from '../../../src/build/read-ahead.js'

const file = (path: string, size: number, source = path): LayerEntry => ({ path, type: 'file', source, mode: 0o644, uid: 0, gid: 0, size })
const dir = (path: string): LayerEntry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 })

/** A source that counts its readFiles calls (each is one pass per layer) and what each asked for. */
function countingSource(missing: string[] = []) {
  const calls: string[][] = []
  const readFiles = async (paths: string[]) => {
    calls.push(paths)
    return new Map(paths.map((p) => [p, missing.includes(p) ? new Error(`${p}: gone`) : Buffer.from(p)] as const))
  }
  return { calls, readFiles }
}

describe('readAhead: the layer writer reads files in batches, not one pass per file', () => {
  it('600 small files asked in order are read by one readFiles call', async () => {
    const entries = [dir('/a'), ...Array.from({ length: 600 }, (_, i) => file(`/a/f${i}`, 1000))]
    const src = countingSource()
    const read = readAhead(entries, src.readFiles)
    for (const e of entries.filter((x) => x.type === 'file')) expect((await read(e)).toString()).toBe(e.path)
    expect(src.calls).toHaveLength(1)
    expect(src.calls[0]).toHaveLength(600)
  })

  it('a batch stops at the byte budget; a file bigger than the budget is a batch of its own', async () => {
    const entries = [file('/1', 40), file('/2', 40), file('/3', 40), file('/big', 500), file('/4', 10)]
    const src = countingSource()
    const read = readAhead(entries, src.readFiles, 100)
    for (const e of entries) await read(e)
    expect(src.calls).toEqual([['/1', '/2'], ['/3'], ['/big'], ['/4']])
  })

  it('two entries copied from one source share one read; an unreadable file fails only when asked for', async () => {
    const entries = [file('/x', 5, '/src'), file('/y', 5, '/src'), file('/z', 5, '/gone')]
    const src = countingSource(['/gone'])
    const read = readAhead(entries, src.readFiles)
    expect((await read(entries[0])).toString()).toBe('/src')
    expect((await read(entries[1])).toString()).toBe('/src')
    await expect(read(entries[2])).rejects.toThrow('/gone: gone')
    expect(src.calls).toEqual([['/src', '/gone']])
  })
})
