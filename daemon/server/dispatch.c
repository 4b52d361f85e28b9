/* dispatch.c -- request frames in, engine calls, response frames out.
 *
 * A body is unpacked through a capped arena (pballoc), then checked before
 * anything uses it: every string on the wire is UTF-8 without NUL (checked
 * on the wire, since protobuf-c's C strings would silently stop at a NUL),
 * ids, texts and batch sizes are within their limits.  Then the request
 * is routed: mutations to dispatch_mutate.c, queries to dispatch_reply.c.
 * Responses are built in a second arena that lives for one request and
 * borrow the hub's strings, so building one copies no text.  After a
 * committed change, the events it concerns get a planning snapshot, which
 * the transport hands to the background planner (ops->plan).
 */
#include "dispatch_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistr.h>

#include "frame.h"
#include "log.h"
#include "meetup.h"
#include "mingle.pb-c.h"
#include "mingle_version.h"
#include "pballoc.h"

#define DISPATCH_OUT_CAP_BYTES (512u * 1024u * 1024u)
#define DISPATCH_WIRE_DEPTH_MAX 8 /* deeper than any message of the proto */

/* ---- shared helpers ---- */

int dispatch_fail_set(struct dispatch_fail *f, Mingle__V1__ErrorCode code,
                      const char *fmt, ...)
{
    va_list ap;

    f->code = code;
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
    va_end(ap);
    return -1;
}

void *dispatch_out_alloc(struct dispatch *d, size_t size)
{
    ProtobufCAllocator *a = pballoc_allocator(d->out);

    return a->alloc(a->allocator_data, size);
}

Mingle__V1__ErrorCode dispatch_errno_code(int err)
{
    switch (err) {
    case -EINVAL:
        return MINGLE__V1__ERROR_CODE__BAD_REQUEST;
    case -ENOENT:
        return MINGLE__V1__ERROR_CODE__NOT_FOUND;
    case -EEXIST:
        return MINGLE__V1__ERROR_CODE__ALREADY_EXISTS;
    case -EPERM:
        return MINGLE__V1__ERROR_CODE__FAILED_PRECONDITION;
    case -ENOMEM:
    case -ENOSPC:
        return MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED;
    default:
        break;
    }
    return MINGLE__V1__ERROR_CODE__INTERNAL;
}

int dispatch_check_event_id(struct dispatch_fail *f, uint64_t id)
{
    if (id == 0)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__BAD_REQUEST,
                                 "event_id is required");
    return 0;
}

/* ---- encoding ---- */

/* Frames an encoded message: prefix + body in one malloc'ed buffer. */
static int dispatch_pack_frame(const ProtobufCMessage *m, uint8_t **frame,
                               size_t *len)
{
    size_t body = protobuf_c_message_get_packed_size(m);
    uint8_t prefix[FRAME_PREFIX_MAX_BYTES];
    size_t plen = frame_put_prefix(prefix, body);
    uint8_t *buf = malloc(plen + body + 1);

    if (buf == NULL)
        return -ENOMEM;
    memcpy(buf, prefix, plen);
    protobuf_c_message_pack(m, buf + plen);
    *frame = buf;
    *len = plen + body;
    return 0;
}

static void dispatch_send_msg(struct dispatch *d, void *peer,
                              const ProtobufCMessage *m)
{
    uint8_t *frame;
    size_t len;

    if (dispatch_pack_frame(m, &frame, &len) < 0)
        return;
    /* -ENOBUFS: the transport drops the peer itself. */
    d->ops->send(peer, frame, len);
    free(frame);
}

static void dispatch_send_error(struct dispatch *d, void *peer, uint64_t id,
                                Mingle__V1__ErrorCode code, const char *msg)
{
    Mingle__V1__Error err = MINGLE__V1__ERROR__INIT;
    Mingle__V1__Response resp = MINGLE__V1__RESPONSE__INIT;

    err.code = code;
    err.message = (char *)msg;
    resp.id = id;
    resp.body_case = MINGLE__V1__RESPONSE__BODY_ERROR;
    resp.error = &err;
    dispatch_send_msg(d, peer, &resp.base);
}

int dispatch_error_frame(enum dispatch_error code, const char *message,
                         uint8_t **frame, size_t *len)
{
    Mingle__V1__Error err = MINGLE__V1__ERROR__INIT;
    Mingle__V1__Response resp = MINGLE__V1__RESPONSE__INIT;

    err.code = (Mingle__V1__ErrorCode)code;
    err.message = (char *)(message ? message : "");
    resp.body_case = MINGLE__V1__RESPONSE__BODY_ERROR;
    resp.error = &err;
    return dispatch_pack_frame(&resp.base, frame, len);
}

/* ---- checking what arrived ---- */

static int dispatch_wire_varint(const uint8_t *p, size_t len, size_t *off,
                                uint64_t *v)
{
    unsigned shift = 0;

    *v = 0;
    while (*off < len && shift < 64) {
        uint8_t b = p[(*off)++];

        *v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0)
            return 0;
        shift += 7;
    }
    return -1;
}

/* Walks an (already decoded) body and checks every string field: UTF-8,
 * no NUL.  Unknown fields are skipped. */
static int dispatch_wire_strings_ok(const ProtobufCMessageDescriptor *desc,
                                    const uint8_t *p, size_t len, int depth)
{
    size_t off = 0;

    if (depth > DISPATCH_WIRE_DEPTH_MAX)
        return -1;
    while (off < len) {
        const ProtobufCFieldDescriptor *fd;
        uint64_t key, n;

        if (dispatch_wire_varint(p, len, &off, &key) < 0)
            return -1;
        switch (key & 7) {
        case 0:
            if (dispatch_wire_varint(p, len, &off, &n) < 0)
                return -1;
            continue;
        case 1:
            n = 8;
            break;
        case 5:
            n = 4;
            break;
        case 2:
            if (dispatch_wire_varint(p, len, &off, &n) < 0)
                return -1;
            break;
        default:
            return -1;
        }
        if (n > len - off)
            return -1;
        fd = (key & 7) == 2 && key >> 3 <= UINT32_MAX
                 ? protobuf_c_message_descriptor_get_field(
                       desc, (unsigned)(key >> 3))
                 : NULL;
        if (fd != NULL && fd->type == PROTOBUF_C_TYPE_STRING &&
            (memchr(p + off, 0, n) != NULL || u8_check(p + off, n) != NULL))
            return -1;
        if (fd != NULL && fd->type == PROTOBUF_C_TYPE_MESSAGE &&
            dispatch_wire_strings_ok(fd->descriptor, p + off, n,
                                     depth + 1) < 0)
            return -1;
        off += n;
    }
    return 0;
}

int dispatch_check_id(struct dispatch_fail *f, const char *id)
{
    if (roster_check_id(id) < 0)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__BAD_REQUEST,
                                 "bad attendee id \"%.64s\"", id);
    return 0;
}

/* Constant time in the configured token's length, whatever is offered. */
static bool dispatch_token_matches(const struct dispatch *d, const char *given)
{
    size_t glen = strlen(given), i;
    unsigned char diff = glen != d->token_len;

    for (i = 0; i < d->token_len; i++)
        diff |= (unsigned char)d->token[i] ^
                (unsigned char)(i < glen ? given[i] : 0);
    return diff == 0;
}

/* ---- subscriptions and the handshake ---- */

static int dispatch_do_subscribe(struct dispatch *d, void *peer,
                                 const Mingle__V1__Request *req,
                                 Mingle__V1__Response *resp,
                                 struct dispatch_fail *f)
{
    uint64_t event_id = req->subscribe->event_id;
    struct meetup_event_info info;
    Mingle__V1__Subscribed *m;

    if (dispatch_check_event_id(f, event_id) < 0)
        return -1;
    if (meetup_event_info(d->hub, event_id, &info) < 0)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__NOT_FOUND,
                                 "no such event");
    DISPATCH_OUT_NEW(d, m, Mingle__V1__Subscribed,
                     MINGLE__V1__SUBSCRIBED__INIT);
    if (m == NULL || d->ops->subscribe(peer, event_id, req->id) < 0)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                                 "cannot subscribe");
    m->event_id = event_id;
    m->rounds_done = info.rounds_done;
    resp->body_case = MINGLE__V1__RESPONSE__BODY_SUBSCRIBED;
    resp->subscribed = m;
    return 0;
}

static int dispatch_do_unsubscribe(struct dispatch *d, void *peer,
                                   uint64_t event_id,
                                   Mingle__V1__Response *resp,
                                   struct dispatch_fail *f)
{
    Mingle__V1__Ack *ack;

    if (dispatch_check_event_id(f, event_id) < 0)
        return -1;
    DISPATCH_OUT_NEW(d, ack, Mingle__V1__Ack, MINGLE__V1__ACK__INIT);
    if (ack == NULL)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                                 "out of memory");
    ack->count = d->ops->unsubscribe(peer, event_id) == 0;
    resp->body_case = MINGLE__V1__RESPONSE__BODY_ACK;
    resp->ack = ack;
    return 0;
}

static int dispatch_do_hello(struct dispatch *d, struct dispatch_session *s,
                             const Mingle__V1__Hello *h,
                             Mingle__V1__Response *resp,
                             struct dispatch_fail *f)
{
    Mingle__V1__HelloReply *m;

    if (d->token != NULL && !dispatch_token_matches(d, h->token))
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__UNAUTHENTICATED,
                                 "wrong token");
    if (h->protocol_version !=
        MINGLE__V1__PROTOCOL_VERSION__PROTOCOL_VERSION_1)
        return dispatch_fail_set(f,
                                 MINGLE__V1__ERROR_CODE__UNSUPPORTED_VERSION,
                                 "this server speaks protocol version 1");
    DISPATCH_OUT_NEW(d, m, Mingle__V1__HelloReply,
                     MINGLE__V1__HELLO_REPLY__INIT);
    if (m == NULL)
        return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__RESOURCE_EXHAUSTED,
                                 "out of memory");
    s->authenticated = true;
    if (h->client != NULL && h->client[0] != '\0') {
        /* The client's name is the peer's text: escaped and cut short, so
         * it can neither forge log lines nor flood them. */
        char name[LOG_ESCAPE_BUF_BYTES];

        log_msg(LOG_LEVEL_INFO, s->conn_id, "hello from %s",
                log_escape(name, sizeof(name), (const uint8_t *)h->client,
                           strlen(h->client)));
    }
    m->protocol_version = MINGLE__V1__PROTOCOL_VERSION__PROTOCOL_VERSION_1;
    m->server_version = (char *)MINGLE_VERSION;
    m->max_frame_bytes = d->max_frame_bytes;
    m->max_attendees_per_request = DISPATCH_MAX_ATTENDEES_PER_REQUEST;
    resp->body_case = MINGLE__V1__RESPONSE__BODY_HELLO;
    resp->hello = m;
    return 0;
}

/* ---- background planning ---- */

void dispatch_plan_event(struct dispatch *d, uint64_t event_id)
{
    struct meetup_plan_job *job = NULL;

    if (d->ops->plan == NULL)
        return;
    if (meetup_plan_job_new(d->hub, event_id, &job) == -ENOMEM)
        log_msg(LOG_LEVEL_WARN, 0, "event %llu: out of memory for a "
                "planning snapshot; NextRound plans on the spot",
                (unsigned long long)event_id);
    /* No job (nothing to plan) stops what the planner does for it. */
    d->ops->plan(d->server, event_id, job);
}

static void dispatch_plan_range(struct dispatch *d, uint64_t first,
                                uint64_t last)
{
    uint64_t id;

    if (d->ops->plan == NULL)
        return;
    for (id = first; id != 0 && id <= last; id++) {
        struct meetup_event_info info;

        if (meetup_event_info(d->hub, id, &info) == 0 && !info.closed)
            dispatch_plan_event(d, id);
    }
}

void dispatch_plan_all(struct dispatch *d)
{
    dispatch_plan_range(d, 1, meetup_event_count(d->hub));
}

int dispatch_plan_install(struct dispatch *d, struct meetup_plan_result *res)
{
    struct meetup_plan_info info;
    int ret;

    meetup_plan_result_info(res, &info);
    ret = meetup_plan_install(d->hub, res);
    if (ret == 0)
        log_msg(LOG_LEVEL_DEBUG, 0, "event %llu: plan from round %u "
                "installed: %u rounds, %llu repeats, objective %.1f, "
                "%u epochs%s", (unsigned long long)info.event_id,
                info.next_round, info.rounds,
                (unsigned long long)info.repeat_pairs, info.objective,
                info.epochs, info.converged ? ", converged" : "");
    return ret;
}

/* ---- the entry points ---- */

/* Routes one decoded request; fills rp or f.  NextRound and GetSchedule
 * answer themselves (rp->resp stays unset). */
static int dispatch_route(struct dispatch *d, void *peer,
                          struct dispatch_session *s,
                          const Mingle__V1__Request *req,
                          struct dispatch_reply *rp, struct dispatch_fail *f)
{
    Mingle__V1__Response *resp = &rp->resp;

    switch (req->body_case) {
    case MINGLE__V1__REQUEST__BODY_HELLO:
        return dispatch_do_hello(d, s, req->hello, resp, f);
    case MINGLE__V1__REQUEST__BODY_CREATE_EVENT:
        return dispatch_create_event(d, req->create_event, resp, f);
    case MINGLE__V1__REQUEST__BODY_GET_EVENT:
        return dispatch_event(d, req->get_event->event_id, resp, f);
    case MINGLE__V1__REQUEST__BODY_LIST_EVENTS:
        return dispatch_list_events(d, req->list_events->include_closed, resp,
                                    f);
    case MINGLE__V1__REQUEST__BODY_CLOSE_EVENT:
        return dispatch_close_event(d, req->close_event->event_id, resp, f);
    case MINGLE__V1__REQUEST__BODY_UPSERT_ATTENDEES:
    case MINGLE__V1__REQUEST__BODY_REMOVE_ATTENDEE:
    case MINGLE__V1__REQUEST__BODY_CHECK_IN:
    case MINGLE__V1__REQUEST__BODY_CHECK_OUT:
    case MINGLE__V1__REQUEST__BODY_ADD_PAIRS:
    case MINGLE__V1__REQUEST__BODY_FORGET_ATTENDEE:
        return dispatch_ack_mutation(d, req, resp, f);
    case MINGLE__V1__REQUEST__BODY_NEXT_ROUND:
        return dispatch_next_round(d, peer, req, f);
    case MINGLE__V1__REQUEST__BODY_GET_SCHEDULE:
        return dispatch_schedule(d, peer, req, rp, f);
    case MINGLE__V1__REQUEST__BODY_EXPLAIN:
        return dispatch_explain(d, req->explain, rp, f);
    case MINGLE__V1__REQUEST__BODY_GET_STATS:
        return dispatch_stats(d, req->get_stats->event_id, resp, f);
    case MINGLE__V1__REQUEST__BODY_SUBSCRIBE:
        return dispatch_do_subscribe(d, peer, req, resp, f);
    case MINGLE__V1__REQUEST__BODY_UNSUBSCRIBE:
        return dispatch_do_unsubscribe(d, peer, req->unsubscribe->event_id,
                                       resp, f);
    case MINGLE__V1__REQUEST__BODY_LIST_ATTENDEES:
        return dispatch_attendees(d, req->list_attendees->event_id, rp, f);
    case MINGLE__V1__REQUEST__BODY_EXPORT_HISTORY:
        return dispatch_history(d, req->export_history, resp, f);
    case MINGLE__V1__REQUEST__BODY_PREVIEW_ROUND:
        return dispatch_preview(d, req->preview_round->event_id, rp, f);
    default:
        break;
    }
    return dispatch_fail_set(f, MINGLE__V1__ERROR_CODE__BAD_REQUEST,
                             "request has no known body");
}

enum dispatch_verdict dispatch_handle(struct dispatch *d, void *peer,
                                      struct dispatch_session *s,
                                      const uint8_t *body, size_t len)
{
    struct dispatch_reply rp = { .resp = MINGLE__V1__RESPONSE__INIT };
    struct dispatch_fail f = { MINGLE__V1__ERROR_CODE__ERROR_CODE_UNSPECIFIED,
                               "" };
    enum dispatch_verdict verdict = DISPATCH_CONTINUE;
    Mingle__V1__Request *req;

    d->requests++;
    pballoc_reset(d->in, pballoc_cap_for(len));
    pballoc_reset(d->out, DISPATCH_OUT_CAP_BYTES);
    req = mingle__v1__request__unpack(pballoc_allocator(d->in), len, body);
    if (req == NULL) {
        dispatch_send_error(d, peer, 0, MINGLE__V1__ERROR_CODE__BAD_FRAME,
                            pballoc_exhausted(d->in)
                                ? "message too costly to decode"
                                : "undecodable request");
        return DISPATCH_CLOSE;
    }
    if (d->token != NULL && !s->authenticated &&
        req->body_case != MINGLE__V1__REQUEST__BODY_HELLO) {
        dispatch_send_error(d, peer, req->id,
                            MINGLE__V1__ERROR_CODE__UNAUTHENTICATED,
                            "the first request must be Hello with the token");
        return DISPATCH_CLOSE;
    }
    if (dispatch_wire_strings_ok(&mingle__v1__request__descriptor, body, len,
                                 0) < 0)
        dispatch_fail_set(&f, MINGLE__V1__ERROR_CODE__BAD_REQUEST,
                          "a string is not UTF-8 or contains NUL");
    else if (dispatch_route(d, peer, s, req, &rp, &f) == 0 &&
             rp.resp.body_case != MINGLE__V1__RESPONSE__BODY__NOT_SET) {
        rp.resp.id = req->id;
        dispatch_send_msg(d, peer, &rp.resp.base);
    }
    if (f.code != MINGLE__V1__ERROR_CODE__ERROR_CODE_UNSPECIFIED) {
        dispatch_send_error(d, peer, req->id, f.code, f.msg);
        /* A connection that fails the handshake gets no second try. */
        if (f.code == MINGLE__V1__ERROR_CODE__UNAUTHENTICATED ||
            f.code == MINGLE__V1__ERROR_CODE__UNSUPPORTED_VERSION)
            verdict = DISPATCH_CLOSE;
    }
    meetup_schedule_free(rp.sched);
    meetup_explain_free(rp.explain);
    meetup_attendee_list_free(rp.list);
    /* Once the response is queued: the snapshots must see the committed
     * change, and the response needs none of them. */
    if (!d->failed)
        dispatch_plan_range(d, d->replan_first, d->replan_last);
    d->replan_first = d->replan_last = 0;
    return d->failed ? DISPATCH_STOP : verdict;
}

int dispatch_set_auth_token(struct dispatch *d, const char *token)
{
    char *copy = NULL;
    int changed;

    if (token != NULL && token[0] != '\0') {
        copy = strdup(token);
        if (copy == NULL)
            return -ENOMEM;
    }
    changed = (copy == NULL) != (d->token == NULL) ||
              (copy != NULL && strcmp(copy, d->token) != 0);
    if (d->token != NULL) {
        explicit_bzero(d->token, d->token_len);
        free(d->token);
    }
    d->token = copy;
    d->token_len = copy ? strlen(copy) : 0;
    return changed;
}

struct dispatch *dispatch_new(const struct dispatch_config *cfg,
                              const struct dispatch_ops *ops, void *server,
                              int *err, char *msg, size_t msgcap)
{
    struct dispatch *d = calloc(1, sizeof(*d));

    *err = -ENOMEM;
    snprintf(msg, msgcap, "%s", strerror(ENOMEM));
    if (d == NULL)
        return NULL;
    d->ops = ops;
    d->server = server;
    d->max_frame_bytes = cfg->max_frame_bytes ? cfg->max_frame_bytes
                                               : FRAME_DEFAULT_MAX_BYTES;
    d->started = time(NULL);
    if (dispatch_set_auth_token(d, cfg->auth_token) < 0)
        goto fail;
    if (cfg->data_dir != NULL) {
        d->data_dir = strdup(cfg->data_dir);
        if (d->data_dir == NULL)
            goto fail;
    }
    d->hub = meetup_new();
    d->in = pballoc_new(pballoc_cap_for(0));
    d->out = pballoc_new(DISPATCH_OUT_CAP_BYTES);
    if (d->hub == NULL || d->in == NULL || d->out == NULL)
        goto fail;
    if (d->data_dir != NULL) {
        *err = store_open(d->data_dir, &d->store, msg, msgcap);
        if (*err < 0)
            goto fail;
        *err = store_load(d->store, d->hub);
        if (*err < 0) {
            snprintf(msg, msgcap, "cannot load %s: %s", d->data_dir,
                     store_error(d->store));
            goto fail;
        }
    }
    *err = 0;
    return d;
fail:
    dispatch_free(d);
    return NULL;
}

bool dispatch_tidy_pending(const struct dispatch *d)
{
    return d->store != NULL && store_log_pending(d->store);
}

bool dispatch_tidy(struct dispatch *d)
{
    return d->store != NULL && store_log_retry(d->store) == -EBUSY;
}

void dispatch_free(struct dispatch *d)
{
    if (d == NULL)
        return;
    dispatch_schedule_cache_free(d);
    meetup_free(d->hub);
    store_close(d->store);
    pballoc_free(d->in);
    pballoc_free(d->out);
    dispatch_set_auth_token(d, NULL);
    free(d->data_dir);
    free(d);
}
