/* topic.c -- subscriptions per event, and the fan-out of pushed rounds.
 *
 * Subscriptions are kept per event ("topic") in small arrays: the number
 * of events and subscribers is modest, and a publish walks one array.
 * A client that is dead (waiting for the reaper) or closing is skipped.
 *
 * A pushed round is copied once into a share (share.h) that every
 * subscriber's output references: N subscribers that read slowly hold one
 * copy between them, and the copy goes when the last of them has sent it
 * or been dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "frame.h"
#include "log.h"
#include "server_impl.h"
#include "share.h"

/* A connection may follow this many events at once. */
#define TOPIC_MAX_SUBS_PER_CONN 64u
/* The key of Response.id (field 1, wire type varint), which a push puts in
 * front of the body dispatch encoded once for every subscriber. */
#define TOPIC_RESPONSE_ID_KEY ((1u << 3) | 0u)

static struct server_topic *topic_find(struct server *srv,
                                              uint64_t event_id)
{
    for (size_t i = 0; i < srv->n_topics; i++)
        if (srv->topics[i].event_id == event_id)
            return &srv->topics[i];
    return NULL;
}

static void topic_remove_at(struct server *srv, struct server_topic *t,
                                   size_t i)
{
    struct server_client *cl = t->subs[i].client;
    /* Keep subscription order: pushes go out in the order people came. */
    memmove(&t->subs[i], &t->subs[i + 1], (t->n - i - 1) * sizeof(t->subs[0]));
    t->n--;
    srv->n_subs--;
    if (--cl->subs == 0 && !cl->dead)
        conn_set_subscribed(cl->conn, false);
    if (t->n == 0) {
        free(t->subs);
        *t = srv->topics[--srv->n_topics];
    }
}

int topic_subscribe(void *peer, uint64_t event_id,
                               uint64_t request_id)
{
    struct server_client *cl = peer;
    struct server *srv = cl->srv;
    struct server_topic *t = topic_find(srv, event_id);

    if (t != NULL) {
        for (size_t i = 0; i < t->n; i++) {
            if (t->subs[i].client == cl) {
                t->subs[i].request_id = request_id;
                return 0;
            }
        }
    }
    if (cl->subs >= TOPIC_MAX_SUBS_PER_CONN)
        return -ENOSPC;
    if (t == NULL) {
        struct server_topic *grown =
            realloc(srv->topics, (srv->n_topics + 1) * sizeof(*grown));
        if (grown == NULL)
            return -ENOMEM;
        srv->topics = grown;
        t = &srv->topics[srv->n_topics++];
        *t = (struct server_topic){.event_id = event_id};
    }
    if (t->n == t->cap) {
        size_t cap = t->cap != 0 ? t->cap * 2 : 4;
        struct server_sub *subs = realloc(t->subs, cap * sizeof(*subs));
        if (subs == NULL) {
            if (t->n == 0) {
                *t = srv->topics[--srv->n_topics];
            }
            return -ENOMEM;
        }
        t->subs = subs;
        t->cap = cap;
    }
    t->subs[t->n++] = (struct server_sub){cl, request_id};
    srv->n_subs++;
    if (cl->subs++ == 0)
        conn_set_subscribed(cl->conn, true);
    return 0;
}

int topic_unsubscribe(void *peer, uint64_t event_id)
{
    struct server_client *cl = peer;
    struct server_topic *t = topic_find(cl->srv, event_id);
    if (t == NULL)
        return -ENOENT;
    for (size_t i = 0; i < t->n; i++) {
        if (t->subs[i].client == cl) {
            topic_remove_at(cl->srv, t, i);
            return 0;
        }
    }
    return -ENOENT;
}

void topic_unsubscribe_all(struct server *srv, struct server_client *cl)
{
    size_t ti = 0;
    while (cl->subs > 0 && ti < srv->n_topics) {
        struct server_topic *t = &srv->topics[ti];
        size_t before = srv->n_topics;
        for (size_t i = 0; i < t->n; i++) {
            if (t->subs[i].client == cl) {
                topic_remove_at(srv, t, i);
                break;
            }
        }
        /* A topic that emptied was replaced by the last one: look at
         * the same slot again. */
        if (srv->n_topics == before)
            ti++;
    }
}

void topic_publish(void *server, uint64_t event_id, const uint8_t *body,
                   size_t len)
{
    struct server *srv = server;
    struct server_topic *t = topic_find(srv, event_id);
    struct share *shared;

    if (t == NULL)
        return;
    shared = share_new(body, len);
    if (shared == NULL) {
        log_msg(LOG_LEVEL_ERROR, 0, "event %llu: out of memory for a push; "
                "subscribers get it with GetSchedule",
                (unsigned long long)event_id);
        return;
    }
    for (size_t i = 0; i < t->n; i++) {
        struct server_client *cl = t->subs[i].client;
        if (cl->dead || conn_is_closing(cl->conn))
            continue;
        /* prefix | Response.id | body: only the first two differ. */
        uint8_t head[2 * FRAME_PREFIX_MAX_BYTES + 1];
        uint8_t id_field[1 + FRAME_PREFIX_MAX_BYTES];
        id_field[0] = TOPIC_RESPONSE_ID_KEY;
        size_t id_len =
            1 + frame_put_prefix(id_field + 1, t->subs[i].request_id);
        size_t head_len = frame_put_prefix(head, (uint64_t)(id_len + len));
        memcpy(head + head_len, id_field, id_len);
        /* A subscriber over its cap is dropped by conn_send_shared; the
         * reaper removes its subscriptions, the others are unaffected. */
        conn_send_shared(cl->conn, head, head_len + id_len, shared);
    }
    share_free(shared);
}
