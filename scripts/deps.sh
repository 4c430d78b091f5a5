#!/usr/bin/env bash
# Installs what building, the demo and the tests need on Debian 12, and nothing when it is all there.
#   scripts/deps.sh build   — toolchain only (dotnet must already be installed; gcc for the NVML stand-in)
#   scripts/deps.sh test    — plus the container engines the end-to-end tests drive
set -euo pipefail
want=(gcc tar)
[ "${1:-build}" = build ] || want+=(runc crun podman busybox-static libc-bin docker.io containerd)
missing=()
for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "deps: missing packages ${missing[*]}; run as root or install them with apt-get" >&2; exit 1; fi
  echo "deps: installing ${missing[*]}" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "deps: the .NET 10 SDK (dotnet) is required and was not found on PATH" >&2; exit 1; }
