/* ctl_conn.c -- blocking request/response over delimited protobuf frames.
 *
 * One deadline per operation, enforced with poll() whenever a read or
 * write would block, so a stalled server costs at most --timeout, never a
 * hang.  The socket is non-blocking throughout; with TLS, OpenSSL reads
 * and writes it and says which way it is waiting (a TLS read may need a
 * write, and may find its bytes already buffered without any poll).
 */
#include "ctl_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "frame.h"
#include "mingle_version.h"
#include "pballoc.h"

#define CTL_RX_INITIAL_BYTES (64u * 1024u)
#define CTL_ERR_BYTES 512

struct ctl_conn {
    int fd;
    SSL_CTX *ssl_ctx; /* NULL: plaintext */
    SSL *ssl;
    uint64_t next_id;
    int timeout_ms;
    uint32_t max_frame;
    uint32_t max_batch;
    uint8_t *rx;
    size_t rx_len, rx_cap;
    size_t rx_consumed; /* bytes of the last returned frame, dropped lazily */
    struct pballoc *arena;
    char err[CTL_ERR_BYTES];
};

__attribute__((format(printf, 2, 3)))
static void ctl_set_err(struct ctl_conn *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
}

/* Copies peer text for printing: control bytes, which could drive the
 * terminal, and backslashes become \xNN; UTF-8 passes unchanged. */
static void ctl_escape(char *out, size_t cap, const char *s)
{
    size_t o = 0;

    for (; *s != '\0' && o + 5 < cap; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch < 0x20 || ch == 0x7f || ch == '\\')
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
        else
            out[o++] = (char)ch;
    }
    out[o] = '\0';
}

static int64_t ctl_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t ctl_deadline(int timeout_ms)
{
    return timeout_ms > 0 ? ctl_now_ms() + timeout_ms : -1;
}

/* Waits until `fd` is ready for `events` or the deadline passes.
 * Returns 0 or -ETIMEDOUT / -errno. */
static int ctl_wait(int fd, short events, int64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = events};

    for (;;) {
        int wait_ms = -1, rc;

        if (deadline >= 0) {
            int64_t left = deadline - ctl_now_ms();

            if (left <= 0)
                return -ETIMEDOUT;
            wait_ms = left > INT32_MAX ? INT32_MAX : (int)left;
        }
        rc = poll(&p, 1, wait_ms);
        if (rc > 0)
            return 0;
        if (rc == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

static int ctl_connect_one(const struct addrinfo *ai, int64_t deadline)
{
    int fd, rc = 0, soerr = 0, one = 1;
    socklen_t len = sizeof(soerr);

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                ai->ai_protocol);
    if (fd < 0)
        return -errno;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            rc = -errno;
            goto out;
        }
        rc = ctl_wait(fd, POLLOUT, deadline);
        if (rc != 0)
            goto out;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
            soerr = errno;
        if (soerr != 0) {
            rc = -soerr;
            goto out;
        }
    }
    /* Requests are small and each waits for its answer: no Nagle. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
out:
    if (rc != 0) {
        close(fd);
        return rc;
    }
    return fd;
}

/* OpenSSL writes with write(), which raises SIGPIPE on a socket the
 * server has closed (send() below avoids it with MSG_NOSIGNAL): the
 * signal is blocked around OpenSSL's writes and one they raised is
 * discarded, so a closed server is an EPIPE, not the end of minglectl. */
static void ctl_nopipe_begin(sigset_t *old)
{
    sigset_t pipe_set;

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &pipe_set, old);
}

static void ctl_nopipe_end(const sigset_t *old)
{
    const struct timespec zero = {0, 0};
    sigset_t pipe_set, pending;
    int err = errno;

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    if (!sigismember(old, SIGPIPE) && sigpending(&pending) == 0 &&
        sigismember(&pending, SIGPIPE))
        (void)sigtimedwait(&pipe_set, NULL, &zero);
    sigprocmask(SIG_SETMASK, old, NULL);
    errno = err;
}

/* One send (`out`) or receive on the socket or the TLS session.  Returns
 * the byte count; 0 when the server ended the stream; -1 with *wait set
 * to the poll() event to wait for before trying again, or with *wait 0
 * and errno set on failure. */
static ssize_t ctl_io(struct ctl_conn *c, bool out, uint8_t *buf, size_t len,
                      short *wait)
{
    sigset_t old;
    ssize_t n;
    int r;

    *wait = 0;
    if (c->ssl == NULL) {
        n = out ? send(c->fd, buf, len, MSG_NOSIGNAL) : recv(c->fd, buf, len, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            *wait = out ? POLLOUT : POLLIN;
        return n;
    }
    if (len > INT_MAX)
        len = INT_MAX;
    ERR_clear_error();
    errno = 0;
    if (out) {
        ctl_nopipe_begin(&old);
        r = SSL_write(c->ssl, buf, (int)len);
        ctl_nopipe_end(&old);
    } else {
        r = SSL_read(c->ssl, buf, (int)len);
    }
    if (r > 0)
        return r;
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        *wait = POLLIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        *wait = POLLOUT;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (errno == 0)
            errno = ECONNRESET;
        return -1;
    default:
        errno = EPROTO;
        return -1;
    }
}

static int ctl_send_all(struct ctl_conn *c, const uint8_t *p, size_t len,
                        int64_t deadline)
{
    while (len > 0) {
        short wait;
        ssize_t n = ctl_io(c, true, (uint8_t *)p, len, &wait);
        int rc;

        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n == 0)
            rc = -EPIPE;
        else if (wait == 0)
            rc = -errno;
        else
            rc = ctl_wait(c->fd, wait, deadline);
        if (rc != 0) {
            ctl_set_err(c, "cannot send to the server: %s", strerror(-rc));
            return rc;
        }
    }
    return 0;
}

int ctl_conn_send(struct ctl_conn *c, Mingle__V1__Request *req)
{
    uint8_t *frame;
    size_t body, prefix;
    int rc;

    req->id = c->next_id++;
    body = mingle__v1__request__get_packed_size(req);
    if (c->max_frame != 0 && body > c->max_frame) {
        ctl_set_err(c, "request of %zu bytes exceeds the server's limit of "
                    "%u bytes", body, (unsigned)c->max_frame);
        return -EMSGSIZE;
    }
    frame = malloc(FRAME_PREFIX_MAX_BYTES + body);
    if (frame == NULL) {
        ctl_set_err(c, "out of memory");
        return -ENOMEM;
    }
    prefix = frame_put_prefix(frame, body);
    mingle__v1__request__pack(req, frame + prefix);
    rc = ctl_send_all(c, frame, prefix + body, ctl_deadline(c->timeout_ms));
    free(frame);
    return rc;
}

/* Makes room for `need` bytes in rx (the limit was checked before). */
static int ctl_rx_reserve(struct ctl_conn *c, size_t need)
{
    uint8_t *grown;

    if (need <= c->rx_cap)
        return 0;
    grown = realloc(c->rx, need);
    if (grown == NULL)
        return -ENOMEM;
    c->rx = grown;
    c->rx_cap = need;
    return 0;
}

int ctl_conn_recv(struct ctl_conn *c, int timeout_ms,
                  Mingle__V1__Response **resp)
{
    int64_t deadline = ctl_deadline(timeout_ms);
    size_t plen, blen;
    int rc;

    memmove(c->rx, c->rx + c->rx_consumed, c->rx_len - c->rx_consumed);
    c->rx_len -= c->rx_consumed;
    c->rx_consumed = 0;
    for (;;) {
        enum frame_status st = frame_parse(c->rx, c->rx_len,
                                           CTL_MAX_RESPONSE_BYTES, &plen,
                                           &blen);
        short wait;
        ssize_t n;

        if (st == FRAME_OK)
            break;
        if (st == FRAME_BAD) {
            ctl_set_err(c, "the server sent a malformed frame");
            return -EPROTO;
        }
        if (st == FRAME_TOO_BIG) {
            ctl_set_err(c, "the server sent a response over %u bytes",
                        (unsigned)CTL_MAX_RESPONSE_BYTES);
            return -EMSGSIZE;
        }
        /* rx starts larger than any prefix, so only a known frame size
         * can need more room. */
        if (plen != 0 && ctl_rx_reserve(c, plen + blen) != 0) {
            ctl_set_err(c, "out of memory for a %zu-byte response", blen);
            return -ENOMEM;
        }
        /* Read first: TLS may hold bytes that poll() cannot see. */
        n = ctl_io(c, false, c->rx + c->rx_len, c->rx_cap - c->rx_len, &wait);
        if (n == 0) {
            ctl_set_err(c, "the server closed the connection");
            return -ECONNRESET;
        }
        if (n < 0 && wait == 0) {
            rc = -errno;
            ctl_set_err(c, "cannot read from the server: %s", strerror(-rc));
            return rc;
        }
        if (n < 0) {
            rc = ctl_wait(c->fd, wait, deadline);
            if (rc != 0) {
                ctl_set_err(c, rc == -ETIMEDOUT
                                   ? "timed out waiting for the server"
                                   : "cannot read from the server");
                return rc;
            }
            continue;
        }
        c->rx_len += (size_t)n;
    }

    c->rx_consumed = plen + blen;
    pballoc_reset(c->arena, pballoc_cap_for(blen) < CTL_MAX_DECODE_BYTES
                                ? pballoc_cap_for(blen)
                                : CTL_MAX_DECODE_BYTES);
    *resp = mingle__v1__response__unpack(pballoc_allocator(c->arena), blen,
                                         c->rx + plen);
    if (*resp == NULL) {
        bool big = pballoc_exhausted(c->arena);

        ctl_set_err(c, big ? "a response too large to decode"
                           : "the server sent an undecodable response");
        return big ? -EMSGSIZE : -EPROTO;
    }
    return 0;
}

/* Records a server Error as the connection's last error. */
static void ctl_set_server_err(struct ctl_conn *c, const Mingle__V1__Error *e)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &mingle__v1__error_code__descriptor, (int)e->code);
    char msg[CTL_ERR_BYTES / 2];

    ctl_escape(msg, sizeof(msg), e->message ? e->message : "");
    if (v != NULL)
        ctl_set_err(c, "server error %s: %s", v->name, msg);
    else
        ctl_set_err(c, "server error %d: %s", (int)e->code, msg);
}

int ctl_conn_call(struct ctl_conn *c, Mingle__V1__Request *req,
                  Mingle__V1__Response **resp)
{
    int rc = ctl_conn_send(c, req);

    while (rc == 0) {
        rc = ctl_conn_recv(c, c->timeout_ms, resp);
        if (rc != 0)
            break;
        /* id 0 carries the transport's errors, sent just before it closes. */
        if ((*resp)->id != req->id && (*resp)->id != 0)
            continue;
        if ((*resp)->body_case == MINGLE__V1__RESPONSE__BODY_ERROR) {
            ctl_set_server_err(c, (*resp)->error);
            rc = -EREMOTEIO;
        }
        break;
    }
    return rc;
}

/* Hello: authenticates when a token is set and learns the limits. */
static int ctl_hello(struct ctl_conn *c, const char *token)
{
    Mingle__V1__Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__Hello hello = MINGLE__V1__HELLO__INIT;
    Mingle__V1__Response *resp;
    int rc;

    hello.protocol_version = MINGLE__V1__PROTOCOL_VERSION__PROTOCOL_VERSION_1;
    hello.token = (char *)(token != NULL ? token : "");
    hello.client = (char *)"minglectl " MINGLE_VERSION;
    req.body_case = MINGLE__V1__REQUEST__BODY_HELLO;
    req.hello = &hello;
    rc = ctl_conn_call(c, &req, &resp);
    if (rc != 0)
        return rc;
    if (resp->body_case != MINGLE__V1__RESPONSE__BODY_HELLO) {
        ctl_set_err(c, "the server answered Hello with something else");
        return -EPROTO;
    }
    c->max_frame = resp->hello->max_frame_bytes;
    c->max_batch = resp->hello->max_attendees_per_request;
    return 0;
}

/* OpenSSL's reason for the last failure, or `otherwise`. */
static const char *ctl_tls_reason(const char *otherwise)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

    return r != NULL ? r : otherwise;
}

/* The TLS context with the CAs to trust, made before connecting: the
 * server gives a handshake only its frame deadline from the accept.
 * Returns 0, -EINVAL (--ca-file) or -ENOMEM, with c->err set. */
static int ctl_tls_setup(struct ctl_conn *c, const struct ctl_conn_opts *o)
{
    ERR_clear_error();
    c->ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (c->ssl_ctx == NULL ||
        SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION) != 1) {
        ctl_set_err(c, "out of memory for TLS");
        return -ENOMEM;
    }
    /* The server ends with close_notify, or may just close: frames are
     * self-delimiting, so a cut shows anyway. */
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    SSL_CTX_set_options(c->ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
    /* OpenSSL would say "system lib" for a file it cannot open. */
    if (o->ca_file != NULL && access(o->ca_file, R_OK) != 0) {
        ctl_set_err(c, "cannot read --ca-file '%s': %s", o->ca_file,
                    strerror(errno));
        return -EINVAL;
    }
    if (o->ca_file != NULL
            ? SSL_CTX_load_verify_locations(c->ssl_ctx, o->ca_file, NULL) != 1
            : SSL_CTX_set_default_verify_paths(c->ssl_ctx) != 1) {
        ctl_set_err(c, "cannot load the CA certificates%s%s%s: %s",
                    o->ca_file ? " in '" : "", o->ca_file ? o->ca_file : "",
                    o->ca_file ? "'" : "", ctl_tls_reason("unknown error"));
        return -EINVAL;
    }
    return 0;
}

/* The TLS handshake on the connected socket, verifying that the server
 * is o->host.  Returns 0, -EPROTO (TLS failed), -ENOMEM or -ETIMEDOUT,
 * with c->err set. */
static int ctl_tls_start(struct ctl_conn *c, const struct ctl_conn_opts *o,
                         int64_t deadline)
{
    unsigned char ip[16];
    bool is_ip = inet_pton(AF_INET, o->host, ip) == 1 ||
                 inet_pton(AF_INET6, o->host, ip) == 1;
    sigset_t old;
    int rc = -ENOMEM;

    c->ssl = SSL_new(c->ssl_ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
        goto nomem;
    /* An address is checked against the certificate's IP entries, a name
     * against its DNS names (and sent as SNI). */
    if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl),
                                              o->host) != 1
              : (SSL_set_tlsext_host_name(c->ssl, o->host) != 1 ||
                 SSL_set1_host(c->ssl, o->host) != 1))
        goto nomem;
    for (;;) {
        int r;

        ERR_clear_error();
        ctl_nopipe_begin(&old);
        r = SSL_connect(c->ssl);
        ctl_nopipe_end(&old);
        if (r == 1)
            return 0;
        switch (SSL_get_error(c->ssl, r)) {
        case SSL_ERROR_WANT_READ:
            rc = ctl_wait(c->fd, POLLIN, deadline);
            break;
        case SSL_ERROR_WANT_WRITE:
            rc = ctl_wait(c->fd, POLLOUT, deadline);
            break;
        default:
            rc = -EPROTO;
            break;
        }
        if (rc != 0)
            break;
    }
    long v = SSL_get_verify_result(c->ssl);
    if (rc == -ETIMEDOUT)
        ctl_set_err(c, "timed out in the TLS handshake with %s port %s",
                    o->host, o->port);
    else if (v != X509_V_OK)
        ctl_set_err(c, "the server's certificate does not verify for %s: %s",
                    o->host, X509_verify_cert_error_string(v));
    else
        ctl_set_err(c, "TLS handshake with %s port %s failed: %s (is the "
                    "server using TLS?)", o->host, o->port,
                    ctl_tls_reason("the connection was closed"));
    return rc == -ETIMEDOUT ? rc : -EPROTO;

nomem:
    ctl_set_err(c, "out of memory for TLS");
    return rc;
}

int ctl_conn_open(const struct ctl_conn_opts *o, struct ctl_conn **out,
                  char *err, size_t err_cap)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL, *ai;
    int64_t deadline = ctl_deadline(o->timeout_ms);
    struct ctl_conn *c;
    int rc, gai;

    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, err_cap, "out of memory");
        return -ENOMEM;
    }
    c->fd = -1;
    c->next_id = 1;
    c->timeout_ms = o->timeout_ms;
    c->rx = malloc(CTL_RX_INITIAL_BYTES);
    c->rx_cap = CTL_RX_INITIAL_BYTES;
    c->arena = pballoc_new(0);
    if (c->rx == NULL || c->arena == NULL) {
        snprintf(err, err_cap, "out of memory");
        rc = -ENOMEM;
        goto out;
    }

    if (o->tls && (rc = ctl_tls_setup(c, o)) != 0) {
        snprintf(err, err_cap, "%s", c->err);
        goto out;
    }
    gai = getaddrinfo(o->host, o->port, &hints, &res);
    if (gai != 0) {
        snprintf(err, err_cap, "cannot resolve %s port %s: %s", o->host,
                 o->port, gai_strerror(gai));
        rc = -EHOSTUNREACH;
        goto out;
    }
    rc = -EHOSTUNREACH;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        rc = ctl_connect_one(ai, deadline);
        if (rc >= 0) {
            c->fd = rc;
            rc = 0;
            break;
        }
    }
    if (rc != 0) {
        snprintf(err, err_cap, "cannot connect to %s port %s: %s", o->host,
                 o->port, strerror(-rc));
        goto out;
    }
    rc = o->tls ? ctl_tls_start(c, o, deadline) : 0;
    if (rc == 0)
        rc = ctl_hello(c, o->token);
    /* A TLS server closes on a Hello in the clear without a word. */
    if (rc != 0)
        snprintf(err, err_cap, "%s%s", c->err,
                 rc == -ECONNRESET && !o->tls
                     ? " (if it speaks TLS, add --tls)" : "");
out:
    if (res != NULL)
        freeaddrinfo(res);
    if (rc != 0) {
        ctl_conn_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void ctl_conn_free(struct ctl_conn *c)
{
    if (c == NULL)
        return;
    /* No close_notify: the server takes the end of the stream as the
     * end, and every request has had its answer. */
    SSL_free(c->ssl);
    SSL_CTX_free(c->ssl_ctx);
    if (c->fd >= 0)
        close(c->fd);
    pballoc_free(c->arena);
    free(c->rx);
    free(c);
}

uint32_t ctl_conn_max_frame(const struct ctl_conn *c)
{
    return c->max_frame;
}

uint32_t ctl_conn_max_batch(const struct ctl_conn *c)
{
    return c->max_batch;
}

const char *ctl_conn_error(const struct ctl_conn *c)
{
    return c->err;
}
