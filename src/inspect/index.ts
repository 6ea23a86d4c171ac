/**
 * Inspection: what program an image runs and every file it needs, read statically (see inspect.ts).
 * The advice stage consumes `Inspection` (types.ts).
 */
export { inspectImage, type InspectOptions } from './inspect.js'
export { resolveProgram, type ResolvedProgram, type ScriptCommand } from './entrypoint/resolve.js'
export { ClosureBuilder, loaderFlavour, type ClosureOptions } from './closure/closure.js'
export type * from './types.js'
