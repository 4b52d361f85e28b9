#!/usr/bin/env python3
"""test_store.py -- durable state: kill -9, restarts, the lock, corruption.

Usage: test_store.py PATH/TO/mingled PATH/TO/minglectl

Runs the real mingled on ephemeral loopback ports with throw-away data
directories and checks what the store promises (issue 4, item 7):

  kill:     two organizers, each on a connection and an event of its
            own, send changes (upserts of single attendees and of
            batches, profile updates, check-ins and check-outs, pairs,
            rounds; one at a time and pipelined) and record every
            acknowledgement while the daemon is killed with SIGKILL (some
            cycles: SIGTERM) at random moments and restarted, KILL_CYCLES
            times.  After every restart: every acknowledged change is
            there, nothing appears twice, every round holds its
            invariants; a change in flight at the kill may or may not be
            there.  At the end every answer is the same byte for byte
            after a kill of the idle daemon and a SIGTERM.
  restart:  an event from examples/meetup.yaml, 2 rounds, SIGTERM,
            restart, the same schedule, event list and stats byte for
            byte, 2 more rounds and no pair meets twice.
  lock:     a second daemon on the same data dir refuses to start and
            says why; the first keeps serving.
  corrupt:  garbage, a damaged page, a truncated file, or a directory
            as mingle.db: the daemon refuses to start with a reason and
            leaves the file as it was.
  bigcorrupt: a database padded past 32 MiB with a zeroed page in the
            encounters or in the pairs index, and an empty mingle.db: the
            daemon refuses to start and the file stays byte-identical.
  forget:   `forget` while another process holds a read transaction:
            within 1 s after it lets go (0.5 s in; 2.5 s in, then one
            more change), no file of the data dir holds the person's
            name, company or interests, and the answer never waits more
            than about 1 s.
  startkill: SIGKILL while the store is created or opened: the next
            start works and keeps the stored event.
  writefail: a commit that fails (mingle.db-wal made immutable): the
            request gets UNAVAILABLE, the daemon stops, a restart has the
            acknowledged changes only.  Skipped without chattr +i.
  history:  people who met at an earlier event are not seated together
            in the next event's first round, across a restart, and the
            round counts as repeats exactly the pairs who did meet.

MINGLE_KILL_SEED=N reruns the kill test with the random choices of seed N
(the timing of the kills still varies), MINGLE_KILL_CYCLES=N runs N cycles
for a soak; MINGLE_STORE_TESTS=kill,lock runs only those.  A sanitizer
report in a daemon's log is a failure.  Protobuf is spoken with the helpers
of test_server.py.
"""
import hashlib
import json
import math
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_server as w  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MEETUP_YAML = os.path.join(HERE, "..", "..", "examples", "meetup.yaml")

# Field numbers from proto/mingle.proto.
REQ_CREATE_EVENT, REQ_GET_EVENT, REQ_LIST_EVENTS = 3, 4, 5
REQ_UPSERT, REQ_CHECK_IN, REQ_CHECK_OUT, REQ_ADD_PAIRS = 7, 9, 10, 11
REQ_NEXT_ROUND, REQ_GET_SCHEDULE, REQ_LIST_ATTENDEES = 12, 13, 18
REQ_FORGET, REQ_EXPORT_HISTORY = 19, 20
RESP_ERROR, RESP_EVENT, RESP_ACK, RESP_ROUND = 2, 4, 6, 7
RESP_SCHEDULE, RESP_ATTENDEES, RESP_HISTORY = 8, 12, 13
UNAVAILABLE = 10
MET_BEFORE, AVOID = 1, 2
HISTORY_NONE = 1

KILL_CYCLES = int(os.environ.get("MINGLE_KILL_CYCLES", "50"))
KILL_DELAY_S = (0.010, 0.150)  # how long the client runs before a kill
KILL_TABLE = 4
KILL_TARGET_PRESENT = 40       # keeps the rounds free of repeats
KILL_ROUND_PRESENT = 32        # fewer at tables of 4 soon must repeat
KILL_ROUNDS_PLANNED = 6        # the plan looks this far ahead: loose
KILL_ROUNDS_MAX = 12           # rounds past the plan are planned alone
KILL_ROUND_CHANCE = 0.10       # per step, while the cycle's budget lasts
KILL_ROUND_EVERY = 5           # these cycles start with NextRound ...
KILL_ROUND_DELAY_S = (0.0, 0.060)  # ... and are killed this early
KILL_BATCH = 25                # attendees in one UpsertAttendees, sometimes
KILL_ATTENDEES_MAX = 1500      # then updates only: keeps restarts quick
KILL_ORGANIZERS = 2            # connections at once, an event each
KILL_TERM_EVERY = 10           # these cycles end with SIGTERM instead
START_TIMEOUT_S = 20
START_KILLS = 15               # kills during start, on a new and an old store
START_KILL_WINDOW_S = 0.05
CTL_TIMEOUT_S = 60
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:")


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


# ---- decoding ----

def allf(buf, num):
    """Every value of field `num` of one message, in order."""
    return [v for n, v in w.fields(buf) if n == num]


def onef(buf, num, default=0):
    vals = allf(buf, num)
    return vals[-1] if vals else default


def text(b):
    return b.decode("utf-8")


def decode_round(buf):
    """RoundAssigned -> (round, [[ids of table 1], [ids of table 2], ...],
    repeat_pairs of its summary)."""
    tables = []
    for t in allf(buf, 3):
        seats = [text(onef(s, 1, b"")) for s in allf(t, 2)]
        tables.append((onef(t, 1), seats))
    numbers = [n for n, _ in tables]
    check(numbers == list(range(1, len(tables) + 1)),
          "tables numbered %s" % numbers)
    summary = onef(buf, 4, b"")
    return onef(buf, 2), [s for _, s in tables], onef(summary, 2)


def decode_attendees(buf, versions=None):
    """AttendeeList -> (ids, met_before pairs, avoid pairs, present), as
    lists in the server's order.  versions(id): the profile versions the
    attendee may have."""
    people = allf(buf, 1)
    ids = [text(onef(a, 1, b"")) for a in people]
    for aid, a in zip(ids, people):
        # Interests come back in the order the server first saw each tag.
        got = (text(onef(a, 2, b"")), text(onef(a, 3, b"")),
               text(onef(a, 4, b"")), sorted(text(t) for t in allf(a, 5)))
        if versions is None:
            continue
        allowed = [profile(aid, v) for v in versions(aid)]
        check(got in allowed, "attendee %s has the profile %r, none of "
              "those sent: %s" % (aid, got, allowed))
        versions(aid, int(got[2].split()[1]))

    def pairs(num):
        return [(text(onef(p, 1, b"")), text(onef(p, 2, b"")))
                for p in allf(buf, num)]
    return ids, pairs(2), pairs(3), [text(p) for p in allf(buf, 4)]


def seating(round_buf):
    """A RoundAssigned's tables as encoded, less their scores and reasons:
    a table's score counts shared interests by how rare they are among
    the event's current attendees, so it changes as people join."""
    return [[(n, v) for n, v in w.fields(t) if n in (1, 2)]
            for t in allf(round_buf, 3)]


def pair(a, b):
    return (a, b) if a < b else (b, a)


def table_pairs(tables):
    for t in tables:
        for i, a in enumerate(t):
            for b in t[i + 1:]:
                yield pair(a, b)


# ---- encoding ----

def profile(aid, version=0):
    """The profile the tests give attendee `aid`: (name, company, industry,
    interests).  An update bumps the version: the name stays, since seats
    of earlier rounds show it."""
    n = sum(aid.encode()) + version
    tags = ["tag%d" % (n % 9)] + ["v%d" % v for v in range(version % 3)]
    return ("Person " + aid, "Firma %d" % (n % 7), "rev %d" % version,
            sorted(tags))


def attendee(aid, version=0):
    name, company, industry, tags = profile(aid, version)
    return w.fb(2, w.fb(1, aid) + w.fb(2, name) + w.fb(3, company) +
                w.fb(4, industry) + b"".join(w.fb(5, t) for t in tags))


def ids_body(event_id, ids):
    return w.fv(1, event_id) + b"".join(w.fb(2, i) for i in ids)


def pairs_body(event_id, kind, pairs):
    return (w.fv(1, event_id) + w.fv(2, kind) +
            b"".join(w.fb(3, w.fb(1, a) + w.fb(2, b)) for a, b in pairs))


def create_event_body(name, table_size, rounds, seed, history=None):
    body = (w.fb(1, name) + w.fv(2, table_size) + w.fv(3, rounds) +
            w.fv(5, seed) + w.fv(6, 1))
    if history is not None:
        body += w.fb(7, w.fv(1, history))
    return body


# ---- the daemon ----

class Mingled:
    """One mingled process on a data dir, its stderr collected."""

    def __init__(self, binary, data_dir, wait=True):
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--listen", "127.0.0.1",
             "--data-dir", data_dir],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        self.lines = []
        self.lock = threading.Lock()
        self.port = None
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if wait:
            self.ready.wait(START_TIMEOUT_S)
            if self.port is None:
                self.kill()
                raise Failure("mingled did not start:\n" + self.log())

    def _read(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.lock:
                self.lines.append(line)
            m = re.search(r"listening on \S+:(\d+)$", line)
            if m and self.port is None:
                self.port = int(m.group(1))
                self.ready.set()
        self.ready.set()

    def log(self):
        with self.lock:
            return "\n".join(self.lines)

    def client(self):
        c = w.Client("127.0.0.1", self.port)
        c.sock.settimeout(30)
        return c

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.reader.join(10)

    def stop(self):
        """SIGTERM; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
                raise Failure("mingled ignored SIGTERM for 30 s")
        self.reader.join(10)
        return self.proc.returncode

    def wait_exit(self, timeout):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure("mingled still running after %d s:\n%s"
                          % (timeout, self.log()))
        self.reader.join(10)
        return rc


class Daemons:
    """Every daemon a test starts, so that all of them die with it."""

    def __init__(self, binary):
        self.binary = binary
        self.all = []

    def start(self, data_dir, wait=True):
        d = Mingled(self.binary, data_dir, wait)
        self.all.append(d)
        return d

    def kill_all(self):
        for d in self.all:
            d.kill()

    def sanitizer_logs(self):
        return [d.log() for d in self.all if SANITIZER.search(d.log())]


def call(c, rid, field, body, want):
    r = c.call(rid, field, body)
    check(r.kind == want, "request %d (field %d): response kind %r, code "
          "%r, %r" % (rid, field, r.kind, r.code,
                      r.field(2, b"") if r.kind == RESP_ERROR else ""))
    return r


# ---- 1. SIGKILL at random moments ----

class KillModel:
    """One organizer (a connection driving an event of its own): what it
    knows is durable, and what it sent without an answer (which may or may
    not have been stored)."""

    def __init__(self, event_id, prefix, seed):
        self.event_id = event_id
        self.prefix = prefix     # of the attendee ids it makes up
        self.rng = random.Random(seed)
        self.rid = 1000
        self.attendees = set()   # acked
        self.maybe_attendees = set()
        self.version = {}        # id -> acked profile version, if not 0
        self.maybe_version = {}  # id -> versions sent without an answer
        self.present = set()     # exact: observed after a restart, then acked
        self.maybe_present = set()  # touched by an unanswered request
        # pair -> how many rounds were assigned before it was added
        self.pairs = {MET_BEFORE: {}, AVOID: {}}
        self.maybe_pairs = {MET_BEFORE: set(), AVOID: set()}
        self.rounds = []         # [tables] of acked (or observed) rounds
        self.round_tables = []   # their seating(), names included
        self.round_present = []  # who was present for each round
        self.round_origin = []   # (cycle, "acked" or "found", repeats)
        self.cycle = 0
        self.maybe_round = None  # present set of an unanswered NextRound
        self.next_id = 1
        self.acks = 0
        self.doubt_stored = 0    # changes in flight at a kill, then found
        self.doubt_lost = 0      # ... or not found
        self.rounds_in_doubt = 0  # NextRound in flight at a kill


def verify(c, m, cycle):
    """Checks the restarted daemon against the model, then adopts what it
    shows for the changes in doubt."""
    where = "event %d after restart %s" % (m.event_id, cycle)
    event_id, rid = m.event_id, m.rid
    m.rid += 3
    r = call(c, rid, REQ_LIST_ATTENDEES, w.fv(1, event_id), RESP_ATTENDEES)
    def versions(aid, seen=None):
        """The versions aid may have; `seen`: the one it has."""
        if seen is not None:
            if aid in m.maybe_version:
                m.doubt_stored += seen in m.maybe_version[aid]
                m.doubt_lost += seen not in m.maybe_version[aid]
            m.version[aid] = seen
            return None
        return {m.version.get(aid, 0)} | m.maybe_version.get(aid, set())

    ids, met, avoid, present = decode_attendees(r.body, versions)
    m.maybe_version = {}
    check(len(ids) == len(set(ids)), "%s: an attendee listed twice: %s"
          % (where, sorted(i for i in ids if ids.count(i) > 1)))
    got = set(ids)
    m.doubt_stored += len(m.maybe_attendees & got)
    m.doubt_lost += len(m.maybe_attendees - got)
    lost = m.attendees - got
    check(not lost, "%s: acknowledged attendees lost: %s"
          % (where, sorted(lost)))
    extra = got - m.attendees - m.maybe_attendees
    check(not extra, "%s: attendees never sent: %s" % (where, sorted(extra)))
    check(len(present) == len(set(present)), "%s: present listed twice"
          % where)
    pres = set(present)
    check(pres <= got, "%s: present but no attendee: %s"
          % (where, sorted(pres - got)))
    wrong = (pres ^ m.present) - m.maybe_present
    check(not wrong, "%s: presence differs from the acknowledged state "
          "for %s (expected present: %s)"
          % (where, sorted(wrong), sorted(wrong & m.present)))
    for kind, listed in ((MET_BEFORE, met), (AVOID, avoid)):
        norm = [pair(a, b) for a, b in listed]
        check(len(norm) == len(set(norm)), "%s: a pair listed twice" % where)
        lost = set(m.pairs[kind]) - set(norm)
        check(not lost, "%s: acknowledged pairs (kind %d) lost: %s"
              % (where, kind, sorted(lost)))
        extra = set(norm) - set(m.pairs[kind]) - m.maybe_pairs[kind]
        check(not extra, "%s: pairs never sent: %s" % (where, sorted(extra)))
        stored = set(norm) & m.maybe_pairs[kind]
        m.doubt_stored += len(stored)
        m.doubt_lost += len(m.maybe_pairs[kind] - stored)
        # A pair in doubt was sent after every round known so far.
        m.pairs[kind] = {p: m.pairs[kind].get(p, len(m.rounds))
                         for p in norm}
        m.maybe_pairs[kind] = set()

    r = call(c, rid + 1, REQ_GET_SCHEDULE, w.fv(1, event_id), RESP_SCHEDULE)
    raw = allf(r.body, 3)
    rounds = [decode_round(b) for b in raw]
    numbers = [n for n, _, _ in rounds]
    check(numbers == list(range(1, len(rounds) + 1)),
          "%s: round numbers %s" % (where, numbers))
    known = len(m.rounds)
    check(len(rounds) >= known, "%s: %d rounds, %d acknowledged"
          % (where, len(rounds), known))
    check(len(rounds) <= known + (m.maybe_round is not None),
          "%s: %d rounds, %d acknowledged, none in flight"
          % (where, len(rounds), known))
    for i in range(known):
        check(rounds[i][1] == m.rounds[i],
              "%s: round %d seats differ from its acknowledgement:\n"
              "acked %s\nnow   %s" % (where, i + 1, m.rounds[i], rounds[i][1]))
        check(seating(raw[i]) == m.round_tables[i],
              "%s: round %d: the same ids, but table numbers or names "
              "differ from its acknowledgement:\nacked %s\nnow   %s"
              % (where, i + 1, m.round_tables[i], seating(raw[i])))
    if m.maybe_round is not None:
        m.rounds_in_doubt += 1
        if len(rounds) > known:
            m.doubt_stored += 1
            m.rounds.append(rounds[known][1])
            m.round_tables.append(seating(raw[known]))
            m.round_present.append(m.maybe_round)
            m.round_origin.append((m.cycle, "found", rounds[known][2]))
        else:
            m.doubt_lost += 1
    m.maybe_round = None

    r = call(c, rid + 2, REQ_GET_EVENT, w.fv(1, event_id), RESP_EVENT)
    info = r.body
    check(onef(info, 5) == len(rounds), "%s: rounds_done %d, schedule has %d"
          % (where, onef(info, 5), len(rounds)))
    check(onef(info, 7) == len(ids), "%s: GetEvent says %d attendees, the "
          "list has %d" % (where, onef(info, 7), len(ids)))
    check(onef(info, 8) == len(pres), "%s: GetEvent says %d present, the "
          "list has %d" % (where, onef(info, 8), len(pres)))

    m.attendees = got
    m.maybe_attendees = set()
    m.present = pres
    m.maybe_present = set()
    check_rounds(m, where)
    check_encounters(c, m, where)


def check_encounters(c, m, where):
    """The history holds each pair of each round's tables once."""
    seen = []
    after = 0
    while True:
        r = call(c, m.rid, REQ_EXPORT_HISTORY, w.fv(1, after), RESP_HISTORY)
        m.rid += 1
        for e in allf(r.body, 1):
            after = onef(e, 1)
            if onef(e, 4) == m.event_id:
                seen.append((onef(e, 5), pair(text(onef(e, 2, b"")),
                                              text(onef(e, 3, b"")))))
        if not onef(r.body, 2):
            break
    want = [(n, p) for n, tables in enumerate(m.rounds, 1)
            for p in table_pairs(tables)]
    check(len(seen) == len(set(seen)), "%s: an encounter stored twice"
          % where)
    check(sorted(seen) == sorted(want), "%s: %d encounters stored, the "
          "rounds have %d; missing %s, extra %s"
          % (where, len(seen), len(want), sorted(set(want) - set(seen))[:5],
             sorted(set(seen) - set(want))[:5]))


def check_rounds(m, where):
    met = {}
    for n, (tables, present) in enumerate(zip(m.rounds, m.round_present), 1):
        known = {p for p, before in m.pairs[MET_BEFORE].items()
                 if before < n}
        avoid = {p for p, before in m.pairs[AVOID].items() if before < n}
        seated = [a for t in tables for a in t]
        check(len(seated) == len(set(seated)),
              "%s: round %d seats someone twice" % (where, n))
        check(set(seated) == present,
              "%s: round %d seats %d, %d were present; missing %s, extra %s"
              % (where, n, len(seated), len(present),
                 sorted(present - set(seated)),
                 sorted(set(seated) - present)))
        sizes = [len(t) for t in tables]
        check(len(sizes) == math.ceil(len(seated) / KILL_TABLE),
              "%s: round %d has %d tables for %d people"
              % (where, n, len(sizes), len(seated)))
        check(max(sizes) - min(sizes) <= 1, "%s: round %d tables %s"
              % (where, n, sizes))
        repeats = []
        for p in table_pairs(tables):
            check(p not in avoid, "%s: round %d seats the avoid "
                  "pair %s together" % (where, n, p))
            if p in met or p in known:
                repeats.append(p)
            met.setdefault(p, n)
        # The server counts the same repeats as we do, before and after a
        # restart; within the plan there are none.
        cycle, how, counted = m.round_origin[n - 1]
        check(counted == len(repeats), "%s: round %d (%s in cycle %d) "
              "reports %d repeats, it has %d: %s"
              % (where, n, how, cycle, counted, len(repeats), repeats))
        check(n > KILL_ROUNDS_PLANNED or not repeats,
              "%s: round %d of a loose plan seats people who met before: "
              "%s" % (where, n, [(p, met[p]) for p in repeats]))


def snapshot(c, event_id):
    """The encoded answers of every query on the event and the server."""
    out = {}
    for rid, (name, field, body) in enumerate((
            ("ListAttendees", REQ_LIST_ATTENDEES, w.fv(1, event_id)),
            ("GetSchedule", REQ_GET_SCHEDULE, w.fv(1, event_id)),
            ("GetEvent", REQ_GET_EVENT, w.fv(1, event_id)),
            ("ListEvents", REQ_LIST_EVENTS, w.fv(1, 1)),
            ("ExportHistory", REQ_EXPORT_HISTORY, w.fv(2, 100000))), 900):
        r = c.call(rid, field, body)
        check(r.kind != RESP_ERROR, "%s: error %r" % (name, r.code))
        out[name] = r.raw
    return out


def kill_ops(m, cycle, first):
    """The next request(s) to send: [(field, body, what)], what being the
    change each one makes, for the model.  `first`: the cycle's first."""
    rng, event_id = m.rng, m.event_id
    absent = sorted(m.attendees - m.present)
    present = sorted(m.present)
    ops = []
    roll = rng.random()
    # Rounds spread over the cycles, so that kills meet them late too.
    budget = 1 + (KILL_ROUNDS_MAX - 1) * cycle // KILL_CYCLES
    if first and cycle % KILL_ROUND_EVERY == 0:
        roll = 0
    if roll < KILL_ROUND_CHANCE and len(m.rounds) < budget and \
            len(present) >= KILL_ROUND_PRESENT:
        return [(REQ_NEXT_ROUND, w.fv(1, event_id), ("round",))]
    if (roll < 0.45 and len(m.attendees) < KILL_ATTENDEES_MAX) or \
            len(m.attendees) < 8:
        # Singles one at a time or pipelined, or a batch in one request.
        n, per = rng.choice(((1, 1), (1, 1), (1, 1), (4, 1), (12, 1),
                             (1, KILL_BATCH)))
        count = len(present)
        for _ in range(n):
            ids = ["%s%05d" % (m.prefix, m.next_id + i) for i in range(per)]
            m.next_id += per
            ops.append((REQ_UPSERT, w.fv(1, event_id) +
                        b"".join(attendee(i) for i in ids),
                        ("upsert", ids)))
            if count < KILL_TARGET_PRESENT and rng.random() < 0.5:
                pick = ids[:KILL_TARGET_PRESENT - count]
                ops.append((REQ_CHECK_IN, ids_body(event_id, pick),
                            ("in", pick)))
                count += len(pick)
        return ops
    if roll < 0.7 and absent and len(present) < KILL_TARGET_PRESENT + 4:
        pick = rng.sample(absent, min(len(absent), rng.choice((1, 1, 3))))
        return [(REQ_CHECK_IN, ids_body(event_id, pick), ("in", pick))]
    if roll < 0.9 and len(present) > KILL_TARGET_PRESENT - 8:
        pick = rng.sample(present, rng.choice((1, 1, 2)))
        return [(REQ_CHECK_OUT, ids_body(event_id, pick), ("out", pick))]
    if roll < 0.95 and m.attendees:
        pick = rng.sample(sorted(m.attendees),
                          min(len(m.attendees), rng.choice((1, 1, 3))))
        vers = [m.version.get(aid, 0) + 1 for aid in pick]
        return [(REQ_UPSERT, w.fv(1, event_id) +
                 b"".join(attendee(a, v) for a, v in zip(pick, vers)),
                 ("update", list(zip(pick, vers))))]
    if len(m.attendees) >= 2:
        a, b = rng.sample(sorted(m.attendees), 2)
        kind = MET_BEFORE if rng.random() < 0.7 else AVOID
        return [(REQ_ADD_PAIRS, pairs_body(event_id, kind, [(a, b)]),
                 ("pair", kind, pair(a, b)))]
    return []


def apply_ack(m, what, resp):
    m.acks += 1
    if what[0] == "upsert":
        check(resp.kind == RESP_ACK, "upsert %s answered %r %r"
              % (what[1], resp.kind, resp.code))
        check(resp.field(1) == len(what[1]), "upsert of %d new attendees: "
              "ack counts %d" % (len(what[1]), resp.field(1)))
        m.attendees.update(what[1])
        m.maybe_attendees.difference_update(what[1])
    elif what[0] == "update":
        check(resp.kind == RESP_ACK, "update %s answered %r %r"
              % (what[1], resp.kind, resp.code))
        check(resp.field(1) == len(what[1]), "update of %d attendees: "
              "ack counts %d" % (len(what[1]), resp.field(1)))
        for aid, v in what[1]:
            m.version[aid] = v
            m.maybe_version.get(aid, set()).discard(v)
    elif what[0] in ("in", "out"):
        check(resp.kind == RESP_ACK, "%s %s answered %r %r"
              % (what[0], what[1], resp.kind, resp.code))
        for aid in what[1]:
            if what[0] == "in":
                m.present.add(aid)
            else:
                m.present.discard(aid)
            m.maybe_present.discard(aid)
        check(resp.field(2) == len(m.present),
              "%s %s: ack says %d present, the model %d"
              % (what[0], what[1], resp.field(2), len(m.present)))
    elif what[0] == "pair":
        check(resp.kind == RESP_ACK, "pair %s answered %r %r"
              % (what[2], resp.kind, resp.code))
        m.pairs[what[1]].setdefault(what[2], len(m.rounds))
        m.maybe_pairs[what[1]].discard(what[2])
    elif what[0] == "round":
        check(resp.kind == RESP_ROUND, "NextRound answered %r %r"
              % (resp.kind, resp.code))
        n, tables, repeats = decode_round(resp.body)
        m.round_origin.append((m.cycle, "acked", repeats))
        check(n == len(m.rounds) + 1, "NextRound answered round %d after "
              "%d rounds" % (n, len(m.rounds)))
        m.rounds.append(tables)
        m.round_tables.append(seating(resp.body))
        m.round_present.append(m.maybe_round)
        m.maybe_round = None


def mark_in_flight(m, what):
    if what[0] == "upsert":
        m.maybe_attendees.update(what[1])
    elif what[0] == "update":
        for aid, v in what[1]:
            m.maybe_version.setdefault(aid, set()).add(v)
    elif what[0] in ("in", "out"):
        m.maybe_present.update(what[1])
    elif what[0] == "pair":
        m.maybe_pairs[what[1]].add(what[2])
    elif what[0] == "round":
        m.maybe_round = set(m.present)


def kill_cycle(c, m, cycle, deadline):
    """Sends requests until the connection dies (the kill) or `deadline`.
    Returns the number of requests answered."""
    answered = 0
    while time.monotonic() < deadline:
        ops = kill_ops(m, cycle, answered == 0)
        if not ops:
            continue
        first = m.rid
        m.rid += len(ops)
        for what in (o[2] for o in ops):
            mark_in_flight(m, what)
        try:
            c.send(b"".join(w.request(first + i, f, b)
                            for i, (f, b, _) in enumerate(ops)))
        except OSError:
            return answered
        for i, (_, _, what) in enumerate(ops):
            try:
                r = c.recv(timeout=30)
            except OSError:
                r = None
            if r is None:
                return answered
            if r.kind == RESP_ERROR and r.code == UNAVAILABLE:
                return answered  # SIGTERM: the goodbye
            check(r.id == first + i, "response id %d, expected %d (in order)"
                  % (r.id, first + i))
            apply_ack(m, what, r)
            answered += 1
    return answered


class Organizer(threading.Thread):
    """Runs kill_cycle() on a connection of its own."""

    def __init__(self, d, m, cycle, deadline):
        super().__init__(daemon=True)
        self.c = d.client()
        self.m, self.cycle, self.deadline = m, cycle, deadline
        self.answered = 0
        self.error = None

    def run(self):
        try:
            self.answered = kill_cycle(self.c, self.m, self.cycle,
                                       self.deadline)
        except Exception as e:  # reported by the main thread
            self.error = e
        finally:
            self.c.close()


def test_kill(ds, work):
    seed = int(os.environ.get("MINGLE_KILL_SEED", "0")) or \
        random.SystemRandom().randrange(1, 1 << 30)
    print("     kill seed %d (MINGLE_KILL_SEED=%d reruns its choices)"
          % (seed, seed))
    rng = random.Random(seed)
    data = os.path.join(work, "kill.data")
    d = ds.start(data)
    c = d.client()
    models = []
    for i in range(KILL_ORGANIZERS):
        r = call(c, 1 + i, REQ_CREATE_EVENT,
                 create_event_body("kill %d" % i, KILL_TABLE,
                                   KILL_ROUNDS_PLANNED, seed + i), RESP_EVENT)
        models.append(KillModel(r.field(1), "k%c" % (ord("a") + i),
                                seed + i + 1))
    c.close()
    answered = []
    for cycle in range(1, KILL_CYCLES + 1):
        delay = rng.uniform(*(KILL_ROUND_DELAY_S
                              if cycle % KILL_ROUND_EVERY == 0
                              else KILL_DELAY_S))
        orgs = []
        for m in models:
            m.cycle = cycle
            orgs.append(Organizer(d, m, cycle, time.monotonic() + delay + 10))
        term = cycle % KILL_TERM_EVERY == KILL_TERM_EVERY - 3
        timer = threading.Timer(delay, d.proc.terminate if term
                                else d.proc.kill)
        for o in orgs:
            o.start()
        timer.start()
        for o in orgs:
            o.join(60)
        timer.cancel()
        timer.join()
        if term:
            check(d.wait_exit(30) == 0, "cycle %d: exit status %r after "
                  "SIGTERM:\n%s" % (cycle, d.proc.returncode, d.log()))
        else:
            d.kill()
        for o in orgs:
            check(not o.is_alive(), "cycle %d: an organizer hangs" % cycle)
            if o.error is not None:
                raise o.error
        answered.append(sum(o.answered for o in orgs))
        check(term or d.proc.returncode == -signal.SIGKILL,
              "cycle %d: mingled exited %r before the kill:\n%s"
              % (cycle, d.proc.returncode, d.log()))
        d = ds.start(data)
        c = d.client()
        for m in models:
            verify(c, m, cycle)
        c.close()
    # Exact on restart: every answer byte for byte, after a kill of an idle
    # daemon and after a clean stop.
    c = d.client()
    before = [snapshot(c, m.event_id) for m in models]
    c.close()
    for how in ("SIGKILL", "SIGTERM"):
        if how == "SIGKILL":
            d.kill()
        else:
            check(d.stop() == 0, "exit status %r after SIGTERM"
                  % d.proc.returncode)
        d = ds.start(data)
        c = d.client()
        for m in models:
            verify(c, m, "%s while idle" % how)
        after = [snapshot(c, m.event_id) for m in models]
        c.close()
        for b, a in zip(before, after):
            for what in b:
                check(a[what] == b[what], "%s differs after a %s restart"
                      % (what, how))
    rc = d.stop()
    check(rc == 0, "exit status %r after SIGTERM" % rc)
    print("     %d cycles, %d organizers, %d acknowledgements (%d..%d per "
          "cycle)" % (KILL_CYCLES, len(models), sum(m.acks for m in models),
                      min(answered), max(answered)))
    for m in models:
        print("     event %d: %d attendees, %d present, %d rounds, %d pairs; "
              "in flight at a kill: %d changes found, %d not (%d NextRound)"
              % (m.event_id, len(m.attendees), len(m.present),
                 len(m.rounds),
                 len(m.pairs[MET_BEFORE]) + len(m.pairs[AVOID]),
                 m.doubt_stored, m.doubt_lost, m.rounds_in_doubt))
        check(len(m.rounds) >= 3, "event %d: only %d rounds over the whole "
              "run" % (m.event_id, len(m.rounds)))
    check(sum(1 for n in answered if n == 0) < KILL_CYCLES // 2,
          "most cycles were killed before any answer: %s" % answered)


def test_start_kill(ds, work):
    """SIGKILL while the daemon creates or opens its store: the next start
    still works and keeps what was stored."""
    rng = random.Random(7)
    data = os.path.join(work, "startkill.data")
    event_id = None
    early = 0
    for phase in ("new", "existing"):
        for _ in range(START_KILLS):
            d = ds.start(data, wait=False)
            time.sleep(rng.uniform(0, START_KILL_WINDOW_S))
            early += d.port is None
            d.kill()
            check(d.proc.returncode == -signal.SIGKILL,
                  "%s store: mingled exited %r before the kill:\n%s"
                  % (phase, d.proc.returncode, d.log()))
        d = ds.start(data)
        c = d.client()
        if event_id is None:
            event_id = call(c, 1, REQ_CREATE_EVENT,
                            create_event_body("start", 4, 1, 1),
                            RESP_EVENT).field(1)
        r = call(c, 2, REQ_GET_EVENT, w.fv(1, event_id), RESP_EVENT)
        check(text(r.field(2, b"")) == "start",
              "%s store: the event is gone" % phase)
        c.close()
        check(d.stop() == 0, "mingled did not exit cleanly")
    print("     %d of %d kills came before the daemon listened"
          % (early, 2 * START_KILLS))


def test_write_fail(ds, work):
    """A commit that cannot be written (the WAL made immutable, which
    binds root too): the request gets UNAVAILABLE, the daemon stops with a
    non-zero status, and a restart has every acknowledged change and not
    the refused one."""
    data = os.path.join(work, "writefail.data")
    wal = os.path.join(data, "mingle.db-wal")
    d = ds.start(data)
    c = d.client()
    ev = call(c, 1, REQ_CREATE_EVENT, create_event_body("wf", 4, 1, 1),
              RESP_EVENT).field(1)
    call(c, 2, REQ_UPSERT, w.fv(1, ev) + attendee("acked"), RESP_ACK)
    try:
        if subprocess.run(["chattr", "+i", wal], capture_output=True,
                          timeout=10).returncode != 0:
            print("     skipped: chattr +i failed (not root, or no ext4)")
            c.close()
            return
    except OSError:
        print("     skipped: no chattr")
        c.close()
        return
    try:
        r = c.call(3, REQ_UPSERT, w.fv(1, ev) + attendee("refused"))
        check(r.kind == RESP_ERROR and r.code == UNAVAILABLE,
              "a failed commit answered kind %r code %r" % (r.kind, r.code))
        check(c.closed(), "the connection stayed open")
        rc = d.wait_exit(30)
        check(rc not in (0, None), "exit status %r after a failed commit"
              % rc)
        check(re.search(r"ERROR .*store", d.log()),
              "the failure was not logged:\n%s" % d.log())
    finally:
        c.close()
        subprocess.run(["chattr", "-i", wal], timeout=10)
    d = ds.start(data)
    c = d.client()
    r = call(c, 4, REQ_LIST_ATTENDEES, w.fv(1, ev), RESP_ATTENDEES)
    ids = decode_attendees(r.body)[0]
    check(ids == ["acked"], "after the failed commit and a restart: %s"
          % ids)
    c.close()
    check(d.stop() == 0, "mingled did not exit cleanly")


# ---- 2. a restart in the middle of an event, through minglectl ----

class Ctl:
    def __init__(self, minglectl, port):
        self.argv = [minglectl, "--host", "127.0.0.1", "--port", str(port),
                     "--timeout", "30"]

    def run(self, *args):
        p = subprocess.run(self.argv + list(args), capture_output=True,
                           text=True, timeout=CTL_TIMEOUT_S)
        check(not SANITIZER.search(p.stderr),
              "minglectl %s: sanitizer report\n%s" % (" ".join(args),
                                                      p.stderr))
        check(p.returncode == 0, "minglectl %s: exit %d\n%s"
              % (" ".join(args), p.returncode, p.stderr))
        return p.stdout


def event_stats(out):
    """The lines of `minglectl stats` about the event, not the process
    (connections, requests, uptime) nor the background planner (its plan,
    and the quality figures it brings, last)."""
    lines = []
    for ln in out.splitlines():
        if ln.startswith(("quality,", "plan:")):
            break
        if not re.match(r"(connections|subscribers|requests|uptime):", ln):
            lines.append(ln)
    check(len(lines) >= 6, "stats printed %r" % out)
    return "\n".join(lines)


def test_restart(ds, work, minglectl):
    data = os.path.join(work, "restart.data")
    d = ds.start(data)
    ctl = Ctl(minglectl, d.port)
    ev = ctl.run("event", "create", MEETUP_YAML).strip()
    check(ev.isdigit(), "event create printed %r" % ev)
    ctl.run("checkin", "--all", "--event", ev)
    for _ in range(2):
        ctl.run("round", "next", "--event", ev)
    before = ctl.run("schedule", "--format", "json", "--event", ev)
    listed = ctl.run("event", "list")
    stats = event_stats(ctl.run("stats", "--event", ev))
    show = ctl.run("event", "show", "--event", ev)
    rc = d.stop()
    check(rc == 0, "exit status %r after SIGTERM" % rc)

    d = ds.start(data)
    ctl = Ctl(minglectl, d.port)
    after = ctl.run("schedule", "--format", "json", "--event", ev)
    check(after == before, "schedule differs after the restart:\nbefore %s\n"
          "after  %s" % (before, after))
    check(ctl.run("event", "list") == listed, "event list differs")
    now = event_stats(ctl.run("stats", "--event", ev))
    check(now == stats, "stats differ:\nbefore %s\nafter  %s"
          % (stats, now))
    check(ctl.run("event", "show", "--event", ev) == show,
          "event show differs")
    for _ in range(2):
        ctl.run("round", "next", "--event", ev)
    sched = json.loads(ctl.run("schedule", "--format", "json",
                               "--event", ev))
    check(sched["rounds"][:2] == json.loads(before)["rounds"],
          "rounds 1-2 changed after rounds 3-4")
    check(len(sched["rounds"]) == 4, "%d rounds" % len(sched["rounds"]))
    met = set()
    people = None
    for r in sched["rounds"]:
        seated = sorted(a for t in r["tables"] for a in t["attendees"])
        check(people is None or seated == people,
              "round %d seats other people" % r["round"])
        people = seated
        for p in table_pairs([t["attendees"] for t in r["tables"]]):
            check(p not in met, "%s meet twice (round %d)" % (p, r["round"]))
            met.add(p)
    check(sched["summary"]["repeat_pairs"] == 0,
          "summary counts repeats: %s" % sched["summary"])
    rc = d.stop()
    check(rc == 0, "exit status %r after SIGTERM" % rc)


# ---- 3. the lock ----

def test_lock(ds, work):
    data = os.path.join(work, "lock.data")
    first = ds.start(data)
    c = first.client()
    ev = call(c, 1, REQ_CREATE_EVENT, create_event_body("lock", 4, 1, 1),
              RESP_EVENT).field(1)
    second = ds.start(data, wait=False)
    rc = second.wait_exit(START_TIMEOUT_S)
    err = second.log()
    check(rc != 0, "a second daemon on the same data dir exited %r" % rc)
    check("in use" in err and data in err,
          "the second daemon gave no clear reason: %r" % err)
    check("listening on" not in err, "the second daemon listened")
    r = call(c, 2, REQ_GET_EVENT, w.fv(1, ev), RESP_EVENT)
    check(text(r.field(2, b"")) == "lock", "the first daemon lost its event")
    c.close()
    c = first.client()
    call(c, 3, REQ_CREATE_EVENT, create_event_body("lock2", 4, 1, 1),
         RESP_EVENT)
    c.close()
    check(first.stop() == 0, "the first daemon did not exit cleanly")
    # The lock goes with its daemon.
    third = ds.start(data)
    c = third.client()
    r = call(c, 4, REQ_GET_EVENT, w.fv(1, ev), RESP_EVENT)
    check(text(r.field(2, b"")) == "lock", "the event is gone")
    c.close()
    check(third.stop() == 0, "the third daemon did not exit cleanly")


# ---- 4. a corrupt database ----

def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def refuses(ds, data, what):
    db = os.path.join(data, "mingle.db")
    digest, size = sha(db), os.path.getsize(db)
    d = ds.start(data, wait=False)
    rc = d.wait_exit(START_TIMEOUT_S)
    err = d.log()
    check(rc != 0, "%s: mingled exited %r" % (what, rc))
    check("listening on" not in err, "%s: mingled listened" % what)
    check(re.search(r"mingle\.db|database|corrupt|malformed", err, re.I),
          "%s: no clear reason: %r" % (what, err))
    check(os.path.getsize(db) == size and sha(db) == digest,
          "%s: mingle.db was changed" % what)
    return err.strip().splitlines()[-1] if err.strip() else ""


def filled_store(ds, data):
    """A data dir with an event, 30 attendees and 2 rounds, cleanly
    stopped."""
    d = ds.start(data)
    c = d.client()
    r = call(c, 1, REQ_CREATE_EVENT, create_event_body("c", 4, 2, 3),
             RESP_EVENT)
    ev = r.field(1)
    ids = ["c%02d" % i for i in range(30)]
    call(c, 2, REQ_UPSERT, w.fv(1, ev) + b"".join(attendee(i) for i in ids),
         RESP_ACK)
    call(c, 3, REQ_CHECK_IN, ids_body(ev, ids), RESP_ACK)
    call(c, 4, REQ_NEXT_ROUND, w.fv(1, ev), RESP_ROUND)
    call(c, 5, REQ_NEXT_ROUND, w.fv(1, ev), RESP_ROUND)
    c.close()
    check(d.stop() == 0, "mingled did not exit cleanly")


def test_corrupt(ds, work):
    data = os.path.join(work, "garbage.data")
    filled_store(ds, data)
    db = os.path.join(data, "mingle.db")
    with open(db, "r+b") as f:
        size = os.path.getsize(db)
        f.write(random.Random(4).randbytes(size))
    msg = refuses(ds, data, "garbage")
    print("     garbage: %s" % msg)

    data = os.path.join(work, "damaged.data")
    filled_store(ds, data)
    db = os.path.join(data, "mingle.db")
    with open(db, "rb") as f:
        raw = bytearray(f.read())
    page = int.from_bytes(raw[16:18], "big")
    page = 65536 if page == 1 else page
    # The last b-tree page in the file: a page of stored rows (pages of the
    # free list do not start with a b-tree page type).
    damaged = None
    for no in range(len(raw) // page - 1, 0, -1):
        if raw[no * page] in (0x02, 0x05, 0x0A, 0x0D):
            damaged = no
            break
    check(damaged is not None, "no b-tree page to damage")
    off = damaged * page
    raw[off] = 0x42          # no such page type
    raw[off + 8:off + 40] = bytes(range(0xE0, 0x100))
    with open(db, "wb") as f:
        f.write(raw)
    msg = refuses(ds, data, "damaged page %d" % (damaged + 1))
    print("     damaged page %d: %s" % (damaged + 1, msg))

    data = os.path.join(work, "truncated.data")
    filled_store(ds, data)
    db = os.path.join(data, "mingle.db")
    with open(db, "r+b") as f:
        f.truncate(os.path.getsize(db) // 2 + 100)
    msg = refuses(ds, data, "truncated")
    print("     truncated: %s" % msg)

    # Unreadable, even for root: mingle.db is a directory.
    data = os.path.join(work, "unreadable.data")
    os.makedirs(os.path.join(data, "mingle.db", "keep"))
    d = ds.start(data, wait=False)
    rc = d.wait_exit(START_TIMEOUT_S)
    err = d.log()
    check(rc != 0 and "listening on" not in err,
          "mingle.db a directory: mingled exited %r" % rc)
    check("mingle.db" in err, "mingle.db a directory: no clear reason: %r"
          % err)
    check(os.listdir(os.path.join(data, "mingle.db")) == ["keep"],
          "mingle.db a directory: its contents changed")
    print("     a directory: %s" % err.strip().splitlines()[-1])


def zero_root_page(db, name):
    """Zeroes the first page of table or index `name` in the file."""
    con = sqlite3.connect(db)
    page = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_schema WHERE name = ?",
                       (name,)).fetchone()[0]
    con.close()
    with open(db, "r+b") as f:
        f.seek((root - 1) * page)
        f.write(bytes(page))


def test_big_corrupt(ds, work):
    for victim in ("encounters", "sqlite_autoindex_pairs_1"):
        data = os.path.join(work, "big-%s.data" % victim)
        filled_store(ds, data)
        db = os.path.join(data, "mingle.db")
        # Past the size where the check once stopped at the schema; a
        # table the daemon never reads is the fast way there.
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE bulk (b BLOB)")
        con.execute("INSERT INTO bulk SELECT zeroblob(1048576) FROM"
                    " (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL"
                    " SELECT i + 1 FROM c WHERE i < 40) SELECT i FROM c)")
        con.commit()
        con.close()
        check(os.path.getsize(db) > 40 << 20, "bulk did not grow the file")
        zero_root_page(db, victim)
        msg = refuses(ds, data, "zeroed %s page" % victim)
        print("     zeroed %s page: %s" % (victim, msg))

    data = os.path.join(work, "empty.data")
    filled_store(ds, data)
    db = os.path.join(data, "mingle.db")
    os.truncate(db, 0)
    msg = refuses(ds, data, "empty")
    check("mingle.db is empty" in msg, "empty: said %r" % msg)
    print("     empty: %s" % msg)


def grep_dir(data, words):
    """The files of `data` holding any of `words` (bytes)."""
    hits = []
    for name in sorted(os.listdir(data)):
        with open(os.path.join(data, name), "rb") as f:
            raw = f.read()
        hits += ["%s in %s" % (w_, name) for w_ in words if w_ in raw]
    return hits


def forget_with_reader(c, rid, ev, data, words, aid, hold):
    reader = sqlite3.connect("file:%s?mode=ro" % os.path.join(data,
                                                               "mingle.db"),
                             uri=True, isolation_level=None,
                             check_same_thread=False)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM attendees").fetchone()
    released = []

    def release():
        time.sleep(hold)
        reader.execute("COMMIT")
        released.append(time.monotonic())
        reader.close()

    t = threading.Thread(target=release)
    t.start()
    t0 = time.monotonic()
    call(c, rid, REQ_FORGET, w.fb(1, aid), RESP_ACK)
    acked = time.monotonic() - t0
    # The daemon does not wait for the reader: it retries on a timer.
    check(acked < 0.5, "forget %s stalled the daemon %.2f s" % (aid, acked))
    t.join()
    # Nothing else happens meanwhile: no later commit helps the retry.
    deadline = released[0] + 1.0
    hits = grep_dir(data, words)
    while hits and time.monotonic() < deadline:
        time.sleep(0.05)
        hits = grep_dir(data, words)
    since = time.monotonic() - released[0]
    check(not hits and since < 1.0, "forget %s: %.2f s after the reader let "
          "go: %s" % (aid, since, ", ".join(hits)))
    print("     forget, reader holding %.1f s: acknowledged after %.2f s, "
          "nothing left %.2f s after the reader let go"
          % (hold, acked, since))


def test_forget(ds, work):
    data = os.path.join(work, "forget.data")
    name, company = "Zacharias Vergessenwerden", "Geheimnis und Sohn GmbH"
    tag = "Verschwiegenheitsklausel"
    words = [name.encode(), company.encode(), tag.encode()]
    d = ds.start(data)
    c = d.client()
    ev = call(c, 1, REQ_CREATE_EVENT, create_event_body("f", 4, 2, 5),
              RESP_EVENT).field(1)
    ids = ["f%02d" % i for i in range(11)]
    secret = w.fb(2, w.fb(1, "fz") + w.fb(2, name) + w.fb(3, company) +
                  w.fb(5, tag))
    call(c, 2, REQ_UPSERT, w.fv(1, ev) + secret +
         b"".join(attendee(i) for i in ids), RESP_ACK)
    call(c, 3, REQ_CHECK_IN, ids_body(ev, ids + ["fz"]), RESP_ACK)
    call(c, 4, REQ_NEXT_ROUND, w.fv(1, ev), RESP_ROUND)
    check(grep_dir(data, words), "the person is nowhere before the forget")

    # A reader holding the log for half a second, then for two and a half:
    # either way the daemon answers at once, and the name leaves the data
    # dir within a second of the reader letting go.
    for rid, (aid, hold) in enumerate((("fz", 0.5), ("fy", 2.5))):
        if aid == "fy":
            secret = secret.replace(b"fz", b"fy")
            call(c, 10, REQ_UPSERT, w.fv(1, ev) + secret, RESP_ACK)
            call(c, 11, REQ_CHECK_IN, ids_body(ev, ["fy"]), RESP_ACK)
            call(c, 12, REQ_NEXT_ROUND, w.fv(1, ev), RESP_ROUND)
        forget_with_reader(c, 20 + rid, ev, data, words, aid, hold)
    c.close()
    check(d.stop() == 0, "mingled did not exit cleanly")


# ---- 5. history across events ----

def run_event(c, rid, name, ids, rounds, history=None):
    """Creates an event of `ids` at tables of 4, checks everyone in and
    runs `rounds` rounds; returns [(round, tables, repeat_pairs)]."""
    r = call(c, rid, REQ_CREATE_EVENT,
             create_event_body(name, 4, rounds, 5, history),
             RESP_EVENT)
    ev = r.field(1)
    call(c, rid + 1, REQ_UPSERT,
         w.fv(1, ev) + b"".join(attendee(i) for i in ids), RESP_ACK)
    call(c, rid + 2, REQ_CHECK_IN, ids_body(ev, ids), RESP_ACK)
    out = []
    for n in range(rounds):
        r = call(c, rid + 3 + n, REQ_NEXT_ROUND, w.fv(1, ev), RESP_ROUND)
        out.append(decode_round(r.body))
    return out


def met_in(rounds, met, what):
    """Adds the pairs of `rounds` to `met`; none may be there already."""
    for n, tables, _ in rounds:
        for p in table_pairs(tables):
            check(p not in met, "%s: %s meet again in round %d"
                  % (what, p, n))
            met.add(p)


def test_history(ds, work):
    # 16 people at tables of 4 can have 5 rounds without a repeat: event 1
    # has 3, event 2 (after a restart) must meet only new faces.  12 people
    # at tables of 4 cannot even have 2: each table of round 2 draws 4
    # people from 3 earlier tables, so at least one pair per table met
    # before -- event 2 must seat exactly 3 such pairs and count them,
    # while an event that ignores history counts none.
    for people, first in ((16, 3), (12, 1)):
        what = "%d people" % people
        data = os.path.join(work, "history%d.data" % people)
        ids = ["h%02d" % i for i in range(people)]
        d = ds.start(data)
        c = d.client()
        met = set()
        met_in(run_event(c, 1, "first", ids, first), met,
               what + ", event 1")
        c.close()
        check(d.stop() == 0, "mingled did not exit cleanly")

        d = ds.start(data)
        c = d.client()
        _, tables, repeats = run_event(c, 100, "second", ids, 1)[0]
        again = len(set(table_pairs(tables)) & met)
        least = 0 if people == 16 else 3
        check(again == least and repeats == again,
              "%s: event 2 (after a restart) seats %d pairs who met at "
              "event 1 (%d at best) and reports %d repeats"
              % (what, again, least, repeats))
        if people == 12:
            _, _, repeats = run_event(c, 200, "third", ids, 1,
                                      history=HISTORY_NONE)[0]
            check(repeats == 0, "%s: an event without history reports %d "
                  "repeats" % (what, repeats))
        c.close()
        check(d.stop() == 0, "mingled did not exit cleanly")


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    mingled, minglectl = sys.argv[1], sys.argv[2]
    ds = Daemons(mingled)
    failures = 0
    t_all = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mingle-store-") as work:
        plan = [("lock", lambda: test_lock(ds, work)),
                ("corrupt", lambda: test_corrupt(ds, work)),
                ("bigcorrupt", lambda: test_big_corrupt(ds, work)),
                ("forget", lambda: test_forget(ds, work)),
                ("history", lambda: test_history(ds, work)),
                ("restart", lambda: test_restart(ds, work, minglectl)),
                ("startkill", lambda: test_start_kill(ds, work)),
                ("writefail", lambda: test_write_fail(ds, work)),
                ("kill", lambda: test_kill(ds, work))]
        only = os.environ.get("MINGLE_STORE_TESTS")
        for name, fn in plan:
            if only and name not in only.split(","):
                continue
            t0 = time.monotonic()
            first = len(ds.all)
            try:
                fn()
                print("ok   %s (%.1f s)" % (name, time.monotonic() - t0))
            except (Failure, OSError, subprocess.TimeoutExpired) as e:
                failures += 1
                print("FAIL %s: %s" % (name, e))
                for d in ds.all[max(first, len(ds.all) - 3):]:
                    print("--- daemon log ---\n%s" % d.log())
            finally:
                ds.kill_all()
        for log in ds.sanitizer_logs():
            failures += 1
            print("FAIL sanitizer report in a daemon log:\n%s" % log)
    print("%s in %.1f s" % ("FAILED" if failures else "passed",
                            time.monotonic() - t_all))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
