/**
 * A real registry serving the distroless-equivalent test bases (test/bases, and the python3 one of
 * test/bases/python.ts) under the names the
 * catalogue uses once gcr.io and docker.io are mirrored to it, plus a slim config file pinning
 * their digests and excluding the bases it does not serve (as test/advise-e2e.test.ts sets up).
 */
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { builtinBases } from '../../src/advise/catalogue/load.js'
import { ensureBases, layoutTag } from '../bases/build.js'
import { JAVA_BASE, PYTHON_BASE, ensureRuntimeBase } from '../bases/runtimes.js'
import { pushLayout, startRegistry, type RunningRegistry } from '../infra/registry.js'

const exec = promisify(execFile)

/** The test bases a registry serves, by catalogue name: the layout tags and the repository. */
export const SERVED_BASES: Record<string, { layoutTags: Record<string, string>; repo: string; runtime?: true }> = {
  'distroless/static-debian12': { layoutTags: { latest: 'static-debian12', nonroot: 'static-debian12-nonroot' }, repo: 'distroless/static-debian12' },
  'distroless/base-nossl-debian12': { layoutTags: { latest: 'base-nossl-debian12', nonroot: 'base-nossl-debian12-nonroot' }, repo: 'distroless/base-nossl-debian12' },
  'distroless/base-debian12': { layoutTags: { latest: 'base-debian12', nonroot: 'base-debian12-nonroot' }, repo: 'distroless/base-debian12' },
  'distroless/cc-debian12': { layoutTags: { latest: 'cc-debian12', nonroot: 'cc-debian12-nonroot' }, repo: 'distroless/cc-debian12' },
  'alpine:3.10': { layoutTags: { '3.10': layoutTag('alpine:3.10') }, repo: 'library/alpine' },
  // Built in their own layouts (test/bases/runtimes.ts).
  [PYTHON_BASE]: { layoutTags: { latest: layoutTag(PYTHON_BASE), nonroot: `${layoutTag(PYTHON_BASE)}-nonroot` }, repo: PYTHON_BASE, runtime: true },
  [JAVA_BASE]: { layoutTags: { latest: layoutTag(JAVA_BASE), nonroot: `${layoutTag(JAVA_BASE)}-nonroot` }, repo: JAVA_BASE, runtime: true },
}
/** What startBaseRegistry serves unless told: all but the Java base (a 190 MB JRE only its tests need). */
export const DEFAULT_SERVED = Object.keys(SERVED_BASES).filter((n) => n !== JAVA_BASE)

export interface BaseRegistry {
  reg: RunningRegistry
  /** slim flags that make the catalogue's bases come from this registry. */
  flags: string[]
}

/** Catalogue overrides for bases pushed to `reg`: each served tag with the digest the registry gives. */
export interface ServedBase {
  name: string
  tags: Record<string, unknown>[]
}

/**
 * Pushes the test bases named in `names` (default: DEFAULT_SERVED) from the test bases'
 * layout to `reg`, under the repositories the catalogue names once gcr.io and docker.io are
 * mirrored to it, and returns the catalogue entries pinning each tag to its digest there.
 */
export async function pushServedBases(reg: RunningRegistry, names: string[] = DEFAULT_SERVED): Promise<ServedBase[]> {
  const tb = await ensureBases()
  const out: ServedBase[] = []
  for (const name of names) {
    const served = SERVED_BASES[name]!
    const layout = served.runtime ? (await ensureRuntimeBase(name)).layout : tb.layout
    const base = builtinBases().find((b) => b.name === name)!
    const tags = []
    for (const t of base.tags) {
      const layoutRef = served.layoutTags[t.tag]
      if (!layoutRef) continue
      await pushLayout(layout, layoutRef, `${served.repo}:${t.tag}`, reg, { all: false })
      tags.push({ ...t, digests: { amd64: await digestOf(`${reg.host}/${served.repo}:${t.tag}`) } })
    }
    out.push({ name, tags })
  }
  return out
}

/** The manifest digest a registry gives for `ref` (host/repo:tag), as skopeo reads it. */
export async function digestOf(ref: string): Promise<string> {
  const { stdout } = await exec('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${ref}`])
  return stdout.trim()
}

/**
 * A buildah (overlay storage under `work/storage`, niced) whose failures keep the last lines of its
 * stderr. Overlay, not vfs: vfs copies a whole rootfs for every layer and container, which made
 * these builds a quarter slower (legacy-postgres and legacy-mariadb: 130 → 96 s, system time
 * 46 → 27 s); the kernel's overlay works here and `buildah rm` leaves no mount behind.
 */
export function buildahIn(work: string, defaultTimeout: number): (args: string[], timeout?: number) => Promise<string> {
  const storage = ['--root', join(work, 'storage', 'root'), '--runroot', join(work, 'storage', 'run'), '--storage-driver', 'overlay']
  return async (args, timeout = defaultTimeout) => {
    try {
      const { stdout } = await exec('nice', ['-n', '10', 'buildah', ...storage, ...args], { timeout, maxBuffer: 64 * 1024 * 1024 })
      return stdout
    } catch (e) {
      const err = e as { stderr?: string; message: string }
      throw new Error(`buildah ${args.join(' ')} failed: ${(err.stderr ?? err.message).trim().split('\n').slice(-6).join(' | ')}`)
    }
  }
}

/** A registry serving `served` (catalogue names of SERVED_BASES); every other base but scratch is excluded. */
export async function startBaseRegistry(work: string, served: string[] = DEFAULT_SERVED): Promise<BaseRegistry> {
  const reg = await startRegistry('plain')
  const bases = await pushServedBases(reg, served)
  const exclude = builtinBases().map((b) => b.name).filter((n) => !served.includes(n) && n !== 'scratch')
  const config = join(work, 'slim-config.json')
  writeFileSync(config, JSON.stringify({ mirrors: { 'gcr.io': reg.host, 'docker.io': reg.host }, exclude, bases }))
  return { reg, flags: ['--config', config] }
}
