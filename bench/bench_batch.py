#!/usr/bin/env python3
"""Batch benchmark: builds a release mingled and runs the issue's cases.

    bench/bench_batch.py            # all cases
    bench/bench_batch.py 32/4/8     # only the named ones

Prints one line per case: people, table size, rounds, repeats, lower bound,
business-match rate relative to a random seating with the same table sizes,
wall and user CPU seconds (reading the file and writing JSON included), and
the peak RSS of the mingled process (measured with GNU time, Debian package
"time").  The event files are generated deterministically by gen_event.py
into build-release/bench/.
"""
import json
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen_event  # noqa: E402

BUILD = os.path.join(ROOT, "build-release")
MINGLED = os.path.join(BUILD, "daemon", "mingled")
GNU_TIME = "/usr/bin/time"  # Debian package "time"

# (people, table size, rounds, names only, target)
CASES = [
    (32, 4, 8, True, "0 repeats, < 0.5 s"),
    (15, 3, 7, True, "0 repeats"),
    (30, 5, 6, True, "0 repeats"),
    (100, 8, 5, True, "0 repeats, < 0.5 s"),
    (1000, 8, 8, False, "0 repeats, < 5 s, match >= 2x"),
    (10000, 8, 5, False, "0 repeats, < 10 s, RSS < 1 GiB"),
    (20, 5, 8, True, "repeats <= 1.1 x bound"),
]

RANDOM_PAIR_SAMPLES = 300000


def build():
    if not os.path.isdir(BUILD):
        subprocess.run(["meson", "setup", BUILD, "--buildtype=release"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["meson", "compile", "-C", BUILD, "daemon/mingled"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def matches(a, b):
    return bool(a[0] & b[1]) or bool(b[0] & a[1])


def match_rates(attendees, schedule):
    """Share of seated pairs where one offers what the other seeks, for the
    schedule and (expected) for a random seating; None without profiles."""
    tags = {a["id"]: ({t.casefold() for t in a.get("offers", [])},
                      {t.casefold() for t in a.get("seeks", [])})
            for a in attendees}
    if not any(o or s for o, s in tags.values()):
        return None, None
    hit = pairs = 0
    for rnd in schedule["rounds"]:
        for table in rnd["tables"]:
            ids = table["attendees"]
            for i in range(len(ids)):
                for j in range(i + 1, len(ids)):
                    pairs += 1
                    hit += matches(tags[ids[i]], tags[ids[j]])
    # A random seating with any table sizes seats a uniformly random pair
    # at each seat pair, so its expected rate is that of a random pair.
    rng = random.Random(7)
    values = list(tags.values())
    rhit = sum(matches(*rng.sample(values, 2))
               for _ in range(RANDOM_PAIR_SAMPLES))
    return hit / pairs, rhit / RANDOM_PAIR_SAMPLES


def run_case(people, k, rounds, names_only):
    data = os.path.join(BUILD, "bench")
    os.makedirs(data, exist_ok=True)
    path = os.path.join(data, "event-%d-%d-%d.yaml" % (people, k, rounds))
    attendees, met, avoids = gen_event.generate(people, k, rounds, seed=1,
                                                names_only=names_only)
    with open(path, "w", encoding="utf-8") as f:
        gen_event.write_yaml(f, "bench", k, rounds, 1, attendees, met, avoids)
    out_path = path + ".json"
    rss_path = path + ".rss"
    # GNU time reports the peak RSS of mingled alone.  Our own wait4 would
    # not: a child forked from this (large) Python process starts with
    # Python's RSS as its high-water mark, which exec() carries over.
    with open(out_path, "wb") as out, open(path + ".err", "wb") as err:
        start = time.monotonic()
        proc = subprocess.Popen([GNU_TIME, "-f", "%M %U", "-o", rss_path,
                                 MINGLED, "--batch", path, "--format", "json"],
                                stdout=out, stderr=err)
        _, status = os.waitpid(proc.pid, 0)
        seconds = time.monotonic() - start
    with open(rss_path, encoding="utf-8") as f:
        rss_kib, cpu = f.read().split()[-2:]
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        with open(path + ".err", encoding="utf-8") as f:
            raise SystemExit("mingled failed on %s: %s" % (path, f.read()))
    with open(out_path, encoding="utf-8") as f:
        result = json.load(f)
    rate, random_rate = match_rates(attendees, result)
    return (result["summary"], seconds, float(cpu), int(rss_kib), rate,
            random_rate)


def main():
    wanted = set(sys.argv[1:])
    build()
    print("%-10s %6s %5s %6s %7s %6s %9s %7s %7s %7s  %s" % (
        "case", "people", "table", "rounds", "repeats", "bound",
        "match/rnd", "wall_s", "cpu_s", "rss_MiB", "target"))
    for people, k, rounds, names_only, target in CASES:
        name = "%d/%d/%d" % (people, k, rounds)
        if wanted and name not in wanted:
            continue
        summary, seconds, cpu, rss, rate, rnd = run_case(people, k, rounds,
                                                         names_only)
        ratio = "%.2fx" % (rate / rnd) if rate is not None and rnd else "-"
        print("%-10s %6d %5d %6d %7d %6d %9s %7.3f %7.2f %7.1f  %s" % (
            name, people, k, rounds, summary["repeat_pairs"],
            summary["repeat_lower_bound"], ratio, seconds, cpu, rss / 1024.0,
            target), flush=True)


if __name__ == "__main__":
    main()
