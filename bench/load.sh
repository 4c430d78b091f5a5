#!/usr/bin/env bash
# Benchmark and load check: N concurrent 1-GPU `docker run --rm`s through each route (the runtime in jit-cdi mode,
# the runtime in cdi mode, --gpus through the hook) against N concurrent plain runc runs, at 1, 16 and 64 (or the
# levels given) concurrent starts, on a private dockerd over a simulated 2-GPU host. Prints the wall time of each
# batch, the added time per container against runc, the failures, and what was left behind afterwards (mounts under
# the work directory, files in /run/gantry other than its caches, containers).
#   bench/load.sh [LEVELS]     (default "1 16 64"; "200" is issue 17's load run)   needs root, dockerd, containerd, busybox
set -euo pipefail
cd "$(dirname "$0")/.."
levels=${1:-1 16 64}
[ "$(id -u)" = 0 ] || { echo "bench/load.sh: needs root (dockerd)" >&2; exit 1; }
command -v dockerd >/dev/null && command -v containerd >/dev/null || { echo "bench/load.sh: needs dockerd and containerd" >&2; exit 1; }
[ -x out/nvidia-container-runtime ] || ./build.sh >/dev/null
repo=$PWD
. bench/private-docker.sh
private_docker_work gld

./out/gantry simulate "$work/host" --gpus 2 --device-nodes char >/dev/null
mkdir -p "$work/cdi" "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/dev" "$work/rootfs/sys" "$work/rootfs/tmp"
./out/nvidia-ctk cdi generate --driver-root="$work/host" --nvidia-cdi-hook-path="$repo/out/nvidia-cdi-hook" --output="$work/cdi/nvidia.yaml" 2>/dev/null
cp /bin/busybox "$work/rootfs/bin/"; for a in sh true; do ln -s busybox "$work/rootfs/bin/$a"; done
printf '[nvidia-container-cli]\nroot = "%s"\n[nvidia-ctk]\npath = "%s"\n[nvidia-container-runtime.modes.cdi]\nspec-dirs = ["%s"]\n' \
  "$work/host" "$repo/out/nvidia-ctk" "$work/cdi" >"$work/config.toml"
./out/nvidia-ctk --quiet runtime configure --runtime=docker --config="$work/daemon.json" --nvidia-runtime-path="$repo/out/nvidia-container-runtime"
export NVIDIA_CTK_CONFIG_FILE_PATH=$work/config.toml
private_docker_start "$work/daemon.json"
mounts_before=$(grep -c " $work" /proc/mounts || true)

# One batch: N runs at once; each GPU run must see /dev/nvidia0 (or fails). Prints "WALL_MS FAILURES".
batch() { # n, docker run options...
  local n=$1 t0 t1 fails=0 i; shift
  local pids=()
  t0=$(date +%s%N)
  for i in $(seq "$n"); do
    dk run --rm "$@" gantry-bench/busybox sh -c '[ -e /dev/nvidia0 ] || [ "$PLAIN" = 1 ]' >/dev/null 2>"$work/err.$i" &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { fails=$((fails + 1)); cp "$work/err.$((i + 1))" "$work/failed.$fails" 2>/dev/null || true; }
  done
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000000 )) $fails"
}
batch 2 -e PLAIN=1 >/dev/null # warm-up

printf '%-34s %8s %10s %12s %8s\n' "route" "starts" "wall ms" "+ms/contnr" "failed"
total_fail=0
for n in $levels; do
  read -r base bf < <(batch "$n" -e PLAIN=1)
  printf '%-34s %8s %10s %12s %8s\n' "runc (no GPU)" "$n" "$base" "" "$bf"
  for route in "runtime jit-cdi|--runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=0" "runtime cdi|--runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=0" "--gpus (hook + cli)|--gpus device=0"; do
    # shellcheck disable=SC2086
    read -r wall f < <(batch "$n" ${route#*|})
    total_fail=$((total_fail + f))
    awk -v r="${route%%|*}" -v n="$n" -v w="$wall" -v b="$base" -v f="$f" 'BEGIN {printf "%-34s %8s %10s %12.1f %8s\n", r, n, w, (w-b)/n, f}'
  done
done
sleep 2
left_containers=$(dk ps -aq | wc -l)
left_mounts=$(( $(grep -c " $work" /proc/mounts || true) - mounts_before ))
left_run=$(find /run/gantry -mindepth 1 -not -type d -not -path '/run/gantry/shim*' -not -path '/run/gantry/inventory*' 2>/dev/null | wc -l)
echo "failed runs: $total_fail; left behind: $left_containers containers, $left_mounts mounts under the work directory, $left_run files in /run/gantry (beside its caches)"
[ "$total_fail" = 0 ] || { echo "a failure:"; head -3 "$work/failed.1" 2>/dev/null; }
