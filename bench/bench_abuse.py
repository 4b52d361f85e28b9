#!/usr/bin/env python3
"""bench_abuse.py -- the hardening targets of issue 8, measured.

Usage: bench_abuse.py [PATH/TO/mingled] [--quick] [--tries N] [--squat N]
                      [--abusers N] [--seconds S] [--people N]
                      [--slow-subs N] [--slow-rounds N] [--breakdown]

Starts the real mingled (default: build-release/daemon/mingled, else
build/daemon/mingled) on an ephemeral loopback port with a token set,
background planning off (plan_max_seconds 0, so the planner thread does not
compete for the two cores) and every limit at its default, and measures
the issue's targets:

  squat:  for each kind of squatter, N (1,024) connections held from many
          source addresses (127.0.K.x: the per-address limit is 64), each
          one reopened as soon as the daemon closes it; meanwhile an
          organizer connects from 127.0.0.1, sends Hello with the token and
          GetStats, TRIES times: the time to the Stats reply, its maximum
          and whether every try got in within 1 s.
  abuse:  on a fresh daemon, while the organizer calls a round of a
          large event (2,000 people) every 2 s, so that non-reading
          subscribers have something to hold, a good client (Hello, then
          GetEvent and GetSchedule of a small event in a loop, 5 ms apart)
          runs first without abuse for S seconds ("idle"), then for S
          seconds while 100 abusive clients of every kind (below) run at
          once: p50/p99 of the good client, idle and under abuse (an
          answer that takes over 10 s ends the run and counts as 10 s);
          the daemon's peak RSS (VmRSS polled every 20 ms) and its RSS
          once the abusers are gone; the daemon's CPU use (of one core).
          --breakdown also runs every kind but pipeline, and each kind on
          its own, each on a fresh daemon, to see which one costs what.
  slow:   the issue's slow subscribers: 300 subscribers (with the token)
          that never read, and 100 (target b's number), 60 rounds of a
          large event (2,000 people, a pushed round about 92 KB), each on a
          fresh daemon: peak RSS, how many were dropped at the output cap,
          RSS after every subscriber is gone; first the same rounds without
          subscribers, for what the rounds alone cost.

Kinds of abuse (a process each, non-blocking sockets):
  silent       connects, never sends (the Hello deadline closes it)
  half-frame   a length prefix and part of the body, then a byte a second
  no-hello     GetStats without Hello (closed: UNAUTHENTICATED)
  sub-no-token Subscribe without Hello
  bad-token    Hello with a wrong token
  sub-noread   Hello with the token, Subscribe, never reads (tiny receive
               buffer; POLLRDHUP tells it of a close, unread data stays)
  sub-leave    Hello with the token, Subscribe, closes at once
  pipeline     Hello with the token, then 200 pipelined GetStats of the
               large event, read, and again
  oversized    a length prefix of 1 GiB
  garbage      512 random bytes
  churn        connects and closes

The closed ones reconnect at up to N per second per kind.  Machine: the
bench, its abusers and the daemon share the cores; on 2 cores the figures
carry that noise.  --quick runs smaller numbers for a smoke test.
Prints a table with PASS/MISS against each target; exit status 0 either
way (1 only when the bench itself failed).

The wire helpers come from tests/integration/test_server.py.
"""
import argparse
import collections
import multiprocessing
import os
import random
import re
import resource
import select
import selectors
import socket
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import test_planner as tp  # noqa: E402
import test_server as w  # noqa: E402

TOKEN = "abuse-bench-token-0123456789"
REQ_GET_EVENT, REQ_GET_SCHEDULE = 4, 13
RESP_SCHEDULE = 8
TABLE_SIZE = 8
PIPELINE_DEPTH = 200
# Linux's IP_BIND_ADDRESS_NO_PORT: bind() to a source address without
# choosing the port yet, so connect() picks one per 4-tuple (many
# connections from one loopback address without running out of ports).
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
HUP_EVENTS = (getattr(select, "POLLRDHUP", 0x2000) | select.POLLHUP |
              select.POLLERR)

SQUAT_KINDS = ["silent", "half-frame", "no-hello", "sub-no-token",
               "bad-token", "sub-noread"]
ABUSE_KINDS = ["silent", "half-frame", "no-hello", "sub-no-token",
               "bad-token", "sub-noread", "sub-leave", "pipeline",
               "oversized", "garbage", "churn"]
# Kinds that close their own connection right after sending.
SELF_CLOSING = {"sub-leave", "churn"}


def raise_nofile():
    """Soft RLIMIT_NOFILE up to the hard one (raised too where allowed);
    the daemon, started from here, inherits it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(hard, 65536) if hard != resource.RLIM_INFINITY else hard
    for limit in (want, hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
            return limit
        except (ValueError, OSError):
            continue
    return soft


def source_addresses(block, n_conns, per_address):
    """Loopback source addresses 127.<block>.x.y, per_address each."""
    out = []
    for i in range((n_conns + per_address - 1) // per_address):
        out.append("127.%d.%d.%d" % (block, 1 + i // 250, 1 + i % 250))
    return out


def hello_body(token):
    body = w.fv(1, 1) + w.fb(3, "bench_abuse")
    if token is not None:
        body += w.fb(2, token)
    return body


# ---------------------------------------------------------------------------
# Abusers: one process per kind.


class FrameCounter:
    """Counts the frames of a stream without keeping their bodies."""

    def __init__(self):
        self.skip = 0
        self.head = b""
        self.frames = 0

    def feed(self, data):
        pos = 0
        while pos < len(data):
            if self.skip:
                take = min(self.skip, len(data) - pos)
                self.skip -= take
                pos += take
                if self.skip == 0:
                    self.frames += 1
                continue
            self.head += data[pos:pos + 1]
            pos += 1
            if not self.head[-1] & 0x80:
                n, _ = w.read_varint(self.head, 0)
                self.head = b""
                if n == 0:
                    self.frames += 1
                self.skip = n


class Slot:
    __slots__ = ("sock", "addr", "counter", "sent_batches", "next_trickle")

    def __init__(self, addr):
        self.sock = None
        self.addr = addr
        self.counter = None
        self.sent_batches = 0
        self.next_trickle = 0.0


def abuser(kind, host, port, n, addrs, rate, token, event_id, stop, ready,
           results):
    """Keeps n connections of `kind` going until `stop`; puts its counters
    on `results`.  Runs in its own process."""
    rng = random.Random(hash(kind) & 0xFFFF)
    sel = selectors.DefaultSelector()
    hup = select.poll()
    by_fd = {}
    counts = collections.Counter()
    junk = [bytes(rng.randrange(256) for _ in range(512)) for _ in range(8)]
    slots = [Slot(addrs[i % len(addrs)]) for i in range(n)]
    stats_req = w.request(7, w.REQ_GET_STATS, w.fv(1, event_id))
    batch = stats_req * PIPELINE_DEPTH

    def payload():
        if kind == "half-frame":
            return w.varint(1000) + b"\x08\x01" + b"\x00" * 8
        if kind == "no-hello":
            return w.request(1, w.REQ_GET_STATS, w.fv(1, 0))
        if kind == "sub-no-token":
            return w.request(1, w.REQ_SUBSCRIBE, w.fv(1, event_id))
        if kind == "bad-token":
            return w.request(1, w.REQ_HELLO, hello_body("not-" + token))
        if kind in ("sub-noread", "sub-leave"):
            return (w.request(1, w.REQ_HELLO, hello_body(token)) +
                    w.request(2, w.REQ_SUBSCRIBE, w.fv(1, event_id)))
        if kind == "pipeline":
            return w.request(1, w.REQ_HELLO, hello_body(token)) + batch
        if kind == "oversized":
            return w.varint(1 << 30) + b"x" * 16
        if kind == "garbage":
            return rng.choice(junk)
        return b""

    def close(slot, by_server):
        if slot.sock is None:
            return
        if kind == "sub-noread":
            hup.unregister(slot.sock.fileno())
            del by_fd[slot.sock.fileno()]
        else:
            sel.unregister(slot.sock)
        slot.sock.close()
        slot.sock = None
        counts["closed by server" if by_server else "closed by us"] += 1

    def open_slot(slot):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            if kind == "sub-noread":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.bind((slot.addr, 0))
            s.settimeout(2)
            s.connect((host, port))
            data = payload()
            if data:
                s.sendall(data)
            s.setblocking(False)
        except OSError:
            counts["connect failed"] += 1
            s.close()
            return False
        counts["connects"] += 1
        if kind in SELF_CLOSING:
            s.close()
            counts["closed by us"] += 1
            return True
        slot.sock = s
        slot.counter = FrameCounter() if kind == "pipeline" else None
        slot.next_trickle = time.monotonic() + 1.0
        # A non-reading subscriber never reads: it learns of its close
        # from POLLRDHUP, without taking the data queued for it.
        if kind == "sub-noread":
            hup.register(s.fileno(), HUP_EVENTS)
            by_fd[s.fileno()] = slot
        else:
            sel.register(s, selectors.EVENT_READ, slot)
        return True

    for slot in slots:
        open_slot(slot)
    ready.set()
    allowance, last = 0.0, time.monotonic()
    while not stop.is_set():
        now = time.monotonic()
        allowance = min(float(rate), allowance + (now - last) * rate)
        last = now
        for slot in slots:
            if allowance < 1:
                break
            if slot.sock is None:
                allowance -= 1
                open_slot(slot)
        for key, _ in sel.select(timeout=0.02):
            slot = key.data
            try:
                data = slot.sock.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                close(slot, True)
                continue
            if slot.counter is not None:
                slot.counter.feed(data)
                # Hello's reply, then PIPELINE_DEPTH Stats per batch.
                if slot.counter.frames >= 1 + PIPELINE_DEPTH * (
                        slot.sent_batches + 1):
                    slot.sent_batches += 1
                    counts["pipelined requests answered"] += PIPELINE_DEPTH
                    try:
                        slot.sock.send(batch)
                    except OSError:
                        close(slot, True)
        if by_fd:
            for fd, _ in hup.poll(0):
                close(by_fd[fd], True)
        if kind == "half-frame":
            for slot in slots:
                if slot.sock is not None and now >= slot.next_trickle:
                    slot.next_trickle = now + 1.0
                    try:
                        slot.sock.send(b"\x00")
                    except OSError:
                        close(slot, True)
    for slot in slots:
        close(slot, False)
    results.put((kind, dict(counts)))


class Abusers:
    """One process per kind, started together; stop() returns the counters."""

    def __init__(self, d, kinds, n, rate, event_id, block0=10):
        self.ctx = multiprocessing.get_context("spawn")
        self.stop_ev = self.ctx.Event()
        self.results = self.ctx.Queue()
        self.procs = []
        readies = []
        for i, kind in enumerate(kinds):
            ready = self.ctx.Event()
            addrs = source_addresses(block0 + i, n, 32)
            p = self.ctx.Process(
                target=abuser, daemon=True,
                args=(kind, d.host, d.port, n, addrs, rate, TOKEN, event_id,
                      self.stop_ev, ready, self.results))
            p.start()
            self.procs.append(p)
            readies.append(ready)
        for ready in readies:
            if not ready.wait(120):
                raise w.Failure("an abuser did not start")

    def stop(self):
        self.stop_ev.set()
        out = {}
        for _ in self.procs:
            try:
                kind, counts = self.results.get(timeout=30)
                out[kind] = counts
            except Exception:  # noqa: BLE001 -- a lost report is not fatal
                break
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join()
        return out


# ---------------------------------------------------------------------------
# The daemon and what we read from it.


class Daemon(w.Daemon):
    """mingled with the bench's config; keeps only the log's tail and a
    few counters (thousands of connections log a lot)."""

    extra = ""

    def write_config(self, extra=""):
        with open(self.config, "w") as f:
            f.write('listen: ["127.0.0.1"]\nlog_level: warn\n'
                    "plan_max_seconds: 0\n")
            if self.token:
                f.write("auth_token: %s\n" % TOKEN)
            f.write(extra)

    def __init__(self, binary, work, name, token=True, extra=""):
        self.token = token
        self.tail = collections.deque(maxlen=400)
        self.counts = collections.Counter()
        super().__init__(binary, work, name, extra)

    def _read(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.lock:
                self.tail.append(line)
                if "output cap exceeded" in line:
                    self.counts["dropped at the output cap"] += 1
                elif "refusing" in line:
                    self.counts["refused"] += 1
                if re.search(r"AddressSanitizer|LeakSanitizer|runtime error:",
                             line):
                    self.counts["sanitizer"] += 1
            m = re.search(r"listening on (\S+):(\d+)$", line)
            if m and self.port is None:
                self.host = m.group(1).strip("[]")
                self.port = int(m.group(2))
                self.ready.set()
        self.ready.set()

    def log(self):
        with self.lock:
            return "\n".join(self.tail)

    def status_kib(self, key):
        """VmRSS or VmHWM of the daemon in KiB."""
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith(key + ":"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0


class RssSampler(threading.Thread):
    """Polls the daemon's VmRSS; peak since the last reset()."""

    def __init__(self, d, interval=0.02):
        super().__init__(daemon=True)
        self.d = d
        self.interval = interval
        self.peak = 0
        self.halt = threading.Event()

    def reset(self):
        self.peak = self.d.status_kib("VmRSS")

    def run(self):
        while not self.halt.is_set():
            self.peak = max(self.peak, self.d.status_kib("VmRSS"))
            time.sleep(self.interval)


def cpu_seconds(pid):
    """User + system CPU time the process has used so far."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mib(kib):
    return "%.1f MB" % (kib / 1024.0)


def msec(s):
    return "%.1f ms" % (s * 1000.0)


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


class Org(tp.Org):
    """The organizer: Hello with the token on connecting."""

    def __init__(self, d):
        super().__init__(d)
        self.call(w.REQ_HELLO, hello_body(TOKEN if d.token else None),
                  w.RESP_HELLO)

    def connections(self):
        return self.call(w.REQ_GET_STATS, w.fv(1, 0), w.RESP_STATS).field(7)


def make_event(org, people, rounds, seed, check_in=True):
    event_id, ids, _, _ = tp.load_event(org, people, TABLE_SIZE, rounds,
                                        seed=seed, fresh=True)
    if check_in:
        tp.presence(org, w.REQ_CHECK_IN, event_id, ids)
    return event_id


def settle(d, org, at_most, timeout=15):
    """Waits until the daemon counts at most `at_most` connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if org.connections() <= at_most:
            return True
        time.sleep(0.1)
    return False


def organizer_try(d, timeout=5.0):
    """Seconds from connect to the Stats reply of a new organizer, or
    None when it was refused, closed or not answered within `timeout`."""
    t0 = time.monotonic()
    try:
        c = w.Client(d.host, d.port)
        c.send(w.request(1, w.REQ_HELLO, hello_body(TOKEN if d.token
                                                    else None)) +
               w.request(2, w.REQ_GET_STATS, w.fv(1, 0)))
        ok = False
        for want in (w.RESP_HELLO, w.RESP_STATS):
            r = c.recv(timeout=max(0.01, timeout - (time.monotonic() - t0)))
            ok = r is not None and r.kind == want
            if not ok:
                break
        dt = time.monotonic() - t0
        c.close()
        return dt if ok else None
    except OSError:
        return None


# ---------------------------------------------------------------------------
# The scenarios.


def squat_row(d, org, kinds, n, tries, event_id):
    """n squatters split over `kinds`, then `tries` organizers."""
    per = max(1, n // len(kinds))
    ab = Abusers(d, kinds, per, rate=per, event_id=event_id)
    time.sleep(0.5)
    held = org.connections()
    times = []
    for _ in range(tries):
        times.append(organizer_try(d))
        time.sleep(0.05)
    counts = ab.stop()
    got = [t for t in times if t is not None]
    return {"times": times, "held": held,
            "max": max(got) if got else None,
            "refused": sum(t is None for t in times),
            "all_in_1s": len(got) == len(times) and max(got) < 1.0,
            "counts": counts}


def bench_squat(binary, work, args, results):
    d = Daemon(binary, work, "squat")
    try:
        org = Org(d)
        event_id = make_event(org, 40, 4, seed=3)
        rows = [[k] for k in SQUAT_KINDS] + [SQUAT_KINDS]
        for kinds in rows:
            name = kinds[0] if len(kinds) == 1 else "all kinds mixed"
            # The organizer connection above holds one slot of its own.
            r = squat_row(d, org, kinds, args.squat, args.tries, event_id)
            results.append(("squat", name, r))
            print("squat %-16s %d held; organizer: max %s, %d of %d refused "
                  "or over 5 s -> %s"
                  % (name, r["held"], msec(r["max"]) if r["max"] else "-",
                     r["refused"], args.tries,
                     "PASS" if r["all_in_1s"] else "MISS"), flush=True)
            if not settle(d, org, 1):
                print("  (connections still open after 15 s: %d)"
                      % org.connections())
        org.close()
        d.stop()
    finally:
        d.kill()
    # Without a token, nobody authenticates: the same squat for reference.
    d = Daemon(binary, work, "squat-notoken", token=False)
    try:
        org = Org(d)
        event_id = make_event(org, 40, 4, seed=3)
        r = squat_row(d, org, ["silent"], args.squat, args.tries, event_id)
        results.append(("squat-notoken", "silent, no token set", r))
        print("squat %-16s %d held; organizer: max %s, %d of %d refused "
              "(no token: informational)"
              % ("silent/no token", r["held"],
                 msec(r["max"]) if r["max"] else "-", r["refused"],
                 args.tries), flush=True)
        org.close()
        d.stop()
    finally:
        d.kill()


CALL_TIMEOUT_S = 10.0


def timed_call(client, rid, field, body, want):
    """One request; the seconds to its answer, or None when it was not
    answered within CALL_TIMEOUT_S (or wrongly)."""
    t0 = time.perf_counter()
    try:
        client.send(w.request(rid, field, body))
        r = client.recv(timeout=CALL_TIMEOUT_S)
    except OSError:
        return None, None
    if r is None or r.id != rid or r.kind != want:
        return None, r
    return time.perf_counter() - t0, r


class GoodClient:
    """Hello, then GetEvent and GetSchedule of a small event, in turn, a
    few ms apart; the seconds each answer took.  An answer that does not
    come within CALL_TIMEOUT_S counts as that long and ends the run."""

    def __init__(self, d, event_id):
        self.org = Org(d)
        self.event_id = event_id
        self.rid = 1000

    def run(self, seconds, gap=0.005):
        out = []
        stalled = False
        end = time.monotonic() + seconds
        i = 0
        while time.monotonic() < end:
            field, want = ((REQ_GET_EVENT, w.RESP_EVENT) if i % 2 == 0
                           else (REQ_GET_SCHEDULE, RESP_SCHEDULE))
            i += 1
            self.rid += 1
            dt, _ = timed_call(self.org.c, self.rid, field,
                               w.fv(1, self.event_id), want)
            if dt is None:
                out.append(CALL_TIMEOUT_S)
                stalled = True
                break
            out.append(dt)
            time.sleep(gap)
        return out, stalled


class RoundCaller(threading.Thread):
    """The organizer of the large event: a round every `every` seconds."""

    def __init__(self, d, event_id, every):
        super().__init__(daemon=True)
        self.org = Org(d)
        self.event_id = event_id
        self.every = every
        self.halt = threading.Event()
        self.rounds = 0
        self.size = 0
        self.error = None

    def run(self):
        rid = 1000
        while not self.halt.wait(self.every):
            rid += 1
            dt, r = timed_call(self.org.c, rid, w.REQ_NEXT_ROUND,
                               w.fv(1, self.event_id), w.RESP_ROUND)
            if dt is None:
                self.error = "NextRound unanswered or failed (%s)" % (
                    r and r.code)
                return
            self.size = len(r.raw)
            self.rounds += 1

    def finish(self):
        self.halt.set()
        self.join(CALL_TIMEOUT_S + 5)
        self.org.close()


def connections(d, org):
    """What the daemon counts, or -1 when it does not answer in time."""
    org.rid += 1
    dt, r = timed_call(org.c, org.rid, w.REQ_GET_STATS, w.fv(1, 0),
                       w.RESP_STATS)
    return r.field(7) if dt is not None else -1


def abuse_phase(binary, work, index, kinds, args):
    """A fresh daemon: the good client alone, then with `kinds` of abuse
    and a round of the large event every 2 s; latencies and RSS."""
    d = Daemon(binary, work, "abuse-%d" % index)
    sampler = RssSampler(d)
    sampler.start()
    try:
        org = Org(d)
        small = make_event(org, 40, 6, seed=5)
        for _ in range(3):
            org.call(w.REQ_NEXT_ROUND, w.fv(1, small), w.RESP_ROUND)
        big = make_event(org, args.people, 100, seed=7)
        good = GoodClient(d, small)
        good.run(1.0)  # warm up
        # The rounds go on through both halves: only the abuse differs.
        caller = RoundCaller(d, big, 2.0)
        caller.start()
        cpu0, t0 = cpu_seconds(d.proc.pid), time.monotonic()
        idle, _ = good.run(args.seconds)
        idle_cpu = (cpu_seconds(d.proc.pid) - cpu0) / (time.monotonic() - t0)
        sampler.reset()
        rss0 = d.status_kib("VmRSS")
        ab = Abusers(d, kinds, args.abusers, rate=args.abusers,
                     event_id=big)
        time.sleep(1.0)
        held = connections(d, org)
        cpu0, t0 = cpu_seconds(d.proc.pid), time.monotonic()
        lat, stalled = good.run(args.seconds)
        cpu = (cpu_seconds(d.proc.pid) - cpu0) / (time.monotonic() - t0)
        caller.finish()
        peak = sampler.peak
        counts = ab.stop()
        settled = settle_quietly(d, org, 3)
        time.sleep(1.0)
        r = {"idle": idle, "lat": lat, "stalled": stalled, "rss0": rss0,
             "cpu": cpu, "idle_cpu": idle_cpu,
             "peak": peak, "held": held, "after": d.status_kib("VmRSS"),
             "settled": settled, "rounds": caller.rounds,
             "round_bytes": caller.size, "counts": counts,
             "round_error": caller.error, "hwm": d.status_kib("VmHWM")}
        return r
    finally:
        sampler.halt.set()
        d.kill()


def settle_quietly(d, org, at_most, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = connections(d, org)
        if 0 <= n <= at_most:
            return True
        time.sleep(0.1)
    return False


def bench_abuse(binary, work, args, results):
    phases = [("all kinds", ABUSE_KINDS)]
    if args.breakdown:
        phases += [("all but pipeline",
                    [k for k in ABUSE_KINDS if k != "pipeline"])]
        phases += [(k, [k]) for k in ABUSE_KINDS]
    for i, (name, kinds) in enumerate(phases):
        r = abuse_phase(binary, work, i, kinds, args)
        r["p50_idle"], r["p99_idle"] = pct(r["idle"], 50), pct(r["idle"], 99)
        r["p50"], r["p99"] = pct(r["lat"], 50), pct(r["lat"], 99)
        r["ratio"] = r["p99"] / r["p99_idle"]
        results.append(("abuse", name, r))
        print("abuse %-12s %d x %d connections (%d held): good client p50 %s "
              "-> %s, p99 %s -> %s (%.1fx idle, %d requests%s); daemon CPU "
              "%.0f%% -> %.0f%%; RSS %s -> peak %s -> %s after%s; %d rounds "
              "of %d bytes pushed%s"
              % (name, args.abusers, len(kinds), r["held"],
                 msec(r["p50_idle"]), msec(r["p50"]), msec(r["p99_idle"]),
                 msec(r["p99"]), r["ratio"], len(r["lat"]),
                 ", then no answer within %d s" % CALL_TIMEOUT_S
                 if r["stalled"] else "", 100 * r["idle_cpu"],
                 100 * r["cpu"],
                 mib(r["rss0"]), mib(r["peak"]), mib(r["after"]),
                 "" if r["settled"] else " (daemon still busy)",
                 r["rounds"], r["round_bytes"],
                 "; round caller: %s" % r["round_error"]
                 if r["round_error"] else ""), flush=True)
        if args.verbose:
            for kind, c in sorted(r["counts"].items()):
                print("  %-12s %s" % (kind, c))


def slow_run(binary, work, args, n_subs):
    """n_subs subscribers that never read, then the rounds, on a fresh
    daemon; n_subs 0 is the control: what the rounds alone cost."""
    d = Daemon(binary, work, "slow-%d" % n_subs)
    sampler = RssSampler(d)
    sampler.start()
    try:
        org = Org(d)
        event_id = make_event(org, args.people, args.slow_rounds + 2, seed=9)
        rss0 = d.status_kib("VmRSS")
        subs = []
        addrs = source_addresses(40, max(1, n_subs), 30)
        for i in range(n_subs):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.bind((addrs[i % len(addrs)], 0))
            s.connect((d.host, d.port))
            s.sendall(w.request(1, w.REQ_HELLO, hello_body(TOKEN)) +
                      w.request(2, w.REQ_SUBSCRIBE, w.fv(1, event_id)))
            subs.append(s)
        time.sleep(0.5)
        subscribed = org.call(w.REQ_GET_STATS, w.fv(1, 0),
                              w.RESP_STATS).field(8)
        sampler.reset()
        size = 0
        t0 = time.monotonic()
        for _ in range(args.slow_rounds):
            r = org.call(w.REQ_NEXT_ROUND, w.fv(1, event_id), w.RESP_ROUND)
            size = max(size, len(r.raw))
        took = time.monotonic() - t0
        time.sleep(1.0)
        peak = sampler.peak
        held = d.status_kib("VmRSS")
        dropped = d.counts["dropped at the output cap"]
        for s in subs:
            s.close()
        settle(d, org, 1)
        time.sleep(1.0)
        after = d.status_kib("VmRSS")
        r = {"subs": subscribed, "rounds": args.slow_rounds, "size": size,
             "rss0": rss0, "peak": peak, "held": held, "after": after,
             "dropped": dropped, "took": took, "hwm": d.status_kib("VmHWM")}
        print("slow: %d subscribers never reading, %d rounds of %d bytes in "
              "%.1f s: RSS %s -> peak %s, %s with them still connected "
              "(%d dropped at the output cap), %s after all were gone"
              % (subscribed, r["rounds"], size, took, mib(rss0), mib(peak),
                 mib(held), dropped, mib(after)), flush=True)
        org.close()
        d.stop()
        return r
    finally:
        sampler.halt.set()
        d.kill()


def bench_slow(binary, work, args, results):
    control = slow_run(binary, work, args, 0)
    for n in args.slow_subs:
        r = slow_run(binary, work, args, n)
        r["control"] = control
        results.append(("slow", "%d slow subscribers" % n, r))


# ---------------------------------------------------------------------------


def verdict(ok):
    return "PASS" if ok else "MISS"


def table(results, args):
    rss_cap = 256 * 1024
    rows = []
    for section, name, r in results:
        if section == "squat":
            got = "%d held, max %s, %d/%d refused or over 5 s" % (
                r["held"], msec(r["max"]) if r["max"] else "-",
                r["refused"], len(r["times"]))
            rows.append(("squat %s: organizer in < 1 s, every time" % name,
                         got, verdict(r["all_in_1s"])))
        elif section == "squat-notoken":
            got = "%d held, max %s, %d/%d refused" % (
                r["held"], msec(r["max"]) if r["max"] else "-",
                r["refused"], len(r["times"]))
            rows.append(("squat %s (no target)" % name, got, "info"))
        elif section == "abuse":
            rows.append(("abuse %s: good p99 <= 2x idle" % name,
                         "p99 %s -> %s (%.1fx)%s, p50 %s -> %s, daemon CPU "
                         "%.0f%% -> %.0f%%"
                         % (msec(r["p99_idle"]), msec(r["p99"]), r["ratio"],
                            ", stalled > %d s" % CALL_TIMEOUT_S
                            if r["stalled"] else "",
                            msec(r["p50_idle"]), msec(r["p50"]),
                            100 * r["idle_cpu"], 100 * r["cpu"]),
                         verdict(r["ratio"] <= 2.0 and not r["stalled"])))
            rows.append(("abuse %s: peak RSS < 256 MB" % name,
                         "%s -> peak %s -> %s after the abusers left%s"
                         % (mib(r["rss0"]), mib(r["peak"]), mib(r["after"]),
                            "" if r["settled"] else " (still busy)"),
                         verdict(r["peak"] < rss_cap)))
        elif section == "slow":
            c = r["control"]
            rows.append(("%s: peak RSS < 256 MB" % name,
                         "%d rounds of %d B: %s -> peak %s (the rounds alone: "
                         "%s), %d dropped at the cap"
                         % (r["rounds"], r["size"], mib(r["rss0"]),
                            mib(r["peak"]), mib(c["peak"]), r["dropped"]),
                         verdict(r["peak"] < rss_cap)))
            rows.append(("%s: RSS once they are gone <= the rounds' alone "
                         "+ 32 MB" % name,
                         "%s after (the rounds alone: %s)"
                         % (mib(r["after"]), mib(c["after"])),
                         verdict(r["after"] <= c["after"] + 32 * 1024)))
    wa = max(len(a) for a, _, _ in rows)
    wb = max(len(b) for _, b, _ in rows)
    print()
    print("| %-*s | %-*s | verdict |" % (wa, "target", wb, "measured"))
    print("|%s|%s|---------|" % ("-" * (wa + 2), "-" * (wb + 2)))
    for a, b, c in rows:
        print("| %-*s | %-*s | %-7s |" % (wa, a, wb, b, c))


def default_binary():
    for build in ("build-release", "build"):
        path = os.path.join(HERE, "..", build, "daemon", "mingled")
        if os.access(path, os.X_OK):
            return os.path.normpath(path)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mingled", nargs="?", default=default_binary())
    ap.add_argument("--quick", action="store_true",
                    help="smaller numbers: a smoke test in about a minute")
    ap.add_argument("--tries", type=int, default=20)
    ap.add_argument("--squat", type=int, default=1024)
    ap.add_argument("--abusers", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--slow-subs", default="100,300",
                    help="subscriber counts, comma-separated")
    ap.add_argument("--slow-rounds", type=int, default=60)
    ap.add_argument("--breakdown", action="store_true",
                    help="also each kind of abuse on its own")
    ap.add_argument("--only", default="squat,abuse,slow")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if args.mingled is None:
        ap.error("no mingled given and none built in build-release or build")
    if args.quick:
        args.tries, args.squat, args.abusers = 5, 256, 20
        args.seconds, args.people = 4.0, 300
        args.slow_subs, args.slow_rounds = "60", 20
    args.slow_subs = [int(n) for n in args.slow_subs.split(",") if n]
    nofile = raise_nofile()
    print("mingled: %s; %d CPUs; RLIMIT_NOFILE %d"
          % (args.mingled, os.cpu_count(), nofile), flush=True)
    results = []
    only = set(args.only.split(","))
    with tempfile.TemporaryDirectory(prefix="mingle-abuse-") as work:
        try:
            if "squat" in only:
                bench_squat(args.mingled, work, args, results)
            if "abuse" in only:
                bench_abuse(args.mingled, work, args, results)
            if "slow" in only:
                bench_slow(args.mingled, work, args, results)
        except (w.Failure, OSError) as e:
            print("bench failed: %s" % e)
            if results:
                table(results, args)
            return 1
    table(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
