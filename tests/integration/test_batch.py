#!/usr/bin/env python3
"""Batch mode end to end: runs the real mingled on event files and checks
the batch contract of design.md (exit status, stdout/stderr, the three
output formats and the scheduling guarantees).

usage: test_batch.py PATH/TO/mingled
"""

import csv
import io
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import eval_schedule  # noqa: E402  (bench/, found through ROOT)
EXAMPLES = ROOT / "examples"
DATA = ROOT / "tests" / "data"
MINGLED = None  # set from argv in main()
RUN_TIMEOUT_S = 300  # generous: the sanitizer build is slow

TOP_KEYS = {"event", "rounds", "summary"}
ROUND_KEYS = {"round", "tables"}
TABLE_KEYS = {"table", "attendees", "score", "why"}
SUMMARY_KEYS = {"attendees", "repeat_pairs", "repeat_lower_bound",
                "affinity_total", "min_attendee_affinity"}
QUALITY_KEYS = {"objective", "upper_bound", "bound_share", "seats",
                "lonely_seats", "empty_handed", "business_contacts_mean",
                "business_contacts_min", "business_lift",
                "conversation_partners_mean", "conversation_partners_min",
                "conversation_lift", "search"}
# A fixed work budget: the same seed then gives the same schedule however
# slow the machine (the sanitizer build is), and the runs stay short.
FIXED = ("--effort", "2", "--threads", "2")


def run(*args):
    return subprocess.run([MINGLED, *map(str, args)], capture_output=True,
                          timeout=RUN_TIMEOUT_S, check=False)


class Event:
    """What the tests need to know about one of our example files, read
    with a few regular expressions (the examples are ours and regular;
    python has no YAML parser in its standard library)."""

    def __init__(self, path):
        text = path.read_text(encoding="utf-8")
        self.path = path
        self.name = re.search(r'^\s+name: "(.*)"$', text, re.M).group(1)
        self.rounds = int(re.search(r"^\s+rounds: (\d+)", text, re.M).group(1))
        self.table_size = int(
            re.search(r"^\s+table_size: (\d+)", text, re.M).group(1))
        self.names = {}
        for m in re.finditer(r'id: (\w+)(?:,\s*name: "([^"]*)"|.*\n\s+name: '
                             r'"([^"]*)")?', text):
            self.names[m.group(1)] = m.group(2) or m.group(3) or m.group(1)
        self.met_before = self._pairs(text, "met_before")
        self.avoid = self._pairs(text, "avoid")

    @staticmethod
    def _pairs(text, key):
        m = re.search(r"^%s:.*\n((?:\s+- \[.*\n?)+)" % key, text, re.M)
        if not m:
            return []
        return re.findall(r"- \[(\w+), (\w+)\]", m.group(1))


MEETUP = Event(EXAMPLES / "meetup.yaml")
ROTATION = Event(EXAMPLES / "rotation.yaml")
_cache = {}


def run_ok(event, *args):
    """Runs mingled on `event` (cached) with a fixed work budget, asserting
    success."""
    key = (event.path, args)
    if key not in _cache:
        _cache[key] = run("--batch", event.path, *FIXED, *args)
    r = _cache[key]
    if r.returncode != 0:
        raise AssertionError("mingled %s %s: exit %d\n%s" % (
            event.path, args, r.returncode, r.stderr.decode(errors="replace")))
    return r


def json_schedule(event, *args):
    return json.loads(run_ok(event, "--format", "json", *args).stdout)


class JsonContract(unittest.TestCase):

    def check(self, ev):
        doc = json_schedule(ev)
        self.assertEqual(set(doc), TOP_KEYS)
        self.assertEqual(doc["event"], ev.name)
        self.assertEqual(set(doc["summary"]), SUMMARY_KEYS | QUALITY_KEYS)
        self.assertEqual(len(doc["rounds"]), ev.rounds)

        n = len(ev.names)
        n_tables = math.ceil(n / ev.table_size)
        met = {frozenset(p) for p in ev.met_before}
        avoid = {frozenset(p) for p in ev.avoid}
        repeats = 0
        score_sum = 0.0
        for r, rnd in enumerate(doc["rounds"], 1):
            self.assertEqual(set(rnd), ROUND_KEYS)
            self.assertEqual(rnd["round"], r)
            self.assertEqual(len(rnd["tables"]), n_tables)
            seated = []
            sizes = []
            for t, tab in enumerate(rnd["tables"], 1):
                self.assertEqual(set(tab), TABLE_KEYS)
                self.assertEqual(tab["table"], t)
                self.assertIsInstance(tab["score"], (int, float))
                self.assertIsInstance(tab["why"], str)
                score_sum += tab["score"]
                people = tab["attendees"]
                seated += people
                sizes.append(len(people))
                for i, a in enumerate(people):
                    for b in people[i + 1:]:
                        pair = frozenset((a, b))
                        self.assertNotIn(pair, avoid,
                                         "avoid pair seated together")
                        if pair in met:
                            repeats += 1
                        met.add(pair)
            self.assertEqual(sorted(seated), sorted(ev.names),
                             "round %d: not everyone seated exactly once" % r)
            self.assertLessEqual(max(sizes) - min(sizes), 1)
            self.assertLessEqual(max(sizes), ev.table_size)

        s = doc["summary"]
        self.assertEqual(s["attendees"], n)
        self.assertEqual(repeats, 0)
        self.assertEqual(s["repeat_pairs"], 0)
        self.assertEqual(s["repeat_lower_bound"], 0)
        self.assertAlmostEqual(s["affinity_total"], score_sum, places=6)
        self.assertIsInstance(s["min_attendee_affinity"], (int, float))
        self.check_quality(s, n * ev.rounds)
        return doc

    def check_quality(self, s, seats):
        self.assertEqual(s["seats"], seats)
        self.assertTrue(0 <= s["lonely_seats"] <= seats)
        # Lonely seats cost the objective 2 each at the default weights.
        self.assertAlmostEqual(s["objective"],
                               s["affinity_total"] - 2 * s["lonely_seats"],
                               places=6)
        if s["upper_bound"] is not None:
            self.assertLessEqual(s["objective"], s["upper_bound"] + 1e-6)
            self.assertAlmostEqual(s["bound_share"],
                                   s["objective"] / s["upper_bound"])
        for kind in ("business_contacts", "conversation_partners"):
            self.assertLessEqual(s[kind + "_min"], s[kind + "_mean"])
        self.assertGreaterEqual(s["empty_handed"], 0)
        self.assertEqual(set(s["search"]),
                         {"threads", "epochs", "converged", "time_limit_hit"})
        self.assertEqual(s["search"]["threads"], 2)

    def test_meetup(self):
        doc = self.check(MEETUP)
        self.assertGreater(doc["summary"]["affinity_total"], 0)
        # The quality figures, recounted by an evaluator of our own that
        # shares no code with mingle's.
        people, met, avoid = eval_schedule.read_event(MEETUP.path)
        want = eval_schedule.evaluate(people, met, avoid, doc)
        for key, value in want.items():
            self.assertAlmostEqual(doc["summary"][key], value, places=9,
                                   msg=key)
        whys = [t["why"] for r in doc["rounds"] for t in r["tables"]]
        self.assertTrue(any(whys), "no table has a reason")

    def test_rotation(self):
        doc = self.check(ROTATION)
        self.assertEqual(doc["summary"]["affinity_total"], 0)

    def test_nothing_on_stderr(self):
        for ev in (MEETUP, ROTATION):
            for fmt in ("text", "json", "csv"):
                self.assertEqual(run_ok(ev, "--format", fmt).stderr, b"")


class CsvContract(unittest.TestCase):

    def check(self, ev):
        out = run_ok(ev, "--format", "csv").stdout.decode("utf-8")
        rows = list(csv.reader(io.StringIO(out, newline="")))
        self.assertEqual(rows[0], ["round", "table", "attendee_id", "name"])
        self.assertEqual(len(rows) - 1, len(ev.names) * ev.rounds)
        seating = {}
        for rnd, tab, aid, name in rows[1:]:
            self.assertEqual(name, ev.names[aid])
            seating.setdefault((int(rnd), int(tab)), []).append(aid)
        doc = json_schedule(ev)
        want = {(r["round"], t["table"]): t["attendees"]
                for r in doc["rounds"] for t in r["tables"]}
        self.assertEqual(seating, want)

    def test_meetup(self):
        self.check(MEETUP)

    def test_rotation(self):
        self.check(ROTATION)

    FORMULAS = ["=1+1", "+49 40 123", "-Dr. X", "@SUM(A1)"]

    def formula_event(self, tmp):
        path = Path(tmp) / "formula.yaml"
        people = "".join('  - {id: p%d, name: %s}\n' % (i, json.dumps(n))
                         for i, n in enumerate(self.FORMULAS))
        path.write_text("event:\n  rounds: 1\n  table_size: 5\n"
                        "attendees:\n" + people + "  - {id: '=id'}\n",
                        encoding="utf-8")
        return path

    def test_formula_cells_escaped(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = run("--batch", self.formula_event(tmp), "--format", "csv")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = list(csv.reader(io.StringIO(r.stdout.decode(), newline="")))
        names = {row[2]: row[3] for row in rows[1:]}
        for i, name in enumerate(self.FORMULAS):
            self.assertEqual(names["p%d" % i], "'" + name)
        self.assertEqual(names["'=id"], "'=id")

    def test_excel(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = run("--batch", self.formula_event(tmp), "--format", "csv",
                    "--excel")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(b"\xef\xbb\xbfround,table,"))
        lines = r.stdout.split(b"\r\n")
        self.assertEqual(lines[-1], b"")
        self.assertEqual(len(lines), 1 + 5 + 1)
        self.assertNotIn(b"\n", b"".join(lines))
        r = run("--batch", MEETUP.path, "--excel")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--excel goes with --format csv", r.stderr)


class TextContract(unittest.TestCase):

    TABLE_RE = re.compile(r"^  Table (\d+)(?: \(score (-?\d+\.\d)\))?: (.*)$")

    def parse(self, text):
        """Returns {(round, table): [names]} and the tables' reasons: one
        line of names and at most one line of reason per table."""
        seating, whys = {}, []
        rnd = 0
        for line in text.splitlines():
            m = re.match(r"^Round (\d+)$", line)
            if m:
                rnd = int(m.group(1))
                continue
            m = self.TABLE_RE.match(line)
            if m:
                seating[(rnd, int(m.group(1)))] = m.group(3)
                continue
            if line.startswith("    why: "):
                whys.append(line[9:])
        return {k: v.split(", ") for k, v in seating.items()}, whys

    def check(self, ev):
        text = run_ok(ev).stdout.decode("utf-8")
        lines = text.splitlines()
        self.assertEqual(lines[0], ev.name)
        self.assertEqual(lines[1], "=" * len(ev.name))
        self.assertIn("Summary", lines)
        self.assertRegex(text, r"repeated encounters:\s+0 \(lower bound 0\)")
        self.assertRegex(text, r"attendees:\s+%d\n" % len(ev.names))
        seating, whys = self.parse(text)
        doc = json_schedule(ev)
        want = {(r["round"], t["table"]): [ev.names[a] for a in t["attendees"]]
                for r in doc["rounds"] for t in r["tables"]}
        self.assertEqual(seating, want)
        return whys

    def test_meetup(self):
        self.assertTrue(self.check(MEETUP))

    def test_rotation(self):
        self.assertEqual(self.check(ROTATION), [])
        # Names only: every score is 0, so none is printed.
        self.assertNotIn(b"(score", run_ok(ROTATION).stdout)


class Determinism(unittest.TestCase):

    def test_same_seed_same_output(self):
        for ev in (MEETUP, ROTATION):
            a = run("--batch", ev.path, "--format", "json", "--seed", "7",
                    *FIXED)
            b = run("--batch", ev.path, "--format", "json", "--seed", "7",
                    *FIXED)
            self.assertEqual(a.returncode, 0)
            self.assertEqual(a.stdout, b.stdout)

    def test_threads_share_the_work(self):
        # One thread and four run the same chains' count apart: both valid,
        # each deterministic.
        for threads in ("1", "4"):
            args = ("--format", "json", "--seed", "3", "--effort", "1",
                    "--threads", threads)
            a = run("--batch", MEETUP.path, *args)
            b = run("--batch", MEETUP.path, *args)
            self.assertEqual(a.returncode, 0)
            self.assertEqual(a.stdout, b.stdout)
            doc = json.loads(a.stdout)
            self.assertEqual(doc["summary"]["search"]["threads"], int(threads))
            self.assertEqual(doc["summary"]["repeat_pairs"], 0)

    def test_default_search_converges_or_stops_in_time(self):
        # Without --effort the time limit and convergence decide; the
        # schedule is valid either way.
        r = run("--batch", MEETUP.path, "--format", "json",
                "--time-limit", "0.5")
        self.assertEqual(r.returncode, 0)
        s = json.loads(r.stdout)["summary"]
        self.assertEqual(s["repeat_pairs"], 0)
        self.assertTrue(s["search"]["converged"] or
                        s["search"]["time_limit_hit"])

    def test_seed_option_overrides_file(self):
        # meetup.yaml says seed: 42; rotation.yaml has none, so 0.
        self.assertEqual(run_ok(MEETUP, "--seed", "42").stdout,
                         run_ok(MEETUP).stdout)
        self.assertEqual(run_ok(ROTATION, "--seed", "0").stdout,
                         run_ok(ROTATION).stdout)

    def test_other_seed_still_valid(self):
        doc = json_schedule(MEETUP, "--seed", "12345")
        self.assertEqual(doc["summary"]["repeat_pairs"], 0)
        again = json_schedule(MEETUP, "--seed", "12345")
        self.assertEqual(doc, again)

    def test_time_limit(self):
        r = run_ok(ROTATION, "--time-limit", "10", "--format", "csv")
        self.assertEqual(len(r.stdout.splitlines()),
                         1 + len(ROTATION.names) * ROTATION.rounds)

    def test_time_limit_bounds_the_first_pass(self):
        # 1,000 rounds make the greedy start alone take 16 s or more; the
        # limit must cut it and still print a complete, valid schedule.
        n, k, rounds = 500, 6, 1000
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "long.yaml"
            path.write_text("event:\n  rounds: %d\n  table_size: %d\n"
                            "attendees:\n" % (rounds, k) +
                            "".join("  - id: p%d\n" % i for i in range(n)),
                            encoding="utf-8")
            took = {}
            for limit in ("0.1", "2"):
                t0 = time.monotonic()
                r = run("--batch", path, "--format", "csv",
                        "--time-limit", limit)
                took[limit] = time.monotonic() - t0
                self.assertEqual(r.returncode, 0, r.stderr)
        print("\n  500 x 6 x 1,000 rounds: %.2f s at --time-limit 0.1, "
              "%.2f s at --time-limit 2" % (took["0.1"], took["2"]),
              file=sys.stderr)
        # 0.1 s measures what is not search (loading, bookkeeping, output)
        # on this build; generous bounds, as the machine may be busy and
        # a sanitizer makes everything about three times slower.
        slow = 3 if b"__asan_init" in Path(MINGLED).read_bytes() else 1
        self.assertLess(took["0.1"], 12 * slow)
        self.assertLess(took["2"], took["0.1"] + 2 + 3 * slow)
        rows = r.stdout.decode().splitlines()[1:]
        self.assertEqual(len(rows), n * rounds)
        seats = {}
        for row in rows:
            rnd, tab, aid, _ = row.split(",")
            seats.setdefault(int(rnd), {}).setdefault(int(tab), set()).add(aid)
        for rnd, tables in seats.items():
            self.assertEqual(set().union(*tables.values()),
                             {"p%d" % i for i in range(n)})
            self.assertEqual(sum(map(len, tables.values())), n)
            sizes = [len(t) for t in tables.values()]
            self.assertLessEqual(max(sizes) - min(sizes), 1)


def expect_bad(test, path, line=None, col=None, substring=None, args=()):
    """Runs mingled on a bad file: exit 2, nothing on stdout, and
    PATH:LINE:COL: on stderr."""
    r = run("--batch", path, *args)
    err = r.stderr.decode("utf-8", errors="replace")
    test.assertEqual(r.returncode, 2, "%s: %s" % (path, err))
    test.assertEqual(r.stdout, b"", "%s: stdout not empty" % path)
    if line is None:
        test.assertRegex(err, r"^%s:\d+:\d+: \S" % re.escape(str(path)))
    else:
        test.assertTrue(err.startswith("%s:%d:%d: " % (path, line, col)),
                        "%s: want %d:%d, got %r" % (path, line, col, err))
    if substring:
        test.assertIn(substring.lower(), err.lower())
    test.assertEqual(err.count("\n"), 1, "one line of error: %r" % err)


class BadInput(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text):
        p = Path(self.tmp.name) / name
        p.write_bytes(text.encode("utf-8"))
        return p

    def test_data_files(self):
        files = sorted(DATA.glob("bad_*.yaml"))
        if not files:
            self.skipTest("no tests/data/bad_*.yaml yet")
        for path in files:
            first = path.read_text(encoding="utf-8",
                                   errors="replace").splitlines()[0]
            m = re.match(r"#\s*expect:\s*(\d+):(\d+)\s+(.*\S)", first)
            self.assertIsNotNone(m, "%s: no '# expect:' line" % path)
            with self.subTest(path=path.name):
                expect_bad(self, path, int(m.group(1)), int(m.group(2)),
                           m.group(3))

    HEAD = ("event:\n  rounds: 2\n  table_size: 2\n"
            "attendees:\n  - id: a\n  - id: b\n")

    def test_inline(self):
        cases = {
            "unknown_key.yaml": (self.HEAD + "  - id: c\n    nmae: Carl\n", 8),
            "unknown_top.yaml": (self.HEAD + "atendees: []\n", 7),
            "dup_id.yaml": (self.HEAD + "  - id: a\n", 7),
            "bad_size.yaml": ("event:\n  rounds: 2\n  table_size: 1\n"
                              "attendees:\n  - id: a\n", 3),
            "unknown_pair.yaml": (self.HEAD + "avoid:\n  - [a, zed]\n", 8),
            "syntax.yaml": (self.HEAD + "  - id: [c\n", None),
            "no_rounds.yaml": ("event:\n  table_size: 2\n"
                               "attendees:\n  - id: a\n", None),
        }
        for name, (text, line) in cases.items():
            with self.subTest(name=name):
                path = self.write(name, text)
                r = run("--batch", path)
                err = r.stderr.decode("utf-8", errors="replace")
                self.assertEqual(r.returncode, 2, err)
                self.assertEqual(r.stdout, b"")
                m = re.match(r"^%s:(\d+):(\d+): \S" % re.escape(str(path)),
                             err)
                self.assertIsNotNone(m, err)
                if line is not None:
                    self.assertEqual(int(m.group(1)), line, err)

    def test_too_many_attendees(self):
        expect_bad(self, MEETUP.path, args=("--max-attendees", "10"))

    def test_missing_file(self):
        path = Path(self.tmp.name) / "nope.yaml"
        r = run("--batch", path)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, b"")
        self.assertIn(str(path), r.stderr.decode())

    def test_avoid_infeasible(self):
        path = self.write("avoid.yaml",
                          "event:\n  rounds: 1\n  table_size: 3\n"
                          "attendees:\n  - id: a\n  - id: b\n  - id: c\n"
                          "avoid:\n  - [a, b]\n")
        expect_bad(self, path, 9, 5, "the avoid pairs cannot all be kept "
                   "apart: 'a' and 'b' here")

    def test_fifo_refused(self):
        # Opening a FIFO that no one writes to would block for ever.
        path = Path(self.tmp.name) / "event.fifo"
        os.mkfifo(path)
        r = subprocess.run([MINGLED, "--batch", path], capture_output=True,
                           timeout=20, check=False)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, b"")
        self.assertEqual(r.stderr.decode(),
                         "%s: not a regular file\n" % path)

    def test_utf16_refused(self):
        expect_bad(self, DATA / "utf16_bom.yaml", 1, 1, "must be UTF-8")


class CommandLine(unittest.TestCase):

    def test_help(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"--batch", r.stdout)
        self.assertEqual(r.stderr, b"")

    def test_version(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.decode(), r"^mingled \d+\.\d+\.\d+\n$")

    def test_usage_errors(self):
        ev = str(MEETUP.path)
        for args in (["--bogus"], ["-x"], ["--batch"],
                     ["--batch", ev, "--format", "xml"],
                     ["--batch", ev, "--seed", "-1"],
                     ["--batch", ev, "--seed", "12abc"],
                     ["--batch", ev, "--time-limit", "0"],
                     ["--batch", ev, "--max-attendees", "0"],
                     ["--batch", ev, "--effort", "0"],
                     ["--batch", ev, "--effort", "x"],
                     ["--batch", ev, "--threads", "0"],
                     ["--batch", ev, "--threads", "9"],
                     ["--effort", "1"],
                     ["--batch", ev, "extra"],
                     ["--batch", ev, "--port", "0"],
                     ["--seed", "3"],
                     ["--history", "/nonexistent"],
                     ["--batch", ev, "--print-config"]):
            with self.subTest(args=args):
                r = run(*args)
                self.assertEqual(r.returncode, 2)
                self.assertEqual(r.stdout, b"")
                self.assertIn(b"usage: mingled", r.stderr)


def main():
    global MINGLED
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit("usage: test_batch.py PATH/TO/mingled")
    MINGLED = sys.argv[1]
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[2:])


if __name__ == "__main__":
    main()
