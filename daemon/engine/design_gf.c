/* design_gf.c -- arithmetic in the finite field GF(q), q a prime power.
 *
 * Elements are 0..q-1, read as polynomials over GF(p) whose coefficients
 * are the base-p digits (lowest first).  GF(p^e) for e > 1 is GF(p)[x]
 * modulo one fixed irreducible polynomial of degree e, so a field is the
 * same on every run and every machine.  The constructions look up sums
 * and products in q * q tables: a few hundred thousand lookups per design
 * at most, so tables beat arithmetic on digits.
 */
#include "design_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GF_MAX_DEGREE 8

/* x^e + sum(low[i] x^i) over GF(p), irreducible (test_design checks that
 * each gives a field).  Prime fields need none. */
struct gf_modulus {
    uint32_t p, e;
    uint8_t low[GF_MAX_DEGREE];
};

static const struct gf_modulus GF_MODULI[] = {
    {2, 2, {1, 1}},                      /* x^2 + x + 1 */
    {2, 3, {1, 1, 0}},                   /* x^3 + x + 1 */
    {2, 4, {1, 1, 0, 0}},                /* x^4 + x + 1 */
    {2, 5, {1, 0, 1, 0, 0}},             /* x^5 + x^2 + 1 */
    {2, 6, {1, 1, 0, 0, 0, 0}},          /* x^6 + x + 1 */
    {2, 7, {1, 1, 0, 0, 0, 0, 0}},       /* x^7 + x + 1 */
    {2, 8, {1, 1, 0, 1, 1, 0, 0, 0}},    /* x^8 + x^4 + x^3 + x + 1 */
    {3, 2, {1, 0}},                      /* x^2 + 1 */
    {3, 3, {1, 2, 0}},                   /* x^3 + 2x + 1 */
    {3, 4, {2, 1, 0, 0}},                /* x^4 + x + 2 */
    {3, 5, {1, 2, 0, 0, 0}},             /* x^5 + 2x + 1 */
    {5, 2, {2, 4}},                      /* x^2 + 4x + 2 */
    {5, 3, {3, 3, 0}},                   /* x^3 + 3x + 3 */
    {7, 2, {3, 6}},                      /* x^2 + 6x + 3 */
    {11, 2, {2, 7}},                     /* x^2 + 7x + 2 */
    {13, 2, {2, 12}},                    /* x^2 + 12x + 2 */
};

bool design_prime_power(uint32_t x, uint32_t *p, uint32_t *e)
{
    uint32_t d;

    if (x < 2)
        return false;
    for (d = 2; (uint64_t)d * d <= x && x % d != 0; d++)
        ;
    if (x % d != 0)
        d = x;
    *p = d;
    for (*e = 0; x % d == 0; x /= d)
        (*e)++;
    return x == 1;
}

static void gf_digits(uint32_t v, uint32_t p, uint32_t e, uint32_t *dig)
{
    uint32_t i;

    for (i = 0; i < e; i++, v /= p)
        dig[i] = v % p;
}

static uint32_t gf_undigits(const uint32_t *dig, uint32_t p, uint32_t e)
{
    uint32_t v = 0, i;

    for (i = e; i-- > 0;)
        v = v * p + dig[i];
    return v;
}

/* a * b modulo the polynomial: schoolbook product, then each coefficient
 * of x^i, i >= e, folded down with x^e = -sum(low[j] x^j). */
static uint32_t gf_mulmod(uint32_t a, uint32_t b,
                          const struct gf_modulus *m)
{
    uint32_t da[GF_MAX_DEGREE], db[GF_MAX_DEGREE];
    uint32_t prod[2 * GF_MAX_DEGREE] = {0}, p = m->p, e = m->e, i, j, t;

    gf_digits(a, p, e, da);
    gf_digits(b, p, e, db);
    for (i = 0; i < e; i++)
        for (j = 0; j < e; j++)
            prod[i + j] = (prod[i + j] + da[i] * db[j]) % p;
    for (i = 2 * e - 2; i >= e; i--) {
        t = prod[i];
        prod[i] = 0;
        for (j = 0; j < e; j++)
            prod[i - e + j] = (prod[i - e + j] + (p - t) * m->low[j]) % p;
    }
    return gf_undigits(prod, p, e);
}

int design_gf_init(struct design_gf *f, uint32_t q)
{
    const struct gf_modulus *m = NULL;
    uint32_t p, e, a, b, da[GF_MAX_DEGREE], db[GF_MAX_DEGREE], i;

    if (q > DESIGN_GF_MAX || !design_prime_power(q, &p, &e))
        return -ENOENT;
    for (i = 0; e > 1 && i < sizeof(GF_MODULI) / sizeof(GF_MODULI[0]); i++)
        if (GF_MODULI[i].p == p && GF_MODULI[i].e == e)
            m = &GF_MODULI[i];
    if (e > 1 && m == NULL)
        return -ENOENT;
    f->q = q;
    f->p = p;
    for (a = 0; a < q; a++) {
        gf_digits(a, p, e, da);
        for (b = 0; b < q; b++) {
            gf_digits(b, p, e, db);
            for (i = 0; i < e; i++)
                db[i] = (da[i] + db[i]) % p;
            f->add[a * q + b] = (uint8_t)gf_undigits(db, p, e);
            if (f->add[a * q + b] == 0)
                f->neg[a] = (uint8_t)b;
            f->mul[a * q + b] =
                (uint8_t)(e == 1 ? a * b % p : gf_mulmod(a, b, m));
        }
    }
    f->inv[0] = 0;
    for (a = 1; a < q; a++)
        for (b = 1; b < q; b++)
            if (f->mul[a * q + b] == 1)
                f->inv[a] = (uint8_t)b;
    return 0;
}

uint32_t design_gf_primitive(const struct design_gf *f)
{
    uint32_t q = f->q, w, x, order;

    for (w = 2; w < q; w++) {
        for (order = 1, x = w; x != 1; order++)
            x = f->mul[x * q + w];
        if (order == q - 1)
            return w;
    }
    /* GF(2) and GF(3): the loop above has nothing to look at. */
    return q - 1;
}
