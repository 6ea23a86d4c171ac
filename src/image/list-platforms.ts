/**
 * The platforms an image reference offers, for commands that handle every platform (`slim build
 * --all-platforms`): the platforms of its index (nested indexes followed; attestation manifests
 * left out), or the one platform of a single-platform image. Every document is digest-verified
 * like resolveImage does; each platform is then opened on its own with `openImage`.
 */
import { SlimError } from '../core/errors.js'
import { digestOf, verifyBytes } from '../core/digest.js'
import { configPlatform, parseImageConfig, parseManifestDocument, MAX_CONFIG_BYTES, type ManifestDocument } from './manifest.js'
import { parseImageLocation, openSource } from './open.js'
import { formatPlatform, isAttestationPlatform } from './platform.js'
import { readAllLimited } from './read-all.js'
import type { Descriptor, OpenOptions, Platform } from './types.js'

const MAX_DEPTH = 4

export interface ImagePlatforms {
  /** True when the reference names an index (several platforms may follow). */
  index: boolean
  platforms: Platform[]
}

export async function listImagePlatforms(ref: string, opts: OpenOptions = {}): Promise<ImagePlatforms> {
  const source = await openSource(await parseImageLocation(ref), opts)
  try {
    const root = await source.root()
    if (root.digest) verifyBytes(root.bytes, { digest: root.digest }, `${source.reference}: manifest`)
    const doc = parseManifestDocument(root.bytes, `${source.reference}: manifest`, root.mediaType)
    if (doc.kind === 'manifest') {
      const what = `${source.reference}: config ${doc.manifest.config.digest}`
      const stream = await source.blob(doc.manifest.config)
      const bytes = await readAllLimited(stream, MAX_CONFIG_BYTES, what)
      verifyBytes(bytes, { digest: doc.manifest.config.digest, size: doc.manifest.config.size }, what)
      return { index: false, platforms: [configPlatform(parseImageConfig(bytes, what))] }
    }
    const out = new Map<string, Platform>()
    const walk = async (d: ManifestDocument, depth: number): Promise<void> => {
      if (d.kind !== 'index') return
      if (depth >= MAX_DEPTH) throw new SlimError('format', `${source.reference}: image indexes nest more than ${MAX_DEPTH} deep (a loop?)`)
      for (const desc of d.index.manifests as Descriptor[]) {
        if (isAttestationPlatform(desc.platform) || desc.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') continue
        if (desc.platform && !/index|list/.test(desc.mediaType)) {
          const key = formatPlatform(desc.platform)
          if (!out.has(key)) out.set(key, desc.platform)
          continue
        }
        const what = `${source.reference}: manifest ${desc.digest}`
        const child = await source.manifest(desc)
        verifyBytes(child.bytes, { digest: desc.digest, size: desc.size }, what)
        await walk(parseManifestDocument(child.bytes, what, child.mediaType ?? desc.mediaType), depth + 1)
      }
    }
    await walk(doc, 0)
    if (out.size === 0) throw new SlimError('not-found', `${source.reference} (index ${digestOf(root.bytes)}) lists no runnable platform (only attestations or artifacts)`)
    return { index: true, platforms: [...out.values()] }
  } finally {
    await source.close()
  }
}
