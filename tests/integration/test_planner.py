#!/usr/bin/env python3
"""test_planner.py -- live rounds planned in the background.

Usage: test_planner.py PATH/TO/mingled

Starts the real mingled on an ephemeral loopback port and checks what the
background planner promises:

  stall:    150 and 1,000 generated attendees (bench/gen_event.py) are
            checked in while a probe connection sends a cheap request
            (GetEvent) every ~2 ms; the event loop must never stay
            unresponsive for long while the planner works (the bound is
            generous, so that a loaded machine does not fail the test;
            the figures are printed), and NextRound afterwards seats
            everyone present without repeats;
  live:     60 people, 8 late arrivals and 3 early leavers over 4 rounds,
            the changes arriving between rounds one request at a time,
            a daemon restart in the middle: 0 repeated encounters, every
            round seats exactly the people present, and a preview equals
            the round NextRound then assigns when nothing changed between;
            then SIGHUP with a new plan_max_seconds;
  shutdown: SIGTERM while a 1,000-person plan is being computed stops the
            daemon promptly and cleanly;
  limits:   tables, attendees per event and per request past the README's
            limits are refused (BAD_REQUEST, RESOURCE_EXHAUSTED); 200
            pipelined GetStats on an event of 2,000 present stall a probe
            client no more than the bound above; once the event is
            closed, the planner thread still brings its rounds' quality.

Protobuf is written by hand with the helpers of test_server.py.
"""
import os
import random
import signal
import struct
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
import test_server as w  # noqa: E402
import gen_event  # noqa: E402

REQ_GET_EVENT, REQ_ADD_PAIRS, REQ_CHECK_OUT = 4, 11, 10
REQ_CLOSE_EVENT = 6
REQ_GET_SCHEDULE, REQ_PREVIEW = 13, 21
RESP_SCHEDULE, RESP_PREVIEW, RESP_ACK = 8, 14, 6
MET_BEFORE, AVOID = 1, 2
HISTORY_NONE = 1
WORKING = 3
PLAN_MAX_SECONDS = 5
PROBE_INTERVAL_S = 0.002
MAX_STALL_S = 0.100  # generous: the target is 10 ms on an idle machine
SANITIZER_SLOWDOWN = 3  # an ASan/UBSan build runs everything this much slower
BATCH = 500
BAD_REQUEST, RESOURCE_EXHAUSTED = 1, 8
LIMIT_TABLE = 50     # MEETUP_TABLE_SIZE_MAX
LIMIT_PEOPLE = 2000  # MEETUP_ATTENDEES_MAX (tables of 8 allow it)
LIMIT_AT_50 = 408    # meetup_attendees_max(50): 10,000 pairs a round
LIMIT_BATCH = 500    # DISPATCH_MAX_ATTENDEES_PER_REQUEST
BURST = 200


def as_double(raw):
    return struct.unpack("<d", raw)[0] if isinstance(raw, bytes) else 0.0


def sub(body, num):
    """The sub-message `num` of a message, b"" when absent."""
    for n, v in w.fields(body):
        if n == num:
            return v
    return b""


def value(body, num, default=0):
    for n, v in w.fields(body):
        if n == num:
            return v
    return default


class Daemon(w.Daemon):
    def write_config(self, extra=""):
        with open(self.config, "w") as f:
            f.write("log_level: debug\nplan_max_seconds: %d\n"
                    % PLAN_MAX_SECONDS)
            f.write(extra)

    def sanitizer_report(self):
        return super().sanitizer_report() or "ThreadSanitizer" in self.log()


class Org:
    """The organizer's connection: numbered requests, errors are failures."""

    def __init__(self, d):
        self.c = d.client()
        self.c.sock.settimeout(60)
        self.rid = 0

    def call(self, field, body, want=None):
        self.rid += 1
        self.c.send(w.request(self.rid, field, body))
        r = self.c.recv(timeout=60)
        w.check(r is not None, "no response to request %d" % field)
        w.check(r.id == self.rid, "response id %d for %d" % (r.id, self.rid))
        if r.kind == w.RESP_ERROR:
            raise w.Failure("request %d failed: code %d %s"
                            % (field, r.code, r.field(2)))
        w.check(want is None or r.kind == want,
                "request %d answered with %r" % (field, r.kind))
        return r

    def close(self):
        self.c.sock.close()


def attendee_msg(a):
    body = w.fb(1, a["id"]) + w.fb(2, a["name"])
    for key, num in (("company", 3), ("industry", 4)):
        if key in a:
            body += w.fb(num, a[key])
    for key, num in (("interests", 5), ("offers", 6), ("seeks", 7)):
        for tag in a.get(key, []):
            body += w.fb(num, tag)
    return w.fb(2, body)


def load_event(org, people, table_size, rounds, seed, met=0, avoid=0,
               fresh=False):
    """Creates an event of generated attendees; returns (id, ids, pairs).
    A `fresh` event ignores earlier events (history scope NONE)."""
    att, met_pairs, avoid_pairs = gen_event.generate(
        people, table_size, rounds, seed, met_before=met, avoid=avoid)
    r = org.call(w.REQ_CREATE_EVENT,
                 w.fb(1, "planner %d" % people) + w.fv(2, table_size) +
                 w.fv(3, rounds) + w.fv(5, seed) + w.fv(6, 1) +
                 (w.fb(7, w.fv(1, HISTORY_NONE)) if fresh else b""),
                 w.RESP_EVENT)
    event_id = r.field(1)
    for i in range(0, len(att), BATCH):
        org.call(w.REQ_UPSERT, w.fv(1, event_id) +
                 b"".join(attendee_msg(a) for a in att[i:i + BATCH]))
    ids = [a["id"] for a in att]
    for kind, pairs in ((MET_BEFORE, met_pairs), (AVOID, avoid_pairs)):
        if pairs:
            org.call(REQ_ADD_PAIRS, w.fv(1, event_id) + w.fv(2, kind) +
                     b"".join(w.fb(3, w.fb(1, ids[x]) + w.fb(2, ids[y]))
                              for x, y in pairs))
    named = lambda pairs: {frozenset((ids[x], ids[y])) for x, y in pairs}
    return event_id, ids, named(met_pairs), named(avoid_pairs)


def presence(org, field, event_id, ids):
    org.call(field, w.fv(1, event_id) + b"".join(w.fb(2, i) for i in ids))


def stats(org, event_id):
    return org.call(w.REQ_GET_STATS, w.fv(1, event_id), w.RESP_STATS).body


def plan_state(org, event_id):
    return value(sub(stats(org, event_id), 14), 1)


def wait_planner(org, event_id, timeout=PLAN_MAX_SECONDS + 30):
    """Seconds until the planner stopped working on the event."""
    t0 = time.monotonic()
    while plan_state(org, event_id) == WORKING:
        w.check(time.monotonic() - t0 < timeout,
                "planner still working after %d s" % timeout)
        time.sleep(0.05)
    return time.monotonic() - t0


def rounds_quality(org, event_id, timeout=PLAN_MAX_SECONDS + 30):
    """The quality of the rounds done, once known: while the planner works,
    it brings the figures with its first plan."""
    t0 = time.monotonic()
    while True:
        q = sub(stats(org, event_id), 12)
        if q or time.monotonic() - t0 > timeout:
            return q
        time.sleep(0.05)


def tables_of(round_body):
    """[(frozenset of ids)] of a RoundAssigned."""
    out = []
    for n, table in w.fields(round_body):
        if n == 3:
            out.append(frozenset(value(seat, 1) for sn, seat in
                                 w.fields(table) if sn == 2))
    return out


def check_round(round_body, here, number):
    tables = tables_of(round_body)
    seated = [i for t in tables for i in t]
    w.check(value(round_body, 2) == number,
            "round number %r, expected %d" % (value(round_body, 2), number))
    w.check(len(seated) == len(set(seated)), "someone seated twice")
    want = {i.encode() for i in here}
    w.check(set(seated) == want,
            "round %d seats %d people, %d present (missing %s, extra %s)"
            % (number, len(seated), len(want),
               sorted(want - set(seated))[:5], sorted(set(seated) - want)[:5]))
    return tables


def repeats(rounds, met):
    """Pairs seated together that had met: before, or in an earlier round."""
    seen = {frozenset(p) for p in (tuple(i.encode() for i in q) for q in met)}
    n = 0
    for tables in rounds:
        for t in tables:
            people = sorted(t)
            for i, a in enumerate(people):
                for b in people[i + 1:]:
                    pair = frozenset((a, b))
                    n += pair in seen
                    seen.add(pair)
    return n


def quality_line(q):
    if not q:
        return "none"
    return ("objective %.1f, bound share %.3f, business lift %.2f, "
            "conversation lift %.2f, lonely seats %d, empty-handed %d"
            % (as_double(value(q, 2)), as_double(value(q, 4)),
               as_double(value(q, 5)), as_double(value(q, 6)),
               value(q, 7), value(q, 8)))


class Probe(threading.Thread):
    """Sends a cheap request (GetEvent, or `request`: field and body) every
    ~2 ms on its own connection and records how long each answer took."""

    def __init__(self, d, event_id, request=None):
        super().__init__(daemon=True)
        self.c = d.client()
        self.c.sock.settimeout(10)
        self.request = request or (REQ_GET_EVENT, w.fv(1, event_id))
        self.stop = threading.Event()
        self.samples = []  # (perf_counter at send, seconds to answer)
        self.error = None

    def run(self):
        rid = 0
        try:
            while not self.stop.is_set():
                rid += 1
                t0 = time.perf_counter()
                self.c.send(w.request(rid, *self.request))
                r = self.c.recv(timeout=10)
                if r is None or r.id != rid:
                    raise w.Failure("probe lost its answer")
                dt = time.perf_counter() - t0
                self.samples.append((t0, dt))
                time.sleep(max(0.0, PROBE_INTERVAL_S - dt))
        except (OSError, w.Failure) as e:
            self.error = e

    def finish(self):
        self.stop.set()
        self.join(15)
        self.c.sock.close()
        if self.error is not None:
            raise w.Failure("probe: %s" % self.error)
        s = sorted(dt for _, dt in self.samples)
        w.check(s, "the probe got no answer")
        return s[-1], s[int(0.99 * (len(s) - 1))], len(s)


def stall_case(d, people, table_size, rounds):
    org = Org(d)
    event_id, ids, met, avoid = load_event(org, people, table_size, rounds,
                                           seed=people, met=people // 2,
                                           avoid=people // 20, fresh=True)
    probe = Probe(d, event_id)
    probe.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    presence(org, w.REQ_CHECK_IN, event_id, ids)
    waited = wait_planner(org, event_id)
    worst, p99, n = probe.finish()
    body = stats(org, event_id)
    plan = sub(body, 14)
    print("  %d present: planner busy %.1f s (%d epochs); probe: %d answers, "
          "max %.1f ms, p99 %.1f ms; plan: %s"
          % (people, time.monotonic() - t0, value(plan, 3), n, worst * 1e3,
             p99 * 1e3, quality_line(sub(body, 13))))
    w.check(worst < MAX_STALL_S, "the event loop stalled %.0f ms while "
            "planning %d people" % (worst * 1e3, people))
    w.check(value(plan, 4) == 1, "the plan in use is not the planner's")
    t1 = time.perf_counter()
    r = org.call(w.REQ_NEXT_ROUND, w.fv(1, event_id), w.RESP_ROUND)
    dt = time.perf_counter() - t1
    tables = check_round(r.body, ids, 1)
    w.check(repeats([tables], met) == 0, "repeated encounters in round 1")
    for t in tables:
        w.check(not any(p <= t for p in
                        (frozenset(i.encode() for i in q) for q in avoid)),
                "an avoid pair shares a table")
    print("  %d present: NextRound %.1f ms after %.1f s of planning"
          % (people, dt * 1e3, waited))
    org.close()
    return event_id, ids


def live_round(org, event_id, here, number, rounds, wait):
    """Calls round `number`; with `wait`, first lets the planner finish
    and checks that the preview is the round NextRound assigns."""
    preview = None
    if wait:
        wait_planner(org, event_id)
        r = org.call(REQ_PREVIEW, w.fv(1, event_id), RESP_PREVIEW)
        preview = check_round(sub(r.body, 1), here, number)
        w.check(value(sub(r.body, 2), 1) != WORKING,
                "the preview says the planner works")
    r = org.call(w.REQ_NEXT_ROUND, w.fv(1, event_id), w.RESP_ROUND)
    tables = check_round(r.body, here, number)
    if preview is not None:
        w.check(sorted(map(sorted, preview)) == sorted(map(sorted, tables)),
                "round %d differs from its preview" % number)
    rounds.append(tables)


def test_live(binary, work):
    """60 registered, 52 at the start; arrivals and leavers between the
    rounds, one request each; a restart after round 2."""
    rng = random.Random(60)
    d = Daemon(binary, work, "live")
    org = Org(d)
    event_id, ids, met, avoid = load_event(org, 60, 6, 4, seed=60, met=40,
                                           avoid=3)
    late = set(rng.sample(ids, 8))
    here = [i for i in ids if i not in late]
    presence(org, w.REQ_CHECK_IN, event_id, here)
    rounds = []
    changes = {2: (3, 1), 3: (3, 1), 4: (2, 1)}  # arrivals, leavers
    for number in range(1, 5):
        if number in changes:
            come, go = changes[number]
            for i in sorted(late)[:come]:
                presence(org, w.REQ_CHECK_IN, event_id, [i])
                late.discard(i)
                here.append(i)
            for i in rng.sample(sorted(here), go):
                presence(org, REQ_CHECK_OUT, event_id, [i])
                here.remove(i)
        # Round 3 is called at once: the plan made on the spot must hold.
        live_round(org, event_id, here, number, rounds, wait=number != 3)
        if number == 2:
            org.close()
            w.check(d.stop() == 0, "SIGTERM: bad exit status")
            d = Daemon(binary, work, "live")
            org = Org(d)
            w.check(plan_state(org, event_id) == WORKING or
                    value(sub(stats(org, event_id), 14), 2) > 0,
                    "no planning after the restart")
    w.check(not late, "late arrivals left over")
    q = rounds_quality(org, event_id)
    n = repeats(rounds, met)
    print("  live: 4 rounds, %d repeated encounters; rounds: %s"
          % (n, quality_line(q)))
    w.check(n == 0, "%d repeated encounters" % n)
    w.check(value(stats(org, event_id), 5) == 0,
            "the daemon counts repeated encounters")
    w.check(q, "no quality figures for the rounds")
    org.close()
    # SIGHUP: a new limit applies to the next jobs; off needs a restart.
    for limit, pattern in ((3, r"config reloaded"),
                           (0, r"turns background planning off; restart")):
        with open(d.config, "w") as f:
            f.write("log_level: debug\nplan_max_seconds: %d\n" % limit)
        d.proc.send_signal(signal.SIGHUP)
        w.check(d.wait_log(pattern), "SIGHUP with plan_max_seconds %d" % limit)
    return d


def test_shutdown(d, event_id, ids):
    """SIGTERM while the planner works on 1,000 people."""
    org = Org(d)
    presence(org, REQ_CHECK_OUT, event_id, ids[:5])
    w.check(plan_state(org, event_id) == WORKING, "the planner is not working")
    t0 = time.monotonic()
    rc = d.stop()
    dt = time.monotonic() - t0
    print("  SIGTERM while planning 1,000: exit %d after %.2f s" % (rc, dt))
    w.check(rc == 0, "SIGTERM: exit status %d" % rc)
    w.check(dt < 5, "SIGTERM took %.1f s" % dt)
    w.check(d.wait_log(r"stopped$", 2), "no 'stopped' line")


def expect_code(org, field, body, code, what):
    org.rid += 1
    org.c.send(w.request(org.rid, field, body))
    r = org.c.recv(timeout=60)
    w.check(r is not None and r.kind == w.RESP_ERROR and r.code == code,
            "%s: expected error %d, got %r %r"
            % (what, code, r and r.kind, r and r.code))


def create_body(name, table_size, rounds):
    return (w.fb(1, name) + w.fv(2, table_size) + w.fv(3, rounds) +
            w.fv(5, 1) + w.fv(6, 1) + w.fb(7, w.fv(1, HISTORY_NONE)))


def test_limits(binary, work):
    """The documented limits over the wire, then the issue's burst: 200
    pipelined GetStats on an event at the attendee limit must not stall
    another client (they once scored every table of every round each)."""
    d = Daemon(binary, work, "limits")
    org = Org(d)
    r = org.call(w.REQ_HELLO, w.hello(), w.RESP_HELLO)
    w.check(value(r.body, 4) == LIMIT_BATCH,
            "HelloReply says %d attendees per request" % value(r.body, 4))
    expect_code(org, w.REQ_CREATE_EVENT,
                create_body("wide", LIMIT_TABLE + 1, 2), BAD_REQUEST,
                "a table of %d" % (LIMIT_TABLE + 1))
    wide = org.call(w.REQ_CREATE_EVENT, create_body("wide", LIMIT_TABLE, 2),
                    w.RESP_EVENT).field(1)
    att, _, _ = gen_event.generate(LIMIT_PEOPLE, 8, 2, 7)
    msgs = [attendee_msg(a) for a in att]
    org.call(w.REQ_UPSERT, w.fv(1, wide) + b"".join(msgs[:LIMIT_AT_50]))
    expect_code(org, w.REQ_UPSERT, w.fv(1, wide) + msgs[LIMIT_AT_50],
                RESOURCE_EXHAUSTED, "attendee %d at tables of %d"
                % (LIMIT_AT_50 + 1, LIMIT_TABLE))
    expect_code(org, w.REQ_UPSERT,
                w.fv(1, wide) + b"".join(msgs[:LIMIT_BATCH + 1]),
                RESOURCE_EXHAUSTED, "%d attendees in one request"
                % (LIMIT_BATCH + 1))
    event_id, ids, _, _ = load_event(org, LIMIT_PEOPLE, 8, 4, seed=7,
                                     fresh=True)
    expect_code(org, w.REQ_UPSERT, w.fv(1, event_id) + attendee_msg(
        {"id": "one-too-many", "name": "x"}), RESOURCE_EXHAUSTED,
        "attendee %d" % (LIMIT_PEOPLE + 1))
    presence(org, w.REQ_CHECK_IN, event_id, ids)
    org.call(w.REQ_NEXT_ROUND, w.fv(1, event_id), w.RESP_ROUND)
    probe = Probe(d, event_id)
    probe.start()
    time.sleep(0.1)
    burst = b"".join(w.request(1000 + i, w.REQ_GET_STATS, w.fv(1, event_id))
                     for i in range(BURST))
    t0 = time.perf_counter()
    org.c.send(burst)
    for i in range(BURST):
        r = org.c.recv(timeout=60)
        w.check(r is not None and r.kind == w.RESP_STATS,
                "GetStats %d of the burst: %r" % (i, r and r.kind))
    dt = time.perf_counter() - t0
    time.sleep(0.1)
    worst, p99, n = probe.finish()
    print("  %d pipelined GetStats, %d present: %.1f ms; probe: %d answers, "
          "max %.1f ms, p99 %.1f ms" % (BURST, LIMIT_PEOPLE, dt * 1e3, n,
                                       worst * 1e3, p99 * 1e3))
    w.check(worst < MAX_STALL_S, "%d pipelined GetStats stalled another "
            "client %.0f ms" % (BURST, worst * 1e3))
    # A profile change makes the rounds' figures unknown, and the event
    # closes before the planner could bring them (pipelined): with nothing
    # left to plan, the planner thread still computes them.
    org.c.send(w.request(2001, w.REQ_UPSERT, w.fv(1, event_id) +
                         attendee_msg({"id": ids[0], "name": "renamed"})) +
               w.request(2002, REQ_CLOSE_EVENT, w.fv(1, event_id)))
    for rid, kind in ((2001, RESP_ACK), (2002, w.RESP_EVENT)):
        r = org.c.recv(timeout=60)
        w.check(r is not None and r.id == rid and r.kind == kind,
                "upsert and close: %r" % (r and r.kind))
    q = rounds_quality(org, event_id)
    w.check(value(q, 1) == LIMIT_PEOPLE,
            "closed event: rounds quality %r" % quality_line(q))
    org.close()
    return d


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: test_planner.py PATH/TO/mingled\n")
        return 2
    binary = sys.argv[1]
    global MAX_STALL_S
    with open(binary, "rb") as f:
        if b"__asan_init" in f.read():
            MAX_STALL_S *= SANITIZER_SLOWDOWN
    failures = 0
    with tempfile.TemporaryDirectory(prefix="mingle-plan-") as work:
        for name in ("stall", "live", "limits"):
            d = None
            t0 = time.monotonic()
            try:
                if name == "stall":
                    d = Daemon(binary, work, name)
                    stall_case(d, 150, 8, 6)
                    event_id, ids = stall_case(d, 1000, 8, 8)
                    test_shutdown(d, event_id, ids)
                elif name == "live":
                    d = test_live(binary, work)
                    w.check(d.stop() == 0, "SIGTERM: bad exit status")
                else:
                    d = test_limits(binary, work)
                    w.check(d.stop() == 0, "SIGTERM: bad exit status")
                print("ok   %s (%.1f s)" % (name, time.monotonic() - t0))
            except (w.Failure, OSError) as e:
                failures += 1
                print("FAIL %s: %s" % (name, e))
            finally:
                if d is not None:
                    d.kill()
                    d.reader.join(5)
            if d is not None and d.sanitizer_report():
                failures += 1
                print("FAIL %s: sanitizer report in the daemon log" % name)
            if failures and d is not None:
                print("--- daemon log (%s) ---\n%s" % (name, d.log()[-20000:]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
