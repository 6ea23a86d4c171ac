/**
 * The fast header path (src/image/archive/tar-header-fast.ts) decodes exactly as node-tar's Header
 * does: TarHeaderDecoder with it and without it (`fast: false`) must give the same result for every
 * header of the corpus's tars (walked as the layer walk does, extended headers applied) and for
 * random and damaged blocks; and most real headers must take the fast path, or it saves nothing.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { Header } from 'tar'
import { describe, expect, it } from 'vitest'
import { TarHeaderDecoder, type DecodedBlock } from '../src/image/archive/tar-header.js'
import { fastHeader } from '../src/image/archive/tar-header-fast.js'
import { CORPUS } from './helpers/shared.js'

/** Every file that may be a tar (tars, OCI blobs, gzipped tars): innerTar() decides. */
function tarsUnder(dir: string, out: string[] = []): string[] {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name)
    if (d.isDirectory()) tarsUnder(p, out)
    else if (d.isFile() && !d.name.endsWith('.json') && statSync(p).size < 64 * 1024 * 1024) out.push(p)
  }
  return out
}

interface Walked {
  headers: number
  fast: number
}

/** Walks `buf` as a tar with both decoders side by side; inner uncompressed tars are walked too. */
function walkBoth(buf: Buffer, counts: Walked, where: string, depth = 0): void {
  const fast = new TarHeaderDecoder()
  const slow = new TarHeaderDecoder({ fast: false })
  let off = 0
  while (off + 512 <= buf.length) {
    const block = buf.subarray(off, off + 512)
    const wasPending = fast.pending
    const a = fast.decode(block)
    const b = slow.decode(block)
    expect(a, `${where} @${off}`).toEqual(b)
    counts.headers++
    if (!wasPending && a.kind === 'header' && fastHeader(block)) counts.fast++
    if (a.kind !== 'header' || a.header.badSize) return
    const body = buf.subarray(off + 512, off + 512 + a.header.size)
    if (a.header.meta) {
      fast.applyMeta(a.header, body)
      slow.applyMeta(b.kind === 'header' ? b.header : a.header, body)
    } else {
      fast.endEntry()
      slow.endEntry()
      const inner = depth < 2 ? innerTar(body) : undefined
      if (inner) walkBoth(inner, counts, `${where}!${a.header.path}`, depth + 1)
    }
    off += 512 + Math.ceil(a.header.size / 512) * 512
  }
}

/** An entry's body when it is a tar (a layer), gzipped or not. */
function innerTar(body: Buffer): Buffer | undefined {
  let data = body
  if (body[0] === 0x1f && body[1] === 0x8b) {
    try {
      data = gunzipSync(body, { maxOutputLength: 256 * 1024 * 1024 })
    } catch {
      return undefined
    }
  }
  if (data.length < 512) return undefined
  try {
    return new Header(data.subarray(0, 512)).cksumValid ? data : undefined
  } catch {
    return undefined
  }
}

/** A small deterministic PRNG (xorshift32): the random blocks are the same on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

describe('fast tar header path', () => {
  it('decodes every header of the corpus tars as node-tar does, and takes most of them', () => {
    const counts: Walked = { headers: 0, fast: 0 }
    const tars = tarsUnder(CORPUS)
    expect(tars.length).toBeGreaterThan(20)
    for (const t of tars) {
      const tar = innerTar(readFileSync(t))
      if (tar) walkBoth(tar, counts, t)
    }
    expect(counts.headers).toBeGreaterThan(3_000)
    expect(counts.fast / counts.headers).toBeGreaterThan(0.8)
  })

  it.each(['ustar', 'gnu', 'pax', 'v7'])('decodes GNU tar --format=%s of real system files as node-tar does', (format) => {
    // zoneinfo has symlinks and hard links, include/linux deep paths; v7 drops what it cannot hold.
    const r = spawnSync('tar', ['-c', `--format=${format}`, '-C', '/usr', 'share/zoneinfo', 'include/linux'], { maxBuffer: 256 * 1024 * 1024 })
    expect(r.stdout.length).toBeGreaterThan(1024 * 1024)
    const counts: Walked = { headers: 0, fast: 0 }
    walkBoth(r.stdout, counts, `tar --format=${format}`)
    expect(counts.headers).toBeGreaterThan(1_000)
    // GNU tar's pax format puts an extended header before every entry: those go to node-tar.
    if (format !== 'pax') expect(counts.fast / counts.headers).toBeGreaterThan(0.9)
  })

  it('decodes random and damaged blocks as node-tar does', () => {
    const r = rng(20261207)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
    const chars = 'abcdefghijklmnopqrstuvwxyz0123456789._-/'
    const name = (n: number): string => Array.from({ length: n }, () => pick(chars.split(''))).join('')
    const types = ['File', 'Directory', 'SymbolicLink', 'Link', 'CharacterDevice', 'FIFO', 'ContiguousFile', 'OldFile'] as const
    let fastTaken = 0
    for (let i = 0; i < 20_000; i++) {
      const block = Buffer.alloc(512)
      const long = r() < 0.2
      new Header({
        path: long ? `${name(60)}/${name(80)}/${name(50)}` : `${name(1 + Math.floor(r() * 40))}${r() < 0.1 ? '/' : ''}`,
        linkpath: r() < 0.3 ? name(Math.floor(r() * 90)) : undefined,
        type: pick(types),
        mode: Math.floor(r() * 0o7777),
        uid: Math.floor(r() * 70000),
        gid: Math.floor(r() * 70000),
        size: r() < 0.1 ? Math.floor(r() * 2 ** 40) : Math.floor(r() * 100000),
        mtime: new Date(1_700_000_000_000),
        uname: 'root',
        gname: 'root',
      }).encode(block, 0)
      // Damage: bytes anywhere, or in the fields the fast path reads (names, type, checksum, magic, prefix end).
      const hits = r() < 0.5 ? 0 : 1 + Math.floor(r() * 3)
      for (let h = 0; h < hits; h++) {
        const at = r() < 0.5 ? Math.floor(r() * 512) : pick([0, 50, 99, 100, 107, 124, 135, 148, 153, 154, 155, 156, 157, 200, 257, 262, 263, 345, 400, 474, 475])
        block[at] = pick([0, 0x20, 0x0a, 0x30, 0x37, 0x38, 0x41, 0x2f, 0x80, 0xc3, 0xff, Math.floor(r() * 256)])
      }
      if (fastHeader(block)) fastTaken++
      expect(new TarHeaderDecoder().decode(block), `block ${i}: ${block.toString('hex')}`).toEqual(new TarHeaderDecoder({ fast: false }).decode(block) as DecodedBlock)
    }
    // The undamaged half of the blocks are mostly files, directories and links: they must go fast.
    expect(fastTaken).toBeGreaterThan(5_000)
  })
})
