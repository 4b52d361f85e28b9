/* event_file.c -- the event file (design.md, "Event file") into a
 * validated cfg_event.
 *
 * A recursive descent over libyaml events (cfg_yaml.h): each function is
 * entered with the first event of its node current and returns with the
 * node's last event current.  Everything the batch later hands to
 * roster_upsert() is checked here with the engine's own rules
 * (roster_check_id, roster_text_ok, vocab_fold), so a file that loads
 * never fails later without a line and column.  met_before and avoid may
 * come before the attendees they name, so pairs are kept with their
 * positions and resolved once the whole mapping is read.
 *
 * An event holds a few strings per attendee, a million attendees at most:
 * they are carved from large chunks rather than malloc'd one by one, which
 * is both smaller and, interleaved with libyaml's short-lived allocations,
 * several times faster.
 */
#include "event_file.h"
#include "cfg_yaml.h"

#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"
#include "strhash.h"
#include "vocab.h"

#define EF_MIN_ATTENDEES_CAP 16
#define EF_MIN_ID_SLOTS 64 /* power of two */
#define EF_SLOT_EMPTY UINT32_MAX
#define EF_QUOTE_BYTES 48
#define EF_CHUNK_BYTES (64u * 1024)

enum { TOP_EVENT, TOP_ATTENDEES, TOP_MET_BEFORE, TOP_AVOID, TOP_KEYS };
static const char *const top_keys[TOP_KEYS] = {
    "event", "attendees", "met_before", "avoid"};

enum { EVK_NAME, EVK_ROUNDS, EVK_TABLE_SIZE, EVK_SEED, EVK_WEIGHTS, EVK_KEYS };
static const char *const event_keys[EVK_KEYS] = {
    "name", "rounds", "table_size", "seed", "weights"};

enum { WK_INTERESTS, WK_BUSINESS, WK_SAME_COMPANY, WK_KEYS };
static const char *const weight_keys[WK_KEYS] = {
    "interests", "business", "same_company"};
static const char *const weight_what[WK_KEYS] = {
    "weights.interests", "weights.business", "weights.same_company"};

enum { AK_ID, AK_NAME, AK_COMPANY, AK_INDUSTRY, AK_INTERESTS, AK_OFFERS,
       AK_SEEKS, AK_KEYS };
static const char *const attendee_keys[AK_KEYS] = {
    "id", "name", "company", "industry", "interests", "offers", "seeks"};

/* A block of the string arena; `data` is handed out front to back. */
struct ef_chunk {
    struct ef_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

/* The cfg_event callers see, and the arena its strings live in. */
struct ef_event {
    struct cfg_event pub; /* first, so a cfg_event * converts back */
    struct ef_chunk *arena;
};

/* A pair as written, resolved to indices after all attendees are read. */
struct ef_raw_pair {
    const char *id[2];
    yaml_mark_t mark[2];
    yaml_mark_t at; /* the pair's start: errors found later point there */
};

struct ef_raw_pairs {
    struct ef_raw_pair *v;
    size_t n, cap;
};

struct ef {
    struct cfg_yaml y;
    struct ef_event *owner;
    struct cfg_event *ev; /* &owner->pub */
    struct ef_chunk *scratch; /* raw pair ids, freed after resolving */
    const char *tags[ATT_TAGS_MAX]; /* one tag list while it is read */
    uint32_t max_attendees;
    size_t att_cap;
    unsigned *att_line; /* line of each attendee's id, for duplicates */
    uint32_t *slots;    /* id hash: attendee indices, probed linearly */
    size_t slot_mask;
    struct ef_raw_pairs pairs[2]; /* met_before, avoid */
};

static const char *const pair_keys[2] = {"met_before", "avoid"};

/* Returns `n` bytes aligned for pointers from the arena at *head, or NULL
 * on ENOMEM. */
static void *ef_alloc(struct ef_chunk **head, size_t n)
{
    struct ef_chunk *c = *head;
    void *mem;

    n = (n + alignof(void *) - 1) & ~(alignof(void *) - 1);
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > EF_CHUNK_BYTES ? n : EF_CHUNK_BYTES;

        c = malloc(sizeof(*c) + cap);
        if (c == NULL)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = *head;
        *head = c;
    }
    mem = (unsigned char *)c->data + c->used;
    c->used += n;
    return mem;
}

static char *ef_strdup(struct ef_chunk **head, const char *s, size_t len)
{
    char *copy = ef_alloc(head, len + 1);

    if (copy) {
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    return copy;
}

static void ef_arena_free(struct ef_chunk *c)
{
    while (c) {
        struct ef_chunk *next = c->next;

        free(c);
        c = next;
    }
}

static size_t ef_slot(const struct ef *p, const char *id)
{
    size_t i = (size_t)strhash_fnv1a(id, strlen(id)) & p->slot_mask;

    while (p->slots[i] != EF_SLOT_EMPTY &&
           strcmp(p->ev->attendees[p->slots[i]].id, id) != 0)
        i = (i + 1) & p->slot_mask;
    return i;
}

/* Keeps the table at most half full, so probes stay short. */
static int ef_slots_reserve(struct ef *p, size_t n)
{
    size_t want = p->slots ? p->slot_mask + 1 : EF_MIN_ID_SLOTS;
    uint32_t *old = p->slots;
    size_t old_n = p->slots ? p->slot_mask + 1 : 0, i;

    while (want < 2 * n)
        want *= 2;
    if (p->slots && want == old_n)
        return 0;
    p->slots = malloc(want * sizeof(*p->slots));
    if (p->slots == NULL) {
        p->slots = old;
        return -ENOMEM;
    }
    memset(p->slots, 0xFF, want * sizeof(*p->slots));
    p->slot_mask = want - 1;
    for (i = 0; i < old_n; i++)
        if (old[i] != EF_SLOT_EMPTY)
            p->slots[ef_slot(p, p->ev->attendees[old[i]].id)] = old[i];
    free(old);
    return 0;
}

static int ef_fail_kind(struct ef *p, const char *what, const char *expected)
{
    return cfg_yaml_fail(&p->y, p->y.ev.start_mark, "%s: expected %s, got %s",
                         what, expected, cfg_yaml_kind(&p->y.ev));
}

/* Reads the next key of the current mapping and moves to its value:
 * returns 1 with *which set, 0 at the mapping's end, or a negative errno. */
static int ef_next_key(struct ef *p, const char *const *keys, size_t n,
                       unsigned *seen, size_t *which)
{
    int rc;

    if ((rc = cfg_yaml_next(&p->y)) < 0)
        return rc;
    if (p->y.ev.type == YAML_MAPPING_END_EVENT)
        return 0;
    if ((rc = cfg_yaml_key(&p->y, keys, n, seen, which)) < 0)
        return rc;
    if ((rc = cfg_yaml_next(&p->y)) < 0)
        return rc;
    return 1;
}

/* Required keys are reported at the mapping that lacks them. */
static int ef_require(struct ef *p, yaml_mark_t start, const char *what,
                      const char *const *keys, const unsigned *seen,
                      const size_t *req, size_t n_req)
{
    size_t i;

    for (i = 0; i < n_req; i++)
        if (!seen[req[i]])
            return cfg_yaml_fail(&p->y, start, "%s%smissing required key '%s'",
                                 what ? what : "", what ? ": " : "",
                                 keys[req[i]]);
    return 0;
}

/* The current node as optional text of at most `max` bytes: NULL when
 * null or empty. */
static int ef_text(struct ef *p, const char *what, size_t max, char **out)
{
    const char *s;
    size_t len;

    if (p->y.ev.type != YAML_SCALAR_EVENT)
        return ef_fail_kind(p, what, "a string");
    if (cfg_yaml_is_null(&p->y.ev))
        return 0;
    s = cfg_yaml_text(&p->y, &len);
    if (len > max)
        return cfg_yaml_fail(&p->y, p->y.ev.start_mark,
                             "%s: longer than %zu bytes", what, max);
    if (!roster_text_ok(s, len))
        return cfg_yaml_fail(&p->y, p->y.ev.start_mark,
                             "%s: control characters are not allowed", what);
    if (len == 0)
        return 0;
    *out = ef_strdup(&p->owner->arena, s, len);
    return *out ? 0 : cfg_yaml_nomem(&p->y);
}

/* A tag as vocab_fold() will take it at roster_upsert() time. */
static int ef_check_tag(struct ef *p, const char *what, const char *s,
                        size_t len)
{
    char q[EF_QUOTE_BYTES];
    char *folded;
    size_t folded_len;
    int rc;

    cfg_yaml_quote(q, sizeof(q), s, len);
    if (len > VOCAB_TAG_MAX_BYTES)
        return cfg_yaml_fail(&p->y, p->y.ev.start_mark,
                             "%s: '%s' is longer than %d bytes", what, q,
                             VOCAB_TAG_MAX_BYTES);
    if (!roster_text_ok(s, len))
        return cfg_yaml_fail(&p->y, p->y.ev.start_mark,
                             "%s: control characters are not allowed", what);
    rc = vocab_fold(s, len, &folded, &folded_len);
    if (rc == -ENOMEM)
        return cfg_yaml_nomem(&p->y);
    if (rc < 0)
        return cfg_yaml_fail(&p->y, p->y.ev.start_mark,
                             "%s: '%s' is blank", what, q);
    free(folded);
    return 0;
}

/* interests, offers, seeks: a sequence of tags (null: none). */
static int ef_tags(struct ef *p, const char *what, const char *const **list,
                   size_t *n)
{
    const char **v;
    const char *s;
    size_t len;
    int rc;

    if (cfg_yaml_is_null(&p->y.ev))
        return 0;
    if (p->y.ev.type != YAML_SEQUENCE_START_EVENT)
        return ef_fail_kind(p, what, "a sequence of strings");
    for (;;) {
        if ((rc = cfg_yaml_next(&p->y)) < 0)
            return rc;
        if (p->y.ev.type == YAML_SEQUENCE_END_EVENT)
            break;
        if (p->y.ev.type != YAML_SCALAR_EVENT || cfg_yaml_is_null(&p->y.ev))
            return ef_fail_kind(p, what, "a string");
        if (*n == ATT_TAGS_MAX)
            return cfg_yaml_fail(&p->y, p->y.ev.start_mark,
                                 "%s: more than %d entries", what,
                                 ATT_TAGS_MAX);
        s = cfg_yaml_text(&p->y, &len);
        if ((rc = ef_check_tag(p, what, s, len)) < 0)
            return rc;
        p->tags[*n] = ef_strdup(&p->owner->arena, s, len);
        if (p->tags[*n] == NULL)
            return cfg_yaml_nomem(&p->y);
        (*n)++;
    }
    if (*n == 0)
        return 0;
    v = ef_alloc(&p->owner->arena, *n * sizeof(*v));
    if (v == NULL)
        return cfg_yaml_nomem(&p->y);
    memcpy(v, p->tags, *n * sizeof(*v));
    *list = v;
    return 0;
}

static int ef_id(struct ef *p, struct att_profile *a, uint32_t index)
{
    char q[EF_QUOTE_BYTES];
    const char *s;
    size_t len, slot;

    if (p->y.ev.type != YAML_SCALAR_EVENT || cfg_yaml_is_null(&p->y.ev))
        return ef_fail_kind(p, "id", "a string");
    s = cfg_yaml_text(&p->y, &len);
    cfg_yaml_quote(q, sizeof(q), s, len);
    if (len == 0)
        return cfg_yaml_fail(&p->y, p->y.ev.start_mark, "id: empty");
    if (len > ATT_ID_MAX_BYTES)
        return cfg_yaml_fail(&p->y, p->y.ev.start_mark,
                             "id: '%s' is longer than %d bytes", q,
                             ATT_ID_MAX_BYTES);
    if (strlen(s) != len || roster_check_id(s) != 0)
        return cfg_yaml_fail(&p->y, p->y.ev.start_mark,
                             "id: '%s' must not contain spaces or control "
                             "characters", q);
    if (ef_slots_reserve(p, index + 1) < 0)
        return cfg_yaml_nomem(&p->y);
    slot = ef_slot(p, s);
    if (p->slots[slot] != EF_SLOT_EMPTY)
        return cfg_yaml_fail(&p->y, p->y.ev.start_mark,
                             "duplicate attendee id '%s' (first at line %u)",
                             q, p->att_line[p->slots[slot]]);
    a->id = ef_strdup(&p->owner->arena, s, len);
    if (a->id == NULL)
        return cfg_yaml_nomem(&p->y);
    p->slots[slot] = index;
    p->att_line[index] = (unsigned)p->y.ev.start_mark.line + 1;
    return 0;
}

static int ef_attendee_slot(struct ef *p, struct att_profile **out)
{
    struct cfg_event *ev = p->ev;
    struct att_profile *grown_att;
    unsigned *grown_line;
    size_t cap;

    if (ev->n_attendees == p->max_attendees)
        return cfg_yaml_fail(&p->y, p->y.ev.start_mark,
                             "attendees: more than %u attendees (the limit; "
                             "see --max-attendees)", p->max_attendees);
    if (ev->n_attendees == p->att_cap) {
        cap = p->att_cap ? 2 * p->att_cap : EF_MIN_ATTENDEES_CAP;
        if (cap > p->max_attendees)
            cap = p->max_attendees;
        grown_att = realloc(ev->attendees, cap * sizeof(*grown_att));
        if (grown_att == NULL)
            return cfg_yaml_nomem(&p->y);
        ev->attendees = grown_att;
        grown_line = realloc(p->att_line, cap * sizeof(*grown_line));
        if (grown_line == NULL)
            return cfg_yaml_nomem(&p->y);
        p->att_line = grown_line;
        p->att_cap = cap;
    }
    *out = &ev->attendees[ev->n_attendees];
    memset(*out, 0, sizeof(**out));
    ev->n_attendees++;
    return 0;
}

static int ef_attendee(struct ef *p)
{
    static const size_t req[] = {AK_ID};
    unsigned seen[AK_KEYS] = {0};
    yaml_mark_t start = p->y.ev.start_mark;
    struct att_profile *a = NULL;
    uint32_t index;
    char *text;
    size_t k;
    int rc;

    if ((rc = ef_attendee_slot(p, &a)) < 0)
        return rc;
    index = (uint32_t)(p->ev->n_attendees - 1);
    if (p->y.ev.type != YAML_MAPPING_START_EVENT)
        return ef_fail_kind(p, "attendees", "a mapping with at least 'id'");
    while ((rc = ef_next_key(p, attendee_keys, AK_KEYS, seen, &k)) > 0) {
        switch (k) {
        case AK_ID:
            rc = ef_id(p, a, index);
            break;
        case AK_NAME:
        case AK_COMPANY:
        case AK_INDUSTRY:
            /* The roster trims these and takes blank as unknown. */
            text = NULL;
            rc = ef_text(p, attendee_keys[k], ATT_TEXT_MAX_BYTES, &text);
            if (k == AK_NAME)
                a->name = text;
            else if (k == AK_COMPANY)
                a->company = text;
            else
                a->industry = text;
            break;
        case AK_INTERESTS:
            rc = ef_tags(p, "interests", &a->interests, &a->n_interests);
            break;
        case AK_OFFERS:
            rc = ef_tags(p, "offers", &a->offers, &a->n_offers);
            break;
        default:
            rc = ef_tags(p, "seeks", &a->seeks, &a->n_seeks);
            break;
        }
        if (rc < 0)
            return rc;
    }
    if (rc < 0)
        return rc;
    return ef_require(p, start, "attendee", attendee_keys, seen, req, 1);
}

static int ef_attendees(struct ef *p)
{
    int rc;

    if (p->y.ev.type != YAML_SEQUENCE_START_EVENT)
        return ef_fail_kind(p, "attendees", "a sequence of attendees");
    for (;;) {
        if ((rc = cfg_yaml_next(&p->y)) < 0)
            return rc;
        if (p->y.ev.type == YAML_SEQUENCE_END_EVENT)
            return 0;
        if ((rc = ef_attendee(p)) < 0)
            return rc;
    }
}

/* One [id, id] item of met_before or avoid, its ids kept as written. */
static int ef_pair(struct ef *p, const char *what, struct ef_raw_pair *pair)
{
    yaml_mark_t start = p->y.ev.start_mark;
    char q[EF_QUOTE_BYTES];
    const char *s;
    size_t n = 0, len;
    int rc;

    if (p->y.ev.type != YAML_SEQUENCE_START_EVENT)
        return ef_fail_kind(p, what, "a pair [id, id]");
    pair->at = start;
    for (;;) {
        if ((rc = cfg_yaml_next(&p->y)) < 0)
            return rc;
        if (p->y.ev.type == YAML_SEQUENCE_END_EVENT)
            break;
        if (p->y.ev.type != YAML_SCALAR_EVENT || cfg_yaml_is_null(&p->y.ev))
            return ef_fail_kind(p, what, "an attendee id");
        if (n++ >= 2)
            continue;
        s = cfg_yaml_text(&p->y, &len);
        cfg_yaml_quote(q, sizeof(q), s, len);
        /* No attendee has such an id, and it need not be kept to learn so. */
        if (len > ATT_ID_MAX_BYTES || strlen(s) != len)
            return cfg_yaml_fail(&p->y, p->y.ev.start_mark,
                                 "%s: unknown attendee id '%s'", what, q);
        if (n == 2 && strcmp(pair->id[0], s) == 0)
            return cfg_yaml_fail(&p->y, p->y.ev.start_mark,
                                 "%s: pair names '%s' twice", what, q);
        pair->id[n - 1] = ef_strdup(&p->scratch, s, len);
        if (pair->id[n - 1] == NULL)
            return cfg_yaml_nomem(&p->y);
        pair->mark[n - 1] = p->y.ev.start_mark;
    }
    if (n != 2)
        return cfg_yaml_fail(&p->y, start,
                             "%s: expected a pair of 2 ids, got %zu", what, n);
    return 0;
}

static int ef_pairs(struct ef *p, size_t which)
{
    struct ef_raw_pairs *list = &p->pairs[which];
    struct ef_raw_pair *grown;
    int rc;

    if (cfg_yaml_is_null(&p->y.ev))
        return 0;
    if (p->y.ev.type != YAML_SEQUENCE_START_EVENT)
        return ef_fail_kind(p, pair_keys[which], "a sequence of pairs");
    for (;;) {
        if ((rc = cfg_yaml_next(&p->y)) < 0)
            return rc;
        if (p->y.ev.type == YAML_SEQUENCE_END_EVENT)
            return 0;
        if (list->n == list->cap) {
            size_t cap = list->cap ? 2 * list->cap : 16;

            grown = realloc(list->v, cap * sizeof(*grown));
            if (grown == NULL)
                return cfg_yaml_nomem(&p->y);
            list->v = grown;
            list->cap = cap;
        }
        memset(&list->v[list->n], 0, sizeof(list->v[list->n]));
        list->n++;
        if ((rc = ef_pair(p, pair_keys[which], &list->v[list->n - 1])) < 0)
            return rc;
    }
}

static int ef_weights(struct ef *p)
{
    unsigned seen[WK_KEYS] = {0};
    struct aff_weights *w = &p->ev->weights;
    double *field;
    size_t k;
    int rc;

    if (cfg_yaml_is_null(&p->y.ev))
        return 0;
    if (p->y.ev.type != YAML_MAPPING_START_EVENT)
        return ef_fail_kind(p, "weights", "a mapping");
    while ((rc = ef_next_key(p, weight_keys, WK_KEYS, seen, &k)) > 0) {
        field = k == WK_INTERESTS ? &w->interests
              : k == WK_BUSINESS  ? &w->business
                                  : &w->same_company;
        if ((rc = cfg_yaml_double(&p->y, weight_what[k], field)) < 0)
            return rc;
    }
    return rc;
}

static int ef_event(struct ef *p)
{
    static const size_t req[] = {EVK_ROUNDS, EVK_TABLE_SIZE};
    unsigned seen[EVK_KEYS] = {0};
    yaml_mark_t start = p->y.ev.start_mark;
    struct cfg_event *ev = p->ev;
    uint64_t v = 0;
    size_t k;
    int rc;

    if (p->y.ev.type != YAML_MAPPING_START_EVENT)
        return ef_fail_kind(p, "event", "a mapping");
    while ((rc = ef_next_key(p, event_keys, EVK_KEYS, seen, &k)) > 0) {
        switch (k) {
        case EVK_NAME:
            rc = ef_text(p, "name", ATT_TEXT_MAX_BYTES, &ev->name);
            break;
        case EVK_ROUNDS:
            rc = cfg_yaml_uint(&p->y, "rounds", 1, SCHED_MAX_ROUNDS, &v);
            ev->rounds = (uint32_t)v;
            break;
        case EVK_TABLE_SIZE:
            rc = cfg_yaml_uint(&p->y, "table_size", 2, SCHED_MAX_PEOPLE, &v);
            ev->table_size = (uint32_t)v;
            break;
        case EVK_SEED:
            rc = cfg_yaml_uint(&p->y, "seed", 0, UINT64_MAX, &ev->seed);
            ev->has_seed = true;
            break;
        default:
            rc = ef_weights(p);
            break;
        }
        if (rc < 0)
            return rc;
    }
    if (rc < 0)
        return rc;
    return ef_require(p, start, "event", event_keys, seen, req, 2);
}

static int ef_root(struct ef *p)
{
    static const size_t req[] = {TOP_EVENT, TOP_ATTENDEES};
    unsigned seen[TOP_KEYS] = {0};
    yaml_mark_t start = p->y.ev.start_mark;
    size_t k;
    int rc;

    if (p->y.ev.type != YAML_MAPPING_START_EVENT)
        return cfg_yaml_fail(&p->y, start,
                             "expected a mapping with keys 'event' and "
                             "'attendees', got %s", cfg_yaml_kind(&p->y.ev));
    while ((rc = ef_next_key(p, top_keys, TOP_KEYS, seen, &k)) > 0) {
        switch (k) {
        case TOP_EVENT:
            rc = ef_event(p);
            break;
        case TOP_ATTENDEES:
            rc = ef_attendees(p);
            break;
        default:
            rc = ef_pairs(p, k == TOP_MET_BEFORE ? 0 : 1);
            break;
        }
        if (rc < 0)
            return rc;
    }
    if (rc < 0)
        return rc;
    return ef_require(p, start, NULL, top_keys, seen, req, 2);
}

static int ef_resolve(struct ef *p, size_t which, struct cfg_pair **out,
                      size_t *n_out)
{
    const struct ef_raw_pairs *list = &p->pairs[which];
    char q[EF_QUOTE_BYTES];
    size_t i, j;

    if (list->n == 0)
        return 0;
    *out = malloc(list->n * sizeof(**out));
    if (*out == NULL)
        return cfg_yaml_nomem(&p->y);
    for (i = 0; i < list->n; i++) {
        uint32_t idx[2] = {EF_SLOT_EMPTY, EF_SLOT_EMPTY};

        for (j = 0; j < 2; j++) {
            const char *id = list->v[i].id[j];

            if (p->slots)
                idx[j] = p->slots[ef_slot(p, id)];
            if (idx[j] == EF_SLOT_EMPTY) {
                cfg_yaml_quote(q, sizeof(q), id, strlen(id));
                return cfg_yaml_fail(&p->y, list->v[i].mark[j],
                                     "%s: unknown attendee id '%s'",
                                     pair_keys[which], q);
            }
        }
        (*out)[i].a = idx[0];
        (*out)[i].b = idx[1];
        (*out)[i].line = (unsigned)list->v[i].at.line + 1;
        (*out)[i].column = (unsigned)list->v[i].at.column + 1;
        (*n_out)++;
    }
    return 0;
}

static int ef_parse(struct ef *p)
{
    struct cfg_event *ev = p->ev;
    int rc;

    rc = cfg_yaml_begin(&p->y);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return cfg_yaml_fail(&p->y, p->y.ev.start_mark,
                             "empty file: expected a mapping with keys "
                             "'event' and 'attendees'");
    if ((rc = ef_root(p)) < 0 ||
        (rc = ef_resolve(p, 0, &ev->met_before, &ev->n_met_before)) < 0 ||
        (rc = ef_resolve(p, 1, &ev->avoid, &ev->n_avoid)) < 0)
        return rc;
    if ((rc = cfg_yaml_end(&p->y)) < 0)
        return rc;
    if (ev->name == NULL) {
        ev->name = ef_strdup(&p->owner->arena, "", 0);
        if (ev->name == NULL)
            return cfg_yaml_nomem(&p->y);
    }
    return 0;
}

void cfg_event_free(struct cfg_event *ev)
{
    struct ef_event *owner = (struct ef_event *)ev;

    if (ev == NULL)
        return;
    free(ev->attendees);
    free(ev->met_before);
    free(ev->avoid);
    ef_arena_free(owner->arena);
    free(owner);
}

static size_t ef_max_file_bytes(const struct cfg_limits *lim)
{
    return lim && lim->max_file_bytes ? lim->max_file_bytes
                                      : CFG_DEFAULT_MAX_FILE_BYTES;
}

int cfg_event_parse(const char *buf, size_t len, const char *name,
                    const struct cfg_limits *lim, struct cfg_event **out,
                    struct cfg_error *err)
{
    struct ef p;
    size_t max_bytes = ef_max_file_bytes(lim);
    int rc;

    memset(&p, 0, sizeof(p));
    *out = NULL;
    rc = cfg_yaml_init(&p.y, buf, len, name, err);
    if (rc < 0)
        goto out;
    if (len > max_bytes) {
        snprintf(err->msg, sizeof(err->msg), "file is larger than %zu bytes",
                 max_bytes);
        rc = -EFBIG;
        goto out;
    }
    p.max_attendees = lim && lim->max_attendees ? lim->max_attendees
                                                : CFG_DEFAULT_MAX_ATTENDEES;
    p.owner = calloc(1, sizeof(*p.owner));
    if (p.owner == NULL) {
        rc = cfg_yaml_nomem(&p.y);
        goto out;
    }
    p.ev = &p.owner->pub;
    aff_weights_default(&p.ev->weights);
    rc = ef_parse(&p);
    if (rc == 0) {
        *out = p.ev;
        p.owner = NULL;
    }
out:
    cfg_yaml_fini(&p.y);
    cfg_event_free(p.owner ? &p.owner->pub : NULL);
    ef_arena_free(p.scratch);
    free(p.pairs[0].v);
    free(p.pairs[1].v);
    free(p.att_line);
    free(p.slots);
    return rc;
}

int cfg_event_load(const char *path, const struct cfg_limits *lim,
                   struct cfg_event **out, struct cfg_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    /* A FIFO or device could block forever or never end: regular only. */
    rc = cfg_read_file(path, ef_max_file_bytes(lim), true, &buf, &len, err);
    if (rc == 0)
        rc = cfg_event_parse(buf, len, path, lim, out, err);
    free(buf);
    return rc;
}
