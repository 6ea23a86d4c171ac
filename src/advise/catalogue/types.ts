/**
 * The shape of one candidate final base image: what it provides to a program copied into it.
 * The decision step compares a program's needs (from src/inspect) against `Base.provides`; every
 * field is therefore phrased as a fact that a need can be checked against, not as prose.
 *
 * The data lives in bases.json (read by load.ts); users add or override entries through the
 * config file (src/advise/config.ts). Facts that could not be checked are listed in `checks`
 * with status "unverified", so the advice can say how sure it is.
 */

/** OCI platform spelling (architecture, plus the variant where it matters). */
export type Arch = 'amd64' | 'arm64' | 'arm/v5' | 'arm/v6' | 'arm/v7' | '386' | 'ppc64le' | 's390x' | 'riscv64'
export const ARCHES: readonly Arch[] = ['amd64', 'arm64', 'arm/v5', 'arm/v6', 'arm/v7', '386', 'ppc64le', 's390x', 'riscv64']

export type BaseFamily = 'scratch' | 'distroless' | 'alpine' | 'chainguard' | 'busybox' | 'debian' | 'ubi'
export const BASE_FAMILIES: readonly BaseFamily[] = ['scratch', 'distroless', 'alpine', 'chainguard', 'busybox', 'debian', 'ubi']

/** supported: publisher still updates it. retired: tags exist but are no longer rebuilt (do not
 * recommend, but recognise it as a source). eol: upstream release is end-of-life. */
export type BaseStatus = 'supported' | 'retired' | 'eol'
export const BASE_STATUSES: readonly BaseStatus[] = ['supported', 'retired', 'eol']

/** The C library a base ships. `none` = no shared libc at all (scratch, static, busybox:musl). */
export type BaseLibcFlavour = 'none' | 'glibc' | 'musl'
export const LIBC_FLAVOURS: readonly BaseLibcFlavour[] = ['none', 'glibc', 'musl']

export interface BaseLibc {
  flavour: BaseLibcFlavour
  /** Upstream version ("2.36", "1.2.5"); absent for `none`. */
  version?: string
  /** Distribution package version, when known ("2.36-9+deb12u14", "1.2.5-r0"). */
  package?: string
}

export interface BaseUser {
  name: string
  uid: number
  gid: number
  home: string
  shell?: string
}

export interface BaseGroup {
  name: string
  gid: number
}

/** Everything a program might need from the base; one field per kind of need. */
export interface Provides {
  libc: BaseLibc
  /**
   * File names (regular files and symlinks) in the dynamic loader's default search directories,
   * i.e. the names a DT_NEEDED entry can be satisfied by without RUNPATH or LD_LIBRARY_PATH.
   * Sorted. For musl bases this includes the loader and the libc.musl-<arch> name.
   */
  sonames: string[]
  /** Absolute paths of shared objects outside the search path that are loaded by path or by a
   * library's own lookup (gconv modules, OpenSSL engines/providers). Sorted. */
  modules: string[]
  /** Highest numeric GLIBC_2.N version libc.so.6 defines ("GLIBC_2.36"); absent without glibc. */
  glibcCeiling?: string
  /** Non-numeric GLIBC_* version names libc defines (GLIBC_ABI_DT_RELR, GLIBC_PRIVATE). */
  glibcExtraVersions: string[]
  /** Highest GLIBCXX_3.4.N / CXXABI_1.3.N that libstdc++.so.6 defines; absent without libstdc++. */
  glibcxxCeiling?: string
  cxxabiCeiling?: string
  /** OpenSSL version of libssl.so.3 / libcrypto.so.3, when shipped. */
  openssl?: string
  /** Path of the PEM CA bundle, when the base has one. */
  caBundle?: string
  /** /usr/share/zoneinfo present. */
  tzdata: boolean
  users: BaseUser[]
  groups: BaseGroup[]
  /** Absolute path of a POSIX shell (`/bin/sh`), when there is one. */
  shell?: string
  /** /tmp exists (mode 1777). */
  tmp: boolean
  /** /etc/nsswitch.conf exists. */
  nsswitch: boolean
  /** /etc/ld.so.cache exists (ctypes.util.find_library and dlopen of unusual dirs rely on it). */
  ldSoCache: boolean
  /** Locales beyond the built-in C/POSIX one ("C.utf8"). */
  locales: string[]
  /** PT_INTERP strings a program may carry and still start here, per architecture (an entry for
   * every architecture of a glibc/musl base). Missing or empty: no loader, only static programs run. */
  interpreters: Partial<Record<Arch, string[]>>
  /** Notable files programs look for (/etc/services, /etc/protocols, /etc/mime.types, /etc/os-release). */
  files: string[]
}

/** One tag of a base; the first tag in `Base.tags` is the default. */
export interface BaseTag {
  tag: string
  /** USER of the image config ("0" when the config leaves it unset). */
  user: string
  workdir: string
  entrypoint?: string[]
  /** Pinned manifest digest per architecture, when known (users add these via the config file). */
  digests?: Partial<Record<Arch, string>>
  note?: string
}

export interface BaseRuntime {
  language: 'java' | 'python' | 'node'
  /** Full version when known ("3.13.5"), otherwise the major line ("20"). */
  version: string
  /** The interpreter's path inside the image. */
  path: string
  entrypoint: string[]
}

export interface BaseSize {
  /** Bytes of the compressed layers (what a pull transfers), amd64. */
  compressed?: number
  /** Bytes on disk after unpacking, amd64. */
  uncompressed?: number
  /** Where the numbers come from ("measured", "publisher page", "estimate from Installed-Size"). */
  basis: string
}

/** Facts whose provenance is recorded. `provides.*` keys name a field of Provides. */
export type FactKey =
  | `provides.${keyof Provides}`
  | 'size'
  | 'architectures'
  | 'runtime'
  | 'tags'
  | 'packages'
  | 'env'
  | 'status'
  | 'distro'

export interface FactCheck {
  fact: FactKey
  /** verified: checked here against real data (how says with what). unverified: inferred or from a
   * weak source; the advice must say it is not sure. */
  status: 'verified' | 'unverified'
  how: string
}

export interface BasePackage {
  name: string
  version: string
}

export interface Base {
  /** Stable short id used by `--base` and in the config file ("distroless/base-debian12", "alpine:3.20"). */
  name: string
  /** Other names `--base` accepts. */
  aliases: string[]
  /** Repository without tag ("gcr.io/distroless/base-debian12"); "scratch" for scratch. */
  repository: string
  tags: BaseTag[]
  family: BaseFamily
  status: BaseStatus
  /** ISO date until which the publisher supports it, when stated. */
  supportedUntil?: string
  /** The catalogue base this one is layered on (distroless: static ⊂ base-nossl ⊂ base ⊂ cc). */
  buildsOn?: string
  /** os-release ID / VERSION_ID of the image, when it has one. */
  distro?: { id: string; versionId: string }
  provides: Provides
  runtime?: BaseRuntime
  /** Environment the image config sets (PATH, SSL_CERT_FILE, LANG, ...). */
  env: Record<string, string>
  architectures: Arch[]
  size: BaseSize
  /** Distribution packages it is made of, with versions, when derived from real packages. */
  packages: BasePackage[]
  /** Source keys of /work/shared/reference/base-images.md ("DL-base", "LOCAL") or "slim:<how>". */
  sources: string[]
  checks: FactCheck[]
  notes: string[]
}

/** The catalogue file: a version so a user config written for another layout is refused clearly. */
export interface CatalogueFile {
  schemaVersion: 1
  /** When the facts were collected, and from what. */
  asOf: string
  bases: Base[]
}
