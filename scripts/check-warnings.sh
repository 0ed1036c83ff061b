#!/usr/bin/env bash
# Compiles each C file given with COMPILE (a compiler command line that ends
# in -Werror), at -O2 and at -O0, into /dev/null. Fails on the first file
# that warns. Used by `make test`: the normal build does not use -Werror,
# yet must be warning-free.
#
#   check-warnings.sh "COMPILE" FILE.c...
set -u
compile=${1:?compile command}; shift
status=0
for src in "$@"; do
  for opt in -O2 -O0; do
    # shellcheck disable=SC2086  # the command line is split on purpose
    if ! $compile $opt -c -o /dev/null "$src"; then
      echo "check-warnings: $src has warnings or errors at $opt" >&2
      status=1
    fi
  done
done
[ "$status" -eq 0 ] && echo "check-warnings: $# C files compile cleanly at -O2 and -O0"
exit "$status"
