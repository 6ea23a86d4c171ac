import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { create as createTar } from 'tar'

/**
 * Writes a one-layer OCI image layout (`DIR/index.json`, `DIR/blobs/sha256/...`) whose layer holds
 * `files`. Random content makes the layer incompressible, so its blob is about as large as the
 * files: big enough to break a download in the middle.
 */
export async function writeOciLayout(dir: string, refName: string, files: Record<string, Buffer>): Promise<{ layerDigest: string; layerSize: number; manifestDigest: string }> {
  const root = join(dir, '.rootfs')
  await mkdir(root, { recursive: true })
  for (const [name, data] of Object.entries(files)) await writeFile(join(root, name), data)
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true })
  const layerTmp = join(dir, 'layer.tar.gz')
  await createTar({ gzip: true, cwd: root, file: layerTmp, portable: true, noMtime: true }, Object.keys(files))
  const layer = await readFile(layerTmp)
  await rm(layerTmp)
  await rm(root, { recursive: true })
  const layerDigest = await putBlob(dir, layer)
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Entrypoint: ['/bin/true'] },
    rootfs: { type: 'layers', diff_ids: [sha256(gunzipSync(layer))] },
  }))
  const configDigest = await putBlob(dir, config)
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
  }))
  const manifestDigest = await putBlob(dir, manifest)
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  await writeFile(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': refName } }],
  }))
  return { layerDigest, layerSize: layer.length, manifestDigest }
}

/** An incompressible file of `size` bytes. */
export function randomFile(size: number): Buffer {
  return randomBytes(size)
}

async function putBlob(dir: string, data: Buffer): Promise<string> {
  const digest = sha256(data)
  await writeFile(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), data)
  return digest
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}
