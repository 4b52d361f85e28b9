/* affinity.h -- how much two attendees have to talk about.
 *
 * affinity(a, b) = interests * sum of rarity weights of shared interests
 *                + business  * (|a.offers & b.seeks| + |b.offers & a.seeks|)
 *                + same_company            when both name the same company
 *
 * The rarity weight of an interest shared by df of N attendees is
 * 1 + ln(N / df) / ln(N), from 1 (everyone lists it) to 2 (only one does):
 * a niche hobby says more than "travel", yet never drowns out business
 * fit, whatever the size of the event.  Scoring a pair
 * walks a few short sorted arrays; nothing is precomputed per pair.
 */
#ifndef MINGLE_AFFINITY_H
#define MINGLE_AFFINITY_H

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

/* Frees the model; NULL is a no-op. */
void aff_model_free(struct aff_model *m);

/* Affinity of attendees a and b (roster indices below the roster count
 * at aff_model_new()). */
double aff_score(const struct aff_model *m, uint32_t a, uint32_t b);

/* Sum of aff_score() over the pairs among the `n` attendees in
 * `members`: the score of one table. */
double aff_table_score(const struct aff_model *m, const uint32_t *members,
                       size_t n);

/* The parts of aff_score(), for Explain. */
struct aff_parts {
    double interests;    /* weighted, already multiplied */
    double business;
    double same_company;
    double total;
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
