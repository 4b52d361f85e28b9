/* affinity.c -- pair scores from tag sets (the reasons behind a table
 * are in affinity_reason.c).
 *
 * The scheduler scores pairs millions of times, so the model snapshots
 * everything a score needs (tag sets, per-tag rarity, per-person scarcity)
 * and aff_score() only ANDs bitsets or, with a large vocabulary, walks
 * sorted arrays: no allocation, no hashing.  On the array path most pairs
 * share nothing, so each attendee also gets 64-bit signatures of its tag
 * sets (bit = tag id mod 64); disjoint signatures prove an empty
 * intersection without touching the arrays.
 */
#include "affinity_int.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* What each further matching service or shared interest adds, relative to
 * the one before: the first counts fully, a second a quarter, so three
 * hobbies everybody lists (1.5) stay below one business contact (2). */
#define AFF_DIMINISH 0.25

void aff_weights_default(struct aff_weights *w)
{
    w->interests = AFF_DEFAULT_INTERESTS;
    w->business = AFF_DEFAULT_BUSINESS;
    w->same_company = AFF_DEFAULT_SAME_COMPANY;
}

static uint64_t aff_signature(const struct tagset *set)
{
    uint64_t sig = 0;
    uint32_t i;

    for (i = 0; i < set->n; i++)
        sig |= (uint64_t)1 << (set->ids[i] & 63);
    return sig;
}

static void aff_count_tags(const struct tagset *set, uint32_t *df)
{
    uint32_t i;

    for (i = 0; i < set->n; i++)
        df[set->ids[i]]++;
}

/* Possible business contacts of `a` among the live attendees, from how
 * many offer and seek each tag: someone matching through two tags counts
 * twice, which only makes a rare match look a little less rare. */
static uint32_t aff_contacts(const struct attendee *a, const uint32_t *offer_df,
                             const uint32_t *seek_df)
{
    uint64_t c = 0;
    uint32_t i;

    for (i = 0; i < a->seeks.n; i++) {
        uint32_t t = a->seeks.ids[i];
        c += offer_df[t] - (tagset_has(&a->offers, t) ? 1 : 0);
    }
    for (i = 0; i < a->offers.n; i++) {
        uint32_t t = a->offers.ids[i];
        c += seek_df[t] - (tagset_has(&a->seeks, t) ? 1 : 0);
    }
    return c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
}

static int aff_scarcity(struct aff_model *m, const struct roster *r)
{
    uint32_t *offer_df = calloc(m->n_tags ? m->n_tags : 1, sizeof(*offer_df));
    uint32_t *seek_df = calloc(m->n_tags ? m->n_tags : 1, sizeof(*seek_df));
    uint32_t i;
    int ret = -1;

    if (offer_df == NULL || seek_df == NULL)
        goto out;
    for (i = 0; i < m->n_atts; i++) {
        const struct attendee *a = roster_get(r, i);

        if (a->removed)
            continue;
        aff_count_tags(&a->offers, offer_df);
        aff_count_tags(&a->seeks, seek_df);
    }
    for (i = 0; i < m->n_atts; i++) {
        uint32_t c = aff_contacts(roster_get(r, i), offer_df, seek_df);

        m->nodes[i].scarcity = c > 0 ? 1.0 + 1.0 / (double)c : 1.0;
    }
    ret = 0;
out:
    free(offer_df);
    free(seek_df);
    return ret;
}

static double aff_nonneg(double x)
{
    return x > 0.0 ? x : 0.0;
}

static void aff_set_bits(uint64_t *words, const struct tagset *set,
                         const uint16_t *bit)
{
    uint32_t i;

    for (i = 0; i < set->n; i++) {
        uint16_t b = bit[set->ids[i]];

        words[b / 64] |= (uint64_t)1 << (b % 64);
    }
}

/* Numbers the interests and the services that occur, and when each kind
 * fits AFF_BITS_MAX, fills the bitsets.  Returns 0, or -1 on ENOMEM. */
static int aff_build_bits(struct aff_model *m)
{
    uint16_t *ibit = NULL, *sbit = NULL;
    uint32_t n_int = 0, n_svc = 0, i, j;
    int ret = -1;

    if (m->n_tags == 0 || m->n_atts == 0)
        return 0;
    ibit = malloc((size_t)m->n_tags * sizeof(*ibit));
    sbit = malloc((size_t)m->n_tags * sizeof(*sbit));
    if (ibit == NULL || sbit == NULL)
        goto out;
    memset(ibit, 0xff, (size_t)m->n_tags * sizeof(*ibit));
    memset(sbit, 0xff, (size_t)m->n_tags * sizeof(*sbit));
    for (i = 0; i < m->n_atts && n_int <= AFF_BITS_MAX &&
                n_svc <= AFF_BITS_MAX; i++) {
        const struct attendee *a = m->nodes[i].att;
        const struct tagset *svc[2] = {&a->offers, &a->seeks};

        for (j = 0; j < a->interests.n; j++) {
            uint32_t t = a->interests.ids[j];

            if (ibit[t] == UINT16_MAX && n_int < AFF_BITS_MAX)
                m->bit_rarity[n_int] = m->rarity[t];
            if (ibit[t] == UINT16_MAX)
                ibit[t] = (uint16_t)(n_int++ < AFF_BITS_MAX ? n_int - 1 : 0);
        }
        for (int k = 0; k < 2; k++) {
            for (j = 0; j < svc[k]->n; j++) {
                uint32_t t = svc[k]->ids[j];

                if (sbit[t] == UINT16_MAX)
                    sbit[t] = (uint16_t)(n_svc++ < AFF_BITS_MAX ? n_svc - 1 : 0);
            }
        }
    }
    if (n_int > AFF_BITS_MAX || n_svc > AFF_BITS_MAX) {
        ret = 0;
        goto out;
    }
    m->bits = calloc(m->n_atts, sizeof(*m->bits));
    if (m->bits == NULL)
        goto out;
    for (i = 0; i < m->n_atts; i++) {
        const struct attendee *a = m->nodes[i].att;

        aff_set_bits(m->bits[i].interests, &a->interests, ibit);
        aff_set_bits(m->bits[i].offers, &a->offers, sbit);
        aff_set_bits(m->bits[i].seeks, &a->seeks, sbit);
    }
    ret = 0;
out:
    free(ibit);
    free(sbit);
    return ret;
}

struct aff_model *aff_model_new(const struct roster *r,
                                const struct aff_weights *w)
{
    struct aff_model *m = calloc(1, sizeof(*m));
    double n_live;
    uint32_t i;

    if (m == NULL)
        return NULL;
    m->r = r;
    m->w = *w;
    m->lonely_penalty = aff_nonneg(w->interests) + aff_nonneg(w->business) / 2;
    m->n_atts = roster_count(r);
    m->n_tags = vocab_count(roster_vocab(r));
    if (m->n_atts > 0) {
        m->nodes = malloc((size_t)m->n_atts * sizeof(*m->nodes));
        if (m->nodes == NULL)
            goto fail;
    }
    if (m->n_tags > 0) {
        m->rarity = malloc((size_t)m->n_tags * sizeof(*m->rarity));
        if (m->rarity == NULL)
            goto fail;
    }
    for (i = 0; i < m->n_atts; i++) {
        const struct attendee *a = roster_get(r, i);

        m->nodes[i].att = a;
        m->nodes[i].company = a->company_tag;
        m->nodes[i].interests = aff_signature(&a->interests);
        m->nodes[i].offers = aff_signature(&a->offers);
        m->nodes[i].seeks = aff_signature(&a->seeks);
    }
    if (aff_scarcity(m, r) < 0)
        goto fail;
    /* The rarity weight runs from 1 (everyone lists it) to 2 (one person
     * does): 1 + ln(N / df) / ln(N).  Unnormalised, ln(N / df) grows with
     * the event, and at a thousand guests one shared niche hobby outweighed
     * several business matches whatever the weights said; normalised, the
     * `interests` and `business` weights keep the meaning organizers give
     * them.  A tag nobody live lists counts as held by one. */
    n_live = (double)roster_live(r);
    m->rarity_unseen = n_live > 1.0 ? 2.0 : 1.0;
    for (i = 0; i < m->n_tags; i++) {
        uint32_t df = roster_interest_df(r, i);

        if (df == 0)
            m->rarity[i] = m->rarity_unseen;
        else if (n_live > 1.0 && df < n_live)
            m->rarity[i] = 1.0 + log(n_live / (double)df) / log(n_live);
        else
            m->rarity[i] = 1.0;
    }
    if (aff_build_bits(m) < 0)
        goto fail;
    return m;
fail:
    aff_model_free(m);
    return NULL;
}

static uint32_t *aff_copy_set(struct tagset *dst, const struct tagset *src,
                              uint32_t *ids)
{
    dst->n = src->n;
    dst->ids = src->n > 0 ? ids : NULL;
    if (src->n > 0)
        memcpy(ids, src->ids, (size_t)src->n * sizeof(*ids));
    return ids + src->n;
}

struct aff_model *aff_model_subset(const struct aff_model *m,
                                   const uint32_t *people, uint32_t n)
{
    struct aff_model *sub = calloc(1, sizeof(*sub));
    size_t n_ids = 0;
    uint32_t i, *ids;

    if (sub == NULL)
        return NULL;
    sub->w = m->w;
    sub->lonely_penalty = m->lonely_penalty;
    sub->n_atts = n;
    sub->n_tags = m->n_tags;
    sub->rarity_unseen = m->rarity_unseen;
    for (i = 0; i < n; i++) {
        const struct attendee *a = m->nodes[people[i]].att;

        n_ids += (size_t)a->interests.n + a->offers.n + a->seeks.n;
    }
    sub->nodes = malloc((size_t)(n ? n : 1) * sizeof(*sub->nodes));
    sub->own = calloc(n ? n : 1, sizeof(*sub->own));
    sub->own_ids = malloc((n_ids ? n_ids : 1) * sizeof(*sub->own_ids));
    sub->rarity = malloc((size_t)(m->n_tags ? m->n_tags : 1) *
                         sizeof(*sub->rarity));
    if (!sub->nodes || !sub->own || !sub->own_ids || !sub->rarity) {
        aff_model_free(sub);
        return NULL;
    }
    if (m->n_tags > 0)
        memcpy(sub->rarity, m->rarity, (size_t)m->n_tags * sizeof(*m->rarity));
    memcpy(sub->bit_rarity, m->bit_rarity, sizeof(sub->bit_rarity));
    if (m->bits != NULL) {
        sub->bits = malloc((size_t)(n ? n : 1) * sizeof(*sub->bits));
        if (sub->bits == NULL) {
            aff_model_free(sub);
            return NULL;
        }
        for (i = 0; i < n; i++)
            sub->bits[i] = m->bits[people[i]];
    }
    ids = sub->own_ids;
    for (i = 0; i < n; i++) {
        const struct aff_node *src = &m->nodes[people[i]];
        struct attendee *a = &sub->own[i];

        a->company_tag = src->att->company_tag;
        ids = aff_copy_set(&a->interests, &src->att->interests, ids);
        ids = aff_copy_set(&a->offers, &src->att->offers, ids);
        ids = aff_copy_set(&a->seeks, &src->att->seeks, ids);
        sub->nodes[i] = *src;
        sub->nodes[i].att = a;
    }
    return sub;
}

void aff_model_free(struct aff_model *m)
{
    if (m == NULL)
        return;
    free(m->nodes);
    free(m->rarity);
    free(m->bits);
    free(m->own);
    free(m->own_ids);
    free(m);
}

uint32_t aff_model_count(const struct aff_model *m)
{
    return m->n_atts;
}

double aff_lonely_penalty(const struct aff_model *m)
{
    return m->lonely_penalty;
}

/* fit(m) = 1 + d + d^2 + ... (m terms), d = AFF_DIMINISH. */
static inline double aff_fit(uint32_t matches)
{
    double f = 0.0, step = 1.0;
    uint32_t i;

    for (i = 0; i < matches && step > 1e-6; i++) {
        f += step;
        step *= AFF_DIMINISH;
    }
    return f;
}

/* Matches are few, so clearing the lowest bit until none is left beats a
 * portable popcount, which without -mpopcnt is a library call. */
static inline uint32_t aff_bit_count(uint64_t x)
{
    uint32_t c = 0;

    for (; x != 0; x &= x - 1)
        c++;
    return c;
}

/* The one computation behind aff_score() and aff_explain(), so the parts
 * Explain shows always add up to the score the scheduler used. */
static inline void aff_compute(const struct aff_model *m, uint32_t a,
                               uint32_t b, struct aff_parts *out)
{
    const struct aff_node *x = &m->nodes[a], *y = &m->nodes[b];
    uint32_t shared = 0, ab = 0, ba = 0;
    double sum = 0.0, top = 0.0;
    bool colleagues;

    if (m->bits != NULL) {
        const struct aff_bits *p = &m->bits[a], *q = &m->bits[b];

        for (int w = 0; w < AFF_BITS_WORDS; w++) {
            uint64_t both = p->interests[w] & q->interests[w];

            ab += aff_bit_count(p->offers[w] & q->seeks[w]);
            ba += aff_bit_count(q->offers[w] & p->seeks[w]);
            while (both != 0) {
                double r = m->bit_rarity[w * 64 + __builtin_ctzll(both)];

                sum += r;
                if (r > top)
                    top = r;
                shared++;
                both &= both - 1;
            }
        }
        goto weigh;
    }
    /* The merge walk of tagset_foreach_common(), written out: this is the
     * scheduler's innermost loop, and each match needs its rarity. */
    if (x->interests & y->interests) {
        const struct tagset *p = &x->att->interests, *q = &y->att->interests;
        uint32_t i = 0, j = 0;

        while (i < p->n && j < q->n) {
            if (p->ids[i] < q->ids[j]) {
                i++;
            } else if (p->ids[i] > q->ids[j]) {
                j++;
            } else {
                double w = aff_rarity(m, p->ids[i]);

                sum += w;
                if (w > top)
                    top = w;
                shared++;
                i++;
                j++;
            }
        }
    }
    if (x->offers & y->seeks)
        ab = tagset_common(&x->att->offers, &y->att->seeks);
    if (y->offers & x->seeks)
        ba = tagset_common(&y->att->offers, &x->att->seeks);
weigh:
    out->shared_interests = shared;
    out->a_offers_b_seeks = ab;
    out->b_offers_a_seeks = ba;
    out->interests = m->w.interests * (top + AFF_DIMINISH * (sum - top));
    out->business = ab + ba == 0 ? 0.0
                    : m->w.business * (x->scarcity + y->scarcity) / 2 *
                          aff_fit(ab + ba);
    colleagues = x->company != ATT_NO_COMPANY && x->company == y->company;
    out->same_company = colleagues ? m->w.same_company : 0.0;
    out->total = out->interests + out->business + out->same_company;
}

double aff_score(const struct aff_model *m, uint32_t a, uint32_t b)
{
    struct aff_parts parts;

    aff_compute(m, a, b, &parts);
    return parts.total;
}

void aff_explain(const struct aff_model *m, uint32_t a, uint32_t b,
                 struct aff_parts *out)
{
    aff_compute(m, a, b, out);
}

bool aff_business(const struct aff_model *m, uint32_t a, uint32_t b)
{
    const struct aff_node *x = &m->nodes[a], *y = &m->nodes[b];

    if (m->bits != NULL) {
        const struct aff_bits *p = &m->bits[a], *q = &m->bits[b];
        uint64_t any = 0;

        for (int w = 0; w < AFF_BITS_WORDS; w++)
            any |= (p->offers[w] & q->seeks[w]) | (q->offers[w] & p->seeks[w]);
        return any != 0;
    }
    return ((x->offers & y->seeks) &&
            tagset_common(&x->att->offers, &y->att->seeks) > 0) ||
           ((y->offers & x->seeks) &&
            tagset_common(&y->att->offers, &x->att->seeks) > 0);
}

bool aff_shares_interest(const struct aff_model *m, uint32_t a, uint32_t b)
{
    const struct aff_node *x = &m->nodes[a], *y = &m->nodes[b];

    if (m->bits != NULL) {
        const struct aff_bits *p = &m->bits[a], *q = &m->bits[b];
        uint64_t any = 0;

        for (int w = 0; w < AFF_BITS_WORDS; w++)
            any |= p->interests[w] & q->interests[w];
        return any != 0;
    }
    return (x->interests & y->interests) &&
           tagset_common(&x->att->interests, &y->att->interests) > 0;
}

bool aff_linked(const struct aff_model *m, uint32_t a, uint32_t b)
{
    return aff_shares_interest(m, a, b) || aff_business(m, a, b);
}

double aff_table_score(const struct aff_model *m, const uint32_t *members,
                       size_t n)
{
    double sum = 0.0;
    size_t i, j;

    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++)
            sum += aff_score(m, members[i], members[j]);
    }
    return sum;
}
