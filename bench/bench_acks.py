#!/usr/bin/env python3
"""bench_acks.py -- acknowledged upserts per second through the daemon.

Usage: bench_acks.py PATH/TO/mingled [--count N] [--batches N]

Starts mingled on an ephemeral loopback port with a fresh data directory
(SQLite, WAL, synchronous=FULL: every acknowledgement is on disk) and
prints one line per figure:

  one-at-a-time: single-attendee UpsertAttendees, each sent after the
                 previous acknowledgement;
  pipelined:     the same requests written back to back, acknowledgements
                 read as they come (a window of 256 in flight);
  batches:       UpsertAttendees of 100 attendees each, one at a time.

The wire helpers come from tests/integration/test_server.py.
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import test_server as w  # noqa: E402
from bench_live import Bench  # noqa: E402

WINDOW = 256


def profile(prefix, i):
    body = w.fb(1, "%s%07d" % (prefix, i)) + w.fb(2, "Person %d" % i)
    body += w.fb(3, "Company %d" % (i % 300))
    body += w.fb(5, "tag%d" % (i % 97)) + w.fb(5, "tag%d" % (i % 89))
    body += w.fb(6, "skill%d" % (i % 41)) + w.fb(7, "skill%d" % (i % 37))
    return w.fb(2, body)


def upsert(event_id, people):
    return w.fv(1, event_id) + b"".join(people)


def one_at_a_time(b, event_id, n):
    bodies = [upsert(event_id, [profile("s", i)]) for i in range(n)]
    t0 = time.monotonic()
    for body in bodies:
        b.call(w.REQ_UPSERT, body)
    return n / (time.monotonic() - t0)


def pipelined(b, event_id, n):
    c = b.client()
    frames = [w.request(i + 1, w.REQ_UPSERT, upsert(event_id, [profile("p", i)]))
              for i in range(n)]
    t0 = time.monotonic()
    sent = acked = 0
    while acked < n:
        burst = []
        while sent < n and sent - acked < WINDOW:
            burst.append(frames[sent])
            sent += 1
        if burst:
            c.send(b"".join(burst))
        r = c.recv(30)
        if r.kind == w.RESP_ERROR:
            raise SystemExit("pipelined upsert failed: %s" % r.field(2))
        acked += 1
    rate = n / (time.monotonic() - t0)
    c.close()
    return rate


def batches(b, event_id, n_batches):
    bodies = [upsert(event_id, [profile("b", k * 100 + i) for i in range(100)])
              for k in range(n_batches)]
    t0 = time.monotonic()
    for body in bodies:
        b.call(w.REQ_UPSERT, body)
    return n_batches * 100 / (time.monotonic() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mingled")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--batches", type=int, default=200)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        b = Bench(a.mingled, work)
        try:
            event_id = b.call(w.REQ_CREATE_EVENT, w.fb(1, "acks") + w.fv(2, 8)
                              + w.fv(3, 4)).field(1)
            print("one-at-a-time: %d acknowledged single upserts/s (%d)"
                  % (one_at_a_time(b, event_id, a.count), a.count))
            print("pipelined:     %d acknowledged single upserts/s (%d, "
                  "window %d)" % (pipelined(b, event_id, a.count), a.count,
                                  WINDOW))
            print("batches:       %d attendees/s acknowledged in batches of "
                  "100 (%d batches)" % (batches(b, event_id, a.batches),
                                        a.batches))
        finally:
            b.stop()


if __name__ == "__main__":
    main()
