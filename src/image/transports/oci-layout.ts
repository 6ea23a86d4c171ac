import { constants } from 'node:fs'
import { open, realpath, stat } from 'node:fs/promises'
import { join, sep } from 'node:path'
import type { Readable } from 'node:stream'
import { SlimError, describe } from '../../core/errors.js'
import { parseDigest } from '../../core/digest.js'
import { MAX_MANIFEST_BYTES, parseJson, validateDescriptor } from '../manifest.js'
import { readAllLimited } from '../read-all.js'
import type { ImageSource } from '../source.js'
import { MediaType, type Descriptor, type TransportName } from '../types.js'

/**
 * The OCI image layout (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), read from a directory
 * (`oci:`) or from inside a tar (`oci-archive:`, see oci-archive.ts). Both give the same
 * LayoutFiles view; everything about choosing the image lives here.
 */

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name'

/** Read-only access to the files of one layout; `rel` paths are built by this module only. */
export interface LayoutFiles {
  /** What messages call the layout, e.g. `oci:/srv/layout`. */
  readonly display: string
  kind(rel: string): Promise<'file' | 'dir' | 'missing'>
  read(rel: string, limit: number, what: string): Promise<Buffer>
  stream(rel: string, what: string): Promise<Readable>
  close(): Promise<void>
}

export function blobPath(digest: string): string {
  const { algorithm, hex } = parseDigest(digest)
  return `blobs/${algorithm}/${hex}`
}

/** A layout directory on disk. */
export class DirectoryLayoutFiles implements LayoutFiles {
  constructor(
    readonly dir: string,
    readonly display: string,
  ) {}

  async kind(rel: string): Promise<'file' | 'dir' | 'missing'> {
    try {
      const st = await stat(join(this.dir, rel))
      return st.isDirectory() ? 'dir' : 'file'
    } catch {
      return 'missing'
    }
  }

  async read(rel: string, limit: number, what: string): Promise<Buffer> {
    return readAllLimited(await this.stream(rel, what), limit, `${this.display}: ${what}`)
  }

  async stream(rel: string, what: string): Promise<Readable> {
    const path = join(this.dir, rel)
    const kind = await this.kind(rel)
    if (kind === 'missing') throw missingBlob(this.display, rel, what)
    if (kind === 'dir') throw new SlimError('format', `${this.display}: ${rel} is a directory, not a regular file`)
    return (await this.openRegular(path, rel)).createReadStream({ highWaterMark: 256 * 1024 })
  }

  /**
   * Opens a layout file only if it is a regular file inside the layout: a FIFO would block open()
   * and read() forever and a device never ends, so the file is opened non-blocking and checked
   * with fstat before any read; a symlink may not lead out of the layout directory.
   */
  private async openRegular(path: string, rel: string) {
    const notRegular = (what: string): SlimError =>
      new SlimError('format', `${this.display}: ${rel} is ${what}, not a regular file; the layout is damaged or hostile, re-create it with skopeo copy`)
    const [real, root] = await Promise.all([realpath(path), realpath(this.dir)]).catch((e: unknown) => {
      throw new SlimError('not-found', `${this.display}: cannot open ${rel} (${describe(e)})`)
    })
    if (!real.startsWith(root + sep)) throw notRegular(`a link out of the layout directory (to ${real})`)
    const fh = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW).catch((e: unknown) => {
      throw new SlimError('not-found', `${this.display}: cannot open ${rel} (${describe(e)})`)
    })
    const st = await fh.stat()
    if (!st.isFile()) {
      await fh.close()
      throw notRegular(st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a file')
    }
    return fh
  }

  async close(): Promise<void> {}
}

function missingBlob(display: string, rel: string, what: string): SlimError {
  return new SlimError(
    'not-found',
    `${display}: ${what} is missing (${rel}); the layout is incomplete (sparse or damaged), re-create it with skopeo copy`,
  )
}

export { missingBlob as missingLayoutFile }

interface Choice {
  /** The chosen index.json entry; undefined when index.json itself is used as the image index. */
  descriptor?: Descriptor
  refName?: string
}

/**
 * Picks the index.json entry for `ref`: a ref name (org.opencontainers.image.ref.name), `@N` (the
 * N-th entry, as skopeo's @source-index), or, without a ref, the only image. A layout whose
 * entries are all unnamed per-platform manifests (apko, some buildkit exports) is itself the
 * multi-platform index.
 */
function chooseEntry(manifests: Descriptor[], ref: string | undefined, display: string): Choice {
  const nameOf = (d: Descriptor): string | undefined => d.annotations?.[REF_NAME_ANNOTATION]
  const listing = (): string => {
    const names = manifests.map((d, i) => nameOf(d) ?? `@${i}`)
    const shown = names.slice(0, 30).join(', ')
    return names.length > 30 ? `${shown}, ... (${names.length} in all)` : shown
  }
  if (manifests.length === 0) {
    throw new SlimError('not-found', `${display}: index.json lists no images; the layout is empty (copy an image into it with skopeo copy ... ${display.split(':')[0]}:PATH:TAG)`)
  }
  if (ref !== undefined) {
    const at = /^@(\d+)$/.exec(ref)
    if (at) {
      const i = Number(at[1])
      if (i >= manifests.length) throw new SlimError('not-found', `${display}: there is no image @${i}; index.json has ${manifests.length} (@0..@${manifests.length - 1})`)
      return { descriptor: manifests[i], refName: nameOf(manifests[i]) }
    }
    const matches = manifests.filter((d) => nameOf(d) === ref)
    if (matches.length === 0) throw new SlimError('not-found', `${display}: no image named "${ref}"; the layout has: ${listing()}`)
    if (new Set(matches.map((d) => d.digest)).size > 1) {
      throw new SlimError('format', `${display}: ${matches.length} different images are named "${ref}" in index.json; the layout is ambiguous, pick one with ${display}:@N (${manifests.map((d, i) => (nameOf(d) === ref ? `@${i}` : '')).filter(Boolean).join(', ')})`)
    }
    return { descriptor: matches[0], refName: ref }
  }
  if (new Set(manifests.map((d) => d.digest)).size === 1) return { descriptor: manifests[0], refName: nameOf(manifests[0]) }
  const unnamedPlatformEntries = manifests.every((d) => !nameOf(d) && d.platform)
  if (unnamedPlatformEntries) return {}
  throw new SlimError('usage', `${display} holds ${manifests.length} images; choose one by appending :REF (a ref name) or :@N to the reference: ${listing()}`)
}

export interface LayoutSourceMeta {
  transport: TransportName
  /** Transport-qualified reference as the user gave it. */
  reference: string
}

/** Opens the image `ref` of a layout as an ImageSource (raw bytes; resolveImage verifies). */
export async function openLayoutSource(files: LayoutFiles, ref: string | undefined, meta: LayoutSourceMeta): Promise<ImageSource> {
  const display = files.display
  const indexKind = await files.kind('index.json')
  if (indexKind === 'missing') {
    if ((await files.kind('manifest.json')) === 'file') {
      if (meta.transport === 'oci') {
        throw new SlimError('unsupported', `${display}: no index.json, but a manifest.json: this is a skopeo dir: layout, which slim does not read; convert it with skopeo copy dir:PATH oci:NEWDIR:TAG`)
      }
      throw new SlimError('not-found', `${display}: no index.json, but a manifest.json: this is a docker save archive, open it as docker-archive:`)
    }
    throw new SlimError('not-found', `${display}: no index.json; this is not an OCI image layout (create one with skopeo copy SRC ${meta.transport}:PATH:TAG)`)
  }
  if (indexKind === 'dir') {
    throw new SlimError('format', `${display}: index.json is a directory, not a file; the layout is broken, re-create it with skopeo copy`)
  }
  const indexBytes = await files.read('index.json', MAX_MANIFEST_BYTES, 'index.json')
  if (indexBytes.length === 0) throw new SlimError('format', `${display}: index.json is empty (0 bytes); the layout is broken, re-create it with skopeo copy`)
  const doc = parseJson(indexBytes, `${display}: index.json`) as Record<string, unknown> | null
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new SlimError('format', `${display}: index.json is not a JSON object; the layout is broken, re-create it with skopeo copy`)
  }
  if (!('manifests' in doc) && ('config' in doc || 'layers' in doc)) {
    throw new SlimError('format', `${display}: index.json is an image manifest, not an image index; the layout is broken, re-create it with skopeo copy`)
  }
  if (!Array.isArray(doc.manifests)) {
    if ((await files.kind('manifest.json')) === 'file') {
      throw new SlimError('format', `${display}: index.json lists no manifests, but the archive has a docker manifest.json (a Docker 25+ save); open it as docker-archive:`)
    }
    throw new SlimError('format', `${display}: index.json lists no manifests ("manifests" is ${doc.manifests === undefined ? 'missing' : JSON.stringify(doc.manifests)}); the layout is broken, re-create it with skopeo copy`)
  }
  const manifests = doc.manifests.map((m, i) => validateDescriptor(m, `${display}: index.json manifests[${i}]`))
  const choice = chooseEntry(manifests, ref, display)
  const desc = choice.descriptor

  const readBlob = async (d: Descriptor, what: string): Promise<Buffer> => {
    if (d.size > MAX_MANIFEST_BYTES) throw new SlimError('limit', `${display}: ${what} ${d.digest} claims ${d.size} bytes, above the manifest limit`)
    return files.read(blobPath(d.digest), MAX_MANIFEST_BYTES, `${what} ${d.digest}`)
  }

  let closed = false
  return {
    transport: meta.transport,
    reference: meta.reference,
    ...(choice.refName ? { tag: choice.refName } : {}),
    async root() {
      if (!desc) return { bytes: indexBytes, mediaType: typeof doc.mediaType === 'string' ? doc.mediaType : MediaType.ociIndex }
      return { bytes: await readBlob(desc, 'manifest'), mediaType: desc.mediaType, digest: desc.digest }
    },
    async manifest(d) {
      return { bytes: await readBlob(d, 'manifest'), mediaType: d.mediaType }
    },
    async blob(d) {
      return files.stream(blobPath(d.digest), `blob ${d.digest}`)
    },
    async close() {
      if (closed) return
      closed = true
      await files.close()
    },
  }
}

/** `oci:DIR[:REF]` */
export async function openOciLayout(dir: string, ref: string | undefined, reference: string): Promise<ImageSource> {
  const display = `oci:${dir}`
  let st
  try {
    st = await stat(dir)
  } catch (e) {
    throw new SlimError('not-found', `${display}: directory ${dir} does not exist${(e as NodeJS.ErrnoException).code === 'ENOENT' ? '' : ` (${describe(e)})`}`)
  }
  if (!st.isDirectory()) {
    throw new SlimError('format', `${display}: ${dir} is a file, not an OCI layout directory (for an archive use oci-archive:${dir} or docker-archive:${dir})`)
  }
  return openLayoutSource(new DirectoryLayoutFiles(dir, display), ref, { transport: 'oci', reference })
}
