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
# The runner's summary: "Total tests: N", then "Passed: N", "Failed: N", "Skipped: N" (zeros left out).
count() { grep -E "^ *$1: +[0-9]+ *$" .tmp/test.log | grep -oE '[0-9]+' | tail -1; }
total=$(count "Total tests")
passed=$(count Passed); failed=$(count Failed); skipped=$(count Skipped)
passed=${passed:-0}; failed=${failed:-0}; skipped=${skipped:-0}
if [ -z "$total" ]; then echo "the test runner printed no summary"; echo "0 passed, 1 failed, 0 skipped"; exit 1; fi
grep -E "^\s+Skipped " .tmp/test.log | sed 's/^ */skipped: /' || true
# Repeat each failure with the start of its message, so a log cut to its tail still says what broke.
if [ "$failed" != 0 ]; then
  awk '/^ +Failed [A-Za-z]/ { n = 25; print "FAILED:" } n > 0 { print; n-- }' .tmp/test.log | cut -c1-400
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" = 0 ] && [ "$failed" = 0 ]
