#!/usr/bin/env python3
"""Writes the seeds of the frame and dispatch harnesses.

    python3 tests/fuzz/gen_seeds.py tests/fuzz/corpus

The requests are encoded by hand (field numbers from proto/mingle.proto),
so this needs nothing beyond python3.  The layouts are those the harness
comments describe: fuzz_frame.c takes 3 header bytes and a stream,
fuzz_dispatch.c a flags byte and varint-delimited Request bodies.
"""
import os
import sys

TOKEN = b"fuzz-token-0123456789"  # FUZZ_TOKEN in fuzz_dispatch.c


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def f_int(num, value):
    return varint(num << 3) + varint(value)


def f_bytes(num, value):
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


def f_double(num, value):
    import struct
    return varint(num << 3 | 1) + struct.pack("<d", value)


def request(rid, field, body):
    return f_int(1, rid) + f_bytes(field, body)


def frame(body):
    return varint(len(body)) + body


def stream(flags, *requests):
    return bytes([flags]) + b"".join(frame(r) for r in requests)


EV = f_int(1, 1)  # event_id 1: the first event created


def hello(rid, token=b""):
    return request(rid, 2, f_int(1, 1) + (f_bytes(2, token) if token else b"")
                   + f_bytes(3, "fuzz"))


def create_event(rid, seed_set=True):
    weights = f_double(1, 1.0) + f_double(2, 2.0) + f_double(3, -5.0)
    body = (f_bytes(1, "Hamburg") + f_int(2, 2) + f_int(3, 3) +
            f_bytes(4, weights) + f_int(5, 42) + f_int(6, int(seed_set)) +
            f_bytes(7, f_int(1, 2) + f_int(2, 1)))
    return request(rid, 3, body)


def attendee(aid, company, interests, offers, seeks):
    body = f_bytes(1, aid) + f_bytes(2, aid.capitalize())
    body += f_bytes(3, company) + f_bytes(4, "IT")
    body += b"".join(f_bytes(5, t) for t in interests)
    body += b"".join(f_bytes(6, t) for t in offers)
    body += b"".join(f_bytes(7, t) for t in seeks)
    return body


PEOPLE = [
    ("anna", "B2BSoMe", ["Fußball", "Jazz"], ["Webdesign"], ["Steuern"]),
    ("ben", "B2BSoMe", ["FUSSBALL"], ["Steuern"], ["webdesign"]),
    ("carl", "ACME", ["Segeln"], [], []),
    ("dora", "ACME", ["Jazz", "Segeln"], ["Coaching"], []),
    ("emil", "", [], [], ["Coaching"]),
]
IDS = [p[0] for p in PEOPLE]


def upsert(rid):
    body = EV + b"".join(f_bytes(2, attendee(*p)) for p in PEOPLE)
    return request(rid, 7, body)


def ids_request(rid, field, ids):
    return request(rid, field, EV + b"".join(f_bytes(2, i) for i in ids))


def pairs(rid, kind, a, b):
    return request(rid, 11, EV + f_int(2, kind) +
                   f_bytes(3, f_bytes(1, a) + f_bytes(2, b)))


def simple(rid, field, body=EV):
    return request(rid, field, body)


def dispatch_seeds():
    meetup = stream(
        0,
        hello(1), create_event(2), upsert(3),
        ids_request(4, 9, IDS),                   # CheckIn
        pairs(5, 1, "anna", "ben"),               # MET_BEFORE
        pairs(6, 2, "carl", "dora"),              # AVOID
        simple(7, 16),                            # Subscribe
        simple(8, 12),                            # NextRound
        simple(9, 13),                            # GetSchedule
        simple(10, 14, EV + f_bytes(2, "anna") + f_bytes(3, "ben")),
        simple(11, 15),                           # GetStats
        simple(12, 15, b""),                      # GetStats, server
        simple(13, 18),                           # ListAttendees
        ids_request(14, 10, ["emil"]),            # CheckOut
        simple(15, 12),                           # NextRound
        simple(16, 17),                           # Unsubscribe
        simple(17, 8, EV + f_bytes(2, "carl")),   # RemoveAttendee
        simple(18, 4),                            # GetEvent
        simple(19, 6),                            # CloseEvent
        simple(20, 5, f_int(1, 1)),               # ListEvents, closed too
        simple(21, 20, f_int(2, 10)),             # ExportHistory
        simple(22, 19, f_bytes(1, "anna")),       # ForgetAttendee
    )
    return {
        "meetup": meetup,
        "token": stream(1, hello(1, TOKEN), create_event(2, False),
                        simple(3, 4)),
        "wrong_token": stream(1, hello(1, b"not-the-token-xxxxx"),
                              create_event(2)),
        "no_hello": stream(1, create_event(1), simple(2, 15, b"")),
        "errors": stream(
            0,
            simple(1, 12),                             # no such event
            create_event(2), ids_request(3, 9, ["nobody"]),
            simple(4, 12),                             # nobody present
            request(5, 7, EV + f_bytes(2, f_bytes(1, "bad id"))),
            request(6, 7, EV + f_bytes(2, f_bytes(1, b"\xff\xfe"))),
            f_int(1, 7),                               # no body
            hello(8)[:-3] + b"\x01\x02",               # truncated field
        ),
        "garbage": b"\x00\x05\xff\xff\xff\xff\xff",
    }


def frame_seeds():
    reqs = b"".join(frame(r) for r in (hello(1), create_event(2)))
    return {
        "two_frames": bytes([4, 0x12, 0x34]) + reqs,
        "one_byte_chunks": bytes([10, 0, 0]) + reqs,
        "empty_bodies": bytes([0, 7, 3]) + b"\x00\x00\x80\x00\x00",
        "too_big": bytes([5, 1, 1]) + varint(200) + b"x" * 16,
        "bad_prefix": bytes([14, 9, 2]) + b"\xff" * 11,
        "max_u64": bytes([14, 3, 4]) + b"\xff" * 9 + b"\x01",
    }


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "corpus"
    for harness, seeds in (("dispatch", dispatch_seeds()),
                           ("frame", frame_seeds())):
        os.makedirs(os.path.join(root, harness), exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(root, harness, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
