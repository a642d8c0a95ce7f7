#!/usr/bin/env bash
# Installs what the benchmarks compare against, from Debian, only when missing:
# wrk (load generator), nginx (static file + sendfile reference), python3-fastapi and
# python3-uvicorn (the reference implementation's stack), GNU time (peak RSS in
# extract_bench.sh). Needs root (or sudo) for apt-get.
set -euo pipefail

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
/usr/bin/python3 -c 'import fastapi' >/dev/null 2>&1 || missing+=(python3-fastapi)
/usr/bin/python3 -c 'import uvicorn' >/dev/null 2>&1 || missing+=(python3-uvicorn)
command -v curl >/dev/null 2>&1 || missing+=(curl)
[ -x /usr/bin/time ] || missing+=(time)   # GNU time: wall-clock and peak RSS (extract_bench.sh)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "bench/setup.sh: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# nginx-light: the plain HTTP server without extra modules. The benchmark runs its own nginx
# on a free loopback port with its own config; it never uses the system one.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
