#!/usr/bin/env bash
# Installs what building, the demo and the tests need on Debian 12, and nothing when it is all there.
#   scripts/deps.sh build   — toolchain only (dotnet must already be installed; gcc for the NVML stand-in)
#   scripts/deps.sh test    — plus the container engines the end-to-end tests drive
set -euo pipefail
want=(gcc tar)
# openssh-server/-client: nvidia-docker's NV_HOST=ssh:// test runs a private sshd from a temp dir; the machine's own
# ssh service is not started by this install (see below). rootlesskit and uidmap (newuidmap): the rootless Docker tests.
# debootstrap, rpm: the package tests (packaging/test-deb.sh installs the .deb into a clean Debian root; rpmbuild makes the .rpm).
[ "${1:-build}" = build ] || want+=(runc crun podman busybox-static libc-bin docker.io containerd openssh-server openssh-client rootlesskit uidmap debootstrap rpm)
missing=()
for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "deps: missing packages ${missing[*]}; run as root or install them with apt-get" >&2; exit 1; fi
  echo "deps: installing ${missing[*]}" >&2
  apt-get update -qq >/dev/null
  others=(); for p in "${missing[@]}"; do [ "$p" = openssh-server ] || others+=("$p"); done
  [ ${#others[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${others[@]}" >/dev/null
  if [ ${#others[@]} -ne ${#missing[@]} ]; then
    # Installing sshd would start the machine's ssh service; the tests only need the binary.
    # A policy-rc.d answering 101 forbids starting it, as Debian container images do; an existing policy is kept.
    policy=/usr/sbin/policy-rc.d; own_policy=
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; own_policy=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null || { [ -z "$own_policy" ] || rm -f "$policy"; exit 1; }
    [ -z "$own_policy" ] || rm -f "$policy"
  fi
fi
command -v dotnet >/dev/null || { echo "deps: the .NET 10 SDK (dotnet) is required and was not found on PATH" >&2; exit 1; }
