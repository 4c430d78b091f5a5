#!/usr/bin/env bash
# Builds dist/gantry_VERSION_ARCH.deb with dpkg-deb from the tree packaging/stage.sh lays out of out/ (./build.sh
# first); config.toml is a conffile.
# It replaces the original packages (Provides/Conflicts/Replaces), and its postinst says what to run next.
# Usage: packaging/build-deb.sh [OUTDIR]   (default dist/); prints the path of the .deb.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=$repo/out
dist=${1:-$repo/dist}
[ -x "$out/gantry" ] || { echo "build-deb: $out/gantry is missing; run ./build.sh first" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "build-deb: dpkg-deb is missing (apt-get install dpkg)" >&2; exit 1; }
version=$("$out/gantry" --version | awk 'NR==1 {print $3}')
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root

"$here/stage.sh" "$root"
install -d "$root/DEBIAN"
# libc is all the binaries link (NativeAOT and static helpers): require the newest symbol version they use. .NET loads
# libssl when a hash is computed (`gantry simulate` derives its GPU UUIDs so), hence libssl too.
glibc=$(cat "$root"/usr/lib/gantry/* | grep -aoE 'GLIBC_2\.[0-9]+' | sort -t. -k2 -n -u | tail -1 | sed 's/GLIBC_//')
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
originals="nvidia-container-toolkit, nvidia-container-toolkit-base, libnvidia-container-tools, nvidia-docker2"
cat > "$root/DEBIAN/control" <<CTL
Package: gantry
Version: $version
Architecture: $arch
Maintainer: Gantry <gantry@localhost>
Installed-Size: $size
Depends: libc6 (>= $glibc), libssl3 | libssl1.1
Suggests: docker.io | podman | containerd
Provides: $originals
Conflicts: $originals
Replaces: $originals
Section: admin
Priority: optional
Homepage: https://github.com/gantry/gantry
Description: GPUs in containers: a drop-in for the NVIDIA container stack
 One NativeAOT binary that answers to the names of the NVIDIA Container Toolkit
 (nvidia-ctk, nvidia-container-runtime, nvidia-container-runtime-hook,
 nvidia-cdi-hook), libnvidia-container's nvidia-container-cli and
 nvidia-docker, plus the nvidia-docker-plugin daemon and gantry doctor.
 .
 The package configures no container engine; run
 nvidia-ctk runtime configure --runtime=docker and restart the engine.
CTL
echo "/etc/nvidia-container-runtime/config.toml" > "$root/DEBIAN/conffiles"
cat > "$root/DEBIAN/postinst" <<'SH'
#!/bin/sh
# Configures no engine by itself: it says what to run next.
set -e
if [ "$1" = configure ]; then
  if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
  if [ -z "$2" ]; then
    cat <<'TXT'
Gantry is installed. To give containers GPUs:
  Docker:     nvidia-ctk runtime configure --runtime=docker && systemctl restart docker
  containerd: nvidia-ctk runtime configure --runtime=containerd && systemctl restart containerd
  CRI-O:      nvidia-ctk runtime configure --runtime=crio && systemctl restart crio
  CDI (Podman, Docker 25+): systemctl enable --now nvidia-cdi-refresh.path nvidia-cdi-refresh.service
                            (keeps /var/run/cdi/nvidia.yaml current across driver upgrades)
Then check the host with: gantry doctor
TXT
  fi
fi
exit 0
SH
cat > "$root/DEBIAN/postrm" <<'SH'
#!/bin/sh
set -e
# dpkg removes the files and, on purge, the conffile; systemd only needs to forget the unit.
if [ "$1" = remove ] || [ "$1" = purge ]; then
  if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
fi
exit 0
SH
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/postrm"
mkdir -p "$dist"
deb=$dist/gantry_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zgzip -z6 --build "$root" "$deb" >/dev/null
echo "$deb"
