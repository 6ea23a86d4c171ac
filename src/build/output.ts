/**
 * Writes a built image where --output says: `oci:DIR[:TAG]` (an OCI layout; an existing layout
 * keeps its other tags), `oci-archive:FILE[:TAG]` (that layout as a tar) or
 * `docker-archive:FILE[:TAG]` (what `docker load` reads: manifest.json, the config and the layer
 * blobs). The blobs come from the build's blob directory, where every one was digest-verified.
 */
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { create as createTar } from 'tar'
import { SlimError, describe } from '../core/errors.js'
import { parseReference } from '../image/reference.js'
import { MediaType, type Descriptor, type ImageIndex, type Platform } from '../image/types.js'
import { assembleIndex, type Assembled } from './assemble.js'

export type Destination = { transport: 'oci' | 'oci-archive' | 'docker-archive'; path: string; tag?: string }

const TRANSPORTS = ['oci', 'oci-archive', 'docker-archive'] as const

/** Parses --output. A path holding ':' is not supported here: the first ':' after the transport starts the tag. */
export function parseDestination(text: string): Destination {
  const colon = text.indexOf(':')
  const transport = text.slice(0, colon) as Destination['transport']
  if (colon < 0 || !TRANSPORTS.includes(transport)) {
    throw new SlimError('usage', `--output ${text}: write oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:TAG]`)
  }
  const rest = text.slice(colon + 1)
  const at = rest.indexOf(':')
  const path = at < 0 ? rest : rest.slice(0, at)
  const tag = at < 0 ? undefined : rest.slice(at + 1)
  if (!path) throw new SlimError('usage', `--output ${text}: the ${transport} destination needs a path`)
  if (tag !== undefined) {
    const ok = transport === 'docker-archive' ? isDockerTag(tag) : /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*$/.test(tag)
    if (!ok) throw new SlimError('usage', `--output ${text}: "${tag}" is not a valid tag; write e.g. ${transport}:${path}:${transport === 'docker-archive' ? 'app:slim' : 'slim'}`)
  }
  return { transport, path, tag }
}

function isDockerTag(s: string): boolean {
  try {
    parseReference(s)
    return true
  } catch {
    return false
  }
}

export interface BuiltPlatform {
  platform: Platform
  assembled: Assembled
}

const blobPath = (dir: string, digest: string): string => join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length))

async function putBlob(blobs: string, layout: string, digest: string, bytes?: Buffer): Promise<void> {
  const to = blobPath(layout, digest)
  if (await stat(to).catch(() => undefined)) return
  if (bytes) await writeFile(to, bytes)
  else await copyFile(blobPath(blobs, digest), to)
}

/** Writes (or adds to) an OCI layout at `dir`; one platform is tagged as is (unless `asIndex`), several go through an index. */
async function writeLayout(dir: string, blobs: string, images: BuiltPlatform[], tag: string | undefined, asIndex: boolean): Promise<Descriptor> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true })
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  const manifests: Descriptor[] = []
  for (const { platform, assembled: a } of images) {
    for (const l of a.layers) await putBlob(blobs, dir, l.digest)
    await putBlob(blobs, dir, a.configDigest, a.config)
    await putBlob(blobs, dir, a.manifestDigest, a.manifest)
    manifests.push({ mediaType: MediaType.ociManifest, digest: a.manifestDigest, size: a.manifest.length, platform })
  }
  let top = manifests[0]
  if (asIndex || images.length > 1) {
    const index = assembleIndex(images)
    top = { mediaType: MediaType.ociIndex, digest: index.digest, size: index.bytes.length }
    await putBlob(blobs, dir, top.digest, index.bytes)
  }
  const indexFile = join(dir, 'index.json')
  const existing = await readFile(indexFile, 'utf8').then((t) => JSON.parse(t) as ImageIndex, () => undefined)
  const refName = 'org.opencontainers.image.ref.name'
  const kept = (existing?.manifests ?? []).filter((m) => tag === undefined || m.annotations?.[refName] !== tag)
  const entry: Descriptor = { ...top, ...(tag ? { annotations: { [refName]: tag } } : {}) }
  await writeFile(indexFile, JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...kept, entry] }))
  return top
}

async function writeDockerArchive(dir: string, blobs: string, image: BuiltPlatform, tag: string | undefined): Promise<void> {
  const a = image.assembled
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true })
  for (const l of a.layers) await putBlob(blobs, dir, l.digest)
  await putBlob(blobs, dir, a.configDigest, a.config)
  const rel = (d: string): string => `blobs/sha256/${d.slice('sha256:'.length)}`
  const manifest = [{ Config: rel(a.configDigest), RepoTags: tag ? [familiarTag(tag)] : [], Layers: a.layers.map((l) => rel(l.digest)) }]
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest))
}

/** docker load wants "name:tag" with a tag. */
function familiarTag(tag: string): string {
  const r = parseReference(tag)
  const name = r.registry === 'docker.io' ? r.repository.replace(/^library\//, '') : `${r.registry}/${r.repository}`
  return `${name}:${r.tag ?? 'latest'}`
}

/** Writes the images to `dest`, using `work` (a private temp dir) for archives' staging. */
export async function writeDestination(dest: Destination, blobs: string, images: BuiltPlatform[], work: string, asIndex = false): Promise<void> {
  try {
    if (dest.transport === 'oci') {
      await writeLayout(dest.path, blobs, images, dest.tag, asIndex)
      return
    }
    const stage = join(work, 'stage')
    await rm(stage, { recursive: true, force: true })
    if (dest.transport === 'oci-archive') {
      await writeLayout(stage, blobs, images, dest.tag, asIndex)
    } else {
      if (images.length !== 1) throw new SlimError('usage', `--output ${dest.transport}:${dest.path}: a docker archive holds one platform; use oci: or oci-archive: with --all-platforms`)
      await writeDockerArchive(stage, blobs, images[0], dest.tag)
    }
    const names = dest.transport === 'oci-archive' ? ['oci-layout', 'index.json', 'blobs'] : ['manifest.json', 'blobs']
    await createTar({ file: dest.path, cwd: stage, portable: true, noMtime: true }, names)
  } catch (e) {
    if (e instanceof SlimError) throw e
    throw new SlimError('usage', `--output ${dest.transport}:${dest.path}: cannot write it (${describe(e)}); choose a writable path`)
  }
}
