#!/usr/bin/env bash
# Benchmark: nvidia-device-plugin on a simulated 8-GPU node driven by the test kubelet (tests/Gantry.Tests/
# Kubernetes): plugin start to registered, Allocate round trip (median, p99), injected Xid to the ListAndWatch
# update, resident memory. Prints one line per figure.
#   bench/kubernetes.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x out/nvidia-device-plugin ] || ./build.sh >/dev/null
dotnet build tests/Gantry.Tests -c Release -v q --nologo >/dev/null
results=$(mktemp)
trap 'rm -f "$results"' EXIT
GANTRY_BENCH=1 GANTRY_BENCH_OUT="$results" GANTRY_BIN_DIR="$PWD/out" \
  dotnet test tests/Gantry.Tests -c Release --no-build --filter "FullyQualifiedName~DevicePluginBench" >/dev/null
cat "$results"
