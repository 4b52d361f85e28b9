/* design.c -- repeat-free schedules from combinatorial designs.
 *
 * Every construction targets the same shape: T = ceil(n / table_size)
 * tables per round, of s = ceil(n / T) seats or s - 1 (the d = T * s - n
 * "short" tables).  The families, tried in this order:
 *
 *   - published schedules (design_published.c): exactly their T and s
 *     (6 tables of 4 to 6, 8 of 3 and 4, 9 of 4, 10 of 4 to 10), up to
 *     their rounds;
 *   - affine geometry (design_affine.c): T * s = p^a and s = p^b, up to
 *     (T*s - 1) / (s - 1) rounds when b divides a (AG(2,q): q tables of
 *     q, q + 1 rounds; AG(3,3): 9 of 3, 13; AG(3,4): 16 of 4, 21);
 *   - transversal designs (design_mols.c): T a prime power, s <= T, T
 *     rounds, T + 1 when s divides T;
 *   - a base round and its translates over GF(q) (design_quad.c): tables
 *     of 4 for 3q + 1 people, q = 1 (mod 4), q rounds (7 tables of 4: 9
 *     rounds, 10 tables: 13);
 *   - Kirkman triple systems over GF(q) (design_kirkman.c): q tables of 3,
 *     q = 1 (mod 6), (3q - 1) / 2 rounds (7 tables of 3: 10 rounds);
 *   - Kirkman triple systems on 2q + 1 people (design_kirkman2.c), q = 1
 *     (mod 6), q rounds (51, 63, 87, 99, 123, 135 people);
 *   - nearly Kirkman triple systems over GF(3^k) (design_nkts.c): 2q / 3
 *     tables of 3, q - 1 rounds (6 tables of 3: 8 rounds);
 *   - 1-rotational search (design_cyclic.c) for everything else, and
 *     whatever the others could not reach.
 *
 * All but the search build all T * s points and then delete d of them,
 * picked so that no two ever share a table: every table loses at most one
 * seat per round.  Fewer rounds than a construction has are its first
 * rounds.
 */
#include "design.h"
#include "design_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Deleting surplus points needs a (T * s)^2 bit matrix. */
#define DESIGN_MAX_DUMMY_POINTS 4096

uint32_t design_shape_cap(const struct design_shape *sh, uint32_t t)
{
    return t < sh->tables - sh->short_tables ? sh->seats : sh->seats - 1;
}

uint64_t design_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void design_shuffle(uint32_t *a, uint32_t len, uint64_t *rng)
{
    uint32_t i, j, t;

    for (i = len; i > 1; i--) {
        j = (uint32_t)(design_rng_next(rng) % i);
        t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* ---- deleting surplus points ------------------------------------------ */

static bool bit_get(const uint64_t *bits, size_t i)
{
    return (bits[i / 64] >> (i % 64)) & 1u;
}

/* Picks `want` points of which no two ever share a table, in a shuffled
 * order; returns 1, 0 (none), -1 (budget). */
static int dummy_dfs(const uint64_t *met, uint32_t points,
                     const uint32_t *order, uint32_t from, uint32_t *picked,
                     uint32_t depth, uint32_t want, uint64_t *budget)
{
    uint32_t i, j, x;
    int rc;

    if (depth == want)
        return 1;
    for (i = from; i + want - depth <= points; i++) {
        if (*budget == 0)
            return -1;
        (*budget)--;
        x = order[i];
        for (j = 0; j < depth &&
                    !bit_get(met, (size_t)x * points + picked[j]); j++)
            ;
        if (j < depth)
            continue;
        picked[depth] = x;
        rc = dummy_dfs(met, points, order, i + 1, picked, depth + 1, want,
                       budget);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Turns the rounds of T * s points in `full` into rounds of n points in
 * `out`, dropping d points that never meet: each table loses one seat at
 * most, so sizes stay s or s - 1. */
static int drop_dummies(const struct design_shape *sh, const uint32_t *full,
                        uint64_t *rng, uint64_t *budget, uint32_t *out)
{
    uint32_t points = sh->tables * sh->seats, d = sh->short_tables;
    uint32_t *order = NULL, *first = NULL, *picked = NULL, r, x, y, t, pos;
    uint64_t *met = NULL;
    uint8_t *drop = NULL;
    size_t words = ((size_t)points * points + 63) / 64, i;
    int rc = -ENOENT;

    if (points > DESIGN_MAX_DUMMY_POINTS)
        goto out;
    rc = -ENOMEM;
    met = calloc(words, sizeof(*met));
    order = malloc(points * sizeof(*order));
    first = malloc(sh->tables * sizeof(*first));
    picked = malloc(d * sizeof(*picked));
    drop = calloc(points, 1);
    if (met == NULL || order == NULL || first == NULL || picked == NULL ||
        drop == NULL)
        goto out;
    /* Chain each round's tables through `order` to mark pairs met. */
    for (r = 0; r < sh->rounds; r++) {
        const uint32_t *row = full + (size_t)r * points;

        memset(first, 0xff, sh->tables * sizeof(*first));
        for (x = points; x-- > 0;) {
            order[x] = first[row[x]];
            first[row[x]] = x;
        }
        for (x = 0; x < points; x++)
            for (y = order[x]; y != UINT32_MAX; y = order[y]) {
                i = (size_t)x * points + y;
                met[i / 64] |= 1ULL << (i % 64);
                i = (size_t)y * points + x;
                met[i / 64] |= 1ULL << (i % 64);
            }
    }
    for (x = 0; x < points; x++)
        order[x] = x;
    design_shuffle(order, points, rng);
    if (dummy_dfs(met, points, order, 0, picked, 0, d, budget) != 1) {
        rc = -ENOENT;
        goto out;
    }
    for (x = 0; x < d; x++)
        drop[picked[x]] = 1;
    for (r = 0; r < sh->rounds; r++)
        for (pos = 0, x = 0; x < points; x++)
            if (!drop[x]) {
                t = full[(size_t)r * points + x];
                out[(size_t)r * sh->n + pos++] = t;
            }
    rc = 0;
out:
    free(met);
    free(order);
    free(first);
    free(picked);
    free(drop);
    return rc;
}

/* Runs a construction for all T * s points, then drops the surplus. */
static int build_padded(const struct design_shape *sh,
                        int (*make)(const struct design_shape *, uint64_t *,
                                    uint32_t *),
                        uint64_t *rng, uint64_t *budget, uint32_t *out)
{
    uint32_t *full = out;
    int rc;

    if (sh->short_tables > 0) {
        full = malloc((size_t)sh->rounds * sh->tables * sh->seats *
                      sizeof(*full));
        if (full == NULL)
            return -ENOMEM;
    }
    rc = make(sh, budget, full);
    if (rc == 0 && full != out)
        rc = drop_dummies(sh, full, rng, budget, out);
    if (full != out)
        free(full);
    return rc;
}

/* ---- entry point ------------------------------------------------------ */

/* Necessary conditions: someone at a smallest table meets at least
 * n / T - 1 new people per round; the rounds' pairs are all distinct; and
 * from round two on, a table draws its s people from s different tables
 * of the round before. */
static bool shape_feasible(const struct design_shape *sh)
{
    uint64_t per_round = 0, all = (uint64_t)sh->n * (sh->n - 1) / 2;
    uint32_t t, k, low = sh->n / sh->tables;

    for (t = 0; t < sh->tables; t++) {
        k = design_shape_cap(sh, t);
        per_round += (uint64_t)k * (k - 1) / 2;
    }
    if (sh->rounds > 1 && sh->n > 1 && sh->seats > sh->tables)
        return false;
    return (uint64_t)sh->rounds * (low - 1) <= sh->n - 1 &&
           (uint64_t)sh->rounds * per_round <= all;
}

int design_build(uint32_t n, uint32_t table_size, uint32_t rounds,
                 uint64_t seed, uint64_t node_budget, uint32_t **table_of)
{
    struct design_shape sh;
    uint64_t rng = seed, budget = node_budget;
    uint32_t *out = NULL, x, r;
    int rc;

    if (table_of == NULL || n == 0 || table_size < 2 || rounds == 0)
        return -EINVAL;
    *table_of = NULL;
    if ((uint64_t)rounds * n > SIZE_MAX / sizeof(*out))
        return -ENOMEM;
    sh.n = n;
    sh.rounds = rounds;
    sh.tables = n / table_size + (n % table_size != 0);
    sh.seats = n / sh.tables + (n % sh.tables != 0);
    sh.short_tables = sh.tables * sh.seats - n;
    if (!shape_feasible(&sh))
        return -ENOENT;
    out = malloc((size_t)rounds * n * sizeof(*out));
    if (out == NULL)
        return -ENOMEM;
    if (rounds == 1 || sh.tables == 1) {
        for (r = 0; r < rounds; r++)
            for (x = 0; x < n; x++)
                out[(size_t)r * n + x] = x % sh.tables;
        rc = 0;
    } else {
        /* Partial spreads often cannot reach `rounds` at all; keep most
         * of the budget for the searches that can. */
        uint64_t geom_budget = budget / 4;

        budget -= geom_budget;
        rc = build_padded(&sh, design_published_build, &rng, &budget, out);
        if (rc == -ENOENT)
            rc = build_padded(&sh, design_affine_build, &rng, &geom_budget,
                              out);
        if (rc == -ENOENT)
            rc = build_padded(&sh, design_mols_build, &rng, &budget, out);
        if (rc == -ENOENT)
            rc = build_padded(&sh, design_quad_build, &rng, &budget, out);
        if (rc == -ENOENT)
            rc = build_padded(&sh, design_kirkman_build, &rng, &budget, out);
        if (rc == -ENOENT)
            rc = build_padded(&sh, design_kirkman2_build, &rng, &budget,
                              out);
        if (rc == -ENOENT)
            rc = build_padded(&sh, design_nkts_build, &rng, &budget, out);
        if (rc == -ENOENT)
            rc = design_cyclic_build(&sh, &rng, &budget, out);
    }
    if (rc == 0) {
        *table_of = out;
        out = NULL;
    }
    free(out);
    return rc;
}
