#!/usr/bin/env bash
# Builds dist/gantry-VERSION-1.ARCH.rpm with rpmbuild (Debian's rpm package has it) from the tree packaging/stage.sh
# lays out of out/ (./build.sh first): the same files as the .deb, config.toml as %config(noreplace), replacing the
# original packages (Provides/Conflicts/Obsoletes). Like the .deb it configures no engine and says what to run next.
# Usage: packaging/build-rpm.sh [OUTDIR]   (default dist/); prints the path of the .rpm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=$repo/out
dist=${1:-$repo/dist}
[ -x "$out/gantry" ] || { echo "build-rpm: $out/gantry is missing; run ./build.sh first" >&2; exit 1; }
command -v rpmbuild >/dev/null || { echo "build-rpm: rpmbuild is missing (apt-get install rpm)" >&2; exit 1; }
version=$("$out/gantry" --version | awk 'NR==1 {print $3}')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/stage.sh" "$work/tree"
# RPM-based systems keep units under /usr/lib/systemd/system.
mkdir -p "$work/tree/usr/lib/systemd/system"
mv "$work/tree/lib/systemd/system/"* "$work/tree/usr/lib/systemd/system/"
rm -rf "$work/tree/lib"
originals="nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools nvidia-docker2"
cat > "$work/gantry.spec" <<SPEC
Name: gantry
Version: $version
Release: 1
Summary: GPUs in containers: a drop-in for the NVIDIA container stack
License: See the Gantry repository
AutoReqProv: no
Requires: glibc
Requires: openssl-libs
$(for p in $originals; do printf 'Provides: %s\nConflicts: %s\nObsoletes: %s\n' "$p" "$p" "$p"; done)

%description
One NativeAOT binary that answers to the names of the NVIDIA Container Toolkit
(nvidia-ctk, nvidia-container-runtime, nvidia-container-runtime-hook,
nvidia-cdi-hook), libnvidia-container's nvidia-container-cli and nvidia-docker,
plus the nvidia-docker-plugin daemon and gantry doctor. It configures no engine:
run nvidia-ctk runtime configure --runtime=docker and restart the engine.

%install
mkdir -p "%{buildroot}"
cp -a "$work/tree/." "%{buildroot}/"

%post
if [ "\$1" = 1 ]; then
  echo "Gantry is installed. Next: nvidia-ctk runtime configure --runtime=docker && systemctl restart docker"
  echo "(containerd, crio: --runtime=containerd|crio; CDI: nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml). Check with: gantry doctor"
fi
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi

%postun
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi

%files
%dir /usr/lib/gantry
/usr/lib/gantry/*
$(cd "$work/tree" && find usr/bin -mindepth 1 | sort | sed 's|^|/|')
%dir /etc/nvidia-container-runtime
%config(noreplace) /etc/nvidia-container-runtime/config.toml
/usr/lib/systemd/system/nvidia-docker-plugin.service
/usr/lib/systemd/system/nvidia-cdi-refresh.path
/usr/lib/systemd/system/nvidia-cdi-refresh.service
%doc /usr/share/doc/gantry/copyright
SPEC
rpmbuild -bb --quiet --define "_topdir $work/rpmbuild" --define "_build_id_links none" \
  --define "__strip /bin/true" --define "debug_package %{nil}" --target "$(uname -m)" "$work/gantry.spec" >&2
mkdir -p "$dist"
rpm=$(find "$work/rpmbuild/RPMS" -name '*.rpm' | head -1)
cp "$rpm" "$dist/"
echo "$dist/$(basename "$rpm")"
