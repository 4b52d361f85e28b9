/* sched_search.c -- the scheduler's phases around the annealing.
 *
 *   greedy:   round by round, most constrained person first, into the
 *             open table that adds the least cost, then the most affinity;
 *   repair:   a Metropolis walk on the repeat count: a person in a repeat
 *             trades seats with someone at another table of that round;
 *   fairness: first seat everyone who has a possible business contact
 *             with one (scarcest first, within FAIR_CONTACT_SHARE of the
 *             objective), then lift the worst-off attendee (within
 *             FAIR_TOTAL_SLACK).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sched_int.h"

#define FAIR_TRIES 400        /* swap attempts per worst-off person */
#define FAIR_EMPTY_MAX 2000   /* empty-handed people tried, scarcest first */
/* Seating someone with their only possible business contacts may cost up
 * to this many lonely-seat penalties of objective (twice the value of an
 * ordinary contact), and all such seatings together FAIR_CONTACT_SHARE of
 * it: a made contact is what the evening is for. */
#define FAIR_CONTACT_LOSS 2.0
#define FAIR_CONTACT_SHARE 0.03
#define FAIR_TOTAL_SLACK 0.002 /* share of the total fairness may spend */
#define AFF_EPS 1e-9
/* Repair temperature, in repeats: one swap adding a repeat passes in
 * about 55.  A fixed temperature did better than cooling from 0.3 to 0.1
 * or 0.5 to 0.15 (10-20 % fewer repeats summed over 18 runs). */
#define REPAIR_TEMP 0.25
#define REPAIR_PC_FACTOR 4   /* repair steps per unit with pair counts */
/* Greedy counts a unit per placement, but a placement looks back at every
 * earlier round: late in a long event SCH_CHECK_EVERY of them take
 * seconds, so it reads the clock this often as well. */
#define GREEDY_CLOCK_EVERY 64

struct order_key {
    uint64_t key;
    uint32_t i;
};

static int order_cmp(const void *a, const void *b)
{
    const struct order_key *x = a, *y = b;
    return x->key < y->key ? 1 : x->key > y->key ? -1 : 0;
}

/* Stamps u's met partners: greedy asks about u against every open table,
 * and a stamp answers "met before?" without a search. */
static void mark_met(struct sch *s, uint32_t u)
{
    if (++s->met_stamp == 0) {
        memset(s->met_mark, 0, (size_t)s->n * sizeof(*s->met_mark));
        s->met_stamp = 1;
    }
    for (size_t x = s->met_off[u]; x < s->met_off[u + 1]; x++)
        s->met_mark[s->met_adj[x]] = s->met_stamp;
}

/* Cost and affinity of seating u (stamped by mark_met) in round r with the
 * `len` people in m; stops counting once the cost exceeds `cap`.  Same
 * cost as sch_meet_cost(s, u, w, r, r). */
static int64_t greedy_cost(const struct sch *s, uint32_t u, uint32_t r,
                           const uint32_t *m, uint32_t len, int64_t cap,
                           double *aff)
{
    int64_t c = 0;
    double f = 0;
    for (uint32_t x = 0; x < len && c <= cap; x++) {
        uint32_t w = m[x];
        c += sch_avoid(s, u, w) ? SCH_AVOID_COST : 0;
        c += s->met_mark[w] == s->met_stamp || sch_together(s, u, w, r, r);
        if (s->aff)
            f += sch_aff(s, u, w);
    }
    *aff = f;
    return c;
}

/* Reads the clock (and the cancel flag) now, without counting work: the
 * work count decides budgets and must not depend on the clock. */
static void greedy_check_clock(struct sch *s)
{
    s->next_check = s->work;
    sch_tick(s, 0);
}

/* Seats u at open table t of round r; a table that fills up closes. */
static void seat(struct sch *s, uint32_t u, uint32_t r, uint32_t t,
                 uint32_t *mem, const uint32_t *off, uint32_t *fill,
                 uint32_t *open, uint32_t *openpos, uint32_t *nopen)
{
    mem[off[t] + fill[t]] = u;
    s->tp[(size_t)u * s->R + r] = t;
    if (++fill[t] == off[t + 1] - off[t]) {
        uint32_t p = openpos[t], last = open[--*nopen];
        open[p] = last;
        openpos[last] = p;
    }
}

int sch_greedy(struct sch *s, uint32_t first)
{
    uint32_t n = s->n, R = s->R, T = s->T;
    struct order_key *order = malloc((n ? n : 1) * sizeof(*order));
    uint32_t *fill = malloc((T ? T : 1) * sizeof(*fill));
    uint32_t *off = malloc((T + 1) * sizeof(*off));
    uint32_t *open = malloc((T ? T : 1) * sizeof(*open));
    uint32_t *openpos = malloc((T ? T : 1) * sizeof(*openpos));
    int rc = -ENOMEM;
    if (!order || !fill || !off || !open || !openpos)
        goto out;
    if (T == 0) {
        rc = 0;
        goto out;
    }
    uint32_t base = n / T, extra = n % T;
    for (uint32_t t = 0; t <= T; t++)
        off[t] = t * base + (t < extra ? t : extra);

    for (uint32_t r = first; r < R; r++) {
        uint32_t *mem = s->mem + (size_t)r * n;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t c = s->deg[i] + ((s->flags[i] & SCH_HAS_AVOID) ?
                                      UINT64_C(1) << 30 : 0);
            order[i].key = (c << 32) | (sch_rand(&s->rng) >> 32);
            order[i].i = i;
        }
        /* Past the deadline the order no longer matters: see below. */
        if (!s->stop)
            qsort(order, n, sizeof(*order), order_cmp);
        uint32_t nopen = T;
        for (uint32_t t = 0; t < T; t++) {
            fill[t] = 0;
            open[t] = t;
            openpos[t] = t;
        }
        if (++s->stamp == 0) {
            memset(s->mark, 0, sizeof(*s->mark) * n);
            s->stamp = 1;
        }
        /* A start schedule's seats first, as far as the tables hold them:
         * a check-in then moves nobody but the newcomer. */
        for (uint32_t k = 0; s->init && k < n; k++) {
            uint32_t u = order[k].i, t = s->init[(size_t)r * n + u];
            if (t >= T || fill[t] == off[t + 1] - off[t])
                continue;
            seat(s, u, r, t, mem, off, fill, open, openpos, &nopen);
            s->mark[u] = s->stamp;
        }
        for (uint32_t k = 0; k < n; k++) {
            uint32_t u = order[k].i, best = UINT32_MAX;
            if (s->mark[u] == s->stamp)
                continue;
            if (k % GREEDY_CLOCK_EVERY == 0 && !s->stop)
                greedy_check_clock(s);
            /* The time limit bounds every phase: once it passes, the rest
             * go to the first open table, so the schedule stays complete
             * and the later phases (which see s->stop too) end at once. */
            if (s->stop) {
                seat(s, u, r, open[0], mem, off, fill, open, openpos, &nopen);
                continue;
            }
            int64_t bc = INT64_MAX;
            double ba = 0;
            bool all = nopen <= s->greedy_tables;
            uint32_t tries = all ? nopen : s->greedy_tables;
            uint32_t j0 = sch_below(&s->rng, nopen);
            mark_met(s, u);
            for (uint32_t j = 0; j < tries; j++) {
                uint32_t t = all ? open[(j0 + j) % nopen]
                                 : open[sch_below(&s->rng, nopen)];
                double f;
                int64_t c = greedy_cost(s, u, r, mem + off[t], fill[t], bc, &f);
                if (c < bc || (c == bc && f > ba + AFF_EPS)) {
                    bc = c;
                    ba = f;
                    best = t;
                }
            }
            /* Placement evaluates half-filled tables: cheap next to a swap. */
            sch_tick(s, 1);
            seat(s, u, r, best, mem, off, fill, open, openpos, &nopen);
        }
    }
    rc = 0;
out:
    free(order);
    free(fill);
    free(off);
    free(open);
    free(openpos);
    return rc;
}

/* A partner for u in round r: someone at another table. */
static uint32_t random_partner(struct sch *s, uint32_t u, uint32_t r)
{
    uint32_t R = s->R;
    uint32_t a = s->tp[(size_t)u * R + r];
    for (;;) {
        uint32_t v = sch_below(&s->rng, s->n);
        if (s->tp[(size_t)v * R + r] != a)
            return v;
    }
}

/* Metropolis walk on the repeat count alone: a random person in a repeat
 * trades seats with a random person at another table of that round;
 * sideways moves always pass, worsening ones with probability
 * exp(-d / REPAIR_TEMP).  Keeps the best state seen.
 *
 * It replaced a min-conflicts tabu search after Dotu & Van Hentenryck
 * (every swap of one conflicting person weighed, the best non-tabu one
 * made).  For the same work the walk takes one step per swap weighed, the
 * tabu search one per ~n, and the tabu search stalled at 1.5-4 times the
 * walk's repeats (15/3/7 without a design: 3-6 against 0; 30/5/6: 13-16
 * against 6-9); a tabu tenure inside the walk made it worse too. */
int sch_repair(struct sch *s, uint64_t budget)
{
    uint32_t R = s->R;
    size_t nr = (size_t)s->n * R;
    int64_t target = (int64_t)s->lower_bound;
    if (sch_cost(s) <= target || budget == 0)
        return 0;
    uint32_t *best_tp = malloc(nr * sizeof(*best_tp));
    if (!best_tp || sch_use_pair_counts(s) != 0) {
        free(best_tp);
        return -ENOMEM;
    }
    int64_t best = sch_cost(s);
    bool saved = false;
    uint64_t end = s->work + budget;
    while (s->work < end && !s->stop && best > target && s->ccount) {
        size_t pu = s->cset[sch_below(&s->rng, s->ccount)];
        uint32_t u = (uint32_t)(pu / R), r = (uint32_t)(pu % R);
        uint32_t v = random_partner(s, u, r);
        int64_t d = sch_swap_dcost(s, u, v, r);
        sch_tick(s, 1);
        if (d > 0 && sch_unit(&s->rng) >= exp(-(double)d / REPAIR_TEMP))
            continue;
        if (d > 0 && !saved && sch_cost(s) == best) {
            memcpy(best_tp, s->tp, nr * sizeof(*best_tp));
            saved = true;
        }
        sch_swap(s, u, v, r);
        if (sch_cost(s) < best) {
            best = sch_cost(s);
            saved = false;
        }
    }
    if (sch_cost(s) > best) {
        memcpy(s->tp, best_tp, nr * sizeof(*best_tp));
        sch_rebuild(s);
    }
    free(best_tp);
    return 0;
}

/* Affinity totals of everyone at u's and v's tables in round r after they
 * swapped; returns the smallest. */
static double min_after_swap(const struct sch *s, const double *F, uint32_t u,
                             uint32_t v, uint32_t r)
{
    uint32_t R = s->R;
    const uint32_t *st = s->start + (size_t)r * (s->T + 1);
    const uint32_t *mem = s->mem + (size_t)r * s->n;
    uint32_t tabs[2] = {s->tp[(size_t)u * R + r], s->tp[(size_t)v * R + r]};
    double nu = F[u] - s->asum[(size_t)u * R + r];
    double nv = F[v] - s->asum[(size_t)v * R + r];
    double lo = INFINITY;
    for (int k = 0; k < 2; k++) {
        uint32_t out = k ? v : u, in = k ? u : v;
        for (uint32_t x = st[tabs[k]]; x < st[tabs[k] + 1]; x++) {
            uint32_t w = mem[x];
            if (w == out)
                continue;
            double fin = sch_aff(s, in, w);
            double fw = F[w] - sch_aff(s, out, w) + fin;
            if (fw < lo)
                lo = fw;
            if (in == u)
                nu += fin;
            else
                nv += fin;
        }
    }
    if (nu < lo)
        lo = nu;
    return nv < lo ? nv : lo;
}

static void refresh_totals(const struct sch *s, double *F, uint32_t r,
                           uint32_t t)
{
    const uint32_t *st = s->start + (size_t)r * (s->T + 1);
    const uint32_t *mem = s->mem + (size_t)r * s->n;
    for (uint32_t x = st[t]; x < st[t + 1]; x++) {
        uint32_t w = mem[x];
        F[w] = 0;
        for (uint32_t q = 0; q < s->R; q++)
            F[w] += s->asum[(size_t)w * s->R + q];
    }
}

/* Swaps that lift the worst-off attendee's affinity total, each costing
 * at most what is left of *slack. */
static int lift_worst(struct sch *s, uint64_t budget, double *slack_left)
{
    uint32_t n = s->n, R = s->R;
    double *F = malloc(n * sizeof(*F));
    if (!F)
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        F[i] = 0;
        for (uint32_t r = 0; r < R; r++)
            F[i] += s->asum[(size_t)i * R + r];
    }
    uint64_t end = s->work + budget;
    bool improved = true;
    double slack = *slack_left;
    while (improved && s->work < end && !s->stop) {
        uint32_t p = 0;
        for (uint32_t i = 1; i < n; i++)
            if (F[i] < F[p])
                p = i;
        sch_tick(s, n / 64 + 1);
        improved = false;
        for (uint32_t k = 0; k < FAIR_TRIES && !improved; k++) {
            uint32_t r = sch_below(&s->rng, R);
            uint32_t v = random_partner(s, p, r);
            sch_tick(s, 1);
            if (sch_swap_dcost(s, p, v, r) > 0)
                continue;
            double da = sch_swap_dobj(s, p, v, r);
            if (da < -slack - AFF_EPS ||
                min_after_swap(s, F, p, v, r) <= F[p] + AFF_EPS)
                continue;
            if (da < 0)
                slack += da;
            uint32_t a = s->tp[(size_t)p * R + r], b = s->tp[(size_t)v * R + r];
            sch_swap(s, p, v, r);
            refresh_totals(s, F, r, a);
            refresh_totals(s, F, r, b);
            improved = true;
        }
    }
    *slack_left = slack;
    free(F);
    return 0;
}

/* Business tablemates of i over all rounds (a repeat counts twice: this
 * only asks "none or some"). */
static uint32_t business_seats(const struct sch *s, uint32_t i)
{
    uint32_t R = s->R, c = 0;
    for (uint32_t r = 0; r < R; r++) {
        const uint32_t *st = s->start + (size_t)r * (s->T + 1);
        const uint32_t *mem = s->mem + (size_t)r * s->n;
        uint32_t t = s->tp[(size_t)i * R + r];
        for (uint32_t x = st[t]; x < st[t + 1]; x++)
            c += mem[x] != i && aff_business(s->aff, s->pid[i], s->pid[mem[x]]);
    }
    return c;
}

struct empty_key {
    uint32_t contacts;
    uint32_t i;
};

static int empty_cmp(const void *a, const void *b)
{
    const struct empty_key *x = a, *y = b;
    if (x->contacts != y->contacts)
        return x->contacts < y->contacts ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Whether the swap of u and v in round r leaves everyone at their two
 * tables who had a business tablemate with one still. */
static bool keeps_contacts(const struct sch *s, uint32_t u, uint32_t v,
                           uint32_t r, const uint32_t *bc)
{
    const uint32_t *st = s->start + (size_t)r * (s->T + 1);
    const uint32_t *mem = s->mem + (size_t)r * s->n;
    uint32_t tabs[2] = {s->tp[(size_t)u * s->R + r], s->tp[(size_t)v * s->R + r]};
    for (int k = 0; k < 2; k++) {
        for (uint32_t x = st[tabs[k]]; x < st[tabs[k] + 1]; x++) {
            uint32_t w = mem[x];
            if (bc[w] > 0 && business_seats(s, w) == 0 &&
                !(s->served && s->served[w]))
                return false;
        }
    }
    return true;
}

/* The best swap that seats p with one of the `nc` contacts in c[]: p
 * moves to a contact's table or a contact to p's, in the earliest round
 * where one can (live, a later round may never come for someone who
 * leaves early), without adding repeats or avoid violations and costing
 * at most FAIR_CONTACT_LOSS penalties and what is left of *slack.
 * Returns true and performs it when one exists. */
static bool seat_with_contact(struct sch *s, uint32_t p, const uint32_t *c,
                              uint32_t nc, uint32_t *bc, double *slack)
{
    double allowed = FAIR_CONTACT_LOSS * s->penalty;
    if (allowed > *slack)
        allowed = *slack;
    uint32_t R = s->R, bu = 0, bv = 0, br = 0;
    double best = -INFINITY;
    for (uint32_t r = 0; r < R && best == -INFINITY; r++) {
        for (uint32_t k = 0; k < nc; k++) {
            uint32_t q = c[k];
            const uint32_t *st = s->start + (size_t)r * (s->T + 1);
            const uint32_t *mem = s->mem + (size_t)r * s->n;
            uint32_t tq = s->tp[(size_t)q * R + r], tp = s->tp[(size_t)p * R + r];
            if (tq == tp)
                continue;
            for (int side = 0; side < 2; side++) {
                uint32_t mover = side ? q : p, t = side ? tp : tq;
                for (uint32_t x = st[t]; x < st[t + 1]; x++) {
                    uint32_t w = mem[x];
                    if (w == q || w == p)
                        continue;
                    sch_tick(s, 1);
                    if (sch_swap_dcost(s, mover, w, r) > 0)
                        continue;
                    double d = sch_swap_dobj(s, mover, w, r);
                    if (d <= best || d < -allowed)
                        continue;
                    sch_swap(s, mover, w, r);
                    bool keeps = keeps_contacts(s, mover, w, r, bc);
                    sch_swap(s, mover, w, r);
                    if (keeps) {
                        best = d;
                        bu = mover;
                        bv = w;
                        br = r;
                    }
                }
            }
        }
    }
    if (best == -INFINITY)
        return false;
    sch_swap(s, bu, bv, br);
    if (best < 0)
        *slack += best;
    const uint32_t *st = s->start + (size_t)br * (s->T + 1);
    const uint32_t *mem = s->mem + (size_t)br * s->n;
    for (int k = 0; k < 2; k++) {
        uint32_t t = s->tp[(size_t)(k ? bv : bu) * R + br];
        for (uint32_t x = st[t]; x < st[t + 1]; x++)
            bc[mem[x]] = business_seats(s, mem[x]);
    }
    return bc[p] > 0;
}

/* Everyone who could have had a business contact gets one where a swap
 * allows it, those with the fewest possible contacts first: for them a
 * contact is scarce, for others one more table will do. */
static int seat_empty_handed(struct sch *s, uint64_t budget, double *slack)
{
    uint32_t n = s->n, ne = 0;
    uint32_t *bc = malloc((n ? n : 1) * sizeof(*bc));
    uint32_t *contacts = malloc((n ? n : 1) * sizeof(*contacts));
    struct empty_key *empty = malloc((n ? n : 1) * sizeof(*empty));
    int rc = -ENOMEM;
    if (!bc || !contacts || !empty)
        goto out;
    for (uint32_t i = 0; i < n; i++)
        bc[i] = business_seats(s, i);
    sch_tick(s, (uint64_t)n * s->R / 16 + 1);
    for (uint32_t i = 0; i < n && ne < FAIR_EMPTY_MAX; i++) {
        if (bc[i] > 0 || (s->served && s->served[i]))
            continue;
        uint32_t nc = 0;
        for (uint32_t q = 0; q < n; q++)
            nc += q != i && aff_business(s->aff, s->pid[i], s->pid[q]) &&
                  !sch_met(s, i, q) && !sch_avoid(s, i, q);
        sch_tick(s, n / 64 + 1);
        if (nc > 0)
            empty[ne++] = (struct empty_key){nc, i};
    }
    qsort(empty, ne, sizeof(*empty), empty_cmp);
    uint64_t end = s->work + budget;
    for (uint32_t e = 0; e < ne && s->work < end && !s->stop; e++) {
        uint32_t p = empty[e].i, nc = 0;
        if (bc[p] > 0)
            continue;
        for (uint32_t q = 0; q < n; q++)
            if (q != p && aff_business(s->aff, s->pid[p], s->pid[q]) &&
                !sch_met(s, p, q) && !sch_avoid(s, p, q))
                contacts[nc++] = q;
        seat_with_contact(s, p, contacts, nc, bc, slack);
    }
    rc = 0;
out:
    free(bc);
    free(contacts);
    free(empty);
    return rc;
}

int sch_fairness(struct sch *s, uint64_t budget)
{
    if (!s->aff || budget == 0 || s->T < 2)
        return 0;
    /* After annealing, nothing fair comes for free: objectives this close
     * count as equal. */
    double obj = fabs(sch_objective(s));
    double contacts = FAIR_CONTACT_SHARE * obj;
    double slack = FAIR_TOTAL_SLACK * obj;
    uint64_t half = budget / 2;
    int rc = seat_empty_handed(s, half, &contacts);
    if (rc != 0)
        return rc;
    return lift_worst(s, budget - half, &slack);
}

/* Greedy from round `first`, then repair within `budget`.  The rebuild
 * after greedy scores every seated pair, a second or more at a thousand
 * rounds of thousands: greedy stops early enough to leave it time. */
static int start(struct sch *s, uint32_t first, uint64_t budget)
{
    struct timespec deadline = s->deadline;
    double k = (double)s->n / (s->T ? s->T : 1);
    double pairs = (double)s->n * s->R * (k > 1 ? k - 1 : 0) / 2;
    double early_ns = pairs / SCH_REBUILD_PAIRS_PER_MS * 1e6;

    s->deadline.tv_sec -= (time_t)(early_ns / 1e9);
    s->deadline.tv_nsec -= (long)fmod(early_ns, 1e9);
    if (s->deadline.tv_nsec < 0) {
        s->deadline.tv_sec--;
        s->deadline.tv_nsec += 1000000000L;
    }
    int rc = sch_greedy(s, first);
    s->deadline = deadline;
    if (rc != 0)
        return rc;
    sch_rebuild(s);
    if (s->T < 2 || s->n < 2)
        return 0;
    return sch_repair(s, budget);
}

int sch_construct(struct sch *s, uint32_t designed, uint64_t budget)
{
    if (designed == 0 || designed == s->R)
        return start(s, designed, budget);
    /* A partial design can box the last rounds in, and a plain start may
     * do better: build both, keep the one with fewer repeats, then the
     * higher objective. */
    size_t bytes = (size_t)s->n * s->R * sizeof(*s->tp);
    uint32_t *first = malloc(bytes);
    int rc = -ENOMEM;
    if (!first)
        goto out;
    if ((rc = start(s, designed, budget)) != 0)
        goto out;
    int64_t cost = sch_cost(s);
    double obj = sch_objective(s);
    memcpy(first, s->tp, bytes);
    if ((rc = start(s, 0, budget)) != 0)
        goto out;
    if (sch_cost(s) > cost || (sch_cost(s) == cost && sch_objective(s) < obj)) {
        memcpy(s->tp, first, bytes);
        sch_rebuild(s);
    } else {
        s->used_design = false;
    }
out:
    free(first);
    return rc;
}

