#!/usr/bin/env bash
# Benchmark: cold start of the NativeAOT binary beside runc's, and `nvidia-ctk cdi generate` for 1, 8 and
# 16 simulated GPUs. Medians of many interleaved runs in one go, so the ratios are fair on a noisy machine.
#   bench/startup-and-generate.sh [RUNS]     (default 60; CI runs it with 5 as a smoke test)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-60}
[ -x out/gantry ] || ./build.sh >/dev/null
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for n in 1 8 16; do ./out/gantry simulate "$work/host$n" --gpus "$n" >/dev/null; done
runc_bin=$(command -v runc || true)

declare -A samples
now() { date +%s%N; }
measure() { # name, command...
  local name=$1; shift
  local t0 t1; t0=$(now); "$@" >/dev/null 2>&1; t1=$(now)
  samples[$name]+="$(( (t1 - t0) / 1000 )) "
}
for ((i = 0; i < runs; i++)); do
  measure true /bin/true
  [ -n "$runc_bin" ] && measure "runc --version" "$runc_bin" --version
  measure "gantry --version" ./out/gantry --version
  for n in 1 8 16; do measure "cdi generate ($n GPU)" ./out/nvidia-ctk cdi generate --driver-root="$work/host$n"; done
done
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '%-26s %12s %10s\n' "command ($runs runs)" "median ms" "vs runc"
base=$(median "${samples[runc --version]:-}" 2>/dev/null || echo "")
for name in true "runc --version" "gantry --version" "cdi generate (1 GPU)" "cdi generate (8 GPU)" "cdi generate (16 GPU)"; do
  [ -n "${samples[$name]:-}" ] || continue
  m=$(median "${samples[$name]}")
  ratio=$([ -n "$base" ] && awk -v a="$m" -v b="$base" 'BEGIN {printf "%.2fx", a / b}' || echo "-")
  printf '%-26s %12s %10s\n' "$name" "$(awk -v m="$m" 'BEGIN {printf "%.2f", m / 1000}')" "$ratio"
done
