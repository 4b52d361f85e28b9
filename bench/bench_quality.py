#!/usr/bin/env python3
"""Quality benchmark: mingle against the reference annealer (bench/ref_anneal).

    bench/bench_quality.py                  # 4 cases x 3 seeds, long run 30 s
    bench/bench_quality.py --quick          # 1 seed, long run 2 s
    bench/bench_quality.py --seeds 5 --long 60 150/8/6

Builds a release tree (build-release, as bench_batch.py does) and writes
events with gen_event.py (met_before and avoid pairs, --realistic-pairs)
for several generator seeds.  Per event it runs

  mingle 0.2 / mingle 1   mingled --batch F --format json --time-limit T
  ref =0.2 / ref =1       ref_anneal for the wall time mingle's run took
                          (loading included on both sides): equal time
  ref long                ref_anneal for --long seconds
  mingle default          mingled with its own default time limit

and prints one row per run with mingle's own figures (the JSON summary,
sched_metrics.h): objective, share of the upper bound, business and
conversation lift over a random seating, lonely seats, attendees left
without a possible contact, repeats.  A field mingle does not print shows
"-".  Then per case the ratio of mingle's objective to the reference's:
at equal time, and mingle's default against the long run.  Wall and CPU
seconds are the child's; on a shared 2-core machine compare ratios from
one run.  Nothing here is tuned to the solvers: the same events, the
same objective, the same clock for both.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen_event  # noqa: E402

CASES = [(60, 6, 4), (150, 8, 6), (300, 8, 6), (1000, 8, 8)]

def build(build_dir):
    if not os.path.isdir(build_dir):
        subprocess.run(["meson", "setup", build_dir, "--buildtype=release"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["meson", "compile", "-C", build_dir, "daemon/mingled",
                    "bench/ref_anneal"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def write_event(data, people, k, rounds, seed):
    """Each person knows about two others; one in twenty has a rival."""
    path = os.path.join(data, "quality-%d-%d-%d-s%d.yaml" % (people, k,
                                                            rounds, seed))
    attendees, met, avoids = gen_event.generate(
        people, k, rounds, seed=seed, met_before=people,
        avoid=max(2, people // 20), realistic=True)
    with open(path, "w", encoding="utf-8") as f:
        gen_event.write_yaml(f, "quality %d/%d/%d" % (people, k, rounds), k,
                             rounds, seed, attendees, met, avoids)
    return path


def run(cmd, out_path):
    """Runs cmd; returns (summary dict or None, wall s, CPU s, error)."""
    with open(out_path, "wb") as out, open(out_path + ".err", "wb") as err:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
    cpu = usage.ru_utime + usage.ru_stime
    if os.waitstatus_to_exitcode(status) != 0:
        with open(out_path + ".err", encoding="utf-8", errors="replace") as f:
            return None, wall, cpu, f.read().strip().splitlines()[-1:]
    with open(out_path, encoding="utf-8") as f:
        return json.load(f).get("summary", {}), wall, cpu, None


def field(summary, name):
    """A figure of a summary; None when absent or null (unknown)."""
    return summary.get(name) if summary is not None else None


def fmt(value, spec):
    return "-" if value is None else spec % value


HEADER = ("%-10s %4s %-14s %7s %7s %11s %6s %6s %6s %7s %5s %7s" % (
    "case", "seed", "solver", "wall_s", "cpu_s", "objective", "bound",
    "b_lift", "c_lift", "lonely%", "empty", "repeats"))


def row(case, seed, solver, summary, wall, cpu, error):
    if summary is None:
        return "%-10s %4d %-14s %7.2f %7.2f  failed: %s" % (
            case, seed, solver, wall, cpu, " ".join(error or []))
    lonely, seats = field(summary, "lonely_seats"), field(summary, "seats")
    share = field(summary, "bound_share")
    return "%-10s %4d %-14s %7.2f %7.2f %11s %6s %6s %6s %7s %5s %7s" % (
        case, seed, solver, wall, cpu,
        fmt(field(summary, "objective"), "%.1f"),
        fmt(share * 100 if share else None, "%.1f%%"),
        fmt(field(summary, "business_lift"), "%.2f"),
        fmt(field(summary, "conversation_lift"), "%.2f"),
        fmt(lonely * 100.0 / seats if lonely is not None and seats else None,
            "%.2f"),
        fmt(field(summary, "empty_handed"), "%d"),
        fmt(field(summary, "repeat_pairs"), "%d"))


def ratio(results, num, den):
    """mingle / reference objective per seed: 'mean (min-max)' or '-'."""
    got = []
    for runs in results:
        a = field(runs.get(num), "objective")
        b = field(runs.get(den), "objective")
        if a is not None and b:
            got.append(a / b)
    if not got:
        return "-"
    return "%.3f (%.3f-%.3f)" % (sum(got) / len(got), min(got), max(got))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="*", help="e.g. 150/8/6 (default: all)")
    ap.add_argument("--seeds", type=int, default=3,
                    help="generator seeds 1..N per case (default 3)")
    ap.add_argument("--long", type=float, default=30.0,
                    help="seconds for the reference's long run (default 30)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 seed, long run 2 s")
    ap.add_argument("--build", default=os.path.join(ROOT, "build-release"),
                    help="release build directory (default build-release)")
    args = ap.parse_args()
    if args.quick:
        args.seeds, args.long = 1, 2.0
    cases = [c for c in CASES
             if not args.cases or "%d/%d/%d" % c in args.cases]
    build(args.build)
    mingled = os.path.join(args.build, "daemon", "mingled")
    ref = os.path.join(args.build, "bench", "ref_anneal")
    data = os.path.join(args.build, "bench")
    os.makedirs(data, exist_ok=True)

    print(HEADER, flush=True)
    summary_lines = []
    for people, k, rounds in cases:
        case = "%d/%d/%d" % (people, k, rounds)
        results = []
        for seed in range(1, args.seeds + 1):
            path = write_event(data, people, k, rounds, seed)
            runs = {}

            def go(solver, cmd):
                out = "%s.%s.json" % (path, solver.replace(" ", "_"))
                summary, wall, cpu, error = run(cmd, out)
                runs[solver] = summary
                print(row(case, seed, solver, summary, wall, cpu, error),
                      flush=True)
                return wall

            for limit in ("0.2", "1"):
                wall = go("mingle " + limit,
                          [mingled, "--batch", path, "--format", "json",
                           "--time-limit", limit])
                go("ref =" + limit, [ref, path, "--time", "%.3f" % wall,
                                     "--seed", str(seed)])
            go("ref %gs" % args.long, [ref, path, "--time", str(args.long),
                                       "--seed", str(seed)])
            go("mingle default", [mingled, "--batch", path, "--format",
                                  "json"])
            results.append(runs)
        summary_lines.append("%-10s %-24s %-24s %-24s" % (
            case, ratio(results, "mingle 0.2", "ref =0.2"),
            ratio(results, "mingle 1", "ref =1"),
            ratio(results, "mingle default", "ref %gs" % args.long)))

    print()
    print("mingle / reference objective, mean (min-max) over seeds")
    print("%-10s %-24s %-24s %-24s" % ("case", "equal time 0.2 s",
                                       "equal time 1 s",
                                       "default vs ref %gs" % args.long))
    for line in summary_lines:
        print(line)


if __name__ == "__main__":
    main()
