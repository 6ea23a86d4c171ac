/**
 * Warms every test cache before the suite runs (scripts/test.sh calls it), so a cold machine
 * spends its build minutes here, once, with progress on stderr, instead of inside test hooks.
 * A warm cache makes this a no-op of about a second.
 */
import { ensureBases } from './bases/build.js'
import { ensureFixtures } from './fixtures/index.js'
import { ensureRuntimeBase, RUNTIME_BASES } from './bases/runtimes.js'
import { ALL_ELF_BINS, elfBins } from './helpers/elf-bins.js'

const t0 = performance.now()
const step = async (what: string, work: () => Promise<unknown>) => {
  const t = performance.now()
  process.stderr.write(`prepare: ${what}…\n`)
  await work()
  process.stderr.write(`prepare: ${what} ready in ${((performance.now() - t) / 1000).toFixed(1)} s\n`)
}
await step('test binaries (gcc, musl-gcc, g++, go, cargo)', () => elfBins(ALL_ELF_BINS))
await step('fixture images (small programs, Debian via mmdebstrap)', () => ensureFixtures(['all']))
await step('distroless-equivalent bases from Debian 12 packages', () => ensureBases())
for (const name of RUNTIME_BASES) await step(`${name} equivalent (runtime on top of a Debian 12 base)`, () => ensureRuntimeBase(name))
process.stderr.write(`prepare: all test caches ready in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
