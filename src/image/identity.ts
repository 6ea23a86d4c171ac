import type { Image } from './types.js'

/** What names an opened image and the documents it was read from: the reference as given, where it came from, and the digests. */
export interface ImageIdentity {
  reference: string
  transport: string
  name?: string
  tag?: string
  manifestDigest?: string
  indexDigest?: string
  manifestMediaType: string
  configDigest: string
}

/**
 * The image's identity as plain data, in one order: the report's image summary starts with it,
 * and the analysis result cache's key is made from it (a field added here reaches both).
 */
export function imageIdentity(image: Image): ImageIdentity {
  return {
    reference: image.reference,
    transport: image.transport,
    name: image.name,
    tag: image.tag,
    manifestDigest: image.manifestDigest,
    indexDigest: image.indexDigest,
    manifestMediaType: image.manifestMediaType,
    configDigest: image.configDigest,
  }
}
