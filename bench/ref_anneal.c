/* ref_anneal.c -- the yardstick: plain simulated annealing for an event.
 *
 *   ref_anneal EVENT.yaml --time SECONDS [--seed N]
 *
 * Deliberately naive, so that mingle has something honest to beat: n x n
 * tables of pair scores and links, a random round-robin seating, single
 * swaps of two people in one random round, geometric cooling until
 * SECONDS after the start (loading and tables included: the wall time
 * mingle is given).  Setting a seed fixes the moves, not their number.  The objective is mingle's (sched.h), with repeats and
 * avoid pairs as large penalties instead of hard rules:
 *
 *   sum of pair scores - lonely penalty * lonely seats
 *   - 1000 * repeats - 1e6 * avoid pairs seated together
 *
 * Prints {"summary": {...}} as mingled --batch --format json names the
 * figures of sched_metrics.h, with the moves made, for
 * bench/bench_quality.py.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event_file.h"
#include "sched_metrics.h"

#define RA_REPEAT_COST 1000.0
#define RA_AVOID_COST 1e6
#define RA_COOL_TO 1e-3          /* final temperature / initial */
#define RA_CLOCK_EVERY 4096      /* moves between clock reads */
#define RA_CALIBRATE_MOVES 2000
#define RA_MET 2                 /* bits of the pair table besides linked */
#define RA_AVOID 4

struct ra {
    uint32_t n, rounds, tables, cap;
    float *w;            /* [a * n + b] aff_score */
    uint8_t *bits;       /* [a * n + b] 1 linked | RA_MET | RA_AVOID */
    uint8_t *met;        /* [a * n + b] rounds seated together */
    uint32_t *seat;      /* [(r * tables + t) * cap + k] person */
    uint32_t *size;      /* [r * tables + t] */
    uint32_t *tab;       /* [r * n + p] table */
    uint32_t *links;     /* [r * n + p] linked tablemates */
    double pen;
    uint64_t rng;
};

static uint64_t ra_rand(struct ra *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t ra_below(struct ra *s, uint32_t n)
{
    return (uint32_t)(((ra_rand(s) >> 32) * n) >> 32);
}

static double ra_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* What one more (dir = +1) or one fewer (-1) meeting of a and b costs in
 * repeats and avoid pairs, at the counts before the change. */
static double ra_meet_cost(const struct ra *s, uint32_t a, uint32_t b, int dir)
{
    size_t ab = (size_t)a * s->n + b;
    unsigned c = s->met[ab] - (dir < 0);
    double cost = (s->bits[ab] & RA_AVOID) ? RA_AVOID_COST : 0.0;

    if (c >= 1 || (s->bits[ab] & RA_MET))
        cost += RA_REPEAT_COST;
    return dir * -cost;
}

/* Change of the objective if x and y (at different tables) swapped in
 * round r; the affinity and lonely part alone goes to *plain. */
static double ra_delta(const struct ra *s, uint32_t r, uint32_t x, uint32_t y,
                       double *plain)
{
    const uint32_t *tab = &s->tab[(size_t)r * s->n];
    const uint32_t *links = &s->links[(size_t)r * s->n];
    double dw = 0.0, dpen = 0.0;
    int fewer_lonely = 0;
    uint32_t new_links[2] = {0, 0}; /* of y at x's table, of x at y's */

    for (int side = 0; side < 2; side++) {
        uint32_t out = side ? y : x, in = side ? x : y;
        size_t t = (size_t)r * s->tables + tab[out];
        const uint32_t *m = &s->seat[t * s->cap];

        for (uint32_t k = 0; k < s->size[t]; k++) {
            size_t qo = (size_t)m[k] * s->n + out, qi = (size_t)m[k] * s->n + in;
            uint32_t had = links[m[k]];
            uint32_t now = had - (s->bits[qo] & 1) + (s->bits[qi] & 1);

            if (m[k] == out)
                continue;
            dw += (double)s->w[qi] - s->w[qo];
            fewer_lonely += (had == 0) - (now == 0);
            new_links[side] += s->bits[qi] & 1;
            dpen += ra_meet_cost(s, m[k], in, 1) +
                    ra_meet_cost(s, m[k], out, -1);
        }
    }
    fewer_lonely += (links[y] == 0) - (new_links[0] == 0);
    fewer_lonely += (links[x] == 0) - (new_links[1] == 0);
    *plain = dw + s->pen * fewer_lonely;
    return *plain + dpen;
}

/* Counts p's meetings and links with its tablemates in round r in
 * (dir = +1, after it sat down) or out (dir = -1, before it leaves). */
static void ra_touch(struct ra *s, uint32_t r, uint32_t p, int dir)
{
    uint32_t t = s->tab[(size_t)r * s->n + p];
    const uint32_t *m = &s->seat[((size_t)r * s->tables + t) * s->cap];

    for (uint32_t k = 0; k < s->size[(size_t)r * s->tables + t]; k++) {
        uint32_t q = m[k], l;

        if (q == p)
            continue;
        l = s->bits[(size_t)q * s->n + p] & 1;
        s->met[(size_t)q * s->n + p] += dir;
        s->met[(size_t)p * s->n + q] += dir;
        s->links[(size_t)r * s->n + q] += dir * (int)l;
        s->links[(size_t)r * s->n + p] += dir * (int)l;
    }
}

static uint32_t *ra_seat_of(struct ra *s, uint32_t r, uint32_t p)
{
    uint32_t *m = &s->seat[((size_t)r * s->tables +
                            s->tab[(size_t)r * s->n + p]) * s->cap];

    while (*m != p)
        m++;
    return m;
}

static void ra_swap(struct ra *s, uint32_t r, uint32_t x, uint32_t y)
{
    uint32_t *sx = ra_seat_of(s, r, x), *sy = ra_seat_of(s, r, y);
    uint32_t *tab = &s->tab[(size_t)r * s->n], t = tab[x];

    ra_touch(s, r, x, -1);
    ra_touch(s, r, y, -1);
    *sx = y;
    *sy = x;
    tab[x] = tab[y];
    tab[y] = t;
    ra_touch(s, r, x, 1);
    ra_touch(s, r, y, 1);
}

/* Seats p at table t of round r. */
static void ra_place(struct ra *s, uint32_t r, uint32_t p, uint32_t t)
{
    size_t rt = (size_t)r * s->tables + t;

    s->tab[(size_t)r * s->n + p] = t;
    s->seat[rt * s->cap + s->size[rt]++] = p;
    ra_touch(s, r, p, 1);
}

/* A random round-robin seating: each round shuffles everyone into `perm`
 * and deals them out to the tables in turn, so table sizes differ by at
 * most one. */
static void ra_seat(struct ra *s, uint32_t *perm)
{
    for (uint32_t r = 0; r < s->rounds; r++) {
        for (uint32_t p = 0; p < s->n; p++)
            perm[p] = p;
        for (uint32_t p = s->n; p > 1; p--) {
            uint32_t k = ra_below(s, p), t = perm[p - 1];

            perm[p - 1] = perm[k];
            perm[k] = t;
        }
        for (uint32_t i = 0; i < s->n; i++)
            ra_place(s, r, perm[i], i % s->tables);
    }
}

/* Seats everyone as in `tab` ([r * n + p]), from empty tables. */
static void ra_restore(struct ra *s, const uint32_t *tab)
{
    memset(s->size, 0, (size_t)s->rounds * s->tables * sizeof(*s->size));
    memset(s->met, 0, (size_t)s->n * s->n);
    memset(s->links, 0, (size_t)s->rounds * s->n * sizeof(*s->links));
    for (uint32_t r = 0; r < s->rounds; r++)
        for (uint32_t p = 0; p < s->n; p++)
            ra_place(s, r, p, tab[(size_t)r * s->n + p]);
}

static void ra_random_move(struct ra *s, uint32_t *r, uint32_t *x,
                           uint32_t *y)
{
    *r = ra_below(s, s->rounds);
    *x = ra_below(s, s->n);
    do
        *y = ra_below(s, s->n);
    while (s->tab[(size_t)*r * s->n + *y] == s->tab[(size_t)*r * s->n + *x]);
}

/* Anneals until the clock reads `end`, leaving the best seating found in
 * s->tab. */
static uint64_t ra_anneal(struct ra *s, double end, uint32_t *best)
{
    size_t cells = (size_t)s->rounds * s->n;
    double t0 = 0.0, temp, cur = 0.0, top = 0.0, plain, start, span;
    uint64_t moves = 0;
    uint32_t r, x, y, worse = 0;
    bool saved = true;

    memcpy(best, s->tab, cells * sizeof(*best));
    if (s->tables < 2)
        return 0;
    /* The start temperature: the mean loss of sampled worsening moves in
     * affinity and lonely seats (repeat penalties would swamp it). */
    for (int i = 0; i < RA_CALIBRATE_MOVES; i++) {
        ra_random_move(s, &r, &x, &y);
        ra_delta(s, r, x, y, &plain);
        if (plain < 0.0) {
            t0 -= plain;
            worse++;
        }
    }
    t0 = worse ? t0 / worse : 1.0;
    temp = t0;
    start = ra_now();
    span = end - start;
    for (;;) {
        double d;

        if (moves % RA_CLOCK_EVERY == 0) {
            double f = (ra_now() - start) / span;

            if (!(span > 0.0 && f < 1.0))
                break;
            temp = t0 * pow(RA_COOL_TO, f);
        }
        moves++;
        ra_random_move(s, &r, &x, &y);
        d = ra_delta(s, r, x, y, &plain);
        if (d < 0.0 &&
            (double)(ra_rand(s) >> 11) * 0x1p-53 >= exp(d / temp))
            continue;
        /* Copy the best only when about to leave it. */
        if (d < 0.0 && !saved) {
            memcpy(best, s->tab, cells * sizeof(*best));
            saved = true;
        }
        ra_swap(s, r, x, y);
        cur += d;
        if (cur > top) {
            top = cur;
            saved = false;
        }
    }
    if (!saved)
        memcpy(best, s->tab, cells * sizeof(*best));
    ra_restore(s, best);
    return moves;
}

/* Repeats (a pair's second and later meetings, every meeting of a
 * met_before pair) and avoid pairs seated together, of the seating in s. */
static void ra_count(const struct ra *s, uint64_t *repeats, uint64_t *avoids)
{
    *repeats = *avoids = 0;
    for (uint32_t a = 0; a < s->n; a++)
        for (uint32_t b = a + 1; b < s->n; b++) {
            size_t ab = (size_t)a * s->n + b;
            unsigned c = s->met[ab];

            if (c == 0)
                continue;
            *repeats += (s->bits[ab] & RA_MET) ? c : c - 1;
            *avoids += (s->bits[ab] & RA_AVOID) ? c : 0;
        }
}

/* mingled's summary (daemon/output.c): null where a figure is unknown. */
static void ra_number(const char *key, double v, bool known)
{
    if (known)
        printf(", \"%s\": %.6f", key, v);
    else
        printf(", \"%s\": null", key);
}

static void ra_print(const struct sched_metrics *m, uint64_t repeats,
                     uint64_t avoids, uint64_t moves)
{
    printf("{\"summary\": {\"attendees\": %" PRIu32
           ", \"repeat_pairs\": %" PRIu64 ", \"avoid_violations\": %" PRIu64,
           m->attendees, repeats, avoids);
    ra_number("affinity_total", m->affinity_total, true);
    ra_number("min_attendee_affinity", m->min_attendee_affinity, true);
    ra_number("objective", m->objective, true);
    ra_number("upper_bound", m->upper_bound, m->upper_bound > 0);
    ra_number("bound_share", m->bound_share, m->upper_bound > 0);
    printf(", \"seats\": %" PRIu64 ", \"lonely_seats\": %" PRIu64
           ", \"empty_handed\": %" PRIu32, m->seats, m->lonely_seats,
           m->empty_handed);
    ra_number("business_contacts_mean", m->business_mean, true);
    printf(", \"business_contacts_min\": %" PRIu32, m->business_min);
    ra_number("business_lift", m->business_lift, true);
    ra_number("conversation_partners_mean", m->conversation_mean, true);
    printf(", \"conversation_partners_min\": %" PRIu32, m->conversation_min);
    ra_number("conversation_lift", m->conversation_lift, true);
    printf(", \"moves\": %" PRIu64 "}}\n", moves);
}

static int ra_pairs(struct ra *s, struct pairset *set, uint8_t bit,
                    const struct cfg_pair *pairs, size_t n,
                    const uint32_t *people)
{
    for (size_t i = 0; i < n; i++) {
        int rc = pairset_add(set, people[pairs[i].a], people[pairs[i].b]);

        if (rc < 0)
            return rc;
        s->bits[(size_t)pairs[i].a * s->n + pairs[i].b] |= bit;
        s->bits[(size_t)pairs[i].b * s->n + pairs[i].a] |= bit;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct ra s = {0};
    struct cfg_event *ev = NULL;
    struct cfg_error err;
    struct roster *ros = roster_new();
    struct pairset *met = pairset_new(), *avoid = pairset_new();
    struct aff_model *aff = NULL;
    struct sched_round *rounds = NULL;
    struct sched_metrics m;
    uint32_t *people = NULL, *best = NULL;
    uint64_t repeats, avoids, moves;
    double started = ra_now(), seconds = -1.0;
    const char *path = NULL;
    char msg[1024];
    int ret = 1;

    s.rng = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--time") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            s.rng = strtoull(argv[++i], NULL, 10);
        else if (!path && argv[i][0] != '-')
            path = argv[i];
        else
            path = NULL, i = argc;
    }
    if (!path || seconds < 0.0) {
        fprintf(stderr, "usage: ref_anneal EVENT.yaml --time SECONDS "
                "[--seed N]\n");
        return 2;
    }
    if (!ros || !met || !avoid)
        goto out;
    if (cfg_event_load(path, NULL, &ev, &err) < 0) {
        fprintf(stderr, "%s\n", cfg_error_format(&err, msg, sizeof msg));
        ret = 2;
        goto out;
    }
    if (ev->rounds > UINT8_MAX) {
        fprintf(stderr, "ref_anneal: at most %d rounds\n", UINT8_MAX);
        ret = 2;
        goto out;
    }
    s.n = (uint32_t)ev->n_attendees;
    s.rounds = ev->rounds;
    s.tables = (s.n + ev->table_size - 1) / ev->table_size;
    s.cap = s.tables ? (s.n + s.tables - 1) / s.tables : 0;
    people = calloc(s.n + 1, sizeof(*people));
    best = calloc((size_t)s.rounds * s.n + 1, sizeof(*best));
    s.w = calloc((size_t)s.n * s.n + 1, sizeof(*s.w));
    s.bits = calloc((size_t)s.n * s.n + 1, 1);
    s.met = calloc((size_t)s.n * s.n + 1, 1);
    s.seat = calloc((size_t)s.rounds * s.tables * s.cap + 1, sizeof(*s.seat));
    s.size = calloc((size_t)s.rounds * s.tables + 1, sizeof(*s.size));
    s.tab = calloc((size_t)s.rounds * s.n + 1, sizeof(*s.tab));
    s.links = calloc((size_t)s.rounds * s.n + 1, sizeof(*s.links));
    rounds = calloc(s.rounds, sizeof(*rounds));
    if (!people || !best || !s.w || !s.bits || !s.met || !s.seat ||
        !s.size || !s.tab || !s.links || !rounds)
        goto out;
    for (uint32_t i = 0; i < s.n; i++)
        if (roster_upsert(ros, &ev->attendees[i], &people[i]) < 0)
            goto out;
    aff = aff_model_new(ros, &ev->weights);
    if (!aff ||
        ra_pairs(&s, met, RA_MET, ev->met_before, ev->n_met_before,
                 people) < 0 ||
        ra_pairs(&s, avoid, RA_AVOID, ev->avoid, ev->n_avoid, people) < 0)
        goto out;
    s.pen = aff_lonely_penalty(aff);
    for (uint32_t a = 0; a < s.n; a++)
        for (uint32_t b = 0; b < s.n; b++)
            if (a != b) {
                s.w[(size_t)a * s.n + b] =
                    (float)aff_score(aff, people[a], people[b]);
                s.bits[(size_t)a * s.n + b] |=
                    aff_linked(aff, people[a], people[b]);
            }

    ra_seat(&s, best);
    moves = ra_anneal(&s, started + seconds, best);
    ra_count(&s, &repeats, &avoids);
    for (uint32_t r = 0; r < s.rounds; r++)
        rounds[r] = (struct sched_round){.people = people,
                                         .table_of = &s.tab[(size_t)r * s.n],
                                         .n = s.n, .tables = s.tables};
    if (sched_metrics_compute(aff, met, avoid, rounds, s.rounds, &m) < 0)
        goto out;
    ra_print(&m, repeats, avoids, moves);
    ret = 0;
out:
    if (ret == 1)
        fprintf(stderr, "ref_anneal: failed (out of memory?)\n");
    free(rounds);
    free(s.links);
    free(s.tab);
    free(s.size);
    free(s.seat);
    free(s.met);
    free(s.bits);
    free(s.w);
    free(best);
    free(people);
    aff_model_free(aff);
    pairset_free(met);
    pairset_free(avoid);
    roster_free(ros);
    cfg_event_free(ev);
    return ret;
}
