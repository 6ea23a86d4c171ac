import { SlimError } from '../core/errors.js'
import { isDigest } from '../core/digest.js'

/**
 * An image reference in a registry, normalised the way Docker does it:
 * `nginx` is `docker.io/library/nginx:latest`. Grammar: the distribution reference grammar
 * (github.com/distribution/reference, reference.go), re-stated below as small regexes.
 */
export interface Reference {
  /** Registry host with optional port, e.g. `docker.io`, `localhost:5000`, `[::1]:5000`. */
  registry: string
  /** Repository path inside the registry, e.g. `library/nginx`. */
  repository: string
  tag?: string
  digest?: string
  /** `registry/repository`. */
  name: string
  /** Canonical form: `registry/repository[:tag][@digest]`. */
  toString(): string
}

export const DEFAULT_REGISTRY = 'docker.io'
export const DEFAULT_TAG = 'latest'
const LEGACY_DEFAULT_REGISTRY = 'index.docker.io'
const OFFICIAL_NAMESPACE = 'library'
const NAME_MAX_LENGTH = 255

// domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/
// IPv6 in brackets; the grammar accepts hex digits and colons (with an optional embedded IPv4).
const IPV6_HOST = /^\[(?:[a-fA-F0-9:]+|[a-fA-F0-9:]+:\d+\.\d+\.\d+\.\d+)\]$/
const PORT = /^[0-9]+$/
// path-component := alpha-numeric [separator alpha-numeric]*, separator := [_.] | __ | [-]+
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/
// tag := [\w][\w.-]{0,127}
const TAG = /^[\w][\w.-]{0,127}$/
// A bare 64-hex string is an image ID, never a name (Docker refuses it as a reference).
const IMAGE_ID = /^[a-f0-9]{64}$/

/** Parses a registry reference (no transport prefix) and normalises it like `docker pull` does. */
export function parseReference(input: string): Reference {
  const s = input.trim()
  if (s === '') throw refError(input, 'the reference is empty', 'give an image name such as nginx or registry.example.com/app:1.0')
  if (s.includes('://')) {
    throw refError(input, `"${s.slice(0, s.indexOf('://') + 3)}" is not part of a registry reference`, 'write HOST/REPOSITORY[:TAG][@DIGEST] without a scheme (or use a transport prefix like docker://)')
  }

  const split = splitSuffix(input, s)
  const { rest, digest } = split
  let tag = split.tag

  if (rest === '') throw refError(input, 'the repository name is missing', 'write NAME[:TAG][@DIGEST]')
  if (IMAGE_ID.test(rest) && tag === undefined && digest === undefined) {
    throw refError(input, `"${rest}" is a 64-character hex image ID, not a name`, 'use a name, or NAME@sha256:<hex> to pin a digest')
  }

  const { registry, repository } = splitDomain(input, rest)
  const name = `${registry}/${repository}`
  if (name.length > NAME_MAX_LENGTH) {
    throw refError(input, `the name is ${name.length} characters long`, `a repository name may be at most ${NAME_MAX_LENGTH} characters`)
  }
  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG
  return makeReference(registry, repository, tag, digest)
}

/** Splits `NAME[:TAG][@DIGEST]`, checking the tag and digest; the tag is what follows the last ':' after the last '/'. */
function splitSuffix(input: string, s: string): { rest: string; tag?: string; digest?: string } {
  let rest = s
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    checkDigest(input, digest)
  }
  let tag: string | undefined
  // A ':' before the last '/' is a port.
  const colon = rest.indexOf(':', rest.lastIndexOf('/') + 1)
  if (colon >= 0) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG.test(tag)) {
      throw refError(input, `invalid tag "${tag}"`, 'a tag is 1-128 characters of letters, digits, "_", "." and "-", not starting with "." or "-"')
    }
  }
  return { rest, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) }
}

/** The host names Docker Hub answers under; credential files and mirror keys use any of them. */
export const DOCKER_HUB_ALIASES: readonly string[] = [DEFAULT_REGISTRY, LEGACY_DEFAULT_REGISTRY, 'registry-1.docker.io', 'registry.hub.docker.com']

/** A registry host lower-cased, with every Docker Hub alias as `docker.io`. */
export function canonicalRegistry(host: string): string {
  const h = host.toLowerCase()
  return DOCKER_HUB_ALIASES.includes(h) ? DEFAULT_REGISTRY : h
}

/**
 * Rewrites a reference to its mirror: the longest mirror key (`REGISTRY[/PATH]`, any Docker Hub
 * alias meaning docker.io) matching the start of `registry/repository` on a component boundary
 * wins and is replaced by the mirror. The tag and digest are kept as written (no `:latest` added);
 * `scratch` and references without a matching mirror come back unchanged.
 */
export function applyMirror(ref: string, mirrors: Readonly<Record<string, string>>): string {
  if (ref === 'scratch') return ref
  const parsed = parseReference(ref)
  const { tag, digest } = splitSuffix(ref, ref.trim())
  const full = `${canonicalRegistry(parsed.registry)}/${parsed.repository}`
  let best: { key: string; target: string } | undefined
  for (const [key, target] of Object.entries(mirrors)) {
    const [host, ...rest] = key.split('/')
    const k = [canonicalRegistry(host), ...rest.map((c) => c.toLowerCase())].join('/')
    if ((full === k || full.startsWith(`${k}/`)) && (!best || k.length > best.key.length)) best = { key: k, target }
  }
  if (!best) return ref
  return `${best.target}${full.slice(best.key.length)}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`
}

/** Builds a Reference from already-valid parts (for callers that change the tag or digest). */
export function makeReference(registry: string, repository: string, tag?: string, digest?: string): Reference {
  const name = `${registry}/${repository}`
  return {
    registry,
    repository,
    tag,
    digest,
    name,
    toString: () => `${name}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`,
  }
}

/** The short name Docker shows and writes into `docker save` RepoTags: docker.io/library/nginx -> nginx. */
export function familiarName(ref: Pick<Reference, 'registry' | 'repository'>): string {
  if (ref.registry !== DEFAULT_REGISTRY) return `${ref.registry}/${ref.repository}`
  const prefix = `${OFFICIAL_NAMESPACE}/`
  if (ref.repository.startsWith(prefix) && !ref.repository.slice(prefix.length).includes('/')) {
    return ref.repository.slice(prefix.length)
  }
  return ref.repository
}

/** familiarName plus `:tag` / `@digest`, e.g. `nginx:latest` (the RepoTags form). */
export function familiarString(ref: Reference): string {
  return `${familiarName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`
}

/**
 * The first path component is a registry host only when it looks like one: it has a '.', a ':'
 * (port), is `localhost`, or has upper-case letters (repositories never do). Otherwise the whole
 * thing is a Docker Hub repository. This is Docker's rule, so `foo/bar` means docker.io/foo/bar.
 */
function splitDomain(input: string, s: string): { registry: string; repository: string } {
  const slash = s.indexOf('/')
  let registry = DEFAULT_REGISTRY
  let path = s
  if (slash >= 0) {
    const first = s.slice(0, slash)
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      registry = first
      path = s.slice(slash + 1)
      checkDomain(input, registry)
    }
  }
  if (registry === LEGACY_DEFAULT_REGISTRY) registry = DEFAULT_REGISTRY
  if (path === '') throw refError(input, 'the repository name is missing after the registry host', 'write HOST/REPOSITORY[:TAG]')
  if (path !== path.toLowerCase()) {
    throw refError(input, `repository "${path}" has upper-case letters`, 'repository names must be lower-case')
  }
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      const shown = component === '' ? 'an empty path component (double or trailing "/")' : `invalid path component "${component}"`
      throw refError(input, shown, 'each part of a repository name is lower-case letters and digits, separated by ".", "_", "__" or "-", and cannot start or end with a separator')
    }
  }
  if (registry === DEFAULT_REGISTRY && !path.includes('/')) path = `${OFFICIAL_NAMESPACE}/${path}`
  return { registry, repository: path }
}

function checkDomain(input: string, domain: string): void {
  let host = domain
  let port: string | undefined
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']')
    host = close >= 0 ? domain.slice(0, close + 1) : domain
    const after = close >= 0 ? domain.slice(close + 1) : ''
    if (after !== '') {
      if (!after.startsWith(':')) throw refError(input, `invalid registry host "${domain}"`, 'write [IPv6]:PORT')
      port = after.slice(1)
    }
    if (!IPV6_HOST.test(host)) throw refError(input, `invalid IPv6 registry host "${host}"`, 'write an IPv6 address in brackets, e.g. [::1]:5000')
  } else {
    const c = domain.indexOf(':')
    if (c >= 0) {
      host = domain.slice(0, c)
      port = domain.slice(c + 1)
    }
    for (const component of host.split('.')) {
      if (!DOMAIN_COMPONENT.test(component)) {
        throw refError(input, `invalid registry host "${host}"`, 'a host is dot-separated letters, digits and "-" (not at either end of a part), optionally followed by :PORT')
      }
    }
  }
  if (port !== undefined && (!PORT.test(port) || Number(port) > 65535)) {
    throw refError(input, `invalid registry port "${port}"`, 'a port is a number from 0 to 65535')
  }
}

function checkDigest(input: string, digest: string): void {
  if (!isDigest(digest)) {
    throw refError(input, `invalid digest "${digest.slice(0, 80)}"`, 'a digest is sha256:<64 lower-case hex digits> (or sha512:<128>)')
  }
}

function refError(input: string, problem: string, allowed: string): SlimError {
  const shown = input.length > 200 ? `${input.slice(0, 200)}...` : input
  return new SlimError('reference', `invalid image reference "${shown}": ${problem}; ${allowed}`)
}
