#!/usr/bin/env bash
# Lays out the installed tree of the gantry package under ROOT from the published binaries in out/; the .deb and
# the .rpm are both made from it (packaging/build-deb.sh, packaging/build-rpm.sh):
#   /usr/lib/gantry/      gantry, the runtime launcher, the hook client, the sandbox helper, the NVML stand-in
#                         (for `gantry simulate`) and nvidia-docker-plugin: one directory, since the launcher
#                         and gantry find their helpers beside themselves
#   /usr/bin/             every command name, as links into /usr/lib/gantry
#   /etc/nvidia-container-runtime/config.toml   the default config
#   /lib/systemd/system/  nvidia-docker-plugin.service and nvidia-cdi-refresh.{path,service} (not enabled: the
#                         package configures no engine)
# Usage: packaging/stage.sh ROOT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(dirname "$here")/out
root=${1:?usage: stage.sh ROOT}
for f in gantry gantry-runtime-launcher gantry-hook-client gantry-sandbox-exec gantry-nvml-standin.so nvidia-docker-plugin; do
  [ -f "$out/$f" ] || { echo "stage: $out/$f is missing; run ./build.sh first" >&2; exit 1; }
done
install -d "$root/usr/lib/gantry" "$root/usr/bin" "$root/etc/nvidia-container-runtime" "$root/lib/systemd/system" \
  "$root/usr/share/doc/gantry"
for f in gantry gantry-runtime-launcher gantry-hook-client gantry-sandbox-exec nvidia-docker-plugin; do
  install -m 0755 "$out/$f" "$root/usr/lib/gantry/$f"
done
install -m 0644 "$out/gantry-nvml-standin.so" "$root/usr/lib/gantry/gantry-nvml-standin.so"
strip --strip-unneeded "$root/usr/lib/gantry/gantry-nvml-standin.so" 2>/dev/null || true
# The names the original packages put on PATH (nvidia-container-toolkit(-base), libnvidia-container-tools,
# nvidia-docker2) and gantry's own.
for name in gantry nvidia-ctk nvidia-cdi-hook nvidia-container-cli nvidia-container-runtime-hook nvidia-container-toolkit nvidia-docker; do
  ln -s ../lib/gantry/gantry "$root/usr/bin/$name"
done
for name in nvidia-container-runtime nvidia-container-runtime.cdi nvidia-container-runtime.legacy; do
  ln -s ../lib/gantry/gantry-runtime-launcher "$root/usr/bin/$name"
done
ln -s ../lib/gantry/nvidia-docker-plugin "$root/usr/bin/nvidia-docker-plugin"
# The default config as `nvidia-ctk config default` writes it on a Debian host (ldconfig is /sbin/ldconfig).
"$out/gantry" nvidia-ctk config default > "$root/etc/nvidia-container-runtime/config.toml"
chmod 0644 "$root/etc/nvidia-container-runtime/config.toml"
for unit in nvidia-docker-plugin.service nvidia-cdi-refresh.path nvidia-cdi-refresh.service; do
  install -m 0644 "$here/systemd/$unit" "$root/lib/systemd/system/$unit"
done
cat > "$root/usr/share/doc/gantry/copyright" <<'TXT'
Gantry: GPUs in containers, one binary for the whole NVIDIA container stack.
The package's files are built from the Gantry repository; see its LICENSE file.
TXT

