#!/bin/sh
# Builds and runs bench_store against a meson build directory's engine
# library (the store sources are compiled in, so only the engine must be
# built).  Usage: bench/bench_store.sh [BUILD_DIR [SCRATCH_DIR]]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
scratch=${2:-$build}
ninja -C "$build" daemon/engine/libmingle_engine.a >/dev/null
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
    -I"$here/daemon/engine" -I"$here/daemon/store" \
    -o "$build/bench_store" "$here/bench/bench_store.c" \
    "$here"/daemon/store/store*.c "$build/daemon/engine/libmingle_engine.a" \
    -lsqlite3 -lunistring -lm
exec "$build/bench_store" "$scratch"
