#!/usr/bin/env node
// Runs the built CLI (dist/). `npm run build` first.
import { execute, settings } from '@oclif/core'

// dist/ is what runs, even under NODE_ENV=test or development: without this oclif looks for the
// TypeScript source of the help class (package.json oclif.helpClass) and warns on stderr.
settings.enableAutoTranspile = false

await execute({ dir: import.meta.url })
