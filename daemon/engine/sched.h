/* sched.h -- the scheduler: seats people at tables for several rounds.
 *
 * Objectives, in strict order:
 *   1. hard: everyone in exactly one table per round; ceil(n / table_size)
 *      tables whose sizes differ by at most one; avoid pairs never together;
 *   2. fewest repeated pairs (pairs in `met`, or seated together in an
 *      earlier planned round);
 *   3. the highest objective: the sum of aff_score() over the pairs at
 *      every table of every round, less aff_lonely_penalty() for each
 *      lonely seat (a person with no linked tablemate, see affinity.h);
 *   4. fairness: nobody left without a business contact who could have
 *      been seated with them, then the best worst-off attendee; for this,
 *      objectives within 0.2 % of each other count as equal.
 *
 * The search is anytime: after a construction (a combinatorial design or
 * a greedy seating) and a repair of repeats, annealing runs on `threads`
 * chains at once, each epoch restarting them from the best schedule so
 * far.  Batch plans one short epoch and one long cooling over the rest of
 * the work budget or time limit; open-ended (live) planning runs epochs
 * of doubling length until two in a row, each a long cooling (20,000
 * moves per seat), raised the best objective by at most
 * SCHED_CONVERGED_GAIN of it (with no fewer repeats).  Either
 * stops at the time limit or when cancelled.  The same seed, work budget
 * (effort) and thread count give the same schedule whatever the load, as
 * long as the time limit does not cut in; the result says when it did.
 */
#ifndef MINGLE_SCHED_H
#define MINGLE_SCHED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "affinity.h"
#include "pairset.h"

#define SCHED_MAX_PEOPLE 1000000
#define SCHED_MAX_ROUNDS 1000
#define SCHED_THREADS_MAX 8
/* Default time limit: 150 ms times the square root of the people, between
 * the floor and the cap: 1.8 s at 150 people, 4.7 s at 1,000, 8 s from
 * 2,845 on (which leaves 10,000 people time for the summary within 10 s). */
#define SCHED_TIME_PER_SQRT_PERSON_MS 150
#define SCHED_TIME_FLOOR_MS 500
#define SCHED_TIME_CAP_MS 8000
#define SCHED_CONVERGED_GAIN 1e-3

struct sched_input {
    const uint32_t *people;      /* roster indices of those to seat */
    uint32_t n;
    const struct pairset *met;   /* already met (may be NULL) */
    const struct pairset *avoid; /* never together (may be NULL) */
    const struct aff_model *aff; /* may be NULL: all affinities are 0 */
    /* A schedule to start from, e.g. the plan before a check-in:
     * [r * n + i] is a table for people[i] in round r, or UINT32_MAX.
     * Seats beyond a table's size or count are filled anew; may be NULL. */
    const uint32_t *start;
    /* [i] non-zero: people[i] already sat with a business contact (live:
     * in an earlier round), so fairness need not find them one.  May be
     * NULL. */
    const uint8_t *served;
};

struct sched_result;

struct sched_params {
    uint32_t table_size;  /* >= 2: seats per table */
    uint32_t rounds;      /* >= 1: rounds to plan */
    uint64_t seed;
    uint32_t time_limit_ms; /* 0: sched_default_time_limit_ms(n) */
    /* Work budget: 0 for none (the time limit and convergence decide);
     * else a multiple of a unit that grows with the people and rounds,
     * about 0.1 s of one core at 150 people.  Tests set it, never a time. */
    double effort;
    uint32_t threads;     /* search threads, 1..SCHED_THREADS_MAX; 0: 1 */
    /* Keep improving in epochs of doubling length until converged (live
     * planning: a good plan soon, better ones later); else spend the work
     * budget, or the time limit, on one long cooling (batch). */
    bool open_ended;
    /* Polled by the search: once it reads true, the search returns the
     * best schedule found so far (a complete one).  May be NULL. */
    const atomic_int *cancel;
    /* Called now and then with the fraction done (0..1); may be NULL. */
    void (*progress)(void *ctx, double done);
    void *progress_ctx;
    /* Called after the construction and after every epoch that improved
     * the best schedule, from the thread that called sched_solve(), with
     * that schedule; `best` is valid during the call only.  May be NULL. */
    void (*improved)(void *ctx, const struct sched_result *best);
    void *improved_ctx;
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
    double objective;            /* affinity_total - penalty * lonely */
    uint64_t lonely_seats;
    double min_attendee_affinity;
    uint64_t work;       /* move evaluations spent */
    uint32_t epochs;     /* annealing epochs completed */
    bool used_design;    /* started from a combinatorial construction */
    bool time_limit_hit;
    bool cancelled;
    bool converged;
};

/* Table count for n people: ceil(n / table_size) (0 when n == 0). */
uint32_t sched_table_count(uint32_t n, uint32_t table_size);

/* The time limit used when sched_params.time_limit_ms is 0. */
uint32_t sched_default_time_limit_ms(uint32_t n);

/* Online CPUs, at most SCHED_THREADS_MAX, at least 1: the default for
 * sched_params.threads in batch mode. */
uint32_t sched_default_threads(void);

/* Plans `p->rounds` rounds for the people in `in`.  On success stores a
 * new result in *out (free with sched_result_free) and returns 0.  Returns
 * -EINVAL for bad parameters (table_size < 2, rounds < 1, n above
 * SCHED_MAX_PEOPLE, a person listed twice), -ENOMEM. */
int sched_solve(const struct sched_input *in, const struct sched_params *p,
                struct sched_result **out);

/* Frees a result; NULL is a no-op. */
void sched_result_free(struct sched_result *res);

/* A deep copy of `res`, or NULL on ENOMEM. */
struct sched_result *sched_result_dup(const struct sched_result *res);

/* The repeat lower bound alone: over schedules that keep avoid pairs
 * apart (a result with avoid violations reports the weaker bound that
 * ignores them, so its bound always holds). */
uint64_t sched_repeat_lower_bound(const struct sched_input *in,
                                  uint32_t table_size, uint32_t rounds);

#endif
