/* affinity.c -- pair scores from tag sets, and the reasons behind a table.
 *
 * The scheduler scores pairs millions of times, so the model snapshots
 * everything a score needs (tag sets, per-tag rarity, per-person scarcity)
 * and aff_score() only walks sorted arrays: no allocation, no hashing.
 * Most pairs share nothing, so each attendee also gets 64-bit signatures
 * of its tag sets (bit = tag id mod 64); disjoint signatures prove an
 * empty intersection without touching the arrays.
 */
#include "affinity.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <unictype.h>
#include <unistr.h>

#define AFF_REASON_FACTS_MAX 3    /* facts in one reason line */
#define AFF_REASON_TAGS_MAX 3     /* interests listed for one group */
#define AFF_REASON_SEP " \u00b7 " /* " · " */
/* What each further matching service or shared interest adds, relative to
 * the one before: the first counts fully, a second a quarter.  Tried 1/2:
 * tables again filled with hobby clusters (bench/bench_quality.py). */
#define AFF_DIMINISH 0.25

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

/* ---- Table reasons ------------------------------------------------------
 *
 * A fact is either "X offers T, which Y (and Z) seek(s)" or "X and Y: T".
 * Business facts come first because fit is what organisers ask about; the
 * interest facts follow, strongest first, where strength is the weight of
 * the tag times the number of pairs sharing it.  When the table shares an
 * interest, one slot is kept for it: small talk is half of why a table
 * works, and a line of three business matches hides it.  Colleagues never
 * make a fact: they need no introduction.
 */

struct aff_fact {
    bool business;
    double strength;
    size_t order;    /* generation order: a deterministic tie-break */
    uint32_t tag;
    size_t offerer;  /* business: position in members */
    size_t *people;  /* positions in members: seekers or holders */
    size_t n_people;
};

struct aff_writer {
    char *buf;
    size_t cap;
    size_t len;
    bool full;
};

/* Appends what fits, never splitting a UTF-8 sequence. */
static void aff_put(struct aff_writer *wr, const char *s, size_t n)
{
    size_t room, k;

    if (wr->full)
        return;
    room = wr->cap - 1 - wr->len;
    k = n;
    if (k > room) {
        k = room;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        wr->full = true;
    }
    memcpy(wr->buf + wr->len, s, k);
    wr->len += k;
    wr->buf[wr->len] = '\0';
}

static void aff_puts(struct aff_writer *wr, const char *s)
{
    aff_put(wr, s, strlen(s));
}

/* Length of the first word of `name`: the given name.  A first word
 * ending in '.' is a title ("Dr.", "Prof.") and "which Dr. seeks" helps
 * nobody, so such names are printed whole. */
static size_t aff_given_len(const char *name)
{
    const uint8_t *s = (const uint8_t *)name, *p = s;

    while (*p != '\0') {
        ucs4_t uc;
        int n = u8_strmbtouc(&uc, p);

        if (n <= 0 || uc_is_property_white_space(uc))
            break;
        p += n;
    }
    if (p > s && p[-1] == '.')
        return strlen(name);
    return (size_t)(p - s);
}

struct aff_reason {
    const struct aff_model *m;
    const uint32_t *members;
    size_t n;
    size_t *given_len; /* how much of each name to print */
    size_t *people;    /* free space for the facts' people lists */
    struct aff_writer wr;
};

static void aff_put_person(struct aff_reason *rs, size_t pos)
{
    const struct attendee *a = aff_att(rs->m, rs->members[pos]);

    aff_put(&rs->wr, a->name, rs->given_len[pos]);
}

/* "A", "A and B", "A, B and C". */
static void aff_put_people(struct aff_reason *rs, const size_t *people,
                           size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (i > 0)
            aff_puts(&rs->wr, i + 1 == n ? " and " : ", ");
        aff_put_person(rs, people[i]);
    }
}

/* Decides, per member, between the given name and the full name: the
 * full name only when someone else at the table has the same given name. */
static void aff_pick_names(struct aff_reason *rs)
{
    size_t i, j;

    for (i = 0; i < rs->n; i++) {
        const char *a = aff_att(rs->m, rs->members[i])->name;
        size_t la = aff_given_len(a);

        rs->given_len[i] = la;
        for (j = 0; j < rs->n; j++) {
            const char *b = aff_att(rs->m, rs->members[j])->name;

            if (j != i && aff_given_len(b) == la && memcmp(a, b, la) == 0) {
                rs->given_len[i] = strlen(a);
                break;
            }
        }
    }
}

static int aff_fact_cmp(const void *pa, const void *pb)
{
    const struct aff_fact *a = pa, *b = pb;

    if (a->business != b->business)
        return a->business ? -1 : 1;
    if (a->strength != b->strength)
        return a->strength > b->strength ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

/* Keeps the fact f[nf], whose people are already listed at rs->people:
 * claims their space and returns the new fact count. */
static size_t aff_fact_keep(struct aff_reason *rs, struct aff_fact *f,
                            size_t nf, bool business, double strength,
                            uint32_t tag, size_t offerer)
{
    struct aff_fact *fact = &f[nf];

    fact->business = business;
    fact->strength = strength;
    fact->order = nf;
    fact->tag = tag;
    fact->offerer = offerer;
    rs->people += fact->n_people;
    return nf + 1;
}

/* Adds the business facts: one per (offerer, offered tag) with the
 * members who seek it. */
static size_t aff_business_facts(struct aff_reason *rs, struct aff_fact *f,
                                 size_t nf)
{
    const struct aff_model *m = rs->m;
    size_t i, j;
    uint32_t k;

    for (i = 0; i < rs->n; i++) {
        const struct attendee *x = aff_att(m, rs->members[i]);

        for (k = 0; k < x->offers.n; k++) {
            uint32_t tag = x->offers.ids[k];
            struct aff_fact *fact = &f[nf];

            fact->people = rs->people;
            fact->n_people = 0;
            for (j = 0; j < rs->n; j++) {
                const struct attendee *y = aff_att(m, rs->members[j]);

                if (j != i && !aff_colleagues(x, y) &&
                    tagset_has(&y->seeks, tag))
                    fact->people[fact->n_people++] = j;
            }
            if (fact->n_people > 0)
                nf = aff_fact_keep(rs, f, nf, true,
                                   m->w.business * (double)fact->n_people,
                                   tag, i);
        }
    }
    return nf;
}

/* Adds the interest facts: one per interest held by two or more members,
 * unless all of them work for one company. */
static size_t aff_interest_facts(struct aff_reason *rs, struct aff_fact *f,
                                 size_t nf)
{
    const struct aff_model *m = rs->m;
    size_t i, j;
    uint32_t k;

    for (i = 0; i < rs->n; i++) {
        const struct attendee *x = aff_att(m, rs->members[i]);

        for (k = 0; k < x->interests.n; k++) {
            uint32_t tag = x->interests.ids[k];
            struct aff_fact *fact = &f[nf];
            bool seen = false, mixed = false;
            double pairs;

            /* Each tag once: its first holder produces the fact. */
            for (j = 0; j < i && !seen; j++)
                seen = tagset_has(&aff_att(m, rs->members[j])->interests,
                                  tag);
            if (seen)
                continue;
            fact->people = rs->people;
            fact->n_people = 0;
            for (j = i; j < rs->n; j++) {
                const struct attendee *y = aff_att(m, rs->members[j]);

                if (tagset_has(&y->interests, tag)) {
                    fact->people[fact->n_people++] = j;
                    mixed = mixed || (j > i && !aff_colleagues(x, y));
                }
            }
            if (fact->n_people < 2 || !mixed)
                continue;
            pairs = (double)fact->n_people * (double)(fact->n_people - 1) / 2;
            nf = aff_fact_keep(rs, f, nf, false,
                               m->w.interests * aff_rarity(m, tag) * pairs,
                               tag, 0);
        }
    }
    return nf;
}

static bool aff_same_people(const struct aff_fact *a, const struct aff_fact *b)
{
    return a->n_people == b->n_people &&
           memcmp(a->people, b->people, a->n_people * sizeof(*a->people)) == 0;
}

static void aff_put_fact(struct aff_reason *rs, const struct aff_fact *f,
                         const uint32_t *more_tags, size_t n_more)
{
    const struct vocab *v = roster_vocab(rs->m->r);
    size_t i;

    if (f->business) {
        aff_put_person(rs, f->offerer);
        aff_puts(&rs->wr, " offers ");
        aff_puts(&rs->wr, vocab_display(v, f->tag));
        aff_puts(&rs->wr, ", which ");
        aff_put_people(rs, f->people, f->n_people);
        aff_puts(&rs->wr, f->n_people == 1 ? " seeks" : " seek");
        return;
    }
    aff_put_people(rs, f->people, f->n_people);
    aff_puts(&rs->wr, ": ");
    aff_puts(&rs->wr, vocab_display(v, f->tag));
    for (i = 0; i < n_more; i++) {
        aff_puts(&rs->wr, ", ");
        aff_puts(&rs->wr, vocab_display(v, more_tags[i]));
    }
}

/* Writes the chosen facts; interest facts naming the same group share one
 * entry ("Clara and Dora: Segeln, Jazz") instead of using another slot. */
static void aff_put_facts(struct aff_reason *rs, struct aff_fact *f,
                          size_t nf)
{
    size_t chosen[AFF_REASON_FACTS_MAX];
    uint32_t more[AFF_REASON_FACTS_MAX][AFF_REASON_TAGS_MAX - 1];
    size_t n_more[AFF_REASON_FACTS_MAX] = {0};
    size_t n_chosen = 0, n_business = 0, i, c;
    bool any_interest = false;

    for (i = 0; i < nf; i++)
        any_interest |= !f[i].business;
    for (i = 0; i < nf; i++) {
        bool merged = false;

        if (f[i].business && any_interest &&
            n_business == AFF_REASON_FACTS_MAX - 1)
            continue;

        for (c = 0; c < n_chosen && !f[i].business && !merged; c++) {
            struct aff_fact *g = &f[chosen[c]];

            if (!g->business && aff_same_people(g, &f[i])) {
                if (n_more[c] < AFF_REASON_TAGS_MAX - 1)
                    more[c][n_more[c]++] = f[i].tag;
                merged = true;
            }
        }
        if (!merged && n_chosen < AFF_REASON_FACTS_MAX) {
            chosen[n_chosen++] = i;
            n_business += f[i].business;
        }
    }
    for (c = 0; c < n_chosen; c++) {
        if (c > 0)
            aff_puts(&rs->wr, AFF_REASON_SEP);
        aff_put_fact(rs, &f[chosen[c]], more[c], n_more[c]);
    }
}

size_t aff_table_reason(const struct aff_model *m, const uint32_t *members,
                        size_t n, char *buf, size_t cap)
{
    struct aff_reason rs = {.m = m, .members = members, .n = n,
                            .wr = {.buf = buf, .cap = cap}};
    struct aff_fact *facts = NULL;
    size_t *people = NULL;
    size_t max_facts = 0, nf = 0, i;

    if (cap == 0)
        return 0;
    buf[0] = '\0';
    if (n < 2 || m->r == NULL)
        return 0;
    for (i = 0; i < n; i++) {
        const struct attendee *x = aff_att(m, members[i]);

        max_facts += (size_t)x->offers.n + x->interests.n;
    }
    if (max_facts == 0)
        return 0;
    /* Each fact names at most n people. */
    if (max_facts > SIZE_MAX / sizeof(*people) / n)
        goto out;
    facts = malloc(max_facts * sizeof(*facts));
    people = malloc(max_facts * n * sizeof(*people));
    rs.given_len = malloc(n * sizeof(*rs.given_len));
    if (facts == NULL || people == NULL || rs.given_len == NULL)
        goto out;
    rs.people = people;
    if (m->w.business > 0)
        nf = aff_business_facts(&rs, facts, nf);
    if (m->w.interests > 0)
        nf = aff_interest_facts(&rs, facts, nf);
    qsort(facts, nf, sizeof(*facts), aff_fact_cmp);
    aff_pick_names(&rs);
    aff_put_facts(&rs, facts, nf);
out:
    free(facts);
    free(people);
    free(rs.given_len);
    return rs.wr.len;
}
