/* design_quad.c -- tables of 4 for 3q + 1 people, q rounds.
 *
 * For q a prime power with q = 1 (mod 4) (odd, so 2 is invertible): the
 * points are (a, r) for a in GF(q), r in Z3, plus infinity.  With w a
 * primitive element and i = w^((q-1)/4) (so i^2 = -1), round 0 seats, for
 * each e < (q-1)/4 and each r, with x = w^e,
 *
 *     {(x, r), (-x, r), (ix, r+1), (-ix, r+1)},
 *
 * and {(0,0), (0,1), (0,2), infinity}.  Round t is round 0 translated by
 * a -> a + t.  Since {1, -1, i, -i} is the subgroup of order 4, the x's
 * and their multiples by it run through GF(q)* once: round 0 seats
 * everyone.  Within level r it covers each nonzero difference once (2x
 * and 2ix, times +-1), between levels r and r+1 each nonzero difference
 * once (x(i - 1) times the powers of i, as (i + 1) / (i - 1) = -i) and
 * difference 0 at the infinity table: every pair meets in exactly one
 * translate.
 *
 * Shapes: (3q + 1) / 4 tables of 4 for q = 5, 9, 13, 17, 25, 29, ...:
 * 4 tables (16 people, 5 rounds), 7 (28, 9), 10 (40, 13), 13 (52, 17).
 */
#include "design_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int design_quad_build(const struct design_shape *sh, uint64_t *budget,
                      uint32_t *full)
{
    struct design_gf *f;
    uint32_t q, p, e, points = sh->tables * sh->seats, quarter, w, i, x;
    uint32_t r, t, a, k, table, mx, ix, mix, inf;
    uint32_t *base;
    int rc = -ENOENT;

    (void)budget;
    if (sh->seats != 4 || points % 3 != 1)
        return -ENOENT;
    q = (points - 1) / 3;
    if (q % 4 != 1 || !design_prime_power(q, &p, &e) || q > DESIGN_GF_MAX ||
        sh->rounds > q)
        return -ENOENT;
    f = malloc(sizeof(*f));
    base = malloc(points * sizeof(*base));
    if (f == NULL || base == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = design_gf_init(f, q)) < 0)
        goto out;
    quarter = (q - 1) / 4;
    w = design_gf_primitive(f);
    for (i = 1, k = 0; k < quarter; k++)
        i = f->mul[i * q + w];
    /* Point (a, r) is number r * q + a, infinity is 3q. */
    inf = 3 * q;
    for (table = 0, x = 1, k = 0; k < quarter; k++) {
        mx = f->neg[x];
        ix = f->mul[i * q + x];
        mix = f->neg[ix];
        for (r = 0; r < 3; r++, table++) {
            base[r * q + x] = table;
            base[r * q + mx] = table;
            base[(r + 1) % 3 * q + ix] = table;
            base[(r + 1) % 3 * q + mix] = table;
        }
        x = f->mul[x * q + w];
    }
    for (r = 0; r < 3; r++)
        base[r * q] = table;
    base[inf] = table;
    /* Round t seats (a, r) where round 0 seats (a - t, r). */
    for (t = 0; t < sh->rounds; t++) {
        for (r = 0; r < 3; r++)
            for (a = 0; a < q; a++)
                full[(size_t)t * points + r * q + a] =
                    base[r * q + f->add[a * q + f->neg[t]]];
        full[(size_t)t * points + inf] = base[inf];
    }
    rc = 0;
out:
    free(f);
    free(base);
    return rc;
}
