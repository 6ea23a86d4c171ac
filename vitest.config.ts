import { configDefaults, defineConfig } from 'vitest/config'

/**
 * The fixture-cache test rewrites a shared fixture stamp on purpose (a stale stamp, two builders
 * racing for it); any other file that asks for that fixture meanwhile would rebuild it in their
 * place. So it runs alone, first, and the rest of the suite after it.
 */
const ALONE = ['test/fixtures-build.test.ts']

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 300_000,
    pool: 'forks',
    reporters: ['default'],
    // vitest's default is one worker fewer than the cores: one on a 2-core CI machine, so the files
    // ran one after another. Most of the long files wait on child processes (buildah, bwrap, the
    // registry, the built CLI), so two workers overlap that waiting; fixtures are built under locks.
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      { extends: true, test: { name: 'fixture-cache', include: ALONE, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...ALONE], sequence: { groupOrder: 1 } } },
    ],
  },
})
