#!/usr/bin/env bash
# Installs the Debian packages that building, testing, the demo and the
# benchmark need. Does nothing when they are all present. As root it runs
# apt-get itself; otherwise it prints the command to run and fails, so that
# `make test` never stops to ask for a password.
set -eu

packages="lua5.4 liblua5.4-dev lua-busted uthash-dev luarocks valgrind pkg-config gcc make"

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps: dpkg-query not found: this script expects Debian (12 or later)." >&2
  echo "deps: install these packages by hand: $packages" >&2
  exit 1
fi

missing=""
for p in $packages; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing="$missing $p"
done
missing=${missing# }
[ -z "$missing" ] && exit 0

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
