#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time (make fuzz) and prints one
# TAP line per target. A target fails when libFuzzer stops on a crash, a
# leak, a sanitizer report, a timeout or running out of memory; the input
# that did it is kept as build/fuzz/artifacts/<target>-crash-... (or
# -leak-, -timeout-, -oom-) for `build/fuzz/<target> <file>` to replay.
#
#   run-fuzz.sh SECONDS SEEDS_DIR PROGRAM...
#
# Each target grows its corpus in build/fuzz/corpus/<target> (kept between
# runs, never checked in), starting from SEEDS_DIR/<target>.
set -u
secs=${1:?seconds per target}
seeds=${2:?seeds directory}
shift 2

status=0
for prog in "$@"; do
  name=$(basename "$prog")
  target=${name#fuzz_}
  dir=$(dirname "$prog")
  corpus=$dir/corpus/$target
  log=$dir/logs/$target.log
  mkdir -p "$corpus" "$dir/artifacts" "$dir/logs"
  echo "# $name for ${secs}s (log: $log)"
  "$prog" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/$target-" \
    "$corpus" "$seeds/$target" >"$log" 2>&1
  rc=$?
  # libFuzzer's last status line ("#N DONE cov: ... exec/s: ...") and its
  # final stats, as a summary.
  grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)' "$log" | tail -n 1 | sed 's/^/#   /'
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
    "$log" | sed 's/^/#   /'
  if [ "$rc" -eq 0 ]; then
    echo "ok - $name ran ${secs}s without a finding"
  else
    status=1
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|artifact_prefix|Test unit written)' \
      "$log" | head -n 8 | sed 's/^/#   /'
    echo "not ok - $name stopped with status $rc (see $log)"
  fi
done
exit "$status"
