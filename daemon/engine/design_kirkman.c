/* design_kirkman.c -- Kirkman triple systems on 3q people, q = 1 (mod 6)
 * a prime power: tables of 3, (3q - 1) / 2 rounds, every pair once.
 *
 * Points are (a, r), a in GF(q), r in Z3 ("levels").  Translating a ->
 * a + t maps pairs to pairs, and the pairs fall into orbits: within level
 * r by the difference +-(b - a) ((q - 1) / 2 orbits per level), between
 * levels r < s by b - a (q orbits per pair of levels).  The rounds are
 *
 *   - the q translates of a base round, which must cover each orbit of
 *     its pairs once: at level r the triples c_r x {1, e, e^2}, e a cube
 *     root of 1 and x = w^k (w primitive, k < (q - 1) / 6), whose
 *     differences x (e - 1) times the sixth roots of 1 are every nonzero
 *     difference once; the (q + 1) / 2 points left at each level (0 and
 *     -c_r x {1, e, e^2}) take one point per level each, with distinct
 *     differences between each pair of levels;
 *   - (q - 1) / 2 rounds fixed by translation, {(a, 0), (a + u, 1),
 *     (a + v, 2)} for all a, which take the differences between levels
 *     that the base round left: u from 0 to 1, v - u from 1 to 2, v from
 *     0 to 2.
 *
 * Multiplying by a cube root of 1 keeps every level's triples and left
 * points, so the cross triples and the fixed rounds are taken in orbits
 * of 3 under it, and a small backtracking search picks one of each orbit
 * with the differences' cosets (modulo the cube roots) distinct, like a
 * transversal of a Latin square; the rest is algebra.  The zero points
 * (0, r) form one more cross triple, of difference 0.
 *
 * Shapes: q tables of 3 for q = 7, 13, 19, 25, 31, 37, 43, 49, ...: 21
 * people for 10 rounds, 39 for 19, ... 147 for 73.
 */
#include "design_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* Search steps at most: what is left goes to the 1-rotational search,
 * which may still find these shapes when this one does not. */
#define KTS_MAX_NODES 200000

struct kts {
    const struct design_gf *f;
    uint32_t q, m;                 /* m = (q - 1) / 6 */
    uint32_t w;                    /* a primitive element */
    uint32_t scale[3];             /* level r's triples times scale[r] */
    uint32_t x[DESIGN_GF_MAX / 6 + 1];    /* w^k, k < m */
    uint32_t eps_pow[3];           /* the cube roots of 1 */
    uint32_t log[DESIGN_GF_MAX];   /* w^log[a] = a, for a != 0 */
    uint32_t cross[DESIGN_GF_MAX / 6 + 1][3];  /* orbit representatives */
    uint32_t fixed[DESIGN_GF_MAX / 6 + 1][2];  /* (u, v) representatives */
    uint8_t taken[3][DESIGN_GF_MAX / 6 + 1];   /* x_k used per level */
    uint8_t diff[3][DESIGN_GF_MAX / 3 + 1];    /* cosets of 01, 12, 02 */
    uint64_t *budget;
};

static uint32_t kts_sub(const struct kts *k, uint32_t a, uint32_t b)
{
    return k->f->add[a * k->q + k->f->neg[b]];
}

static uint32_t kts_mul(const struct kts *k, uint32_t a, uint32_t b)
{
    return k->f->mul[a * k->q + b];
}

/* The coset of a != 0 modulo the cube roots of 1: 2m of them. */
static uint32_t kts_coset(const struct kts *k, uint32_t a)
{
    return k->log[a] % (2 * k->m);
}

/* Level r's left point of orbit j, times eps^e: -scale[r] x_j eps^e. */
static uint32_t kts_left(const struct kts *k, uint32_t r, uint32_t j,
                         uint32_t e)
{
    return k->f->neg[kts_mul(k, kts_mul(k, k->scale[r], k->x[j]),
                             k->eps_pow[e])];
}

/* Pairs the remaining cosets into fixed rounds: u the smallest free coset
 * of 01, every v != 0, u whose cosets of 02 and v - u of 12 are free.
 * Returns 1, 0, -1 (budget). */
static int kts_fixed(struct kts *k, uint32_t depth)
{
    uint32_t cu, u, v, c12, c02;
    int rc = 0;

    if (depth == k->m)
        return 1;
    for (cu = 0; k->diff[0][cu]; cu++)
        ;
    k->diff[0][cu] = 1;
    for (u = 1; k->log[u] != cu; u++)
        ;
    for (v = 1; v < k->q && rc == 0; v++) {
        if (v == u)
            continue;
        c02 = kts_coset(k, v);
        c12 = kts_coset(k, kts_sub(k, v, u));
        if (k->diff[2][c02] || k->diff[1][c12])
            continue;
        if (*k->budget == 0) {
            rc = -1;
            break;
        }
        (*k->budget)--;
        k->diff[1][c12] = k->diff[2][c02] = 1;
        k->fixed[depth][0] = u;
        k->fixed[depth][1] = v;
        rc = kts_fixed(k, depth + 1);
        k->diff[1][c12] = k->diff[2][c02] = 0;
    }
    k->diff[0][cu] = 0;
    return rc;
}

/* Matches level 0's left orbit `depth` with an orbit and a rotation at
 * levels 1 and 2, the cosets of all differences distinct, then the fixed
 * rounds.  Returns 1 with k->cross and k->fixed set, 0, -1 (budget). */
static int kts_cross(struct kts *k, uint32_t depth)
{
    uint32_t y0, y1, y2, i, j, ei, ej, c01, c12, c02;
    int rc;

    if (depth == k->m)
        return kts_fixed(k, 0);
    y0 = kts_left(k, 0, depth, 0);
    for (i = 0; i < k->m * 3; i++) {
        if (k->taken[1][i / 3])
            continue;
        ei = i % 3;
        y1 = kts_left(k, 1, i / 3, ei);
        if (y1 == y0)
            continue;
        c01 = kts_coset(k, kts_sub(k, y1, y0));
        if (k->diff[0][c01])
            continue;
        for (j = 0; j < k->m * 3; j++) {
            if (k->taken[2][j / 3])
                continue;
            ej = j % 3;
            y2 = kts_left(k, 2, j / 3, ej);
            if (y2 == y1 || y2 == y0)
                continue;
            c12 = kts_coset(k, kts_sub(k, y2, y1));
            c02 = kts_coset(k, kts_sub(k, y2, y0));
            if (k->diff[1][c12] || k->diff[2][c02])
                continue;
            if (*k->budget == 0)
                return -1;
            (*k->budget)--;
            k->taken[1][i / 3] = k->taken[2][j / 3] = 1;
            k->diff[0][c01] = k->diff[1][c12] = k->diff[2][c02] = 1;
            k->cross[depth][0] = y0;
            k->cross[depth][1] = y1;
            k->cross[depth][2] = y2;
            rc = kts_cross(k, depth + 1);
            k->taken[1][i / 3] = k->taken[2][j / 3] = 0;
            k->diff[0][c01] = k->diff[1][c12] = k->diff[2][c02] = 0;
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* Fills `base` (table of each point in round 0) from the level triples,
 * the zero triple and the cross orbits. */
static void kts_base(const struct kts *k, uint32_t *base)
{
    uint32_t q = k->q, r, j, e, table = 0;

    for (r = 0; r < 3; r++)
        for (j = 0; j < k->m; j++, table++)
            for (e = 0; e < 3; e++)
                base[r * q + kts_mul(k, kts_mul(k, k->scale[r], k->x[j]),
                                     k->eps_pow[e])] = table;
    for (r = 0; r < 3; r++)
        base[r * q] = table;
    for (table++, j = 0; j < k->m; j++)
        for (e = 0; e < 3; e++, table++)
            for (r = 0; r < 3; r++)
                base[r * q + kts_mul(k, k->cross[j][r], k->eps_pow[e])] =
                    table;
}

int design_kirkman_build(const struct design_shape *sh, uint64_t *budget,
                         uint32_t *full)
{
    struct design_gf *f = NULL;
    struct kts *k = NULL;
    uint32_t q = sh->tables, p, e, points = q * sh->seats, r, t, a, j, c;
    uint32_t x, *row, *base = NULL;
    uint64_t spend = *budget < KTS_MAX_NODES ? *budget : KTS_MAX_NODES;
    uint64_t nodes = spend;
    int rc = -ENOENT;

    if (sh->seats != 3 || q % 6 != 1 || !design_prime_power(q, &p, &e) ||
        q > DESIGN_GF_MAX || sh->rounds > (points - 1) / 2)
        return -ENOENT;
    rc = -ENOMEM;
    f = malloc(sizeof(*f));
    k = calloc(1, sizeof(*k));
    base = malloc(points * sizeof(*base));
    if (f == NULL || k == NULL || base == NULL)
        goto out;
    if ((rc = design_gf_init(f, q)) < 0)
        goto out;
    k->f = f;
    k->q = q;
    k->m = (q - 1) / 6;
    k->w = design_gf_primitive(f);
    k->budget = &nodes;
    for (x = 1, j = 0; j < q - 1; j++) {
        k->log[x] = j;
        if (j < k->m)
            k->x[j] = x;
        if (j % (2 * k->m) == 0)
            k->eps_pow[j / (2 * k->m)] = x;
        x = kts_mul(k, x, k->w);
    }
    /* Level r's triples are scaled by w^(bit r of c): every scaling
     * covers the level's own differences, but the cross triples may fit
     * one and not another. */
    rc = -ENOENT;
    for (c = 0; c < 8 && rc == -ENOENT && nodes > 0; c++) {
        for (r = 0; r < 3; r++)
            k->scale[r] = c >> r & 1 ? k->w : 1;
        rc = kts_cross(k, 0) == 1 ? 0 : -ENOENT;
    }
    *budget -= spend - nodes;
    if (rc < 0)
        goto out;
    kts_base(k, base);
    /* Round t < q seats (a, r) where round 0 seats (a - t, r); fixed round
     * (u, v) seats (a, 0), (a + u, 1), (a + v, 2) at table a, and its
     * orbit is (u, v) times the cube roots of 1. */
    for (t = 0; t < sh->rounds; t++) {
        row = full + (size_t)t * points;
        for (a = 0; a < q; a++) {
            if (t < q) {
                for (r = 0; r < 3; r++)
                    row[r * q + a] = base[r * q + kts_sub(k, a, t)];
                continue;
            }
            j = (t - q) / 3;
            e = (t - q) % 3;
            row[a] = a;
            row[q + f->add[a * q + kts_mul(k, k->fixed[j][0],
                                           k->eps_pow[e])]] = a;
            row[2 * q + f->add[a * q + kts_mul(k, k->fixed[j][1],
                                               k->eps_pow[e])]] = a;
        }
    }
    rc = 0;
out:
    free(f);
    free(k);
    free(base);
    return rc;
}
