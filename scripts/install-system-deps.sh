#!/usr/bin/env bash
# Installs the Debian packages slim's test suite uses, only when something is missing.
# Safe to run repeatedly; needs root (or sudo) only when it has to install.
set -euo pipefail

# command -> package that provides it
declare -A NEED=(
  [docker-registry]=docker-registry [htpasswd]=apache2-utils [openssl]=openssl [curl]=curl
  [skopeo]=skopeo [umoci]=umoci [busybox]=busybox-static [go]=golang-go [musl-gcc]=musl-tools
  [mmdebstrap]=mmdebstrap [buildah]=buildah [podman]=podman [runc]=runc [bwrap]=bubblewrap
  [zstd]=zstd [jq]=jq [file]=file [readelf]=binutils [xz]=xz-utils [gcc]=gcc [g++]=g++
  [chromium]=chromium # the HTML report's browser test (headless)
)
missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
# headers and libraries that have no command of their own
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "system packages: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "error: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: done"
