/* meetup.c -- the hub: events, the change arena, and the mutations other
 * than rounds.
 *
 * prepare() never writes the state (it may fill the lazily built caches:
 * affinity models and plans); apply() trusts what prepare() checked and
 * only re-checks what a replay out of order could break.
 */
#include "meetup_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MU_CHUNK_BYTES 4096

/* ---- arena ---- */

struct mu_chunk {
    struct mu_chunk *next;
    size_t used;
    size_t cap;
    max_align_t data[];
};

void *mu_alloc(void **arena, size_t size)
{
    struct mu_chunk *c = *arena;
    size_t align = sizeof(max_align_t);

    /* Sizes come from request counts: refuse what cannot be rounded up
     * or would overflow the chunk header, rather than wrap around. */
    if (size > SIZE_MAX - sizeof(*c) - align)
        return NULL;
    size = (size + align - 1) / align * align;
    if (size == 0)
        size = align;
    if (c == NULL || c->cap - c->used < size) {
        size_t cap = size > MU_CHUNK_BYTES ? size : MU_CHUNK_BYTES;
        struct mu_chunk *n = calloc(1, sizeof(*n) + cap);

        if (n == NULL)
            return NULL;
        n->cap = cap;
        n->next = c;
        *arena = n;
        c = n;
    }
    c->used += size;
    return (char *)c->data + c->used - size;
}

char *mu_strdup(void **arena, const char *s)
{
    size_t len;
    char *p;

    if (s == NULL)
        return NULL;
    len = strlen(s);
    p = mu_alloc(arena, len + 1);
    if (p != NULL)
        memcpy(p, s, len + 1);
    return p;
}

void mu_arena_free(void *arena)
{
    struct mu_chunk *c = arena;

    while (c != NULL) {
        struct mu_chunk *next = c->next;

        free(c);
        c = next;
    }
}

int mu_fail(struct meetup *hub, int ret, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(hub->err, sizeof(hub->err), fmt, ap);
    va_end(ap);
    return ret;
}

const char *meetup_error(const struct meetup *hub)
{
    return hub->err;
}

/* ---- events ---- */

struct mu_event *mu_event_find(const struct meetup *hub, uint64_t id)
{
    if (id == 0 || id > hub->n_events)
        return NULL;
    return hub->events[id - 1];
}

const struct aff_model *mu_event_model(struct mu_event *ev)
{
    if (ev->aff == NULL)
        ev->aff = aff_model_new(ev->roster, &ev->def.weights);
    return ev->aff;
}

void mu_plan_clear(struct mu_plan *plan)
{
    sched_result_free(plan->res);
    free(plan->people);
    plan->res = NULL;
    plan->people = NULL;
    plan->background = false;
    plan->has_quality = false;
}

/* The plan stays: a new generation makes it unusable (mu_plan_usable),
 * yet the next search starts from its seats. */
void mu_event_touch(struct mu_event *ev)
{
    ev->gen++;
    aff_model_free(ev->aff);
    ev->aff = NULL;
    ev->score.valid = false;
    ev->views_epoch++;
    mu_views_clear(&ev->views);
    mu_preview_clear(&ev->preview);
}

const char *mu_seat_id(const struct meetup *hub, const struct mu_event *ev,
                       uint32_t idx)
{
    const struct mu_person *p = &hub->persons[ev->person_of[idx]];

    return p->forgotten ? p->id : roster_get(ev->roster, idx)->id;
}

const char *mu_seat_name(const struct meetup *hub, const struct mu_event *ev,
                         uint32_t idx)
{
    const struct mu_person *p = &hub->persons[ev->person_of[idx]];

    return p->forgotten ? p->id : roster_get(ev->roster, idx)->name;
}

bool mu_in_scope(const struct meetup *hub, const struct mu_event *ev,
                 uint32_t enc_event)
{
    uint64_t e = ev->id - 1;

    if (enc_event >= e)
        return false;
    switch (ev->def.history.kind) {
    case MEETUP_SCOPE_ALL:
        return true;
    case MEETUP_SCOPE_LAST_EVENTS:
        return e - enc_event <= ev->def.history.last_events;
    case MEETUP_SCOPE_SINCE:
        return hub->events[enc_event]->def.created_unix >=
               ev->def.history.since_unix;
    case MEETUP_SCOPE_NONE:
        break;
    }
    return false;
}

static void mu_event_free(struct mu_event *ev)
{
    uint32_t r;

    if (ev == NULL)
        return;
    mu_plan_clear(&ev->plan);
    mu_event_met_clear(ev);
    aff_model_free(ev->aff);
    mu_views_clear(&ev->views);
    mu_preview_clear(&ev->preview);
    for (r = 0; r < ev->n_rounds; r++) {
        free(ev->rounds[r].people);
        free(ev->rounds[r].table_of);
    }
    free(ev->rounds);
    free(ev->present);
    free(ev->person_of);
    pairset_free(ev->met_before);
    pairset_free(ev->avoid);
    roster_free(ev->roster);
    free((char *)ev->def.name);
    free(ev);
}

struct meetup *meetup_new(void)
{
    return calloc(1, sizeof(struct meetup));
}

void meetup_free(struct meetup *hub)
{
    size_t i;

    if (hub == NULL)
        return;
    for (i = 0; i < hub->n_events; i++)
        mu_event_free(hub->events[i]);
    free(hub->events);
    for (i = 0; i < hub->n_persons; i++)
        free(hub->persons[i].id);
    free(hub->persons);
    free(hub->pmap);
    free(hub->enc);
    free(hub);
}

void meetup_change_free(struct meetup_change *ch)
{
    if (ch == NULL)
        return;
    free(ch->round.people);
    free(ch->round.table_of);
    mu_arena_free(ch->arena);
    free(ch);
}

/* ---- validation ---- */

/* Optional free text by the roster's rule, so that apply never meets a
 * text roster_upsert() refuses. */
static bool mu_text_ok(const char *s, size_t max)
{
    size_t len;

    if (s == NULL)
        return true;
    len = strnlen(s, max + 1);
    return len <= max && roster_text_ok(s, len);
}

static int mu_check_profile(struct meetup *hub, const struct att_profile *p)
{
    int ret;

    if (p->id == NULL || roster_check_id(p->id) < 0)
        return mu_fail(hub, -EINVAL, "bad attendee id");
    if (!mu_text_ok(p->name, ATT_TEXT_MAX_BYTES) ||
        !mu_text_ok(p->company, ATT_TEXT_MAX_BYTES) ||
        !mu_text_ok(p->industry, ATT_TEXT_MAX_BYTES))
        return mu_fail(hub, -EINVAL, "attendee %s: bad name, company or "
                       "industry", p->id);
    ret = roster_check_tags(p->interests, p->n_interests);
    if (ret == 0)
        ret = roster_check_tags(p->offers, p->n_offers);
    if (ret == 0)
        ret = roster_check_tags(p->seeks, p->n_seeks);
    if (ret == -EINVAL)
        return mu_fail(hub, ret, "attendee %s: bad tag list", p->id);
    return ret;
}

static int mu_check_def(struct meetup *hub, const struct meetup_event_def *d)
{
    if (d->name == NULL || d->name[0] == '\0' ||
        !mu_text_ok(d->name, MEETUP_NAME_MAX_BYTES))
        return mu_fail(hub, -EINVAL, "event name: 1..%d bytes of text",
                       MEETUP_NAME_MAX_BYTES);
    if (d->table_size < 2 || d->table_size > MEETUP_TABLE_SIZE_MAX)
        return mu_fail(hub, -EINVAL, "table_size: 2..%d",
                       MEETUP_TABLE_SIZE_MAX);
    if (d->rounds_planned < 1 || d->rounds_planned > MEETUP_ROUNDS_MAX)
        return mu_fail(hub, -EINVAL, "rounds: 1..%d", MEETUP_ROUNDS_MAX);
    if (d->history.kind > MEETUP_SCOPE_SINCE)
        return mu_fail(hub, -EINVAL, "bad history scope");
    return 0;
}

/* A live attendee of `ev`: 0 with *idx, or -ENOENT / -EINVAL. */
static int mu_live(struct meetup *hub, const struct mu_event *ev,
                   const char *id, uint32_t *idx)
{
    if (id == NULL || roster_check_id(id) < 0)
        return mu_fail(hub, -EINVAL, "bad attendee id");
    if (roster_find(ev->roster, id, idx) < 0 ||
        roster_get(ev->roster, *idx)->removed)
        return mu_fail(hub, -ENOENT, "no attendee %s in event %llu", id,
                       (unsigned long long)ev->id);
    return 0;
}

/* ---- copying a request into a change ---- */

static char **mu_copy_strv(void **arena, const char *const *v, size_t n)
{
    char **out = mu_alloc(arena, (n ? n : 1) * sizeof(*out));
    size_t i;

    if (out == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        out[i] = mu_strdup(arena, v[i]);
        if (out[i] == NULL && v[i] != NULL)
            return NULL;
    }
    return out;
}

static int mu_copy_profile(void **arena, struct att_profile *dst,
                           const struct att_profile *src)
{
    dst->id = mu_strdup(arena, src->id);
    dst->name = mu_strdup(arena, src->name);
    dst->company = mu_strdup(arena, src->company);
    dst->industry = mu_strdup(arena, src->industry);
    dst->interests = (const char *const *)mu_copy_strv(arena, src->interests,
                                                       src->n_interests);
    dst->offers = (const char *const *)mu_copy_strv(arena, src->offers,
                                                    src->n_offers);
    dst->seeks = (const char *const *)mu_copy_strv(arena, src->seeks,
                                                   src->n_seeks);
    dst->n_interests = src->n_interests;
    dst->n_offers = src->n_offers;
    dst->n_seeks = src->n_seeks;
    if (dst->id == NULL || (src->name && !dst->name) ||
        (src->company && !dst->company) ||
        (src->industry && !dst->industry) || !dst->interests ||
        !dst->offers || !dst->seeks)
        return -ENOMEM;
    return 0;
}

static int mu_prepare_ids(struct meetup *hub, struct mu_event *ev,
                          const struct meetup_request *req,
                          struct meetup_change *ch)
{
    size_t i;
    uint32_t idx;
    int ret;

    if (req->n_ids == 0 || req->ids == NULL ||
        (req->op == MEETUP_OP_REMOVE && req->n_ids != 1))
        return mu_fail(hub, -EINVAL, "no attendee ids");
    for (i = 0; i < req->n_ids; i++) {
        ret = mu_live(hub, ev, req->ids[i], &idx);
        if (ret < 0)
            return ret;
        if ((req->op == MEETUP_OP_CHECK_IN) != (ev->present[idx] != 0))
            ch->count++;
    }
    if (req->op == MEETUP_OP_REMOVE)
        ch->count = 1;
    ch->ids = mu_copy_strv(&ch->arena, req->ids, req->n_ids);
    ch->n_ids = req->n_ids;
    return ch->ids == NULL ? -ENOMEM : 0;
}

static int mu_prepare_pairs(struct meetup *hub, struct mu_event *ev,
                            const struct meetup_request *req,
                            struct meetup_change *ch)
{
    const struct pairset *set = req->pair_kind == MEETUP_PAIR_AVOID
                                    ? ev->avoid : ev->met_before;
    size_t i;
    int ret;

    if (req->pair_kind != MEETUP_PAIR_MET_BEFORE &&
        req->pair_kind != MEETUP_PAIR_AVOID)
        return mu_fail(hub, -EINVAL, "bad pair kind");
    if (req->n_pairs == 0 || req->pairs == NULL)
        return mu_fail(hub, -EINVAL, "no pairs");
    ch->pairs = mu_alloc(&ch->arena, req->n_pairs * sizeof(*ch->pairs));
    if (ch->pairs == NULL)
        return -ENOMEM;
    for (i = 0; i < req->n_pairs; i++) {
        uint32_t a, b;

        ret = mu_live(hub, ev, req->pairs[i].a, &a);
        if (ret == 0)
            ret = mu_live(hub, ev, req->pairs[i].b, &b);
        if (ret < 0)
            return ret;
        if (a == b)
            return mu_fail(hub, -EINVAL, "pair of %s with itself",
                           req->pairs[i].a);
        if (!pairset_has(set, a, b))
            ch->count++;
        ch->pairs[i].a = mu_strdup(&ch->arena, req->pairs[i].a);
        ch->pairs[i].b = mu_strdup(&ch->arena, req->pairs[i].b);
        if (ch->pairs[i].a == NULL || ch->pairs[i].b == NULL)
            return -ENOMEM;
    }
    ch->n_pairs = req->n_pairs;
    ch->pair_kind = req->pair_kind;
    return 0;
}

uint32_t meetup_attendees_max(uint32_t table_size)
{
    uint64_t by_pairs = table_size > 1 ? 2ull * MEETUP_ROUND_PAIRS_MAX /
                                             (table_size - 1)
                                       : MEETUP_ATTENDEES_MAX;

    return by_pairs < MEETUP_ATTENDEES_MAX ? (uint32_t)by_pairs
                                           : MEETUP_ATTENDEES_MAX;
}

/* -ENOSPC when the upsert would take the event past its attendee limit.
 * An id twice in one batch counts twice: the limit errs on the safe side
 * rather than building a set per request. */
static int mu_check_growth(struct meetup *hub, const struct mu_event *ev,
                           const struct meetup_request *req)
{
    uint32_t max = meetup_attendees_max(ev->def.table_size), idx;
    uint64_t live = roster_live(ev->roster);
    size_t i;

    for (i = 0; i < req->n_profiles; i++) {
        if (roster_find(ev->roster, req->profiles[i].id, &idx) < 0 ||
            roster_get(ev->roster, idx)->removed)
            live++;
    }
    if (live > max)
        return mu_fail(hub, -ENOSPC, "an event at tables of %u holds at "
                       "most %u attendees (a round seats at most %u pairs)",
                       ev->def.table_size, max, MEETUP_ROUND_PAIRS_MAX);
    return 0;
}

static int mu_prepare_event_op(struct meetup *hub,
                               const struct meetup_request *req,
                               struct meetup_change *ch)
{
    struct mu_event *ev = mu_event_find(hub, req->event_id);
    size_t i;
    int ret;

    if (ev == NULL)
        return mu_fail(hub, -ENOENT, "no event %llu",
                       (unsigned long long)req->event_id);
    if (ev->closed)
        return mu_fail(hub, -EPERM, "event %llu is closed",
                       (unsigned long long)req->event_id);
    ch->event_id = ev->id;
    switch (req->op) {
    case MEETUP_OP_EVENT_CLOSE:
        ch->kind = MEETUP_CH_EVENT_CLOSE;
        ch->count = 1;
        return 0;
    case MEETUP_OP_UPSERT:
        ch->kind = MEETUP_CH_UPSERT;
        if (req->n_profiles == 0 || req->profiles == NULL)
            return mu_fail(hub, -EINVAL, "no attendees");
        for (i = 0; i < req->n_profiles; i++) {
            uint32_t idx;

            ret = mu_check_profile(hub, &req->profiles[i]);
            if (ret < 0)
                return ret;
            /* The tombstone's seat in earlier rounds is the forgotten
             * person's; a newcomer must not inherit it. */
            if (roster_find(ev->roster, req->profiles[i].id, &idx) == 0 &&
                hub->persons[ev->person_of[idx]].forgotten)
                return mu_fail(hub, -EPERM, "id %s was forgotten in this "
                               "event; use another id", req->profiles[i].id);
        }
        ret = mu_check_growth(hub, ev, req);
        if (ret < 0)
            return ret;
        ch->profiles = mu_alloc(&ch->arena,
                                req->n_profiles * sizeof(*ch->profiles));
        if (ch->profiles == NULL)
            return -ENOMEM;
        for (i = 0; i < req->n_profiles; i++) {
            if (mu_copy_profile(&ch->arena, &ch->profiles[i],
                                &req->profiles[i]) < 0)
                return -ENOMEM;
        }
        ch->n_profiles = req->n_profiles;
        ch->count = (uint32_t)req->n_profiles;
        return 0;
    case MEETUP_OP_REMOVE:
        ch->kind = MEETUP_CH_REMOVE;
        return mu_prepare_ids(hub, ev, req, ch);
    case MEETUP_OP_CHECK_IN:
        ch->kind = MEETUP_CH_CHECK_IN;
        return mu_prepare_ids(hub, ev, req, ch);
    case MEETUP_OP_CHECK_OUT:
        ch->kind = MEETUP_CH_CHECK_OUT;
        return mu_prepare_ids(hub, ev, req, ch);
    case MEETUP_OP_PAIRS_ADD:
        ch->kind = MEETUP_CH_PAIRS_ADD;
        return mu_prepare_pairs(hub, ev, req, ch);
    case MEETUP_OP_NEXT_ROUND:
        ch->kind = MEETUP_CH_ROUND;
        return mu_prepare_round(hub, ev, req->now_unix, ch);
    default:
        break;
    }
    return mu_fail(hub, -EINVAL, "bad operation");
}

/* Events where `id` has a profile that is not removed: what forgetting
 * the person deletes, so the organizer's acknowledgement can say it. */
static uint32_t mu_profile_events(const struct meetup *hub, const char *id)
{
    uint32_t n = 0, idx;

    for (size_t i = 0; i < hub->n_events; i++) {
        const struct roster *r = hub->events[i]->roster;

        if (roster_find(r, id, &idx) == 0 && !roster_get(r, idx)->removed)
            n++;
    }
    return n;
}

int meetup_prepare(struct meetup *hub, const struct meetup_request *req,
                   struct meetup_change **out)
{
    struct meetup_change *ch = calloc(1, sizeof(*ch));
    int ret;

    *out = NULL;
    hub->err[0] = '\0';
    if (ch == NULL)
        return -ENOMEM;
    switch (req->op) {
    case MEETUP_OP_EVENT_CREATE:
        ch->kind = MEETUP_CH_EVENT_CREATE;
        ret = mu_check_def(hub, &req->event);
        if (ret < 0)
            break;
        if (hub->n_events >= MEETUP_EVENTS_MAX) {
            ret = mu_fail(hub, -EPERM, "too many events");
            break;
        }
        ch->event_id = hub->n_events + 1;
        ch->event = req->event;
        ch->event.name = mu_strdup(&ch->arena, req->event.name);
        ch->count = 1;
        ret = ch->event.name == NULL ? -ENOMEM : 0;
        break;
    case MEETUP_OP_FORGET:
        ch->kind = MEETUP_CH_FORGET;
        if (req->n_ids != 1 || req->ids == NULL || req->ids[0] == NULL ||
            roster_check_id(req->ids[0]) < 0) {
            ret = mu_fail(hub, -EINVAL, "bad attendee id");
            break;
        }
        if (mu_person_find(hub, req->ids[0]) == MU_NO_INDEX) {
            ret = mu_fail(hub, -ENOENT, "no person %s", req->ids[0]);
            break;
        }
        ch->ids = mu_copy_strv(&ch->arena, req->ids, 1);
        ch->n_ids = 1;
        ch->count = mu_profile_events(hub, req->ids[0]);
        ret = ch->ids == NULL ? -ENOMEM : 0;
        break;
    default:
        ret = mu_prepare_event_op(hub, req, ch);
        break;
    }
    if (ret == -ENOMEM)
        mu_fail(hub, ret, "out of memory");
    if (ret < 0) {
        meetup_change_free(ch);
        return ret;
    }
    *out = ch;
    return 0;
}

/* ---- apply ---- */

static int mu_apply_create(struct meetup *hub, const struct meetup_change *ch)
{
    struct mu_event *ev;

    if (ch->event_id != hub->n_events + 1)
        return -EINVAL;
    if (hub->n_events == hub->events_cap) {
        size_t cap = hub->events_cap ? hub->events_cap * 2 : 16;
        struct mu_event **ne = realloc(hub->events, cap * sizeof(*ne));

        if (ne == NULL)
            return -ENOMEM;
        hub->events = ne;
        hub->events_cap = cap;
    }
    ev = calloc(1, sizeof(*ev));
    if (ev == NULL)
        return -ENOMEM;
    ev->id = ch->event_id;
    ev->def = ch->event;
    ev->def.name = strdup(ch->event.name);
    ev->roster = roster_new();
    ev->met_before = pairset_new();
    ev->avoid = pairset_new();
    if (ev->def.name == NULL || ev->roster == NULL ||
        ev->met_before == NULL || ev->avoid == NULL) {
        mu_event_free(ev);
        return -ENOMEM;
    }
    hub->events[hub->n_events++] = ev;
    return 0;
}

static int mu_event_reserve(struct mu_event *ev, uint32_t need)
{
    uint8_t *np;
    uint32_t *npo;
    uint32_t cap;

    if (need <= ev->cap)
        return 0;
    cap = ev->cap ? ev->cap : 64;
    while (cap < need)
        cap *= 2;
    np = realloc(ev->present, cap);
    if (np == NULL)
        return -ENOMEM;
    ev->present = np;
    npo = realloc(ev->person_of, cap * sizeof(*npo));
    if (npo == NULL)
        return -ENOMEM;
    ev->person_of = npo;
    memset(ev->present + ev->cap, 0, cap - ev->cap);
    ev->cap = cap;
    return 0;
}

static int mu_apply_upsert(struct meetup *hub, struct mu_event *ev,
                           const struct meetup_change *ch)
{
    size_t i;
    int ret;

    mu_event_touch(ev);
    mu_event_met_clear(ev);
    for (i = 0; i < ch->n_profiles; i++) {
        uint32_t idx, person;

        ret = roster_upsert(ev->roster, &ch->profiles[i], &idx);
        if (ret < 0)
            return ret;
        ret = mu_event_reserve(ev, idx + 1);
        if (ret == 0)
            ret = mu_person_get(hub, ch->profiles[i].id, &person);
        if (ret < 0)
            return ret;
        ev->person_of[idx] = person;
    }
    return 0;
}

static void mu_set_present(struct mu_event *ev, uint32_t idx, bool on)
{
    if ((ev->present[idx] != 0) == on)
        return;
    ev->present[idx] = on;
    if (on)
        ev->n_present++;
    else
        ev->n_present--;
    ev->gen++;
}

static int mu_apply_ids(struct mu_event *ev, const struct meetup_change *ch)
{
    size_t i;

    for (i = 0; i < ch->n_ids; i++) {
        uint32_t idx;

        if (roster_find(ev->roster, ch->ids[i], &idx) < 0)
            return -EINVAL;
        if (ch->kind == MEETUP_CH_REMOVE) {
            mu_set_present(ev, idx, false);
            roster_remove(ev->roster, ch->ids[i]);
            mu_event_touch(ev);
        } else {
            mu_set_present(ev, idx, ch->kind == MEETUP_CH_CHECK_IN);
        }
    }
    return 0;
}

static int mu_apply_pairs(struct mu_event *ev, const struct meetup_change *ch)
{
    struct pairset *set = ch->pair_kind == MEETUP_PAIR_AVOID
                              ? ev->avoid : ev->met_before;
    size_t i;

    mu_event_touch(ev);
    for (i = 0; i < ch->n_pairs; i++) {
        uint32_t a, b;
        int ret;

        if (roster_find(ev->roster, ch->pairs[i].a, &a) < 0 ||
            roster_find(ev->roster, ch->pairs[i].b, &b) < 0)
            return -EINVAL;
        ret = pairset_add(set, a, b);
        if (ret == 0 && set == ev->met_before && ev->met != NULL)
            ret = pairset_add(ev->met, a, b);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* The profile goes from every roster (a bare tombstone stays so indices
 * held by rounds stay valid); the person keeps their encounters under a
 * token, and the id is free for someone new. */
static int mu_apply_forget(struct meetup *hub, const struct meetup_change *ch)
{
    const char *id = ch->ids[0];
    uint32_t person = mu_person_find(hub, id);
    struct att_profile bare = { .id = id };
    size_t e;

    if (person == MU_NO_INDEX)
        return -EINVAL;
    for (e = 0; e < hub->n_events; e++) {
        struct mu_event *ev = hub->events[e];
        uint32_t idx;
        int ret;

        if (roster_find(ev->roster, id, &idx) < 0 ||
            ev->person_of[idx] != person)
            continue;
        mu_set_present(ev, idx, false);
        ret = roster_upsert(ev->roster, &bare, NULL);
        if (ret < 0)
            return ret;
        roster_remove(ev->roster, id);
        mu_event_touch(ev);
    }
    return mu_person_forget(hub, person);
}

int meetup_apply(struct meetup *hub, const struct meetup_change *ch)
{
    struct mu_event *ev;

    if (ch->kind == MEETUP_CH_EVENT_CREATE)
        return mu_apply_create(hub, ch);
    if (ch->kind == MEETUP_CH_FORGET)
        return mu_apply_forget(hub, ch);
    ev = mu_event_find(hub, ch->event_id);
    if (ev == NULL)
        return -EINVAL;
    switch (ch->kind) {
    case MEETUP_CH_EVENT_CLOSE:
        ev->closed = true;
        mu_plan_clear(&ev->plan);
        return 0;
    case MEETUP_CH_UPSERT:
        return mu_apply_upsert(hub, ev, ch);
    case MEETUP_CH_REMOVE:
    case MEETUP_CH_CHECK_IN:
    case MEETUP_CH_CHECK_OUT:
        return mu_apply_ids(ev, ch);
    case MEETUP_CH_PAIRS_ADD:
        return mu_apply_pairs(ev, ch);
    case MEETUP_CH_ROUND:
        return mu_apply_round(hub, ev, ch);
    default:
        break;
    }
    return -EINVAL;
}
