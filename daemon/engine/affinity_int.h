/* affinity_int.h -- the affinity model's layout, shared by affinity.c,
 * which builds it and scores pairs, and affinity_reason.c, which writes
 * the reasons behind a table.  Not part of the engine's API.
 */
#ifndef MINGLE_AFFINITY_INT_H
#define MINGLE_AFFINITY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "affinity.h"

/* Up to this many distinct interests, and as many distinct services
 * (offered or sought), each attendee's tag sets are also kept as bitsets
 * over a compact numbering of each kind: scoring a pair is then a few
 * ANDs and popcounts, about a tenth of the merge walks, which is what
 * events too large for the scheduler's pair table need. */
#define AFF_BITS_WORDS 4
#define AFF_BITS_MAX (64 * AFF_BITS_WORDS)

struct aff_bits {
    uint64_t interests[AFF_BITS_WORDS];
    uint64_t offers[AFF_BITS_WORDS];
    uint64_t seeks[AFF_BITS_WORDS];
};

struct aff_node {
    uint64_t interests; /* signatures of the tag sets */
    uint64_t offers;
    uint64_t seeks;
    const struct attendee *att;
    uint32_t company;   /* company_tag */
    double scarcity;    /* 1 + 1 / possible business contacts */
};

struct aff_model {
    const struct roster *r; /* NULL for a subset: no names, no reasons */
    struct aff_weights w;
    struct aff_node *nodes; /* by index, snapshot of the roster */
    uint32_t n_atts;
    double *rarity; /* 1 + ln(N / df) / ln(N), by interest tag id */
    uint32_t n_tags;
    double rarity_unseen; /* for tags interned after the snapshot */
    double lonely_penalty;
    struct aff_bits *bits;  /* by index, or NULL: too many tags */
    double bit_rarity[AFF_BITS_MAX]; /* rarity by interest bit */
    struct attendee *own;   /* a subset's copies of the attendees */
    uint32_t *own_ids;      /* and of their tag ids */
};

static inline double aff_rarity(const struct aff_model *m, uint32_t tag)
{
    return tag < m->n_tags ? m->rarity[tag] : m->rarity_unseen;
}

static inline const struct attendee *aff_att(const struct aff_model *m,
                                             uint32_t index)
{
    return m->nodes[index].att;
}

static inline bool aff_colleagues(const struct attendee *x,
                                  const struct attendee *y)
{
    return x->company_tag != ATT_NO_COMPANY &&
           x->company_tag == y->company_tag;
}

#endif
