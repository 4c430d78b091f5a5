#!/usr/bin/env bash
# Runs every test: unit, integration (the published binary on simulated hosts) and end to end (real
# runc/Podman). Ends with one line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"
bash scripts/deps.sh test || exit 1
./build.sh || exit 1
export GANTRY_BIN_DIR="$PWD/out"
mkdir -p .tmp
dotnet test tests/Gantry.Tests -c Release --nologo --logger "console;verbosity=normal" 2>&1 | tee .tmp/test.log
status=${PIPESTATUS[0]}
summary=$(grep -E "(Passed|Failed)! +- +Failed: +[0-9]+" .tmp/test.log | tail -1)
failed=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$summary")
passed=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")
skipped=$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$summary")
if [ -z "$summary" ]; then echo "0 passed, 1 failed, 0 skipped"; exit 1; fi
grep -E "^\s+Skipped " .tmp/test.log | sed 's/^ */skipped: /' || true
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" = 0 ] && [ "$failed" = 0 ]
