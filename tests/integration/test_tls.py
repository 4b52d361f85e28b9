#!/usr/bin/env python3
"""test_tls.py -- TLS on the daemon's listeners, and minglectl --tls.

Usage: test_tls.py PATH/TO/mingled PATH/TO/minglectl

Makes self-signed certificates with the openssl command line in a temp
dir, starts the real mingled on an ephemeral loopback port with them
(test_server.py's Daemon), and checks: a TLS client completes Hello and a
request; a plaintext client, a silent one and one that stalls mid-handshake
are closed, in time (the frame deadline, the Hello deadline with a token,
the idle deadline without one); minglectl --tls verifies the server with
--ca-file and fails without the right CA or host name; SIGHUP with a new
certificate serves new connections with it while an open one keeps
working, a broken file keeps the old one, and turning TLS off needs a
restart; test_server's checks of the transport's limits hold over TLS
(framing errors, the connection limit, frame and idle deadlines, pushes
and a stalled subscriber dropped at its output cap, the goodbye on
SIGTERM); a bad certificate stops the start; a non-loopback listener
without TLS is refused unless plaintext_off_loopback says true (checked
with --print-config, which checks the config without binding anything).
A sanitizer report in a daemon's log is a failure.
"""
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_server as ts  # noqa: E402  (the daemon and wire helpers)
from test_server import Failure, check  # noqa: E402

TOKEN = "tls-token-0123456789abcdef"
HELLO_MS = 400
# The handshake deadline: long enough for a sanitizer build's minglectl.
FRAME_MS = 1500
# Slack for a loaded machine or a sanitizer build, on top of a deadline.
SLACK_S = 2.0
CTL = None  # minglectl, from the command line


def make_cert(work, name, cn, sans):
    """A self-signed EC certificate and its key; returns their paths."""
    cert = os.path.join(work, name + ".crt")
    key = os.path.join(work, name + ".key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + cn,
         "-addext", "subjectAltName=" + sans],
        check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, timeout=30)
    return cert, key


def tls_config(cert, key, extra=""):
    return 'tls_cert_file: "%s"\ntls_key_file: "%s"\n%s' % (cert, key, extra)


class TlsClient(ts.Client):
    """test_server's Client over TLS, verifying the server against
    `cafile` as `name`."""

    def __init__(self, host, port, cafile, name="localhost", rcvbuf=None,
                 **ctx_opts):
        ctx = ssl.create_default_context(cafile=cafile)
        for k, v in ctx_opts.items():
            setattr(ctx, k, v)
        raw = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        try:
            if rcvbuf:
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            raw.settimeout(5)
            raw.connect((host, port))
            self.sock = ctx.wrap_socket(raw, server_hostname=name)
        except BaseException:
            raw.close()
            raise
        self.buf = b""

    def send(self, data):
        # As on a plain socket: writing to a closed server is a broken pipe.
        try:
            self.sock.sendall(data)
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError) as e:
            raise BrokenPipeError(str(e))

    def subject_cn(self):
        for rdn in self.sock.getpeercert()["subject"]:
            for k, v in rdn:
                if k == "commonName":
                    return v
        return None


class TlsDaemon(ts.Daemon):
    """test_server's Daemon whose clients speak TLS: its checks of the
    transport (framing errors, the connection limit, the frame and idle
    deadlines, pushes, a stalled subscriber dropped at the output cap, the
    goodbye on SIGTERM) then run over TLS unchanged."""

    def __init__(self, binary, workdir, name, extra, cafile):
        self.cafile = cafile
        super().__init__(binary, workdir, name, extra)

    def client(self, **kw):
        return TlsClient(self.host, self.port, self.cafile, **kw)


def closed_within(sock, limit_s):
    """Seconds until the server closed `sock` (reading and dropping what
    it sends), or None when it was still open after limit_s; also the
    bytes it sent."""
    t0 = time.monotonic()
    got = b""
    sock.settimeout(0.1)
    while time.monotonic() - t0 < limit_s:
        try:
            data = sock.recv(4096)
        except socket.timeout:
            continue
        except (ConnectionResetError, ssl.SSLError):
            return time.monotonic() - t0, got
        if not data:
            return time.monotonic() - t0, got
        got += data
    return None, got


def hello_ok(c, what):
    r = c.call(1, ts.REQ_HELLO, ts.hello())
    check(r.kind == ts.RESP_HELLO, "%s: Hello answered with %r" % (what, r.kind))


def stats_ok(c, rid, what):
    r = c.call(rid, ts.REQ_GET_STATS, ts.fv(1, 0))
    check(r.kind == ts.RESP_STATS, "%s: GetStats answered with %r"
          % (what, r.kind))


# ---- the TLS daemon ---------------------------------------------------------

def test_tls_client(d, certs):
    c = TlsClient(d.host, d.port, certs["a"][0])
    check(c.sock.version() in ("TLSv1.2", "TLSv1.3"),
          "protocol %r" % c.sock.version())
    check(c.subject_cn() == "mingle-a", "subject %r" % c.subject_cn())
    hello_ok(c, "TLS client")
    stats_ok(c, 2, "TLS client")
    c.close()
    check(d.wait_log(r"TLS handshake done \(TLSv1\.[23]\)"),
          "no 'TLS handshake done' line")


def test_tls12_client(d, certs):
    c = TlsClient(d.host, d.port, certs["a"][0],
                  maximum_version=ssl.TLSVersion.TLSv1_2)
    check(c.sock.version() == "TLSv1.2", "protocol %r" % c.sock.version())
    hello_ok(c, "TLS 1.2 client")
    c.close()


def test_plaintext_client(d, certs):
    """Frames in the clear get no answer, only a quick close."""
    c = ts.Client(d.host, d.port)
    c.send(ts.request(1, ts.REQ_HELLO, ts.hello()))
    took, got = closed_within(c.sock, SLACK_S)
    check(took is not None, "plaintext client not closed within %.1f s"
          % SLACK_S)
    # At most a TLS alert record (content type 21), never a frame.
    check(got == b"" or got[0] == 0x15, "plaintext client got %r" % got[:32])
    c.close()
    check(d.wait_log(r"TLS handshake failed: "), "no 'TLS handshake failed'")


def test_silent_client(d, certs):
    """No handshake at all: closed at the frame deadline."""
    s = socket.create_connection((d.host, d.port), timeout=5)
    took, got = closed_within(s, FRAME_MS / 1000 + SLACK_S)
    s.close()
    check(took is not None, "silent client still open after %.1f s"
          % (FRAME_MS / 1000 + SLACK_S))
    check(took >= FRAME_MS / 1000 * 0.8, "closed after %.2f s, before "
          "the frame deadline" % took)
    check(got == b"", "silent client got %r" % got[:32])
    check(d.wait_log(r"TLS handshake not completed in time"),
          "no 'handshake not completed' line")


def test_stalled_handshake(d, certs):
    """The first bytes of a ClientHello, then nothing: the same deadline."""
    s = socket.create_connection((d.host, d.port), timeout=5)
    s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    took, _ = closed_within(s, FRAME_MS / 1000 + SLACK_S)
    s.close()
    check(took is not None, "stalled handshake still open after %.1f s"
          % (FRAME_MS / 1000 + SLACK_S))


def test_garbage(d, certs):
    s = socket.create_connection((d.host, d.port), timeout=5)
    s.sendall(os.urandom(64))
    took, _ = closed_within(s, SLACK_S)
    s.close()
    check(took is not None, "garbage sender not closed within %.1f s"
          % SLACK_S)


def test_connection_limit(d, certs):
    """Over TLS a peer above the limit is closed without a word: a frame
    in the clear would be noise to its handshake."""
    time.sleep(0.2)  # let the earlier tests' connections be reaped
    held = []
    for i in range(ts.MAX_CONN):
        c = d.client()
        hello_ok(c, "connection %d below the limit" % (i + 1))
        held.append(c)
    try:
        extra = d.client()
        took, _ = closed_within(extra.sock, SLACK_S)
        check(took is not None, "connection above the limit kept open")
    except (ssl.SSLError, ConnectionResetError):
        pass
    check(d.wait_log(r"refusing 127\.0\.0\.1:\d+: too many connections"),
          "no refusal logged")
    held.pop().close()
    deadline = time.monotonic() + 3
    while True:
        try:
            c = d.client()
            c.send(ts.request(1, ts.REQ_HELLO, ts.hello()))
            r = c.recv()
            if r is not None and r.kind == ts.RESP_HELLO:
                break
        except (ssl.SSLError, ConnectionResetError):
            pass
        check(time.monotonic() < deadline, "slot not freed after a close")
        time.sleep(0.05)
    held.append(c)
    for c in held:
        c.close()


def minglectl(d, *args):
    proc = subprocess.run(
        [CTL, "--port", str(d.port), "--timeout", "5"] + list(args),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=30)
    return proc.returncode, proc.stderr.decode("utf-8", "replace")


def test_minglectl(d, certs):
    rc, err = minglectl(d, "--tls", "--ca-file", certs["a"][0],
                        "event", "list")
    check(rc == 0, "minglectl --tls --ca-file: exit %d: %s" % (rc, err))
    rc, err = minglectl(d, "--host", "localhost", "--tls", "--ca-file",
                        certs["a"][0], "event", "list")
    check(rc == 0, "minglectl --host localhost --tls: exit %d: %s"
          % (rc, err))
    # The system's CAs do not know a self-signed certificate.
    rc, err = minglectl(d, "--tls", "event", "list")
    check(rc == 3 and "does not verify" in err,
          "minglectl --tls without --ca-file: exit %d: %s" % (rc, err))
    rc, err = minglectl(d, "--tls", "--ca-file", certs["b"][0],
                        "event", "list")
    check(rc == 3 and "does not verify" in err,
          "minglectl --tls with another CA: exit %d: %s" % (rc, err))
    rc, err = minglectl(d, "event", "list")
    check(rc == 3, "plaintext minglectl against TLS: exit %d: %s" % (rc, err))
    rc, err = minglectl(d, "--ca-file", certs["a"][0], "event", "list")
    check(rc == 2 and "--ca-file goes with --tls" in err,
          "--ca-file without --tls: exit %d: %s" % (rc, err))


def reload(d, extra, pattern):
    d.write_config(extra)
    d.proc.send_signal(signal.SIGHUP)
    check(d.wait_log(pattern), "no %r after SIGHUP" % pattern)


def test_reload(d, certs):
    old = TlsClient(d.host, d.port, certs["a"][0])
    hello_ok(old, "before the reload")

    reload(d, tls_config(*certs["b"]), r"SIGHUP: TLS certificate: CN = mingle-b")
    new = TlsClient(d.host, d.port, certs["b"][0])
    check(new.subject_cn() == "mingle-b", "new connection got %r"
          % new.subject_cn())
    hello_ok(new, "after the reload")
    stats_ok(old, 2, "the connection opened before the reload")
    try:
        TlsClient(d.host, d.port, certs["a"][0]).close()
        raise Failure("the old certificate is still served to new clients")
    except ssl.SSLCertVerificationError:
        pass

    # A broken file: logged, and everything stays as it was.
    reload(d, tls_config(certs["b"][0], os.path.join(d.workdir, "nokey.pem")),
           r"SIGHUP: tls_key_file '.*nokey\.pem': No such file.*config kept")
    reload(d, tls_config(certs["b"][0], certs["a"][1]),
           r"SIGHUP: tls_key_file: the key in .* does not match the "
           r"certificate.*config kept")
    c = TlsClient(d.host, d.port, certs["b"][0])
    hello_ok(c, "after refused reloads")
    c.close()

    # TLS cannot be turned off by a reload.
    reload(d, "", r"SIGHUP: the TLS files would turn TLS off; restart")
    c = TlsClient(d.host, d.port, certs["b"][0])
    hello_ok(c, "after a reload without TLS files")
    c.close()

    # The host name is checked: this certificate names "other" only.
    reload(d, tls_config(*certs["other"]),
           r"SIGHUP: TLS certificate: CN = other")
    rc, err = minglectl(d, "--tls", "--ca-file", certs["other"][0],
                        "event", "list")
    check(rc == 3 and "does not verify for 127.0.0.1" in err and
          "mismatch" in err, "wrong host name: exit %d: %s" % (rc, err))
    old.close()
    new.close()


# ---- deadlines with other limits ---------------------------------------------

def test_hello_deadline(d, certs):
    """With a token, the Hello deadline bounds the handshake too, and a
    handshaken peer hears why it is closed."""
    s = socket.create_connection((d.host, d.port), timeout=5)
    took, _ = closed_within(s, HELLO_MS / 1000 + SLACK_S)
    s.close()
    check(took is not None, "silent client outlived the Hello deadline")
    c = TlsClient(d.host, d.port, certs["a"][0])
    ts.expect_error(c, ts.UNAUTHENTICATED, "TLS client without Hello")
    c = TlsClient(d.host, d.port, certs["a"][0])
    r = c.call(1, ts.REQ_HELLO, ts.hello(TOKEN))
    check(r.kind == ts.RESP_HELLO, "Hello with the token over TLS")
    c.close()


def test_idle_deadline(d, certs):
    """Without a token and with a long frame deadline, the idle deadline
    still ends a connection that never handshakes."""
    s = socket.create_connection((d.host, d.port), timeout=5)
    took, _ = closed_within(s, ts.IDLE_MS / 1000 + SLACK_S)
    s.close()
    check(took is not None, "silent client outlived the idle deadline")


# ---- starting ------------------------------------------------------------------

def run_daemon(binary, work, name, text, *args):
    config = os.path.join(work, name + ".yaml")
    with open(config, "w") as f:
        f.write(text)
    proc = subprocess.run(
        [binary, "--port", "0", "--config", config,
         "--data-dir", os.path.join(work, name + ".data")] + list(args),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=20)
    return (proc.returncode, proc.stdout.decode("utf-8", "replace"),
            proc.stderr.decode("utf-8", "replace"))


def test_off_loopback(binary, work, certs):
    """Checked with --print-config: nothing binds beyond loopback."""
    public = 'listen: ["0.0.0.0", "::1"]\nauth_token: %s\n' % TOKEN
    rc, _, err = run_daemon(binary, work, "public", public, "--print-config")
    check(rc == 2 and "'0.0.0.0' is not a loopback address" in err and
          "tls_cert_file" in err and "plaintext_off_loopback" in err,
          "0.0.0.0 without TLS: exit %d: %s" % (rc, err))
    for word in ("yes", "1", "on"):
        rc, _, err = run_daemon(binary, work, "public",
                                public + "plaintext_off_loopback: %s\n" % word,
                                "--print-config")
        check(rc == 2 and "expected true or false" in err,
              "plaintext_off_loopback: %s: exit %d: %s" % (word, rc, err))
    rc, out, err = run_daemon(binary, work, "public",
                              public + "plaintext_off_loopback: true\n",
                              "--print-config")
    check(rc == 0 and "plaintext_off_loopback: true" in out,
          "plaintext_off_loopback: true: exit %d: %s" % (rc, err))
    rc, out, err = run_daemon(binary, work, "public",
                              public + tls_config(*certs["a"]),
                              "--print-config")
    check(rc == 0 and "tls_cert_file:" in out,
          "0.0.0.0 with TLS: exit %d: %s" % (rc, err))
    rc, _, err = run_daemon(binary, work, "half",
                            'tls_cert_file: "%s"\n' % certs["a"][0],
                            "--print-config")
    check(rc == 2 and "tls_key_file: required with tls_cert_file" in err,
          "a certificate without a key: exit %d: %s" % (rc, err))


def test_bad_files(binary, work, certs):
    """A certificate that does not load stops the start, before binding."""
    junk = os.path.join(work, "junk.pem")
    with open(junk, "w") as f:
        f.write("not a certificate\n")
    fifo = os.path.join(work, "fifo.pem")
    os.mkfifo(fifo)
    locked = os.path.join(work, "locked.key")
    subprocess.run(["openssl", "pkey", "-in", certs["a"][1], "-out", locked,
                    "-aes256", "-passout", "pass:secret"],
                   check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   timeout=30)
    cases = [
        # Neither may wait: for a writer, or for a password on a terminal.
        (tls_config(fifo, certs["a"][1]), "not a regular file"),
        (tls_config(certs["a"][0], locked), "no usable unencrypted PEM key"),
        (tls_config(junk, certs["a"][1]), "no usable PEM certificate"),
        (tls_config(certs["a"][0], junk), "no usable unencrypted PEM key"),
        (tls_config(certs["a"][0], certs["b"][1]), "does not match"),
        (tls_config(certs["a"][0], os.path.join(work, "none.key")),
         "No such file"),
    ]
    for text, want in cases:
        rc, _, err = run_daemon(binary, work, "badcert", text)
        check(rc != 0 and "refusing to start" in err and want in err,
              "want %r: exit %d: %s" % (want, rc, err))
        check("listening on" not in err, "listened with a bad certificate")


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: test_tls.py PATH/TO/mingled "
                         "PATH/TO/minglectl\n")
        return 2
    global CTL
    binary, CTL = sys.argv[1], sys.argv[2]
    failures = 0
    with tempfile.TemporaryDirectory(prefix="mingle-tls-") as work:
        sans = "DNS:localhost,IP:127.0.0.1"
        certs = {
            "a": make_cert(work, "a", "mingle-a", sans),
            "b": make_cert(work, "b", "mingle-b", sans),
            "other": make_cert(work, "other", "other", "DNS:other"),
        }
        for name, t in (("off_loopback", test_off_loopback),
                        ("bad_files", test_bad_files)):
            try:
                t(binary, work, certs)
                print("ok   %s" % name)
            except (Failure, OSError, subprocess.TimeoutExpired) as e:
                failures += 1
                print("FAIL %s: %s" % (name, e))
        a = tls_config(*certs["a"])
        plan = [
            # The idle deadline well after the frame deadline, which alone
            # must end a handshake.
            ("tls", a + "frame_timeout_ms: %d\nidle_timeout_ms: 60000\n"
             % FRAME_MS,
             [test_tls_client, test_tls12_client, test_plaintext_client,
              test_silent_client, test_stalled_handshake, test_garbage,
              test_minglectl, test_reload]),
            ("hello", a + "auth_token: %s\nhello_timeout_ms: %d\n"
             "frame_timeout_ms: 60000\nidle_timeout_ms: 60000\n"
             % (TOKEN, HELLO_MS), [test_hello_deadline]),
            ("idle", a + "frame_timeout_ms: 60000\n", [test_idle_deadline]),
            ("limits", a, [ts.test_framing, test_connection_limit,
                           ts.test_timeouts, ts.test_streams,
                           ts.test_sigterm]),
        ]
        for name, extra, tests in plan:
            try:
                d = TlsDaemon(binary, work, name, extra, certs["a"][0])
            except Failure as e:
                print("FAIL %s: %s" % (name, e))
                failures += 1
                continue
            try:
                for t in tests:
                    label = t.__name__
                    t0 = time.monotonic()
                    try:
                        if t.__module__ == ts.__name__:
                            t(d)
                        else:
                            t(d, certs)
                        print("ok   %s/%s (%.1f s)" % (name, label,
                                                       time.monotonic() - t0))
                    except (Failure, OSError, ssl.SSLError) as e:
                        failures += 1
                        print("FAIL %s/%s: %s" % (name, label, e))
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
