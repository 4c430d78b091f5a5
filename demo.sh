#!/usr/bin/env bash
# The demo: a simulated GPU host, its CDI spec, and a real Podman container that sees GPU 0.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/deps.sh test
./build.sh
exec ./out/gantry demo "$@"
