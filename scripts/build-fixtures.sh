#!/usr/bin/env bash
# Build the test fixture images into the cache (default /var/tmp/slim-test-cache/fixtures).
#
#   scripts/build-fixtures.sh                 # everything (Debian: a few minutes the first time)
#   scripts/build-fixtures.sh small           # all but the Debian images
#   scripts/build-fixtures.sh go-static c-glibc
#   scripts/build-fixtures.sh --committed     # rebuild fixtures/images/hello-static.oci.tar
#
# A second run is a no-op: each unit has a recipe-hash stamp. Tests call ensureFixtures() from
# test/fixtures/index.ts themselves; this script is for warming a CI cache or a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--committed" ]; then
  exec bash fixtures/hello-static/build.sh
fi
exec nice -n 10 npx --no-install tsx test/fixtures/build.ts "$@"
