/**
 * Hostile images made in the test setup: the bundled hello-static image (a real static ELF at
 * /app/hello) with its config's `config` object replaced by whatever a test wants (wrong types,
 * control characters), an extra layer of files with hostile names, and a hostile history line.
 * Written as an OCI layout or as a docker-archive, at a path the test chooses (newlines allowed).
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import * as tar from 'tar'
import { REPO } from './cli.js'
import { makeTar, type TarEntrySpec } from './tar-layers.js'

export interface HostileSpec {
  /** Replaces the config's `config` object (any JSON, wrong types included). */
  config: unknown
  /** An extra top layer. */
  entries?: TarEntrySpec[]
  createdBy?: string
}

interface Blob {
  digest: string
  bytes: Buffer
}

const blob = (bytes: Buffer): Blob => ({ digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes })

/** The hello-static image's parts, uncompressed, with the spec applied. */
function parts(spec: HostileSpec, scratch: string): { config: Blob; layers: Blob[] } {
  mkdirSync(scratch, { recursive: true })
  tar.x({ file: join(REPO, 'fixtures/images/hello-static.oci.tar'), cwd: scratch, sync: true })
  const blobPath = (d: string) => join(scratch, 'blobs', 'sha256', d.replace(/^sha256:/, ''))
  const index = JSON.parse(readFileSync(join(scratch, 'index.json'), 'utf8'))
  const manifest = JSON.parse(readFileSync(blobPath(index.manifests[0].digest), 'utf8'))
  const config = JSON.parse(readFileSync(blobPath(manifest.config.digest), 'utf8'))
  const layers: Blob[] = manifest.layers.map((l: { digest: string }) => blob(gunzipSync(readFileSync(blobPath(l.digest)))))
  if (spec.entries?.length) layers.push(blob(makeTar(spec.entries)))
  config.config = spec.config
  config.rootfs.diff_ids = layers.map((l) => l.digest)
  config.history = [...layers.map(() => ({ created_by: spec.createdBy ?? 'COPY hello /app/' }))]
  return { config: blob(Buffer.from(JSON.stringify(config))), layers }
}

/** Writes an OCI layout at `dir` (tag `latest`); returns its reference. */
export function writeHostileLayout(dir: string, spec: HostileSpec): string {
  const { config, layers } = parts(spec, `${dir}.parts`)
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true })
  const put = (b: Blob) => writeFileSync(join(dir, 'blobs', 'sha256', b.digest.slice(7)), b.bytes)
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.bytes.length },
        layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l.digest, size: l.bytes.length })),
      }),
    ),
  )
  for (const b of [config, manifest, ...layers]) put(b)
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  const desc = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifest.digest, size: manifest.bytes.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [desc] }))
  return `oci:${dir}:latest`
}

/** Writes a docker-archive (docker save format) at `file`, tagged `repoTag`; returns its reference. */
export function writeHostileArchive(file: string, scratch: string, spec: HostileSpec, repoTag = 'hostile/app:1'): string {
  const { config, layers } = parts(spec, join(scratch, 'parts'))
  const dir = join(scratch, 'archive')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'config.json'), config.bytes)
  layers.forEach((l, i) => writeFileSync(join(dir, `layer${i}.tar`), l.bytes))
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: [repoTag], Layers: layers.map((_, i) => `layer${i}.tar`) }]))
  tar.c({ file, cwd: dir, sync: true, portable: true }, ['manifest.json', 'config.json', ...layers.map((_, i) => `layer${i}.tar`)])
  return `docker-archive:${file}`
}
