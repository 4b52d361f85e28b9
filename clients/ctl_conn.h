/* ctl_conn.h -- minglectl's connection to mingled: a blocking socket,
 * delimited frames, requests matched to responses by id.
 *
 * Responses are decoded into an arena owned by the connection and capped
 * in proportion to the frame (pballoc.h), so a misbehaving server cannot
 * make the client allocate without bound.  A decoded response stays valid
 * until the next call that receives on the same connection.
 *
 * With `tls` the connection is TLS (1.2 at least) and the server must
 * prove it is `host`: its certificate chain must verify against `ca_file`
 * (NULL: the system's trusted certificates) and name `host` (a DNS name,
 * or an IP address in a subjectAltName).
 */
#ifndef MINGLE_CTL_CONN_H
#define MINGLE_CTL_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "mingle.pb-c.h"

/* Responses may be far larger than requests (a whole schedule), so the
 * client accepts more than the server's request limit; the arena cap
 * keeps decoding bounded even so. */
#define CTL_MAX_RESPONSE_BYTES (64u * 1024u * 1024u)
#define CTL_MAX_DECODE_BYTES ((size_t)1024u * 1024u * 1024u)

struct ctl_conn_opts {
    const char *host;
    const char *port;
    const char *token; /* NULL or "": Hello without a token */
    int timeout_ms;    /* connect and each request; <= 0: wait forever */
    bool tls;
    const char *ca_file; /* with tls: PEM CA certificates; NULL: system's */
};

struct ctl_conn;

/* Connects (with the TLS handshake when asked), sends Hello (with the
 * token) and reads the server's limits.  Returns 0 with *out set (free
 * with ctl_conn_free); or -EREMOTEIO when the server refused the Hello,
 * -EPROTO when TLS failed (the server's certificate did not verify, or it
 * does not speak TLS), another negative errno when connecting failed,
 * with the reason written to err[0..err_cap). */
int ctl_conn_open(const struct ctl_conn_opts *o, struct ctl_conn **out,
                  char *err, size_t err_cap);

/* Closes the socket and frees the connection; NULL is a no-op. */
void ctl_conn_free(struct ctl_conn *c);

/* The server's limits from HelloReply (0 when it reported none). */
uint32_t ctl_conn_max_frame(const struct ctl_conn *c);
uint32_t ctl_conn_max_batch(const struct ctl_conn *c);

/* Sends `req` with a fresh id (stored in req->id) without waiting.
 * Returns 0, -EMSGSIZE when it exceeds the server's max_frame_bytes,
 * -ETIMEDOUT, -EPIPE or another negative errno. */
int ctl_conn_send(struct ctl_conn *c, Mingle__V1__Request *req);

/* Receives the next response frame, waiting at most `timeout_ms` (<= 0:
 * forever).  *resp is owned by the connection, valid until the next
 * receive.  Returns 0, -ETIMEDOUT, -ECONNRESET when the server closed,
 * -EPROTO for a malformed frame, -EMSGSIZE for one too big to accept or
 * decode.  An Error response is returned as such (0), not as a failure. */
int ctl_conn_recv(struct ctl_conn *c, int timeout_ms,
                  Mingle__V1__Response **resp);

/* Sends `req` and waits for its response, skipping pushes that carry
 * other ids.  Returns 0 with *resp set, -EREMOTEIO when the server
 * answered with an Error (or closed the connection with one), or a
 * failure of ctl_conn_send()/ctl_conn_recv(). */
int ctl_conn_call(struct ctl_conn *c, Mingle__V1__Request *req,
                  Mingle__V1__Response **resp);

/* Describes the last failure of a call on `c`, e.g. "server error
 * NOT_FOUND: no event 7" or "timed out waiting for the server"; peer
 * bytes are escaped.  Owned by `c`. */
const char *ctl_conn_error(const struct ctl_conn *c);

#endif
