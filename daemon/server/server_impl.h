/* server_impl.h -- what server.c, listen.c and topic.c share.
 *
 * The server is one object split by idea: server.c runs the loop, the
 * signals, the reload and the clients' lifetime; listen.c opens the
 * listeners and admits newcomers; topic.c keeps subscriptions and fans
 * pushed rounds out.  Everything here runs on the event loop's thread.
 */
#ifndef MINGLE_SERVER_IMPL_H
#define MINGLE_SERVER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include <event2/util.h>

#include "admit.h"
#include "conn.h"

struct cfg_daemon;
struct dispatch;
struct evconnlistener;
struct planner;
struct tls_ctx;

struct server;

struct server_client {
    struct server *srv;
    struct conn *conn;
    struct server_client *prev;
    struct server_client *next;
    struct server_client *next_dead;
    struct sockaddr_storage addr; /* the peer's, for per-address limits */
    uint32_t subs; /* topics this client is subscribed to */
    bool dead;
};

struct server_sub {
    struct server_client *client;
    uint64_t request_id;
};

struct server_topic {
    uint64_t event_id;
    struct server_sub *subs;
    size_t n;
    size_t cap;
};

struct server {
    struct event_base *base;
    struct evconnlistener **listeners;
    size_t n_listeners;
    struct event *sig_int;
    struct event *sig_term;
    struct event *sig_hup;
    struct event *reaper;    /* frees dead clients outside their callbacks */
    struct event *stop_timer;
    struct event *resume_accept;
    struct event *tidy;      /* retries dispatch_tidy() while it has work */
    struct event *trim;      /* returns freed memory after subscribers left */
    struct dispatch *dispatch;
    struct planner *planner; /* NULL: plan_max_seconds is 0 */
    struct tls_ctx *tls;     /* NULL: plaintext; for new connections */

    const struct cfg_daemon *cfg; /* as started; borrowed */
    const char *config_path;
    struct conn_limits limits;
    struct admit_limits admit;
    bool token_set;

    struct server_client *clients;
    struct server_client *dead;
    size_t n_clients;
    uint64_t next_conn_id;

    struct server_topic *topics;
    size_t n_topics;
    size_t n_subs;

    bool stopping;
    bool failed; /* the store failed: stop, and exit with a failure */
};
/* ---- server.c ---- */

/* The hooks every client connection is made with. */
extern const struct conn_hooks server_conn_hooks;

/* ---- listen.c ---- */

/* Binds and listens on every address `addr` resolves to (numeric only)
 * at `port`, appending to srv->listeners and logging "listening on".
 * Returns 0, or a negative errno with the reason logged. */
int listen_open(struct server *srv, const char *addr, unsigned port);

/* The srv->resume_accept timer: accepting again after a failed accept. */
void listen_resume_cb(evutil_socket_t fd, short what, void *arg);

/* ---- topic.c: the subscription side of dispatch_ops ---- */

/* dispatch_ops.subscribe: `peer` is a server_client.  Resubscribing
 * replaces the request id.  Returns 0, -ENOSPC past
 * TOPIC_MAX_SUBS_PER_CONN, -ENOMEM. */
int topic_subscribe(void *peer, uint64_t event_id, uint64_t request_id);

/* dispatch_ops.unsubscribe.  Returns 0 or -ENOENT. */
int topic_unsubscribe(void *peer, uint64_t event_id);

/* Drops every subscription of `cl` (it is being freed). */
void topic_unsubscribe_all(struct server *srv, struct server_client *cl);

/* dispatch_ops.publish: sends `body` (an encoded Response without its id)
 * to every live subscriber of `event_id`, each with its own request id. */
void topic_publish(void *server, uint64_t event_id, const uint8_t *body,
                   size_t len);

#endif
