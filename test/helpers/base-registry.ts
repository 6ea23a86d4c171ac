/**
 * A real registry serving the distroless-equivalent test bases (test/bases) under the names the
 * catalogue uses once gcr.io and docker.io are mirrored to it, plus a slim config file pinning
 * their digests and excluding the bases it does not serve (as test/advise-e2e.test.ts sets up).
 */
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { builtinBases } from '../../src/advise/catalogue/load.js'
import { ensureBases, layoutTag } from '../bases/build.js'
import { pushLayout, startRegistry, type RunningRegistry } from '../infra/registry.js'

const exec = promisify(execFile)

const SERVED: Record<string, { layoutTags: Record<string, string>; repo: string }> = {
  'distroless/static-debian12': { layoutTags: { latest: 'static-debian12', nonroot: 'static-debian12-nonroot' }, repo: 'distroless/static-debian12' },
  'distroless/base-nossl-debian12': { layoutTags: { latest: 'base-nossl-debian12', nonroot: 'base-nossl-debian12-nonroot' }, repo: 'distroless/base-nossl-debian12' },
  'distroless/base-debian12': { layoutTags: { latest: 'base-debian12', nonroot: 'base-debian12-nonroot' }, repo: 'distroless/base-debian12' },
  'distroless/cc-debian12': { layoutTags: { latest: 'cc-debian12', nonroot: 'cc-debian12-nonroot' }, repo: 'distroless/cc-debian12' },
  'alpine:3.10': { layoutTags: { '3.10': layoutTag('alpine:3.10') }, repo: 'library/alpine' },
}

export interface BaseRegistry {
  reg: RunningRegistry
  /** slim flags that make the catalogue's bases come from this registry. */
  flags: string[]
}

export async function startBaseRegistry(work: string): Promise<BaseRegistry> {
  const [tb, reg] = await Promise.all([ensureBases(), startRegistry('plain')])
  const bases: Record<string, unknown>[] = []
  for (const [name, served] of Object.entries(SERVED)) {
    const base = builtinBases().find((b) => b.name === name)!
    const tags = []
    for (const t of base.tags) {
      const layoutRef = served.layoutTags[t.tag]
      if (!layoutRef) continue
      await pushLayout(tb.layout, layoutRef, `${served.repo}:${t.tag}`, reg, { all: false })
      const { stdout } = await exec('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${reg.host}/${served.repo}:${t.tag}`])
      tags.push({ ...t, digests: { amd64: stdout.trim() } })
    }
    bases.push({ name, tags })
  }
  const exclude = builtinBases().map((b) => b.name).filter((n) => !(n in SERVED) && n !== 'scratch')
  const config = join(work, 'slim-config.json')
  writeFileSync(config, JSON.stringify({ mirrors: { 'gcr.io': reg.host, 'docker.io': reg.host }, exclude, bases }))
  return { reg, flags: ['--config', config] }
}
