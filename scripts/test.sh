#!/bin/sh
# Builds mingle twice, plainly in ./build and with AddressSanitizer and
# UndefinedBehaviorSanitizer in ./build-asan, and runs every test in both;
# then builds the planner's tests with ThreadSanitizer in ./build-tsan and
# runs them (the 'planner' suite: the tests that run threads).  Any
# failure, and any sanitizer report, makes it exit non-zero.  This is
# what CI runs (.ci/run).
set -eu

cd "$(dirname "$0")/.."
scripts/deps.sh

# Sanitizer reports abort the process, so a test cannot pass with one.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:abort_on_error=1:second_deadlock_stack=1"

setup() {
    dir=$1
    shift
    if [ -f "$dir/build.ninja" ]; then
        if [ $# -gt 0 ]; then
            meson configure "$dir" "$@"
        fi
    else
        meson setup "$dir" "$@"
    fi
}

setup build
setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
setup build-tsan -Db_sanitize=thread -Db_lundef=false

status=0
for dir in build build-asan; do
    echo "== $dir" >&2
    if ! meson compile -C "$dir"; then
        status=1
        continue
    fi
    meson test -C "$dir" --print-errorlogs || status=1
done

# Only what the planner suite needs: a whole TSan build would double CI.
echo "== build-tsan (planner suite)" >&2
if meson compile -C build-tsan tests/unit/test_planner \
        tests/unit/test_meetup_plan; then
    meson test -C build-tsan --suite planner --no-rebuild --print-errorlogs \
        || status=1
else
    status=1
fi

if [ "$status" -ne 0 ]; then
    echo "test.sh: FAILED" >&2
else
    echo "test.sh: all tests passed in build and build-asan, planner" \
         "tests in build-tsan" >&2
fi
exit "$status"
