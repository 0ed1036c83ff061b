#!/usr/bin/env bash
# Runs one stage of `make test` and reports it as TAP, for .ci/run to count.
#
#   stage.sh [--tap] NAME -- COMMAND...
#
# Without --tap the stage is one check: "ok - NAME" or "not ok - NAME".
# With --tap, COMMAND prints TAP lines itself; they are passed through, and
# the stage adds "not ok - NAME ..." only when the command failed without
# reporting a failing test of its own, or when it ran no test at all.
# Exits with the command's status (1 when it ran no test).
set -u

tap=0
if [ "${1:-}" = "--tap" ]; then tap=1; shift; fi
name=${1:?stage name}; shift
[ "${1:-}" = "--" ] && shift

out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}

if [ "$tap" -eq 0 ]; then
  if [ "$rc" -eq 0 ]; then echo "ok - $name"; else echo "not ok - $name (exit status $rc)"; fi
  exit "$rc"
fi

oks=$(grep -cE '^ok( |$)' "$out")
fails=$(grep -cE '^not ok( |$)' "$out")
if [ "$rc" -ne 0 ] && [ "$fails" -eq 0 ]; then
  echo "not ok - $name (exit status $rc)"
elif [ "$rc" -eq 0 ] && [ $((oks + fails)) -eq 0 ]; then
  echo "not ok - $name ran no test"
  rc=1
fi
echo "# $name: $oks ok, $fails not ok, exit status $rc"
exit "$rc"
