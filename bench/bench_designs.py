#!/usr/bin/env python3
"""Repeat-free rounds that mingled reaches for G tables of S seats.

    bench/bench_designs.py                  # 3-10 tables x 3-10 seats
    bench/bench_designs.py --fewer 3        # also with 1, 2, 3 fewer people
    bench/bench_designs.py --build build-ds-release 8/4 9/3

For each cell (S <= G: more seats than tables cannot give a second round)
it writes a names-only event of G*S people (gen_event.py --names-only) and
runs `mingled --batch --format json`, first at the best-known number of
repeat-free rounds, then one round fewer at a time until the summary shows
repeat_pairs 0.  It prints the rounds reached, the best known (from the
literature, `*` = proven maximum) and the wall time of the run that
reached them (reading, planning and writing JSON included).  With --fewer
K the same is done for G*S - 1 .. G*S - K people at tables of S where
that still makes G tables.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen_event  # noqa: E402

# Best-known repeat-free rounds for G tables of S seats; a trailing '*'
# marks a proven maximum.  Sources: Miller, Valkov & Abel, Symmetry
# 18(2):269 (2026); Harvey's social golfer pages (OEIS A107431).
BEST = {
    3: "4*",
    4: "4* 5*",
    5: "7* 5* 6*",
    6: "8* 7* 6 3*",
    7: "10* 9* 7 7 8*",
    8: "11* 10* 8 8 8 9*",
    9: "13* 11* 9 9 9 9 10*",
    10: "14* 13* 9 7 7 5 5 4",
}


def best_known(g, s):
    return BEST[g].split()[s - 3]


def build(build_dir):
    if not os.path.isdir(build_dir):
        subprocess.run(["meson", "setup", build_dir, "--buildtype=release"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["meson", "compile", "-C", build_dir, "daemon/mingled"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def run(mingled, tmp, people, seats, rounds):
    """Returns (repeat_pairs, wall seconds) of one batch run."""
    path = os.path.join(tmp, "%d_%d_%d.yaml" % (people, seats, rounds))
    attendees, met, avoids = gen_event.generate(people, seats, rounds,
                                                seed=1, names_only=True)
    with open(path, "w", encoding="utf-8") as f:
        gen_event.write_yaml(f, "Designs %d/%d/%d" % (people, seats, rounds),
                             seats, rounds, 1, attendees, met, avoids)
    t0 = time.monotonic()
    out = subprocess.run([mingled, "--batch", path, "--format", "json"],
                         check=True, capture_output=True, text=True).stdout
    wall = time.monotonic() - t0
    return json.loads(out)["summary"]["repeat_pairs"], wall


def reach(mingled, tmp, people, seats, target):
    """Most rounds from target down with 0 repeats, and that run's time."""
    for rounds in range(target, 0, -1):
        repeats, wall = run(mingled, tmp, people, seats, rounds)
        if repeats == 0:
            return rounds, wall
    return 0, 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cells", nargs="*", help="e.g. 8/4 (default: all)")
    ap.add_argument("--fewer", type=int, default=0,
                    help="also 1..K fewer people (default 0)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build-release"),
                    help="release build dir (default build-release)")
    args = ap.parse_args()
    build(args.build)
    mingled = os.path.join(args.build, "daemon", "mingled")
    cells = [(g, s) for g in range(3, 11) for s in range(3, g + 1)]
    if args.cells:
        want = {tuple(int(x) for x in c.split("/")) for c in args.cells}
        cells = [c for c in cells if c in want]
    head = "%-5s %5s %5s %8s" % ("G-S", "best", "mingle", "ms")
    for k in range(1, args.fewer + 1):
        head += "  %5s %8s" % ("-%d" % k, "ms")
    print(head)
    with tempfile.TemporaryDirectory() as tmp:
        for g, s in cells:
            best = best_known(g, s)
            target = int(best.rstrip("*"))
            rounds, wall = reach(mingled, tmp, g * s, s, target)
            line = "%-5s %5s %5d %8.1f" % ("%d-%d" % (g, s), best, rounds,
                                           wall * 1000)
            for k in range(1, args.fewer + 1):
                people = g * s - k
                if -(-people // s) != g:
                    line += "  %5s %8s" % ("-", "-")
                    continue
                rounds, wall = reach(mingled, tmp, people, s, target)
                line += "  %5d %8.1f" % (rounds, wall * 1000)
            print(line, flush=True)


if __name__ == "__main__":
    main()
