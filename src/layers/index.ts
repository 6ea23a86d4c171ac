/** The layer stage: one streaming pass over every layer into a merged index, and what it tells. */
export { buildIndex } from './build-index.js'
export { LayerIndex } from './layer-index.js'
export { computeMetrics, diveMetrics, type DiveMetrics, type DuplicateGroup, type LayerMetrics } from './metrics.js'
export { collectFacts, type ImageFacts, type OsRelease, type PackageDb, type SecretFile, type Shell } from './facts.js'
export type { DivePath, DiveSummary } from './dive.js'
export { DEFAULT_MAX_EXPANDED_BYTES, type BuildIndexOptions, type ChangeTally, type FileHead, type LayerSummary } from './types.js'
export type { FileInfo, FileType, RootFs } from './rootfs.js'
export { packageIndex, type InstalledPackage, type PackageIndex, type PackageManager } from './packages.js'
