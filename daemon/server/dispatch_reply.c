/* dispatch_reply.c -- query responses built from the engine's views.
 *
 * Messages are allocated in the request's `out` arena and point at the
 * hub's strings (or at the view kept in the dispatch_reply until the
 * response is sent), so building a response copies no text.
 */
#include "dispatch_impl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

#define DISPATCH_HISTORY_DEFAULT_LIMIT 1000u
#define DISPATCH_SCHEDULE_FIELD_KEY ((8u << 3) | 2u) /* Response.schedule */
#define DISPATCH_HISTORY_MAX_LIMIT 10000u

Mingle__V1__EventInfo *dispatch_event_info_msg(struct dispatch *d,
                                               uint64_t event_id)
{
    struct meetup_event_info info;
    Mingle__V1__EventInfo *m;
    Mingle__V1__Weights *w;
    Mingle__V1__HistoryScope *h;

    if (meetup_event_info(d->hub, event_id, &info) < 0)
        return NULL;
    DISPATCH_OUT_NEW(d, m, Mingle__V1__EventInfo,
                     MINGLE__V1__EVENT_INFO__INIT);
    DISPATCH_OUT_NEW(d, w, Mingle__V1__Weights, MINGLE__V1__WEIGHTS__INIT);
    DISPATCH_OUT_NEW(d, h, Mingle__V1__HistoryScope,
                     MINGLE__V1__HISTORY_SCOPE__INIT);
    if (m == NULL || w == NULL || h == NULL)
        return NULL;
    m->event_id = info.event_id;
    m->name = (char *)info.def.name;
    m->table_size = info.def.table_size;
    m->rounds_planned = info.def.rounds_planned;
    m->rounds_done = info.rounds_done;
    m->closed = info.closed;
    m->attendees = info.attendees;
    m->present = info.present;
    w->interests = info.def.weights.interests;
    w->business = info.def.weights.business;
    w->same_company = info.def.weights.same_company;
    m->weights = w;
    m->seed = info.def.seed;
    m->created_unix = info.def.created_unix;
    h->kind = (Mingle__V1__HistoryScope__Kind)info.def.history.kind;
    h->last_events = info.def.history.last_events;
    h->since_unix = info.def.history.since_unix;
    m->history = h;
    return m;
}

Mingle__V1__RoundAssigned *
dispatch_round_msg(struct dispatch *d, uint64_t event_id,
                   const struct meetup_round_view *r)
{
    Mingle__V1__RoundAssigned *m;
    Mingle__V1__RoundSummary *sum;
    uint32_t t, i;

    DISPATCH_OUT_NEW(d, m, Mingle__V1__RoundAssigned,
                     MINGLE__V1__ROUND_ASSIGNED__INIT);
    DISPATCH_OUT_NEW(d, sum, Mingle__V1__RoundSummary,
                     MINGLE__V1__ROUND_SUMMARY__INIT);
    if (m == NULL || sum == NULL)
        return NULL;
    m->event_id = event_id;
    m->round = r->round;
    m->n_tables = r->n_tables;
    m->tables = dispatch_out_alloc(d, (r->n_tables + 1) * sizeof(*m->tables));
    if (m->tables == NULL)
        return NULL;
    for (t = 0; t < r->n_tables; t++) {
        const struct meetup_table_view *tv = &r->tables[t];
        Mingle__V1__Table *tm;
        Mingle__V1__Seat *seats;

        DISPATCH_OUT_NEW(d, tm, Mingle__V1__Table, MINGLE__V1__TABLE__INIT);
        seats = dispatch_out_alloc(d, (tv->n + 1) * sizeof(*seats));
        if (tm == NULL || seats == NULL)
            return NULL;
        tm->seats = dispatch_out_alloc(d, (tv->n + 1) * sizeof(*tm->seats));
        if (tm->seats == NULL)
            return NULL;
        tm->table = t + 1;
        tm->n_seats = tv->n;
        for (i = 0; i < tv->n; i++) {
            seats[i] = (Mingle__V1__Seat)MINGLE__V1__SEAT__INIT;
            seats[i].id = (char *)tv->ids[i];
            seats[i].name = (char *)tv->names[i];
            tm->seats[i] = &seats[i];
        }
        tm->score = tv->score;
        tm->why = tv->why;
        m->tables[t] = tm;
    }
    sum->attendees = r->attendees;
    sum->repeat_pairs = r->repeat_pairs;
    sum->repeat_lower_bound = r->repeat_lower_bound;
    sum->affinity_total = r->affinity_total;
    m->summary = sum;
    return m;
}

/* The Schedule message of an event, built from the engine's views (kept
 * in rp until the response is sent). */
static Mingle__V1__Schedule *dispatch_schedule_msg(struct dispatch *d,
                                                   uint64_t event_id,
                                                   struct dispatch_reply *rp,
                                                   struct dispatch_fail *f)
{
    struct meetup_schedule *s;
    Mingle__V1__Schedule *m;
    Mingle__V1__ScheduleSummary *sum;
    uint32_t r;
    int ret;

    ret = meetup_schedule_get(d->hub, event_id, 1, &rp->sched);
    if (ret < 0) {
        dispatch_fail_set(f, dispatch_errno_code(ret), "%s",
                          ret == -ENOENT ? "no such event" : "out of memory");
        return NULL;
    }
    s = rp->sched;
    DISPATCH_OUT_NEW(d, m, Mingle__V1__Schedule, MINGLE__V1__SCHEDULE__INIT);
    DISPATCH_OUT_NEW(d, sum, Mingle__V1__ScheduleSummary,
                     MINGLE__V1__SCHEDULE_SUMMARY__INIT);
    if (m == NULL || sum == NULL)
        goto nomem;
    m->event_id = event_id;
    m->name = (char *)s->name;
    m->n_rounds = s->n_rounds;
    m->rounds = dispatch_out_alloc(d, (s->n_rounds + 1) * sizeof(*m->rounds));
    if (m->rounds == NULL)
        goto nomem;
    for (r = 0; r < s->n_rounds; r++) {
        m->rounds[r] = dispatch_round_msg(d, event_id, &s->rounds[r]);
        if (m->rounds[r] == NULL)
            goto nomem;
    }
    sum->attendees = s->attendees;
    sum->repeat_pairs = s->repeat_pairs;
    sum->repeat_lower_bound = s->repeat_lower_bound;
    sum->affinity_total = s->affinity_total;
    sum->min_attendee_affinity = s->min_attendee_affinity;
    m->summary = sum;
    return m;
nomem:
    dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                      "response too large");
    return NULL;
}

/* The cache entry to fill: an empty one, else the one unused for
 * longest, emptied. */
static struct dispatch_schedule_entry *
dispatch_schedule_slot(struct dispatch *d)
{
    struct dispatch_schedule_entry *e = &d->schedules[0];
    size_t i;

    for (i = 1; i < DISPATCH_SCHEDULE_CACHE_EVENTS && e->event_id != 0; i++) {
        if (d->schedules[i].event_id == 0 || d->schedules[i].used < e->used)
            e = &d->schedules[i];
    }
    free(e->body);
    memset(e, 0, sizeof(*e));
    return e;
}

static struct dispatch_schedule_entry *
dispatch_schedule_find(struct dispatch *d,
                       const struct meetup_event_info *info)
{
    size_t i;

    for (i = 0; i < DISPATCH_SCHEDULE_CACHE_EVENTS; i++) {
        struct dispatch_schedule_entry *e = &d->schedules[i];

        if (e->event_id == info->event_id &&
            e->views_epoch == info->views_epoch &&
            e->rounds == info->rounds_done)
            return e;
    }
    return NULL;
}

void dispatch_schedule_cache_free(struct dispatch *d)
{
    size_t i;

    for (i = 0; i < DISPATCH_SCHEDULE_CACHE_EVENTS; i++) {
        free(d->schedules[i].body);
        memset(&d->schedules[i], 0, sizeof(d->schedules[i]));
    }
}

/* Sends a Response of id `id` whose body is the encoded message `msg`
 * under field key `key`. */
static int dispatch_send_encoded(struct dispatch *d, void *peer, uint64_t id,
                                 uint8_t key, const uint8_t *msg, size_t len)
{
    uint8_t head[2 * (1 + FRAME_PREFIX_MAX_BYTES)];
    size_t hlen = 0, off;
    uint8_t *buf;

    if (id != 0) {
        head[hlen++] = DISPATCH_ID_FIELD_KEY;
        hlen += frame_put_prefix(head + hlen, id);
    }
    head[hlen++] = key;
    hlen += frame_put_prefix(head + hlen, len);
    buf = malloc(FRAME_PREFIX_MAX_BYTES + hlen + len);
    if (buf == NULL)
        return -ENOMEM;
    off = frame_put_prefix(buf, hlen + len);
    memcpy(buf + off, head, hlen);
    memcpy(buf + off + hlen, msg, len);
    /* -ENOBUFS: the transport drops the peer itself. */
    d->ops->send(peer, buf, off + hlen + len);
    free(buf);
    return 0;
}

int dispatch_schedule(struct dispatch *d, void *peer,
                      const Mingle__V1__Request *req,
                      struct dispatch_reply *rp, struct dispatch_fail *f)
{
    uint64_t event_id = req->get_schedule->event_id;
    struct dispatch_schedule_entry *e;
    struct meetup_event_info info;
    Mingle__V1__Schedule *m;

    if (dispatch_check_event_id(f, event_id) < 0)
        return -1;
    if (meetup_event_info(d->hub, event_id, &info) < 0)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__NOT_FOUND,
                                 "no such event");
    e = dispatch_schedule_find(d, &info);
    if (e == NULL) {
        m = dispatch_schedule_msg(d, event_id, rp, f);
        if (m == NULL)
            return -1;
        e = dispatch_schedule_slot(d);
        e->len = mingle__v1__schedule__get_packed_size(m);
        e->body = malloc(e->len + 1);
        if (e->body == NULL)
            return dispatch_fail_set(f,
                                     MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                                     "out of memory");
        mingle__v1__schedule__pack(m, e->body);
        e->event_id = event_id;
        e->views_epoch = info.views_epoch;
        e->rounds = info.rounds_done;
    }
    e->used = d->requests;
    if (dispatch_send_encoded(d, peer, req->id, DISPATCH_SCHEDULE_FIELD_KEY,
                              e->body, e->len) < 0)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                                 "out of memory");
    return 0;
}

static char **dispatch_strv_msg(struct dispatch *d, const char **v, size_t n)
{
    char **out = dispatch_out_alloc(d, (n + 1) * sizeof(*out));
    size_t i;

    if (out == NULL)
        return NULL;
    for (i = 0; i < n; i++)
        out[i] = (char *)v[i];
    return out;
}

int dispatch_explain(struct dispatch *d, const Mingle__V1__Explain *x,
                     struct dispatch_reply *rp, struct dispatch_fail *f)
{
    const struct meetup_explain *e;
    Mingle__V1__ExplainReply *m;
    int ret;

    if (dispatch_check_event_id(f, x->event_id) < 0 ||
        dispatch_check_id(f, x->a) < 0 || dispatch_check_id(f, x->b) < 0)
        return -1;
    ret = meetup_explain_get(d->hub, x->event_id, x->a, x->b, &rp->explain);
    if (ret == -EINVAL)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__BAD_REQUEST,
                                 "explain needs two different attendees");
    if (ret < 0)
        return dispatch_fail_set(f, dispatch_errno_code(ret),
                                 "no such event or attendee");
    e = rp->explain;
    DISPATCH_OUT_NEW(d, m, Mingle__V1__ExplainReply,
                     MINGLE__V1__EXPLAIN_REPLY__INIT);
    if (m == NULL)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                                 "out of memory");
    m->total = e->parts.total;
    m->interests = e->parts.interests;
    m->business = e->parts.business;
    m->same_company = e->parts.same_company;
    m->shared_interests =
        dispatch_strv_msg(d, e->shared_interests, e->n_shared_interests);
    m->n_shared_interests = e->n_shared_interests;
    m->a_offers_b_seeks =
        dispatch_strv_msg(d, e->a_offers_b_seeks, e->n_a_offers_b_seeks);
    m->n_a_offers_b_seeks = e->n_a_offers_b_seeks;
    m->b_offers_a_seeks =
        dispatch_strv_msg(d, e->b_offers_a_seeks, e->n_b_offers_a_seeks);
    m->n_b_offers_a_seeks = e->n_b_offers_a_seeks;
    if (!m->shared_interests || !m->a_offers_b_seeks || !m->b_offers_a_seeks)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                                 "out of memory");
    m->met_before = e->met_before;
    m->avoid = e->avoid;
    m->times_met = e->times_met;
    m->why = (char *)e->why;
    rp->resp.body_case = MINGLE__V1__RESPONSE__BODY_EXPLAIN;
    rp->resp.explain = m;
    return 0;
}

static Mingle__V1__Quality *dispatch_quality_msg(struct dispatch *d,
                                                 const struct sched_metrics *q)
{
    Mingle__V1__Quality *m;

    DISPATCH_OUT_NEW(d, m, Mingle__V1__Quality, MINGLE__V1__QUALITY__INIT);
    if (m == NULL)
        return NULL;
    m->attendees = q->attendees;
    m->objective = q->objective;
    m->upper_bound = q->upper_bound;
    m->bound_share = q->bound_share;
    m->business_lift = q->business_lift;
    m->conversation_lift = q->conversation_lift;
    m->lonely_seats = q->lonely_seats;
    m->empty_handed = q->empty_handed;
    m->business_mean = q->business_mean;
    m->business_min = q->business_min;
    m->conversation_mean = q->conversation_mean;
    m->conversation_min = q->conversation_min;
    return m;
}

static Mingle__V1__PlanStatus *dispatch_plan_msg(struct dispatch *d,
                                                 uint64_t event_id)
{
    struct dispatch_plan_status ps = { DISPATCH_PLAN_OFF, 0 };
    struct meetup_plan_state st;
    Mingle__V1__PlanStatus *m;

    DISPATCH_OUT_NEW(d, m, Mingle__V1__PlanStatus,
                     MINGLE__V1__PLAN_STATUS__INIT);
    if (m == NULL || meetup_plan_state_get(d->hub, event_id, &st) < 0)
        return m;
    if (d->ops->plan_status != NULL)
        d->ops->plan_status(d->server, event_id, &ps);
    switch (ps.state) {
    case DISPATCH_PLAN_OFF:
        m->state = MINGLE__V1__PLANNER_STATE__PLANNER_OFF;
        break;
    case DISPATCH_PLAN_IDLE:
        m->state = MINGLE__V1__PLANNER_STATE__PLANNER_IDLE;
        break;
    case DISPATCH_PLAN_WORKING:
        m->state = MINGLE__V1__PLANNER_STATE__PLANNER_WORKING;
        break;
    case DISPATCH_PLAN_CONVERGED:
        m->state = MINGLE__V1__PLANNER_STATE__PLANNER_CONVERGED;
        break;
    }
    m->rounds = st.rounds;
    m->epochs = st.epochs;
    m->background = st.background;
    m->age_ms = st.background ? ps.age_ms : 0;
    return m;
}

int dispatch_preview(struct dispatch *d, uint64_t event_id,
                     struct dispatch_reply *rp, struct dispatch_fail *f)
{
    Mingle__V1__RoundPreview *m;
    int ret;

    if (dispatch_check_event_id(f, event_id) < 0)
        return -1;
    ret = meetup_preview_get(d->hub, event_id, &rp->sched);
    if (ret < 0)
        return dispatch_fail_set(f, dispatch_errno_code(ret), "%s",
                                 ret == -ENOMEM ? "out of memory"
                                                : meetup_error(d->hub));
    DISPATCH_OUT_NEW(d, m, Mingle__V1__RoundPreview,
                     MINGLE__V1__ROUND_PREVIEW__INIT);
    if (m == NULL ||
        (m->round = dispatch_round_msg(d, event_id,
                                       &rp->sched->rounds[0])) == NULL ||
        (m->plan = dispatch_plan_msg(d, event_id)) == NULL)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                                 "response too large");
    rp->resp.body_case = MINGLE__V1__RESPONSE__BODY_PREVIEW;
    rp->resp.preview = m;
    return 0;
}

/* The figures only one event has: its quality and its plan.  With a
 * background planner, the quality is never computed here (it scores every
 * pair of the event's people): planning results bring it, and when the
 * rounds' figures are missing while the planner is not working on the
 * event (e.g. it closed, or the daemon restarted), a job is queued that
 * brings them; this answer leaves them unset meanwhile. */
static int dispatch_event_stats(struct dispatch *d, uint64_t event_id,
                                Mingle__V1__Stats *m)
{
    struct meetup_event_info info;
    struct meetup_quality q;
    bool off;

    m->plan = dispatch_plan_msg(d, event_id);
    if (m->plan == NULL)
        return -1;
    off = m->plan->state == MINGLE__V1__PLANNER_STATE__PLANNER_OFF;
    if (meetup_quality_get(d->hub, event_id, off, &q) < 0 ||
        meetup_event_info(d->hub, event_id, &info) < 0)
        return -1;
    if (!off && info.rounds_done > 0 && !q.done_valid &&
        m->plan->state != MINGLE__V1__PLANNER_STATE__PLANNER_WORKING)
        dispatch_plan_event(d, event_id);
    if (q.done_valid &&
        (m->rounds_quality = dispatch_quality_msg(d, &q.done)) == NULL)
        return -1;
    if (q.plan_valid &&
        (m->plan_quality = dispatch_quality_msg(d, &q.plan)) == NULL)
        return -1;
    return 0;
}

int dispatch_stats(struct dispatch *d, uint64_t event_id,
                   Mingle__V1__Response *resp, struct dispatch_fail *f)
{
    struct meetup_stats st;
    Mingle__V1__Stats *m;
    uint32_t conns = 0, subs = 0;
    int ret = meetup_stats_get(d->hub, event_id, &st);

    if (ret < 0)
        return dispatch_fail_set(f, dispatch_errno_code(ret), "%s",
                                 ret == -ENOENT ? "no such event"
                                                : "out of memory");
    DISPATCH_OUT_NEW(d, m, Mingle__V1__Stats, MINGLE__V1__STATS__INIT);
    if (m == NULL)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                                 "out of memory");
    d->ops->stats(d->server, &conns, &subs);
    m->events = st.events;
    m->attendees = st.attendees;
    m->present = st.present;
    m->rounds_done = st.rounds_done;
    m->repeat_pairs = st.repeat_pairs;
    m->affinity_total = st.affinity_total;
    m->encounters = st.encounters;
    m->connections = conns;
    m->subscribers = subs;
    m->uptime_s = (uint64_t)(time(NULL) - d->started);
    m->requests = d->requests;
    if (event_id != 0 && dispatch_event_stats(d, event_id, m) < 0)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                                 "out of memory");
    resp->body_case = MINGLE__V1__RESPONSE__BODY_STATS;
    resp->stats = m;
    return 0;
}

static Mingle__V1__Pair **dispatch_pairs_msg(struct dispatch *d,
                                             const struct meetup_pair *v,
                                             size_t n)
{
    Mingle__V1__Pair **out = dispatch_out_alloc(d, (n + 1) * sizeof(*out));
    Mingle__V1__Pair *p = dispatch_out_alloc(d, (n + 1) * sizeof(*p));
    size_t i;

    if (out == NULL || p == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        p[i] = (Mingle__V1__Pair)MINGLE__V1__PAIR__INIT;
        p[i].a = (char *)v[i].a;
        p[i].b = (char *)v[i].b;
        out[i] = &p[i];
    }
    return out;
}

int dispatch_attendees(struct dispatch *d, uint64_t event_id,
                       struct dispatch_reply *rp, struct dispatch_fail *f)
{
    const struct meetup_attendee_list *l;
    Mingle__V1__AttendeeList *m;
    Mingle__V1__Attendee *a;
    size_t i;
    int ret;

    if (dispatch_check_event_id(f, event_id) < 0)
        return -1;
    ret = meetup_attendees_get(d->hub, event_id, &rp->list);
    if (ret < 0)
        return dispatch_fail_set(f, dispatch_errno_code(ret), "%s",
                                 ret == -ENOENT ? "no such event"
                                                : "out of memory");
    l = rp->list;
    DISPATCH_OUT_NEW(d, m, Mingle__V1__AttendeeList,
                     MINGLE__V1__ATTENDEE_LIST__INIT);
    a = dispatch_out_alloc(d, (l->n_profiles + 1) * sizeof(*a));
    if (m == NULL || a == NULL)
        goto nomem;
    m->attendees =
        dispatch_out_alloc(d, (l->n_profiles + 1) * sizeof(*m->attendees));
    m->met_before = dispatch_pairs_msg(d, l->met_before, l->n_met_before);
    m->avoid = dispatch_pairs_msg(d, l->avoid, l->n_avoid);
    m->present = dispatch_strv_msg(d, l->present, l->n_present);
    if (!m->attendees || !m->met_before || !m->avoid || !m->present)
        goto nomem;
    m->n_attendees = l->n_profiles;
    m->n_met_before = l->n_met_before;
    m->n_avoid = l->n_avoid;
    m->n_present = l->n_present;
    for (i = 0; i < l->n_profiles; i++) {
        const struct att_profile *p = &l->profiles[i];

        a[i] = (Mingle__V1__Attendee)MINGLE__V1__ATTENDEE__INIT;
        a[i].id = (char *)p->id;
        a[i].name = (char *)(p->name ? p->name : "");
        a[i].company = (char *)(p->company ? p->company : "");
        a[i].industry = (char *)(p->industry ? p->industry : "");
        a[i].interests =
            dispatch_strv_msg(d, (const char **)p->interests, p->n_interests);
        a[i].offers =
            dispatch_strv_msg(d, (const char **)p->offers, p->n_offers);
        a[i].seeks = dispatch_strv_msg(d, (const char **)p->seeks, p->n_seeks);
        if (!a[i].interests || !a[i].offers || !a[i].seeks)
            goto nomem;
        a[i].n_interests = p->n_interests;
        a[i].n_offers = p->n_offers;
        a[i].n_seeks = p->n_seeks;
        m->attendees[i] = &a[i];
    }
    rp->resp.body_case = MINGLE__V1__RESPONSE__BODY_ATTENDEES;
    rp->resp.attendees = m;
    return 0;
nomem:
    return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                             "response too large");
}

int dispatch_history(struct dispatch *d, const Mingle__V1__ExportHistory *x,
                     Mingle__V1__Response *resp, struct dispatch_fail *f)
{
    uint32_t limit = x->limit ? x->limit : DISPATCH_HISTORY_DEFAULT_LIMIT;
    struct meetup_encounter *enc;
    Mingle__V1__History *m;
    Mingle__V1__Encounter *em;
    bool more;
    size_t n, i;

    if (limit > DISPATCH_HISTORY_MAX_LIMIT)
        limit = DISPATCH_HISTORY_MAX_LIMIT;
    enc = dispatch_out_alloc(d, limit * sizeof(*enc));
    em = dispatch_out_alloc(d, limit * sizeof(*em));
    DISPATCH_OUT_NEW(d, m, Mingle__V1__History, MINGLE__V1__HISTORY__INIT);
    if (enc == NULL || em == NULL || m == NULL)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                                 "out of memory");
    n = meetup_history(d->hub, x->after, enc, limit, &more);
    m->encounters = dispatch_out_alloc(d, (n + 1) * sizeof(*m->encounters));
    if (m->encounters == NULL)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                                 "out of memory");
    for (i = 0; i < n; i++) {
        em[i] = (Mingle__V1__Encounter)MINGLE__V1__ENCOUNTER__INIT;
        em[i].seq = enc[i].seq;
        em[i].a = (char *)enc[i].a;
        em[i].b = (char *)enc[i].b;
        em[i].event_id = enc[i].event_id;
        em[i].round = enc[i].round;
        em[i].at_unix = enc[i].at_unix;
        m->encounters[i] = &em[i];
    }
    m->n_encounters = n;
    m->more = more;
    resp->body_case = MINGLE__V1__RESPONSE__BODY_HISTORY;
    resp->history = m;
    return 0;
}

int dispatch_list_events(struct dispatch *d, bool include_closed,
                         Mingle__V1__Response *resp, struct dispatch_fail *f)
{
    size_t count = meetup_event_count(d->hub), i;
    Mingle__V1__EventList *m;

    DISPATCH_OUT_NEW(d, m, Mingle__V1__EventList,
                     MINGLE__V1__EVENT_LIST__INIT);
    if (m == NULL)
        goto nomem;
    m->events = dispatch_out_alloc(d, (count + 1) * sizeof(*m->events));
    if (m->events == NULL)
        goto nomem;
    for (i = 0; i < count; i++) {
        struct meetup_event_info info;

        meetup_event_info_at(d->hub, i, &info);
        if (info.closed && !include_closed)
            continue;
        m->events[m->n_events] = dispatch_event_info_msg(d, info.event_id);
        if (m->events[m->n_events] == NULL)
            goto nomem;
        m->n_events++;
    }
    resp->body_case = MINGLE__V1__RESPONSE__BODY_EVENTS;
    resp->events = m;
    return 0;
nomem:
    return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                             "response too large");
}

int dispatch_event(struct dispatch *d, uint64_t event_id,
                   Mingle__V1__Response *resp, struct dispatch_fail *f)
{
    if (dispatch_check_event_id(f, event_id) < 0)
        return -1;
    resp->event = dispatch_event_info_msg(d, event_id);
    if (resp->event == NULL)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__NOT_FOUND,
                                 "no such event");
    resp->body_case = MINGLE__V1__RESPONSE__BODY_EVENT;
    return 0;
}
