#!/usr/bin/env bash
# Benchmark: `nvidia-container-cli configure` on a simulated host with 1 and 8 GPUs (--device=all --compute
# --utility, host ldconfig, no cgroups), each run against a fresh process in new mount+PID namespaces over a
# busybox rootfs. Prints medians; the 8-GPU line also as a ratio of the 1-GPU one. Needs root.
#   bench/configure.sh [RUNS]     (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
[ "$(id -u)" = 0 ] || { echo "bench/configure.sh needs root (mounts, namespaces)" >&2; exit 1; }
[ -x out/gantry ] || ./build.sh >/dev/null
work=$(mktemp -d)
pids=()
# The containers stay until the end (their teardown would compete with the runs measured); SIGKILL, because the
# init of a PID namespace ignores SIGTERM.
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for n in 1 8; do ./out/gantry simulate "$work/host$n" --gpus "$n" >/dev/null; done

rootfs() { # a fresh busybox rootfs with the host's static ldconfig
  local r=$1
  mkdir -p "$r"/{bin,sbin,etc,usr/bin,tmp,proc,sys,dev}
  cp /bin/busybox "$r/bin/"; ln -s busybox "$r/bin/sh"; cp /sbin/ldconfig "$r/sbin/"; echo 12 >"$r/etc/debian_version"
}

declare -A samples
for ((i = 0; i < runs; i++)); do
  for n in 1 8; do
    r="$work/rootfs-$n-$i"; rootfs "$r"
    unshare -m -p --fork --propagation private sleep 600 &
    parent=$!; pid=""
    for _ in $(seq 200); do pid=$(cat "/proc/$parent/task/$parent/children" 2>/dev/null | awk '{print $1}'); [ -n "$pid" ] && break; sleep 0.01; done
    pids+=("$pid")
    t0=$(date +%s%N)
    ./out/nvidia-container-cli --root "$work/host$n" configure --pid="$pid" --device=all --compute --utility --no-cgroups \
      --ldconfig=@/sbin/ldconfig "$r" >/dev/null
    t1=$(date +%s%N)
    samples[$n]+="$(( (t1 - t0) / 1000 )) "
  done
done
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
one=$(median "${samples[1]}")
eight=$(median "${samples[8]}")
printf '%-34s %10s %8s\n' "configure ($runs runs)" "median ms" "vs 1 GPU"
printf '%-34s %10s %8s\n' "1 GPU" "$(awk -v m="$one" 'BEGIN {printf "%.1f", m / 1000}')" "1.00x"
printf '%-34s %10s %8s\n' "8 GPUs" "$(awk -v m="$eight" 'BEGIN {printf "%.1f", m / 1000}')" "$(awk -v a="$eight" -v b="$one" 'BEGIN {printf "%.2fx", a / b}')"
