/**
 * What to audit: references from the command line and --from-file, a repository without a tag
 * (its tags, filtered by --tags), and --catalog REGISTRY (every repository it lists). Expands to
 * a sorted, de-duplicated list of targets, each one reference and optionally one platform.
 */
import { readFile } from 'node:fs/promises'
import { SlimError, describe, isSlimError } from '../core/errors.js'
import { parseManifestDocument } from '../image/manifest.js'
import { formatPlatform, isAttestationPlatform } from '../image/platform.js'
import { applyMirror, parseReference, type Reference } from '../image/reference.js'
import { RegistryClient } from '../image/registry/client.js'
import type { Platform, RegistryOptions } from '../image/types.js'
import { tagFilter } from './tags.js'

export interface AuditTarget {
  /** What openImage is given: a registry reference with tag/digest, or a transport-qualified one. */
  reference: string
  platform?: Platform
}

export interface InputOptions {
  refs: string[]
  fromFile?: string
  catalog?: string
  tags?: string
  allPlatforms?: boolean
  platform?: Platform
  registry: RegistryOptions
  /** The mirrors images are opened through (OpenOptions.registryMirrors): tags and platforms are listed there too. */
  registryMirrors?: Readonly<Record<string, string>>
  log?: (m: string) => void
}

/** Problems with the inputs themselves that do not stop the run (a repository whose tags cannot be listed). */
export interface InputProblem {
  reference: string
  error: unknown
}

const TRANSPORT = /^(docker-archive|oci|oci-archive|docker-daemon):/

export async function expandInputs(opts: InputOptions): Promise<{ targets: AuditTarget[]; problems: InputProblem[] }> {
  const given = [...opts.refs]
  if (opts.fromFile) given.push(...(await readRefFile(opts.fromFile)))
  const problems: InputProblem[] = []
  const clients = new Map<string, RegistryClient>()
  const client = (registry: string, repository?: string): RegistryClient => {
    const key = `${registry}/${repository ?? ''}`
    let c = clients.get(key)
    if (!c) clients.set(key, (c = new RegistryClient(registry, { ...opts.registry, log: opts.log, repository })))
    return c
  }
  // A mirrored repository is listed where its images will be read from; targets keep the asked name.
  const served = (ref: Reference): Reference => (opts.registryMirrors ? parseReference(applyMirror(ref.toString(), opts.registryMirrors)) : ref)
  const refs: string[] = []
  try {
    if (opts.catalog) {
      for (const repo of await listCatalog(client(catalogHost(opts.catalog)), opts.catalog)) given.push(`${catalogHost(opts.catalog)}/${repo}`)
    }
    if (given.length === 0) throw new SlimError('usage', 'nothing to audit: give image references, --from-file FILE or --catalog REGISTRY')
    const filter = tagFilter(opts.tags)
    for (const input of given) {
      const s = input.replace(/^docker:\/\//, '')
      if (TRANSPORT.test(s)) {
        refs.push(input)
        continue
      }
      let ref: Reference
      try {
        ref = parseReference(s)
      } catch (e) {
        problems.push({ reference: input, error: e })
        continue
      }
      if (hasTagOrDigest(s)) {
        refs.push(ref.toString())
        continue
      }
      try {
        const at = served(ref)
        const tags = filter(await client(at.registry, at.repository).listTags(at.repository))
        if (tags.length === 0) opts.log?.(`audit: ${ref.name}: no tag matches${opts.tags ? ` --tags ${opts.tags}` : ''}`)
        for (const t of tags) refs.push(`${ref.name}:${t}`)
      } catch (e) {
        problems.push({ reference: ref.name, error: e })
      }
    }
    const unique = [...new Set(refs)].sort()
    const targets: AuditTarget[] = []
    for (const r of unique) {
      if (!opts.allPlatforms || TRANSPORT.test(r)) {
        targets.push({ reference: r, platform: opts.platform })
        continue
      }
      try {
        const ref = served(parseReference(r))
        const platforms = await listPlatforms(client(ref.registry, ref.repository), ref)
        if (platforms.length === 0) targets.push({ reference: r })
        else for (const p of platforms) targets.push({ reference: r, platform: p })
      } catch (e) {
        problems.push({ reference: r, error: e })
      }
    }
    return { targets, problems }
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close().catch(() => {})))
  }
}

/** A repository without a tag (`registry:5000/team/api`) means its tags; a ':' before the last '/' is a port. */
function hasTagOrDigest(s: string): boolean {
  return s.includes('@') || s.indexOf(':', s.lastIndexOf('/') + 1) >= 0
}

async function readRefFile(path: string): Promise<string[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    throw new SlimError('usage', `--from-file ${path}: cannot read it (${describe(e)}); check the path`)
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter(Boolean)
}

function catalogHost(s: string): string {
  return s.replace(/^(docker|https?):\/\//, '').replace(/\/+$/, '')
}

async function listCatalog(client: RegistryClient, given: string): Promise<string[]> {
  try {
    return await client.listCatalog()
  } catch (e) {
    if (isSlimError(e) && (e.kind === 'auth' || e.kind === 'not-found')) {
      throw new SlimError(
        e.kind,
        `--catalog ${given}: the registry does not let slim list its repositories (${e.kind === 'auth' ? 'GET /v2/_catalog was refused' : 'GET /v2/_catalog is not served'}); name the repositories instead (slim audit ${catalogHost(given)}/REPO … or --from-file FILE)${e.kind === 'auth' ? ', or use credentials that may read the catalog' : ''}`,
        { cause: e },
      )
    }
    throw e
  }
}

/** The platforms an index offers (attestation manifests left out); [] for a single-platform image. */
async function listPlatforms(client: RegistryClient, ref: Reference): Promise<Platform[]> {
  const what = `docker://${ref.toString()}`
  const m = await client.getManifest(ref.repository, ref.digest ?? ref.tag!, what)
  const doc = parseManifestDocument(m.bytes, `${what}: manifest`, m.mediaType)
  if (doc.kind !== 'index') return []
  const seen = new Set<string>()
  const out: Platform[] = []
  for (const d of doc.index.manifests) {
    if (!d.platform || isAttestationPlatform(d.platform)) continue
    const key = formatPlatform(d.platform)
    if (!seen.has(key)) {
      seen.add(key)
      out.push(d.platform)
    }
  }
  return out
}
