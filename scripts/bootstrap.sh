#!/usr/bin/env bash
# Installs what da needs on a Debian 12 machine, doing nothing that is already done:
#  - Debian packages (apt-get only for the missing ones),
#  - npm packages of the test emulators and the web UI test (tests/emulators/*, tests/ui: `npm ci`),
#  - DuckDB 1.4.4 (libduckdb.so + duckdb.h) and vega-datasets 3.2.1 via `npm pack` into .deps/.
# Usage: scripts/bootstrap.sh [--datasets]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEPS=$ROOT/.deps

APT_PACKAGES=(cmake g++ make pkg-config
  libcpp-httplib-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev
  libcurl4-openssl-dev libssl-dev libsodium-dev libgtest-dev libgmock-dev libbenchmark-dev curl
  libboost1.81-dev openssl chromium libvalijson-dev prometheus-cpp-dev)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi

if ! command -v npm >/dev/null; then
  # Debian's npm conflicts with a Node.js installed from elsewhere, so only add it when absent.
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q nodejs npm
fi

# fetch <npm spec> <stamp name> <tar member>... : npm pack once, extract the named members.
fetch() {
  local spec=$1 name=$2; shift 2
  local dir=$DEPS/$name
  [ -f "$dir/.done" ] && [ "$(cat "$dir/.done")" = "$spec" ] && return 0
  echo "bootstrap: fetching $spec"
  rm -rf "$dir" && mkdir -p "$dir"
  local tgz
  tgz=$(cd "$dir" && npm pack --silent "$spec" | tail -1)
  tar xzf "$dir/$tgz" -C "$dir" "$@"
  rm -f "$dir/$tgz"
  echo "$spec" > "$dir/.done"
}

fetch "@duckdb/node-bindings-linux-x64@1.4.4-r.4" duckdb-lib package/libduckdb.so
fetch "duckdb@1.4.4" duckdb-header package/src/duckdb/src/include/duckdb.h
mkdir -p "$DEPS/duckdb/include" "$DEPS/duckdb/lib"
cmp -s "$DEPS/duckdb-lib/package/libduckdb.so" "$DEPS/duckdb/lib/libduckdb.so" ||
  cp "$DEPS/duckdb-lib/package/libduckdb.so" "$DEPS/duckdb/lib/libduckdb.so"
cmp -s "$DEPS/duckdb-header/package/src/duckdb/src/include/duckdb.h" "$DEPS/duckdb/include/duckdb.h" ||
  cp "$DEPS/duckdb-header/package/src/duckdb/src/include/duckdb.h" "$DEPS/duckdb/include/duckdb.h"

# npm packages of the test emulators (OIDC provider, SMTP server) and of the web UI test
# (playwright-core, which drives the Debian chromium above): `npm ci` from the committed
# lockfile, skipped while node_modules matches it.
for emu in tests/emulators/oidc tests/emulators/smtp tests/ui; do
  if ! cmp -s "$ROOT/$emu/package-lock.json" "$ROOT/$emu/node_modules/.package-lock.json.installed"; then
    echo "bootstrap: npm ci in $emu"
    (cd "$ROOT/$emu" && npm ci --no-audit --no-fund --silent &&
      cp package-lock.json node_modules/.package-lock.json.installed)
  fi
done

if [ "${1:-}" = "--datasets" ] || [ -n "${DA_FETCH_DATASETS:-}" ]; then
  fetch "vega-datasets@3.2.1" vega-datasets package/data
fi
