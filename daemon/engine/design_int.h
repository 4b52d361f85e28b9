/* design_int.h -- shared by the design*.c modules only. */
#ifndef MINGLE_DESIGN_INT_H
#define MINGLE_DESIGN_INT_H

#include <stdbool.h>
#include <stdint.h>

/* Largest field: products and sums are byte tables of q * q entries. */
#define DESIGN_GF_MAX 256

/* What every construction builds: `rounds` rounds of `tables` tables, the
 * last `short_tables` of them with seats - 1 seats, the others with
 * `seats`, for n = tables * seats - short_tables points. */
struct design_shape {
    uint32_t n;
    uint32_t tables;
    uint32_t seats;
    uint32_t short_tables;
    uint32_t rounds;
};

/* GF(q) with elements 0..q-1 (base-p digits are polynomial coefficients):
 * a + b is add[a * q + b], a * b is mul[a * q + b], -a is neg[a], 1 / a is
 * inv[a] (inv[0] = 0).  0 and 1 are the field's zero and one. */
struct design_gf {
    uint32_t q, p;
    uint8_t add[DESIGN_GF_MAX * DESIGN_GF_MAX];
    uint8_t mul[DESIGN_GF_MAX * DESIGN_GF_MAX];
    uint8_t neg[DESIGN_GF_MAX];
    uint8_t inv[DESIGN_GF_MAX];
};

/* Returns true and sets p, e when x = p^e for a prime p and e >= 1. */
bool design_prime_power(uint32_t x, uint32_t *p, uint32_t *e);

/* Fills *f (caller's memory, about 128 KiB) with GF(q) from a fixed
 * irreducible polynomial, so every run builds the same field.  Returns 0,
 * or -ENOENT when q is not a prime power up to DESIGN_GF_MAX. */
int design_gf_init(struct design_gf *f, uint32_t q);

/* The smallest primitive element of f: its powers reach every nonzero
 * one (logarithms and the recipes' base rounds are built from it). */
uint32_t design_gf_primitive(const struct design_gf *f);

/* Seats at table t. */
uint32_t design_shape_cap(const struct design_shape *sh, uint32_t t);

/* splitmix64 step: the only randomness, so a seed fixes every choice. */
uint64_t design_rng_next(uint64_t *state);

/* Fisher-Yates shuffle of a[0..len-1] driven by *rng. */
void design_shuffle(uint32_t *a, uint32_t len, uint64_t *rng);

/* Affine geometry for T * s = p^a points at tables of s = p^b: stores
 * rounds * T * s table indices in `full` (caller's) and returns 0, or
 * -ENOENT when the shape is not one of those or (partial spreads) no
 * subspaces were found within *budget steps, -ENOMEM. */
int design_affine_build(const struct design_shape *sh, uint64_t *budget,
                        uint32_t *full);

/* The transversal design for T = q a prime power and s <= q: stores
 * rounds * q * s table indices in `full` (caller's) and returns 0, or
 * -ENOENT when the shape is not one of those or asks for more than q
 * rounds (q + 1 when s divides q), -ENOMEM.  Spends no budget. */
int design_mols_build(const struct design_shape *sh, uint64_t *budget,
                      uint32_t *full);

/* A published schedule of exactly T tables of s seats with at least
 * `rounds` rounds (design_published.c lists them): stores its first
 * rounds as rounds * T * s table indices in `full` (caller's) and returns
 * 0, or -ENOENT when none has that shape.  Spends no budget. */
int design_published_build(const struct design_shape *sh, uint64_t *budget,
                           uint32_t *full);

/* Tables of 4 for 3q + 1 people, q = 1 (mod 4) a prime power, up to q
 * rounds: stores rounds * (3q + 1) table indices in `full` (caller's)
 * and returns 0, or -ENOENT for any other shape or more rounds, -ENOMEM.
 * Spends no budget. */
int design_quad_build(const struct design_shape *sh, uint64_t *budget,
                      uint32_t *full);

/* A Kirkman triple system on 3q people at q tables of 3, q = 1 (mod 6)
 * a prime power, up to (3q - 1) / 2 rounds: stores rounds * 3q table
 * indices in `full` (caller's) and returns 0, or -ENOENT for any other
 * shape, more rounds, or no cross triples found within min(*budget,
 * KTS_MAX_NODES) steps (spent from *budget); -ENOMEM. */
int design_kirkman_build(const struct design_shape *sh, uint64_t *budget,
                         uint32_t *full);

/* A Kirkman triple system on 2q + 1 people at tables of 3, q = 1 (mod 6)
 * a prime power, up to q rounds: stores rounds * (2q + 1) table indices
 * in `full` (caller's) and returns 0, or -ENOENT for any other shape,
 * more rounds, or no base round found within min(*budget, KTS2_MAX_NODES)
 * steps (spent from *budget); -ENOMEM. */
int design_kirkman2_build(const struct design_shape *sh, uint64_t *budget,
                          uint32_t *full);

/* A nearly Kirkman triple system on 2q people at 2q / 3 tables of 3,
 * q = 3^k >= 9, up to q - 1 rounds: stores rounds * 2q table indices in
 * `full` (caller's) and returns 0, or -ENOENT for any other shape, more
 * rounds, or no base rounds found within min(*budget, NKTS_MAX_NODES)
 * steps (spent from *budget); -ENOMEM. */
int design_nkts_build(const struct design_shape *sh, uint64_t *budget,
                      uint32_t *full);

/* The 1-rotational search: stores rounds * n table indices in `out` and
 * returns 0, or -ENOENT when no round 0 was found within *budget steps
 * (pair placements), or -ENOMEM.  Spends all of *budget. */
int design_cyclic_build(const struct design_shape *sh, uint64_t *rng,
                        uint64_t *budget, uint32_t *out);

#endif
