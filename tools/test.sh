#!/usr/bin/env bash
# The whole test suite: lint (ESLint and Prettier), type checks, unit and e2e tests of every
# project through Nx, then one summary line over every test runner's counts.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh || exit 1
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
log=$(mktemp)
trap 'rm -f "$log"' EXIT
npx nx run-many -t lint typecheck test build --parallel=2 --outputStyle=static "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
echo
echo "tests: ${passed} passed, ${failed} failed"
if [ "$status" -ne 0 ]; then
  # Lint or type errors fail the run without failing a test: say which tasks, so nobody misses it.
  echo "FAILED: nx exited with status ${status}; failed tasks:"
  sed -n '/Failed tasks:/,/^$/p' "$log" | grep -- '- ' || grep -E 'exited with non-zero status' "$log"
fi
exit "$status"
