/**
 * The new layer of `slim build` from in-memory images: COPY's meaning (symlink sources followed,
 * trees keep their links, 0:0 unless --chown, --chmod applied), a base's directory symlink
 * followed instead of replaced, hard links kept, scanner metadata of the owning packages, and the
 * same entries giving the same bytes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Copy, Plan } from '../src/advise/types.js'
import { layerEntries } from '../src/build/entries.js'
import { writeLayer } from '../src/build/layer-writer.js'
import { keptPackages, scannerMetadata } from '../src/build/metadata.js'
import { buildIndex } from '../src/layers/build-index.js'
import { packageIndex } from '../src/layers/packages.js'
import { imageOf, makeTar } from './helpers/tar-layers.js'

const work = mkdtempSync(join(tmpdir(), 'slim-build-layer-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const copy = (source: string, type: 'file' | 'dir', extra: Partial<Copy> = {}): Copy => ({ source, dest: source, type, kind: 'need', why: 'test', ...extra })
const planOf = (copies: Copy[]): Plan => ({ copies }) as unknown as Plan

async function source() {
  return buildIndex(
    imageOf(
      makeTar([
        { name: 'usr/lib/libfoo.so.1.2', data: 'foo-bytes', mode: 0o644, uid: 7, gid: 7 },
        { name: 'usr/lib/libfoo.so.1', type: '2', linkname: 'libfoo.so.1.2' },
        { name: 'lib', type: '2', linkname: 'usr/lib' },
        { name: 'app/', type: '5', mode: 0o750 },
        { name: 'app/run', data: '#!/app/bin', mode: 0o755 },
        { name: 'app/run-again', type: '1', linkname: 'app/run' },
        { name: 'app/current', type: '2', linkname: 'run' },
        { name: 'data/x', data: 'x', mode: 0o600 },
        { name: 'var/lib/dpkg/status', data: 'Package: libfoo1\nStatus: install ok installed\nVersion: 1.2-3\nArchitecture: amd64\n' },
        { name: 'var/lib/dpkg/info/libfoo1:amd64.list', data: '/.\n/usr\n/usr/lib\n/usr/lib/libfoo.so.1.2\n/usr/lib/libfoo.so.1\n' },
      ]),
    ),
  )
}

describe('new layer entries', () => {
  it('applies COPY semantics, plan owners and modes, keeps hard links and symlinks, follows the base\'s /lib link', async () => {
    const src = await source()
    const base = await buildIndex(imageOf(makeTar([{ name: 'usr/', type: '5', mode: 0o755 }, { name: 'usr/lib/', type: '5', mode: 0o755 }, { name: 'lib', type: '2', linkname: 'usr/lib' }])))
    const plan = planOf([
      copy('/usr/lib/libfoo.so.1', 'file'),
      copy('/usr/lib/libfoo.so.1.2', 'file'),
      { ...copy('/lib/libfoo.so.1', 'file'), dest: '/lib/libfoo.so.1' },
      copy('/app', 'dir'),
      copy('/data', 'dir', { chown: '65532:65532', chmod: '0700' }),
    ])
    const entries = layerEntries({ plan, source: src, base })
    const by = new Map(entries.map((e) => [e.path, e]))
    expect(entries.map((e) => e.path)).toEqual(['/app', '/app/current', '/app/run', '/app/run-again', '/data', '/data/x', '/usr', '/usr/lib', '/usr/lib/libfoo.so.1', '/usr/lib/libfoo.so.1.2'])
    // The plan's symlink whose target is copied stays a link; the copy through the base's /lib lands in /usr/lib.
    expect(by.get('/usr/lib/libfoo.so.1')).toMatchObject({ type: 'symlink', target: 'libfoo.so.1.2' })
    expect(by.get('/usr/lib/libfoo.so.1.2')).toMatchObject({ type: 'file', uid: 0, gid: 0, mode: 0o644, size: 9 })
    expect(by.get('/app')).toMatchObject({ type: 'dir', mode: 0o750 })
    expect(by.get('/app/current')).toMatchObject({ type: 'symlink', target: 'run' })
    expect(by.get('/app/run-again')).toMatchObject({ type: 'link', target: '/app/run' })
    expect(by.get('/data/x')).toMatchObject({ uid: 65532, gid: 65532, mode: 0o700 })
    expect(by.get('/data')).toMatchObject({ uid: 65532, mode: 0o700 })
    expect(by.has('/lib')).toBe(false)

    // Scanner metadata: libfoo1 owns the copied library (listed under /usr/lib, found through links).
    const kept = keptPackages(entries, await packageIndex(src))
    expect(kept.packages.map((p) => p.name)).toEqual(['libfoo1'])
    expect(kept.unowned).toBe(2) // /app/run and /data/x
    const meta = await scannerMetadata(kept.packages, base, await packageIndex(base))
    expect(meta.map((m) => [m.path, m.data!.toString()])).toEqual([
      ['/var/lib/dpkg/status.d/libfoo1', 'Package: libfoo1\nStatus: install ok installed\nVersion: 1.2-3\nArchitecture: amd64\n'],
    ])

    // Same entries, same bytes; the tar reads back with fixed times and no names.
    const read = (e: { source?: string }) => src.readFile(e.source!)
    const a = await writeLayer(entries, join(work, 'a.tgz'), new Date(0), read)
    const b = await writeLayer(layerEntries({ plan, source: src, base }), join(work, 'b.tgz'), new Date(0), read)
    expect(b).toEqual(a)
    expect(readFileSync(join(work, 'a.tgz')).equals(readFileSync(join(work, 'b.tgz')))).toBe(true)
    const c = await writeLayer(entries, join(work, 'c.tgz'), new Date(1000), read)
    expect(c.diffId).not.toBe(a.diffId)
  })
})
