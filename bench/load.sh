#!/usr/bin/env bash
# Benchmark and load check: N concurrent 1-GPU `docker run --rm`s through each route (the runtime in jit-cdi mode,
# the runtime in cdi mode, --gpus through the hook, nvidia-docker 1.0 with nvidia-docker-plugin serving the driver
# volume) against N concurrent plain runc runs, at 1, 16 and 64 (or the levels given) concurrent starts, on a
# private dockerd over a simulated 2-GPU host. Prints the wall time of each batch, the added time per container
# against runc, the failures, and what was left behind afterwards: containers, mounts under the work directory (in
# the daemons' mount namespace), open fds and sockets of dockerd, containerd and the plugin, unix socket files
# under the work directory and /run/gantry, files in /run/gantry other than its caches, gantry processes.
#   bench/load.sh [LEVELS]     (default "1 16 64"; "200" is issue 17's load run)   needs root, dockerd, containerd, busybox
# The suite runs a sized-down form: tests/Gantry.Tests/EndToEnd/LoadTests.cs.
set -euo pipefail
cd "$(dirname "$0")/.."
levels=${1:-1 16 64}
[ "$(id -u)" = 0 ] || { echo "bench/load.sh: needs root (dockerd)" >&2; exit 1; }
command -v dockerd >/dev/null && command -v containerd >/dev/null || { echo "bench/load.sh: needs dockerd and containerd" >&2; exit 1; }
[ -x out/nvidia-container-runtime ] && [ -x out/nvidia-docker-plugin ] || ./build.sh >/dev/null
repo=$PWD
. bench/private-docker.sh
private_docker_work gld
plugin_pid=
trap '[ -n "$plugin_pid" ] && kill "$plugin_pid" 2>/dev/null; private_docker_stop' EXIT

./out/gantry simulate "$work/host" --gpus 2 --device-nodes char >/dev/null
mkdir -p "$work/cdi" "$work/plugins" "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/dev" "$work/rootfs/sys" "$work/rootfs/tmp"
./out/nvidia-ctk cdi generate --driver-root="$work/host" --nvidia-cdi-hook-path="$repo/out/nvidia-cdi-hook" --output="$work/cdi/nvidia.yaml" 2>/dev/null
cp /bin/busybox "$work/rootfs/bin/"; for a in sh true; do ln -s busybox "$work/rootfs/bin/$a"; done
printf '[nvidia-container-cli]\nroot = "%s"\n[nvidia-ctk]\npath = "%s"\n[nvidia-container-runtime.modes.cdi]\nspec-dirs = ["%s"]\n' \
  "$work/host" "$repo/out/nvidia-ctk" "$work/cdi" >"$work/config.toml"
./out/nvidia-ctk --quiet runtime configure --runtime=docker --config="$work/daemon.json" --nvidia-runtime-path="$repo/out/nvidia-container-runtime"
export NVIDIA_CTK_CONFIG_FILE_PATH=$work/config.toml
./out/nvidia-docker-plugin --driver-root "$work/host" -l 127.0.0.1:0 -d "$work/volumes" -s "$work/plugins" 2>"$work/plugin.log" & plugin_pid=$!
for _ in $(seq 300); do [ -S "$work/plugins/nvidia-docker.sock" ] && break; sleep 0.1; done
private_docker_start "$work/daemon.json" "$work/plugins"
tar -C "$work/rootfs" -ch . | dk import --change 'LABEL com.nvidia.volumes.needed=nvidia_driver' --change 'LABEL com.nvidia.cuda.version=9.0' - gantry-bench/cuda >/dev/null

# The routes; each GPU container must see GPU 0 and a driver library (or the run fails).
check='[ -c /dev/nvidia0 ] && ls /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15 /usr/lib64/libcuda.so.550.54.15 2>/dev/null | grep -q .'
route_runc() { dk run --rm gantry-bench/busybox sh -c '[ -c /dev/nvidia0 ] || true'; }
route_jit() { dk run --rm --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=0 gantry-bench/busybox sh -c "$check"; }
route_cdi() { dk run --rm --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=0 gantry-bench/busybox sh -c "$check"; }
route_gpus() { dk run --rm --gpus device=0 gantry-bench/busybox sh -c "$check"; }
route_nvd() {
  DOCKER_HOST="unix://$work/d.sock" NV_DRIVER_ROOT="$work/host" NV_GPU=0 "$repo/out/nvidia-docker" run --rm gantry-bench/cuda \
    sh -c '[ -c /dev/nvidia0 ] && [ -e /usr/local/nvidia/lib64/libcuda.so.1 ]'
}

# What is left: one "name=value" a line, compared before and after.
fds() { find "/proc/$1/fd" -mindepth 1 2>/dev/null | wc -l; }
socket_fds() { find "/proc/$1/fd" -mindepth 1 -lname 'socket:*' 2>/dev/null | wc -l; }
held() {
  local d pid
  for d in dockerd:$dockerd_pid containerd:$ctrd_pid plugin:$plugin_pid; do
    pid=${d#*:}; echo "${d%%:*} fds=$(fds "$pid")"; echo "${d%%:*} sockets=$(socket_fds "$pid")"
  done
  echo "mounts=$(awk -v w="$work" 'index($5, w) == 1' "/proc/$ctrd_pid/mountinfo" | wc -l)"
  echo "socket files=$(find "$work" /run/gantry -type s 2>/dev/null | wc -l)"
  echo "files in /run/gantry=$(find /run/gantry -mindepth 1 -not -type d -not -path '/run/gantry/shim/*' -not -path '/run/gantry/inventory/*' 2>/dev/null | wc -l)"
  echo "gantry processes=$(for p in /proc/[0-9]*; do [ "${p#/proc/}" = "$plugin_pid" ] || readlink "$p/exe" 2>/dev/null; done | grep -c "^$repo/out/" || true)"
  echo "containers=$(dk ps -aq | wc -l)"
}

# One batch: N runs of a route at once. Prints "WALL_MS FAILURES".
batch() { # n, route function
  local n=$1 t0 t1 fails=0 i
  local pids=()
  t0=$(date +%s%N)
  for i in $(seq "$n"); do
    "$2" >/dev/null 2>"$work/err.$i" &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { fails=$((fails + 1)); cp "$work/err.$((i + 1))" "$work/failed.$2.$fails" 2>/dev/null || true; }
  done
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000000 )) $fails"
}
# Warm-up: one of each (fills the inventory, makes the driver volume), so the baseline holds what is meant to stay.
for r in route_runc route_jit route_cdi route_gpus route_nvd; do "$r" >/dev/null 2>&1 || { echo "warm-up $r failed:"; "$r"; exit 1; }; done
sleep 1
held >"$work/held.before"

# The last column: dockerd's open fds right after the batch (Go's idle connection pools grow with the peak).
printf '%-34s %8s %10s %12s %8s %8s\n' "route" "starts" "wall ms" "+ms/contnr" "failed" "dockerd fds"
total_fail=0
for n in $levels; do
  read -r base bf < <(batch "$n" route_runc)
  printf '%-34s %8s %10s %12s %8s %8s\n' "runc (no GPU)" "$n" "$base" "" "$bf" "$(fds "$dockerd_pid")"
  for route in "runtime jit-cdi|route_jit" "runtime cdi|route_cdi" "--gpus (hook + cli)|route_gpus" "nvidia-docker (1.0 + plugin)|route_nvd"; do
    read -r wall f < <(batch "$n" "${route#*|}")
    total_fail=$((total_fail + f))
    awk -v r="${route%%|*}" -v n="$n" -v w="$wall" -v b="$base" -v f="$f" -v d="$(fds "$dockerd_pid")" 'BEGIN {printf "%-34s %8s %10s %12.1f %8s %8s\n", r, n, w, (w-b)/n, f, d}'
  done
done
sleep 2
held >"$work/held.after"
echo "failed runs: $total_fail"
echo "held before -> after (fds may vary by a few: pools, idle connections):"
paste -d'|' "$work/held.before" "$work/held.after" | awk -F'|' '{split($1, a, "="); split($2, b, "="); printf "  %-26s %6s -> %s\n", a[1], a[2], b[2]}'
if [ "$total_fail" != 0 ]; then echo "a failure:"; head -3 "$(ls "$work"/failed.* | head -1)" 2>/dev/null; fi
