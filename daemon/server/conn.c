/* conn.c -- one client connection on a libevent bufferevent.
 *
 * The read callback judges each frame by its prefix while the body is
 * still in the kernel, so an oversized frame costs us at most the prefix.
 * The input high-watermark keeps libevent from reading more than one
 * frame ahead; complete frames are handed to the owner and drained at
 * once, so input never holds more than one (partial) frame.
 *
 * Closing is a state, not an action: conn_close() only stops reading and
 * waits for output to drain (or CONN_FLUSH_TIMEOUT_MS); the owner frees
 * the connection after the `done` hook, outside our callbacks, because
 * libevent may still touch the bufferevent after a callback returns.
 *
 * TLS (tls.h) changes only how the bufferevent is made: it hands us
 * plaintext like a socket does.  Until its handshake completes there is
 * no channel to send an Error on, so a connection that closes then just
 * ends; the handshake runs on the frame deadline, as a frame would.
 */
#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h> /* evutil_socket_error_to_string() is strerror() */
#include <sys/socket.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "frame.h"
#include "log.h"
#include "share.h"
#include "tls.h"

struct conn {
    uint64_t id;
    struct bufferevent *bev;
    struct event *frame_ev; /* deadline of the frame in progress */
    struct event *idle_ev;  /* deadline for the next complete request */
    struct event *flush_ev; /* deadline of a closing connection's flush */
    struct event *hello_ev; /* deadline for passing Hello */
    struct event *turn_ev;  /* the next turn of a pipelined burst */
    struct conn_limits limits;
    const struct conn_hooks *hooks;
    void *owner;
    struct dispatch_session session;
    bool subscribed;
    bool closing;
    bool done;
    bool tls;       /* the bufferevent speaks TLS */
    bool handshook; /* TLS: the handshake has completed */
};

/* Whether an Error frame can reach the peer at all. */
static bool conn_can_speak(const struct conn *c)
{
    return !c->tls || c->handshook;
}

static struct timeval conn_ms_to_tv(uint32_t ms)
{
    struct timeval tv = {
        .tv_sec = (time_t)(ms / 1000u),
        .tv_usec = (suseconds_t)((ms % 1000u) * 1000u),
    };
    return tv;
}

static void conn_arm(struct event *ev, uint32_t ms)
{
    if (ms == 0) {
        event_del(ev);
        return;
    }
    struct timeval tv = conn_ms_to_tv(ms);
    event_add(ev, &tv);
}

static void conn_arm_idle(struct conn *c)
{
    if (c->subscribed)
        event_del(c->idle_ev);
    else
        conn_arm(c->idle_ev, c->limits.idle_timeout_ms);
}

static void conn_set_watermark(struct conn *c)
{
    bufferevent_setwatermark(c->bev, EV_READ, 0,
                             (size_t)c->limits.max_frame_bytes +
                                 FRAME_PREFIX_MAX_BYTES);
}

/* The end of closing: from here on only conn_free() touches `c`. */
static void conn_finish(struct conn *c)
{
    if (c->done)
        return;
    c->closing = true;
    c->done = true;
    event_del(c->frame_ev);
    event_del(c->idle_ev);
    event_del(c->flush_ev);
    event_del(c->hello_ev);
    event_del(c->turn_ev);
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    /* A FIN after our last byte tells the peer the close is deliberate,
     * even if unread input turns the final close() into a reset; over
     * TLS, close_notify says so first. */
    if (c->tls)
        tls_close_notify(c->bev);
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    c->hooks->done(c->owner, c);
}

/* Drops the peer without flushing: its output is what we refuse to keep. */
static void conn_drop(struct conn *c, const char *why)
{
    if (c->done)
        return;
    log_msg(LOG_LEVEL_WARN, c->id, "dropping connection: %s", why);
    conn_finish(c);
}

void conn_close(struct conn *c, enum dispatch_error code, const char *why)
{
    if (c->closing)
        return;
    c->closing = true;
    log_msg(LOG_LEVEL_INFO, c->id, "closing: %s", why);
    event_del(c->frame_ev);
    event_del(c->idle_ev);
    event_del(c->hello_ev);
    bufferevent_disable(c->bev, EV_READ);

    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (code != 0 && conn_can_speak(c)) {
        uint8_t *frame = NULL;
        size_t len = 0;
        /* The error frame bypasses the output cap: it is small, and the
         * peer deserves to learn why it is being closed. */
        if (dispatch_error_frame(code, why, &frame, &len) == 0)
            evbuffer_add(out, frame, len);
        free(frame);
    }
    if (evbuffer_get_length(out) == 0) {
        conn_finish(c);
        return;
    }
    conn_arm(c->flush_ev, CONN_FLUSH_TIMEOUT_MS);
}

/* Handles every complete frame in the input; returns whether any was. */
static bool conn_read_frames(struct conn *c, struct evbuffer *in)
{
    bool progressed = false;
    unsigned handled = 0;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!c->closing) {
        size_t avail = evbuffer_get_length(in);
        if (avail == 0)
            break;
        /* A burst of pipelined requests takes turns with the other
         * connections: the rest waits for the next loop iteration, after
         * the sockets were polled again. */
        clock_gettime(CLOCK_MONOTONIC, &now);
        long spent_us = (long)(now.tv_sec - t0.tv_sec) * 1000000L +
                        (now.tv_nsec - t0.tv_nsec) / 1000;
        if (handled == CONN_FRAMES_PER_TURN ||
            (handled > 0 && spent_us >= CONN_TURN_MS * 1000L)) {
            static const struct timeval at_once = {0, 0};
            evtimer_add(c->turn_ev, &at_once);
            break;
        }
        size_t peek = avail < FRAME_PREFIX_MAX_BYTES ? avail
                                                     : FRAME_PREFIX_MAX_BYTES;
        const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)peek);
        size_t prefix_len = 0;
        size_t body_len = 0;
        if (p == NULL) {
            conn_drop(c, "out of memory");
            break;
        }
        enum frame_status st = frame_parse(p, peek, c->limits.max_frame_bytes,
                                           &prefix_len, &body_len);
        if (st == FRAME_BAD) {
            conn_close(c, DISPATCH_ERR_BAD_FRAME, "malformed length prefix");
            break;
        }
        if (st == FRAME_TOO_BIG) {
            conn_close(c, DISPATCH_ERR_FRAME_TOO_BIG,
                       "frame larger than max_frame_bytes");
            break;
        }
        size_t total = prefix_len + body_len;
        if (prefix_len == 0 || avail < total)
            break;
        p = evbuffer_pullup(in, (ev_ssize_t)total);
        if (p == NULL) {
            conn_drop(c, "out of memory");
            break;
        }
        progressed = true;
        handled++;
        enum dispatch_verdict v =
            c->hooks->frame(c->owner, c, p + prefix_len, body_len);
        evbuffer_drain(in, total);
        if (v == DISPATCH_CLOSE)
            conn_close(c, 0, "closed after the response");
    }
    return progressed;
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);

    bool progressed = conn_read_frames(c, in);
    if (c->closing)
        return;
    if (progressed) {
        event_del(c->frame_ev);
        conn_arm_idle(c);
    }
    /* The deadline runs from the first byte of the frame, not from the
     * last read: a trickling peer must not keep it alive. */
    if (evbuffer_get_length(in) > 0 && !evtimer_pending(c->frame_ev, NULL))
        conn_arm(c->frame_ev, c->limits.frame_timeout_ms);
}

static void conn_turn_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    if (!c->closing)
        conn_read_cb(c->bev, c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        conn_finish(c);
}

/* A failed TLS handshake is routine (scanners, plaintext clients): one
 * line at info, the reason OpenSSL gives. */
static void conn_log_error(struct conn *c, struct bufferevent *bev)
{
    int err = EVUTIL_SOCKET_ERROR();
    char why[128] = "";

    if (c->tls)
        tls_error_describe(bev, why, sizeof(why));
    if (why[0] == '\0')
        snprintf(why, sizeof(why), "%s", evutil_socket_error_to_string(err));
    if (c->tls && !c->handshook)
        log_msg(LOG_LEVEL_INFO, c->id, "TLS handshake failed: %s", why);
    else
        log_msg(LOG_LEVEL_DEBUG, c->id, "%s error: %s",
                c->tls ? "TLS" : "socket", why);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        /* Only TLS reports this: its handshake, which ran on the frame
         * deadline, is done. */
        c->handshook = true;
        event_del(c->frame_ev);
        log_msg(LOG_LEVEL_DEBUG, c->id, "TLS handshake done (%s)",
                tls_version(bev));
    } else if (what & BEV_EVENT_ERROR) {
        conn_log_error(c, bev);
        conn_finish(c);
    } else if (what & BEV_EVENT_EOF) {
        /* The peer may only have shut down its sending half and still
         * want the responses already queued for it. */
        if (c->closing)
            conn_finish(c);
        else
            conn_close(c, 0, "peer closed the connection");
    }
}

static void conn_frame_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    if (conn_can_speak(c))
        conn_close(c, DISPATCH_ERR_FRAME_TIMEOUT, "frame timeout");
    else
        conn_close(c, 0, "TLS handshake not completed in time");
}

static void conn_idle_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_close(arg, DISPATCH_ERR_IDLE_TIMEOUT, "idle timeout");
}

static void conn_hello_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    if (!c->session.authenticated)
        conn_close(c, DISPATCH_ERR_UNAUTHENTICATED, "no Hello in time");
}

static void conn_flush_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_drop(arg, "output not flushed in time");
}

struct conn *conn_new(struct event_base *base, int fd, uint64_t id,
                      const struct conn_limits *limits, struct tls_ctx *tls,
                      const struct conn_hooks *hooks, void *owner)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->id = id;
    c->limits = *limits;
    c->hooks = hooks;
    c->owner = owner;
    c->session.conn_id = id;
    c->frame_ev = evtimer_new(base, conn_frame_timeout_cb, c);
    c->idle_ev = evtimer_new(base, conn_idle_timeout_cb, c);
    c->flush_ev = evtimer_new(base, conn_flush_timeout_cb, c);
    c->hello_ev = evtimer_new(base, conn_hello_timeout_cb, c);
    c->turn_ev = evtimer_new(base, conn_turn_cb, c);
    if (c->frame_ev == NULL || c->idle_ev == NULL || c->flush_ev == NULL ||
        c->hello_ev == NULL || c->turn_ev == NULL)
        goto fail;
    size_t sndbuf = limits->output_cap_bytes < CONN_SNDBUF_MAX_BYTES
                        ? limits->output_cap_bytes
                        : CONN_SNDBUF_MAX_BYTES;
    if (sndbuf > 0) {
        int v = (int)sndbuf;
        /* Best effort: the default only makes the cap looser. */
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
    }
    /* A response is written whole and the peer waits for all of it: with
     * Nagle's algorithm its last partial segment waited for the peer's
     * delayed ACK, adding 40 ms to every large answer. */
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* Created last: from here on the bufferevent owns `fd`. */
    c->tls = tls != NULL;
    c->bev = c->tls ? tls_bufferevent_new(tls, base, fd)
                    : bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL)
        goto fail;
    bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    conn_set_watermark(c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    conn_arm_idle(c);
    conn_arm(c->hello_ev, c->limits.hello_timeout_ms);
    /* A peer that starts a handshake and stalls, or never starts one,
     * must not hold the slot until the idle deadline. */
    if (c->tls)
        conn_arm(c->frame_ev, c->limits.frame_timeout_ms);
    return c;

fail:
    conn_free(c);
    return NULL;
}

void conn_free(struct conn *c)
{
    if (c == NULL)
        return;
    if (c->bev != NULL)
        bufferevent_free(c->bev);
    if (c->frame_ev != NULL)
        event_free(c->frame_ev);
    if (c->idle_ev != NULL)
        event_free(c->idle_ev);
    if (c->flush_ev != NULL)
        event_free(c->flush_ev);
    if (c->hello_ev != NULL)
        event_free(c->hello_ev);
    if (c->turn_ev != NULL)
        event_free(c->turn_ev);
    free(c);
}

/* Drops the peer when `total` more bytes would take its unsent output past
 * the cap; an empty output takes anything, so one large reply fits. */
static int conn_make_room(struct conn *c, size_t total)
{
    size_t queued = evbuffer_get_length(bufferevent_get_output(c->bev));

    if (c->closing)
        return -EPIPE;
    if (queued > 0 && (total > c->limits.output_cap_bytes ||
                       queued > c->limits.output_cap_bytes - total)) {
        conn_drop(c, "output cap exceeded (peer not reading)");
        return -ENOBUFS;
    }
    return 0;
}

int conn_send(struct conn *c, const uint8_t *frame, size_t len)
{
    int ret = conn_make_room(c, len);

    if (ret == 0 && evbuffer_add(bufferevent_get_output(c->bev), frame,
                                 len) != 0) {
        conn_drop(c, "out of memory for output");
        ret = -ENOBUFS;
    }
    return ret;
}

int conn_send_shared(struct conn *c, const uint8_t *head, size_t head_len,
                     struct share *body)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    struct evbuffer *h = NULL;
    int ret = conn_make_room(c, head_len + share_len(body));

    if (ret != 0)
        return ret;
    /* The head gets a small chain of its own, moved in whole: added to
     * `out` directly, it would get a new chain sized like the last one,
     * the previous push's body, and each push would cost a body's worth
     * of memory per subscriber again. */
    h = evbuffer_new();
    if (h == NULL || evbuffer_add(h, head, head_len) != 0 ||
        evbuffer_add_buffer(out, h) != 0 || share_add(body, out) != 0) {
        conn_drop(c, "out of memory for output");
        ret = -ENOBUFS;
    }
    if (h != NULL)
        evbuffer_free(h);
    return ret;
}

void conn_set_limits(struct conn *c, const struct conn_limits *limits)
{
    c->limits = *limits;
    /* The token is gone: no Hello is owed any more. */
    if (limits->hello_timeout_ms == 0)
        event_del(c->hello_ev);
    if (!c->closing)
        conn_set_watermark(c);
}

/* A subscriber is exempt from the idle deadline, so the kernel must tell
 * us when its peer is gone: keepalive probes an idle link, and the user
 * timeout ends one whose pushes stay unacknowledged.  Not TCP (a test's
 * socketpair): nothing to probe, the options just fail. */
static void conn_probe_peer(struct conn *c)
{
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    int on = 1, idle = CONN_PROBE_IDLE_S, intvl = CONN_PROBE_INTERVAL_S,
        cnt = CONN_PROBE_COUNT;
    unsigned user_ms = (CONN_PROBE_IDLE_S + CONN_PROBE_INTERVAL_S *
                        CONN_PROBE_COUNT) * 1000u;

    (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    (void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_ms,
                     sizeof(user_ms));
}

void conn_set_subscribed(struct conn *c, bool subscribed)
{
    if (subscribed && !c->subscribed && !c->closing)
        conn_probe_peer(c);
    c->subscribed = subscribed;
    if (!c->closing)
        conn_arm_idle(c);
}

bool conn_is_closing(const struct conn *c)
{
    return c->closing;
}

uint64_t conn_id(const struct conn *c)
{
    return c->id;
}

struct dispatch_session *conn_session(struct conn *c)
{
    return &c->session;
}
