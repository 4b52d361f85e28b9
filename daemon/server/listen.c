/* listen.c -- listeners, and admitting the connections they accept.
 *
 * A newcomer is judged by admit.h against the clients already in (the
 * list is newest first); a refused one gets an Error frame (over TLS,
 * nothing) and is closed at once, an admitted one becomes a server_client
 * with its conn.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "log.h"
#include "server_impl.h"

/* After a failed accept (e.g. out of file descriptors), wait this long
 * before accepting again instead of spinning on a readable listener. */
#define LISTEN_ACCEPT_PAUSE_MS 100

/* Makes room for a newcomer from `sa` or says why not (admit.h).  The
 * list is newest first, so `>=` leaves the oldest of the highest rank. */
static const char *listen_admit(struct server *srv, const struct sockaddr *sa)
{
    struct admit_count n = {0};
    struct server_client *victim = NULL, *addr_victim = NULL;

    for (struct server_client *cl = srv->clients; cl != NULL; cl = cl->next) {
        if (cl->dead || conn_is_closing(cl->conn))
            continue;
        bool same = admit_same_address(&cl->addr, sa);
        enum admit_rank r = admit_rank(srv->token_set,
                                       conn_session(cl->conn)->authenticated,
                                       cl->subs > 0);
        n.live++;
        n.from_address += same;
        if (r != ADMIT_RANK_KEEP && r >= n.victim_rank) {
            victim = cl;
            n.victim_rank = r;
        }
        if (same && r != ADMIT_RANK_KEEP && r >= n.address_victim_rank) {
            addr_victim = cl;
            n.address_victim_rank = r;
        }
    }
    enum admit_verdict v = admit_decide(&srv->admit, &n);
    if (v == ADMIT_EVICT_ADDRESS)
        victim = addr_victim;
    if (v == ADMIT_EVICT || v == ADMIT_EVICT_ADDRESS)
        conn_close(victim->conn, DISPATCH_ERR_RESOURCE_EXHAUSTED,
                   "evicted for a new connection");
    return v == ADMIT_REFUSE_ADDRESS ? "too many connections from this address"
           : v == ADMIT_REFUSE_FULL  ? "too many connections"
                                     : NULL;
}

/* A refused peer hears why in the clear, except over TLS: there the
 * frame would be noise to a peer starting a handshake, and a session
 * just to carry it would cost what the refusal saves. */
static void listen_refuse(const struct server *srv, int fd, const char *why)
{
    if (srv->tls != NULL)
        close(fd);
    else
        admit_refuse(fd, why);
}

static void listen_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
                             struct sockaddr *sa, int salen, void *arg)
{
    struct server *srv = arg;
    char peer[INET6_ADDRSTRLEN + 16];
    const char *why = "shutting down";
    (void)l;
    admit_format_addr(sa, peer, sizeof(peer));

    if (srv->stopping || (why = listen_admit(srv, sa)) != NULL) {
        log_msg(LOG_LEVEL_WARN, 0, "refusing %s: %s", peer, why);
        listen_refuse(srv, fd, why);
        return;
    }
    struct server_client *cl = calloc(1, sizeof(*cl));
    if (cl == NULL) {
        listen_refuse(srv, fd, "out of memory");
        return;
    }
    cl->srv = srv;
    memcpy(&cl->addr, sa, (size_t)salen < sizeof(cl->addr)
                              ? (size_t)salen : sizeof(cl->addr));
    uint64_t id = ++srv->next_conn_id;
    cl->conn = conn_new(srv->base, fd, id, &srv->limits, srv->tls,
                        &server_conn_hooks, cl);
    if (cl->conn == NULL) {
        log_msg(LOG_LEVEL_ERROR, 0, "refusing %s: out of memory", peer);
        free(cl);
        listen_refuse(srv, fd, "out of memory");
        return;
    }
    cl->next = srv->clients;
    if (srv->clients != NULL)
        srv->clients->prev = cl;
    srv->clients = cl;
    srv->n_clients++;
    log_msg(LOG_LEVEL_INFO, id, "accepted %s", peer);
}

void listen_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;
    (void)fd;
    (void)what;
    if (srv->stopping)
        return;
    for (size_t i = 0; i < srv->n_listeners; i++)
        evconnlistener_enable(srv->listeners[i]);
}

static void listen_error_cb(struct evconnlistener *l, void *arg)
{
    struct server *srv = arg;
    int err = EVUTIL_SOCKET_ERROR();
    (void)l;
    log_msg(LOG_LEVEL_WARN, 0, "accept failed: %s; pausing %d ms",
            evutil_socket_error_to_string(err), LISTEN_ACCEPT_PAUSE_MS);
    for (size_t i = 0; i < srv->n_listeners; i++)
        evconnlistener_disable(srv->listeners[i]);
    struct timeval tv = {0, LISTEN_ACCEPT_PAUSE_MS * 1000};
    event_add(srv->resume_accept, &tv);
}

int listen_open(struct server *srv, const char *addr,
                             unsigned port)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
    };
    struct addrinfo *res = NULL;
    char service[8];
    int rc = 0;
    snprintf(service, sizeof(service), "%u", port);
    int gai = getaddrinfo(addr, service, &hints, &res);
    if (gai != 0) {
        log_msg(LOG_LEVEL_ERROR, 0, "cannot resolve listen address %s: %s",
                addr, gai_strerror(gai));
        return -EINVAL;
    }
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        struct evconnlistener **grown = realloc(
            srv->listeners, (srv->n_listeners + 1) * sizeof(*grown));
        if (grown == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        srv->listeners = grown;
        unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
                         LEV_OPT_REUSEABLE;
        /* Lets "0.0.0.0" and "::" be configured side by side. */
        if (ai->ai_family == AF_INET6)
            flags |= LEV_OPT_BIND_IPV6ONLY;
        struct evconnlistener *l =
            evconnlistener_new_bind(srv->base, listen_accept_cb, srv, flags, -1,
                                    ai->ai_addr, (int)ai->ai_addrlen);
        if (l == NULL) {
            rc = -errno;
            if (rc == 0)
                rc = -EADDRNOTAVAIL;
            log_msg(LOG_LEVEL_ERROR, 0, "cannot listen on %s port %u: %s",
                    addr, port, strerror(-rc));
            goto out;
        }
        evconnlistener_set_error_cb(l, listen_error_cb);
        srv->listeners[srv->n_listeners++] = l;

        struct sockaddr_storage bound;
        socklen_t blen = sizeof(bound);
        char name[INET6_ADDRSTRLEN + 16];
        if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&bound,
                        &blen) == 0) {
            admit_format_addr((struct sockaddr *)&bound, name, sizeof(name));
            log_msg(LOG_LEVEL_INFO, 0, "listening on %s", name);
        }
    }
out:
    freeaddrinfo(res);
    return rc;
}
