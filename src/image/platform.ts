import { SlimError } from '../core/errors.js'
import type { Platform } from './types.js'

/**
 * Platforms as the OCI image index names them (`os/architecture[/variant]`), with the
 * normalisation containerd applies: architecture aliases (x86_64, aarch64, armhf) and the default
 * variants (arm64 means v8, arm means v7, amd64 means v1), so `linux/arm64` and `linux/arm64/v8`
 * are the same platform.
 */

/** Node's process.arch → OCI architecture (and variant, for 32-bit arm). */
const NODE_ARCH: Record<string, { architecture: string; variant?: string }> = {
  x64: { architecture: 'amd64' },
  arm64: { architecture: 'arm64' },
  arm: { architecture: 'arm', variant: 'v7' },
  ia32: { architecture: '386' },
  ppc64: { architecture: 'ppc64le' },
  s390x: { architecture: 's390x' },
  riscv64: { architecture: 'riscv64' },
  loong64: { architecture: 'loong64' },
  mips: { architecture: 'mips' },
  mipsel: { architecture: 'mipsle' },
}

/** The platform images are chosen for by default: Linux on this machine's CPU (never the host OS: images are Linux). */
export function hostPlatform(arch: string = process.arch): Platform {
  const a = NODE_ARCH[arch] ?? { architecture: arch }
  return { os: 'linux', architecture: a.architecture, ...(a.variant ? { variant: a.variant } : {}) }
}

const PART = /^[a-z0-9._-]+$/i

/** Parses `os/arch[/variant]` (e.g. from --platform). A bad value is a usage error. */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().split('/')
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !PART.test(p))) {
    throw new SlimError('usage', `invalid platform "${s}": expected os/arch[/variant], e.g. linux/amd64 or linux/arm/v7`)
  }
  const [os, architecture, variant] = parts.map((p) => p.toLowerCase())
  return normalizePlatform({ os, architecture, ...(variant ? { variant } : {}) }, { keepDefaultVariant: true })
}

export function formatPlatform(p: Pick<Platform, 'os' | 'architecture' | 'variant'>, unknown = '?'): string {
  const os = p.os || unknown
  const arch = p.architecture || unknown
  return p.variant ? `${os}/${arch}/${p.variant}` : `${os}/${arch}`
}

/**
 * Canonical form: alias architectures mapped, variants spelled `vN`, and the default variant
 * filled in (or, with keepDefaultVariant, kept as given when present).
 */
export function normalizePlatform(p: Platform, options: { keepDefaultVariant?: boolean } = {}): Platform {
  let os = (p.os ?? '').toLowerCase()
  let architecture = (p.architecture ?? '').toLowerCase()
  let variant = p.variant?.toLowerCase() || undefined
  if (os === 'macos') os = 'darwin'
  switch (architecture) {
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      architecture = 'amd64'
      if (variant && /^\d$/.test(variant)) variant = `v${variant}`
      if (!options.keepDefaultVariant) variant ??= 'v1'
      break
    case 'aarch64':
    case 'arm64':
      architecture = 'arm64'
      if (variant === '8' || variant === 'v8.0' || variant === '8.0') variant = 'v8'
      if (!options.keepDefaultVariant) variant ??= 'v8'
      break
    case 'armhf':
      architecture = 'arm'
      variant = 'v7'
      break
    case 'armel':
      architecture = 'arm'
      variant = 'v6'
      break
    case 'arm':
      if (variant && /^\d$/.test(variant)) variant = `v${variant}`
      if (!options.keepDefaultVariant) variant ??= 'v7'
      break
    case 'i386':
    case 'i486':
    case 'i586':
    case 'i686':
      architecture = '386'
      break
  }
  return { ...p, os, architecture, ...(variant ? { variant } : { variant: undefined }) }
}

/**
 * The variants a platform can run, best first: arm v7 runs v6 and v5 binaries, amd64 v3 runs
 * v2 and v1. Other architectures run only their own variant.
 */
function compatibleVariants(p: Platform): string[] {
  const v = p.variant ?? ''
  const ladder = p.architecture === 'arm' ? ['v8', 'v7', 'v6', 'v5'] : p.architecture === 'amd64' ? ['v4', 'v3', 'v2', 'v1'] : []
  const i = ladder.indexOf(v)
  return i >= 0 ? ladder.slice(i) : [v]
}

/**
 * How well `have` (an index entry) suits `want`: undefined when it cannot run there, else a rank
 * where 0 is an exact match and larger numbers are older compatible variants.
 */
export function platformRank(want: Platform, have: Platform): number | undefined {
  const w = normalizePlatform(want)
  const h = normalizePlatform(have)
  if (w.os !== h.os || w.architecture !== h.architecture) return undefined
  const rank = compatibleVariants(w).indexOf(h.variant ?? '')
  return rank >= 0 ? rank : undefined
}

export function platformMatches(want: Platform, have: Platform): boolean {
  return platformRank(want, have) !== undefined
}

/** BuildKit attaches provenance/SBOM manifests to indexes with this placeholder platform. */
export function isAttestationPlatform(p: Platform | undefined): boolean {
  return !!p && p.os === 'unknown' && p.architecture === 'unknown'
}

/**
 * Picks the best of `candidates` for `want` (an exact variant over a compatible older one; the
 * first in index order on ties). Returns the position, or -1.
 */
export function selectPlatform(want: Platform, candidates: readonly (Platform | undefined)[]): number {
  let best = -1
  let bestRank = Infinity
  candidates.forEach((c, i) => {
    if (!c) return
    const r = platformRank(want, c)
    if (r !== undefined && r < bestRank) {
      best = i
      bestRank = r
    }
  })
  return best
}
