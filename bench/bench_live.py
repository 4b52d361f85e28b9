#!/usr/bin/env python3
"""bench_live.py -- load the live daemon over loopback and time it.

Usage: bench_live.py PATH/TO/mingled [--profiles N] [--present N]
                     [--rounds N] [--subscribers N] [--garbage N]

Starts mingled on an ephemeral loopback port with a throw-away data
directory and prints one line per figure:

  load:      UpsertAttendees of N profiles (batches of the server's
             max_attendees_per_request), wall time;
  nextround: NextRound latency with P present (tables of 8), p50/p99 over
             R rounds, three check-outs and three check-ins between rounds;
  fanout:    time from sending NextRound until the last of S subscribers
             holds the pushed round, p50/p99, then the same with one more
             subscriber that never reads;
  garbage:   the NextRound figures again while G other connections send
             random bytes (reconnecting when closed), with the daemon's
             resident memory before and after.

The wire helpers come from tests/integration/test_server.py.
"""
import argparse
import os
import random
import re
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing import Event, Process

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import test_server as w  # noqa: E402

TABLE_SIZE = 8
PLANNED_ROUNDS = 8
REQ_GET_SCHEDULE = 13
REQ_CHECK_OUT = 10
TAGS = ["tag%03d" % i for i in range(300)]
SKILLS = ["skill%03d" % i for i in range(120)]


def attendee(rng, i):
    body = w.fb(1, "p%05d" % i) + w.fb(2, "Person %05d" % i)
    body += w.fb(3, "Company %03d" % rng.randrange(400))
    body += w.fb(4, "Industry %02d" % rng.randrange(30))
    for t in rng.sample(TAGS, rng.randint(2, 6)):
        body += w.fb(5, t)
    for t in rng.sample(SKILLS, rng.randint(0, 2)):
        body += w.fb(6, t)
    for t in rng.sample(SKILLS, rng.randint(0, 2)):
        body += w.fb(7, t)
    return w.fb(2, body)


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def ms(seconds):
    return "%.1f ms" % (seconds * 1000)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Bench:
    def __init__(self, binary, work):
        config = os.path.join(work, "bench.yaml")
        with open(config, "w") as f:
            f.write("max_connections: 4096\nlog_level: warn\n")
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--config", config,
             "--data-dir", os.path.join(work, "data")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        while True:
            line = self.proc.stderr.readline().decode()
            if not line:
                raise SystemExit("mingled exited before listening")
            m = re.search(r"listening on (\S+):(\d+)$", line.strip())
            if m:
                self.host, self.port = m.group(1).strip("[]"), int(m.group(2))
                break
        # Keep draining the log, or a chatty daemon blocks on a full pipe.
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()
        self.org = self.client()
        r = self.org.call(1, w.REQ_HELLO, w.hello())
        self.batch = r.field(4) or 1000
        self.rid = 10

    def client(self):
        return w.Client(self.host, self.port)

    def call(self, field, body):
        self.rid += 1
        r = self.org.call(self.rid, field, body)
        if r.kind == w.RESP_ERROR:
            raise SystemExit("request %d failed: code %d %s"
                             % (field, r.code, r.field(2)))
        return r

    def event(self, rounds, people):
        r = self.call(w.REQ_CREATE_EVENT, w.fb(1, "bench") + w.fv(2, TABLE_SIZE)
                      + w.fv(3, rounds) + w.fv(5, 7) + w.fv(6, 1))
        event_id = r.field(1)
        for i in range(0, len(people), self.batch):
            self.call(w.REQ_UPSERT, w.fv(1, event_id) + b"".join(people[i:i + self.batch]))
        return event_id

    def check(self, field, event_id, ids):
        self.call(field, w.fv(1, event_id) + b"".join(w.fb(2, i) for i in ids))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)


def live_event(b, rng, n_profiles, present, rounds):
    people = [attendee(rng, i) for i in range(n_profiles)]
    event_id = b.event(rounds, people)
    ids = ["p%05d" % i for i in range(n_profiles)]
    here = set(ids[:present])
    b.check(w.REQ_CHECK_IN, event_id, sorted(here))
    return event_id, ids, here


def churn(b, rng, event_id, ids, here):
    """Three leave, three arrive: presence changes between rounds."""
    gone = rng.sample(sorted(here), 3)
    away = [i for i in ids if i not in here]
    come = rng.sample(away, min(3, len(away)))
    b.check(REQ_CHECK_OUT, event_id, gone)
    if come:
        b.check(w.REQ_CHECK_IN, event_id, come)
    here.difference_update(gone)
    here.update(come)


def cpu_seconds(pid):
    """User + system CPU time the process has used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def next_round_times(b, rng, event_id, ids, here, rounds):
    """Wall times of NextRound, and the daemon's CPU seconds per NextRound:
    on a machine shared with other work the CPU figure is the steadier
    one."""
    times, cpu = [], 0.0
    for _ in range(rounds):
        c0 = cpu_seconds(b.proc.pid)
        t0 = time.perf_counter()
        r = b.call(w.REQ_NEXT_ROUND, w.fv(1, event_id))
        times.append(time.perf_counter() - t0)
        cpu += cpu_seconds(b.proc.pid) - c0
        if r.kind != w.RESP_ROUND:
            raise SystemExit("NextRound answered %r" % r.kind)
        churn(b, rng, event_id, ids, here)
    return times, cpu / rounds


def repeats_in_plan(b, event_id):
    """Repeated pairs over the first PLANNED_ROUNDS rounds, counted here from
    the seats GetSchedule returns: an event of 8 planned rounds must stay
    repeat-free while people come and go."""
    r = b.call(REQ_GET_SCHEDULE, w.fv(1, event_id))
    seen, repeats = set(), 0
    for num, rnd in w.fields(r.body):
        if num != 3:
            continue
        rf = w.fields(rnd)
        if dict((n, v) for n, v in rf if n == 2).get(2, 0) > PLANNED_ROUNDS:
            continue
        for tn, table in rf:
            if tn != 3:
                continue
            people = sorted(dict(w.fields(seat))[1] for sn, seat in
                            w.fields(table) if sn == 2)
            for i, a in enumerate(people):
                for c in people[i + 1:]:
                    repeats += (a, c) in seen
                    seen.add((a, c))
    return repeats


def bench_load(b, rng, n):
    people = [attendee(rng, i) for i in range(n)]
    r = b.call(w.REQ_CREATE_EVENT, w.fb(1, "load") + w.fv(2, TABLE_SIZE) + w.fv(3, 4))
    event_id = r.field(1)
    t0 = time.perf_counter()
    for i in range(0, n, b.batch):
        b.call(w.REQ_UPSERT, w.fv(1, event_id) + b"".join(people[i:i + b.batch]))
    dt = time.perf_counter() - t0
    print("load: %d profiles in %.3f s (%d per request)" % (n, dt, b.batch))


def fanout_round(b, event_id, socks, sel):
    """Sends NextRound; returns (seconds until the organizer has the answer,
    seconds until every subscriber holds the push)."""
    pending = {s: bytearray() for s in socks}
    t0 = time.perf_counter()
    b.rid += 1
    b.org.send(w.request(b.rid, w.REQ_NEXT_ROUND, w.fv(1, event_id)))
    r = b.org.recv(timeout=60)
    t_answer = time.perf_counter() - t0
    if r is None or r.kind != w.RESP_ROUND:
        raise SystemExit("NextRound failed during fan-out")
    while pending:
        for key, _ in sel.select(timeout=10):
            s = key.fileobj
            if s not in pending:
                continue
            data = s.recv(1 << 20)
            if not data:
                raise SystemExit("a subscriber was closed")
            buf = pending[s]
            buf += data
            try:
                n, pos = w.read_varint(buf, 0)
            except IndexError:
                continue
            if len(buf) >= pos + n:
                del pending[s]
    return t_answer, time.perf_counter() - t0


def fanout_line(what, samples):
    answer = [a for a, _ in samples]
    spread = [d - a for a, d in samples]
    print("fanout: %s: NextRound answered p50 %s; the last subscriber had "
          "the push after that: p50 %s p99 %s"
          % (what, ms(pct(answer, 50)), ms(pct(spread, 50)), ms(pct(spread, 99))))


def bench_fanout(b, rng, present, n_subs, rounds):
    event_id, ids, here = live_event(b, rng, present + 50, present, 2 * rounds)
    subs = []
    sel = selectors.DefaultSelector()
    for i in range(n_subs):
        c = b.client()
        r = c.call(i + 1, w.REQ_SUBSCRIBE, w.fv(1, event_id))
        if r.kind != w.RESP_SUBSCRIBED:
            raise SystemExit("subscribe failed: %r" % r.code)
        c.sock.setblocking(False)
        sel.register(c.sock, selectors.EVENT_READ)
        subs.append(c.sock)
    times = []
    for _ in range(rounds):
        times.append(fanout_round(b, event_id, subs, sel))
        churn(b, rng, event_id, ids, here)
    fanout_line("%d subscribers, %d present, %d rounds"
                % (n_subs, present, rounds), times)
    stalled = w.Client(b.host, b.port, rcvbuf=4096)
    stalled.send(w.request(1, w.REQ_SUBSCRIBE, w.fv(1, event_id)))
    times = []
    for _ in range(rounds):
        times.append(fanout_round(b, event_id, subs, sel))
        churn(b, rng, event_id, ids, here)
    fanout_line("same plus 1 stalled subscriber", times)
    for s in subs:
        s.close()
    stalled.close()


def garbage(host, port, n, stop):
    """Child process: n connections sending random bytes, reconnecting."""
    rng = random.Random(1)
    sel = selectors.DefaultSelector()

    def connect():
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        s.setblocking(False)
        s.connect_ex((host, port))
        sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ)

    for _ in range(n):
        connect()
    junk = [bytes(rng.randrange(256) for _ in range(512)) for _ in range(16)]
    while not stop.is_set():
        for key, events in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                if events & selectors.EVENT_READ and not s.recv(65536):
                    raise ConnectionError
                if events & selectors.EVENT_WRITE:
                    s.send(rng.choice(junk))
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                sel.unregister(s)
                s.close()
                connect()
        # A few sends per connection per 10 ms: a steady, not a flat-out
        # flood (which would just measure the scheduler of a 2-core box).
        time.sleep(0.01)


def bench_garbage(b, rng, present, rounds, n_garbage):
    event_id, ids, here = live_event(b, rng, present + 50, present, rounds)
    rss0 = rss_kib(b.proc.pid)
    stop = Event()
    child = Process(target=garbage, args=(b.host, b.port, n_garbage, stop))
    child.start()
    time.sleep(0.5)
    try:
        times, _ = next_round_times(b, rng, event_id, ids, here, rounds)
    finally:
        stop.set()
        child.join(10)
    rss1 = rss_kib(b.proc.pid)
    print("garbage: NextRound with %d garbage connections, %d present: "
          "p50 %s p99 %s (%d rounds); daemon RSS %d -> %d KiB"
          % (n_garbage, present, ms(pct(times, 50)), ms(pct(times, 99)),
             rounds, rss0, rss1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mingled")
    ap.add_argument("--profiles", type=int, default=10000)
    ap.add_argument("--present", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--subscribers", type=int, default=200)
    ap.add_argument("--fanout-rounds", type=int, default=10)
    ap.add_argument("--garbage", type=int, default=100)
    args = ap.parse_args()
    rng = random.Random(42)
    with tempfile.TemporaryDirectory(prefix="mingle-bench-") as work:
        b = Bench(args.mingled, work)
        try:
            bench_load(b, rng, args.profiles)
            event_id, ids, here = live_event(b, rng, args.present + 50,
                                             args.present, args.rounds)
            times, cpu = next_round_times(b, rng, event_id, ids, here,
                                          args.rounds)
            print("nextround: %d present, tables of %d: p50 %s p99 %s, "
                  "daemon CPU %s per round (%d rounds, presence changes "
                  "between rounds); repeated pairs in the first %d rounds: "
                  "%d"
                  % (args.present, TABLE_SIZE, ms(pct(times, 50)),
                     ms(pct(times, 99)), ms(cpu), args.rounds,
                     PLANNED_ROUNDS, repeats_in_plan(b, event_id)))
            bench_fanout(b, rng, args.present, args.subscribers,
                         args.fanout_rounds)
            bench_garbage(b, rng, args.present, args.rounds, args.garbage)
        finally:
            b.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
