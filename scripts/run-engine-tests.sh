#!/usr/bin/env bash
# Runs the engine's C unit tests (each a program printing TAP) and checks
# each one: it must exit 0, print no "not ok" line and print as many results
# as its "1..N" plan says. A program that breaks one of these rules without
# saying so gets a "not ok" line of its own here.
#
#   run-engine-tests.sh [--wrap "COMMAND PREFIX"] PROGRAM...
#
# --wrap runs each program under a prefix, e.g. valgrind with its options.
set -u
wrap=""
if [ "${1:-}" = "--wrap" ]; then wrap=$2; shift 2; fi

if [ "$#" -eq 0 ]; then
  echo "not ok - no engine tests found (tests/engine/test_*.c)"
  exit 1
fi

status=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for prog in "$@"; do
  echo "# $prog"
  # shellcheck disable=SC2086  # the prefix is split on purpose
  $wrap "$prog" >"$out" 2>&1 </dev/null
  rc=$?
  cat "$out"
  oks=$(grep -cE '^ok( |$)' "$out")
  fails=$(grep -cE '^not ok( |$)' "$out")
  plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$out" | tail -n 1)
  if [ "$fails" -gt 0 ]; then
    status=1
  fi
  if [ "$rc" -ne 0 ]; then
    [ "$fails" -eq 0 ] && echo "not ok - $prog exited with status $rc"
    status=1
  elif [ -z "$plan" ]; then
    echo "not ok - $prog printed no 1..N plan"
    status=1
  elif [ "$plan" -ne $((oks + fails)) ]; then
    echo "not ok - $prog planned $plan tests but reported $((oks + fails))"
    status=1
  fi
done
exit "$status"
