#!/usr/bin/env bash
# Benchmark: a container's life (create + start + delete) through nvidia-container-runtime against plain runc,
# without GPUs, with 1 and 8 GPUs (jit-cdi) and 1 GPU from a CDI spec (cdi), plus `docker run --rm` with
# --runtime=nvidia against runc on a private dockerd, and `state` (a command other than create) alone.
# Medians of interleaved runs; ratios against plain runc.
#   bench/runtime.sh [RUNS]     (default 30; `bench/runtime.sh 3` is the smoke run)   needs root, runc, busybox
#   BENCH_TMP=/dev/shm bench/runtime.sh   puts the work directory (bundles, docker's data root) on that filesystem
#   instead of /tmp: on an ext4 without a journal every new file costs more the more files were deleted in the
#   last minutes (the allocator skips recently deleted inodes), which charges container churn to each create.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
[ "$(id -u)" = 0 ] || { echo "bench/runtime.sh: needs root (runc containers)" >&2; exit 1; }
[ -x out/nvidia-container-runtime ] || ./build.sh >/dev/null
repo=$PWD
work=$(mktemp -d "${BENCH_TMP:-/tmp}/gbench.XXXXXX")
cleanup() {
  [ -f "$work/dockerd.pid" ] && kill "$(cat "$work/dockerd.pid")" 2>/dev/null && sleep 2
  [ -n "${ctrd_pid:-}" ] && kill "$ctrd_pid" 2>/dev/null && sleep 1
  grep -o " $work[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

./out/gantry simulate "$work/host" --gpus 8 --device-nodes char >/dev/null
mkdir -p "$work/cdi" "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/dev" "$work/rootfs/sys"
./out/nvidia-ctk cdi generate --driver-root="$work/host" --nvidia-cdi-hook-path="$repo/out/nvidia-cdi-hook" --output="$work/cdi/nvidia.yaml" 2>/dev/null
cp /bin/busybox "$work/rootfs/bin/"; for a in sh true ls; do ln -s busybox "$work/rootfs/bin/$a"; done
cp -a "$work/rootfs" "$work/rootfs.pristine"
config() { # file, mode
  printf '[nvidia-container-cli]\nroot = "%s"\n[nvidia-container-runtime]\nmode = "%s"\n[nvidia-container-runtime.modes.cdi]\nspec-dirs = ["%s"]\n[nvidia-ctk]\npath = "%s"\n' \
    "$work/host" "$2" "$work/cdi" "$repo/out/nvidia-ctk" >"$1"
}
config "$work/auto.toml" auto; config "$work/cdi.toml" cdi
bundle() { # name, env[, rootfs]
  mkdir -p "$work/$1"
  (cd "$work/$1" && runc spec && python3 - "$2" "${3:-$work/rootfs}" <<'PY'
import json, sys
c = json.load(open('config.json')); c['process']['terminal'] = False; c['process']['args'] = ['true']
c['root']['path'] = sys.argv[2]
if sys.argv[1]: c['process']['env'].append(sys.argv[1])
json.dump(c, open('config.json', 'w'))
PY
  cp config.json pristine.json)
}
cp -a "$work/rootfs" "$work/rootfs.probe"; bundle probe "" "$work/rootfs.probe"
bundle plain ""; bundle gpu1 NVIDIA_VISIBLE_DEVICES=0; bundle gpu8 NVIDIA_VISIBLE_DEVICES=all; bundle cdi1 NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=0

declare -A samples
n=0
life() { # name, runtime, config, bundle
  local id="b$((n++))" t0 t1
  cp "$work/$4/pristine.json" "$work/$4/config.json"
  # Every life starts from the image's files, as a docker run does: the hook's drop-ins, links and cache and
  # runc's mount points would otherwise pile up in the shared rootfs and slow later runs.
  rm -rf "$work/rootfs"; cp -a "$work/rootfs.pristine" "$work/rootfs"
  t0=$(date +%s%N)
  NVIDIA_CTK_CONFIG_FILE_PATH=$3 "$2" --root "$work/state" create --bundle "$work/$4" "$id" </dev/null >/dev/null 2>"$work/err" || { echo "$1 failed: $(cat "$work/err")" >&2; exit 1; }
  NVIDIA_CTK_CONFIG_FILE_PATH=$3 "$2" --root "$work/state" start "$id" >/dev/null
  NVIDIA_CTK_CONFIG_FILE_PATH=$3 "$2" --root "$work/state" delete --force "$id" >/dev/null
  t1=$(date +%s%N)
  samples[$1]+="$(( (t1 - t0) / 1000 )) "
}

shim=$repo/out/nvidia-container-runtime
have_docker=
if command -v dockerd >/dev/null && command -v containerd >/dev/null; then
  # The runtime is started by containerd's shim with containerd's environment: the config path goes there
  # (no wrapper script to pay for in every runtime call; a real host uses /etc/nvidia-container-runtime).
  ./out/nvidia-ctk --quiet runtime configure --runtime=docker --config="$work/daemon.json" --nvidia-runtime-path="$shim"
  NVIDIA_CTK_CONFIG_FILE_PATH=$work/auto.toml containerd --root "$work/cr" --state "$work/cs" --address "$work/c.sock" >"$work/containerd.log" 2>&1 & ctrd_pid=$!
  for _ in $(seq 100); do [ -S "$work/c.sock" ] && break; sleep 0.1; done
  dockerd --data-root "$work/d" --exec-root "$work/e" --pidfile "$work/dockerd.pid" -H "unix://$work/d.sock" --iptables=false \
    --ip6tables=false --bridge=none --containerd="$work/c.sock" --config-file "$work/daemon.json" >"$work/dockerd.log" 2>&1 &
  for _ in $(seq 300); do [ -S "$work/d.sock" ] && break; sleep 0.1; done
  tar -C "$work/rootfs" -ch . | docker -H "unix://$work/d.sock" import - gantry-bench/busybox >/dev/null && have_docker=1
fi
if [ -n "$have_docker" ] && ! docker -H "unix://$work/d.sock" run --rm --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=0 gantry-bench/busybox ls /dev/nvidia0 >/dev/null 2>"$work/err"; then
  echo "bench: docker run --runtime=nvidia did not get GPU 0 (is the config reaching the runtime?): $(cat "$work/err")" >&2; exit 1
fi
drun() { # name, runtime, env
  local t0 t1; t0=$(date +%s%N)
  docker -H "unix://$work/d.sock" run --rm --runtime="$2" ${3:+-e "$3"} gantry-bench/busybox true >/dev/null 2>"$work/err" || { echo "$1 failed: $(cat "$work/err")" >&2; exit 1; }
  t1=$(date +%s%N); samples[$1]+="$(( (t1 - t0) / 1000 )) "
}

# A command other than create, alone: `state` of one created container through the shim (its native fast path
# replays the recorded runc) and through runc, interleaved.
runc --root "$work/state" create --bundle "$work/probe" probe </dev/null >/dev/null 2>&1
state() { # name, runtime
  local t0 t1; t0=$(date +%s%N)
  NVIDIA_CTK_CONFIG_FILE_PATH=$work/auto.toml "$2" --root "$work/state" state probe >/dev/null
  t1=$(date +%s%N); samples[$1]+="$(( (t1 - t0) / 1000 )) "
}

for ((i = 0; i < runs; i++)); do
  for _ in 1 2 3; do state "state, runc" runc; state "state, shim" "$shim"; done
  life "runc" runc "$work/auto.toml" plain
  life "shim, no GPU" "$shim" "$work/auto.toml" plain
  life "shim, 1 GPU (jit-cdi)" "$shim" "$work/auto.toml" gpu1
  life "shim, 8 GPUs (jit-cdi)" "$shim" "$work/auto.toml" gpu8
  life "shim, 1 GPU (cdi)" "$shim" "$work/cdi.toml" cdi1
  if [ -n "$have_docker" ]; then
    drun "docker run, runc" runc ""
    drun "docker run, nvidia, 1 GPU" nvidia NVIDIA_VISIBLE_DEVICES=0
  fi
done

runc --root "$work/state" delete --force probe >/dev/null 2>&1 || true

median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '%-30s %10s %8s\n' "state ($((runs * 3)) runs)" "median ms" "+ms"
base=$(median "${samples[state, runc]}")
for name in "state, runc" "state, shim"; do
  m=$(median "${samples[$name]}"); awk -v n="$name" -v m="$m" -v b="$base" 'BEGIN {printf "%-30s %10.1f %8.1f\n", n, m/1000, (m-b)/1000}'
done
printf '%-30s %10s %8s\n' "create+start+delete ($runs runs)" "median ms" "ratio"
base=$(median "${samples[runc]}")
for name in "runc" "shim, no GPU" "shim, 1 GPU (jit-cdi)" "shim, 8 GPUs (jit-cdi)" "shim, 1 GPU (cdi)"; do
  m=$(median "${samples[$name]}"); awk -v n="$name" -v m="$m" -v b="$base" 'BEGIN {printf "%-30s %10.1f %8.2f\n", n, m/1000, m/b}'
done
one=$(median "${samples[shim, 1 GPU (jit-cdi)]}"); eight=$(median "${samples[shim, 8 GPUs (jit-cdi)]}")
awk -v a="$eight" -v b="$one" 'BEGIN {printf "%-30s %10s %8.2f\n", "8 GPUs / 1 GPU (jit-cdi)", "", a/b}'
if [ -n "$have_docker" ]; then
  base=$(median "${samples[docker run, runc]}")
  for name in "docker run, runc" "docker run, nvidia, 1 GPU"; do
    m=$(median "${samples[$name]}"); awk -v n="$name" -v m="$m" -v b="$base" 'BEGIN {printf "%-30s %10.1f %8.2f\n", n, m/1000, m/b}'
  done
else echo "(docker run skipped: dockerd or containerd not installed)"; fi
