/* test_dispatch.c -- request bodies in, response frames out, through fake
 * transport ops. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dispatch.h"
#include "frame.h"
#include "meetup.h"
#include "mingle.pb-c.h"

#define MAX_FRAMES 64

typedef Mingle__V1__Request Request;
typedef Mingle__V1__Response Response;

/* What the fake transport saw. */
static struct {
    uint8_t *frames[MAX_FRAMES];
    size_t lens[MAX_FRAMES];
    size_t n;
    int publishes;
    uint64_t publish_event;
    uint8_t *publish_body;
    size_t publish_len;
    int subscribes;
    uint64_t sub_event;
    uint64_t sub_request;
    int unsubscribes;
} seen;

static int fake_send(void *peer, const uint8_t *frame, size_t len)
{
    assert_ptr_equal(peer, &seen);
    assert_true(seen.n < MAX_FRAMES);
    seen.frames[seen.n] = malloc(len);
    memcpy(seen.frames[seen.n], frame, len);
    seen.lens[seen.n++] = len;
    return 0;
}

static int fake_subscribe(void *peer, uint64_t event_id, uint64_t request_id)
{
    (void)peer;
    seen.subscribes++;
    seen.sub_event = event_id;
    seen.sub_request = request_id;
    return 0;
}

static int fake_unsubscribe(void *peer, uint64_t event_id)
{
    (void)peer;
    (void)event_id;
    seen.unsubscribes++;
    return seen.subscribes > 0 ? 0 : -ENOENT;
}

static void fake_publish(void *server, uint64_t event_id, const uint8_t *body,
                         size_t len)
{
    (void)server;
    seen.publishes++;
    seen.publish_event = event_id;
    free(seen.publish_body);
    seen.publish_body = malloc(len);
    memcpy(seen.publish_body, body, len);
    seen.publish_len = len;
}

static void fake_stats(void *server, uint32_t *connections,
                       uint32_t *subscribers)
{
    (void)server;
    *connections = 3;
    *subscribers = (uint32_t)seen.subscribes;
}

static const struct dispatch_ops fake_ops = {
    .send = fake_send,
    .subscribe = fake_subscribe,
    .unsubscribe = fake_unsubscribe,
    .publish = fake_publish,
    .stats = fake_stats,
};

/* What the fake planner was handed: the last job per call. */
static struct {
    int calls;
    int jobs;
    uint64_t last_event;
    struct meetup_plan_job *job; /* the newest, kept to run by hand */
    enum dispatch_plan_state state;
} planned;

static void fake_plan(void *server, uint64_t event_id,
                      struct meetup_plan_job *job)
{
    (void)server;
    planned.calls++;
    planned.last_event = event_id;
    if (job == NULL)
        return;
    planned.jobs++;
    meetup_plan_job_free(planned.job);
    planned.job = job;
}

static void fake_plan_status(void *server, uint64_t event_id,
                             struct dispatch_plan_status *out)
{
    (void)server;
    (void)event_id;
    out->state = planned.state;
    out->age_ms = 1500;
}

static const struct dispatch_ops planning_ops = {
    .send = fake_send,
    .subscribe = fake_subscribe,
    .unsubscribe = fake_unsubscribe,
    .publish = fake_publish,
    .stats = fake_stats,
    .plan = fake_plan,
    .plan_status = fake_plan_status,
};

static void seen_reset(void)
{
    size_t i;

    for (i = 0; i < seen.n; i++)
        free(seen.frames[i]);
    free(seen.publish_body);
    memset(&seen, 0, sizeof(seen));
}

static struct dispatch *make_with(const char *token,
                                  const struct dispatch_ops *ops)
{
    struct dispatch_config cfg = { .max_frame_bytes = 4096,
                                   .auth_token = token };
    struct dispatch *d;
    char why[256];
    int err = 1;

    seen_reset();
    d = dispatch_new(&cfg, ops, NULL, &err, why, sizeof(why));
    assert_non_null(d);
    assert_int_equal(err, 0);
    return d;
}

static struct dispatch *make(const char *token)
{
    return make_with(token, &fake_ops);
}

/* Decodes a captured frame (prefix and all). */
static Response *decode_frame(const uint8_t *frame, size_t len)
{
    size_t plen, blen;
    Response *r;

    assert_int_equal(frame_parse(frame, len, 1u << 30, &plen, &blen),
                     FRAME_OK);
    assert_int_equal(plen + blen, len);
    r = mingle__v1__response__unpack(NULL, blen, frame + plen);
    assert_non_null(r);
    return r;
}

static struct dispatch_session sess;

/* Sends `req`, expects exactly one response frame and returns it. */
static Response *call_v(struct dispatch *d, const Request *req,
                        enum dispatch_verdict want)
{
    size_t len = mingle__v1__request__get_packed_size(req);
    uint8_t *buf = malloc(len + 1);
    size_t before = seen.n;
    Response *r;

    mingle__v1__request__pack(req, buf);
    assert_int_equal(dispatch_handle(d, &seen, &sess, buf, len), want);
    free(buf);
    assert_int_equal(seen.n, before + 1);
    r = decode_frame(seen.frames[before], seen.lens[before]);
    assert_int_equal(r->id, req->id);
    return r;
}

static Response *call(struct dispatch *d, const Request *req)
{
    return call_v(d, req, DISPATCH_CONTINUE);
}

static void expect_error(Response *r, Mingle__V1__ErrorCode code)
{
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_ERROR);
    assert_int_equal(r->error->code, code);
    assert_true(strlen(r->error->message) > 0);
    mingle__v1__response__free_unpacked(r, NULL);
}

static Response *hello(struct dispatch *d, const char *token,
                       enum dispatch_verdict want)
{
    Mingle__V1__Hello h = MINGLE__V1__HELLO__INIT;
    Request req = MINGLE__V1__REQUEST__INIT;

    h.protocol_version = MINGLE__V1__PROTOCOL_VERSION__PROTOCOL_VERSION_1;
    h.token = (char *)token;
    req.id = 7;
    req.body_case = MINGLE__V1__REQUEST__BODY_HELLO;
    req.hello = &h;
    return call_v(d, &req, want);
}

static uint64_t create_event(struct dispatch *d)
{
    Mingle__V1__CreateEvent c = MINGLE__V1__CREATE_EVENT__INIT;
    Request req = MINGLE__V1__REQUEST__INIT;
    Response *r;
    uint64_t id;

    c.name = "Hamburg";
    c.table_size = 4;
    c.rounds = 3;
    c.seed = 11;
    c.seed_set = 1;
    req.id = 1;
    req.body_case = MINGLE__V1__REQUEST__BODY_CREATE_EVENT;
    req.create_event = &c;
    r = call(d, &req);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_EVENT);
    assert_string_equal(r->event->name, "Hamburg");
    assert_int_equal(r->event->table_size, 4);
    assert_int_equal(r->event->seed, 11);
    assert_true(r->event->created_unix > 0);
    assert_non_null(r->event->weights);
    assert_true(r->event->weights->business == 2.0);
    id = r->event->event_id;
    mingle__v1__response__free_unpacked(r, NULL);
    return id;
}

static char ids[32][8];

static void upsert(struct dispatch *d, uint64_t ev, int n)
{
    Mingle__V1__UpsertAttendees u = MINGLE__V1__UPSERT_ATTENDEES__INIT;
    Mingle__V1__Attendee att[32], *ptr[32];
    Request req = MINGLE__V1__REQUEST__INIT;
    static char *tags[] = { "Jazz", "Segeln", "Golf" };
    Response *r;
    int i;

    for (i = 0; i < n; i++) {
        att[i] = (Mingle__V1__Attendee)MINGLE__V1__ATTENDEE__INIT;
        snprintf(ids[i], sizeof(ids[i]), "a%d", i);
        att[i].id = ids[i];
        att[i].company = i % 2 ? "ACME" : "";
        att[i].interests = &tags[i % 2];
        att[i].n_interests = 2;
        ptr[i] = &att[i];
    }
    u.event_id = ev;
    u.attendees = ptr;
    u.n_attendees = (size_t)n;
    req.id = 2;
    req.body_case = MINGLE__V1__REQUEST__BODY_UPSERT_ATTENDEES;
    req.upsert_attendees = &u;
    r = call(d, &req);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_ACK);
    assert_int_equal(r->ack->count, n);
    mingle__v1__response__free_unpacked(r, NULL);
}

static Response *checkin(struct dispatch *d, uint64_t ev, int first, int n,
                         int out)
{
    Mingle__V1__CheckIn c = MINGLE__V1__CHECK_IN__INIT;
    Request req = MINGLE__V1__REQUEST__INIT;
    char *list[32];
    int i;

    for (i = 0; i < n; i++) {
        snprintf(ids[first + i], sizeof(ids[0]), "a%d", first + i);
        list[i] = ids[first + i];
    }
    c.event_id = ev;
    c.attendee_ids = list;
    c.n_attendee_ids = (size_t)n;
    req.id = 3;
    /* CheckIn and CheckOut have the same shape. */
    req.body_case = out ? MINGLE__V1__REQUEST__BODY_CHECK_OUT
                        : MINGLE__V1__REQUEST__BODY_CHECK_IN;
    req.check_in = &c;
    return call(d, &req);
}

static Response *simple(struct dispatch *d, uint64_t id,
                        Mingle__V1__Request__BodyCase which, uint64_t ev)
{
    /* All these bodies are { uint64 event_id = 1; }. */
    Mingle__V1__GetEvent g = MINGLE__V1__GET_EVENT__INIT;
    Mingle__V1__NextRound nr = MINGLE__V1__NEXT_ROUND__INIT;
    Mingle__V1__GetSchedule gs = MINGLE__V1__GET_SCHEDULE__INIT;
    Mingle__V1__GetStats st = MINGLE__V1__GET_STATS__INIT;
    Mingle__V1__Subscribe su = MINGLE__V1__SUBSCRIBE__INIT;
    Mingle__V1__Unsubscribe un = MINGLE__V1__UNSUBSCRIBE__INIT;
    Mingle__V1__ListAttendees la = MINGLE__V1__LIST_ATTENDEES__INIT;
    Mingle__V1__CloseEvent ce = MINGLE__V1__CLOSE_EVENT__INIT;
    Request req = MINGLE__V1__REQUEST__INIT;

    req.id = id;
    req.body_case = which;
    switch (which) {
    case MINGLE__V1__REQUEST__BODY_GET_EVENT:
        g.event_id = ev;
        req.get_event = &g;
        break;
    case MINGLE__V1__REQUEST__BODY_NEXT_ROUND:
        nr.event_id = ev;
        req.next_round = &nr;
        break;
    case MINGLE__V1__REQUEST__BODY_GET_SCHEDULE:
        gs.event_id = ev;
        req.get_schedule = &gs;
        break;
    case MINGLE__V1__REQUEST__BODY_GET_STATS:
        st.event_id = ev;
        req.get_stats = &st;
        break;
    case MINGLE__V1__REQUEST__BODY_SUBSCRIBE:
        su.event_id = ev;
        req.subscribe = &su;
        break;
    case MINGLE__V1__REQUEST__BODY_UNSUBSCRIBE:
        un.event_id = ev;
        req.unsubscribe = &un;
        break;
    case MINGLE__V1__REQUEST__BODY_LIST_ATTENDEES:
        la.event_id = ev;
        req.list_attendees = &la;
        break;
    case MINGLE__V1__REQUEST__BODY_CLOSE_EVENT:
        ce.event_id = ev;
        req.close_event = &ce;
        break;
    default:
        fail();
    }
    return call(d, &req);
}

static void test_hello(void **state)
{
    struct dispatch *d = make(NULL);
    Response *r;

    (void)state;
    memset(&sess, 0, sizeof(sess));
    r = hello(d, "", DISPATCH_CONTINUE);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_HELLO);
    assert_int_equal(r->hello->protocol_version,
                     MINGLE__V1__PROTOCOL_VERSION__PROTOCOL_VERSION_1);
    assert_int_equal(r->hello->max_frame_bytes, 4096);
    assert_true(r->hello->max_attendees_per_request > 0);
    assert_true(strlen(r->hello->server_version) > 0);
    mingle__v1__response__free_unpacked(r, NULL);
    dispatch_free(d);
    seen_reset();
}

/* Seats of a schedule whose id is `id`. */
static int seats_of(const Mingle__V1__Schedule *s, const char *id)
{
    size_t r, t, i;
    int n = 0;

    for (r = 0; r < s->n_rounds; r++) {
        for (t = 0; t < s->rounds[r]->n_tables; t++) {
            const Mingle__V1__Table *tb = s->rounds[r]->tables[t];

            for (i = 0; i < tb->n_seats; i++)
                n += strcmp(tb->seats[i]->id, id) == 0;
        }
    }
    return n;
}

/* GetSchedule answers from its cache with the request's id, the same
 * schedule as `first`, until a round or a change of the views: a
 * forgotten person's seats then show a token. */
static void schedule_cache(struct dispatch *d, uint64_t ev,
                           const Response *first)
{
    Mingle__V1__ForgetAttendee fa = MINGLE__V1__FORGET_ATTENDEE__INIT;
    Request req = MINGLE__V1__REQUEST__INIT;
    size_t len = mingle__v1__schedule__get_packed_size(first->schedule);
    uint8_t *a = malloc(len + 1), *b = malloc(len + 1);
    Response *r;

    r = simple(d, 70, MINGLE__V1__REQUEST__BODY_GET_SCHEDULE, ev);
    assert_int_equal(r->id, 70);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_SCHEDULE);
    assert_int_equal(mingle__v1__schedule__get_packed_size(r->schedule), len);
    mingle__v1__schedule__pack(first->schedule, a);
    mingle__v1__schedule__pack(r->schedule, b);
    assert_memory_equal(a, b, len);
    assert_int_equal(seats_of(r->schedule, "a1"), 2);
    mingle__v1__response__free_unpacked(r, NULL);
    free(a);
    free(b);
    fa.attendee_id = "a1";
    req.id = 71;
    req.body_case = MINGLE__V1__REQUEST__BODY_FORGET_ATTENDEE;
    req.forget_attendee = &fa;
    r = call(d, &req);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_ACK);
    mingle__v1__response__free_unpacked(r, NULL);
    r = simple(d, 72, MINGLE__V1__REQUEST__BODY_GET_SCHEDULE, ev);
    assert_int_equal(r->schedule->n_rounds, 2);
    assert_int_equal(seats_of(r->schedule, "a1"), 0);
    mingle__v1__response__free_unpacked(r, NULL);
}

static void test_meetup_flow(void **state)
{
    struct dispatch *d = make(NULL);
    Response *r;
    uint64_t ev;

    (void)state;
    memset(&sess, 0, sizeof(sess));
    ev = create_event(d);
    assert_int_equal(ev, 1);
    upsert(d, ev, 12);
    r = checkin(d, ev, 0, 12, 0);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_ACK);
    assert_int_equal(r->ack->count, 12);
    assert_int_equal(r->ack->present, 12);
    mingle__v1__response__free_unpacked(r, NULL);
    r = checkin(d, ev, 11, 1, 1);
    assert_int_equal(r->ack->present, 11);
    mingle__v1__response__free_unpacked(r, NULL);

    {
        Mingle__V1__AddPairs ap = MINGLE__V1__ADD_PAIRS__INIT;
        Mingle__V1__Pair p = MINGLE__V1__PAIR__INIT, *pp = &p;
        Request req = MINGLE__V1__REQUEST__INIT;

        p.a = "a0";
        p.b = "a1";
        ap.event_id = ev;
        ap.kind = MINGLE__V1__PAIR_KIND__AVOID;
        ap.pairs = &pp;
        ap.n_pairs = 1;
        req.id = 40;
        req.body_case = MINGLE__V1__REQUEST__BODY_ADD_PAIRS;
        req.add_pairs = &ap;
        r = call(d, &req);
        assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_ACK);
        assert_int_equal(r->ack->count, 1);
        mingle__v1__response__free_unpacked(r, NULL);
    }

    r = simple(d, 50, MINGLE__V1__REQUEST__BODY_SUBSCRIBE, ev);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_SUBSCRIBED);
    assert_int_equal(r->subscribed->rounds_done, 0);
    assert_int_equal(seen.subscribes, 1);
    assert_int_equal(seen.sub_event, ev);
    assert_int_equal(seen.sub_request, 50);
    mingle__v1__response__free_unpacked(r, NULL);

    r = simple(d, 51, MINGLE__V1__REQUEST__BODY_NEXT_ROUND, ev);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_ROUND);
    assert_int_equal(r->round->round, 1);
    assert_int_equal(r->round->n_tables, 3);
    assert_int_equal(r->round->summary->attendees, 11);
    assert_true(strlen(r->round->tables[0]->seats[0]->id) > 0);
    mingle__v1__response__free_unpacked(r, NULL);
    assert_int_equal(seen.publishes, 1);
    assert_int_equal(seen.publish_event, ev);
    {
        /* A subscriber's frame: its id, then the published field. */
        uint8_t body[4096];
        size_t n = 0;
        Response *push;

        body[n++] = 0x08;
        body[n++] = 50;
        assert_true(seen.publish_len + n < sizeof(body));
        memcpy(body + n, seen.publish_body, seen.publish_len);
        push = mingle__v1__response__unpack(NULL, n + seen.publish_len,
                                            body);
        assert_non_null(push);
        assert_int_equal(push->id, 50);
        assert_int_equal(push->body_case, MINGLE__V1__RESPONSE__BODY_ROUND);
        assert_int_equal(push->round->round, 1);
        assert_int_equal(push->round->event_id, ev);
        mingle__v1__response__free_unpacked(push, NULL);
    }
    r = simple(d, 52, MINGLE__V1__REQUEST__BODY_NEXT_ROUND, ev);
    assert_int_equal(r->round->round, 2);
    mingle__v1__response__free_unpacked(r, NULL);
    assert_int_equal(seen.publishes, 2);

    r = simple(d, 53, MINGLE__V1__REQUEST__BODY_GET_SCHEDULE, ev);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_SCHEDULE);
    assert_int_equal(r->schedule->n_rounds, 2);
    assert_string_equal(r->schedule->name, "Hamburg");
    assert_int_equal(r->schedule->summary->attendees, 11);
    assert_int_equal(r->schedule->summary->repeat_pairs,
                     r->schedule->rounds[0]->summary->repeat_pairs +
                         r->schedule->rounds[1]->summary->repeat_pairs);
    assert_int_equal(r->schedule->rounds[1]->n_tables, 3);
    mingle__v1__response__free_unpacked(r, NULL);

    {
        Mingle__V1__Explain x = MINGLE__V1__EXPLAIN__INIT;
        Request req = MINGLE__V1__REQUEST__INIT;

        x.event_id = ev;
        x.a = "a0";
        x.b = "a2";
        req.id = 54;
        req.body_case = MINGLE__V1__REQUEST__BODY_EXPLAIN;
        req.explain = &x;
        r = call(d, &req);
        assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_EXPLAIN);
        assert_int_equal(r->explain->n_shared_interests, 2);
        assert_true(r->explain->interests > 0);
        assert_false(r->explain->avoid);
        mingle__v1__response__free_unpacked(r, NULL);
        x.b = "a1";
        r = call(d, &req);
        assert_true(r->explain->avoid);
        mingle__v1__response__free_unpacked(r, NULL);
    }

    r = simple(d, 55, MINGLE__V1__REQUEST__BODY_GET_STATS, 0);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_STATS);
    assert_int_equal(r->stats->events, 1);
    assert_int_equal(r->stats->attendees, 12);
    assert_int_equal(r->stats->present, 11);
    assert_int_equal(r->stats->rounds_done, 2);
    assert_int_equal(r->stats->connections, 3);
    assert_int_equal(r->stats->subscribers, 1);
    assert_true(r->stats->requests > 10);
    assert_true(r->stats->encounters > 0);
    mingle__v1__response__free_unpacked(r, NULL);

    r = simple(d, 56, MINGLE__V1__REQUEST__BODY_LIST_ATTENDEES, ev);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_ATTENDEES);
    assert_int_equal(r->attendees->n_attendees, 12);
    assert_int_equal(r->attendees->n_present, 11);
    assert_int_equal(r->attendees->n_avoid, 1);
    assert_string_equal(r->attendees->attendees[1]->company, "ACME");
    mingle__v1__response__free_unpacked(r, NULL);

    {
        Mingle__V1__ExportHistory h = MINGLE__V1__EXPORT_HISTORY__INIT;
        Request req = MINGLE__V1__REQUEST__INIT;

        h.limit = 5;
        req.id = 57;
        req.body_case = MINGLE__V1__REQUEST__BODY_EXPORT_HISTORY;
        req.export_history = &h;
        r = call(d, &req);
        assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_HISTORY);
        assert_int_equal(r->history->n_encounters, 5);
        assert_true(r->history->more);
        assert_int_equal(r->history->encounters[0]->seq, 1);
        assert_int_equal(r->history->encounters[0]->event_id, ev);
        mingle__v1__response__free_unpacked(r, NULL);
    }
    {
        Mingle__V1__ForgetAttendee fa = MINGLE__V1__FORGET_ATTENDEE__INIT;
        Mingle__V1__RemoveAttendee ra = MINGLE__V1__REMOVE_ATTENDEE__INIT;
        Request req = MINGLE__V1__REQUEST__INIT;

        fa.attendee_id = "a3";
        req.id = 58;
        req.body_case = MINGLE__V1__REQUEST__BODY_FORGET_ATTENDEE;
        req.forget_attendee = &fa;
        r = call(d, &req);
        assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_ACK);
        assert_int_equal(r->ack->count, 1);
        mingle__v1__response__free_unpacked(r, NULL);
        ra.event_id = ev;
        ra.attendee_id = "a4";
        req.id = 59;
        req.body_case = MINGLE__V1__REQUEST__BODY_REMOVE_ATTENDEE;
        req.remove_attendee = &ra;
        r = call(d, &req);
        assert_int_equal(r->ack->present, 9);
        mingle__v1__response__free_unpacked(r, NULL);
    }

    r = simple(d, 60, MINGLE__V1__REQUEST__BODY_UNSUBSCRIBE, ev);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_ACK);
    assert_int_equal(r->ack->count, 1);
    assert_int_equal(seen.unsubscribes, 1);
    mingle__v1__response__free_unpacked(r, NULL);

    r = simple(d, 61, MINGLE__V1__REQUEST__BODY_CLOSE_EVENT, ev);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_EVENT);
    assert_true(r->event->closed);
    assert_int_equal(r->event->rounds_done, 2);
    mingle__v1__response__free_unpacked(r, NULL);
    expect_error(simple(d, 62, MINGLE__V1__REQUEST__BODY_NEXT_ROUND, ev),
                 MINGLE__V1__ERROR_CODE__FAILED_PRECONDITION);
    assert_int_equal(seen.publishes, 2);
    {
        Mingle__V1__ListEvents le = MINGLE__V1__LIST_EVENTS__INIT;
        Request req = MINGLE__V1__REQUEST__INIT;

        req.id = 63;
        req.body_case = MINGLE__V1__REQUEST__BODY_LIST_EVENTS;
        req.list_events = &le;
        r = call(d, &req);
        assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_EVENTS);
        assert_int_equal(r->events->n_events, 0);
        mingle__v1__response__free_unpacked(r, NULL);
        le.include_closed = 1;
        r = call(d, &req);
        assert_int_equal(r->events->n_events, 1);
        mingle__v1__response__free_unpacked(r, NULL);
    }
    r = simple(d, 64, MINGLE__V1__REQUEST__BODY_GET_SCHEDULE, ev);
    schedule_cache(d, ev, r);
    mingle__v1__response__free_unpacked(r, NULL);
    dispatch_free(d);
    seen_reset();
}

static void test_errors(void **state)
{
    struct dispatch *d = make(NULL);
    Request req = MINGLE__V1__REQUEST__INIT;
    uint64_t ev;

    (void)state;
    memset(&sess, 0, sizeof(sess));
    expect_error(simple(d, 9, MINGLE__V1__REQUEST__BODY_GET_EVENT, 99),
                 MINGLE__V1__ERROR_CODE__NOT_FOUND);
    expect_error(simple(d, 10, MINGLE__V1__REQUEST__BODY_GET_EVENT, 0),
                 MINGLE__V1__ERROR_CODE__BAD_REQUEST);
    ev = create_event(d);
    expect_error(simple(d, 11, MINGLE__V1__REQUEST__BODY_NEXT_ROUND, ev),
                 MINGLE__V1__ERROR_CODE__FAILED_PRECONDITION);
    upsert(d, ev, 4);
    expect_error(checkin(d, ev, 5, 1, 0), MINGLE__V1__ERROR_CODE__NOT_FOUND);
    {
        Mingle__V1__CheckIn c = MINGLE__V1__CHECK_IN__INIT;
        char *bad = "has space";

        c.event_id = ev;
        c.attendee_ids = &bad;
        c.n_attendee_ids = 1;
        req.id = 12;
        req.body_case = MINGLE__V1__REQUEST__BODY_CHECK_IN;
        req.check_in = &c;
        expect_error(call(d, &req), MINGLE__V1__ERROR_CODE__BAD_REQUEST);
    }
    /* No body at all. */
    req = (Request)MINGLE__V1__REQUEST__INIT;
    req.id = 13;
    expect_error(call(d, &req), MINGLE__V1__ERROR_CODE__BAD_REQUEST);
    {
        /* Request{id 14, get_event{}} then a CreateEvent whose name holds
         * a NUL: the wire check catches what C strings would hide. */
        const uint8_t nul[] = { 0x08, 14, 0x1a, 0x07, 0x0a, 0x03, 'a', 0,
                                'b', 0x10, 0x04 };
        const uint8_t junk[] = { 0xff, 0xff, 0xff };
        Response *r;
        size_t before = seen.n;

        assert_int_equal(dispatch_handle(d, &seen, &sess, nul, sizeof(nul)),
                         DISPATCH_CONTINUE);
        assert_int_equal(seen.n, before + 1);
        r = decode_frame(seen.frames[before], seen.lens[before]);
        assert_int_equal(r->id, 14);
        expect_error(r, MINGLE__V1__ERROR_CODE__BAD_REQUEST);
        assert_int_equal(dispatch_handle(d, &seen, &sess, junk, sizeof(junk)),
                         DISPATCH_CLOSE);
        assert_int_equal(seen.n, before + 2);
        expect_error(decode_frame(seen.frames[before + 1],
                                  seen.lens[before + 1]),
                     MINGLE__V1__ERROR_CODE__BAD_FRAME);
    }
    /* Nothing changed on the way. */
    {
        Response *r = simple(d, 15, MINGLE__V1__REQUEST__BODY_GET_EVENT, ev);

        assert_int_equal(r->event->attendees, 4);
        assert_int_equal(r->event->present, 0);
        mingle__v1__response__free_unpacked(r, NULL);
    }
    dispatch_free(d);
    seen_reset();
}

static void test_token(void **state)
{
    struct dispatch *d = make("s3cret");
    Response *r;

    (void)state;
    memset(&sess, 0, sizeof(sess));
    {
        Mingle__V1__GetStats st = MINGLE__V1__GET_STATS__INIT;
        Request req = MINGLE__V1__REQUEST__INIT;

        req.id = 5;
        req.body_case = MINGLE__V1__REQUEST__BODY_GET_STATS;
        req.get_stats = &st;
        expect_error(call_v(d, &req, DISPATCH_CLOSE),
                     MINGLE__V1__ERROR_CODE__UNAUTHENTICATED);
    }
    assert_false(sess.authenticated);
    expect_error(hello(d, "s3cre", DISPATCH_CLOSE),
                 MINGLE__V1__ERROR_CODE__UNAUTHENTICATED);
    expect_error(hello(d, "s3cretX", DISPATCH_CLOSE),
                 MINGLE__V1__ERROR_CODE__UNAUTHENTICATED);
    assert_false(sess.authenticated);
    r = hello(d, "s3cret", DISPATCH_CONTINUE);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_HELLO);
    mingle__v1__response__free_unpacked(r, NULL);
    assert_true(sess.authenticated);
    r = simple(d, 6, MINGLE__V1__REQUEST__BODY_GET_STATS, 0);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_STATS);
    mingle__v1__response__free_unpacked(r, NULL);
    dispatch_free(d);
    seen_reset();
}

/* Table size and batch size are refused as malformed and too large; an
 * event that would outgrow its attendee limit as too large. */
static void limits_of_events(struct dispatch *d)
{
    Mingle__V1__CreateEvent c = MINGLE__V1__CREATE_EVENT__INIT;
    Mingle__V1__UpsertAttendees u = MINGLE__V1__UPSERT_ATTENDEES__INIT;
    Mingle__V1__Hello h = MINGLE__V1__HELLO__INIT;
    Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__Attendee *att, **ptr;
    char (*names)[16];
    uint32_t max = meetup_attendees_max(MEETUP_TABLE_SIZE_MAX), batch;
    size_t n, i;
    Response *r;

    h.protocol_version = MINGLE__V1__PROTOCOL_VERSION__PROTOCOL_VERSION_1;
    req.id = 24;
    req.body_case = MINGLE__V1__REQUEST__BODY_HELLO;
    req.hello = &h;
    r = call(d, &req);
    batch = r->hello->max_attendees_per_request;
    mingle__v1__response__free_unpacked(r, NULL);
    n = batch + 1;
    att = calloc(n, sizeof(*att));
    ptr = calloc(n, sizeof(*ptr));
    names = calloc(n, sizeof(*names));
    assert_true(att && ptr && names);
    c.name = "wide";
    c.table_size = MEETUP_TABLE_SIZE_MAX + 1;
    c.rounds = 2;
    req.id = 22;
    req.body_case = MINGLE__V1__REQUEST__BODY_CREATE_EVENT;
    req.create_event = &c;
    expect_error(call(d, &req), MINGLE__V1__ERROR_CODE__BAD_REQUEST);
    c.table_size = MEETUP_TABLE_SIZE_MAX;
    r = call(d, &req);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_EVENT);
    u.event_id = r->event->event_id;
    mingle__v1__response__free_unpacked(r, NULL);
    for (i = 0; i < n; i++) {
        att[i] = (Mingle__V1__Attendee)MINGLE__V1__ATTENDEE__INIT;
        snprintf(names[i], sizeof(names[i]), "w%zu", i);
        att[i].id = names[i];
        ptr[i] = &att[i];
    }
    u.attendees = ptr;
    u.n_attendees = n;
    req.id = 23;
    req.body_case = MINGLE__V1__REQUEST__BODY_UPSERT_ATTENDEES;
    req.upsert_attendees = &u;
    expect_error(call(d, &req), MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED);
    /* Within the batch limit, past the event's. */
    assert_true(max < batch);
    u.n_attendees = max;
    r = call(d, &req);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_ACK);
    mingle__v1__response__free_unpacked(r, NULL);
    u.attendees = ptr + max;
    u.n_attendees = 1;
    expect_error(call(d, &req), MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED);
    free(att);
    free(ptr);
    free(names);
}

static void test_version_and_limits(void **state)
{
    struct dispatch *d = make(NULL);
    Mingle__V1__Hello h = MINGLE__V1__HELLO__INIT;
    Mingle__V1__CheckIn c = MINGLE__V1__CHECK_IN__INIT;
    Request req = MINGLE__V1__REQUEST__INIT;
    char **many = calloc(10001, sizeof(*many));
    size_t i;

    (void)state;
    memset(&sess, 0, sizeof(sess));
    for (i = 0; i < 10001; i++)
        many[i] = "x";
    c.event_id = 1;
    c.attendee_ids = many;
    c.n_attendee_ids = MEETUP_ATTENDEES_MAX + 1;
    req.id = 20;
    req.body_case = MINGLE__V1__REQUEST__BODY_CHECK_IN;
    req.check_in = &c;
    expect_error(call(d, &req), MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED);
    free(many);
    limits_of_events(d);

    h.protocol_version = 2;
    req.id = 21;
    req.body_case = MINGLE__V1__REQUEST__BODY_HELLO;
    req.hello = &h;
    expect_error(call_v(d, &req, DISPATCH_CLOSE),
                 MINGLE__V1__ERROR_CODE__UNSUPPORTED_VERSION);
    dispatch_free(d);
    seen_reset();
}

static Response *preview(struct dispatch *d, uint64_t id, uint64_t ev)
{
    Mingle__V1__PreviewRound p = MINGLE__V1__PREVIEW_ROUND__INIT;
    Request req = MINGLE__V1__REQUEST__INIT;

    p.event_id = ev;
    req.id = id;
    req.body_case = MINGLE__V1__REQUEST__BODY_PREVIEW_ROUND;
    req.preview_round = &p;
    return call(d, &req);
}

/* The seats of a round as "a0 a3 | a1 a2 |" in table order. */
static void round_text(const Mingle__V1__RoundAssigned *r, char *buf,
                       size_t cap)
{
    size_t t, i, len = 0;

    buf[0] = '\0';
    for (t = 0; t < r->n_tables; t++) {
        for (i = 0; i < r->tables[t]->n_seats; i++)
            len += (size_t)snprintf(buf + len, cap - len, "%s ",
                                    r->tables[t]->seats[i]->id);
        len += (size_t)snprintf(buf + len, cap - len, "| ");
    }
}

/* Committed changes hand the planner jobs, its plans are installed, and
 * PreviewRound and Stats report the plan. */
static void test_background_planning(void **state)
{
    struct dispatch *d = make_with(NULL, &planning_ops);
    struct meetup_plan_opts o = { .time_limit_ms = 600000, .effort = 0.2,
                                  .threads = 1 };
    struct meetup_plan_result *res;
    char before[512], after[512];
    Response *r;
    uint64_t ev;

    (void)state;
    memset(&sess, 0, sizeof(sess));
    memset(&planned, 0, sizeof(planned));
    planned.state = DISPATCH_PLAN_WORKING;
    ev = create_event(d);
    upsert(d, ev, 12);
    /* Nobody present: nothing to plan, so the planner is told to stop. */
    assert_int_equal(planned.jobs, 0);
    assert_int_equal(planned.calls, 2);
    expect_error(preview(d, 30, ev),
                 MINGLE__V1__ERROR_CODE__FAILED_PRECONDITION);
    expect_error(preview(d, 31, 99), MINGLE__V1__ERROR_CODE__NOT_FOUND);
    expect_error(preview(d, 32, 0), MINGLE__V1__ERROR_CODE__BAD_REQUEST);
    mingle__v1__response__free_unpacked(checkin(d, ev, 0, 10, 0), NULL);
    assert_int_equal(planned.jobs, 1);
    assert_int_equal(planned.last_event, ev);

    /* The job runs (here, by hand) and its plan is installed. */
    assert_int_equal(meetup_plan_run(planned.job, &o, &res), 0);
    assert_int_equal(dispatch_plan_install(d, res), 0);
    meetup_plan_result_free(res);
    r = preview(d, 33, ev);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_PREVIEW);
    assert_int_equal(r->preview->round->round, 1);
    assert_int_equal(r->preview->round->summary->attendees, 10);
    assert_int_equal(r->preview->plan->state,
                     MINGLE__V1__PLANNER_STATE__PLANNER_WORKING);
    assert_true(r->preview->plan->background);
    assert_int_equal(r->preview->plan->rounds, 3);
    assert_int_equal(r->preview->plan->age_ms, 1500);
    round_text(r->preview->round, before, sizeof(before));
    mingle__v1__response__free_unpacked(r, NULL);

    /* While the planner works, Stats leaves the figures to it. */
    r = simple(d, 34, MINGLE__V1__REQUEST__BODY_GET_STATS, ev);
    assert_null(r->stats->rounds_quality);
    assert_non_null(r->stats->plan_quality);
    assert_int_equal(r->stats->plan_quality->attendees, 10);
    assert_non_null(r->stats->plan);
    mingle__v1__response__free_unpacked(r, NULL);

    r = simple(d, 35, MINGLE__V1__REQUEST__BODY_NEXT_ROUND, ev);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_ROUND);
    round_text(r->round, after, sizeof(after));
    assert_string_equal(before, after);
    mingle__v1__response__free_unpacked(r, NULL);
    assert_int_equal(planned.jobs, 2);

    /* The planner stopped without bringing the rounds' figures: Stats
     * does not score the event in the loop, it queues a job for them. */
    planned.state = DISPATCH_PLAN_CONVERGED;
    r = simple(d, 36, MINGLE__V1__REQUEST__BODY_GET_STATS, ev);
    assert_null(r->stats->rounds_quality);
    assert_int_equal(r->stats->plan->state,
                     MINGLE__V1__PLANNER_STATE__PLANNER_CONVERGED);
    assert_int_equal(r->stats->plan->rounds, 2);
    mingle__v1__response__free_unpacked(r, NULL);
    assert_int_equal(planned.jobs, 3);
    assert_int_equal(meetup_plan_run(planned.job, &o, &res), 0);
    dispatch_plan_install(d, res);
    meetup_plan_result_free(res);
    r = simple(d, 37, MINGLE__V1__REQUEST__BODY_GET_STATS, ev);
    assert_non_null(r->stats->rounds_quality);
    assert_int_equal(r->stats->rounds_quality->attendees, 10);
    mingle__v1__response__free_unpacked(r, NULL);
    assert_int_equal(planned.jobs, 3);
    /* Server-wide stats have no plan. */
    r = simple(d, 38, MINGLE__V1__REQUEST__BODY_GET_STATS, 0);
    assert_null(r->stats->plan);
    assert_null(r->stats->rounds_quality);
    mingle__v1__response__free_unpacked(r, NULL);

    /* At start, every open event is planned; a closed one stops. */
    dispatch_plan_all(d);
    assert_int_equal(planned.jobs, 4);
    mingle__v1__response__free_unpacked(
        simple(d, 39, MINGLE__V1__REQUEST__BODY_CLOSE_EVENT, ev), NULL);
    assert_int_equal(planned.jobs, 4);
    assert_int_equal(planned.last_event, ev);
    meetup_plan_job_free(planned.job);
    dispatch_free(d);
    seen_reset();
}

static void test_error_frame(void **state)
{
    uint8_t *frame;
    size_t len;
    Response *r;

    (void)state;
    assert_int_equal(dispatch_error_frame(DISPATCH_ERR_FRAME_TOO_BIG,
                                          "too big", &frame, &len), 0);
    r = decode_frame(frame, len);
    assert_int_equal(r->id, 0);
    assert_int_equal(r->error->code, MINGLE__V1__ERROR_CODE__FRAME_TOO_BIG);
    assert_string_equal(r->error->message, "too big");
    mingle__v1__response__free_unpacked(r, NULL);
    free(frame);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello),
        cmocka_unit_test(test_meetup_flow),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_version_and_limits),
        cmocka_unit_test(test_background_planning),
        cmocka_unit_test(test_error_frame),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
