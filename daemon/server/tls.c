/* tls.c -- OpenSSL server contexts and TLS bufferevents.
 *
 * The files are read into memory by us and parsed from there, rather than
 * with SSL_CTX_use_certificate_chain_file(): we can refuse what is not a
 * regular file before a read could block, and wipe the key's bytes
 * afterwards.
 */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

struct tls_ctx {
    SSL_CTX *ssl_ctx;
};

/* Reads the regular file at `path` (at most TLS_FILE_MAX_BYTES) into a new
 * buffer.  Returns 0, or a negative errno (-EINVAL: not a regular file). */
static int tls_read_file(const char *path, char **out, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    size_t n = 0;
    int rc = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        goto out;
    }
    if (st.st_size > (off_t)TLS_FILE_MAX_BYTES) {
        rc = -EFBIG;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    /* The size may change under us: read what is there, up to the cap. */
    while (n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

/* An encrypted key would make OpenSSL prompt on the terminal. */
static int tls_no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

/* "<what> '<path>'<how>: <OpenSSL's last reason>", clearing OpenSSL's
 * queue. */
static void tls_fail(char *why, size_t cap, const char *what,
                     const char *path, const char *how)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

    snprintf(why, cap, "%s '%s'%s%s%s", what, path, how, reason ? ": " : "",
             reason ? reason : "");
    ERR_clear_error();
}

/* tls_read_file(), with the reason in why[0..cap) naming the config key
 * `what` and the file. */
static int tls_read_named(const char *what, const char *path, char **buf,
                          size_t *len, char *why, size_t cap)
{
    int rc = tls_read_file(path, buf, len);

    if (rc != 0)
        snprintf(why, cap, "%s '%s': %s", what, path,
                 rc == -EINVAL ? "not a regular file" : strerror(-rc));
    return rc;
}

static int tls_load_chain(SSL_CTX *ctx, const char *path, char *why,
                          size_t cap)
{
    char *buf = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    X509 *x = NULL;
    int rc = tls_read_named("tls_cert_file", path, &buf, &len, why, cap);

    if (rc != 0)
        return rc;
    rc = -EINVAL;
    bio = BIO_new_mem_buf(buf, (int)len);
    if (bio == NULL)
        goto fail;
    x = PEM_read_bio_X509_AUX(bio, NULL, tls_no_password, NULL);
    if (x == NULL || SSL_CTX_use_certificate(ctx, x) != 1)
        goto fail;
    X509_free(x); /* the context holds its own reference */
    x = NULL;
    /* The rest of the file is the chain up to (not necessarily
     * including) the root. */
    while ((x = PEM_read_bio_X509(bio, NULL, tls_no_password, NULL)) != NULL) {
        if (SSL_CTX_add0_chain_cert(ctx, x) != 1)
            goto fail;
    }
    unsigned long e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) != ERR_LIB_PEM ||
        ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
        goto fail;
    ERR_clear_error();
    rc = 0;
    goto out;
fail:
    X509_free(x);
    tls_fail(why, cap, "tls_cert_file: no usable PEM certificate in", path,
             "");
out:
    BIO_free(bio);
    free(buf);
    return rc;
}

static int tls_load_key(SSL_CTX *ctx, const char *path, char *why,
                        size_t cap)
{
    char *buf = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    EVP_PKEY *key = NULL;
    int rc = tls_read_named("tls_key_file", path, &buf, &len, why, cap);

    if (rc != 0)
        return rc;
    rc = -EINVAL;
    bio = BIO_new_mem_buf(buf, (int)len);
    if (bio != NULL)
        key = PEM_read_bio_PrivateKey(bio, NULL, tls_no_password, NULL);
    if (key == NULL) {
        tls_fail(why, cap, "tls_key_file: no usable unencrypted PEM key in",
                 path, "");
        goto out;
    }
    if (SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        tls_fail(why, cap, "tls_key_file: the key in", path,
                 " does not match the certificate");
        goto out;
    }
    rc = 0;
out:
    EVP_PKEY_free(key);
    BIO_free(bio);
    OPENSSL_cleanse(buf, len);
    free(buf);
    return rc;
}

struct tls_ctx *tls_ctx_new(const char *cert_path, const char *key_path,
                            char *why, size_t why_cap)
{
    struct tls_ctx *t = calloc(1, sizeof(*t));

    if (t == NULL)
        goto nomem;
    t->ssl_ctx = SSL_CTX_new(TLS_server_method());
    if (t->ssl_ctx == NULL)
        goto nomem;
    if (SSL_CTX_set_min_proto_version(t->ssl_ctx, TLS1_2_VERSION) != 1)
        goto nomem;
    /* Renegotiation is a CPU lever for the peer and nothing here needs
     * it.  An end without close_notify is an ordinary end (tls.h); on
     * OpenSSL 3 that takes this option, as libevent's dirty-shutdown
     * switch predates it. */
    SSL_CTX_set_options(t->ssl_ctx, SSL_OP_NO_RENEGOTIATION
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
                                        | SSL_OP_IGNORE_UNEXPECTED_EOF
#endif
    );
    /* Idle connections then hold no read/write buffers; libevent may hand
     * a retried write a moved buffer. */
    SSL_CTX_set_mode(t->ssl_ctx, SSL_MODE_RELEASE_BUFFERS |
                                     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (tls_load_chain(t->ssl_ctx, cert_path, why, why_cap) != 0 ||
        tls_load_key(t->ssl_ctx, key_path, why, why_cap) != 0)
        goto fail;
    return t;

nomem:
    snprintf(why, why_cap, "out of memory for the TLS context");
    ERR_clear_error();
fail:
    tls_ctx_free(t);
    return NULL;
}

void tls_ctx_free(struct tls_ctx *t)
{
    if (t == NULL)
        return;
    SSL_CTX_free(t->ssl_ctx);
    free(t);
}

void tls_ctx_describe(const struct tls_ctx *t, char *buf, size_t cap)
{
    X509 *x = SSL_CTX_get0_certificate(t->ssl_ctx);
    BIO *mem = BIO_new(BIO_s_mem());
    char *text = NULL;
    long n = 0;

    buf[0] = '\0';
    if (x != NULL && mem != NULL &&
        X509_NAME_print_ex(mem, X509_get_subject_name(x), 0,
                           XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
        BIO_puts(mem, ", valid until ") > 0 &&
        ASN1_TIME_print(mem, X509_get0_notAfter(x)) == 1)
        n = BIO_get_mem_data(mem, &text);
    if (n > 0)
        snprintf(buf, cap, "%.*s", (int)n, text);
    BIO_free(mem);
    ERR_clear_error();
}

struct bufferevent *tls_bufferevent_new(struct tls_ctx *t,
                                        struct event_base *base, int fd)
{
    SSL *ssl = SSL_new(t->ssl_ctx);
    struct bufferevent *bev;

    if (ssl == NULL) {
        ERR_clear_error();
        return NULL;
    }
    /* From here libevent owns `ssl`, even when it fails (it may already
     * have freed it then). */
    bev = bufferevent_openssl_socket_new(base, fd, ssl,
                                         BUFFEREVENT_SSL_ACCEPTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        ERR_clear_error();
        return NULL;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

void tls_error_describe(struct bufferevent *bev, char *buf, size_t cap)
{
    unsigned long e, first = 0;

    /* libevent returns them newest first, and its oldest is the bare
     * SSL_get_error() code (library 0): the cause is the oldest of
     * OpenSSL's own. */
    while ((e = bufferevent_get_openssl_error(bev)) != 0)
        if (ERR_GET_LIB(e) != 0)
            first = e;
    buf[0] = '\0';
    if (first != 0) {
        const char *reason = ERR_reason_error_string(first);

        if (reason != NULL)
            snprintf(buf, cap, "%s", reason);
        else
            snprintf(buf, cap, "OpenSSL error %lx", first);
    }
    ERR_clear_error();
}

const char *tls_version(struct bufferevent *bev)
{
    SSL *ssl = bufferevent_openssl_get_ssl(bev);

    return ssl != NULL ? SSL_get_version(ssl) : "none";
}

void tls_close_notify(struct bufferevent *bev)
{
    SSL *ssl = bufferevent_openssl_get_ssl(bev);

    if (ssl != NULL && SSL_is_init_finished(ssl))
        (void)SSL_shutdown(ssl);
    ERR_clear_error();
}
