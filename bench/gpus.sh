#!/usr/bin/env bash
# Benchmark: `docker run --rm --gpus 1` through gantry's nvidia-container-runtime-hook (and its nvidia-container-cli
# configure) against `docker run --rm` without GPUs, on a private dockerd, on a simulated 2-GPU host. A third line
# runs the hook with a no-op CLI (/bin/true), which isolates the hook's own cost. Medians of interleaved runs.
#   bench/gpus.sh [RUNS]     (default 30; `bench/gpus.sh 3` is the smoke run)   needs root, dockerd, containerd, busybox
# Goal: the --gpus ratio at most 1.25.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
[ "$(id -u)" = 0 ] || { echo "bench/gpus.sh: needs root (dockerd)" >&2; exit 1; }
command -v dockerd >/dev/null && command -v containerd >/dev/null || { echo "bench/gpus.sh: needs dockerd and containerd" >&2; exit 1; }
[ -x out/nvidia-container-runtime-hook ] || ./build.sh >/dev/null
repo=$PWD
work=$(mktemp -d /tmp/ggbench.XXXXXX)
cleanup() {
  [ -f "$work/dockerd.pid" ] && kill "$(cat "$work/dockerd.pid")" 2>/dev/null && sleep 2
  [ -n "${ctrd_pid:-}" ] && kill "$ctrd_pid" 2>/dev/null && sleep 1
  grep -o " $work[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

./out/gantry simulate "$work/host" --gpus 2 --device-nodes char >/dev/null
mkdir -p "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/dev" "$work/rootfs/sys" "$work/rootfs/tmp"
cp /bin/busybox "$work/rootfs/bin/"; for a in sh true; do ln -s busybox "$work/rootfs/bin/$a"; done
# The hook reads its config on every run, so each sample copies the one it measures into place first.
printf '[nvidia-container-cli]\nroot = "%s"\n' "$work/host" >"$work/real.toml"
printf '[nvidia-container-cli]\nroot = "%s"\npath = "/bin/true"\n' "$work/host" >"$work/noop.toml"

containerd --root "$work/cr" --state "$work/cs" --address "$work/c.sock" >"$work/containerd.log" 2>&1 & ctrd_pid=$!
for _ in $(seq 100); do [ -S "$work/c.sock" ] && break; sleep 0.1; done
# dockerd finds the hook on its PATH and hands the hook its own environment (so the config path reaches it).
PATH="$repo/out:$PATH" NVIDIA_CTK_CONFIG_FILE_PATH="$work/hook.toml" \
  dockerd --data-root "$work/d" --exec-root "$work/e" --pidfile "$work/dockerd.pid" -H "unix://$work/d.sock" --iptables=false \
  --ip6tables=false --bridge=none --containerd="$work/c.sock" >"$work/dockerd.log" 2>&1 &
for _ in $(seq 300); do [ -S "$work/d.sock" ] && break; sleep 0.1; done
tar -C "$work/rootfs" -ch . | docker -H "unix://$work/d.sock" import - gantry-bench/busybox >/dev/null

declare -A samples
drun() { # name, config ("" = none), docker run options...
  local name=$1 config=$2 t0 t1; shift 2
  [ -n "$config" ] && cp "$work/$config" "$work/hook.toml"
  t0=$(date +%s%N)
  docker -H "unix://$work/d.sock" run --rm "$@" gantry-bench/busybox true >/dev/null 2>"$work/err" || { echo "$name failed: $(cat "$work/err")" >&2; exit 1; }
  t1=$(date +%s%N); samples[$name]+="$(( (t1 - t0) / 1000 )) "
}

for ((i = 0; i < runs; i++)); do
  drun "docker run, no GPU" ""
  drun "docker run --gpus 1" real.toml --gpus 1
  drun "--gpus 1, no-op CLI" noop.toml --gpus 1
done

median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '%-30s %10s %8s\n' "docker run --rm ($runs runs)" "median ms" "ratio"
base=$(median "${samples[docker run, no GPU]}")
for name in "docker run, no GPU" "docker run --gpus 1" "--gpus 1, no-op CLI"; do
  m=$(median "${samples[$name]}"); awk -v n="$name" -v m="$m" -v b="$base" 'BEGIN {printf "%-30s %10.1f %8.2f\n", n, m/1000, m/b}'
done
