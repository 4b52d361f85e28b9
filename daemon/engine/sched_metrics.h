/* sched_metrics.h -- how good a seating is, in attendee terms.
 *
 * The figures an organizer reads next to a schedule (batch summary, live
 * Stats, bench/): the objective the scheduler maximises, an upper bound
 * on it, business contacts and conversation partners per attendee, lonely
 * seats, attendees left without a contact that was possible, and the
 * lifts over a random seating.  Pure computation on roster indices; the
 * rounds may seat different people (live events).
 */
#ifndef MINGLE_SCHED_METRICS_H
#define MINGLE_SCHED_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "affinity.h"
#include "pairset.h"

/* Up to this many distinct people, the bound, the random-seating
 * baselines and empty_handed are exact: every pair is scored once, about
 * 2 s at the limit (20 ns a pair on the bench machine), 0.04 s at 1,000.
 * Above, the bound is not computed (0), the baselines are estimated from
 * SCHED_METRICS_SAMPLES random pairs, and empty_handed is a lower bound
 * (see sched_metrics_compute()). */
#define SCHED_METRICS_EXACT_MAX 10000
#define SCHED_METRICS_SAMPLES 2000000

/* One round: people[i] (roster indices) sits at table_of[i] < tables. */
struct sched_round {
    const uint32_t *people;
    const uint32_t *table_of;
    uint32_t n;
    uint32_t tables;
};

struct sched_metrics {
    uint32_t attendees;          /* distinct people seated */
    uint64_t seats;              /* people seated, summed over rounds */
    double affinity_total;       /* sum of aff_score over seated pairs */
    double objective;            /* affinity_total - penalty * lonely_seats */
    /* No schedule of these rounds' people, with tables no larger than
     * each round's largest, scores more, unless it seats a pair twice or
     * a met_before or avoid pair together; 0: unknown. */
    double upper_bound;
    double bound_share;          /* objective / upper_bound; 0: unknown */
    uint64_t lonely_seats;       /* seats with no linked tablemate */
    double business_mean;        /* distinct business contacts per attendee */
    uint32_t business_min;
    double conversation_mean;    /* distinct tablemates sharing an interest */
    uint32_t conversation_min;
    /* Attendees with a possible business contact (someone seated in a
     * round they were seated in, not met_before, not avoid) who never sat
     * with any business contact. */
    uint32_t empty_handed;
    /* Share of tablemate pairs that are business contacts (that share an
     * interest), over the same share among all pairs of people seated in a
     * common round: what a random seating gets.  0 when undefined. */
    double business_lift;
    double conversation_lift;
    double min_attendee_affinity; /* smallest sum over one person's seats */
};

/* Computes the metrics of `n_rounds` rounds.  `met_before` (pairs who knew
 * each other before; may be NULL) and `avoid` (may be NULL) only decide
 * which contacts were possible and which pairs the bound may use.
 *
 * The bound: person p has c_p tablemate slots, the sum over the rounds p
 * is seated in of the round's largest table less one; its candidates are
 * those seated in a round with p, neither met_before nor avoid; it is half
 * the sum over people of their c_p best positive candidate scores.  The
 * lonely penalty is left out (the objective never exceeds the pair sum).
 * The random-seating baseline of a fact weighs each pair of people by the
 * rounds both are seated in: for a batch, with everyone in every round,
 * simply the share among all pairs.  Memory grows with people and seats,
 * never with their square.  Deterministic: sampling uses a fixed seed.
 *
 * Returns 0, -EINVAL (aff or out NULL, rounds NULL with n_rounds > 0, a
 * person index not below aff_model_count(), a table index out of range,
 * a person twice in one round), -ENOMEM. */
int sched_metrics_compute(const struct aff_model *aff,
                          const struct pairset *met_before,
                          const struct pairset *avoid,
                          const struct sched_round *rounds, uint32_t n_rounds,
                          struct sched_metrics *out);

#endif
