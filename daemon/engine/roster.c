/* roster.c -- attendees by dense index, with tombstones and an id index.
 *
 * Attendees are allocated one by one and the roster keeps pointers, so a
 * struct attendee never moves when the roster grows; replacing a profile
 * builds the new attendee completely before swapping the pointer, so a
 * failed upsert leaves the old profile untouched.  The id index is an
 * open-addressed table of attendee indices; ids are never deleted from it
 * because removed attendees keep their index.
 */
#include "roster.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <unictype.h>
#include <unistr.h>

#include "strhash.h"

#define ROSTER_MIN_SLOTS 64 /* power of two */
#define ROSTER_EMPTY UINT32_MAX

struct roster {
    struct vocab *vocab;
    struct attendee **atts; /* indexed by attendee index */
    uint32_t count;
    uint32_t live;
    uint32_t atts_cap;
    uint32_t *slots; /* attendee indices, ROSTER_EMPTY when free */
    size_t mask;     /* slot count - 1 */
    uint32_t *df;    /* live attendees per interest tag, by tag id */
    uint32_t df_cap;
};

struct roster *roster_new(void)
{
    struct roster *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->vocab = vocab_new();
    r->slots = malloc(ROSTER_MIN_SLOTS * sizeof(*r->slots));
    if (r->vocab == NULL || r->slots == NULL) {
        roster_free(r);
        return NULL;
    }
    memset(r->slots, 0xff, ROSTER_MIN_SLOTS * sizeof(*r->slots));
    r->mask = ROSTER_MIN_SLOTS - 1;
    return r;
}

static void roster_att_free(struct attendee *a)
{
    if (a == NULL)
        return;
    free(a->id);
    free(a->name);
    free(a->company);
    free(a->industry);
    tagset_clear(&a->interests);
    tagset_clear(&a->offers);
    tagset_clear(&a->seeks);
    free(a);
}

void roster_free(struct roster *r)
{
    uint32_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->count; i++)
        roster_att_free(r->atts[i]);
    free(r->atts);
    free(r->slots);
    free(r->df);
    vocab_free(r->vocab);
    free(r);
}

bool roster_text_ok(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + len;

    if (len > 0 && (s == NULL || u8_check(p, len) != NULL))
        return false;
    while (p < end) {
        ucs4_t uc;

        p += u8_mbtouc(&uc, p, (size_t)(end - p));
        if (uc_is_general_category(uc, UC_CATEGORY_Cc))
            return false;
    }
    return true;
}

int roster_check_id(const char *id)
{
    const uint8_t *p, *end;
    size_t len;

    if (id == NULL)
        return -EINVAL;
    len = strnlen(id, ATT_ID_MAX_BYTES + 1);
    if (len == 0 || len > ATT_ID_MAX_BYTES || !roster_text_ok(id, len))
        return -EINVAL;
    p = (const uint8_t *)id;
    end = p + len;
    while (p < end) {
        ucs4_t uc;

        p += u8_mbtouc(&uc, p, (size_t)(end - p));
        if (uc_is_property_white_space(uc))
            return -EINVAL;
    }
    return 0;
}

/* Copies optional text `s` with surrounding white space trimmed into *out
 * (NULL when absent or blank).  Returns 0, -EINVAL or -ENOMEM. */
static int roster_copy_text(const char *s, char **out)
{
    size_t len, b, e;

    *out = NULL;
    if (s == NULL)
        return 0;
    len = strnlen(s, ATT_TEXT_MAX_BYTES + 1);
    if (len > ATT_TEXT_MAX_BYTES || !roster_text_ok(s, len))
        return -EINVAL;
    b = 0;
    e = len;
    vocab_trim(s, &b, &e);
    if (b == e)
        return 0;
    *out = malloc(e - b + 1);
    if (*out == NULL)
        return -ENOMEM;
    memcpy(*out, s + b, e - b);
    (*out)[e - b] = '\0';
    return 0;
}

/* Run before anything is interned, so a bad profile leaves the vocabulary
 * as it was. */
int roster_check_tags(const char *const *tags, size_t n)
{
    size_t i;

    if (n > ATT_TAGS_MAX || (n > 0 && tags == NULL))
        return -EINVAL;
    for (i = 0; i < n; i++) {
        char *folded;
        size_t len;
        int rc;

        if (tags[i] == NULL)
            return -EINVAL;
        len = strnlen(tags[i], VOCAB_TAG_MAX_BYTES + 1);
        rc = vocab_fold(tags[i], len, &folded, &len);
        if (rc != 0)
            return rc;
        /* Folding keeps control characters, and trimming has removed the
         * blanks around the tag, so any left are inside it. */
        rc = roster_text_ok(folded, len) ? 0 : -EINVAL;
        free(folded);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int roster_intern_tags(struct vocab *v, const char *const *tags,
                              size_t n, struct tagset *set)
{
    uint32_t ids[ATT_TAGS_MAX];
    size_t i;

    for (i = 0; i < n; i++) {
        int rc = vocab_intern(v, tags[i], strlen(tags[i]), &ids[i]);

        if (rc != 0)
            return rc;
    }
    return tagset_init(set, ids, n);
}

/* Builds an attendee from `p` in full; nothing in the roster but its
 * vocabulary changes. */
static int roster_att_build(struct roster *r, const struct att_profile *p,
                            struct attendee **out)
{
    struct attendee *a;
    int rc;

    *out = NULL;
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return -ENOMEM;
    a->company_tag = ATT_NO_COMPANY;
    if ((rc = roster_copy_text(p->name, &a->name)) != 0 ||
        (rc = roster_copy_text(p->company, &a->company)) != 0 ||
        (rc = roster_copy_text(p->industry, &a->industry)) != 0 ||
        (rc = roster_check_tags(p->interests, p->n_interests)) != 0 ||
        (rc = roster_check_tags(p->offers, p->n_offers)) != 0 ||
        (rc = roster_check_tags(p->seeks, p->n_seeks)) != 0)
        goto out;
    a->id = strdup(p->id);
    if (a->name == NULL)
        a->name = strdup(p->id);
    if (a->id == NULL || a->name == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    if (a->company != NULL) {
        rc = vocab_intern(r->vocab, a->company, strlen(a->company),
                          &a->company_tag);
        if (rc != 0)
            goto out;
    }
    if ((rc = roster_intern_tags(r->vocab, p->interests, p->n_interests,
                                 &a->interests)) != 0 ||
        (rc = roster_intern_tags(r->vocab, p->offers, p->n_offers,
                                 &a->offers)) != 0 ||
        (rc = roster_intern_tags(r->vocab, p->seeks, p->n_seeks,
                                 &a->seeks)) != 0)
        goto out;
    *out = a;
    a = NULL;
out:
    roster_att_free(a);
    return rc;
}

/* The slot holding `id`, or the empty slot where it would go. */
static size_t roster_slot(const struct roster *r, const char *id)
{
    size_t i = (size_t)strhash_fnv1a(id, strlen(id)) & r->mask;

    while (r->slots[i] != ROSTER_EMPTY &&
           strcmp(r->atts[r->slots[i]]->id, id) != 0)
        i = (i + 1) & r->mask;
    return i;
}

/* Makes room for one more attendee: pointer array and id table. */
static int roster_reserve(struct roster *r)
{
    if (r->count == r->atts_cap) {
        uint32_t cap = r->atts_cap ? r->atts_cap * 2 : 16;
        struct attendee **atts;

        if (r->atts_cap >= UINT32_MAX / 2)
            return -ENOMEM;
        atts = realloc(r->atts, (size_t)cap * sizeof(*atts));
        if (atts == NULL)
            return -ENOMEM;
        r->atts = atts;
        r->atts_cap = cap;
    }
    /* Keep the id table at most half full so probes stay short. */
    if (((size_t)r->count + 1) * 2 > r->mask + 1) {
        size_t n = (r->mask + 1) * 2, i;
        uint32_t *slots, k;

        slots = malloc(n * sizeof(*slots));
        if (slots == NULL)
            return -ENOMEM;
        memset(slots, 0xff, n * sizeof(*slots));
        for (k = 0; k < r->count; k++) {
            const char *id = r->atts[k]->id;

            i = (size_t)strhash_fnv1a(id, strlen(id)) & (n - 1);
            while (slots[i] != ROSTER_EMPTY)
                i = (i + 1) & (n - 1);
            slots[i] = k;
        }
        free(r->slots);
        r->slots = slots;
        r->mask = n - 1;
    }
    return 0;
}

/* Grows the df array to cover every tag the vocabulary knows. */
static int roster_reserve_df(struct roster *r)
{
    uint32_t need = vocab_count(r->vocab), cap;
    uint32_t *df;

    if (need <= r->df_cap)
        return 0;
    cap = r->df_cap ? r->df_cap : 64;
    while (cap < need)
        cap = cap > UINT32_MAX / 2 ? need : cap * 2;
    df = realloc(r->df, (size_t)cap * sizeof(*df));
    if (df == NULL)
        return -ENOMEM;
    memset(df + r->df_cap, 0, (size_t)(cap - r->df_cap) * sizeof(*df));
    r->df = df;
    r->df_cap = cap;
    return 0;
}

/* Counts (or uncounts) a live attendee's interests. */
static void roster_df_update(struct roster *r, const struct attendee *a,
                             bool add)
{
    uint32_t i;

    for (i = 0; i < a->interests.n; i++) {
        if (add)
            r->df[a->interests.ids[i]]++;
        else
            r->df[a->interests.ids[i]]--;
    }
}

int roster_upsert(struct roster *r, const struct att_profile *p,
                  uint32_t *index)
{
    struct attendee *a = NULL;
    size_t slot;
    uint32_t k;
    int rc;

    if (p == NULL || roster_check_id(p->id) != 0)
        return -EINVAL;
    rc = roster_att_build(r, p, &a);
    if (rc != 0)
        goto out;
    rc = roster_reserve_df(r);
    if (rc != 0)
        goto out;
    slot = roster_slot(r, p->id);
    if (r->slots[slot] == ROSTER_EMPTY) {
        rc = roster_reserve(r);
        if (rc != 0)
            goto out;
        slot = roster_slot(r, p->id);
        k = r->count++;
        r->slots[slot] = k;
        r->live++;
    } else {
        k = r->slots[slot];
        if (r->atts[k]->removed)
            r->live++;
        else
            roster_df_update(r, r->atts[k], false);
        roster_att_free(r->atts[k]);
    }
    r->atts[k] = a;
    roster_df_update(r, a, true);
    a = NULL;
    if (index != NULL)
        *index = k;
out:
    roster_att_free(a);
    return rc;
}

int roster_remove(struct roster *r, const char *id)
{
    struct attendee *a;
    uint32_t k;

    if (roster_find(r, id, &k) != 0)
        return -ENOENT;
    a = r->atts[k];
    if (!a->removed) {
        roster_df_update(r, a, false);
        a->removed = true;
        r->live--;
    }
    return 0;
}

int roster_find(const struct roster *r, const char *id, uint32_t *index)
{
    size_t slot;

    if (id == NULL)
        return -ENOENT;
    slot = roster_slot(r, id);
    if (r->slots[slot] == ROSTER_EMPTY)
        return -ENOENT;
    *index = r->slots[slot];
    return 0;
}

uint32_t roster_count(const struct roster *r)
{
    return r->count;
}

uint32_t roster_live(const struct roster *r)
{
    return r->live;
}

const struct attendee *roster_get(const struct roster *r, uint32_t index)
{
    return r->atts[index];
}

const struct vocab *roster_vocab(const struct roster *r)
{
    return r->vocab;
}

uint32_t roster_interest_df(const struct roster *r, uint32_t tag)
{
    return tag < r->df_cap ? r->df[tag] : 0;
}
