#!/usr/bin/env bash
# Benchmark: the time from `docker service create --replicas 4` to all four tasks running on a real three-node
# swarm (three private dockerd daemons on this machine, swarm ports on 127.0.0.1), with and without one GPU per
# task. Every node has its own simulated 2-GPU host and is set up by
# `nvidia-ctk runtime configure --runtime=docker --swarm-resources`, so nvidia is each node's default runtime and
# the GPU service differs from the plain one only by `--generic-resource NVIDIA-GPU=1`. Medians of interleaved
# runs; the ratio is GPU over plain. Times come from Swarm's own records (the service's CreatedAt and the
# moment each task reached Running), so the script's polling does not blur them.
#   bench/swarm.sh [RUNS]     (default 8)   needs root, dockerd, containerd, runc, busybox
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-8}
[ "$(id -u)" = 0 ] || { echo "bench/swarm.sh: needs root (dockerd)" >&2; exit 1; }
command -v dockerd >/dev/null || { echo "bench/swarm.sh: dockerd is not installed (bash scripts/deps.sh test)" >&2; exit 1; }
[ -x out/nvidia-container-runtime ] || ./build.sh >/dev/null
repo=$PWD
work=$(mktemp -d /tmp/gsw.XXXX) # short: dockerd's socket paths must fit in sun_path
nodes=3
d() { docker -H "unix://$work/n$1/d.sock" "${@:2}"; }
cleanup() {
  for i in $(seq 0 $((nodes - 1))); do d "$i" swarm leave --force >/dev/null 2>&1 || true; done
  for i in $(seq 0 $((nodes - 1))); do [ -f "$work/n$i/d.pid" ] && kill "$(cat "$work/n$i/d.pid")" 2>/dev/null || true; done
  sleep 3
  grep -o " $work[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/dev" "$work/rootfs/sys"
cp /bin/busybox "$work/rootfs/bin/"; for a in sh sleep ls; do ln -s busybox "$work/rootfs/bin/$a"; done
for i in $(seq 0 $((nodes - 1))); do
  n=$work/n$i; mkdir -p "$n"
  ./out/gantry simulate "$n/host" --gpus 2 --driver "550.54.1$((i + 3))" --device-nodes char >/dev/null
  printf '[nvidia-container-cli]\nroot = "%s"\n[nvidia-ctk]\npath = "%s"\n' "$n/host" "$repo/out/nvidia-ctk" >"$n/config.toml"
  # The runtime reads this node's config.toml: containerd's shim starts it with containerd's environment.
  printf '#!/bin/sh\nNVIDIA_CTK_CONFIG_FILE_PATH=%s exec %s "$@"\n' "$n/config.toml" "$repo/out/nvidia-container-runtime" >"$n/runtime"
  chmod +x "$n/runtime"
  echo '{}' >"$n/daemon.json"
  ./out/nvidia-ctk --quiet runtime configure --runtime=docker --config="$n/daemon.json" --nvidia-runtime-path="$n/runtime" \
    --toolkit-config="$n/config.toml" --driver-root="$n/host" --swarm-resources
  dockerd --data-root "$n/data" --exec-root "$n/exec" --pidfile "$n/d.pid" -H "unix://$n/d.sock" --iptables=false \
    --ip6tables=false --bridge=none --config-file "$n/daemon.json" >"$n/dockerd.log" 2>&1 &
done
for i in $(seq 0 $((nodes - 1))); do
  for _ in $(seq 100); do d "$i" info >/dev/null 2>&1 && break; sleep 0.2; done
  tar -C "$work/rootfs" -ch . | d "$i" import - gantry-bench/busybox >/dev/null
done
d 0 swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:22377 >/dev/null
token=$(d 0 swarm join-token -q worker)
for i in $(seq 1 $((nodes - 1))); do
  d "$i" swarm join --token "$token" --advertise-addr "127.0.0.1:$((22377 + i))" --listen-addr "127.0.0.1:$((22377 + i))" 127.0.0.1:22377 >/dev/null
done
for _ in $(seq 150); do [ "$(d 0 node ls --format '{{.Status}}' | grep -c Ready)" = "$nodes" ] && break; sleep 0.2; done

# One service's life: create, wait until 4 tasks run, remove, wait until no task container is left on any node.
life() { # name, extra args...
  local name=$1; shift
  # (Swarm warns on stderr that a local image has no registry digest: kept out of the table, shown on failure.)
  d 0 service create --detach --quiet --name "$name" --replicas 4 --restart-condition none "$@" gantry-bench/busybox sleep 600 \
    >/dev/null 2>"$work/create.err" || { cat "$work/create.err" >&2; exit 1; }
  local running=0
  for _ in $(seq 600); do
    running=$(d 0 service ps "$name" --filter desired-state=running --format '{{.CurrentState}}' | grep -c '^Running' || true)
    [ "$running" = 4 ] && break
    sleep 0.1
  done
  [ "$running" = 4 ] || { echo "bench/swarm.sh: $name: only $running of 4 tasks running after 60 s" >&2; d 0 service ps --no-trunc "$name" >&2; exit 1; }
  # Swarm's clock: from the service's creation to the last task's switch to Running.
  local t0 t1
  t0=$(date -d "$(d 0 service inspect --format '{{.CreatedAt}}' "$name" | sed 's/ UTC$//')" +%s%N)
  t1=$(d 0 inspect --format '{{.Status.Timestamp}}' $(d 0 service ps -q --filter desired-state=running "$name") |
    sed 's/ UTC$//' | while read -r ts; do date -d "$ts" +%s%N; done | sort -n | tail -1)
  d 0 service rm "$name" >/dev/null
  for _ in $(seq 300); do
    local left=0
    for i in $(seq 0 $((nodes - 1))); do left=$((left + $(d "$i" ps -q | wc -l))); done
    [ "$left" = 0 ] && break
    sleep 0.2
  done
  echo $(( (t1 - t0) / 1000000 ))
}
plain=(); gpu=()
for r in $(seq "$runs"); do
  plain+=("$(life "plain$r")")
  gpu+=("$(life "gpu$r" --generic-resource NVIDIA-GPU=1)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mp=$(median "${plain[@]}"); mg=$(median "${gpu[@]}")
printf '%-44s %10s %8s\n' "service create to 4 tasks running ($runs runs)" "median ms" "ratio"
printf '%-44s %10s %8.2f\n' "plain (no GPU request)" "$mp" 1
printf '%-44s %10s %8.2f\n' "GPU (--generic-resource NVIDIA-GPU=1)" "$mg" "$(awk -v a="$mg" -v b="$mp" 'BEGIN { print a / b }')"
echo "all runs, plain: ${plain[*]}; GPU: ${gpu[*]}"
