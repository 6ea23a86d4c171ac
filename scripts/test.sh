#!/usr/bin/env bash
# The whole test suite, from a fresh clone: system packages (when missing), npm packages,
# build (the end-to-end tests run the built bin/run.js), then every test.
# Prints a closing line "tests: N passed, N failed, N skipped" and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # The lock lists every platform's optional rollup package (npm 11's `npm ci` refuses a lock that
  # lacks them); regenerate it with `npm install --package-lock-only` after changing package.json.
  npm ci --no-audit --no-fund
fi
npm run --silent build
npx tsc -p tsconfig.json --noEmit
# The import structure: stage order, no cycles (dependency-cruiser).
npm run --silent check:structure
# Build the real binaries and images the tests use (cached outside the repo; a no-op when warm).
npx tsx test/prepare.ts

results=$(mktemp)
trap 'rm -f "$results"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1) }
' "$results" || status=1
exit $status
