/**
 * The slim image's bill of materials: the packages it holds (the base's and those whose files were
 * copied, with versions and purls) and the program -> shared library graph the inspection found,
 * as CycloneDX 1.5 JSON or SPDX 2.3 JSON. Identifiers derive from the manifest digest and the
 * timestamp from the build time, so the same image gives the same document.
 */
import { createHash } from 'node:crypto'
import type { InstalledPackage } from '../layers/packages.js'
import type { Analysis } from '../pipeline/analyze.js'
import type { BuildResult } from './build.js'
import { buildTime } from './build.js'

export interface SbomInput {
  analysis: Analysis
  built: BuildResult
}

/** purl of an installed package (purl-spec: pkg:deb/debian/NAME@VERSION?arch=ARCH; pkg:apk/alpine/...). */
export function packagePurl(p: InstalledPackage, distro: string | undefined): string {
  const type = p.manager === 'dpkg' ? 'deb' : 'apk'
  const namespace = encodeURIComponent((distro ?? (p.manager === 'dpkg' ? 'debian' : 'alpine')).toLowerCase())
  const version = p.version ? `@${encodeURIComponent(p.version)}` : ''
  const arch = p.architecture ? `?arch=${encodeURIComponent(p.architecture)}` : ''
  return `pkg:${type}/${namespace}/${encodeURIComponent(p.name)}${version}${arch}`
}

interface Graph {
  /** Program and library files, sorted. */
  files: string[]
  /** file -> the libraries it needs (real paths). */
  needs: Map<string, string[]>
}

function libraryGraph(a: Analysis): Graph {
  const closure = a.inspection.closure
  const needs = new Map<string, Set<string>>()
  const files = new Set(closure.roots)
  for (const lib of closure.libraries) {
    files.add(lib.realPath)
    for (const by of lib.neededBy) {
      files.add(by)
      if (!needs.has(by)) needs.set(by, new Set())
      needs.get(by)!.add(lib.realPath)
    }
  }
  return { files: [...files].sort(), needs: new Map([...needs].map(([k, v]) => [k, [...v].sort()])) }
}

function holdings(input: SbomInput): InstalledPackage[] {
  const all = new Map<string, InstalledPackage>()
  for (const p of [...input.built.basePackages, ...input.built.packages]) all.set(`${p.manager}\0${p.name}`, p)
  return [...all.values()].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
}

function uuidFrom(digest: string): string {
  const h = createHash('sha256').update(digest).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

export function cyclonedx(input: SbomInput): object {
  const { analysis: a, built } = input
  const distro = a.facts.os?.id
  const digest = built.assembled.manifestDigest
  const graph = libraryGraph(a)
  const fileRef = (p: string): string => `file:${p}`
  const pkgs = holdings(input)
  const components = [
    ...pkgs.map((p) => ({ type: 'library', 'bom-ref': packagePurl(p, distro), name: p.name, version: p.version, purl: packagePurl(p, distro) })),
    ...graph.files.map((f) => ({ type: 'file', 'bom-ref': fileRef(f), name: f })),
  ]
  const imageRef = `image:${digest}`
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: `urn:uuid:${uuidFrom(digest)}`,
    version: 1,
    metadata: {
      timestamp: buildTime(a.image).toISOString(),
      tools: { components: [{ type: 'application', name: 'slim' }] },
      component: { type: 'container', 'bom-ref': imageRef, name: a.image.name ?? a.image.reference, version: digest },
    },
    components,
    dependencies: [
      { ref: imageRef, dependsOn: components.map((c) => c['bom-ref']) },
      ...graph.files.map((f) => ({ ref: fileRef(f), dependsOn: (graph.needs.get(f) ?? []).map(fileRef) })),
    ],
  }
}

export function spdx(input: SbomInput): object {
  const { analysis: a, built } = input
  const distro = a.facts.os?.id
  const digest = built.assembled.manifestDigest
  const graph = libraryGraph(a)
  const id = (kind: string, s: string): string => `SPDXRef-${kind}-${createHash('sha256').update(s).digest('hex').slice(0, 16)}`
  const image = 'SPDXRef-Image'
  const pkgs = holdings(input).map((p) => ({
    SPDXID: id('Package', `${p.manager}:${p.name}`),
    name: p.name,
    versionInfo: p.version || 'NOASSERTION',
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: packagePurl(p, distro) }],
  }))
  // Programs and libraries as packages of one file each (SPDX files would need checksums of every file).
  const files = graph.files.map((f) => ({ SPDXID: id('File', f), name: f, downloadLocation: 'NOASSERTION', filesAnalyzed: false, primaryPackagePurpose: 'FILE' }))
  const relationships = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: image },
    ...[...pkgs, ...files].map((p) => ({ spdxElementId: image, relationshipType: 'CONTAINS', relatedSpdxElement: p.SPDXID })),
    ...graph.files.flatMap((f) => (graph.needs.get(f) ?? []).map((l) => ({ spdxElementId: id('File', f), relationshipType: 'DEPENDS_ON', relatedSpdxElement: id('File', l) }))),
  ]
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `slim image ${digest}`,
    documentNamespace: `https://slim.invalid/spdx/${digest.replace(':', '-')}`,
    creationInfo: { created: buildTime(a.image).toISOString().replace(/\.\d{3}Z$/, 'Z'), creators: ['Tool: slim'] },
    packages: [{ SPDXID: image, name: a.image.name ?? a.image.reference, versionInfo: digest, downloadLocation: 'NOASSERTION', filesAnalyzed: false, primaryPackagePurpose: 'CONTAINER' }, ...pkgs, ...files],
    relationships,
  }
}

export function renderSbom(format: 'cyclonedx' | 'spdx', input: SbomInput): string {
  return `${JSON.stringify(format === 'spdx' ? spdx(input) : cyclonedx(input), null, 2)}\n`
}
