/* fuzz_dispatch.c -- libFuzzer harness for dispatch_handle().
 *
 * Built with -Dfuzz=true; tests/fuzz/README.md says how to run it.
 *
 * Input: byte 0 holds flags (bit 0: the server requires an auth token,
 * FUZZ_TOKEN), the rest is what a client would send: request bodies, each
 * behind its varint length as on the wire.  A tail that is no complete
 * frame is handed over as one last body, so any bytes reach the decoder.
 * Every input gets a fresh in-memory dispatcher (no data_dir), and every
 * body goes through dispatch_handle() with one session; when dispatch
 * says close, the next body arrives on a new connection.  That runs the
 * protobuf decoding through the bounded arena and every request type
 * against the meetup state.
 *
 * The fake transport checks the protocol contract: each request gets
 * exactly one response frame; the frame parses with frame_parse() and
 * decodes with protobuf-c; every string in it is UTF-8 without NUL; it
 * carries the request's id (0 only for an undecodable one) and either
 * an Error with a code and a message or the body that answers the
 * request type; dispatch closes only after an Error that says so, and
 * never stops (no store to fail).  A NextRound's round is published once,
 * as the same bytes the requester got, and decodes as a push.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "dispatch.h"
#include "frame.h"
#include "mingle.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TOKEN "fuzz-token-0123456789"
#define FUZZ_FLAG_TOKEN 1u
#define FUZZ_MAX_BODY_BYTES (64u * 1024u)
#define FUZZ_MAX_SUBSCRIPTIONS 4
#define FUZZ_PUSH_ID 77u

/* The transport's view of one request and its connection. */
static struct {
    uint8_t *frame; /* the last frame sent, for the publish check */
    size_t frame_len;
    size_t sends;
    size_t publishes;
    uint64_t subs[FUZZ_MAX_SUBSCRIPTIONS];
    size_t n_subs;
} fz;

static int fuzz_server; /* its address is the server handle */

/* Every string field, in every submessage that is set, is UTF-8 without
 * NUL (protobuf-c's char * stops at the first NUL, so check the length
 * the wire would carry: strlen is all it can carry). */
static void fuzz_check_strings(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *desc = m->descriptor;
    unsigned i;

    for (i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &desc->fields[i];
        const char *base = (const char *)m + fd->offset;
        size_t n = 1, j;

        if (fd->type != PROTOBUF_C_TYPE_STRING &&
            fd->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)((const char *)m + fd->quantifier_offset) !=
                fd->id)
            continue;
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)((const char *)m + fd->quantifier_offset);
            base = *(char *const *)base;
        }
        for (j = 0; j < n; j++) {
            const void *v = ((const void *const *)base)[j];

            if (v == NULL)
                continue;
            if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
                fuzz_check_strings(v);
            else if (u8_check(v, strlen(v)) != NULL)
                abort();
        }
    }
}

static int fuzz_send(void *peer, const uint8_t *frame, size_t len)
{
    size_t plen, blen;
    Mingle__V1__Response *r;

    if (peer != &fz || len == 0)
        abort();
    if (frame_parse(frame, len, SIZE_MAX, &plen, &blen) != FRAME_OK ||
        plen + blen != len)
        abort();
    r = mingle__v1__response__unpack(NULL, blen, frame + plen);
    if (r == NULL)
        abort();
    fuzz_check_strings(&r->base);
    mingle__v1__response__free_unpacked(r, NULL);
    free(fz.frame);
    fz.frame = malloc(len);
    if (fz.frame == NULL)
        abort();
    memcpy(fz.frame, frame, len);
    fz.frame_len = len;
    fz.sends++;
    return 0;
}

static int fuzz_subscribe(void *peer, uint64_t event_id, uint64_t request_id)
{
    size_t i;

    if (peer != &fz || event_id == 0)
        abort();
    for (i = 0; i < fz.n_subs; i++)
        if (fz.subs[i] == event_id)
            return 0;
    /* A full table exercises dispatch's failure path. */
    if (fz.n_subs == FUZZ_MAX_SUBSCRIPTIONS)
        return -ENOMEM;
    fz.subs[fz.n_subs++] = event_id;
    return 0;
}

static int fuzz_unsubscribe(void *peer, uint64_t event_id)
{
    size_t i;

    if (peer != &fz)
        abort();
    for (i = 0; i < fz.n_subs; i++)
        if (fz.subs[i] == event_id) {
            fz.subs[i] = fz.subs[--fz.n_subs];
            return 0;
        }
    return -ENOENT;
}

/* The body must be the tail of the requester's frame, and make a push
 * when a subscriber's id goes in front. */
static void fuzz_publish(void *server, uint64_t event_id, const uint8_t *body,
                         size_t len)
{
    uint8_t *push = malloc(len + 2);
    Mingle__V1__Response *r;

    if (server != &fuzz_server || event_id == 0 || push == NULL ||
        fz.frame == NULL || len > fz.frame_len ||
        memcmp(fz.frame + fz.frame_len - len, body, len) != 0)
        abort();
    push[0] = (1u << 3) | 0u; /* Response.id, varint */
    push[1] = FUZZ_PUSH_ID;
    memcpy(push + 2, body, len);
    r = mingle__v1__response__unpack(NULL, len + 2, push);
    if (r == NULL || r->id != FUZZ_PUSH_ID ||
        r->body_case != MINGLE__V1__RESPONSE__BODY_ROUND ||
        r->round->event_id != event_id)
        abort();
    mingle__v1__response__free_unpacked(r, NULL);
    free(push);
    fz.publishes++;
}

static void fuzz_stats(void *server, uint32_t *connections,
                       uint32_t *subscribers)
{
    if (server != &fuzz_server)
        abort();
    *connections = 1;
    *subscribers = (uint32_t)fz.n_subs;
}

static const struct dispatch_ops fuzz_ops = {
    .send = fuzz_send,
    .subscribe = fuzz_subscribe,
    .unsubscribe = fuzz_unsubscribe,
    .publish = fuzz_publish,
    .stats = fuzz_stats,
};

/* The response body that answers a request type. */
static Mingle__V1__Response__BodyCase
fuzz_answer_case(Mingle__V1__Request__BodyCase c)
{
    switch (c) {
    case MINGLE__V1__REQUEST__BODY_HELLO:
        return MINGLE__V1__RESPONSE__BODY_HELLO;
    case MINGLE__V1__REQUEST__BODY_CREATE_EVENT:
    case MINGLE__V1__REQUEST__BODY_GET_EVENT:
    case MINGLE__V1__REQUEST__BODY_CLOSE_EVENT:
        return MINGLE__V1__RESPONSE__BODY_EVENT;
    case MINGLE__V1__REQUEST__BODY_LIST_EVENTS:
        return MINGLE__V1__RESPONSE__BODY_EVENTS;
    case MINGLE__V1__REQUEST__BODY_UPSERT_ATTENDEES:
    case MINGLE__V1__REQUEST__BODY_REMOVE_ATTENDEE:
    case MINGLE__V1__REQUEST__BODY_CHECK_IN:
    case MINGLE__V1__REQUEST__BODY_CHECK_OUT:
    case MINGLE__V1__REQUEST__BODY_ADD_PAIRS:
    case MINGLE__V1__REQUEST__BODY_FORGET_ATTENDEE:
    case MINGLE__V1__REQUEST__BODY_UNSUBSCRIBE:
        return MINGLE__V1__RESPONSE__BODY_ACK;
    case MINGLE__V1__REQUEST__BODY_NEXT_ROUND:
        return MINGLE__V1__RESPONSE__BODY_ROUND;
    case MINGLE__V1__REQUEST__BODY_GET_SCHEDULE:
        return MINGLE__V1__RESPONSE__BODY_SCHEDULE;
    case MINGLE__V1__REQUEST__BODY_EXPLAIN:
        return MINGLE__V1__RESPONSE__BODY_EXPLAIN;
    case MINGLE__V1__REQUEST__BODY_GET_STATS:
        return MINGLE__V1__RESPONSE__BODY_STATS;
    case MINGLE__V1__REQUEST__BODY_SUBSCRIBE:
        return MINGLE__V1__RESPONSE__BODY_SUBSCRIBED;
    case MINGLE__V1__REQUEST__BODY_LIST_ATTENDEES:
        return MINGLE__V1__RESPONSE__BODY_ATTENDEES;
    case MINGLE__V1__REQUEST__BODY_EXPORT_HISTORY:
        return MINGLE__V1__RESPONSE__BODY_HISTORY;
    default:
        break;
    }
    return MINGLE__V1__RESPONSE__BODY__NOT_SET;
}

/* Hands one body to dispatch and checks the one response it sent.
 * Returns whether the connection stays open. */
static bool fuzz_request(struct dispatch *d, struct dispatch_session *s,
                         const uint8_t *body, size_t len)
{
    Mingle__V1__Request *req;
    Mingle__V1__Response *r;
    enum dispatch_verdict v;
    size_t plen, blen;
    bool closing;

    fz.sends = 0;
    fz.publishes = 0;
    v = dispatch_handle(d, &fz, s, body, len);
    if (v == DISPATCH_STOP || fz.sends != 1)
        abort();
    frame_parse(fz.frame, fz.frame_len, SIZE_MAX, &plen, &blen);
    r = mingle__v1__response__unpack(NULL, blen, fz.frame + plen);
    req = mingle__v1__request__unpack(NULL, len, body);
    if (r == NULL)
        abort();
    if (r->body_case == MINGLE__V1__RESPONSE__BODY_ERROR) {
        Mingle__V1__ErrorCode code = r->error->code;

        if (code == MINGLE__V1__ERROR_CODE__ERROR_CODE_UNSPECIFIED ||
            r->error->message[0] == '\0')
            abort();
        closing = code == MINGLE__V1__ERROR_CODE__BAD_FRAME ||
                  code == MINGLE__V1__ERROR_CODE__UNAUTHENTICATED ||
                  code == MINGLE__V1__ERROR_CODE__UNSUPPORTED_VERSION;
        if ((v == DISPATCH_CLOSE) != closing)
            abort();
        /* Undecodable (or too costly to decode): no id to echo. */
        if (code == MINGLE__V1__ERROR_CODE__BAD_FRAME
                ? r->id != 0
                : req == NULL || r->id != req->id)
            abort();
        if (fz.publishes != 0)
            abort();
    } else {
        if (req == NULL || v != DISPATCH_CONTINUE || r->id != req->id ||
            r->body_case != fuzz_answer_case(req->body_case) ||
            fz.publishes !=
                (r->body_case == MINGLE__V1__RESPONSE__BODY_ROUND))
            abort();
    }
    if (req != NULL)
        mingle__v1__request__free_unpacked(req, NULL);
    mingle__v1__response__free_unpacked(r, NULL);
    return v == DISPATCH_CONTINUE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dispatch_config cfg = {.max_frame_bytes = FUZZ_MAX_BODY_BYTES};
    struct dispatch_session s = {.authenticated = false, .conn_id = 1};
    struct dispatch *d;
    size_t off = 1, plen, blen;
    char why[256];
    int err;

    if (size == 0)
        return 0;
    if (data[0] & FUZZ_FLAG_TOKEN)
        cfg.auth_token = FUZZ_TOKEN;
    d = dispatch_new(&cfg, &fuzz_ops, &fuzz_server, &err, why, sizeof(why));
    if (d == NULL)
        abort();
    while (off < size) {
        const uint8_t *body = data + off;

        if (frame_parse(data + off, size - off, FUZZ_MAX_BODY_BYTES, &plen,
                        &blen) == FRAME_OK) {
            body += plen;
            off += plen + blen;
        } else {
            blen = size - off;
            off = size;
        }
        if (!fuzz_request(d, &s, body, blen)) {
            /* The transport drops the connection and its subscriptions. */
            s.authenticated = false;
            s.conn_id++;
            fz.n_subs = 0;
        }
    }
    dispatch_free(d);
    free(fz.frame);
    fz.frame = NULL;
    fz.frame_len = 0;
    fz.n_subs = 0;
    return 0;
}
