/* design_nkts.c -- nearly Kirkman triple systems on 2q people, q = 3^k:
 * tables of 3, q - 1 rounds, every pair but q of them once.
 *
 * Points are (a, r), a in GF(q), r in {0, 1}.  The squares H of GF(q)*
 * (order (q - 1) / 2, containing -1) act by multiplication; they fix
 * (0, 0) and (0, 1) and move every other pair in an orbit of |H| pairs,
 * except {(a, r), (-a, r)}, whose orbit is half as long.  The rounds are
 * two base rounds multiplied by every element of H, so the base rounds
 * together must hold one pair of each long orbit and none of the short
 * ones nor {(0, 0), (0, 1)}: those q pairs never meet, every other pair
 * meets exactly once.  An orbit of nonzero points is named by their ratio
 * and whether the first is a square, one with a zero point by the levels
 * and whether the other is a square.  A small backtracking search seats
 * both base rounds under those rules (no such search with a single base
 * round under all of GF(9)* exists).
 *
 * Shapes: 2q / 3 tables of 3: 6 tables for q = 9 (18 people, 8 rounds,
 * the most there are).  Larger q are tried within the step limit; 54
 * people (q = 27) are not found within it.
 */
#include "design_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Candidate third points tried at most (about 10 ms; 18 people need
 * under a million): what is left goes to the 1-rotational search. */
#define NKTS_MAX_NODES 1000000
#define NKTS_BASES 2
#define NKTS_ORBITS (8 + 6 * DESIGN_GF_MAX)

struct nkts {
    uint32_t q, points;
    uint32_t log[DESIGN_GF_MAX];   /* w^log[a] = a, for a != 0 */
    uint32_t table[NKTS_BASES][2 * DESIGN_GF_MAX];  /* UINT32_MAX: free */
    uint8_t orbit[NKTS_ORBITS];    /* orbits taken */
    uint64_t *budget;
};

/* The orbit of the pair {x, y} of points (x != y) under H, or UINT32_MAX
 * when the pair must not meet. */
static uint32_t nkts_orbit(const struct nkts *k, uint32_t x, uint32_t y)
{
    uint32_t q = k->q, a = x % q, b = y % q, r = x / q, s = y / q, t;
    uint32_t l, l2, c, c2;

    if (a == 0 && b == 0)
        return UINT32_MAX;
    if (a == 0) {
        t = a, a = b, b = t;
        t = r, r = s, s = t;
    }
    if (b == 0)
        return (2 * s + r) * 2 + k->log[a] % 2;
    if (r == 1 && s == 0) {
        t = a, a = b, b = t;
        r = 0, s = 1;
    }
    l = (k->log[b] + q - 1 - k->log[a]) % (q - 1);
    c = k->log[a] % 2;
    if (r != s)
        return 8 + l * 2 + c;
    if (l == (q - 1) / 2)
        return UINT32_MAX;
    /* The same pair read from b: ratio 1 / l, b's square class. */
    l2 = (q - 1 - l) % (q - 1);
    c2 = k->log[b] % 2;
    if (l2 < l || (l2 == l && c2 < c)) {
        l = l2;
        c = c2;
    }
    return 8 + 2 * (q - 1) + r * 2 * (q - 1) + l * 2 + c;
}

/* Seats the first free point of base round `base` with two free later
 * ones whose three pairs are of untaken orbits, then the next base round.
 * Returns 1, 0, -1 (budget). */
static int nkts_seat(struct nkts *k, uint32_t base, uint32_t from,
                     uint32_t tables)
{
    uint32_t *tab = k->table[base], x, y, z, oxy, oxz, oyz;
    int rc = 0;

    for (x = from; x < k->points && tab[x] != UINT32_MAX; x++)
        ;
    if (x == k->points)
        return base + 1 == NKTS_BASES ? 1 : nkts_seat(k, base + 1, 0, 0);
    for (y = x + 1; y < k->points && rc == 0; y++) {
        if (tab[y] != UINT32_MAX)
            continue;
        oxy = nkts_orbit(k, x, y);
        if (oxy == UINT32_MAX || k->orbit[oxy])
            continue;
        k->orbit[oxy] = 1;
        for (z = y + 1; z < k->points && rc == 0; z++) {
            if (tab[z] != UINT32_MAX)
                continue;
            if (*k->budget == 0) {
                rc = -1;
                break;
            }
            (*k->budget)--;
            oxz = nkts_orbit(k, x, z);
            oyz = nkts_orbit(k, y, z);
            if (oxz == UINT32_MAX || oyz == UINT32_MAX || oxz == oyz ||
                k->orbit[oxz] || k->orbit[oyz])
                continue;
            k->orbit[oxz] = k->orbit[oyz] = 1;
            tab[x] = tab[y] = tab[z] = tables;
            rc = nkts_seat(k, base, x + 1, tables + 1);
            if (rc == 1)
                return 1;
            k->orbit[oxz] = k->orbit[oyz] = 0;
            tab[x] = tab[y] = tab[z] = UINT32_MAX;
        }
        k->orbit[oxy] = 0;
    }
    return rc;
}

int design_nkts_build(const struct design_shape *sh, uint64_t *budget,
                      uint32_t *full)
{
    struct design_gf *f = NULL;
    struct nkts *k = NULL;
    uint32_t q = sh->tables * sh->seats / 2, p, e, t, a, r, x, w;
    uint32_t half, base, *row;
    uint64_t spend = *budget < NKTS_MAX_NODES ? *budget : NKTS_MAX_NODES;
    uint64_t nodes = spend;
    int rc;

    if (sh->seats != 3 || sh->tables % 2 != 0 ||
        !design_prime_power(q, &p, &e) || p != 3 || q < 9 ||
        q > DESIGN_GF_MAX || sh->rounds > q - 1)
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
        x = f->mul[x * q + w];
    }
    k->q = q;
    k->points = 2 * q;
    k->budget = &nodes;
    memset(k->table, 0xff, sizeof(k->table));
    rc = nkts_seat(k, 0, 0, 0) == 1 ? 0 : -ENOENT;
    *budget -= spend - nodes;
    if (rc < 0)
        goto out;
    /* Round base * half + t seats (a, r) where that base round seats
     * (a / w^(2t), r). */
    half = (q - 1) / 2;
    for (base = 0; base < NKTS_BASES; base++)
        for (x = 1, t = 0; t < half && base * half + t < sh->rounds; t++) {
            row = full + (size_t)(base * half + t) * k->points;
            for (r = 0; r < 2; r++)
                for (a = 0; a < q; a++)
                    row[r * q + a] =
                        k->table[base][r * q + f->mul[a * q + f->inv[x]]];
            x = f->mul[f->mul[x * q + w] * q + w];
        }
out:
    free(f);
    free(k);
    return rc;
}
