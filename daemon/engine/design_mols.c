/* design_mols.c -- resolvable transversal designs from the mutually
 * orthogonal Latin squares of GF(q).
 *
 * For q a prime power, the squares L_i(t, r) = t + i * r (i in GF(q))
 * are Latin and any two of them orthogonal.  Taking one square per seat
 * gives q tables of s <= q seats: table t of round r seats the point
 * (L_i(t, r), i) of every group i < s.  Points (x, i) and (y, j), i != j,
 * meet in the one round with r * (j - i) = y - x; points of one group
 * never meet, so when s divides q one more round seats each group at q / s
 * tables of its own: q tables of s seats, q + 1 rounds.
 *
 * Shapes: q tables (q = 3, 4, 5, 7, 8, 9, 11, ...) of s <= q seats, e.g.
 * 7 tables of 5 or 6 (7 rounds), 8 tables of 5 to 7 (8), 9 tables of 5
 * to 8 (9), 8 tables of 4 (9), 9 tables of 3 (10).
 */
#include "design_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int design_mols_build(const struct design_shape *sh, uint64_t *budget,
                      uint32_t *full)
{
    struct design_gf *f;
    uint32_t p, e, q = sh->tables, s = sh->seats, r, x, i;
    uint32_t points = q * s, max_rounds;
    uint32_t *row;

    (void)budget;
    if (!design_prime_power(q, &p, &e) || s > q)
        return -ENOENT;
    max_rounds = q % s == 0 ? q + 1 : q;
    if (sh->rounds > max_rounds)
        return -ENOENT;
    f = malloc(sizeof(*f));
    if (f == NULL)
        return -ENOMEM;
    if (design_gf_init(f, q) < 0) {
        free(f);
        return -ENOENT;
    }
    /* Point (x, i) is number i * q + x; its table in round r is the t
     * with t + i * r = x. */
    for (r = 0; r < sh->rounds && r < q; r++) {
        row = full + (size_t)r * points;
        for (i = 0; i < s; i++)
            for (x = 0; x < q; x++)
                row[i * q + x] = f->add[x * q + f->neg[f->mul[r * q + i]]];
    }
    if (sh->rounds == q + 1) {
        row = full + (size_t)q * points;
        for (i = 0; i < s; i++)
            for (x = 0; x < q; x++)
                row[i * q + x] = i * (q / s) + x / s;
    }
    free(f);
    return 0;
}
