/* design.h -- repeat-free schedules from combinatorial designs.
 *
 * For tight instances (each person must meet most of the people they
 * possibly can) local search stalls a few repeats short; algebra does not.
 * These constructions seat positions 0..n-1; the scheduler then decides
 * which attendee takes which position, which keeps the schedule
 * repeat-free.
 */
#ifndef MINGLE_DESIGN_H
#define MINGLE_DESIGN_H

#include <stdint.h>

/* Builds `rounds` rounds for n positions in sched_table_count(n,
 * table_size) tables whose sizes differ by at most one, such that no two
 * positions share a table twice.  On success stores a malloc'ed array of
 * rounds * n table indices ([round * n + pos]) in *table_of (caller frees)
 * and returns 0.  Returns -ENOENT when no construction is known or found
 * within `node_budget` search steps, -EINVAL, -ENOMEM.  Deterministic for
 * a given seed. */
int design_build(uint32_t n, uint32_t table_size, uint32_t rounds,
                 uint64_t seed, uint64_t node_budget, uint32_t **table_of);

#endif
