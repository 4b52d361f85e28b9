/* dispatch_mutate.c -- the requests that change state.
 *
 * Each becomes a meetup_request; meetup_prepare() validates it and
 * computes the change, and dispatch_commit() is the one place a change
 * becomes state: on disk first, then in memory, then the events it
 * concerns are due to be planned anew in the background.  NextRound also
 * pushes the round it assigned to the event's subscribers.
 */
#include "dispatch_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frame.h"
#include "log.h"

/* Per request, for the same reason as DISPATCH_MAX_ATTENDEES_PER_REQUEST:
 * an event has no more attendees to check in at once. */
#define DISPATCH_MAX_IDS_PER_REQUEST MEETUP_ATTENDEES_MAX
#define DISPATCH_MAX_PAIRS_PER_REQUEST 1000u
#define DISPATCH_ROUND_FIELD_KEY ((7u << 3) | 2u) /* Response.round, LEN */

static int dispatch_check_count(struct dispatch_fail *f, size_t n, size_t max,
                                const char *what)
{
    if (n > max)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                                 "too many %s in one request", what);
    return 0;
}

/* An optional text: NULL when empty. */
static const char *dispatch_opt_text(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

/* Notes which events' plans `ch` made stale, for dispatch_handle() to
 * plan anew after the response; a closed event stops being planned. */
static void dispatch_plan_note(struct dispatch *d,
                               const struct meetup_change *ch)
{
    uint64_t first = ch->event_id, last = ch->event_id;

    switch (ch->kind) {
    case MEETUP_CH_EVENT_CLOSE:
        if (d->ops->plan != NULL)
            d->ops->plan(d->server, ch->event_id, NULL);
        return;
    case MEETUP_CH_ROUND:
        /* Later events count this round's encounters as history. */
        last = meetup_event_count(d->hub);
        break;
    case MEETUP_CH_FORGET:
        first = 1;
        last = meetup_event_count(d->hub);
        break;
    default:
        break;
    }
    if (d->replan_first == 0 || first < d->replan_first)
        d->replan_first = first;
    if (last > d->replan_last)
        d->replan_last = last;
}

/* THE place a change becomes state.  It is written to disk first and
 * applied in memory only once the commit is durable, so a request is never
 * acknowledged for state a crash would lose.  Returns 0, -EIO when the
 * store failed (the daemon must stop: see DISPATCH_STOP), or -ENOMEM from
 * meetup_apply (memory is then behind the disk: stop as well). */
static int dispatch_commit(struct dispatch *d,
                           const struct meetup_change *change)
{
    int ret;

    if (d->store != NULL) {
        const struct meetup_change *one[1] = {change};

        ret = store_commit(d->store, one, 1);
        if (ret < 0) {
            log_msg(LOG_LEVEL_ERROR, 0, "store: %s", store_error(d->store));
            return -EIO;
        }
    }
    ret = meetup_apply(d->hub, change);
    if (ret == 0)
        dispatch_plan_note(d, change);
    return ret;
}

/* prepare + commit; on failure fills `f`. */
static int dispatch_mutate(struct dispatch *d, const struct meetup_request *mr,
                           struct meetup_change **out, struct dispatch_fail *f)
{
    int ret = meetup_prepare(d->hub, mr, out);

    if (ret < 0)
        return dispatch_fail_set(f, dispatch_errno_code(ret), "%s",
                                 meetup_error(d->hub));
    ret = dispatch_commit(d, *out);
    if (ret < 0) {
        meetup_change_free(*out);
        *out = NULL;
        d->failed = true;
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__UNAVAILABLE,
                                 ret == -EIO ? "storage failed; the daemon "
                                               "stops"
                                             : "out of memory; the daemon "
                                               "stops");
    }
    return 0;
}

/* A seed for an event created without one: splitmix64 over the clock and
 * a counter, so two events created in one second still differ. */
static uint64_t dispatch_pick_seed(struct dispatch *d)
{
    uint64_t x = (uint64_t)time(NULL) ^ (++d->seed_counter << 32);

    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

int dispatch_create_event(struct dispatch *d, const Mingle__V1__CreateEvent *c,
                          Mingle__V1__Response *resp, struct dispatch_fail *f)
{
    struct meetup_request mr = { .op = MEETUP_OP_EVENT_CREATE };
    struct meetup_change *ch;

    mr.event.name = c->name;
    mr.event.table_size = c->table_size;
    mr.event.rounds_planned = c->rounds;
    aff_weights_default(&mr.event.weights);
    if (c->weights != NULL) {
        if (!isfinite(c->weights->interests) ||
            !isfinite(c->weights->business) ||
            !isfinite(c->weights->same_company))
            return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__BAD_REQUEST,
                                     "weights must be finite");
        mr.event.weights.interests = c->weights->interests;
        mr.event.weights.business = c->weights->business;
        mr.event.weights.same_company = c->weights->same_company;
    }
    mr.event.seed = c->seed_set ? c->seed : dispatch_pick_seed(d);
    if (c->history != NULL) {
        if ((unsigned)c->history->kind >
            (unsigned)MINGLE__V1__HISTORY_SCOPE__KIND__SINCE)
            return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__BAD_REQUEST,
                                     "bad history kind");
        mr.event.history.kind = (enum meetup_scope_kind)c->history->kind;
        mr.event.history.last_events = c->history->last_events;
        mr.event.history.since_unix = c->history->since_unix;
    }
    mr.event.created_unix = (int64_t)time(NULL);
    if (dispatch_mutate(d, &mr, &ch, f) < 0)
        return -1;
    resp->event = dispatch_event_info_msg(d, ch->event_id);
    meetup_change_free(ch);
    if (resp->event == NULL)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                                 "event created but not reportable");
    resp->body_case = MINGLE__V1__RESPONSE__BODY_EVENT;
    return 0;
}

static int dispatch_do_upsert(struct dispatch *d,
                              const Mingle__V1__UpsertAttendees *u,
                              struct meetup_request *mr,
                              struct dispatch_fail *f)
{
    struct att_profile *p;
    size_t i;

    if (dispatch_check_event_id(f, u->event_id) < 0 ||
        dispatch_check_count(f, u->n_attendees,
                             DISPATCH_MAX_ATTENDEES_PER_REQUEST,
                             "attendees") < 0)
        return -1;
    p = dispatch_out_alloc(d, (u->n_attendees + 1) * sizeof(*p));
    if (p == NULL)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                                 "out of memory");
    for (i = 0; i < u->n_attendees; i++) {
        const Mingle__V1__Attendee *a = u->attendees[i];

        if (dispatch_check_id(f, a->id) < 0 ||
            dispatch_check_count(f, a->n_interests, ATT_TAGS_MAX,
                                 "interests") < 0 ||
            dispatch_check_count(f, a->n_offers, ATT_TAGS_MAX, "offers") < 0 ||
            dispatch_check_count(f, a->n_seeks, ATT_TAGS_MAX, "seeks") < 0)
            return -1;
        p[i] = (struct att_profile){
            .id = a->id,
            .name = dispatch_opt_text(a->name),
            .company = dispatch_opt_text(a->company),
            .industry = dispatch_opt_text(a->industry),
            .interests = (const char *const *)a->interests,
            .n_interests = a->n_interests,
            .offers = (const char *const *)a->offers,
            .n_offers = a->n_offers,
            .seeks = (const char *const *)a->seeks,
            .n_seeks = a->n_seeks,
        };
    }
    mr->op = MEETUP_OP_UPSERT;
    mr->event_id = u->event_id;
    mr->profiles = p;
    mr->n_profiles = u->n_attendees;
    return 0;
}

static int dispatch_do_ids(uint64_t event_id, char **ids, size_t n,
                           struct meetup_request *mr, struct dispatch_fail *f)
{
    size_t i;

    if (dispatch_check_event_id(f, event_id) < 0 ||
        dispatch_check_count(f, n, DISPATCH_MAX_IDS_PER_REQUEST,
                             "attendee ids") < 0)
        return -1;
    for (i = 0; i < n; i++) {
        if (dispatch_check_id(f, ids[i]) < 0)
            return -1;
    }
    mr->event_id = event_id;
    mr->ids = (const char *const *)ids;
    mr->n_ids = n;
    return 0;
}

static int dispatch_do_pairs(struct dispatch *d, const Mingle__V1__AddPairs *a,
                             struct meetup_request *mr, struct dispatch_fail *f)
{
    struct meetup_pair *pairs;
    size_t i;

    if (dispatch_check_event_id(f, a->event_id) < 0 ||
        dispatch_check_count(f, a->n_pairs, DISPATCH_MAX_PAIRS_PER_REQUEST,
                             "pairs") < 0)
        return -1;
    if (a->kind != MINGLE__V1__PAIR_KIND__MET_BEFORE &&
        a->kind != MINGLE__V1__PAIR_KIND__AVOID)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__BAD_REQUEST,
                                 "pair kind must be MET_BEFORE or AVOID");
    pairs = dispatch_out_alloc(d, (a->n_pairs + 1) * sizeof(*pairs));
    if (pairs == NULL)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                                 "out of memory");
    for (i = 0; i < a->n_pairs; i++) {
        if (dispatch_check_id(f, a->pairs[i]->a) < 0 ||
            dispatch_check_id(f, a->pairs[i]->b) < 0)
            return -1;
        pairs[i].a = a->pairs[i]->a;
        pairs[i].b = a->pairs[i]->b;
    }
    mr->op = MEETUP_OP_PAIRS_ADD;
    mr->event_id = a->event_id;
    mr->pair_kind = a->kind == MINGLE__V1__PAIR_KIND__AVOID
                        ? MEETUP_PAIR_AVOID
                        : MEETUP_PAIR_MET_BEFORE;
    mr->pairs = pairs;
    mr->n_pairs = a->n_pairs;
    return 0;
}

/* The mutations answered with Ack. */
int dispatch_ack_mutation(struct dispatch *d, const Mingle__V1__Request *req,
                          Mingle__V1__Response *resp, struct dispatch_fail *f)
{
    struct meetup_request mr = { 0 };
    struct meetup_event_info info;
    struct meetup_change *ch;
    Mingle__V1__Ack *ack;
    int ret = -1;

    switch (req->body_case) {
    case MINGLE__V1__REQUEST__BODY_UPSERT_ATTENDEES:
        ret = dispatch_do_upsert(d, req->upsert_attendees, &mr, f);
        break;
    case MINGLE__V1__REQUEST__BODY_REMOVE_ATTENDEE:
        mr.op = MEETUP_OP_REMOVE;
        ret = dispatch_do_ids(req->remove_attendee->event_id,
                     &req->remove_attendee->attendee_id, 1, &mr, f);
        break;
    case MINGLE__V1__REQUEST__BODY_CHECK_IN:
        mr.op = MEETUP_OP_CHECK_IN;
        ret = dispatch_do_ids(req->check_in->event_id,
                              req->check_in->attendee_ids,
                              req->check_in->n_attendee_ids, &mr, f);
        break;
    case MINGLE__V1__REQUEST__BODY_CHECK_OUT:
        mr.op = MEETUP_OP_CHECK_OUT;
        ret = dispatch_do_ids(req->check_out->event_id,
                              req->check_out->attendee_ids,
                              req->check_out->n_attendee_ids, &mr, f);
        break;
    case MINGLE__V1__REQUEST__BODY_ADD_PAIRS:
        ret = dispatch_do_pairs(d, req->add_pairs, &mr, f);
        break;
    case MINGLE__V1__REQUEST__BODY_FORGET_ATTENDEE:
        mr.op = MEETUP_OP_FORGET;
        ret = dispatch_check_id(f, req->forget_attendee->attendee_id);
        mr.ids = (const char *const *)&req->forget_attendee->attendee_id;
        mr.n_ids = 1;
        break;
    default:
        break;
    }
    if (ret < 0 || dispatch_mutate(d, &mr, &ch, f) < 0)
        return -1;
    DISPATCH_OUT_NEW(d, ack, Mingle__V1__Ack, MINGLE__V1__ACK__INIT);
    if (ack != NULL) {
        ack->count = ch->count;
        if (mr.event_id != 0 &&
            meetup_event_info(d->hub, mr.event_id, &info) == 0)
            ack->present = info.present;
    }
    meetup_change_free(ch);
    resp->body_case = MINGLE__V1__RESPONSE__BODY_ACK;
    resp->ack = ack;
    return 0;
}

/* Answers a NextRound and pushes the same RoundAssigned bytes to the
 * event's subscribers: encoded once, as the Response's `round` field. */
int dispatch_next_round(struct dispatch *d, void *peer,
                        const Mingle__V1__Request *req, struct dispatch_fail *f)
{
    struct meetup_request mr = { .op = MEETUP_OP_NEXT_ROUND };
    struct meetup_schedule *s = NULL;
    struct meetup_change *ch = NULL;
    Mingle__V1__RoundAssigned *m;
    uint8_t *buf = NULL;
    size_t body, klen, flen, total, off;
    /* id key and varint, round key and length */
    uint8_t key[2 * (1 + FRAME_PREFIX_MAX_BYTES)];
    int ret = -1;

    mr.event_id = req->next_round->event_id;
    mr.now_unix = (int64_t)time(NULL);
    if (dispatch_check_event_id(f, mr.event_id) < 0 ||
        dispatch_mutate(d, &mr, &ch, f) < 0)
        goto out;
    if (meetup_schedule_get(d->hub, mr.event_id, ch->round.round, &s) < 0 ||
        s->n_rounds != 1 ||
        (m = dispatch_round_msg(d, mr.event_id, &s->rounds[0])) == NULL) {
        dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__INTERNAL,
                          "round assigned but not reportable");
        goto out;
    }
    body = mingle__v1__round_assigned__get_packed_size(m);
    /* id field, then the round field: key, length, message. */
    klen = 0;
    if (req->id != 0) {
        key[klen++] = DISPATCH_ID_FIELD_KEY;
        klen += frame_put_prefix(key + klen, req->id);
    }
    flen = 1 + frame_put_prefix(key + klen + 1, body);
    key[klen] = DISPATCH_ROUND_FIELD_KEY;
    total = klen + flen + body;
    buf = malloc(FRAME_PREFIX_MAX_BYTES + total);
    if (buf == NULL) {
        dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                          "out of memory");
        goto out;
    }
    off = frame_put_prefix(buf, total);
    memcpy(buf + off, key, klen + flen);
    mingle__v1__round_assigned__pack(m, buf + off + klen + flen);
    d->ops->send(peer, buf, off + total);
    d->ops->publish(d->server, mr.event_id, buf + off + klen, flen + body);
    ret = 0;
out:
    free(buf);
    meetup_schedule_free(s);
    meetup_change_free(ch);
    return ret;
}

int dispatch_close_event(struct dispatch *d, uint64_t event_id,
                         Mingle__V1__Response *resp, struct dispatch_fail *f)
{
    struct meetup_request mr = { .op = MEETUP_OP_EVENT_CLOSE };
    struct meetup_change *ch;

    mr.event_id = event_id;
    if (dispatch_check_event_id(f, event_id) < 0 ||
        dispatch_mutate(d, &mr, &ch, f) < 0)
        return -1;
    meetup_change_free(ch);
    return dispatch_event(d, event_id, resp, f);
}
