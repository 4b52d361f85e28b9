/* design_kirkman2.c -- Kirkman triple systems on 2q + 1 people, q = 1
 * (mod 6) a prime power: tables of 3, q rounds, every pair once.
 *
 * Points are (a, r), a in GF(q), r in {0, 1}, and infinity.  Round t is a
 * base round translated by a -> a + t, so the base round must hold one
 * pair of each orbit of translation: within level r the differences
 * +-(b - a) ((q - 1) / 2 orbits per level), between the levels b - a (q
 * orbits), and infinity with each level.  The table {infinity, (0, 0),
 * (0, 1)} takes the last two and difference 0 between the levels; the
 * other points are seated by a small backtracking search that keeps the
 * orbits of its pairs distinct.  Multiplying by a cube root of 1 e keeps
 * every orbit's size and the table of infinity, so the search seats a
 * table T with eT and e^2 T (or a level's {x, ex, e^2 x} alone), a third
 * of the choices.
 *
 * Shapes: (2q + 1) / 3 tables of 3 for q = 7, 13, 19, 25, 31, 37, 43,
 * 49, ...: 15 people for 7 rounds, ... 51 for 25, 63 for 31, 87 for 43,
 * 99 for 49 (given the steps); 123 and 135 are not found within them.
 */
#include "design_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Candidate tables tried at most (87 and 99 people need more than a
 * million; 99 are seated in about 14 ms of a release build): what is
 * left goes to the 1-rotational search. */
#define KTS2_MAX_NODES 5000000

struct kts2 {
    const struct design_gf *f;
    uint32_t q, points;            /* points = 2q, infinity is 2q */
    uint32_t eps[3];               /* the cube roots of 1 */
    uint32_t log[DESIGN_GF_MAX];   /* w^log[a] = a, for a != 0 */
    uint32_t table[2 * DESIGN_GF_MAX + 1];  /* UINT32_MAX: free */
    uint8_t orbit[3 * DESIGN_GF_MAX];       /* orbits taken */
    uint64_t *budget;
};

/* Point x times the cube root eps[e]. */
static uint32_t kts2_turn(const struct kts2 *k, uint32_t x, uint32_t e)
{
    return x / k->q * k->q + k->f->mul[x % k->q * k->q + k->eps[e]];
}

/* The orbit of the pair {x, y} of finite points, x != y, or UINT32_MAX
 * for difference 0 between the levels (the table of infinity's). */
static uint32_t kts2_orbit(const struct kts2 *k, uint32_t x, uint32_t y)
{
    uint32_t q = k->q, a = x % q, b = y % q, d, l, l2, t;

    if (x / q > y / q) {
        t = a, a = b, b = t;
    }
    d = k->f->add[b * q + k->f->neg[a]];
    if (d == 0)
        return UINT32_MAX;
    l = k->log[d];
    if (x / q == y / q) {
        l2 = k->log[k->f->neg[d]];
        return x / q * (q - 1) + (l < l2 ? l : l2);
    }
    return 2 * (q - 1) + l;
}

/* Takes (on = 1) or frees (on = 0) the orbits of the `len` tables of 3 in
 * `t`; when taking, returns false and takes nothing if one is taken or
 * two coincide. */
static int kts2_mark(struct kts2 *k, uint32_t (*t)[3], uint32_t len,
                     int on)
{
    uint32_t ids[9], n = 0, i, j, o;

    for (i = 0; i < len; i++)
        for (j = 0; j < 3; j++) {
            o = kts2_orbit(k, t[i][j], t[i][(j + 1) % 3]);
            if (on) {
                if (o == UINT32_MAX || k->orbit[o])
                    goto undo;
                k->orbit[o] = 1;
                ids[n++] = o;
            } else {
                k->orbit[o] = 0;
            }
        }
    return 1;
undo:
    while (n-- > 0)
        k->orbit[ids[n]] = 0;
    return 0;
}

/* True when the nine points of t are distinct and free. */
static int kts2_free9(const struct kts2 *k, uint32_t (*t)[3])
{
    uint32_t i, j;

    for (i = 0; i < 9; i++) {
        if (k->table[t[i / 3][i % 3]] != UINT32_MAX)
            return 0;
        for (j = 0; j < i; j++)
            if (t[i / 3][i % 3] == t[j / 3][j % 3])
                return 0;
    }
    return 1;
}

static void kts2_place(struct kts2 *k, uint32_t (*t)[3], uint32_t len,
                       uint32_t first_table, int on)
{
    uint32_t i, j;

    for (i = 0; i < len; i++)
        for (j = 0; j < 3; j++)
            k->table[t[i][j]] = on ? first_table + i : UINT32_MAX;
}

/* Seats the first free point x: with its own turns {x, ex, e^2 x}, or in
 * a table {x, y, z} together with its two turns.  Returns 1, 0, -1. */
static int kts2_seat(struct kts2 *k, uint32_t from, uint32_t tables)
{
    uint32_t x, y, z, e, t[3][3];
    int rc = 0;

    for (x = from; x < k->points && k->table[x] != UINT32_MAX; x++)
        ;
    if (x == k->points)
        return 1;
    for (e = 0; e < 3; e++)
        t[0][e] = kts2_turn(k, x, e);
    if (kts2_mark(k, t, 1, 1)) {
        kts2_place(k, t, 1, tables, 1);
        rc = kts2_seat(k, x + 1, tables + 1);
        if (rc != 0)
            return rc;
        kts2_place(k, t, 1, tables, 0);
        kts2_mark(k, t, 1, 0);
    }
    for (y = x + 1; y < k->points && rc == 0; y++)
        for (z = y + 1; z < k->points && rc == 0; z++) {
            if (*k->budget == 0)
                return -1;
            (*k->budget)--;
            for (e = 0; e < 3; e++) {
                t[e][0] = kts2_turn(k, x, e);
                t[e][1] = kts2_turn(k, y, e);
                t[e][2] = kts2_turn(k, z, e);
            }
            /* Nine distinct free points: y and z not turns of x or of
             * each other. */
            if (!kts2_free9(k, t) || !kts2_mark(k, t, 3, 1))
                continue;
            kts2_place(k, t, 3, tables, 1);
            rc = kts2_seat(k, x + 1, tables + 3);
            if (rc != 0)
                return rc;
            kts2_place(k, t, 3, tables, 0);
            kts2_mark(k, t, 3, 0);
        }
    return rc;
}

int design_kirkman2_build(const struct design_shape *sh, uint64_t *budget,
                          uint32_t *full)
{
    struct design_gf *f = NULL;
    struct kts2 *k = NULL;
    uint32_t points = sh->tables * sh->seats, q = (points - 1) / 2, p, e;
    uint32_t w, x, t, r, a, *row;
    uint64_t spend = *budget < KTS2_MAX_NODES ? *budget : KTS2_MAX_NODES;
    uint64_t nodes = spend;
    int rc;

    if (sh->seats != 3 || points % 2 != 1 || q % 6 != 1 ||
        !design_prime_power(q, &p, &e) || q > DESIGN_GF_MAX ||
        sh->rounds > q)
        return -ENOENT;
    rc = -ENOMEM;
    f = malloc(sizeof(*f));
    k = calloc(1, sizeof(*k));
    if (f == NULL || k == NULL)
        goto out;
    if ((rc = design_gf_init(f, q)) < 0)
        goto out;
    w = design_gf_primitive(f);
    for (x = 1, t = 0; t < q - 1; t++) {
        k->log[x] = t;
        if (t % ((q - 1) / 3) == 0)
            k->eps[t / ((q - 1) / 3)] = x;
        x = f->mul[x * q + w];
    }
    k->f = f;
    k->q = q;
    k->points = 2 * q;
    k->budget = &nodes;
    memset(k->table, 0xff, sizeof(k->table));
    k->table[0] = k->table[q] = k->table[2 * q] = 0;
    rc = kts2_seat(k, 0, 1) == 1 ? 0 : -ENOENT;
    *budget -= spend - nodes;
    if (rc < 0)
        goto out;
    /* Round t seats (a, r) where the base round seats (a - t, r). */
    for (t = 0; t < sh->rounds; t++) {
        row = full + (size_t)t * points;
        for (r = 0; r < 2; r++)
            for (a = 0; a < q; a++)
                row[r * q + a] =
                    k->table[r * q + f->add[a * q + f->neg[t]]];
        row[2 * q] = k->table[2 * q];
    }
out:
    free(f);
    free(k);
    return rc;
}
