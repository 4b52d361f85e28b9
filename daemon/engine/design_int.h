/* design_int.h -- shared by design.c and design_cyclic.c only. */
#ifndef MINGLE_DESIGN_INT_H
#define MINGLE_DESIGN_INT_H

#include <stdint.h>

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

/* Seats at table t. */
uint32_t design_shape_cap(const struct design_shape *sh, uint32_t t);

/* splitmix64 step: the only randomness, so a seed fixes every choice. */
uint64_t design_rng_next(uint64_t *state);

/* Fisher-Yates shuffle of a[0..len-1] driven by *rng. */
void design_shuffle(uint32_t *a, uint32_t len, uint64_t *rng);

/* The 1-rotational search: stores rounds * n table indices in `out` and
 * returns 0, or -ENOENT when no round 0 was found within *budget steps
 * (pair placements), or -ENOMEM.  Spends all of *budget. */
int design_cyclic_build(const struct design_shape *sh, uint64_t *rng,
                        uint64_t *budget, uint32_t *out);

#endif
