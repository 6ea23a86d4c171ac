import type { Readable } from 'node:stream'
import type { Descriptor, TransportName } from './types.js'

/**
 * What a transport must provide: raw manifest bytes and raw blob streams, nothing verified.
 * `resolveImage` (resolve.ts) turns any ImageSource into an Image: it verifies every digest,
 * picks the platform from an index, parses the config and wires the blob cache. A new transport
 * therefore implements only these few methods (the go-containerregistry "partial" idea).
 */
export interface ImageSource {
  readonly transport: TransportName
  /** Transport-qualified reference for messages, e.g. `oci:/path:tag`. */
  readonly reference: string
  /** Repository name (e.g. docker.io/library/nginx), when the source knows one. */
  readonly name?: string
  readonly tag?: string

  /**
   * The root document: the manifest or index the reference points at. `digest` is the expected
   * digest when the reference pinned one (or the source knows it from a descriptor); resolveImage
   * verifies the bytes against it. `mediaType` is what the source reported (Content-Type, index
   * descriptor), used when the document has no mediaType field.
   */
  root(): Promise<{ bytes: Buffer; mediaType?: string; digest?: string }>

  /** A manifest or index by digest (children of an index). Returned bytes are verified by the caller. */
  manifest(desc: Descriptor): Promise<{ bytes: Buffer; mediaType?: string }>

  /** A blob's stored bytes (config or layer), unverified; the caller verifies while streaming. */
  blob(desc: Descriptor): Promise<Readable>

  /**
   * Sources that are not content-addressed at the blob level (docker-archive) set this: their
   * layers can only be checked against the config's diff IDs after decompression.
   */
  readonly layersVerifiedByDiffId?: boolean

  /**
   * For docker-archive: the image has no manifest, only a config and layer files. The source
   * synthesises one; resolveImage then reports no manifest digest.
   */
  readonly synthesizedManifest?: boolean

  close(): Promise<void>
}
