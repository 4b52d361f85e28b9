/* affinity.h -- what two attendees give each other at one table.
 *
 * The score counts what an evening gives a person, not how many tags
 * match: a business contact (one offers what the other seeks), a
 * conversation starter (a shared interest, a rare one better than one
 * everybody lists), and no wasted seat.  For a pair a, b:
 *
 *   affinity(a, b) = business  * scarcity(a, b) * fit(m)
 *                  + interests * talk(shared interests)
 *                  + same_company                 when both name one company
 *
 *   m          = |a.offers & b.seeks| + |b.offers & a.seeks|
 *   fit(m)     = 1 + 1/4 + 1/16 + ... (m terms): 1, 1.25, 1.31, ...; 0 for m = 0
 *   talk(S)    = the rarity of the rarest shared interest
 *                + 1/4 of the rarity of each further one; 0 for none
 *   rarity     = 1 + ln(N / df) / ln(N) for an interest df of N list:
 *                1 when everyone lists it, 2 when only one does
 *   scarcity   = (s(a) + s(b)) / 2, s(p) = 1 + 1 / c(p), where c(p) counts
 *                p's possible business contacts in the event (for each tag p
 *                seeks, those who offer it; for each tag p offers, those who
 *                seek it): a person with one possible contact weighs that
 *                contact double, one with many hardly more than 1
 *
 * A second matching service or a third shared hobby adds a little, not as
 * much again, so three shared hobbies never outweigh a business contact.
 * The schedule's objective also charges aff_lonely_penalty() for every
 * lonely seat: a person whose tablemates share no interest and no business
 * fit with them (sched.h).  Scoring a pair walks a few short sorted arrays;
 * nothing is precomputed per pair.
 */
#ifndef MINGLE_AFFINITY_H
#define MINGLE_AFFINITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roster.h"

struct aff_weights {
    double interests;
    double business;
    double same_company; /* added when both work for one company: negative */
};

#define AFF_DEFAULT_INTERESTS 1.0
#define AFF_DEFAULT_BUSINESS 2.0
#define AFF_DEFAULT_SAME_COMPANY (-5.0)

/* Fills `w` with the defaults above. */
void aff_weights_default(struct aff_weights *w);

struct aff_model;

/* Snapshots rarity weights from the roster's current interests.  The model
 * borrows `r`, which must outlive it and stay unchanged while it is used.
 * Returns NULL on ENOMEM. */
struct aff_model *aff_model_new(const struct roster *r,
                                const struct aff_weights *w);

/* A self-contained copy of `m` restricted to the `n` roster indices in
 * `people`, numbered 0..n-1 in that order: it copies the tag sets, rarity
 * and scarcity it needs and borrows nothing, so another thread may score
 * with it while the roster changes.  aff_score(sub, i, j) equals
 * aff_score(m, people[i], people[j]).  It cannot write reasons
 * (aff_table_reason() returns ""), and aff_explain() gives the parts.
 * Returns NULL on ENOMEM. */
struct aff_model *aff_model_subset(const struct aff_model *m,
                                   const uint32_t *people, uint32_t n);

/* Frees the model; NULL is a no-op. */
void aff_model_free(struct aff_model *m);

/* Attendees the model scores (indices 0..count-1). */
uint32_t aff_model_count(const struct aff_model *m);

/* Affinity of attendees a and b (roster indices below the roster count
 * at aff_model_new()). */
double aff_score(const struct aff_model *m, uint32_t a, uint32_t b);

/* Whether a and b are a business contact: one offers what the other
 * seeks. */
bool aff_business(const struct aff_model *m, uint32_t a, uint32_t b);

/* Whether a and b share an interest. */
bool aff_shares_interest(const struct aff_model *m, uint32_t a, uint32_t b);

/* Whether a and b give each other something to talk about: a business
 * contact or a shared interest.  A seat with no such tablemate is lonely. */
bool aff_linked(const struct aff_model *m, uint32_t a, uint32_t b);

/* What the objective charges per lonely seat: interests + business / 2 of
 * the event's weights (negative weights count as 0), so 2 by default, the
 * value of an ordinary business contact. */
double aff_lonely_penalty(const struct aff_model *m);

/* Sum of aff_score() over the pairs among the `n` attendees in
 * `members`: the score of one table. */
double aff_table_score(const struct aff_model *m, const uint32_t *members,
                       size_t n);

/* The parts of aff_score(), for Explain. */
struct aff_parts {
    double interests;    /* weighted: interests * talk(...) */
    double business;     /* weighted: business * scarcity * fit(m) */
    double same_company;
    double total;        /* the sum of the three: aff_score() */
    uint32_t shared_interests;
    uint32_t a_offers_b_seeks;
    uint32_t b_offers_a_seeks;
};

/* Fills *out with the parts of aff_score(m, a, b); they add up to it. */
void aff_explain(const struct aff_model *m, uint32_t a, uint32_t b,
                 struct aff_parts *out);

/* Writes a one-line human reason why the `n` attendees in `members` share
 * a table, e.g. "Anna offers Webdesign, which Ben seeks · Clara and Dora:
 * Segeln", choosing the strongest few facts.  Always NUL-terminates `buf`
 * (cap > 0), truncating on a character boundary; an empty string when
 * nothing connects them, or when out of memory (a reason is a courtesy,
 * not worth failing a schedule for).  Returns the length written. */
size_t aff_table_reason(const struct aff_model *m, const uint32_t *members,
                        size_t n, char *buf, size_t cap);

#endif
