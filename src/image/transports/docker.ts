import type { Readable } from 'node:stream'
import { SlimError } from '../../core/errors.js'
import { parseReference, type Reference } from '../reference.js'
import { RegistryClient } from '../registry/client.js'
import type { ImageSource } from '../source.js'
import type { Descriptor, OpenOptions } from '../types.js'

/**
 * The `docker://` transport: an image in a registry. `reference` is without the `docker://`
 * prefix (`nginx`, `localhost:5000/app:1@sha256:...`). Nothing is fetched until root() is called,
 * so opening is cheap and a bad reference fails before any network traffic.
 */
export async function openRegistrySource(reference: string, opts: OpenOptions): Promise<ImageSource> {
  const ref = parseReference(reference)
  const client = new RegistryClient(ref.registry, { ...opts.registry, log: opts.log, repository: ref.repository })
  return new RegistrySource(ref, client)
}

class RegistrySource implements ImageSource {
  readonly transport = 'docker' as const
  readonly reference: string
  readonly name: string
  readonly tag?: string

  constructor(
    private readonly ref: Reference,
    private readonly client: RegistryClient,
  ) {
    this.reference = `docker://${ref.toString()}`
    this.name = ref.name
    this.tag = ref.tag
  }

  async root(): Promise<{ bytes: Buffer; mediaType?: string; digest?: string }> {
    // A pinned digest wins over the tag: that is what the user asked to be verified.
    const target = this.ref.digest ?? this.ref.tag
    if (target === undefined) throw new SlimError('internal', `${this.reference}: reference has neither tag nor digest`)
    const m = await this.client.getManifest(this.ref.repository, target, this.reference)
    return { bytes: m.bytes, mediaType: m.mediaType, digest: this.ref.digest ?? m.digest }
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
