#!/usr/bin/env bash
# Installs the Debian packages that building, testing, the demo and the
# benchmark need. Does nothing when they are all present. As root it runs
# apt-get itself; otherwise it prints the command to run and fails, so that
# `make test` never stops to ask for a password.
#
#   scripts/deps.sh         the packages every target needs
#   scripts/deps.sh bench   those, then the benchmark's optional ones
#                           (tarantool, gnuplot-nox): when they cannot be
#                           installed it says so and exits 0, and the
#                           benchmark skips Tarantool or the chart
set -eu

packages="lua5.4 liblua5.4-dev lua-busted uthash-dev libpcre2-dev libjansson-dev luarocks valgrind pkg-config gcc make"
bench_packages="tarantool gnuplot-nox"

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps: dpkg-query not found: this script expects Debian (12 or later)." >&2
  echo "deps: install these packages by hand: $packages" >&2
  [ "${1:-}" = bench ] && echo "deps: and, for the benchmark: $bench_packages" >&2
  exit 1
fi

# The packages of the list $1 that are not installed.
missing_of() {
  local missing="" p status
  for p in $1; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing="$missing $p"
  done
  echo "${missing# }"
}

missing=$(missing_of "$packages")
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages: $missing" >&2
    echo "deps: install them with:" >&2
    echo "  sudo apt-get install -y $missing" >&2
    exit 1
  fi
  echo "deps: installing missing Debian packages: $missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # shellcheck disable=SC2086  # word splitting of the package list is wanted
  apt-get install -y -q --no-install-recommends $missing </dev/null
fi

[ "${1:-}" = bench ] || exit 0

# The benchmark's optional packages: never fail because of them.
missing=$(missing_of "$bench_packages")
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: the benchmark's optional packages are missing: $missing" >&2
  echo "deps: without them it skips Tarantool or the chart; install them with:" >&2
  echo "  sudo apt-get install -y $missing" >&2
  exit 0
fi
echo "deps: installing the benchmark's optional packages: $missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086  # word splitting of the package list is wanted
if ! { apt-get install -y -q --no-install-recommends $missing </dev/null ||
       { apt-get update -q && apt-get install -y -q --no-install-recommends $missing </dev/null; }; }; then
  echo "deps: could not install $missing; the benchmark runs without them" >&2
fi
exit 0
