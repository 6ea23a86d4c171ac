import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

/**
 * Where the shared corpus and reference live: `shared/` beside the repository (as on developer
 * machines and in CI), or $SLIM_SHARED.
 */
const beside = resolve(import.meta.dirname, '../../../shared')
export const SHARED = process.env.SLIM_SHARED ?? (existsSync(beside) ? beside : '/work/shared')
export const CORPUS = join(SHARED, 'corpus')
