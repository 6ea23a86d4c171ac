/**
 * The index as a RootFs, checked against an oracle: the same single-layer images unpacked by GNU
 * tar into the test cache and read through DirRootFs (which resolves symlinks inside its root).
 * Every entry, every symlink resolution, every directory listing and a few file contents must agree.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openImage } from '../src/image/open.js'
import { buildIndex } from '../src/layers/build-index.js'
import type { FileInfo, RootFs } from '../src/layers/rootfs.js'
import { DirRootFs } from './helpers/dir-rootfs.js'
import { SHARED } from './helpers/shared.js'

const C = `${SHARED}/corpus`
const CACHE = join(process.env.SLIM_TEST_CACHE ?? '/var/tmp/slim-test-cache', 'layers-rootfs')

function unpack(name: string, layerTarArgs: string[]): string {
  const dir = join(CACHE, name)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  execFileSync('tar', ['-x', '-p', '--numeric-owner', '-C', dir, ...layerTarArgs])
  return dir
}

/** What both views should agree on (the oracle has no notion of hard links: they are files). */
function shape(e: FileInfo): string {
  const type = e.type === 'hardlink' ? 'file' : e.type
  return `${e.path} ${type} ${e.mode.toString(8)} ${e.uid}:${e.gid} ${type === 'file' ? e.size : ''}${e.linkTarget !== undefined ? ` -> ${e.linkTarget}` : ''}`
}

async function compare(ours: RootFs, oracle: DirRootFs): Promise<number> {
  const mine = [...ours.entries()]
  expect(mine.map(shape)).toEqual([...oracle.entries()].map(shape))
  let links = 0
  for (const e of mine) {
    if (e.type === 'symlink') {
      links++
      expect(ours.realpath(e.path), e.path).toEqual(oracle.realpath(e.path))
      expect(ours.stat(e.path) && shape(ours.stat(e.path)!), e.path).toEqual(oracle.stat(e.path) && shape(oracle.stat(e.path)!))
    }
    if (e.type === 'dir') expect(ours.readdir(e.path), e.path).toEqual(oracle.readdir(e.path))
  }
  const files = mine.filter((e) => e.type === 'file' && e.size > 0).slice(0, 25)
  const contents = await Promise.all(files.map((f) => ours.readFile(f.path)))
  files.forEach((f, i) => expect(contents[i].equals(oracle.readFileSync(f.path)), f.path).toBe(true))
  return links
}

describe('the index agrees with GNU tar unpacking the same layer', () => {
  it('alpine:3.10 (absolute symlinks into busybox)', async () => {
    const archive = `${C}/aquasecurity__trivy/pkg/fanal/test/testdata/alpine-310.tar.gz`
    const outer = unpack('alpine-outer', ['-z', '-f', archive])
    const layer = (JSON.parse(readFileSync(join(outer, 'manifest.json'), 'utf8')) as Array<{ Layers: string[] }>)[0].Layers[0]
    const oracle = new DirRootFs(unpack('alpine-root', ['-f', join(outer, layer)]))
    const img = await openImage(`docker-archive:${archive}`)
    const links = await compare(await buildIndex(img), oracle)
    expect(links).toBeGreaterThan(300)
    await img.close()
  })

  it('busybox (400 hard links to one binary)', async () => {
    const layout = `${C}/buildpacks__imgutil/layout/testdata/layout/busybox`
    const manifest = JSON.parse(readFileSync(`${layout}/blobs/sha256/f75f3d1a317fc82c793d567de94fc8df2bece37acd5f2bd364a0d91a0d1f3dab`, 'utf8')) as { layers: Array<{ digest: string }> }
    const blob = `${layout}/blobs/sha256/${manifest.layers[0].digest.slice(7)}`
    const oracle = new DirRootFs(unpack('busybox-root', ['-z', '-f', blob]))
    const img = await openImage(`oci:${layout}`)
    const idx = await buildIndex(img)
    await compare(idx, oracle)
    expect([...idx.entries()].filter((e) => e.type === 'hardlink').length).toBeGreaterThan(390)
    await img.close()
  })
})
