/* sched.h -- the scheduler: seats people at tables for several rounds.
 *
 * Objectives, in strict order:
 *   1. hard: everyone in exactly one table per round; ceil(n / table_size)
 *      tables whose sizes differ by at most one; avoid pairs never together;
 *   2. fewest repeated pairs (pairs in `met`, or seated together in an
 *      earlier planned round);
 *   3. most total affinity at tables;
 *   4. the best worst-off attendee (highest minimum affinity total); for
 *      this, totals within 0.2% of each other count as equal.
 *
 * The search is bounded by a work budget derived from the instance, so a
 * given seed gives the same schedule; the time limit is a safety valve and
 * the result says when it cut the search short.
 */
#ifndef MINGLE_SCHED_H
#define MINGLE_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "affinity.h"
#include "pairset.h"

#define SCHED_MAX_PEOPLE 1000000
#define SCHED_MAX_ROUNDS 1000
#define SCHED_DEFAULT_TIME_LIMIT_MS 30000

struct sched_input {
    const uint32_t *people;      /* roster indices of those to seat */
    uint32_t n;
    const struct pairset *met;   /* already met (may be NULL) */
    const struct pairset *avoid; /* never together (may be NULL) */
    const struct aff_model *aff; /* may be NULL: all affinities are 0 */
};

struct sched_params {
    uint32_t table_size;  /* >= 2: seats per table */
    uint32_t rounds;      /* >= 1: rounds to plan */
    uint64_t seed;
    uint32_t time_limit_ms; /* 0: SCHED_DEFAULT_TIME_LIMIT_MS */
    double effort;          /* work budget multiplier; 0 means 1.0 */
    /* Called now and then with the fraction done (0..1); may be NULL. */
    void (*progress)(void *ctx, double done);
    void *progress_ctx;
};

struct sched_result {
    uint32_t n;          /* people seated per round */
    uint32_t rounds;
    uint32_t tables;     /* per round */
    uint32_t *table_of;  /* [round * n + i]: table of people[i], 0-based */
    uint64_t repeat_pairs;       /* pair meetings that were not new */
    uint64_t repeat_lower_bound; /* no schedule can have fewer */
    uint64_t avoid_violations;   /* 0 unless the avoid pairs are infeasible */
    double affinity_total;       /* sum over rounds and tables of pairs */
    double min_attendee_affinity;
    bool used_design;    /* started from a combinatorial construction */
    bool time_limit_hit;
};

/* Table count for n people: ceil(n / table_size) (0 when n == 0). */
uint32_t sched_table_count(uint32_t n, uint32_t table_size);

/* Plans `p->rounds` rounds for the people in `in`.  On success stores a
 * new result in *out (free with sched_result_free) and returns 0.  Returns
 * -EINVAL for bad parameters (table_size < 2, rounds < 1, n above
 * SCHED_MAX_PEOPLE, a person listed twice), -ENOMEM. */
int sched_solve(const struct sched_input *in, const struct sched_params *p,
                struct sched_result **out);

/* Frees a result; NULL is a no-op. */
void sched_result_free(struct sched_result *res);

/* The repeat lower bound alone: over schedules that keep avoid pairs
 * apart (a result with avoid violations reports the weaker bound that
 * ignores them, so its bound always holds). */
uint64_t sched_repeat_lower_bound(const struct sched_input *in,
                                  uint32_t table_size, uint32_t rounds);

#endif
