#!/usr/bin/env bash
# Benchmark of nvidia-docker and nvidia-docker-plugin on a simulated 2-GPU host:
#   1. the plugin's REST API under concurrent load on loopback (wrk, keep-alive): requests/s and p99 latency of
#      /v1.0/docker/cli and /v1.0/gpu/status/json;
#   2. the wrapper's added time over plain `docker run --rm` on a private dockerd (medians of interleaved runs):
#      an unlabelled image (inspect + exec only), a GPU image against docker run given the same arguments by
#      hand (the wrapper's own cost: inspect, discovery, exec), and that GPU container against a plain one.
#   bench/nvidia-docker.sh [RUNS] [SECONDS]   (defaults 20 runs, 10 s of load; needs root, dockerd, wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}; secs=${2:-10}
[ "$(id -u)" = 0 ] || { echo "bench/nvidia-docker.sh: needs root (dockerd, device nodes)" >&2; exit 1; }
command -v wrk >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
[ -x out/nvidia-docker-plugin ] && [ -e out/nvidia-docker ] || ./build.sh >/dev/null
repo=$PWD
work=$(mktemp -d /tmp/gnd.XXXXXX)
pids=()
cleanup() {
  for ((k = ${#pids[@]} - 1; k >= 0; k--)); do kill "${pids[k]}" 2>/dev/null || true; sleep 1; done
  rm -rf "$work"
}
trap cleanup EXIT

./out/gantry simulate "$work/host" --gpus 2 >/dev/null
mkdir -p "$work/plugins"
./out/nvidia-docker-plugin --driver-root "$work/host" -l 127.0.0.1:0 -d "$work/volumes" -s "$work/plugins" 2>"$work/plugin.log" & pids+=($!)
for _ in $(seq 100); do grep -q "Serving remote API at" "$work/plugin.log" && break; sleep 0.1; done
addr=$(grep -o "Serving remote API at .*" "$work/plugin.log" | awk '{print $5}')

echo "REST API, $secs s per endpoint, 2 wrk threads, 50 connections, keep-alive (loopback, the plugin on 2 shared cores)"
printf '%-26s %12s %10s %10s\n' "endpoint" "requests/s" "p50 ms" "p99 ms"
for path in /v1.0/docker/cli /v1.0/gpu/status/json /v1.0/gpu/info/json /metrics; do
  out=$(wrk -t2 -c50 -d"${secs}s" --latency "http://$addr$path")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  ms() { awk -v p="$1" '$1 == p {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000} else if (v ~ /ms$/) sub(/ms/, "", v); else if (v ~ /s$/) {sub(/s/, "", v); v *= 1000}; print v}' <<<"$out"; }
  printf '%-26s %12s %10s %10s\n' "$path" "$rps" "$(ms 50%)" "$(ms 99%)"
done

# A private dockerd that finds the plugin in its own /run/docker/plugins (mount namespace), as the tests do.
unshare --mount --propagation slave -- sh -c 'mkdir -p /run/docker/plugins && mount --bind "$0" /run/docker/plugins && exec "$@"' "$work/plugins" \
  containerd --root "$work/cr" --state "$work/cs" --address "$work/c.sock" >"$work/containerd.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do [ -S "$work/c.sock" ] && break; sleep 0.1; done
nsenter --target "${pids[-1]}" --mount -- dockerd --data-root "$work/d" --exec-root "$work/e" --pidfile "$work/dockerd.pid" \
  -H "unix://$work/d.sock" --iptables=false --ip6tables=false --bridge=none --containerd="$work/c.sock" >"$work/dockerd.log" 2>&1 & pids+=($!)
for _ in $(seq 300); do [ -S "$work/d.sock" ] && break; sleep 0.1; done
export DOCKER_HOST="unix://$work/d.sock" NV_DRIVER_ROOT="$work/host"
unset NV_GPU NV_HOST NV_DOCKER NV_DOCKER_MODE
mkdir -p "$work/rootfs/bin"; cp /bin/busybox "$work/rootfs/bin/"; for a in sh true; do ln -s busybox "$work/rootfs/bin/$a"; done
tar -C "$work/rootfs" -c . | docker import - gantry-bench/plain >/dev/null
tar -C "$work/rootfs" -c . | docker import --change 'LABEL com.nvidia.volumes.needed=nvidia_driver' --change 'LABEL com.nvidia.cuda.version=9.0' - gantry-bench/cuda >/dev/null
"$repo/out/nvidia-docker" run --rm gantry-bench/cuda true   # creates the volume once
printf '#!/bin/sh\ncase "$1" in inspect|volume|pull) exec docker "$@";; esac\nshift 2; echo "$@"\n' >"$work/args"; chmod +x "$work/args"
gpu_args=$(NV_DOCKER="$work/args" "$repo/out/nvidia-docker" run --rm gantry-bench/cuda true | sed 's/ gantry-bench\/cuda true$//')

declare -A samples
time_it() { # name, command...
  local name=$1 t0 t1; shift
  t0=$(date +%s%N); "$@" >/dev/null 2>"$work/err" || { echo "$name failed: $(cat "$work/err")" >&2; exit 1; }
  t1=$(date +%s%N); samples[$name]+="$(( (t1 - t0) / 1000 )) "
}
# The wrapper on its own: everything up to the exec of docker, which is /bin/true here (same daemon queries).
mkdir -p "$work/fakebin"; ln -s /bin/true "$work/fakebin/docker"
for ((i = 0; i < runs * 3; i++)); do
  time_it "wrapper alone, GPU image" env PATH="$work/fakebin:$PATH" "$repo/out/nvidia-docker" run --rm gantry-bench/cuda true
  time_it "wrapper alone, plain image" env PATH="$work/fakebin:$PATH" "$repo/out/nvidia-docker" run --rm gantry-bench/plain true
  time_it "/bin/true" env PATH="$work/fakebin:$PATH" /bin/true
done
for ((i = 0; i < runs; i++)); do
  time_it "docker run, plain image" docker run --rm gantry-bench/plain true
  time_it "nvidia-docker, plain image" "$repo/out/nvidia-docker" run --rm gantry-bench/plain true
  # shellcheck disable=SC2086
  time_it "docker run, GPU args by hand" docker run --rm $gpu_args gantry-bench/cuda true
  time_it "nvidia-docker, GPU image" "$repo/out/nvidia-docker" run --rm gantry-bench/cuda true
done
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
row() { # name, baseline name
  awk -v n="$1" -v m="$(median "${samples[$1]}")" -v b="$(median "${samples[$2]}")" \
    'BEGIN {printf "%-32s %10.1f %+9.1f %+8.1f%%\n", n, m/1000, (m-b)/1000, (m-b)*100/b}'
}
echo
echo "docker run --rm ... true ($runs interleaved runs; medians; the goal for the wrapper is under +5%)"
printf '%-32s %10s %9s %9s\n' "" "ms" "+ms" "+%"
row "docker run, plain image" "docker run, plain image"
row "nvidia-docker, plain image" "docker run, plain image"
row "docker run, GPU args by hand" "docker run, GPU args by hand"
row "nvidia-docker, GPU image" "docker run, GPU args by hand"
# Another view of the same samples: each wrapper run against the docker run just before it (the median of those
# differences), which leaves out the daemon's slow drift but not its run-to-run jitter.
paired() { # name, baseline name
  paste -d' ' <(tr ' ' '\n' <<<"${samples[$2]}" | grep -v '^$') <(tr ' ' '\n' <<<"${samples[$1]}" | grep -v '^$') |
    awk '{print $2 - $1}' | sort -n | awk -v n="$1" -v b="$(median "${samples[$2]}")" \
      '{a[NR]=$1} END {m = NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%-32s %10s %+9.1f %+8.1f%%  (paired)\n", n, "", m/1000, m*100/b}'
}
paired "nvidia-docker, plain image" "docker run, plain image"
paired "nvidia-docker, GPU image" "docker run, GPU args by hand"
echo "(GPU container vs plain container, dockerd's own work for devices and the volume:)"
row "docker run, GPU args by hand" "docker run, plain image"
echo
echo "the wrapper alone ($((runs * 3)) runs; docker replaced by /bin/true; % of the plain docker run above)"
for name in "/bin/true" "wrapper alone, plain image" "wrapper alone, GPU image"; do
  awk -v n="$name" -v m="$(median "${samples[$name]}")" -v b="$(median "${samples[docker run, plain image]}")" \
    'BEGIN {printf "%-32s %10.1f %9.1f%%\n", n, m/1000, m*100/b}'
done
