/* design_affine.c -- rounds from affine geometry over GF(q).
 *
 * Points are the vectors of GF(q)^dim, numbered by their base-q digits; a
 * round is the set of cosets (parallel translates) of one subspace, so it
 * seats everyone once.  Two points share a coset of at most one of a set
 * of subspaces that pairwise meet only in 0, so no pair repeats.  With
 * T * s = p^a people at tables of s = p^b:
 *
 *   - b divides a: the lines of GF(p^b)^(a/b), every direction a round,
 *     (T*s - 1) / (s - 1) rounds: the affine plane AG(2,q) for q tables of
 *     q (q + 1 rounds: 4, 5, 7, 8, 9 tables of as many seats), AG(3,3)
 *     for 9 tables of 3 (13 rounds, Kirkman's 27 schoolgirls), AG(3,4)
 *     for 16 tables of 4 (21 rounds), AG(n,2) for tables of 2;
 *   - otherwise: (b/g)-dimensional subspaces over GF(p^g), g = gcd(a, b),
 *     chosen by search to meet pairwise only in 0 (a partial spread),
 *     e.g. 8 tables of 4 from 2-spaces of GF(2)^5.
 */
#include "design_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Geometry enumerates T * s points per round. */
#define DESIGN_MAX_GEOM_POINTS (1u << 20)
/* Partial spreads are searched among all subspaces, enumerated up front. */
#define DESIGN_MAX_SUBSPACES 20000
/* Digits of a point of GF(q)^dim: q >= 2 and q^dim <= 2^20. */
#define DESIGN_MAX_DIM 20

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

/* Geometry applies when T * s = p^a and s = p^b.  Lines over GF(p^b) when
 * b divides a give every round there is; otherwise b/g-dimensional
 * subspaces over GF(p^g), g = gcd(a, b), form a partial spread. */
int design_affine_build(const struct design_shape *sh, uint64_t *budget,
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
