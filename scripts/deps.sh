#!/bin/sh
# Installs the Debian packages mingle needs to build and test, and only
# those that are missing: on a machine that has them all it changes
# nothing, needs no root and no network.
#
#   scripts/deps.sh          install what is missing (as root)
#   scripts/deps.sh --list   print the package list
set -eu

PACKAGES="
gcc
libc6-dev
pkg-config
meson
ninja-build
python3
libevent-dev
libprotobuf-c-dev
protobuf-c-compiler
libyaml-dev
libcmocka-dev
libsqlite3-dev
libunistring-dev
libssl-dev
openssl
"

if [ "${1:-}" = "--list" ]; then
    printf '%s\n' $PACKAGES
    exit 0
fi

missing=""
for pkg in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
    *" ok installed") ;;
    *) missing="$missing $pkg" ;;
    esac
done

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing Debian packages:$missing" >&2
    echo "deps.sh: install them as root: apt-get install$missing" >&2
    exit 1
fi

echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update
# $missing is a list of package names and must split into words.
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $missing
