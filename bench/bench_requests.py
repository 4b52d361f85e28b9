#!/usr/bin/env python3
"""bench_requests.py -- what every request costs the event loop.

Usage: bench_requests.py PATH/TO/mingled [--people 2000] [--table-size 8]
                         [--rounds 8] [--pipeline 200] [--plan-max-seconds 5]

Starts mingled on an ephemeral loopback port with a throw-away data
directory, loads one event of PEOPLE generated attendees (bench/gen_event.py,
met_before and avoid pairs) at tables of TABLE_SIZE, and assigns ROUNDS-1
rounds.  Then, for each request type, it sends one request and times the
answer, and sends a pipelined burst on one connection (PIPELINE requests
for the cheap ones, fewer for those that each write a round or a batch)
and times the whole burst.  A probe connection sends GetEvent every ~2 ms
throughout; a request's stall is the slowest probe answer that overlapped
it: how long the event loop kept everyone else waiting.

Run it at the documented limits (README, "Limits") to check that no
request holds the loop for more than a few milliseconds, and above them
on an older build to see why they exist.  Use a release build; a shared
2-core machine is noisy, so compare figures within one run.
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import bench_planner as bp  # noqa: E402
import test_planner as tp  # noqa: E402
import test_server as w  # noqa: E402

REQ_CREATE, REQ_UPSERT, REQ_CHECK_IN, REQ_CHECK_OUT = 3, 7, 9, 10
REQ_ADD_PAIRS, REQ_NEXT_ROUND, REQ_SCHEDULE, REQ_EXPLAIN = 11, 12, 13, 14
REQ_STATS, REQ_SUBSCRIBE, REQ_LIST_ATTENDEES = 15, 16, 18
REQ_FORGET, REQ_HISTORY, REQ_PREVIEW = 19, 20, 21
HISTORY_NONE = 1
MAX_BATCH = 500  # DISPATCH_MAX_ATTENDEES_PER_REQUEST
HEAVY_BURST = 10  # requests that write a round or a full batch
EXPORT_LIMIT = 10000
PROBE_SETTLE_S = 0.05
PROBE_TIMEOUT_S = 600


class Daemon(bp.Daemon):
    def write_config(self, extra=""):
        with open(self.config, "w") as f:
            f.write("log_level: info\nmax_frame_bytes: 67108864\n"
                    "output_cap_bytes: 1073741824\nplan_max_seconds: %d\n"
                    % self.plan_max_seconds)


class Probe(tp.Probe):
    """test_planner's probe, patient: a burst here may hold the loop for
    longer than its 10 s."""

    def run(self):
        rid = 0
        try:
            while not self.stop.is_set():
                rid += 1
                t0 = time.perf_counter()
                self.c.send(w.request(rid, *self.request))
                r = self.c.recv(timeout=PROBE_TIMEOUT_S)
                if r is None or r.id != rid:
                    raise w.Failure("probe lost its answer")
                dt = time.perf_counter() - t0
                self.samples.append((t0, dt))
                time.sleep(max(0.0, tp.PROBE_INTERVAL_S - dt))
        except (OSError, w.Failure) as e:
            self.error = e


class Bench:
    def __init__(self, d, probe):
        self.d = d
        self.probe = probe
        self.conn = d.client()
        self.conn.sock.settimeout(600)
        self.rid = 0
        self.rows = []

    def burst(self, reqs):
        """Sends `reqs` [(field, body)] at once; returns (seconds, errors)."""
        first = self.rid + 1
        data = b""
        for field, body in reqs:
            self.rid += 1
            data += w.request(self.rid, field, body)
        t0 = time.perf_counter()
        self.conn.send(data)
        errors = []
        for rid in range(first, self.rid + 1):
            r = self.conn.recv(timeout=600)
            w.check(r is not None, "no answer to request %d" % rid)
            if r.kind == w.RESP_ERROR:
                errors.append("%d %s" % (r.code, r.field(2).decode()))
        dt = time.perf_counter() - t0
        # The probe's answer in flight when the burst ended counts too.
        time.sleep(PROBE_SETTLE_S)
        return dt, t0, errors

    def stall(self, t0, t1):
        """The slowest probe answer that overlapped [t0, t1]."""
        return max((dt for s, dt in list(self.probe.samples)
                    if s < t1 and s + dt > t0), default=0.0)

    def measure(self, name, make, count):
        """One request, then `count` pipelined; `make(i)` gives the i-th."""
        one, t0, errs = self.burst([make(0)])
        s_one = self.stall(t0, t0 + one)
        many, t1, errs2 = (self.burst([make(i + 1) for i in range(count)])
                           if count > 1 else (0.0, t0, []))
        s_many = self.stall(t1, t1 + many) if count > 1 else 0.0
        err = (errs + errs2)[:1]
        self.rows.append((name, one, s_one, count, many, s_many,
                          err[0] if err else ""))
        print("  %-28s %9.1f %9.1f %5d %10.1f %9.1f %s"
              % (name, one * 1e3, s_one * 1e3, count, many * 1e3,
                 s_many * 1e3, err[0][:60] if err else ""))
        sys.stdout.flush()

    def call(self, field, body):
        dt, _, errs = self.burst([(field, body)])
        w.check(not errs, "request %d failed: %s" % (field, errs))
        return dt

    def wait_planner(self, event_id):
        org = tp.Org(self.d)
        tp.wait_planner(org, event_id, timeout=120)
        org.close()


def create_body(name, table_size, rounds):
    return (w.fb(1, name) + w.fv(2, table_size) + w.fv(3, rounds) +
            w.fv(5, 1) + w.fv(6, 1) + w.fb(7, w.fv(1, HISTORY_NONE)))


def event_of(org, name, table_size, rounds):
    return org.call(REQ_CREATE, create_body(name, table_size, rounds),
                    w.RESP_EVENT).field(1)


def run(d, args):
    probe = Probe(d, 0, (bp.REQ_LIST_EVENTS, b""))
    probe.start()
    b = Bench(d, probe)
    org = tp.Org(d)
    n, ts, pipe = args.people, args.table_size, args.pipeline
    att, met, avoid = bp.gen_event.generate(n, 8, args.rounds, n,
                                            met_before=n // 2,
                                            avoid=n // 20)
    ids = [a["id"] for a in att]
    batch = [tp.attendee_msg(a) for a in att[:MAX_BATCH]]
    print("%d people at tables of %d, %d rounds; times and stalls in ms"
          % (n, ts, args.rounds))
    print("  %-28s %9s %9s %5s %10s %9s" % ("request", "one", "stall",
                                            "burst", "burst", "stall"))
    b.measure("CreateEvent", lambda i: (REQ_CREATE, create_body(
        "bench %d" % i, ts, args.rounds)), pipe)
    # Upserts go to events of their own so that the main event's people
    # stay what the other cases expect; each batch replaces the last.
    spare = event_of(org, "upserts", ts, args.rounds)
    b.measure("UpsertAttendees x%d" % len(batch), lambda i: (
        REQ_UPSERT, w.fv(1, spare) + b"".join(batch)), HEAVY_BURST)
    ev = event_of(org, "main", ts, args.rounds)
    for i in range(0, n, MAX_BATCH):
        b.call(REQ_UPSERT, w.fv(1, ev) + b"".join(
            tp.attendee_msg(a) for a in att[i:i + MAX_BATCH]))
    pair_msg = lambda p: w.fb(3, w.fb(1, ids[p[0]]) + w.fb(2, ids[p[1]]))
    b.measure("AddPairs x%d" % len(met), lambda i: (
        REQ_ADD_PAIRS, w.fv(1, ev) + w.fv(2, tp.MET_BEFORE) +
        b"".join(map(pair_msg, met))), HEAVY_BURST)
    b.call(REQ_ADD_PAIRS, w.fv(1, ev) + w.fv(2, tp.AVOID) +
           b"".join(map(pair_msg, avoid)))
    everyone = w.fv(1, ev) + b"".join(w.fb(2, i) for i in ids)
    b.measure("CheckIn/CheckOut x%d" % n, lambda i: (
        (REQ_CHECK_OUT if i % 2 else REQ_CHECK_IN), everyone), HEAVY_BURST)
    b.call(REQ_CHECK_IN, everyone)
    b.wait_planner(ev)
    b.measure("NextRound, plan ready", lambda i: (
        REQ_NEXT_ROUND, w.fv(1, ev)), 1)
    one = w.fv(1, ev) + w.fb(2, ids[0])
    b.burst([(REQ_CHECK_OUT, one), (REQ_CHECK_IN, one)])
    b.measure("NextRound, no plan", lambda i: (REQ_NEXT_ROUND, w.fv(1, ev)),
              args.rounds - 3)
    b.call(REQ_CHECK_OUT, one)
    b.call(REQ_CHECK_IN, one)
    b.measure("PreviewRound, no plan", lambda i: (
        REQ_PREVIEW, w.fv(1, ev)), pipe)
    b.wait_planner(ev)
    b.measure("PreviewRound", lambda i: (REQ_PREVIEW, w.fv(1, ev)), pipe)
    b.measure("GetStats", lambda i: (REQ_STATS, w.fv(1, ev)), pipe)
    b.measure("GetStats, server", lambda i: (REQ_STATS, b""), pipe)
    b.measure("GetSchedule", lambda i: (REQ_SCHEDULE, w.fv(1, ev)),
              HEAVY_BURST)
    b.measure("Explain", lambda i: (REQ_EXPLAIN, w.fv(1, ev) + w.fb(
        2, ids[i % n]) + w.fb(3, ids[(i + 1) % n])), pipe)
    b.measure("ListAttendees", lambda i: (REQ_LIST_ATTENDEES, w.fv(1, ev)),
              HEAVY_BURST)
    b.measure("ExportHistory x%d" % EXPORT_LIMIT, lambda i: (
        REQ_HISTORY, w.fv(1, i * EXPORT_LIMIT) + w.fv(2, EXPORT_LIMIT)),
        pipe)
    b.measure("Subscribe", lambda i: (REQ_SUBSCRIBE, w.fv(1, ev)), pipe)
    b.measure("ForgetAttendee", lambda i: (REQ_FORGET, w.fb(1, ids[i])),
              HEAVY_BURST)
    worst, p99, count = probe.finish()
    print("probe: %d answers, max %.1f ms, p99 %.1f ms"
          % (count, worst * 1e3, p99 * 1e3))
    org.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mingled")
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--table-size", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--pipeline", type=int, default=200)
    ap.add_argument("--plan-max-seconds", type=int, default=5)
    args = ap.parse_args()
    Daemon.plan_max_seconds = args.plan_max_seconds
    with tempfile.TemporaryDirectory(prefix="mingle-bench-req-") as work:
        d = Daemon(args.mingled, work, "bench")
        t0 = time.monotonic()
        try:
            run(d, args)
            print("cpu: daemon %.1f s in %.1f s; load average %.2f"
                  % (bp.cpu_seconds(d.proc.pid), time.monotonic() - t0,
                     os.getloadavg()[0]))
            d.stop()
        finally:
            d.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
