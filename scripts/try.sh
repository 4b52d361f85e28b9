#!/bin/sh
# Quick start: installs what is missing, builds mingle in ./build and plans
# the example meetup.  Extra arguments go to mingled, e.g.
#   scripts/try.sh --format json > schedule.json
# Build messages go to stderr, so stdout is the schedule alone.
set -eu

cd "$(dirname "$0")/.."
scripts/deps.sh >&2
if [ ! -f build/build.ninja ]; then
    meson setup build >&2
fi
meson compile -C build >&2
exec build/daemon/mingled --batch examples/meetup.yaml "$@"
