#!/usr/bin/env python3
"""test_server.py -- the daemon's transport, driven over loopback sockets.

Usage: test_server.py PATH/TO/mingled

Starts the real mingled on an ephemeral port (`--port 0`, the port is read
from its "listening on ADDR:PORT" log line) with a config file of small
limits, and checks what the transport promises: malformed and oversized
frames get an Error and a close while others are served, frames split
across or packed into reads, the connection limit, the idle and frame
timeouts, the auth token and the Hello deadline, admission (squatters
evicted so an organizer gets in, the per-address limit), identical pushes
to subscribers, a stalled subscriber dropped at its output cap, SIGHUP
reload (a rotated token closes old sessions, the token cannot be removed
while 0.0.0.0 is open) and a clean SIGTERM exit.  Protobuf is written by hand: only varints and length-delimited
fields are needed.  A sanitizer report in the daemon's log is a failure.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

# Field numbers from proto/mingle.proto.
REQ_HELLO, REQ_CREATE_EVENT, REQ_UPSERT, REQ_CHECK_IN = 2, 3, 7, 9
REQ_NEXT_ROUND, REQ_GET_STATS, REQ_SUBSCRIBE = 12, 15, 16
RESP_ERROR, RESP_HELLO, RESP_EVENT, RESP_ROUND = 2, 3, 4, 7
RESP_STATS, RESP_SUBSCRIBED = 10, 11
FRAME_TOO_BIG, BAD_FRAME, UNAUTHENTICATED = 2, 3, 4
RESOURCE_EXHAUSTED, UNAVAILABLE, FRAME_TIMEOUT, IDLE_TIMEOUT = 8, 10, 12, 13

MAX_FRAME = 65536
IDLE_MS = 1500
FRAME_MS = 600
CAP = 65536
MAX_CONN = 6
ADMIT_CONN = 32
HELLO_MS = 400
TOKEN = "s3cret-token-0123456789"


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def fv(num, value):
    return varint(num << 3) + varint(value)


def fb(num, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(num << 3 | 2) + varint(len(data)) + data


def frame(msg):
    return varint(len(msg)) + msg


def request(rid, field, body=b""):
    return frame(fv(1, rid) + fb(field, body))


def read_varint(buf, pos):
    shift = value = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def fields(buf):
    """[(number, value)] of one message; bytes for length-delimited."""
    out, pos = [], 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            value, pos = read_varint(buf, pos)
        elif wt == 2:
            n, pos = read_varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wt == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wt == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError("wire type %d" % wt)
        out.append((num, value))
    return out


class Response:
    def __init__(self, raw):
        self.raw = raw
        self.id = 0
        self.kind = None
        self.body = b""
        for num, value in fields(raw):
            if num == 1:
                self.id = value
            else:
                self.kind, self.body = num, value

    def field(self, num, default=0):
        for n, v in fields(self.body):
            if n == num:
                return v
        return default

    @property
    def code(self):
        return self.field(1) if self.kind == RESP_ERROR else None


class Client:
    def __init__(self, host, port, rcvbuf=None):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(5)
        self.sock.connect((host, port))
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            raise EOFError
        self.buf += data

    def recv(self, timeout=5):
        """The next Response, or None at end of stream."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if self.buf:
                    try:
                        n, pos = read_varint(self.buf, 0)
                    except IndexError:
                        n, pos = None, 0
                    if n is not None and len(self.buf) >= pos + n:
                        raw = self.buf[pos:pos + n]
                        self.buf = self.buf[pos + n:]
                        return Response(raw)
                self._fill()
        except EOFError:
            return None

    def call(self, rid, field, body=b""):
        self.send(request(rid, field, body))
        r = self.recv()
        check(r is not None, "no response to request %d" % rid)
        check(r.id == rid or r.kind == RESP_ERROR,
              "response id %d for request %d" % (r.id, rid))
        return r

    def closed(self, timeout=5):
        """True when the server closes the stream (remaining frames are
        skipped)."""
        deadline = time.monotonic() + timeout
        self.sock.settimeout(timeout)
        try:
            while time.monotonic() < deadline:
                if not self.sock.recv(65536):
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        return False

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def expect_error(client, code, what):
    r = client.recv()
    check(r is not None and r.kind == RESP_ERROR,
          "%s: expected an Error frame, got %r" % (what, r and r.kind))
    check(r.code == code, "%s: error code %r, expected %d" % (what, r.code, code))
    check(client.closed(), "%s: connection not closed after the error" % what)


class Daemon:
    def __init__(self, binary, workdir, name, extra=""):
        self.workdir = workdir
        self.config = os.path.join(workdir, name + ".yaml")
        self.write_config(extra)
        data = os.path.join(workdir, name + ".data")
        os.makedirs(data, exist_ok=True)
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--config", self.config, "--data-dir", data],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        self.lines = []
        self.lock = threading.Lock()
        self.host = None
        self.port = None
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.ready.wait(15) or self.port is None:
            self.kill()
            raise Failure("%s: no 'listening on' line:\n%s" % (name, self.log()))

    def write_config(self, extra=""):
        """The test limits; a key in `extra` replaces the default."""
        base = [("max_frame_bytes", MAX_FRAME), ("max_connections", MAX_CONN),
                ("idle_timeout_ms", IDLE_MS), ("frame_timeout_ms", FRAME_MS),
                ("output_cap_bytes", CAP), ("log_level", "debug")]
        given = set(re.findall(r"^(\w+):", extra, re.M))
        with open(self.config, "w") as f:
            for key, value in base:
                if key not in given:
                    f.write("%s: %s\n" % (key, value))
            f.write(extra)

    def _read(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.lock:
                self.lines.append(line)
            m = re.search(r"listening on (\S+):(\d+)$", line)
            if m and self.port is None:
                self.host = m.group(1).strip("[]")
                self.port = int(m.group(2))
                self.ready.set()
        self.ready.set()

    def log(self):
        with self.lock:
            return "\n".join(self.lines)

    def wait_log(self, pattern, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.log()):
                return True
            time.sleep(0.02)
        return False

    def client(self, **kw):
        return Client(self.host, self.port, **kw)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure("daemon did not exit within 10 s of SIGTERM")
        self.reader.join(5)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def sanitizer_report(self):
        return re.search(r"AddressSanitizer|LeakSanitizer|runtime error:",
                         self.log())


def hello(token=None):
    body = fv(1, 1) + fb(3, "test_server")
    if token is not None:
        body += fb(2, token)
    return body


def test_framing(d):
    keep = d.client()
    check(keep.call(1, REQ_HELLO, hello()).kind == RESP_HELLO, "hello")

    c = d.client()
    c.send(b"\x80" * 11)
    expect_error(c, BAD_FRAME, "11-byte varint")

    c = d.client()
    c.send(frame(b"\xff\xff\xff\xff"))
    expect_error(c, BAD_FRAME, "undecodable body")

    c = d.client()
    c.send(varint(MAX_FRAME + 1) + b"x" * 64)
    expect_error(c, FRAME_TOO_BIG, "oversized prefix")

    c = d.client()
    c.send(varint(1 << 40))
    expect_error(c, FRAME_TOO_BIG, "huge prefix, body never sent")

    # Several frames in one write, answered in order.
    c = d.client()
    c.send(b"".join(request(i, REQ_HELLO, hello()) for i in (5, 6, 7)))
    for i in (5, 6, 7):
        r = c.recv()
        check(r is not None and r.id == i and r.kind == RESP_HELLO,
              "pipelined hello %d" % i)
    # One frame split into single bytes.
    for b in request(8, REQ_HELLO, hello()):
        c.send(bytes([b]))
        time.sleep(0.005)
    r = c.recv()
    check(r is not None and r.id == 8, "hello split across reads")
    c.close()

    check(keep.call(2, REQ_HELLO, hello()).kind == RESP_HELLO,
          "server stopped serving a good client after bad ones")
    keep.close()


def test_connection_limit(d):
    time.sleep(0.2)  # let the earlier tests' connections be reaped
    held = []
    for i in range(MAX_CONN):
        c = d.client()
        check(c.call(1, REQ_HELLO, hello()).kind == RESP_HELLO,
              "connection %d below the limit" % (i + 1))
        held.append(c)
    extra = d.client()
    expect_error(extra, RESOURCE_EXHAUSTED, "connection above the limit")
    held.pop().close()
    deadline = time.monotonic() + 3
    while True:
        c = d.client()
        c.send(request(1, REQ_HELLO, hello()))
        r = c.recv()
        if r is not None and r.kind == RESP_HELLO:
            break
        check(time.monotonic() < deadline, "slot not freed after a close")
        time.sleep(0.05)
    held.append(c)
    for c in held:
        c.close()


def test_timeouts(d):
    time.sleep(0.2)  # let the earlier tests' connections be reaped
    idle = d.client()
    t0 = time.monotonic()
    trickle = d.client()
    trickle.send(varint(200) + b"\x08")
    for _ in range(int(FRAME_MS / 100) + 4):
        time.sleep(0.1)
        try:
            trickle.send(b"\x01")
        except (BrokenPipeError, ConnectionResetError):
            break
    r = trickle.recv()
    elapsed = time.monotonic() - t0
    check(r is not None and r.code == FRAME_TIMEOUT,
          "trickled frame: expected FRAME_TIMEOUT, got %r" % (r and r.code))
    check(elapsed < IDLE_MS / 1000.0, "frame timeout took %.2f s" % elapsed)
    check(trickle.closed(), "trickling connection not closed")

    r = idle.recv(timeout=IDLE_MS / 1000.0 + 3)
    elapsed = time.monotonic() - t0
    check(r is not None and r.code == IDLE_TIMEOUT,
          "idle: expected IDLE_TIMEOUT, got %r" % (r and r.code))
    check(IDLE_MS / 1000.0 - 0.2 <= elapsed <= IDLE_MS / 1000.0 + 2,
          "idle timeout after %.2f s" % elapsed)
    check(idle.closed(), "idle connection not closed")


def create_event(c, n_attendees, rounds):
    r = c.call(10, REQ_CREATE_EVENT, fb(1, "t") + fv(2, 4) + fv(3, rounds))
    check(r.kind == RESP_EVENT, "create event: %r %r" % (r.kind, r.code))
    event_id = r.field(1)
    # Long names make each round big enough to overflow a stalled peer.
    ids = ["a%03d" % i for i in range(n_attendees)]
    people = b"".join(fb(2, fb(1, i) + fb(2, i + " " + "N" * 150)) for i in ids)
    r = c.call(11, REQ_UPSERT, fv(1, event_id) + people)
    check(r.kind != RESP_ERROR, "upsert: error %r" % r.code)
    r = c.call(12, REQ_CHECK_IN, fv(1, event_id) + b"".join(fb(2, i) for i in ids))
    check(r.kind != RESP_ERROR, "check in: error %r" % r.code)
    return event_id


class Collector(threading.Thread):
    def __init__(self, client):
        super().__init__(daemon=True)
        self.client = client
        self.frames = []

    def run(self):
        while True:
            try:
                r = self.client.recv(timeout=30)
            except OSError:
                return
            if r is None:
                return
            self.frames.append(r)


def test_streams(d):
    rounds = 12
    org = d.client()
    org.call(1, REQ_HELLO, hello())
    event_id = create_event(org, 120, rounds)

    subs = []
    for sid in (100, 200):
        s = d.client()
        r = s.call(sid, REQ_SUBSCRIBE, fv(1, event_id))
        check(r.kind == RESP_SUBSCRIBED, "subscribe %d: %r" % (sid, r.code))
        subs.append(s)
    stalled = d.client(rcvbuf=2048)
    stalled.send(request(300, REQ_SUBSCRIBE, fv(1, event_id)))
    collectors = [Collector(s) for s in subs]
    for col in collectors:
        col.start()

    # Subscribers are exempt from the idle timeout; the organizer is not.
    for i in range(2):
        time.sleep(IDLE_MS / 2000.0 + 0.15)
        org.call(2 + i, REQ_HELLO, hello())

    answers = []
    for i in range(rounds):
        r = org.call(1000 + i, REQ_NEXT_ROUND, fv(1, event_id))
        check(r.kind == RESP_ROUND, "next round %d: %r %r" % (i + 1, r.kind, r.code))
        answers.append(r.body)

    deadline = time.monotonic() + 10
    while any(len(col.frames) < rounds for col in collectors):
        check(time.monotonic() < deadline,
              "subscribers got %s of %d rounds"
              % ([len(col.frames) for col in collectors], rounds))
        time.sleep(0.02)
    for col, sid in zip(collectors, (100, 200)):
        pushes = col.frames
        check(len(pushes) == rounds, "subscriber %d got %d pushes" % (sid, len(pushes)))
        for p, a in zip(pushes, answers):
            check(p.id == sid, "push id %d, expected %d" % (p.id, sid))
            check(p.kind == RESP_ROUND, "push kind %r" % p.kind)
            check(p.body == a, "push differs from the NextRound answer")
    check([p.body for p in collectors[0].frames] ==
          [p.body for p in collectors[1].frames],
          "the two subscribers got different streams")

    check(d.wait_log(r"dropping connection: output cap"),
          "stalled subscriber was not dropped")
    check(stalled.closed(timeout=10), "stalled subscriber still connected")

    time.sleep(0.1)
    r = org.call(2000, REQ_GET_STATS, fv(1, 0))
    check(r.kind == RESP_STATS, "stats: %r" % r.code)
    check(r.field(8) == 2, "stats: %d subscribers, expected 2" % r.field(8))
    check(r.field(7) == 3, "stats: %d connections, expected 3" % r.field(7))
    for s in subs + [org]:
        s.close()
    for col in collectors:
        col.join(5)


def test_log_escapes(d):
    """A client name is the peer's text: in the log it is escaped and cut,
    so it cannot start a forged line."""
    c = d.client()
    evil = "evil\nFAKE ERROR forged\x1b[31m" + "x" * 500
    check(c.call(1, REQ_HELLO, fv(1, 1) + fb(3, evil)).kind == RESP_HELLO,
          "hello with a hostile client name")
    c.close()
    check(d.wait_log(r"hello from evil\\x0aFAKE ERROR forged\\x1b\[31mx+\.\.\."),
          "client name not escaped and cut in the log")
    check(not any(line.startswith("FAKE") for line in d.log().splitlines()),
          "a peer forged a log line")


def test_reload(d):
    with open(d.config, "w") as f:
        f.write("idle_timeout_ms: [unterminated\n")
    d.proc.send_signal(signal.SIGHUP)
    check(d.wait_log(r"SIGHUP: .*config kept"), "broken config was not refused")
    d.write_config()
    d.proc.send_signal(signal.SIGHUP)
    check(d.wait_log(r"SIGHUP: config reloaded"), "good config was not reloaded")
    c = d.client()
    check(c.call(1, REQ_HELLO, hello()).kind == RESP_HELLO,
          "no service after reload")
    c.close()


def test_token(d):
    c = d.client()
    c.send(request(1, REQ_GET_STATS, fv(1, 0)))
    expect_error(c, UNAUTHENTICATED, "request before Hello")
    c = d.client()
    c.send(request(1, REQ_HELLO, hello("wrong-token!")))
    expect_error(c, UNAUTHENTICATED, "Hello with a wrong token")
    c = d.client()
    check(c.call(1, REQ_HELLO, hello(TOKEN)).kind == RESP_HELLO,
          "Hello with the right token")
    check(c.call(2, REQ_GET_STATS, fv(1, 0)).kind == RESP_STATS,
          "request after Hello")
    c.close()


def test_token_reload(d):
    """SIGHUP rotates the token: new connections need the new one, and a
    connection that said Hello with the old one is closed."""
    old = d.client()
    check(old.call(1, REQ_HELLO, hello(TOKEN)).kind == RESP_HELLO, "hello")
    new_token = "rotated-" + TOKEN
    d.write_config("auth_token: %s\nhello_timeout_ms: %d\n"
                   % (new_token, HELLO_MS))
    d.proc.send_signal(signal.SIGHUP)
    check(d.wait_log(r"SIGHUP: config reloaded"), "token config not reloaded")
    c = d.client()
    c.send(request(1, REQ_HELLO, hello(TOKEN)))
    expect_error(c, UNAUTHENTICATED, "Hello with the old token after reload")
    c = d.client()
    check(c.call(1, REQ_HELLO, hello(new_token)).kind == RESP_HELLO,
          "Hello with the new token")
    c.close()
    expect_error(old, UNAUTHENTICATED, "a session of the old token")
    old.close()


def test_hello_deadline(d):
    """With a token, a silent connection is closed at the Hello deadline,
    long before the idle timeout; one that passed Hello is not."""
    good = d.client()
    check(good.call(1, REQ_HELLO, hello(TOKEN)).kind == RESP_HELLO, "hello")
    t0 = time.monotonic()
    silent = d.client()
    r = silent.recv(timeout=IDLE_MS / 1000.0 + 3)
    elapsed = time.monotonic() - t0
    check(r is not None and r.code == UNAUTHENTICATED,
          "silent: expected UNAUTHENTICATED, got %r" % (r and r.code))
    check(elapsed < HELLO_MS / 1000.0 + 0.5,
          "Hello deadline took %.2f s (set to %d ms)" % (elapsed, HELLO_MS))
    check(silent.closed(), "silent connection not closed")
    check(good.call(2, REQ_GET_STATS, fv(1, 0)).kind == RESP_STATS,
          "the authenticated connection was closed too")
    good.close()


def organizer_gets_in(d, token):
    t0 = time.monotonic()
    c = d.client()
    r = c.call(1, REQ_HELLO, hello(token))
    elapsed = time.monotonic() - t0
    check(r.kind == RESP_HELLO, "organizer refused: error %r" % r.code)
    check(elapsed < 1.0, "organizer got in after %.2f s" % elapsed)
    return c


def test_squatters_token(d):
    """max_connections squatters, silent or sending Subscribe without
    Hello, cannot keep an organizer with the token out."""
    squat = []
    for rnd in range(3):
        for i in range(ADMIT_CONN + 8):
            c = d.client()
            if i % 2:
                c.send(request(1, REQ_SUBSCRIBE, fv(1, 1)))
            squat.append(c)
        time.sleep(0.2)
        org = organizer_gets_in(d, TOKEN)
        check(org.call(2, REQ_GET_STATS, fv(1, 0)).kind == RESP_STATS,
              "round %d: organizer not served" % rnd)
        org.close()
    sub = squat[-1]  # the newest: not evicted
    r = sub.recv()
    check(r is not None and r.code == UNAUTHENTICATED,
          "Subscribe before Hello: expected UNAUTHENTICATED, got %r"
          % (r and r.code))
    check(d.wait_log(r"evicted for a new connection"), "nobody was evicted")
    for c in squat:
        c.close()


def test_per_address(d):
    """max_connections_per_address holds organizers too; a connection
    that has not passed Hello gives way to a newcomer from its address."""
    time.sleep(0.3)  # let the squatters be reaped
    d.write_config("auth_token: %s\nmax_connections: %d\n"
                   "max_connections_per_address: 4\n" % (TOKEN, ADMIT_CONN))
    d.proc.send_signal(signal.SIGHUP)
    check(d.wait_log(r"SIGHUP: config reloaded"), "limit config not reloaded")
    held = [organizer_gets_in(d, TOKEN) for _ in range(4)]
    expect_error(d.client(), RESOURCE_EXHAUSTED, "a fifth from one address")
    held.pop().close()
    time.sleep(0.2)
    silent = d.client()
    time.sleep(0.1)
    held.append(organizer_gets_in(d, TOKEN))
    expect_error(silent, RESOURCE_EXHAUSTED, "the silent one, evicted")
    for c in held:
        c.close()


def test_squatters_subscribe(d):
    """Without a token, max_connections subscribers cannot keep a new
    client out: the oldest subscriber gives way."""
    org = d.client()
    check(org.call(1, REQ_HELLO, hello()).kind == RESP_HELLO, "hello")
    event_id = create_event(org, 4, 2)
    subs = []
    for i in range(ADMIT_CONN + 8):
        c = d.client()
        c.send(request(1, REQ_SUBSCRIBE, fv(1, event_id)))
        subs.append(c)
    time.sleep(0.2)
    organizer_gets_in(d, None).close()
    r = subs[0].recv()
    check(r is not None and r.kind == RESP_SUBSCRIBED, "first subscriber")
    r = subs[0].recv()
    check(r is not None and r.code == RESOURCE_EXHAUSTED,
          "oldest subscriber: expected eviction, got %r" % (r and r.code))
    check(org.call(2, REQ_GET_STATS, fv(1, 0)).kind == RESP_STATS,
          "the first organizer was evicted")
    for c in subs + [org]:
        c.close()


def test_reload_keeps_token(d):
    """Listening on 0.0.0.0, a reload that drops the token is refused
    (the listen list in the new file does not matter: 0.0.0.0 stays
    open)."""
    d.write_config('listen: ["127.0.0.1"]\n')
    d.proc.send_signal(signal.SIGHUP)
    check(d.wait_log(r"SIGHUP: .*auth_token: cannot be removed while "
                     r"listening on '0\.0\.0\.0'.*config kept"),
          "token removal not refused")
    c = Client("127.0.0.1", d.port)
    c.send(request(1, REQ_GET_STATS, fv(1, 0)))
    expect_error(c, UNAUTHENTICATED, "request before Hello after the reload")
    c = Client("127.0.0.1", d.port)
    check(c.call(1, REQ_HELLO, hello(TOKEN)).kind == RESP_HELLO,
          "the old token no longer works")
    c.close()


def test_sigterm(d):
    c = d.client()
    c.call(1, REQ_HELLO, hello())
    rc = d.stop()
    check(rc == 0, "exit status %r after SIGTERM" % rc)
    r = c.recv()
    check(r is None or r.code == UNAVAILABLE, "goodbye frame %r" % (r and r.code))
    check(c.closed(), "client not closed on stop")
    check(re.search(r"INFO +stopped$", d.log(), re.M), "no 'stopped' line")


def test_ipv6(d):
    check(d.host == "::1", "listening on %r, expected ::1" % d.host)
    c = d.client()
    check(c.call(1, REQ_HELLO, hello()).kind == RESP_HELLO, "hello over IPv6")
    c.close()


def test_refuse_public(binary, work):
    """A non-loopback address without a token: no start, a reason, no
    listener."""
    config = os.path.join(work, "public.yaml")
    with open(config, "w") as f:
        f.write('listen: ["0.0.0.0"]\n')
    proc = subprocess.run(
        [binary, "--port", "0", "--config", config,
         "--data-dir", os.path.join(work, "public.data")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, timeout=10)
    err = proc.stderr.decode("utf-8", "replace")
    check(proc.returncode != 0, "started on 0.0.0.0 without a token")
    check("token" in err, "no reason given: %r" % err)
    check("listening on" not in err, "listened before refusing")


def ipv6_available():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: test_server.py PATH/TO/mingled\n")
        return 2
    binary = sys.argv[1]
    failures = 0
    with tempfile.TemporaryDirectory(prefix="mingle-srv-") as work:
        plan = [
            ("plain", "", [test_framing, test_connection_limit, test_timeouts,
                           test_streams, test_log_escapes, test_reload,
                           test_sigterm]),
            ("token", "auth_token: %s\nhello_timeout_ms: %d\n" % (TOKEN, HELLO_MS),
             [test_token, test_hello_deadline, test_token_reload,
              test_sigterm]),
            # Long deadlines: the squatters stay unless evicted.
            ("admit", "auth_token: %s\nmax_connections: %d\n"
             "idle_timeout_ms: 60000\nhello_timeout_ms: 60000\n"
             % (TOKEN, ADMIT_CONN),
             [test_squatters_token, test_per_address, test_sigterm]),
            ("squat", "max_connections: %d\nidle_timeout_ms: 60000\n"
             % ADMIT_CONN, [test_squatters_subscribe, test_sigterm]),
            ("public", 'listen: ["0.0.0.0"]\nauth_token: %s\n'
             'plaintext_off_loopback: true\n' % TOKEN,
             [test_reload_keeps_token, test_sigterm]),
        ]
        if ipv6_available():
            plan.append(("ipv6", 'listen: ["::1"]\n', [test_ipv6, test_sigterm]))
        try:
            test_refuse_public(binary, work)
            print("ok   refuse_public")
        except (Failure, OSError, subprocess.TimeoutExpired) as e:
            failures += 1
            print("FAIL refuse_public: %s" % e)
        for name, extra, tests in plan:
            try:
                d = Daemon(binary, work, name, extra)
            except Failure as e:
                print("FAIL %s: %s" % (name, e))
                failures += 1
                continue
            try:
                for t in tests:
                    t0 = time.monotonic()
                    try:
                        t(d)
                        print("ok   %s/%s (%.1f s)" % (name, t.__name__,
                                                       time.monotonic() - t0))
                    except (Failure, OSError) as e:
                        failures += 1
                        print("FAIL %s/%s: %s" % (name, t.__name__, e))
            finally:
                d.kill()
                d.reader.join(5)
            if d.sanitizer_report():
                failures += 1
                print("FAIL %s: sanitizer report in the daemon log" % name)
            if failures:
                print("--- daemon log (%s) ---\n%s" % (name, d.log()))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
