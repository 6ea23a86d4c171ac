#!/usr/bin/env node
// Runs the built CLI (dist/). `npm run build` first.
import { enableCompileCache, keepWasmOnBaselineTier } from '../dist/cli/start.js'

// Before anything else loads: Node >= 22.1 then reuses compiled code from slim's cache dir.
enableCompileCache(process.argv.slice(2))
// Before undici compiles its WebAssembly HTTP parser: no background recompile to wait for at exit.
keepWasmOnBaselineTier()

// oclif checks the Node version against its own package's engines with semver ranges: loading and
// parsing them is a tenth of `slim --version`. Its floor (Node 18) is below slim's own.
const engineCheck = process.env.OCLIF_DISABLE_ENGINE_WARNING
process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
const { execute, settings } = await import('@oclif/core')
// Child processes (buildah, skopeo, a verify probe) see the environment as the user set it.
if (engineCheck === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING
else process.env.OCLIF_DISABLE_ENGINE_WARNING = engineCheck

// dist/ is what runs, even under NODE_ENV=test or development: without this oclif looks for the
// TypeScript source of the help class (package.json oclif.helpClass) and warns on stderr.
settings.enableAutoTranspile = false

await execute({ dir: import.meta.url })
