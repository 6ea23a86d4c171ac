import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // vitest's default is one worker fewer than the cores: one on a 2-core CI machine, so the files
    // ran one after another. Most of the long files wait on child processes (buildah, bwrap, the
    // registry, the built CLI), so two workers overlap that waiting; fixtures are built under locks.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default'],
  },
})
