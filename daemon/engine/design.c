/* design.c -- repeat-free schedules from combinatorial designs.
 *
 * Every construction targets the same shape: T = ceil(n / table_size)
 * tables per round, of s = ceil(n / T) seats or s - 1 (the d = T * s - n
 * "short" tables).  Three families are tried, cheapest first:
 *
 *   - geometry: when T * s = p^a and s = p^b, rounds are the cosets of
 *     b-dimensional subspaces of GF(p)^a that pairwise meet only in 0
 *     (lines over GF(p^b) when b divides a: affine planes and spaces, all
 *     (T*s - 1) / (s - 1) rounds).  Two points share a coset of at most one
 *     of those subspaces, so no pair repeats;
 *   - transversal designs: when T is a prime power and s <= T, T rounds;
 *   - 1-rotational search (design_cyclic.c) for everything else.
 *
 * The first two build all T * s points and then delete d of them, picked
 * so that no two ever share a table: every table loses at most one seat
 * per round.
 */
#include "design.h"
#include "design_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Geometry enumerates T * s points per round. */
#define DESIGN_MAX_GEOM_POINTS (1u << 20)
/* Deleting surplus points needs a (T * s)^2 bit matrix. */
#define DESIGN_MAX_DUMMY_POINTS 4096
/* Partial spreads are searched among all subspaces, enumerated up front. */
#define DESIGN_MAX_SUBSPACES 20000
/* Digits of a point of GF(q)^dim: q >= 2 and q^dim <= 2^20. */
#define DESIGN_MAX_DIM 20

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

/* ---- geometry: cosets of subspaces of GF(q)^dim ------------------------ */

struct design_geom {
    struct design_gf f;
    uint32_t dim, sub_dim;   /* points are GF(q)^dim, tables sub_dim-spaces */
    uint32_t points;         /* q^dim */
    uint32_t span_len;       /* q^sub_dim - 1 nonzero vectors per subspace */
    uint32_t count, max;     /* subspaces enumerated / allocated */
    uint8_t *basis;          /* [count][sub_dim][dim], reduced echelon */
    uint32_t *span;          /* [count][span_len]: their nonzero vectors */
    uint8_t *pivot;          /* [count][sub_dim]: pivot column per row */
};

static void geom_free(struct design_geom *g)
{
    free(g->basis);
    free(g->span);
    free(g->pivot);
}

/* Counts k-subspaces of GF(q)^dim, saturating at cap + 1.  Going
 * through [dim, i] for i <= min(k, dim - k) keeps every partial count an
 * integer no larger than the result. */
static uint64_t gauss_binomial(uint32_t q, uint32_t dim, uint32_t k,
                               uint64_t cap)
{
    uint64_t r = 1, num, den;
    uint32_t i, j;

    if (k > dim - k)
        k = dim - k;
    for (i = 0; i < k; i++) {
        for (num = 1, j = 0; j < dim - i; j++)
            num *= q;
        for (den = 1, j = 0; j <= i; j++)
            den *= q;
        r = r * (num - 1) / (den - 1);
        if (r > cap)
            return cap + 1;
    }
    return r;
}

/* Stores the next subspace, given by its pivot columns and the values of
 * its free entries, with its span. */
static void geom_store(struct design_geom *g, const uint32_t *piv,
                       const uint32_t *cell, const uint32_t *val,
                       uint32_t nfree)
{
    uint32_t k = g->sub_dim, d = g->dim, q = g->f.q, i, r, c, v;
    uint8_t *B = g->basis + (size_t)g->count * k * d;
    uint32_t lambda[DESIGN_MAX_DIM] = {0};
    uint8_t vec[DESIGN_MAX_DIM];

    memset(B, 0, (size_t)k * d);
    for (r = 0; r < k; r++) {
        B[r * d + piv[r]] = 1;
        g->pivot[g->count * k + r] = (uint8_t)piv[r];
    }
    for (i = 0; i < nfree; i++)
        B[cell[i]] = (uint8_t)val[i];
    for (i = 0; i < g->span_len; i++) {
        for (r = 0; ++lambda[r] == q; r++)
            lambda[r] = 0;
        memset(vec, 0, d);
        for (r = 0; r < k; r++)
            for (c = 0; c < d; c++)
                vec[c] = g->f.add[vec[c] * q +
                                  g->f.mul[lambda[r] * q + B[r * d + c]]];
        for (v = 0, c = d; c-- > 0;)
            v = v * q + vec[c];
        g->span[(size_t)g->count * g->span_len + i] = v;
    }
    g->count++;
}

/* Enumerates reduced echelon bases: pivot sets in lexicographic order,
 * then every value of the free entries, until g->max are stored. */
static void geom_enumerate(struct design_geom *g)
{
    uint32_t k = g->sub_dim, d = g->dim, piv[DESIGN_MAX_DIM];
    uint32_t cell[DESIGN_MAX_DIM * DESIGN_MAX_DIM];
    uint32_t val[DESIGN_MAX_DIM * DESIGN_MAX_DIM];
    uint32_t r, c, i, nfree;
    bool is_piv[DESIGN_MAX_DIM];

    for (r = 0; r < k; r++)
        piv[r] = r;
    for (;;) {
        memset(is_piv, 0, sizeof(is_piv));
        for (r = 0; r < k; r++)
            is_piv[piv[r]] = true;
        for (nfree = 0, r = 0; r < k; r++)
            for (c = piv[r] + 1; c < d; c++)
                if (!is_piv[c])
                    cell[nfree++] = r * d + c;
        memset(val, 0, sizeof(val));
        do {
            if (g->count == g->max)
                return;
            geom_store(g, piv, cell, val, nfree);
            for (i = 0; i < nfree && ++val[i] == g->f.q; i++)
                val[i] = 0;
        } while (i < nfree);
        for (r = k; r-- > 0 && piv[r] == d - k + r;)
            ;
        if (r == UINT32_MAX)
            return;
        for (piv[r]++, c = r + 1; c < k; c++)
            piv[c] = piv[c - 1] + 1;
    }
}

/* Index of the coset of subspace `s` containing point x: reduce x by the
 * basis so its pivot digits are 0 and read the other digits. */
static uint32_t geom_coset(const struct design_geom *g, uint32_t s, uint32_t x)
{
    uint32_t k = g->sub_dim, d = g->dim, q = g->f.q, r, c, coef, v = 0;
    const uint8_t *B = g->basis + (size_t)s * k * d;
    const uint8_t *piv = g->pivot + (size_t)s * k;
    uint8_t vec[DESIGN_MAX_DIM];
    bool is_piv[DESIGN_MAX_DIM] = {false};

    for (c = 0; c < d; c++, x /= q)
        vec[c] = (uint8_t)(x % q);
    for (r = 0; r < k; r++) {
        coef = g->f.neg[vec[piv[r]]];
        is_piv[piv[r]] = true;
        for (c = 0; c < d; c++)
            vec[c] = g->f.add[vec[c] * q + g->f.mul[coef * q + B[r * d + c]]];
    }
    for (c = d; c-- > 0;)
        if (!is_piv[c])
            v = v * q + vec[c];
    return v;
}

/* Chooses `want` subspaces with disjoint spans; returns 1 when found, 0
 * when the enumerated set has none, -1 when the budget ran out.  The
 * first pick is free: the group GL acts transitively on subspaces. */
static int spread_dfs(const struct design_geom *g, uint8_t *used,
                      uint32_t *chosen, uint32_t depth, uint32_t want,
                      uint32_t from, uint64_t *budget)
{
    uint32_t i, j, stop = depth == 0 ? 1 : g->count;
    const uint32_t *sp;
    int rc;

    if (depth == want)
        return 1;
    for (i = from; i < stop && g->count - i >= want - depth; i++) {
        if (*budget == 0)
            return -1;
        (*budget)--;
        sp = g->span + (size_t)i * g->span_len;
        for (j = 0; j < g->span_len && !used[sp[j]]; j++)
            ;
        if (j < g->span_len)
            continue;
        for (j = 0; j < g->span_len; j++)
            used[sp[j]] = 1;
        chosen[depth] = i;
        rc = spread_dfs(g, used, chosen, depth + 1, want, i + 1, budget);
        if (rc != 0)
            return rc;
        for (j = 0; j < g->span_len; j++)
            used[sp[j]] = 0;
    }
    return 0;
}

/* Fills full[round * points + x] from `rounds` pairwise trivially
 * intersecting subspaces of GF(q)^dim of size `seats`. */
static int geom_rounds(const struct design_shape *sh, uint32_t p,
                       uint32_t field_exp, uint32_t dim, uint32_t sub_dim,
                       uint64_t *budget, uint32_t *full)
{
    struct design_geom *g = calloc(1, sizeof(*g));
    uint32_t *chosen = NULL, r, x, q, points;
    uint64_t total;
    uint8_t *used = NULL;
    int rc = -ENOMEM;

    if (g == NULL)
        goto out;
    for (q = 1, x = 0; x < field_exp; x++)
        q *= p;
    rc = design_gf_init(&g->f, q);
    if (rc < 0)
        goto out;
    g->dim = dim;
    g->sub_dim = sub_dim;
    for (points = 1, x = 0; x < dim; x++)
        points *= g->f.q;
    g->points = points;
    for (g->span_len = 1, x = 0; x < sub_dim; x++)
        g->span_len *= g->f.q;
    g->span_len--;
    total = gauss_binomial(g->f.q, dim, sub_dim, DESIGN_MAX_SUBSPACES);
    rc = -ENOENT;
    if (total < sh->rounds)
        goto out;
    /* Any two distinct lines meet only in 0, so the first few will do. */
    g->max = sub_dim == 1 ? sh->rounds : (uint32_t)total;
    if (total > DESIGN_MAX_SUBSPACES && sub_dim > 1)
        goto out;
    rc = -ENOMEM;
    g->basis = malloc((size_t)g->max * sub_dim * dim);
    g->pivot = malloc((size_t)g->max * sub_dim);
    g->span = malloc((size_t)g->max * g->span_len * sizeof(uint32_t));
    used = calloc(points, 1);
    chosen = malloc(sh->rounds * sizeof(*chosen));
    if (g->basis == NULL || g->pivot == NULL || g->span == NULL ||
        used == NULL || chosen == NULL)
        goto out;
    geom_enumerate(g);
    if (sub_dim == 1) {
        for (r = 0; r < sh->rounds; r++)
            chosen[r] = r;
    } else if (spread_dfs(g, used, chosen, 0, sh->rounds, 0, budget) != 1) {
        rc = -ENOENT;
        goto out;
    }
    for (r = 0; r < sh->rounds; r++)
        for (x = 0; x < points; x++)
            full[(size_t)r * points + x] = geom_coset(g, chosen[r], x);
    rc = 0;
out:
    if (g != NULL)
        geom_free(g);
    free(g);
    free(used);
    free(chosen);
    return rc;
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

/* Geometry applies when T * s = p^a and s = p^b.  Lines over GF(p^b) when
 * b divides a give every round there is; otherwise b/g-dimensional
 * subspaces over GF(p^g), g = gcd(a, b), form a partial spread. */
static int build_geometry(const struct design_shape *sh, uint64_t *budget,
                          uint32_t *full)
{
    uint32_t p, a, b, p2, g, points = sh->tables * sh->seats;

    if (!design_prime_power(sh->seats, &p, &b) ||
        !design_prime_power(points, &p2, &a) || p2 != p || a <= b ||
        points > DESIGN_MAX_GEOM_POINTS)
        return -ENOENT;
    if (a % b == 0) {
        g = b;
    } else {
        for (g = b; a % g != 0 || b % g != 0; g--)
            ;
    }
    return geom_rounds(sh, p, g, a / g, b / g, budget, full);
}

/* A resolvable transversal design when T = q is a prime power and
 * s <= q: point (x, i), x in GF(q), i < s, sits in round r at table
 * x - r * i (r and i read as field elements).  Points (x, i) and (y, j),
 * i != j, meet in the one round with r * (j - i) = y - x; points of one
 * class never meet.  Gives q rounds. */
static int build_transversal(const struct design_shape *sh, uint64_t *budget,
                             uint32_t *full)
{
    struct design_gf *f;
    uint32_t p, e, q = sh->tables, r, x, i, points = q * sh->seats;

    (void)budget;
    if (!design_prime_power(q, &p, &e) || sh->seats > q || sh->rounds > q)
        return -ENOENT;
    f = malloc(sizeof(*f));
    if (f == NULL)
        return -ENOMEM;
    if (design_gf_init(f, q) < 0) {
        free(f);
        return -ENOENT;
    }
    for (r = 0; r < sh->rounds; r++)
        for (i = 0; i < sh->seats; i++)
            for (x = 0; x < q; x++)
                full[(size_t)r * points + i * q + x] =
                    f->add[x * q + f->neg[f->mul[r * q + i]]];
    free(f);
    return 0;
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
        rc = build_padded(&sh, build_geometry, &rng, &geom_budget, out);
        if (rc == -ENOENT)
            rc = build_padded(&sh, build_transversal, &rng, &budget, out);
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
