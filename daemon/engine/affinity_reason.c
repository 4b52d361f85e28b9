/* affinity_reason.c -- the one-line reason behind a table: "Anna offers
 * Webdesign, which Ben seeks · Clara and Dora: Segeln".  Reads the model
 * that affinity.c builds (affinity_int.h); scoring knows nothing of it.
 */
#include "affinity_int.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <unictype.h>
#include <unistr.h>

#define AFF_REASON_FACTS_MAX 3    /* facts in one reason line */
#define AFF_REASON_TAGS_MAX 3     /* interests listed for one group */
#define AFF_REASON_SEP " \u00b7 " /* " · " */

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
 * full name only when someone else at the table has the same given name.
 * `given` is scratch space for n lengths: each name is measured once. */
static void aff_pick_names(struct aff_reason *rs, size_t *given)
{
    size_t i, j;

    for (i = 0; i < rs->n; i++)
        given[i] = aff_given_len(aff_att(rs->m, rs->members[i])->name);
    for (i = 0; i < rs->n; i++) {
        const char *a = aff_att(rs->m, rs->members[i])->name;

        rs->given_len[i] = given[i];
        for (j = 0; j < rs->n; j++) {
            const char *b = aff_att(rs->m, rs->members[j])->name;

            if (j != i && given[j] == given[i] &&
                memcmp(a, b, given[i]) == 0) {
                rs->given_len[i] = strlen(a);
                break;
            }
        }
    }
}

/* Whether the tag signature `sig` (a bit per tag id mod 64, affinity.c)
 * may hold `tag`: a cheap no before the set is searched. */
static bool aff_sig_may_hold(uint64_t sig, uint32_t tag)
{
    return (sig >> (tag & 63)) & 1;
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

                if (j != i &&
                    aff_sig_may_hold(m->nodes[rs->members[j]].seeks, tag) &&
                    !aff_colleagues(x, y) && tagset_has(&y->seeks, tag))
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
                seen = aff_sig_may_hold(m->nodes[rs->members[j]].interests,
                                        tag) &&
                       tagset_has(&aff_att(m, rs->members[j])->interests,
                                  tag);
            if (seen)
                continue;
            fact->people = rs->people;
            fact->n_people = 0;
            for (j = i; j < rs->n; j++) {
                const struct attendee *y = aff_att(m, rs->members[j]);

                if (aff_sig_may_hold(m->nodes[rs->members[j]].interests,
                                     tag) &&
                    tagset_has(&y->interests, tag)) {
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
    rs.given_len = malloc(2 * n * sizeof(*rs.given_len));
    if (facts == NULL || people == NULL || rs.given_len == NULL)
        goto out;
    rs.people = people;
    if (m->w.business > 0)
        nf = aff_business_facts(&rs, facts, nf);
    if (m->w.interests > 0)
        nf = aff_interest_facts(&rs, facts, nf);
    qsort(facts, nf, sizeof(*facts), aff_fact_cmp);
    aff_pick_names(&rs, rs.given_len + n);
    aff_put_facts(&rs, facts, nf);
out:
    free(facts);
    free(people);
    free(rs.given_len);
    return rs.wr.len;
}
