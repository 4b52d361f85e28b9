/* tls.h -- the daemon's TLS: a server context from a certificate and a
 * key, and bufferevents that speak TLS through it.
 *
 * OpenSSL stays behind this header: a context is an opaque struct
 * tls_ctx, a TLS connection a libevent bufferevent (bufferevent_openssl)
 * that the connection code reads and writes like any other.
 *
 * Policy: TLS 1.2 at least, OpenSSL's default ciphers, no renegotiation,
 * no client certificates.  Each TLS connection holds a reference to the
 * OpenSSL context it was made with, so freeing a tls_ctx (a SIGHUP that
 * loaded a new certificate) leaves open connections working.
 */
#ifndef MINGLE_TLS_H
#define MINGLE_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct bufferevent;
struct event_base;
struct tls_ctx;

/* Files larger than this are refused: a PEM chain is a few KiB. */
#define TLS_FILE_MAX_BYTES (1024u * 1024u)

/* Makes a server context from the PEM certificate chain at `cert_path`
 * (leaf first) and the unencrypted PEM private key at `key_path`, which
 * must match.  Only regular files are read (a FIFO would block the event
 * loop on SIGHUP).  Returns the context (free with tls_ctx_free), or NULL
 * with the reason in why[0..why_cap), naming the file. */
struct tls_ctx *tls_ctx_new(const char *cert_path, const char *key_path,
                            char *why, size_t why_cap);

/* Drops the context; connections made with it keep working.  NULL is a
 * no-op. */
void tls_ctx_free(struct tls_ctx *t);

/* Writes the certificate's subject and expiry into buf[0..cap), for the
 * log, e.g. "CN = mingle.example, valid until Dec  3 18:00:00 2027 GMT". */
void tls_ctx_describe(const struct tls_ctx *t, char *buf, size_t cap);

/* A bufferevent that accepts a TLS session on the connected socket `fd`
 * and owns it (and `fd`, closed by bufferevent_free).  A peer's end of
 * the stream without close_notify counts as an ordinary end: frames are
 * self-delimiting, so a cut is seen anyway.  Returns NULL when memory is
 * short; `fd` is then still the caller's. */
struct bufferevent *tls_bufferevent_new(struct tls_ctx *t,
                                        struct event_base *base, int fd);

/* Writes why TLS failed on `bev` (after BEV_EVENT_ERROR) into buf[0..cap):
 * OpenSSL's reason, e.g. "wrong version number", or "" when the failure
 * was not TLS's (the socket's errno then says).  Drains the errors. */
void tls_error_describe(struct bufferevent *bev, char *buf, size_t cap);

/* The protocol version of the established session, e.g. "TLSv1.3". */
const char *tls_version(struct bufferevent *bev);

/* Sends close_notify when the handshake has completed, so the peer can
 * tell our close from a cut; best effort, never blocks. */
void tls_close_notify(struct bufferevent *bev);

#endif
