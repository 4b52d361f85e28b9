/* design_cyclic.c -- 1-rotational schedules: round r is round 0 shifted.
 *
 * Points are Z_m x {0..c-1} (point x < m * c is (x / c, x % c)) plus f
 * points fixed by translation, n = m * c + f, m >= rounds.  Round r seats
 * (a, i) where round 0 seats (a - r, i), so only round 0 is searched, and
 * n points instead of rounds * n.
 *
 * Pairs fall into orbits under translation.  A round-0 pair at offset o
 * reappears in round j exactly where another round-0 pair of its orbit
 * sits at o + j or o - j, so round 0 is repeat-free for `rounds` rounds
 * iff round-0 pairs of one orbit are at least `rounds` apart on the cycle.
 * A within-class pair at distance m / 2 is its own translate by m / 2 and
 * so sits at two offsets.  Two fixed points would meet in every round;
 * they start at different tables and are never moved.
 *
 * Two searches for round 0 share that bookkeeping: backtracking with
 * forward checking (seat the point with the fewest tables left), and tabu
 * local search whose cost is the number of round-0 pairs of pairs that are
 * too close, each step swapping a point of a clashing pair with the best
 * point at another table.
 */
#include "design_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The cover counters take about n^2 / 2 * 4 bytes. */
#define DESIGN_MAX_CYCLIC_POINTS 1024
/* More fixed points leave too few pair orbits to be worth trying. */
#define DESIGN_MAX_FIXED 3
/* Factorizations n = m * c + f tried, at most. */
#define DESIGN_MAX_FORMS 3
/* Node limits per restart.  Backtracking either succeeds fast or is
 * lost in a barren subtree, so it restarts often; local search needs long
 * runs, so its limit doubles after each pass over the factorizations. */
#define DESIGN_DFS_RESTART_NODES 10000u
#define DESIGN_FIRST_LOCAL_NODES 1000000u
/* Share of the budget, in percent, that backtracking gets first. */
#define DESIGN_DFS_SHARE_PCT 50u
/* Bounds on a step, so that big inputs cost no more per step than small
 * ones: backtracking seats the most constrained of the first
 * DESIGN_FC_SCAN free points (in random order); local search moves one of
 * at most DESIGN_LS_MOVERS clashing points, trying at most
 * DESIGN_LS_TARGETS partners drawn at random. */
#define DESIGN_FC_SCAN 32u
#define DESIGN_LS_MOVERS 8u
#define DESIGN_LS_TARGETS 128u
/* Tabu tenure, in steps: a base plus a random part against cycling. */
#define DESIGN_TABU_BASE 4u
#define DESIGN_TABU_SPREAD 8u

struct design_cyc_form {
    uint32_t m, c, f;
};

struct design_cyc {
    const struct design_shape *sh;
    struct design_cyc_form form;
    uint32_t *cover;      /* [orbit][offset]: round-0 pairs within reach */
    uint32_t *pos, *cls;  /* point x < m * c is (pos[x], cls[x]) */
    uint32_t *table;      /* round-0 table per point */
    uint32_t *members;    /* [table][seat] */
    uint32_t *seat_of;    /* index of each point in its table's members */
    uint32_t *fill;       /* backtracking: seats taken per table */
    uint32_t *dom;        /* backtracking: tables left, per level */
    uint32_t *tabu;       /* step until which a point stays put */
    uint32_t *clash;      /* scratch: points of clashing pairs */
    uint8_t *listed;      /* scratch: point is in `clash` */
    uint64_t cost;        /* clashing pairs of round-0 pairs */
    uint64_t nodes, limit; /* pairs added or removed: the work unit */
};

static size_t cyc_orbits(const struct design_cyc_form *fm)
{
    return (size_t)fm->c * (fm->m / 2) +
           (size_t)fm->c * (fm->c - 1) / 2 * fm->m + (size_t)fm->f * fm->c;
}

/* Orbit and offset of the pair {u, v}; not both fixed. */
static void cyc_orbit(const struct design_cyc *y, uint32_t u, uint32_t v,
                      size_t *orbit, uint32_t *off, bool *antipodal)
{
    uint32_t m = y->form.m, c = y->form.c, mc = m * c, half = m / 2;
    uint32_t a, b, i, j, t, diff;

    *antipodal = false;
    if (u >= mc) {
        t = u;
        u = v;
        v = t;
    }
    a = y->pos[u];
    i = y->cls[u];
    *off = a;
    if (v >= mc) {
        *orbit = (size_t)c * half + (size_t)c * (c - 1) / 2 * m +
                 (size_t)(v - mc) * c + i;
        return;
    }
    b = y->pos[v];
    j = y->cls[v];
    if (i != j) {
        if (i > j) {
            t = a;
            a = b;
            b = t;
            t = i;
            i = j;
            j = t;
            *off = a;
        }
        /* Class pairs (i, j), i < j, numbered row by row. */
        t = i * c - i * (i + 1) / 2 + (j - i - 1);
        *orbit = (size_t)c * half + (size_t)t * m +
                 (b >= a ? b - a : b + m - a);
        return;
    }
    diff = b >= a ? b - a : b + m - a;
    if (diff > m - diff) {
        diff = m - diff;
        *off = b;
    }
    *antipodal = 2 * diff == m;
    *orbit = (size_t)i * half + diff - 1;
}

/* Adds (delta = 1) or removes (-1) the pair {u, v}, keeping the cost:
 * a pair clashes with every pair whose reach covers one of its offsets. */
static void cyc_pair(struct design_cyc *y, uint32_t u, uint32_t v, int delta)
{
    uint32_t m = y->form.m, span = y->sh->rounds - 1, off, o, k, d;
    size_t orbit;
    bool anti;
    uint32_t *row;

    y->nodes++;
    cyc_orbit(y, u, v, &orbit, &off, &anti);
    row = y->cover + orbit * m;
    for (k = 0; k <= (uint32_t)anti; k++) {
        /* Removal mirrors addition: the later offset goes first. */
        o = (off + (delta > 0 ? k : (uint32_t)anti - k) * (m / 2)) % m;
        if (delta > 0)
            y->cost += row[o];
        o += m - span;
        if (o >= m)
            o -= m;
        for (d = 0; d <= 2 * span; d++) {
            row[o] += (uint32_t)delta;
            if (++o == m)
                o = 0;
        }
        o = (off + (delta > 0 ? k : (uint32_t)anti - k) * (m / 2)) % m;
        if (delta < 0)
            y->cost -= row[o];
    }
}

static bool cyc_pair_clashes(const struct design_cyc *y, uint32_t u,
                             uint32_t v)
{
    uint32_t m = y->form.m, off;
    size_t orbit;
    bool anti;
    const uint32_t *row;

    cyc_orbit(y, u, v, &orbit, &off, &anti);
    row = y->cover + orbit * m;
    if (anti)
        return row[off] + row[(off + m / 2) % m] > 2;
    return row[off] > 1;
}

/* Adds or removes every pair of x with its table mates. */
static void cyc_seat(struct design_cyc *y, uint32_t x, int delta)
{
    uint32_t t = y->table[x], k;
    const uint32_t *seat = y->members + (size_t)t * y->sh->seats;

    for (k = 0; k < design_shape_cap(y->sh, t); k++)
        if (seat[k] != x)
            cyc_pair(y, x, seat[k], delta);
}

/* Swaps x and z, at different tables; its own inverse. */
static void cyc_swap(struct design_cyc *y, uint32_t x, uint32_t z)
{
    uint32_t tx = y->table[x], tz = y->table[z], sx = y->seat_of[x];
    uint32_t seats = y->sh->seats;

    cyc_seat(y, x, -1);
    cyc_seat(y, z, -1);
    y->members[(size_t)tx * seats + sx] = z;
    y->members[(size_t)tz * seats + y->seat_of[z]] = x;
    y->seat_of[x] = y->seat_of[z];
    y->seat_of[z] = sx;
    y->table[x] = tz;
    y->table[z] = tx;
    cyc_seat(y, x, 1);
    cyc_seat(y, z, 1);
}

/* Collects the movable points of clashing pairs; returns their count. */
static uint32_t cyc_clashes(struct design_cyc *y)
{
    uint32_t mc = y->form.m * y->form.c, t, i, j, u, v, count = 0;
    const uint32_t *seat;

    for (t = 0; t < y->sh->tables; t++) {
        seat = y->members + (size_t)t * y->sh->seats;
        for (i = 0; i < design_shape_cap(y->sh, t); i++)
            for (j = i + 1; j < design_shape_cap(y->sh, t); j++) {
                u = seat[i];
                v = seat[j];
                if (!cyc_pair_clashes(y, u, v))
                    continue;
                if (u < mc && !y->listed[u]) {
                    y->listed[u] = 1;
                    y->clash[count++] = u;
                }
                if (v < mc && !y->listed[v]) {
                    y->listed[v] = 1;
                    y->clash[count++] = v;
                }
            }
    }
    for (i = 0; i < count; i++)
        y->listed[y->clash[i]] = 0;
    return count;
}

/* Seats the fixed points at tables 0..f-1 and the others at random. */
static void cyc_start(struct design_cyc *y, uint64_t *rng)
{
    uint32_t mc = y->form.m * y->form.c, n = y->sh->n, t, k, x, next = 0;

    for (x = 0; x < mc; x++)
        y->clash[x] = x;
    design_shuffle(y->clash, mc, rng);
    for (t = 0; t < y->sh->tables; t++)
        for (k = 0; k < design_shape_cap(y->sh, t); k++) {
            x = k == 0 && t < y->form.f ? mc + t : y->clash[next++];
            y->members[(size_t)t * y->sh->seats + k] = x;
            y->seat_of[x] = k;
            y->table[x] = t;
        }
    memset(y->tabu, 0, n * sizeof(*y->tabu));
    y->cost = 0;
    for (x = 0; x < n; x++)
        for (k = 0; k < design_shape_cap(y->sh, y->table[x]); k++) {
            t = y->members[(size_t)y->table[x] * y->sh->seats + k];
            if (t < x)
                cyc_pair(y, x, t, 1);
        }
}

/* Undoes cyc_start's pairs so the cover is zero for the next form. */
static void cyc_clear(struct design_cyc *y)
{
    uint32_t x, k, t;

    for (x = 0; x < y->sh->n; x++)
        for (k = 0; k < design_shape_cap(y->sh, y->table[x]); k++) {
            t = y->members[(size_t)y->table[x] * y->sh->seats + k];
            if (t < x)
                cyc_pair(y, x, t, -1);
        }
}

/* Tabu search from a random round 0 until the cost is zero (returns
 * true) or the node limit is reached.  Each step tries swapping a few
 * points of clashing pairs with points at other tables and makes the
 * best swap that moves no tabu point, or that beats the best cost yet. */
static bool cyc_search(struct design_cyc *y, uint64_t *rng)
{
    uint32_t mc = y->form.m * y->form.c, step, count, i, k, x, z;
    uint32_t targets = mc < DESIGN_LS_TARGETS ? mc : DESIGN_LS_TARGETS;
    uint32_t best_x = 0, best_z = 0;
    uint64_t best, best_ever = UINT64_MAX, ties, nodes_before;

    for (step = 1; y->cost > 0; step++) {
        nodes_before = y->nodes;
        if (y->cost < best_ever)
            best_ever = y->cost;
        count = cyc_clashes(y);
        if (count > DESIGN_LS_MOVERS) {
            design_shuffle(y->clash, count, rng);
            count = DESIGN_LS_MOVERS;
        }
        best = UINT64_MAX;
        ties = 0;
        for (i = 0; i < count; i++) {
            x = y->clash[i];
            for (k = 0; k < targets; k++) {
                z = targets == mc ? k : (uint32_t)(design_rng_next(rng) % mc);
                if (y->table[z] == y->table[x])
                    continue;
                if (y->nodes >= y->limit)
                    return false;
                cyc_swap(y, x, z);
                if (((y->tabu[x] < step && y->tabu[z] < step) ||
                     y->cost < best_ever) &&
                    (y->cost < best ||
                     (y->cost == best &&
                      design_rng_next(rng) % ++ties == 0))) {
                    if (y->cost < best)
                        ties = 1;
                    best = y->cost;
                    best_x = x;
                    best_z = z;
                }
                cyc_swap(y, x, z);
            }
        }
        /* Nothing was tried: every other table holds only fixed points,
         * or every partner drawn sat with its mover.  End the run. */
        if (best == UINT64_MAX && y->nodes == nodes_before)
            return false;
        if (best == UINT64_MAX)
            continue;
        cyc_swap(y, best_x, best_z);
        y->tabu[best_x] = step + DESIGN_TABU_BASE +
                     (uint32_t)(design_rng_next(rng) % DESIGN_TABU_SPREAD);
        y->tabu[best_z] = y->tabu[best_x];
    }
    return true;
}

/* Backtracking seats x at table t unless one of its pairs clashes. */
static bool cyc_join(struct design_cyc *y, uint32_t t, uint32_t x)
{
    uint32_t *seat = y->members + (size_t)t * y->sh->seats;
    uint32_t k;

    for (k = 0; k < y->fill[t] && y->cost == 0; k++)
        cyc_pair(y, x, seat[k], 1);
    if (y->cost > 0) {
        while (k-- > 0)
            cyc_pair(y, x, seat[k], -1);
        return false;
    }
    seat[y->fill[t]++] = x;
    y->table[x] = t;
    return true;
}

static void cyc_leave(struct design_cyc *y, uint32_t t)
{
    uint32_t *seat = y->members + (size_t)t * y->sh->seats;
    uint32_t x = seat[--y->fill[t]], k;

    for (k = y->fill[t]; k-- > 0;)
        cyc_pair(y, x, seat[k], -1);
}

/* True when the pair {u, v} fits the current round 0. */
static bool cyc_pair_fits(struct design_cyc *y, uint32_t u, uint32_t v)
{
    uint32_t m = y->form.m, off;
    size_t orbit;
    bool anti;
    const uint32_t *row;

    y->nodes++;
    cyc_orbit(y, u, v, &orbit, &off, &anti);
    row = y->cover + orbit * m;
    if (anti)
        return m / 2 >= y->sh->rounds && row[off] == 0 &&
               row[(off + m / 2) % m] == 0;
    return row[off] == 0;
}

/* Tables that x may still join, counting each set of interchangeable
 * empty tables (same capacity) once, into `dom`; returns their number. */
static uint32_t cyc_domain(struct design_cyc *y, uint32_t x, uint32_t *dom)
{
    uint32_t t, k, cap, size = 0, open_big = 0, open_small = 0;
    const uint32_t *seat;

    for (t = 0; t < y->sh->tables; t++) {
        cap = design_shape_cap(y->sh, t);
        if (y->fill[t] == cap)
            continue;
        if (y->fill[t] == 0) {
            uint32_t *open = cap == y->sh->seats ? &open_big : &open_small;

            if ((*open)++ == 0)
                dom[size++] = t;
            continue;
        }
        seat = y->members + (size_t)t * y->sh->seats;
        for (k = 0; k < y->fill[t] && cyc_pair_fits(y, x, seat[k]); k++)
            ;
        if (k == y->fill[t])
            dom[size++] = t;
    }
    return size;
}

/* Seats the free point with the fewest tables left, trying each of them;
 * `dom` has room for tables * (left + 1) entries.  Returns 1 (found,
 * state kept), 0 (none), -1 (node limit); on failure the state is as on
 * entry. */
static int cyc_fc(struct design_cyc *y, uint32_t left, uint32_t *dom)
{
    uint32_t mc = y->form.m * y->form.c, i, x, size, best = 0, best_size;
    uint32_t scanned;
    uint32_t *next = dom + y->sh->tables;
    int rc = 0;

    if (left == 0)
        return 1;
    if (y->nodes >= y->limit)
        return -1;
    best_size = UINT32_MAX;
    for (i = 0, scanned = 0; i < mc && best_size > 1 &&
                             scanned < DESIGN_FC_SCAN; i++) {
        x = y->clash[i];
        if (y->listed[x])
            continue;
        scanned++;
        size = cyc_domain(y, x, next);
        if (size == 0)
            return 0;
        if (size < best_size) {
            best_size = size;
            best = x;
            memcpy(dom, next, size * sizeof(*dom));
        }
    }
    y->listed[best] = 1;
    for (i = 0; i < best_size && rc == 0; i++) {
        if (!cyc_join(y, dom[i], best))
            continue;
        rc = cyc_fc(y, left - 1, next);
        if (rc != 1)
            cyc_leave(y, dom[i]);
    }
    if (rc != 1)
        y->listed[best] = 0;
    return rc;
}

/* One backtracking run: fixed points open tables 0..f-1. */
static bool cyc_backtrack(struct design_cyc *y, uint64_t *rng)
{
    uint32_t mc = y->form.m * y->form.c, x;
    bool found;

    for (x = 0; x < mc; x++)
        y->clash[x] = x;
    design_shuffle(y->clash, mc, rng);
    memset(y->fill, 0, y->sh->tables * sizeof(*y->fill));
    for (x = mc; x < y->sh->n; x++)
        cyc_join(y, x - mc, x);
    found = cyc_fc(y, mc, y->dom) == 1;
    if (!found)
        for (x = mc; x < y->sh->n; x++)
            cyc_leave(y, x - mc);
    return found;
}

/* Round-0 pairs needed versus the most that the orbits can hold. */
static bool cyc_form_fits(const struct design_shape *sh,
                          const struct design_cyc_form *fm)
{
    uint64_t per = fm->m / sh->rounds, room, need = 0;
    uint32_t t, k;

    room = (uint64_t)fm->c * (fm->c - 1) / 2 * fm->m * per +
           (uint64_t)fm->c * ((fm->m - 1) / 2) * per +
           (uint64_t)fm->f * fm->c * per;
    if (fm->m % 2 == 0 && fm->m / 2 >= sh->rounds)
        room += (uint64_t)fm->c * (per / 2);
    for (t = 0; t < sh->tables; t++) {
        k = design_shape_cap(sh, t);
        need += (uint64_t)k * (k - 1) / 2;
    }
    return need <= room;
}

/* Lists the factorizations n = m * c + f with m >= rounds whose orbits
 * have room, smallest m first: with few translates per orbit, round 0
 * tends to take one pair per orbit, which the searches find far more
 * easily than the long cycles of small c.  Also returns the cover size
 * the largest form needs. */
static uint32_t cyc_forms(const struct design_shape *sh,
                          struct design_cyc_form *forms, size_t *cover_len)
{
    uint32_t nforms = 0, f, m;

    *cover_len = 0;
    for (m = sh->rounds; m <= sh->n && nforms < DESIGN_MAX_FORMS; m++)
        for (f = 0; f <= DESIGN_MAX_FIXED && f <= sh->tables && f < sh->n &&
                    nforms < DESIGN_MAX_FORMS; f++) {
            struct design_cyc_form fm = {m, (sh->n - f) / m, f};

            if ((sh->n - f) % m != 0 || !cyc_form_fits(sh, &fm))
                continue;
            forms[nforms++] = fm;
            if (cyc_orbits(&fm) * fm.m > *cover_len)
                *cover_len = cyc_orbits(&fm) * fm.m;
        }
    return nforms;
}

/* Backtracking restarts are cheap, and the first forms (smallest m) are
 * the likeliest to work: attempt i uses form ctz(i + 1), so form 0 gets
 * every other attempt, form 1 every fourth, and so on. */
static uint32_t cyc_ruler(uint32_t attempt, uint32_t nforms)
{
    uint32_t k = 0;

    for (attempt++; attempt % 2 == 0 && k + 1 < nforms; attempt /= 2)
        k++;
    return k;
}

/* Restarts backtracking (forms picked by cyc_ruler, a fixed node limit
 * each) or local search (forms in turn, the limit doubling after each
 * pass) from fresh shuffles until one succeeds or `budget` is spent. */
static bool cyc_phase(struct design_cyc *y,
                      const struct design_cyc_form *forms, uint32_t nforms,
                      bool local, uint64_t *rng, uint64_t budget)
{
    uint64_t limit =
        local ? DESIGN_FIRST_LOCAL_NODES : DESIGN_DFS_RESTART_NODES;
    uint32_t attempt, x;
    bool found = false;

    for (attempt = 0; budget > 0 && !found; attempt++) {
        if (local && attempt > 0 && attempt % nforms == 0)
            limit *= 2;
        y->form = forms[local ? attempt % nforms : cyc_ruler(attempt, nforms)];
        for (x = 0; x < y->form.m * y->form.c; x++) {
            y->pos[x] = x / y->form.c;
            y->cls[x] = x % y->form.c;
        }
        y->nodes = 0;
        y->limit = limit < budget ? limit : budget;
        if (local) {
            cyc_start(y, rng);
            found = cyc_search(y, rng);
            if (!found)
                cyc_clear(y);
        } else {
            found = cyc_backtrack(y, rng);
        }
        budget -= y->nodes < budget ? y->nodes : budget;
    }
    return found;
}

int design_cyclic_build(const struct design_shape *sh, uint64_t *rng,
                        uint64_t *budget, uint32_t *out)
{
    struct design_cyc_form forms[DESIGN_MAX_FORMS];
    struct design_cyc y = {.sh = sh};
    uint32_t nforms, r, x, src;
    uint64_t dfs_budget;
    size_t cover_len;
    bool found = false;
    int rc = -ENOENT;

    if (sh->n > DESIGN_MAX_CYCLIC_POINTS)
        return -ENOENT;
    nforms = cyc_forms(sh, forms, &cover_len);
    if (nforms == 0)
        return -ENOENT;
    rc = -ENOMEM;
    y.cover = calloc(cover_len, sizeof(*y.cover));
    y.table = malloc(sh->n * sizeof(*y.table));
    y.pos = malloc(sh->n * sizeof(*y.pos));
    y.cls = malloc(sh->n * sizeof(*y.cls));
    y.members = malloc((size_t)sh->tables * sh->seats * sizeof(*y.members));
    y.seat_of = malloc(sh->n * sizeof(*y.seat_of));
    y.tabu = malloc(sh->n * sizeof(*y.tabu));
    y.clash = malloc(sh->n * sizeof(*y.clash));
    y.listed = calloc(sh->n, 1);
    y.fill = malloc(sh->tables * sizeof(*y.fill));
    y.dom = malloc((size_t)sh->tables * (sh->n + 2) * sizeof(*y.dom));
    if (y.cover == NULL || y.table == NULL || y.pos == NULL ||
        y.cls == NULL || y.members == NULL ||
        y.seat_of == NULL || y.tabu == NULL || y.clash == NULL ||
        y.listed == NULL || y.fill == NULL || y.dom == NULL)
        goto out;
    /* Backtracking wins on tight instances with small orbits, local
     * search on roomier ones with many tables. */
    dfs_budget = *budget / 100 * DESIGN_DFS_SHARE_PCT;
    found = cyc_phase(&y, forms, nforms, false, rng, dfs_budget) ||
            cyc_phase(&y, forms, nforms, true, rng, *budget - dfs_budget);
    *budget = 0;
    rc = found ? 0 : -ENOENT;
    for (r = 0; r < sh->rounds && found; r++)
        for (x = 0; x < sh->n; x++) {
            src = x;
            if (x < y.form.m * y.form.c)
                src = ((x / y.form.c + y.form.m - r) % y.form.m) *
                          y.form.c + x % y.form.c;
            out[(size_t)r * sh->n + x] = y.table[src];
        }
out:
    free(y.cover);
    free(y.table);
    free(y.pos);
    free(y.cls);
    free(y.members);
    free(y.seat_of);
    free(y.tabu);
    free(y.clash);
    free(y.listed);
    free(y.fill);
    free(y.dom);
    return rc;
}
