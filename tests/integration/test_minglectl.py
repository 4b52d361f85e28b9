#!/usr/bin/env python3
"""A full live meetup driven through minglectl against the real mingled.

Usage: test_minglectl.py MINGLED MINGLECTL

Starts mingled on an ephemeral loopback port, creates an event from an
event file with 60 attendees, checks in 50, and runs three rounds with a
late arrival and an early leaver in between, while `minglectl watch`
follows along.  Checks, from `schedule --format json`: everyone present
is seated exactly once per round, tables are balanced, nobody meets
anyone twice.  Then the exit statuses of the error paths, the export
round trip, and a clean exit on SIGTERM.

A second daemon covers history across events: eight people meet over
three rounds, then `--history none` ignores those encounters while the
default scope counts them as repeats; `history export` in both formats;
`attendee forget` (refused without --yes) removes the person everywhere
and leaves a token in the history, also after a restart.

A third daemon requires an auth token: minglectl takes it from
MINGLE_TOKEN or --token-file quietly, and from --token with a warning
that other users can see it in the process list.
"""
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

TABLE_SIZE = 5
ROUNDS = 3
INTERESTS = ["Fußball", "Jazz", "Segeln", "Golf", "Kochen", "Wein",
             "Laufen", "Schach", "Oper", "Fotografie"]
SKILLS = ["Webdesign", "Steuerberatung", "Social-Media", "Recht",
          "Vertrieb", "Logistik"]
TIMEOUT_S = 60
# UBSan may only print and carry on: its reports fail the test too.
SANITIZER = re.compile(r"runtime error:|Sanitizer")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def event_file(path, n):
    lines = ["event:",
             '  name: "Integration Meetup"',
             "  rounds: %d" % ROUNDS,
             "  table_size: %d" % TABLE_SIZE,
             "  seed: 7",
             "attendees:"]
    for i in range(1, n + 1):
        lines += ['  - id: "a%02d"' % i,
                  '    name: "Attendee %d"' % i,
                  '    company: "Firma %d"' % (i % 12),
                  "    interests: [%s, %s]" % (INTERESTS[i % 10],
                                                INTERESTS[(i * 3) % 10]),
                  "    offers: [%s]" % SKILLS[i % 6],
                  "    seeks: [%s]" % SKILLS[(i + 2) % 6]]
    lines += ["met_before:", '  - ["a01", "a02"]',
              "avoid:", '  - ["a03", "a04"]']
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


class Daemon:
    def __init__(self, mingled, data_dir, extra=()):
        self.proc = subprocess.Popen(
            [mingled, "--port", "0", "--listen", "127.0.0.1",
             "--data-dir", data_dir] + list(extra),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        self.port = None
        self.log = []
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log.append(line)
            m = re.search(r"listening on \[?[0-9a-fA-F.:]+\]?:(\d+)", line)
            if m:
                self.port = m.group(1)
                break
        if self.port is None:
            self.stop()
            fail("mingled did not report its port:\n" + "".join(self.log))
        # Keep draining the log, or a chatty daemon blocks on a full pipe.
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class Ctl:
    def __init__(self, minglectl, port):
        self.argv = [minglectl, "--host", "127.0.0.1", "--port", port,
                     "--timeout", "30"]

    def run(self, *args, expect=0, env=None):
        p = subprocess.run(self.argv + list(args), capture_output=True,
                           text=True, timeout=TIMEOUT_S, env=env)
        if SANITIZER.search(p.stderr):
            fail("minglectl %s: sanitizer report\n%s"
                 % (" ".join(args), p.stderr))
        if expect is not None and p.returncode != expect:
            fail("minglectl %s: exit %d, expected %d\nstdout: %s\nstderr: %s"
                 % (" ".join(args), p.returncode, expect, p.stdout,
                    p.stderr))
        return p


def check_schedule(sched, present_by_round):
    rounds = sched["rounds"]
    if len(rounds) != len(present_by_round):
        fail("expected %d rounds, got %d" % (len(present_by_round),
                                             len(rounds)))
    met = set()
    for r, present in zip(rounds, present_by_round):
        seated = [a for t in r["tables"] for a in t["attendees"]]
        if sorted(seated) != sorted(present):
            fail("round %d seats %s, present %s"
                 % (r["round"], sorted(seated), sorted(present)))
        sizes = [len(t["attendees"]) for t in r["tables"]]
        if len(sizes) != math.ceil(len(present) / TABLE_SIZE):
            fail("round %d has %d tables for %d present"
                 % (r["round"], len(sizes), len(present)))
        if max(sizes) - min(sizes) > 1:
            fail("round %d tables unbalanced: %s" % (r["round"], sizes))
        for t in r["tables"]:
            people = sorted(t["attendees"])
            if "a03" in people and "a04" in people:
                fail("avoid pair a03/a04 seated together")
            for i, a in enumerate(people):
                for b in people[i + 1:]:
                    if (a, b) in met or (a, b) == ("a01", "a02"):
                        fail("%s and %s meet twice (round %d)"
                             % (a, b, r["round"]))
                    met.add((a, b))
    if sched["summary"]["repeat_pairs"] != 0:
        fail("summary reports repeats: %s" % sched["summary"])


def check_stopped(daemon, rc):
    """After Daemon.stop(): a clean exit and a log free of sanitizer
    reports."""
    if rc != 0:
        fail("mingled exited %d on SIGTERM" % rc)
    daemon.drain.join(TIMEOUT_S)
    if SANITIZER.search("".join(daemon.log)):
        fail("mingled sanitizer report:\n" + "".join(daemon.log))


def small_event_file(path, n):
    lines = ["event:", '  name: "Small"', "  rounds: 3", "  table_size: 4",
             "  seed: 11", "attendees:"]
    lines += ['  - id: "p%d"' % i for i in range(1, n + 1)]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def table_pairs(rnd):
    pairs = set()
    for t in rnd["tables"]:
        people = sorted(t["attendees"])
        for i, a in enumerate(people):
            for b in people[i + 1:]:
                pairs.add((a, b))
    return pairs


def history(ctl):
    """The history as JSON, checked against the CSV of the same rows."""
    rows = json.loads(ctl.run("history", "export", "--format",
                              "json").stdout)
    csv = ctl.run("history", "export").stdout.splitlines()
    if csv[0] != "seq,a,b,event_id,round,at_unix" or \
            len(csv) != 1 + len(rows):
        fail("history csv has %d lines for %d json rows"
             % (len(csv), len(rows)))
    for row, line in zip(rows, csv[1:]):
        if sorted(row) != ["a", "at", "b", "event", "round", "seq"]:
            fail("history json row: %s" % row)
        if line != "%d,%s,%s,%d,%d,%d" % (row["seq"], row["a"], row["b"],
                                          row["event"], row["round"],
                                          row["at"]):
            fail("history csv %r differs from json %s" % (line, row))
    if [r["seq"] for r in rows] != sorted({r["seq"] for r in rows}):
        fail("history seq not increasing")
    after = ctl.run("history", "export", "--format", "json", "--after",
                    str(rows[0]["seq"])).stdout
    if json.loads(after) != rows[1:]:
        fail("history export --after skips wrongly")
    return rows


def exported_ids(ctl, ev):
    out = ctl.run("attendees", "export", "--event", ev).stdout
    return set(re.findall(r'^  - id: "([^"]*)"$', out, re.M))


def batch_history(mingled, path, data, met):
    """mingled --batch --history DATA_DIR reads the running daemon's store:
    every seated pair that met there, or earlier in the batch schedule,
    is a repeat, and the summary says exactly that many."""
    p = subprocess.run([mingled, "--batch", path, "--history", data,
                        "--format", "json"], capture_output=True, text=True,
                       timeout=60)
    if p.returncode != 0:
        fail("batch --history: exit %d: %s" % (p.returncode, p.stderr))
    out = json.loads(p.stdout)
    seen, repeats = set(met), 0
    for r in out["rounds"]:
        pairs = table_pairs(r)
        repeats += len(pairs & seen)
        seen |= pairs
    if out["summary"]["repeat_pairs"] != repeats:
        fail("batch --history counts %d repeats, the schedule has %d"
             % (out["summary"]["repeat_pairs"], repeats))
    if repeats == 0:
        fail("batch --history: the test setup should force repeats")


def history_and_forget(mingled, minglectl, tmp):
    path = os.path.join(tmp, "small.yaml")
    small_event_file(path, 8)
    data = os.path.join(tmp, "data-history")
    daemon = Daemon(mingled, data)
    try:
        ctl = Ctl(minglectl, daemon.port)
        ev1 = ctl.run("event", "create", path).stdout.strip()
        ctl.run("checkin", "--all", "--event", ev1)
        for _ in range(3):
            ctl.run("round", "next", "--event", ev1)
        met = set()
        for r in json.loads(ctl.run("schedule", "--event", ev1, "--format",
                                    "json").stdout)["rounds"]:
            met |= table_pairs(r)
        batch_history(mingled, path, data, met)

        for bad in ("some", "last:0", "last:x", "since:2026-02-30",
                    "since:26-01-01"):
            p = ctl.run("event", "create", path, "--history", bad, expect=2)
            if "bad --history" not in p.stderr:
                fail("--history %s: %s" % (bad, p.stderr))
        scopes = {"none": "history:     none",
                  "": "history:     all",
                  "last:2": "history:     last:2",
                  "since:2026-01-01": "history:     since:2026-01-01"}
        evs = {}
        # Both forms of event create take --history: last:2 goes with the
        # options, the others with the file.
        for scope, shown in scopes.items():
            args = ["--history", scope] if scope else []
            if scope.startswith("last"):
                args += ["--name", "Scoped", "--table-size", "4",
                         "--rounds", "1"]
            else:
                args.insert(0, path)
            evs[scope] = ctl.run("event", "create", *args).stdout.strip()
            if shown not in ctl.run("event", "show", evs[scope]).stdout:
                fail("event show lacks %r" % shown)

        # Round 1 of a new event: with the default scope every pair that
        # met at event 1 is a repeat, with none not one is.
        for scope in ("", "none"):
            ev = evs[scope]
            ctl.run("checkin", "--all", "--event", ev)
            r = json.loads(ctl.run("round", "next", "--event", ev,
                                   "--format", "json").stdout)
            seated = table_pairs(r["rounds"][0])
            again = len(seated & met)
            want = again if scope == "" else 0
            if r["summary"]["repeat_pairs"] != want:
                fail("history %r: %d repeat pairs, expected %d (%d met at "
                     "event 1)" % (scope or "all", r["summary"]
                                   ["repeat_pairs"], want, again))
            if again == 0:
                fail("8 people in 2 tables cannot avoid event 1's pairs")
        a, b = sorted(met)[0]
        if "met before:       yes" not in ctl.run(
                "explain", a, b, "--event", evs[""]).stdout or \
                "met before:       no" not in ctl.run(
                    "explain", a, b, "--event", evs["none"]).stdout:
            fail("explain %s %s disagrees with the history scopes" % (a, b))

        rows = history(ctl)
        p = ctl.run("attendee", "forget", "p1", expect=2)
        if "--yes" not in p.stderr or "p1" not in exported_ids(ctl, ev1):
            fail("forget without --yes: %s" % p.stderr)
        holders = sum("p1" in exported_ids(ctl, ev)
                      for ev in [ev1] + list(evs.values()))
        out = ctl.run("attendee", "forget", "p1", "--yes").stdout
        if not out.startswith("forgot p1: profile deleted from %d events,"
                              % holders):
            fail("forget printed %r; p1 had a profile in %d events"
                 % (out, holders))
        ctl.run("attendee", "forget", "p1", "--yes", expect=1)
        ids = ["p%d" % i for i in range(1, 9)]
        for ev in [ev1] + list(evs.values()):
            if "p1" in exported_ids(ctl, ev):
                fail("p1 still in event %s after forget" % ev)
        after = history(ctl)
        tokens = set()
        for old, new in zip(rows, after):
            for side in ("a", "b"):
                if old[side] == "p1":
                    tokens.add(new[side])
                elif old[side] != new[side]:
                    fail("forget changed %s into %s" % (old, new))
        if len(after) != len(rows) or len(tokens) != 1 or \
                tokens & set(ids):
            fail("forgotten history: tokens %s" % tokens)
    finally:
        rc = daemon.stop()
    check_stopped(daemon, rc)

    daemon = Daemon(mingled, data)
    try:
        ctl = Ctl(minglectl, daemon.port)
        if history(ctl) != after:
            fail("history after restart differs")
        for ev in [ev1] + list(evs.values()):
            if "p1" in exported_ids(ctl, ev):
                fail("p1 back in event %s after restart" % ev)
        if exported_ids(ctl, ev1) != set(ids[1:]):
            fail("event 1 after restart: %s" % exported_ids(ctl, ev1))
    finally:
        rc = daemon.stop()
    check_stopped(daemon, rc)


def token_sources(mingled, minglectl, tmp):
    token = "ctl-test-token-0123456789"
    config = os.path.join(tmp, "token.yaml")
    with open(config, "w") as f:
        f.write("auth_token: %s\n" % token)
    token_file = os.path.join(tmp, "token.txt")
    with open(token_file, "w") as f:
        f.write(token + "\n")
    wrong_file = os.path.join(tmp, "wrong.txt")
    with open(wrong_file, "w") as f:
        f.write("not-" + token)
    daemon = Daemon(mingled, os.path.join(tmp, "data-token"),
                    ["--config", config])
    try:
        ctl = Ctl(minglectl, daemon.port)
        env = {k: v for k, v in os.environ.items() if k != "MINGLE_TOKEN"}
        warning = "visible to other users"
        p = ctl.run("stats", "--server", expect=1, env=env)
        if "UNAUTHENTICATED" not in p.stderr:
            fail("no token: %s" % p.stderr)
        p = ctl.run("stats", "--server",
                    env=dict(env, MINGLE_TOKEN=token))
        if warning in p.stderr:
            fail("MINGLE_TOKEN warned: %s" % p.stderr)
        p = ctl.run("--token-file", token_file, "stats", "--server", env=env)
        if warning in p.stderr:
            fail("--token-file warned: %s" % p.stderr)
        p = ctl.run("stats", "--server", "--token", token, env=env)
        if warning not in p.stderr:
            fail("--token did not warn: %r" % p.stderr)
        # The file wins over the environment, as any option does.
        ctl.run("--token-file", wrong_file, "stats", "--server", expect=1,
                env=dict(env, MINGLE_TOKEN=token))
        p = ctl.run("--token-file", os.path.join(tmp, "missing"), "stats",
                    expect=2, env=env)
        if "--token-file" not in p.stderr:
            fail("missing token file: %s" % p.stderr)
        ctl.run("--token", token, "--token-file", token_file, "stats",
                expect=2, env=env)
    finally:
        rc = daemon.stop()
    check_stopped(daemon, rc)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    mingled, minglectl = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="mingle-it-") as tmp:
        path = os.path.join(tmp, "meetup.yaml")
        event_file(path, 60)
        daemon = Daemon(mingled, os.path.join(tmp, "data"))
        watcher = None
        try:
            ctl = Ctl(minglectl, daemon.port)
            ev = ctl.run("event", "create", path).stdout.strip()
            if not ev.isdigit():
                fail("event create printed %r" % ev)
            show = ctl.run("event", "show", "--event", ev).stdout
            if "attendees:   60" not in show:
                fail("event show: %s" % show)

            watcher = subprocess.Popen(
                ctl.argv + ["watch", "--event", ev], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
            # The watcher announces its subscription on stderr.
            if "watching event" not in watcher.stderr.readline():
                fail("watch did not subscribe")

            ids = ["a%02d" % i for i in range(1, 61)]
            present = ids[:50]
            out = ctl.run("checkin", *present).stdout
            if "50 present" not in out:
                fail("checkin: %s" % out)
            by_round = []
            first = ctl.run("round", "next", "--format", "json").stdout
            if json.loads(first)["rounds"][0]["round"] != 1:
                fail("round next json: %s" % first)
            by_round.append(list(present))

            # A late arrival and an early leaver before round 2.
            ctl.run("checkin", "a51")
            ctl.run("checkout", "a10")
            present = [a for a in present if a != "a10"] + ["a51"]
            text = ctl.run("round", "next").stdout
            if not text.startswith("Round 2"):
                fail("round next text: %s" % text)
            by_round.append(list(present))
            ctl.run("round", "next", "--event", ev)
            by_round.append(list(present))

            sched = json.loads(ctl.run("schedule", "--format", "json").stdout)
            check_schedule(sched, by_round)
            csv = ctl.run("schedule", "--format", "csv").stdout.splitlines()
            if csv[0] != "round,table,attendee_id,name" or \
                    len(csv) != 1 + 3 * 50:
                fail("schedule csv has %d lines" % len(csv))
            if json.loads(ctl.run("event", "export").stdout) != sched:
                fail("event export differs from schedule --format json")

            # A preview assigns nothing; it says what the planner does.
            text = ctl.run("round", "preview").stdout
            if not text.startswith("Preview, not assigned (planner ") or \
                    "\nRound 4 " not in text:
                fail("round preview: %s" % text)
            p = ctl.run("round", "preview", "--format", "json")
            if json.loads(p.stdout)["rounds"][0]["round"] != 4 or \
                    not p.stderr.startswith("Preview, not assigned"):
                fail("round preview json: %s %s" % (p.stdout, p.stderr))
            if "rounds done:        3" not in ctl.run("stats").stdout:
                fail("the preview assigned a round")

            ctl.run("explain", "a01", "a05")
            if "\nplan:               planner " not in ctl.run("stats").stdout:
                fail("stats lacks the plan")
            ctl.run("stats", "--server")
            if ev not in ctl.run("event", "list").stdout:
                fail("event list lacks the event")

            # The export loads back as a new event with the same people.
            exported = os.path.join(tmp, "export.yaml")
            with open(exported, "w", encoding="utf-8") as f:
                f.write(ctl.run("attendees", "export").stdout)
            ev2 = ctl.run("event", "create", exported).stdout.strip()
            if "attendees:   60" not in \
                    ctl.run("event", "show", ev2).stdout:
                fail("re-imported event lacks attendees")
            ctl.run("checkin", "--all", "--event", ev2)

            # Error paths and their exit statuses.
            p = ctl.run("round", "next", "--event", "999999", expect=1)
            if "server error NOT_FOUND" not in p.stderr:
                fail("unknown event: %s" % p.stderr)
            ctl.run("checkin", "nobody", "--event", ev, expect=1)
            ctl.run("round", "next", "--bogus", expect=2)
            ctl.run("frobnicate", expect=2)
            ctl.run("event", "create", os.path.join(tmp, "missing.yaml"),
                    expect=2)
            if ctl.run("checkin", "--help").stdout.find("usage:") < 0:
                fail("checkin --help")
            closed = Ctl(minglectl, free_port())
            closed.run("stats", expect=3)

            watcher.send_signal(signal.SIGINT)
            wout, werr = watcher.communicate(timeout=TIMEOUT_S)
            if SANITIZER.search(werr):
                fail("minglectl watch: sanitizer report\n" + werr)
            for r in (1, 2, 3):
                if ("Round %d" % r) not in wout:
                    fail("watch missed round %d:\n%s" % (r, wout))
            watcher = None
        finally:
            if watcher is not None:
                watcher.kill()
                watcher.wait()
            rc = daemon.stop()
        check_stopped(daemon, rc)
        history_and_forget(mingled, minglectl, tmp)
        token_sources(mingled, minglectl, tmp)
    print("ok: full meetup, 3 rounds, no repeats, balanced tables; "
          "history scopes, history export, forget across a restart; "
          "token from MINGLE_TOKEN, --token-file, --token (warned)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
