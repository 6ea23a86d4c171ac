import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { SlimError } from '../core/errors.js'
import { parseReference } from './reference.js'
import { resolveImage } from './resolve.js'
import type { ImageSource } from './source.js'
import type { Image, OpenOptions, TransportName } from './types.js'

/**
 * The one entry point from a user's image argument to an Image. Transport names are skopeo's:
 * `docker://REF` (also a bare REF), `docker-archive:PATH[:REF]`, `oci:DIR[:REF]`,
 * `oci-archive:PATH[:REF]`, `docker-daemon:REF`.
 */

export interface ImageLocation {
  transport: TransportName
  /** The reference as slim shows it, transport-qualified. */
  reference: string
  /** docker / docker-daemon: the registry reference text. */
  name?: string
  /** Archive or layout path. */
  path?: string
  /** The image inside an archive or layout: a tag / ref name, or `@N`. */
  ref?: string
  /** A bare archive path: docker save or OCI archive, told apart by its contents when opened. */
  byContent?: true
}

const PREFIXES: readonly [string, TransportName][] = [
  ['docker://', 'docker'],
  ['docker-archive:', 'docker-archive'],
  ['docker-daemon:', 'docker-daemon'],
  ['oci-archive:', 'oci-archive'],
  ['oci:', 'oci'],
]

/** skopeo transports slim does not read, so that `dir:x` is not mistaken for a registry host. */
const OTHER_TRANSPORTS = ['dir', 'containers-storage', 'ostree', 'sif', 'tarball', 'docker']

const SUPPORTED = 'docker://, docker-archive:, oci:, oci-archive:, docker-daemon:'

// OCI image-spec ref name: components of alphanumerics joined by [-._:@+] or "--", separated by "/".
const OCI_REF_COMPONENT = /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*$/
const INDEX_REF = /^@\d+$/

export function isOciRefName(s: string): boolean {
  return INDEX_REF.test(s) || (s !== '' && s.split('/').every((c) => OCI_REF_COMPONENT.test(c)))
}

function isDockerArchiveRef(s: string): boolean {
  if (INDEX_REF.test(s)) return true
  try {
    parseReference(s)
    return true
  } catch {
    return false
  }
}

async function pathKind(p: string): Promise<'file' | 'dir' | undefined> {
  try {
    return (await stat(p)).isDirectory() ? 'dir' : 'file'
  } catch {
    return undefined
  }
}

/**
 * Splits `PATH[:REF]` where the path itself may contain ':'. The whole text wins when it exists on
 * disk; otherwise the LAST ':' whose left side exists and whose right side is a valid REF; when
 * nothing exists (the open then fails naming the path), the first ':' followed by a valid REF that
 * does not look like a path, as skopeo splits.
 */
export async function splitPathAndRef(spec: string, isRef: (s: string) => boolean): Promise<{ path: string; ref?: string }> {
  if (!spec.includes(':') || (await pathKind(spec))) return { path: spec }
  const colons: number[] = []
  for (let i = spec.indexOf(':'); i >= 0; i = spec.indexOf(':', i + 1)) colons.push(i)
  colons.reverse()
  const at = (i: number): { path: string; ref?: string } => {
    const ref = spec.slice(i + 1)
    return { path: spec.slice(0, i), ...(ref ? { ref } : {}) }
  }
  for (const i of colons) {
    const ref = spec.slice(i + 1)
    if ((ref === '' || isRef(ref)) && (await pathKind(spec.slice(0, i)))) return at(i)
  }
  for (const i of [...colons].reverse()) {
    const ref = spec.slice(i + 1)
    if (i > 0 && (ref === '' || (isRef(ref) && !ref.includes('/')))) return at(i)
  }
  return { path: spec }
}

export async function parseImageLocation(input: string): Promise<ImageLocation> {
  const text = input.trim()
  if (text === '') throw new SlimError('usage', `no image given; write an image reference such as nginx:latest or a transport form (${SUPPORTED})`)
  const prefix = PREFIXES.find(([p]) => text.startsWith(p))
  if (!prefix) {
    const scheme = /^([a-z-]+):(?!\d)/.exec(text)?.[1]
    if (scheme && OTHER_TRANSPORTS.includes(scheme)) {
      if (scheme === 'docker') throw new SlimError('usage', `"${text}": the docker transport is written docker://REF`)
      throw new SlimError('unsupported', `"${text}": the ${scheme}: transport is not supported; slim reads ${SUPPORTED} (convert with skopeo copy ${text} oci:DIR:TAG)`)
    }
    const local = await bareLocalPath(text)
    if (local) return local
    parseReference(text)
    return { transport: 'docker', reference: `docker://${text}`, name: text }
  }
  const [p, transport] = prefix
  const rest = text.slice(p.length)
  if (rest === '') throw new SlimError('usage', `"${text}": nothing after ${p}; write ${p}${transport === 'docker' || transport === 'docker-daemon' ? 'REF' : 'PATH[:REF]'}`)
  switch (transport) {
    case 'docker':
    case 'docker-daemon':
      parseReference(rest)
      return { transport, reference: text, name: rest }
    case 'oci': {
      const { path, ref } = await splitPathAndRef(rest, isOciRefName)
      return { transport, reference: text, path, ...(ref ? { ref } : {}) }
    }
    case 'docker-archive':
    case 'oci-archive': {
      const { path, ref } = await splitPathAndRef(rest, transport === 'oci-archive' ? isOciRefName : isDockerArchiveRef)
      return { transport, reference: text, path, ...(ref ? { ref } : {}) }
    }
  }
}

/** A path as people write one: `/x`, `./x`, `../x`, `x/`, or a file name with an archive extension. */
function looksLikePath(text: string): boolean {
  return /^\.{0,2}\//.test(text) || text === '.' || text === '..' || text.endsWith('/') || /\.(tar|tgz|oci|tar\.(gz|xz|zst|zstd))$/i.test(text)
}

function isRegistryReference(text: string): boolean {
  try {
    parseReference(text)
    return true
  } catch {
    return false
  }
}

/**
 * A prefix-less argument that names a file or directory is opened by content, as other image tools
 * do: an archive file (docker save or OCI archive, possibly gzip/xz/zstd-wrapped) or an OCI layout
 * directory. A bare word that exists here and is also a valid image name (`nginx`) is ambiguous:
 * the error says which spelling picks which.
 */
async function bareLocalPath(text: string): Promise<ImageLocation | undefined> {
  const explicit = looksLikePath(text)
  const kind = await pathKind(text)
  if (!kind) {
    if (!explicit) return undefined
    const registry = isRegistryReference(text) ? `; for a registry image of that name write docker://${text}` : ''
    throw new SlimError('not-found', `${text}: no such file or directory${registry}`)
  }
  if (!explicit && isRegistryReference(text)) {
    throw new SlimError('usage', `"${text}" is both a ${kind === 'dir' ? 'directory' : 'file'} here and an image name; write ./${text} to read the ${kind === 'dir' ? 'directory' : 'file'}, or docker://${text} for the registry image`)
  }
  if (kind === 'file') return { transport: 'docker-archive', reference: text, path: text, byContent: true }
  if ((await pathKind(join(text, 'oci-layout'))) || (await pathKind(join(text, 'index.json')))) return { transport: 'oci', reference: `oci:${text}`, path: text }
  if (await pathKind(join(text, 'manifest.json'))) {
    throw new SlimError('unsupported', `${text} is an unpacked docker save directory; slim reads the archive: tar -cf image.tar -C ${text} . and analyze image.tar`)
  }
  throw new SlimError('not-found', `${text} is a directory without an OCI layout (no oci-layout or index.json file in it); give an OCI layout directory, an image archive or a registry reference`)
}

/** Opens the transport's raw source for a location (resolveImage turns it into an Image). */
export async function openSource(loc: ImageLocation, opts: OpenOptions): Promise<ImageSource> {
  switch (loc.transport) {
    // Each transport loads only for the images that need it: the registry and daemon clients (HTTP,
    // TLS, credentials), the archive readers (tar): loading them is start-up time the others would
    // pay for nothing (a warm run served by the result cache is mostly start-up).
    case 'docker':
      return (await import('./transports/docker.js')).openRegistrySource(loc.name as string, opts)
    case 'docker-daemon':
      return (await import('./transports/docker-daemon.js')).openDockerDaemon(loc.name as string, loc.reference, { cacheDir: opts.cacheDir, maxTempBytes: opts.maxTempBytes })
    case 'docker-archive':
      if (loc.byContent) return (await import('./transports/by-content.js')).openArchiveByContent(loc.path as string, { cacheDir: opts.cacheDir, maxTempBytes: opts.maxTempBytes })
      return (await import('./transports/docker-archive.js')).openDockerArchive(loc.path as string, loc.ref, { reference: loc.reference, cacheDir: opts.cacheDir, maxTempBytes: opts.maxTempBytes })
    case 'oci':
      return (await import('./transports/oci-layout.js')).openOciLayout(loc.path as string, loc.ref, loc.reference)
    case 'oci-archive':
      return (await import('./transports/oci-archive.js')).openOciArchive(loc.path as string, loc.ref, loc.reference, { cacheDir: opts.cacheDir, maxTempBytes: opts.maxTempBytes })
  }
}

export async function openImage(ref: string, opts: OpenOptions = {}): Promise<Image> {
  const loc = await parseImageLocation(ref)
  opts.log?.(`opening ${loc.reference} (${loc.transport})`)
  return resolveImage(await openSource(loc, opts), opts)
}
