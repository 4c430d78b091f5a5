#!/usr/bin/env bash
# Benchmark: a 1-GPU `docker run --rm` on a host whose NVML is slow to start (persistence daemon off: every
# nvmlInit opens every GPU, here 1,500 ms as on real hosts), through the runtime (--runtime=nvidia, jit-cdi) and
# through --gpus (the hook and nvidia-container-cli configure), against `docker run --rm` with runc. The first
# start of each route asks NVML and keeps its answers (src/Gantry/Discovery/Inventory); later starts use them
# while the host's signals are unchanged. Medians of interleaved runs after the first; ratios against runc.
#   bench/slow-nvml.sh [RUNS] [DELAY_MS]     (defaults 20, 1500)   needs root, dockerd, containerd, busybox
# Goal (issue 17): each GPU route within 1.15x of runc after the first start.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}; delay=${2:-1500}
[ "$(id -u)" = 0 ] || { echo "bench/slow-nvml.sh: needs root (dockerd)" >&2; exit 1; }
command -v dockerd >/dev/null && command -v containerd >/dev/null || { echo "bench/slow-nvml.sh: needs dockerd and containerd" >&2; exit 1; }
[ -x out/nvidia-container-runtime ] || ./build.sh >/dev/null
repo=$PWD
. bench/private-docker.sh
private_docker_work gsn

./out/gantry simulate "$work/host" --gpus 2 --device-nodes char --persistence off --nvml-init-delay "$delay" >/dev/null
mkdir -p "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/dev" "$work/rootfs/sys" "$work/rootfs/tmp"
cp /bin/busybox "$work/rootfs/bin/"; for a in sh true; do ln -s busybox "$work/rootfs/bin/$a"; done
printf '[nvidia-container-cli]\nroot = "%s"\n[nvidia-ctk]\npath = "%s"\n' "$work/host" "$repo/out/nvidia-ctk" >"$work/config.toml"
./out/nvidia-ctk --quiet runtime configure --runtime=docker --config="$work/daemon.json" --nvidia-runtime-path="$repo/out/nvidia-container-runtime"

# The runtime gets containerd's environment, the hook dockerd's: both read this config and keep NVML's answers here.
export NVIDIA_CTK_CONFIG_FILE_PATH=$work/config.toml GANTRY_INVENTORY_DIR=$work/inventory
private_docker_start "$work/daemon.json"

declare -A samples
drun() { # name, docker run options...
  local name=$1 t0 t1; shift
  t0=$(date +%s%N)
  dk run --rm "$@" gantry-bench/busybox sh -c '[ -e /dev/nvidia0 ]' >/dev/null 2>"$work/err" ||
    { [ "$name" = "runc" ] || { echo "$name failed or saw no GPU: $(cat "$work/err")" >&2; exit 1; }; }
  t1=$(date +%s%N); samples[$name]+="$(( (t1 - t0) / 1000 )) "
}
first() { # name, options...: a start with no kept answers
  rm -rf "$work/inventory"; samples[$1]=""; drun "$@"; echo "${samples[$1]}"
}

drun runc                                          # warms docker and containerd
f_runtime=$(first "runtime" --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=0)
f_gpus=$(first "--gpus" --gpus 1)
samples[runc]=""; samples[runtime]=""; samples[--gpus]=""
for ((i = 0; i < runs; i++)); do
  drun runc
  drun runtime --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=0
  drun --gpus --gpus 1
done

median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf 'NVML start %s ms (persistence off)\n' "$delay"
printf '%-44s %10s %8s\n' "docker run --rm, 1 GPU ($runs runs after the first)" "median ms" "ratio"
base=$(median "${samples[runc]}")
printf '%-44s %10.1f %8.2f\n' "runc (no GPU)" "$(awk -v m="$base" 'BEGIN{print m/1000}')" 1
for pair in "runtime|--runtime=nvidia (jit-cdi)" "--gpus|--gpus 1 (hook + nvidia-container-cli)"; do
  m=$(median "${samples[${pair%%|*}]}"); awk -v n="${pair#*|}" -v m="$m" -v b="$base" 'BEGIN {printf "%-44s %10.1f %8.2f\n", n, m/1000, m/b}'
done
awk -v a="$f_runtime" -v b="$f_gpus" 'BEGIN {printf "first start (NVML asked): --runtime=nvidia %.1f ms, --gpus 1 %.1f ms\n", a/1000, b/1000}'
