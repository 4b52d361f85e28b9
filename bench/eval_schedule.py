#!/usr/bin/env python3
"""Scores a schedule in attendee terms, independently of mingle's C code.

usage: eval_schedule.py EVENT.yaml SCHEDULE.json

Reads the event file (the flow-list style that bench/gen_event.py and
examples/ write; python's standard library has no YAML parser) and a
schedule in the batch JSON format, from any mingle version or any other
solver, and prints one JSON object: lonely seats, business contacts and
conversation partners per attendee, attendees left without a possible
business contact, and both lifts over a random seating, with the
definitions of daemon/engine/sched_metrics.h.  bench/ uses it to compare
versions; the integration tests use it as an oracle for mingle's summary.
Tags are compared after NFC and case folding, as mingle does (a close
enough match for the tags these files hold).
"""

import itertools
import json
import re
import sys
import unicodedata

FIELD = re.compile(r"^\s+(?:- )?(id|interests|offers|seeks): (.*)$")
PAIRS = re.compile(r"^(met_before|avoid):\s*$")
PAIR = re.compile(r"^\s+- \[\s*([^,\]]+?)\s*,\s*([^\]]+?)\s*\]")


def fold(tag):
    return unicodedata.normalize("NFC", tag.strip()).casefold()


def parse_list(text):
    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return [text.strip('"')]
    return [fold(t.strip().strip('"')) for t in text[1:-1].split(",")
            if t.strip()]


def read_event(path):
    """Returns ({id: {"interests", "offers", "seeks"}}, met, avoid)."""
    people, pairs, current, section = {}, {"met_before": set(),
                                           "avoid": set()}, None, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = PAIRS.match(line)
            if m:
                section = m.group(1)
                continue
            if section:
                p = PAIR.match(line)
                if p:
                    a, b = (x.strip('"') for x in p.groups())
                    pairs[section].add(frozenset((a, b)))
                    continue
                if line.strip() and not line.startswith(" "):
                    section = None
            m = FIELD.match(line)
            if not m or section:
                continue
            key, value = m.groups()
            value = re.sub(r"\s+#.*$", "", value)
            if key == "id":
                current = value.strip().strip('"')
                people[current] = {"interests": set(), "offers": set(),
                                   "seeks": set()}
            elif current is not None:
                people[current][key] = set(parse_list(value))
    return people, pairs["met_before"], pairs["avoid"]


def business(p, q):
    return bool(p["offers"] & q["seeks"] or q["offers"] & p["seeks"])


def shares(p, q):
    return bool(p["interests"] & q["interests"])


def evaluate(people, met, avoid, schedule):
    contacts = {i: set() for i in people}
    partners = {i: set() for i in people}
    seated, lonely, seats = set(), 0, 0
    seated_pairs = [0, 0, 0]  # pairs, business ones, sharing ones
    for rnd in schedule["rounds"]:
        for table in rnd["tables"]:
            ids = table["attendees"]
            seated.update(ids)
            for a in ids:
                seats += 1
                if not any(b != a and (business(people[a], people[b]) or
                                       shares(people[a], people[b]))
                           for b in ids):
                    lonely += 1
            for a, b in itertools.combinations(ids, 2):
                bz, sh = business(people[a], people[b]), shares(
                    people[a], people[b])
                seated_pairs[0] += 1
                seated_pairs[1] += bz
                seated_pairs[2] += sh
                if bz:
                    contacts[a].add(b)
                    contacts[b].add(a)
                if sh:
                    partners[a].add(b)
                    partners[b].add(a)
    # Every round seats the same people in batch: the random baseline is
    # the share among all pairs of them.
    everyone = sorted(seated)
    all_pairs = [0, 0, 0]
    possible = {i: False for i in everyone}
    for a, b in itertools.combinations(everyone, 2):
        bz = business(people[a], people[b])
        all_pairs[0] += 1
        all_pairs[1] += bz
        all_pairs[2] += shares(people[a], people[b])
        pair = frozenset((a, b))
        if bz and pair not in met and pair not in avoid:
            possible[a] = possible[b] = True

    def lift(k):
        if not seated_pairs[0] or not all_pairs[k]:
            return 0.0
        return (seated_pairs[k] / seated_pairs[0]) / (all_pairs[k] /
                                                      all_pairs[0])

    n = len(everyone)
    return {
        "attendees": n,
        "seats": seats,
        "lonely_seats": lonely,
        "business_contacts_mean": sum(len(contacts[i]) for i in everyone) / n,
        "business_contacts_min": min(len(contacts[i]) for i in everyone),
        "conversation_partners_mean":
            sum(len(partners[i]) for i in everyone) / n,
        "conversation_partners_min": min(len(partners[i]) for i in everyone),
        "empty_handed": sum(1 for i in everyone
                            if possible[i] and not contacts[i]),
        "business_lift": lift(1),
        "conversation_lift": lift(2),
    }


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2])
    people, met, avoid = read_event(sys.argv[1])
    with open(sys.argv[2], encoding="utf-8") as f:
        schedule = json.load(f)
    json.dump(evaluate(people, met, avoid, schedule), sys.stdout)
    print()


if __name__ == "__main__":
    main()
