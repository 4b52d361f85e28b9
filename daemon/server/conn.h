/* conn.h -- one client connection: framing, limits, timeouts, closing.
 *
 * A connection reads length-prefixed frames (frame.h), hands each complete
 * body to its owner, and queues the owner's response frames.  It enforces
 * the per-connection limits on its own:
 *
 *   - input: a frame is judged by its prefix before its body is buffered;
 *     an oversized prefix gets Error FRAME_TOO_BIG, a malformed one
 *     BAD_FRAME, and the connection closes.  Input never holds more than
 *     one frame (max_frame_bytes + prefix), however many small frames
 *     that is; a connection handles CONN_FRAMES_PER_TURN of them (fewer
 *     once its turn took CONN_TURN_MS), then lets the others' requests
 *     go first.
 *   - frame deadline: once a frame's first byte arrived, the whole frame
 *     must arrive within frame_timeout_ms (Error FRAME_TIMEOUT).  Over
 *     TLS the handshake, from the accept, must complete within it too
 *     (closed without an Error: there is no channel for one yet).
 *   - idle deadline: a connection that completes no request for
 *     idle_timeout_ms is closed (Error IDLE_TIMEOUT).  Subscribers are
 *     exempt while subscribed: waiting for pushes is their job.  Their
 *     peer is probed instead (TCP keepalive and user timeout, see
 *     CONN_PROBE_IDLE_S), and the output cap bounds what one that stopped
 *     reading costs.
 *   - Hello deadline: with hello_timeout_ms set (the owner sets it only
 *     when a token is required), a connection whose session has not
 *     authenticated within it is closed (Error UNAUTHENTICATED): a silent
 *     peer must not hold a slot for the whole idle timeout.
 *   - output: a send that would grow the unsent output beyond
 *     output_cap_bytes drops the peer at once, without flushing; a send to
 *     an empty output is always accepted, so one large reply fits.  The
 *     socket's kernel send buffer is sized to the cap too (at most
 *     CONN_SNDBUF_MAX_BYTES): left to autotuning, the kernel would hold
 *     megabytes for a stalled peer before the cap ever applied.
 *
 * Closing.  A connection is never freed inside one of its own callbacks.
 * conn_close() marks it closing, stops reading, and lets queued output
 * drain for at most CONN_FLUSH_TIMEOUT_MS; then (or at once, when the peer
 * is gone or dropped) it calls the owner's `done` hook.  The owner frees it
 * later, from a point outside the connection's callbacks, with conn_free().
 *
 * A timeout of 0 disables that timeout.
 */
#ifndef MINGLE_CONN_H
#define MINGLE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dispatch.h"

struct event_base;
struct conn;
struct share;
struct tls_ctx;

/* How long a closing connection may take to flush its output. */
#define CONN_FLUSH_TIMEOUT_MS 1000u
/* A subscriber's peer is probed after this long without traffic, every
 * interval, and given up after `count` unanswered probes; pushes left
 * unacknowledged for the same total time end the connection too. */
#define CONN_PROBE_IDLE_S 60
#define CONN_PROBE_INTERVAL_S 10
#define CONN_PROBE_COUNT 3
/* Requests one connection's pipelined burst gets handled before the
 * others have their turn, and the time after which its turn ends early
 * (see input above). */
#define CONN_FRAMES_PER_TURN 4
#define CONN_TURN_MS 2
/* Upper bound of a connection's kernel send buffer (see output above). */
#define CONN_SNDBUF_MAX_BYTES (1024u * 1024u)

struct conn_limits {
    uint32_t max_frame_bytes;
    uint32_t frame_timeout_ms;
    uint32_t idle_timeout_ms;
    uint32_t hello_timeout_ms; /* armed once, at conn_new() */
    size_t output_cap_bytes;
};

/* What a connection asks of its owner.  Both run inside the connection's
 * callbacks: neither may free `c`. */
struct conn_hooks {
    /* One complete request body, valid only during the call. */
    enum dispatch_verdict (*frame)(void *owner, struct conn *c,
                                   const uint8_t *body, size_t len);
    /* `c` has finished closing; the owner must conn_free() it later. */
    void (*done)(void *owner, struct conn *c);
};

/* Wraps the accepted, connected socket `fd` (taken over: closed by
 * conn_free).  With `tls` (NULL: plaintext) the connection accepts a TLS
 * session made from it (tls.h; the session keeps what it needs, so `tls`
 * may be freed while the connection lives) and the handshake must
 * complete within frame_timeout_ms.  Copies `limits`; keeps `hooks` and
 * `owner` (borrowed).  Returns NULL on allocation failure, with `fd`
 * still the caller's. */
struct conn *conn_new(struct event_base *base, int fd, uint64_t id,
                      const struct conn_limits *limits, struct tls_ctx *tls,
                      const struct conn_hooks *hooks, void *owner);

/* Closes the socket and frees everything; NULL is a no-op. */
void conn_free(struct conn *c);

/* Queues one frame of `len` bytes (copied) as output.  Returns 0; -EPIPE
 * when the connection is already closing; -ENOBUFS when the output cap is
 * exceeded (or memory is short), in which case the peer has been dropped. */
int conn_send(struct conn *c, const uint8_t *frame, size_t len);

/* Queues one frame made of `head` (copied: the few bytes that differ per
 * connection) and the bytes of `body`, which are not copied: the output
 * holds the share (share.h) until they are sent or the connection is
 * freed.  The caller keeps its own hold.  Returns as conn_send(). */
int conn_send_shared(struct conn *c, const uint8_t *head, size_t head_len,
                     struct share *body);

/* Starts closing: when `code` is nonzero, queues an Error frame with that
 * code and `why` first.  Logs `why`.  Idempotent. */
void conn_close(struct conn *c, enum dispatch_error code, const char *why);

/* Applies new limits (a config reload); running timers keep their
 * deadline, later ones use the new values, except that a hello_timeout_ms
 * of 0 cancels a running Hello deadline. */
void conn_set_limits(struct conn *c, const struct conn_limits *limits);

/* Tells the connection whether it has subscriptions (idle exemption). */
void conn_set_subscribed(struct conn *c, bool subscribed);

/* True once conn_close() (or a drop) has begun: sends then fail. */
bool conn_is_closing(const struct conn *c);

/* The id given to conn_new(), for logs. */
uint64_t conn_id(const struct conn *c);

/* The protocol state dispatch keeps for this connection. */
struct dispatch_session *conn_session(struct conn *c);

#endif
