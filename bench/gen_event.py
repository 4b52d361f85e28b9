#!/usr/bin/env python3
"""Writes a realistic, deterministic mingle event file.

Attendees get German-ish names, companies (a few with several employees),
interests drawn from a pool with Zipf-like popularity (everyone likes
"Reisen", few play "Bogenschießen"), and offers/seeks from a pool of about
60 business services.  The same arguments always give the same file.

    bench/gen_event.py --people 1000 --table-size 8 --rounds 8 > event.yaml
    bench/gen_event.py --people 32 --table-size 4 --rounds 8 --names-only
    bench/gen_event.py --people 150 --table-size 8 --rounds 6 \
        --met-before 150 --avoid 8 --realistic-pairs

--met-before and --avoid draw random pairs.  With --realistic-pairs they
look like a club's evening instead: a third of the attendees are regulars
who met each other at earlier evenings, and the others know a regular or
two; about half of all acquaintances work in the same industry.  (Not
colleagues: the one large firm here sends a third of the people at 1,000,
more than there are tables, and the same_company weight parts colleagues
anyway.)  Avoid pairs are competitors: two people of one industry who
offer the same service.  Arguments
without --realistic-pairs give the same file as before.
"""
import argparse
import random
import sys

FIRST = """Anna Ben Clara David Emma Felix Greta Hannes Ida Jonas Klara Lukas
Lena Max Mia Noah Nora Oskar Paula Quirin Rosa Paul Sophie Tim Ute Vincent
Wiebke Xaver Yara Zoe Jan Lea Finn Marie Tom Lina Erik Frieda Moritz Ella
Henrik Johanna Karl Luise Malte Nele Ole Pia Rasmus Svea Till Theresa""".split()
LAST = """Becker Schröder Müller Schmidt Fischer Weber Wagner Hoffmann Schulz
Koch Richter Klein Wolf Neumann Schwarz Braun Zimmermann Krüger Hartmann
Lange Werner Krause Meier Lehmann Köhler Jansen Petersen Hansen Thomsen
Brandt Vogel Friedrich Keller Günther Frank Berger Roth Beck Lorenz Kühn""".split()
COMPANY_WORDS = """Nord Hafen Elb Alster Pixel Blau Werk Kontor Digital Consult
Media Bau Finanz Logistik Design Daten Grün Licht Stahl Klang Netz Plan""".split()
COMPANY_FORMS = ["GmbH", "AG", "KG", "& Partner", "UG", "e.K."]
INDUSTRIES = """Marketing IT Handwerk Beratung Finanzen Logistik Gastronomie
Immobilien Gesundheit Recht Medien Bildung Einzelhandel Industrie""".split()
INTERESTS = """Reisen Fußball Kochen Laufen Wein Jazz Segeln Golf Fotografie
Wandern Radfahren Lesen Tennis Yoga Kino Theater Oper Gärtnern Schach
Klettern Tauchen Skifahren Handball Hockey Rudern Kajak Surfen Angeln
Imkerei Töpfern Malen Zeichnen Chorsingen Gitarre Klavier Schlagzeug
Podcasts Oldtimer Motorrad Camping Vanlife Bergsteigen Triathlon Marathon
Schwimmen Boxen Fechten Reiten Bogenschießen Tanzen Salsa Tango Poker
Bridge Brettspiele Videospiele Modelleisenbahn Astronomie Geschichte
Philosophie Architektur Design Mode Kunst Museen Craft-Beer Whisky Kaffee
Tee Backen Grillen Veganes-Kochen Sushi Italien Skandinavien Japan Asien
Südamerika Afrika Ehrenamt Kinder Hunde Katzen Pferde Nachhaltigkeit
E-Mobilität Startups Investieren Immobilien Krypto KI Robotik 3D-Druck
Programmieren Elektronik Amateurfunk Drohnen Fliegen Segelfliegen Ballett
Stand-up Improtheater Poetry-Slam Lyrik Krimis Science-Fiction Comics
Vinyl Konzerte Festivals Techno Klassik Rock Hip-Hop Schlager Karneval
FC-St-Pauli HSV Werder Bundesliga Formel-1 Eishockey Basketball Volleyball""".split()
SERVICES = """Webdesign Steuerberatung Social-Media-Konzeption SEO Buchhaltung
Rechtsberatung Arbeitsrecht Markenrecht Versicherung Finanzierung
Fördermittel Coaching Teamentwicklung Personalvermittlung Recruiting
Fotografie Videoproduktion Texte Übersetzung Druck Messebau Eventplanung
Catering Büroflächen Coworking IT-Support Cloud-Hosting IT-Sicherheit
Datenschutz Softwareentwicklung App-Entwicklung Onlineshop CRM-Einführung
ERP-Beratung Prozessberatung Unternehmensnachfolge Strategieberatung
Vertriebstraining Leadgenerierung Pressearbeit Corporate-Design Logo
Verpackung Logistik Lagerfläche Fuhrpark Energieberatung Photovoltaik
Gebäudereinigung Facility-Management Innenausstattung Möbel Arbeitsschutz
Betriebsarzt Gesundheitsmanagement Weiterbildung Sprachkurse Podcasts
Immobilienmakler Architektur Handwerker-Netzwerk""".split()


def zipf_pick(rng, pool, s, k):
    """k distinct picks, item i weighted 1 / (i + 1)^s."""
    weights = [1.0 / (i + 1) ** s for i in range(len(pool))]
    picks = set()
    while len(picks) < k:
        picks.add(rng.choices(range(len(pool)), weights=weights)[0])
    return [pool[i] for i in sorted(picks)]


def generate(people, table_size, rounds, seed=1, names_only=False,
             met_before=0, avoid=0, realistic=False):
    """Returns (attendees, met pairs, avoid pairs); attendees are dicts."""
    rng = random.Random(seed)
    companies = []
    for _ in range(max(1, people // 3)):
        companies.append("%s%s %s" % (rng.choice(COMPANY_WORDS),
                                      rng.choice(COMPANY_WORDS).lower(),
                                      rng.choice(COMPANY_FORMS)))
    attendees = []
    for i in range(people):
        a = {"id": "a%05d" % i,
             "name": "%s %s" % (rng.choice(FIRST), rng.choice(LAST))}
        if not names_only:
            # A few firms send several people; most send one.
            a["company"] = companies[min(len(companies) - 1,
                                         int(rng.paretovariate(1.2)) - 1
                                         if rng.random() < 0.3
                                         else rng.randrange(len(companies)))]
            a["industry"] = rng.choice(INDUSTRIES)
            a["interests"] = zipf_pick(rng, INTERESTS, 1.0, rng.randint(2, 6))
            a["offers"] = zipf_pick(rng, SERVICES, 0.6, rng.randint(1, 2))
            a["seeks"] = zipf_pick(rng, SERVICES, 0.6, rng.randint(1, 3))
        attendees.append(a)
    if realistic:
        met = realistic_met(rng, attendees, met_before)
        return (attendees, sorted(met),
                sorted(realistic_avoid(rng, attendees, met, avoid)))
    met = set()
    while len(met) < min(met_before, people * (people - 1) // 2):
        x, y = rng.sample(range(people), 2)
        met.add((min(x, y), max(x, y)))
    avoids = set()
    while len(avoids) < min(avoid, people // 2):
        x, y = rng.sample(range(people), 2)
        if (min(x, y), max(x, y)) not in met:
            avoids.add((min(x, y), max(x, y)))
    return attendees, sorted(met), sorted(avoids)


def pair(x, y):
    return (min(x, y), max(x, y))


def realistic_met(rng, attendees, n):
    """n acquaintances from earlier evenings."""
    people = len(attendees)
    met = set()
    by_industry = {}
    for i, a in enumerate(attendees):
        by_industry.setdefault(a.get("industry"), []).append(i)
    regulars = rng.sample(range(people), people // 3) if people >= 6 else []
    while len(met) < min(n, people * (people - 1) // 2):
        x = rng.randrange(people)
        if regulars and rng.random() < 0.7:
            x, y = rng.sample(regulars, 2)
        elif regulars and rng.random() < 0.5:
            y = rng.choice(regulars)
        else:
            y = rng.randrange(people)
        if rng.random() < 0.5:
            y = rng.choice(by_industry[attendees[x].get("industry")])
        if x != y:
            met.add(pair(x, y))
    return met


def realistic_avoid(rng, attendees, met, n):
    """n pairs of competitors (one industry, one service offered), or
    fewer when there are not that many."""
    offering = {}
    for i, a in enumerate(attendees):
        for service in a.get("offers", []):
            offering.setdefault((a.get("industry"), service), []).append(i)
    rivals = sorted({pair(x, y) for group in offering.values()
                     for k, x in enumerate(group) for y in group[k + 1:]}
                    - met)
    rng.shuffle(rivals)
    return rivals[:min(n, len(attendees) // 2)]


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def flow(items):
    return "[" + ", ".join(quote(x) for x in items) + "]"


def write_yaml(out, name, table_size, rounds, seed, attendees, met, avoids):
    out.write("event:\n  name: %s\n  rounds: %d\n  table_size: %d\n"
              "  seed: %d\n" % (quote(name), rounds, table_size, seed))
    out.write("attendees:\n")
    for a in attendees:
        out.write("  - id: %s\n    name: %s\n" % (a["id"], quote(a["name"])))
        for key in ("company", "industry"):
            if key in a:
                out.write("    %s: %s\n" % (key, quote(a[key])))
        for key in ("interests", "offers", "seeks"):
            if key in a:
                out.write("    %s: %s\n" % (key, flow(a[key])))
    for key, pairs in (("met_before", met), ("avoid", avoids)):
        if pairs:
            out.write("%s:\n" % key)
            for x, y in pairs:
                out.write("  - [%s, %s]\n" % (attendees[x]["id"],
                                             attendees[y]["id"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, required=True)
    ap.add_argument("--table-size", type=int, required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--names-only", action="store_true")
    ap.add_argument("--met-before", type=int, default=0,
                    help="random pairs who already know each other")
    ap.add_argument("--avoid", type=int, default=0,
                    help="random pairs never to seat together")
    ap.add_argument("--realistic-pairs", action="store_true",
                    help="colleagues, regulars and competitors instead of "
                         "random pairs (see above)")
    ap.add_argument("-o", "--output", help="file to write (default stdout)")
    args = ap.parse_args()
    attendees, met, avoids = generate(args.people, args.table_size,
                                      args.rounds, args.seed, args.names_only,
                                      args.met_before, args.avoid,
                                      args.realistic_pairs)
    name = "Bench %d/%d/%d" % (args.people, args.table_size, args.rounds)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    with out:
        write_yaml(out, name, args.table_size, args.rounds, args.seed,
                   attendees, met, avoids)


if __name__ == "__main__":
    main()
