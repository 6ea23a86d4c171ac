/**
 * Turning a tar entry name into a path inside the image root. Layer tars come from strangers, so a
 * name is never trusted: it is cleaned lexically ('.', '//', a leading '/'), and anything that would
 * leave the root ('../x') or that Linux could not create (over PATH_MAX or NAME_MAX, a NUL byte) is
 * refused. Paths inside the index are stored WITHOUT a leading slash ("usr/bin/env"); the root is "".
 */

/** Linux PATH_MAX: a longer name cannot be created by any runtime, so it cannot be in a container. */
export const MAX_PATH_BYTES = 4096
/** Linux NAME_MAX for one component. */
export const MAX_NAME_BYTES = 255

export type CleanResult =
  | { ok: true; path: string; note?: 'absolute' | 'dotdot' }
  | { ok: false; reason: string }

/**
 * Cleans a tar entry name. `path` is "" for the root itself ("./", "/"). A leading '/' is accepted
 * (some writers emit absolute names; runtimes extract them under the root) but reported; '..' that
 * stays inside is folded, '..' that would climb out is refused.
 */
export function cleanEntryPath(raw: string): CleanResult {
  if (raw.includes('\0')) return { ok: false, reason: 'name contains a NUL byte' }
  if (Buffer.byteLength(raw) > MAX_PATH_BYTES) {
    return { ok: false, reason: `name is ${Buffer.byteLength(raw)} bytes, longer than Linux's PATH_MAX (${MAX_PATH_BYTES})` }
  }
  const absolute = raw.startsWith('/')
  const out: string[] = []
  let dotdot = false
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      dotdot = true
      if (out.length === 0) return { ok: false, reason: "name climbs out of the image root with '..'" }
      out.pop()
      continue
    }
    if (Buffer.byteLength(part) > MAX_NAME_BYTES) {
      return { ok: false, reason: `a component is longer than Linux's NAME_MAX (${MAX_NAME_BYTES} bytes)` }
    }
    out.push(part)
  }
  const path = out.join('/')
  if (absolute) return { ok: true, path, note: 'absolute' }
  if (dotdot) return { ok: true, path, note: 'dotdot' }
  return { ok: true, path }
}

/**
 * Cleans a hard link target the same way; its anchor is the root. Returns undefined when the target
 * leaves the root (such a link is kept as a dangling hard link and never followed).
 */
export function cleanLinkTarget(raw: string): string | undefined {
  const r = cleanEntryPath(raw)
  return r.ok && r.path !== '' ? r.path : undefined
}

/** "/usr/bin/env" or "usr/bin/env/" → ["usr","bin","env"], resolving nothing. */
export function splitPath(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.')
}

/** Index path ("usr/bin") → the absolute form users see ("/usr/bin"). */
export function toAbsolute(path: string): string {
  return `/${path}`
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/')
  return i < 0 ? '' : path.slice(0, i)
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}

export const WHITEOUT_PREFIX = '.wh.'
export const OPAQUE_MARKER = '.wh..wh..opq'
/** aufs keeps its own bookkeeping under this prefix (.wh..wh.plnk, .wh..wh.aufs); never content. */
export const AUFS_META_PREFIX = '.wh..wh.'
