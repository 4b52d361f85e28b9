#!/usr/bin/env python3
"""test_abuse.py -- issue 8's hardening targets, in small: squatters and
slow subscribers against the real mingled.

Usage: test_abuse.py PATH/TO/mingled

The full measurement is bench/bench_abuse.py (tests/soak); this is the
short form that CI runs, with small limits so that it takes seconds:

  squat: with a token, max_connections 64 of which 4 reserved, and
         deadlines long enough that only eviction frees a slot, 64
         squatters of each kind (silent; half a frame; GetStats without
         Hello; Subscribe without Hello; Hello with a wrong token; and all
         of them mixed) from eight loopback source addresses hold the
         table; an organizer with the token then connects, says Hello and
         asks GetStats, five times per kind, topping the squatters up
         before each try: every try is answered within 1 s (3 s in a
         sanitizer build), and the silent and half-frame squatters really
         held the table (the daemon counts at least max_connections -
         reserved connections; the other kinds are closed at their first
         frame, and in the mix they evict the holders before they go).
  slow:  20 subscribers with the token that never read, output_cap_bytes
         2 MiB, 50 rounds of about 90 KB pushed: every one is dropped at
         its output cap (the log says so, GetStats counts no subscriber),
         the organizer is served throughout, and once they are gone the
         daemon's RSS is within 24 MB of what it was before they came
         (the 50 rounds themselves add about 6 MB; output kept after the
         drops would add up to 40 MB, 20 times the cap; a sanitizer build
         keeps freed memory in quarantine, so there the RSS is only
         printed).

Source addresses are 127.0.K.x: all of 127.0.0.0/8 is loopback on Linux.
The wire helpers come from test_server.py.  A sanitizer report in the
daemon's log is a failure.
"""
import os
import re
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_server as w  # noqa: E402

TOKEN = "abuse-test-token-0123456789"
MAX_CONN = 64
RESERVED = 4
ADDRESSES = 8
TRIES = 5
ORGANIZER_S = 1.0  # the target
SANITIZER_SLOWDOWN = 3
CAP = 2 * 1024 * 1024
SLOW_SUBS = 20
SLOW_PEOPLE = 400
SLOW_ROUNDS = 50
RSS_SLACK_KIB = 24 * 1024
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)

KINDS = ["silent", "half-frame", "no-hello", "sub-no-token", "bad-token",
         "sub-token"]


def hello(token):
    return w.fv(1, 1) + w.fb(2, token) + w.fb(3, "test_abuse")


def squatter_bytes(kind, event_id):
    if kind == "sub-token":
        # A leaked token: subscribers that pass Hello and never read.
        return (w.request(1, w.REQ_HELLO, hello(TOKEN)) +
                w.request(2, w.REQ_SUBSCRIBE, w.fv(1, event_id)))
    if kind == "half-frame":
        return w.varint(1000) + b"\x08\x01" + b"\x00" * 8
    if kind == "no-hello":
        return w.request(1, w.REQ_GET_STATS, w.fv(1, 0))
    if kind == "sub-no-token":
        return w.request(1, w.REQ_SUBSCRIBE, w.fv(1, 1))
    if kind == "bad-token":
        return w.request(1, w.REQ_HELLO, hello("not-" + TOKEN))
    return b""


def connect_from(d, addr, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((addr, 0))
    s.settimeout(5)
    s.connect((d.host, d.port))
    return s


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Organizer:
    def __init__(self, d):
        self.c = d.client()
        self.rid = 0
        r = self.call(w.REQ_HELLO, hello(TOKEN))
        w.check(r.kind == w.RESP_HELLO, "organizer Hello: %r" % r.code)

    def call(self, field, body=b""):
        self.rid += 1
        return self.c.call(self.rid, field, body)

    def stats(self):
        r = self.call(w.REQ_GET_STATS, w.fv(1, 0))
        w.check(r.kind == w.RESP_STATS, "GetStats: %r" % r.code)
        return r


def test_squat(d, limit_s):
    """64 squatters of each kind; an organizer gets in every time."""
    socks = []
    org = Organizer(d)
    r = org.call(w.REQ_CREATE_EVENT, w.fb(1, "squat") + w.fv(2, 4) +
                 w.fv(3, 4))
    w.check(r.kind == w.RESP_EVENT, "create event: %r" % r.code)
    event_id = r.field(1)
    org.c.close()
    try:
        for block, kinds in enumerate([[k] for k in KINDS] + [KINDS]):
            name = kinds[0] if len(kinds) == 1 else "mixed"
            addrs = ["127.0.%d.%d" % (20 + block, i + 1)
                     for i in range(ADDRESSES)]
            worst, least_held = 0.0, MAX_CONN
            for t in range(TRIES):
                # Top up: a full table of squatters before every try (the
                # ones evicted earlier are replaced by newer ones).
                for i in range(MAX_CONN):
                    s = connect_from(d, addrs[i % ADDRESSES])
                    data = squatter_bytes(kinds[i % len(kinds)], event_id)
                    if data:
                        s.sendall(data)
                    socks.append(s)
                # Every squatter admitted (none is refused while there
                # are squatters to evict) before the organizer comes.
                want = (t + 1) * MAX_CONN
                deadline = time.monotonic() + 30
                while len(re.findall(r"accepted 127\.0\.%d\." % (20 + block),
                                     d.log())) < want:
                    w.check(time.monotonic() < deadline,
                            "%s: the daemon did not accept the squatters"
                            % name)
                    time.sleep(0.02)
                time.sleep(0.05)
                t0 = time.monotonic()
                c = d.client()
                c.send(w.request(1, w.REQ_HELLO, hello(TOKEN)) +
                       w.request(2, w.REQ_GET_STATS, w.fv(1, 0)))
                r1 = c.recv(timeout=5)
                r2 = c.recv(timeout=5)
                dt = time.monotonic() - t0
                w.check(r1 is not None and r1.kind == w.RESP_HELLO,
                        "%s, try %d: organizer not let in: %r"
                        % (name, t + 1, r1 and (r1.kind, r1.code)))
                w.check(r2 is not None and r2.kind == w.RESP_STATS,
                        "%s, try %d: no Stats for the organizer" % (name, t + 1))
                worst = max(worst, dt)
                held = r2.field(7)
                # Kinds the daemon closes at once hold no slot; the others
                # must have filled the table up to the reserve.
                if name in ("silent", "half-frame"):
                    least_held = min(least_held, held)
                w.check(dt < limit_s, "%s, try %d: organizer answered after "
                        "%.2f s (limit %.1f s)" % (name, t + 1, dt, limit_s))
                c.close()
            if name in ("silent", "half-frame"):
                w.check(least_held >= MAX_CONN - RESERVED,
                        "%s: the squatters held only %d connections; the "
                        "test did not fill the table" % (name, least_held))
            print("  squat %-12s organizer in after at most %.1f ms "
                  "(%d tries)%s" % (name, worst * 1e3, TRIES,
                                    ", table held at %d" % least_held
                                    if least_held < MAX_CONN else ""))
            for s in socks:
                s.close()
            socks = []
            time.sleep(0.2)
    finally:
        for s in socks:
            s.close()


def big_event(org):
    """An event whose rounds are about 90 KB: long names."""
    r = org.call(w.REQ_CREATE_EVENT, w.fb(1, "abuse") + w.fv(2, 8) +
                 w.fv(3, SLOW_ROUNDS + 2))
    w.check(r.kind == w.RESP_EVENT, "create event: %r" % r.code)
    event_id = r.field(1)
    ids = ["p%04d" % i for i in range(SLOW_PEOPLE)]
    people = b"".join(w.fb(2, w.fb(1, i) + w.fb(2, i + " " + "N" * 200))
                      for i in ids)
    r = org.call(w.REQ_UPSERT, w.fv(1, event_id) + people)
    w.check(r.kind != w.RESP_ERROR, "upsert: %r" % r.code)
    r = org.call(w.REQ_CHECK_IN,
                 w.fv(1, event_id) + b"".join(w.fb(2, i) for i in ids))
    w.check(r.kind != w.RESP_ERROR, "check in: %r" % r.code)
    return event_id


def test_slow(d, check_rss):
    org = Organizer(d)
    event_id = big_event(org)
    r = org.call(w.REQ_NEXT_ROUND, w.fv(1, event_id))
    w.check(r.kind == w.RESP_ROUND, "first round: %r" % r.code)
    time.sleep(0.5)
    rss0 = rss_kib(d.proc.pid)
    subs = []
    for i in range(SLOW_SUBS):
        s = connect_from(d, "127.0.30.%d" % (1 + i % ADDRESSES), rcvbuf=4096)
        s.sendall(w.request(1, w.REQ_HELLO, hello(TOKEN)) +
                  w.request(2, w.REQ_SUBSCRIBE, w.fv(1, event_id)))
        subs.append(s)
    deadline = time.monotonic() + 5
    while org.stats().field(8) < SLOW_SUBS:
        w.check(time.monotonic() < deadline, "the subscribers did not "
                "subscribe: %d" % org.stats().field(8))
        time.sleep(0.05)
    size = 0
    for n in range(SLOW_ROUNDS):
        r = org.call(w.REQ_NEXT_ROUND, w.fv(1, event_id))
        w.check(r.kind == w.RESP_ROUND, "round %d: %r" % (n + 2, r.code))
        size = max(size, len(r.raw))
    pushed = size * SLOW_ROUNDS
    w.check(pushed > 2 * CAP, "only %d bytes pushed: the test cannot fill a "
            "%d-byte cap" % (pushed, CAP))
    deadline = time.monotonic() + 10
    while d.log().count("output cap exceeded") < SLOW_SUBS:
        w.check(time.monotonic() < deadline,
                "%d of %d non-reading subscribers dropped at the output cap"
                % (d.log().count("output cap exceeded"), SLOW_SUBS))
        time.sleep(0.05)
    deadline = time.monotonic() + 5
    while org.stats().field(8) != 0:
        w.check(time.monotonic() < deadline, "%d subscribers left after "
                "the drops" % org.stats().field(8))
        time.sleep(0.05)
    for s in subs:
        s.close()
    time.sleep(0.5)
    rss1 = rss_kib(d.proc.pid)
    print("  slow: %d subscribers, %d rounds of %d bytes: all dropped at the "
          "cap; RSS %d KiB before them, %d KiB after%s"
          % (SLOW_SUBS, SLOW_ROUNDS, size, rss0, rss1,
             "" if check_rss else " (sanitizer build: not checked)"))
    w.check(not check_rss or rss1 <= rss0 + RSS_SLACK_KIB,
            "RSS %d KiB after the slow subscribers were dropped, %d KiB "
            "before: memory not returned" % (rss1, rss0))
    w.check(org.stats().kind == w.RESP_STATS, "organizer not served")
    org.c.close()


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: test_abuse.py PATH/TO/mingled\n")
        return 2
    binary = sys.argv[1]
    with open(binary, "rb") as f:
        sanitizer = b"__asan_init" in f.read()
    limit_s = ORGANIZER_S * (SANITIZER_SLOWDOWN if sanitizer else 1)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="mingle-abuse-") as work:
        plan = [
            ("squat", "auth_token: %s\nmax_connections: %d\n"
             "reserved_connections: %d\nhello_timeout_ms: 60000\n"
             "frame_timeout_ms: 60000\nidle_timeout_ms: 60000\n"
             "log_level: info\nplan_max_seconds: 0\n"
             % (TOKEN, MAX_CONN, RESERVED),
             lambda d: test_squat(d, limit_s)),
            ("slow", "auth_token: %s\noutput_cap_bytes: %d\n"
             "max_connections: 64\nidle_timeout_ms: 60000\n"
             "max_frame_bytes: 1048576\nlog_level: info\n"
             "plan_max_seconds: 0\n" % (TOKEN, CAP),
             lambda d: test_slow(d, not sanitizer)),
        ]
        for name, extra, test in plan:
            t0 = time.monotonic()
            try:
                d = w.Daemon(binary, work, name, extra)
            except w.Failure as e:
                print("FAIL %s: %s" % (name, e))
                failures += 1
                continue
            try:
                test(d)
                w.check(d.stop() == 0, "SIGTERM: bad exit status")
                print("ok   %s (%.1f s)" % (name, time.monotonic() - t0))
            except (w.Failure, OSError) as e:
                failures += 1
                print("FAIL %s: %s" % (name, e))
            finally:
                d.kill()
                d.reader.join(5)
            if d.sanitizer_report():
                failures += 1
                print("FAIL %s: sanitizer report in the daemon log" % name)
            if failures:
                print("--- daemon log (%s), tail ---\n%s"
                      % (name, d.log()[-20000:]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
