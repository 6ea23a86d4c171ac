import type { Readable } from 'node:stream'
import { distance } from 'fastest-levenshtein'
import { SlimError, isSlimError } from '../../core/errors.js'
import { applyMirror, parseReference, type Reference } from '../reference.js'
import { RegistryClient } from '../registry/client.js'
import type { ImageSource } from '../source.js'
import type { Descriptor, OpenOptions } from '../types.js'

/**
 * The `docker://` transport: an image in a registry. `reference` is without the `docker://`
 * prefix (`nginx`, `localhost:5000/app:1@sha256:...`). Nothing is fetched until root() is called,
 * so opening is cheap and a bad reference fails before any network traffic.
 */
export async function openRegistrySource(reference: string, opts: OpenOptions): Promise<ImageSource> {
  const asked = parseReference(reference)
  // A mirror (--registry-mirror, the config's mirrors) serves the image under its own host.
  const mirrored = opts.registryMirrors ? applyMirror(reference, opts.registryMirrors) : reference
  const ref = mirrored === reference ? asked : parseReference(mirrored)
  const client = new RegistryClient(ref.registry, { ...opts.registry, log: opts.log, repository: ref.repository })
  // `nginx` means docker.io/library/nginx: worth saying when that name turns out not to exist.
  const assumedLibrary = asked.registry === 'docker.io' && asked.repository.startsWith('library/') && !reference.includes('library/')
  return new RegistrySource(ref, client, { assumedLibrary, ...(mirrored !== reference ? { asked } : {}) })
}

class RegistrySource implements ImageSource {
  readonly transport = 'docker' as const
  readonly reference: string
  readonly name: string
  readonly tag?: string

  constructor(
    private readonly ref: Reference,
    private readonly client: RegistryClient,
    /** assumedLibrary: the name had no namespace; asked: the reference as given, when a mirror serves it. */
    private readonly how: { assumedLibrary: boolean; asked?: Reference } = { assumedLibrary: false },
  ) {
    this.reference = `docker://${ref.toString()}`
    this.name = ref.name
    this.tag = ref.tag
  }

  async root(): Promise<{ bytes: Buffer; mediaType?: string; digest?: string }> {
    // A pinned digest wins over the tag: that is what the user asked to be verified.
    const target = this.ref.digest ?? this.ref.tag
    if (target === undefined) throw new SlimError('internal', `${this.reference}: reference has neither tag nor digest`)
    try {
      const m = await this.client.getManifest(this.ref.repository, target, this.reference)
      return { bytes: m.bytes, mediaType: m.mediaType, digest: this.ref.digest ?? m.digest }
    } catch (e) {
      if (!isSlimError(e) || e.kind !== 'not-found') throw e
      throw new SlimError('not-found', `${e.message}${await this.unknownHint()}`, { cause: e })
    }
  }

  /** For a name or tag the registry does not know: the closest tags it has, and the library/ assumption. */
  private async unknownHint(): Promise<string> {
    const asked = this.how.asked
    const via = asked ? ` through the mirror ${this.ref.registry}` : ''
    const library = this.how.assumedLibrary ? `; ${(asked ?? this.ref).repository.slice('library/'.length)} was read as docker.io/${(asked ?? this.ref).repository} (library/ assumed: Docker Hub's official images)${via}` : asked ? `; ${asked.toString()} was read${via}` : ''
    if (this.ref.digest !== undefined || this.ref.tag === undefined) return library
    let tags: string[]
    try {
      tags = await this.client.listTags(this.ref.repository)
    } catch {
      return library // no tag list (repository unknown, or not allowed): nothing better to say
    }
    const close = closestTags(this.ref.tag, tags)
    const list = close.length ? `; closest tags: ${close.join(', ')}` : tags.length ? '' : '; the repository has no tags'
    return `${list}${library}`
  }

  async manifest(desc: Descriptor): Promise<{ bytes: Buffer; mediaType?: string }> {
    const m = await this.client.getManifest(this.ref.repository, desc.digest, `${this.reference} (${desc.digest})`)
    return { bytes: m.bytes, mediaType: m.mediaType ?? desc.mediaType }
  }

  blob(desc: Descriptor): Promise<Readable> {
    return this.client.getBlob(this.ref.repository, desc, `${this.reference}: blob ${desc.digest}`)
  }

  async close(): Promise<void> {
    await this.client.close()
  }
}

/** Up to `n` tags nearest to `tag` by edit distance (ties by name), within half the tag's length. */
export function closestTags(tag: string, tags: readonly string[], n = 3): string[] {
  const limit = Math.max(2, Math.ceil(tag.length / 2))
  return tags
    .map((t) => ({ t, d: distance(tag, t) }))
    .filter((x) => x.d <= limit && x.t !== tag)
    .sort((a, b) => a.d - b.d || a.t.localeCompare(b.t))
    .slice(0, n)
    .map((x) => x.t.replace(/[^\w.-]/g, '?'))
}
