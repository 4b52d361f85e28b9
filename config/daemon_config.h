/* daemon_config.h -- the daemon's configuration file (YAML).
 *
 * Every key is optional; a null value ("key:" or "key: ~") keeps the
 * default.  Unknown keys are errors, reported with file:line:column like
 * every other error, and the file is read through libyaml's event API
 * with the limits of the event file loader (size, depth, no anchors or
 * aliases, one document).
 *
 *   listen: ["127.0.0.1", "::1"]  numeric IPv4/IPv6 addresses, 1..16
 *   port: 7411                    0: the kernel picks a free port
 *   data_dir: "./mingle-data"
 *   max_frame_bytes: 1048576      1 KiB .. 64 MiB
 *   max_connections: 1024         1 .. 1,000,000
 *   max_connections_per_address: 64   1 .. 1,000,000: connections from
 *                                 one peer address (loopback included)
 *   reserved_connections: 8       0 .. 1,000,000: once this many slots
 *                                 or fewer are free, each new
 *                                 connection evicts the oldest one that
 *                                 has not authenticated (or, with no
 *                                 such one, the oldest subscriber), so
 *                                 squatters cannot lock an organizer out
 *   idle_timeout_ms: 300000       1 s .. 1 day
 *   hello_timeout_ms: 5000        100 ms .. 1 hour: with a token, a
 *                                 connection that has not passed Hello
 *                                 within it is closed
 *   frame_timeout_ms: 10000       100 ms .. 1 hour: a started frame must
 *                                 complete within it
 *   output_cap_bytes: 8388608     queued output per connection, 64 KiB..1 GiB
 *   auth_token: "..."             16..256 printable ASCII bytes, no spaces
 *   auth_token_file: "/etc/mingle/token"   instead of auth_token (not both):
 *                                 read at load time, at most 4 KiB, one
 *                                 trailing newline stripped
 *   log_level: info               error | warn | info | debug
 *   plan_max_seconds: 60          0 .. 86400: how long the background
 *                                 planner may improve one plan (it stops
 *                                 sooner when the search converges); 0
 *                                 turns background planning off
 *   tls_cert_file: "/etc/mingle/cert.pem"   PEM certificate chain, leaf
 *                                 first; with tls_key_file (both or
 *                                 neither) every listener speaks TLS only
 *   tls_key_file: "/etc/mingle/key.pem"     its PEM private key
 *   plaintext_off_loopback: false  true (the word itself): a listener
 *                                 that is not loopback may serve without
 *                                 TLS; otherwise it needs tls_cert_file
 *
 * Relative paths (data_dir, auth_token_file, tls_cert_file, tls_key_file)
 * are taken relative to the working directory, as on the command line.
 * The TLS files are only named here; the server reads them (server.h).
 */
#ifndef MINGLE_DAEMON_CONFIG_H
#define MINGLE_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg_error.h"

#define CFG_DAEMON_MAX_FILE_BYTES (1024u * 1024)
#define CFG_DAEMON_MAX_LISTEN 16
#define CFG_DAEMON_DEFAULT_LISTEN "127.0.0.1"
#define CFG_DAEMON_DEFAULT_PORT 7411
#define CFG_DAEMON_DEFAULT_DATA_DIR "./mingle-data"
#define CFG_DAEMON_DEFAULT_MAX_FRAME_BYTES (1024u * 1024)
#define CFG_DAEMON_DEFAULT_MAX_CONNECTIONS 1024u
#define CFG_DAEMON_DEFAULT_IDLE_TIMEOUT_MS 300000u
#define CFG_DAEMON_DEFAULT_HELLO_TIMEOUT_MS 5000u
#define CFG_DAEMON_DEFAULT_MAX_CONN_PER_ADDRESS 64u
#define CFG_DAEMON_DEFAULT_RESERVED_CONNECTIONS 8u
#define CFG_DAEMON_DEFAULT_FRAME_TIMEOUT_MS 10000u
#define CFG_DAEMON_DEFAULT_OUTPUT_CAP_BYTES (8u * 1024 * 1024)
#define CFG_DAEMON_DEFAULT_PLAN_MAX_SECONDS 60u
#define CFG_DAEMON_PLAN_MAX_SECONDS_MAX 86400u
#define CFG_DAEMON_TOKEN_MIN_BYTES 16
#define CFG_DAEMON_TOKEN_MAX_BYTES 256
#define CFG_DAEMON_TOKEN_FILE_MAX_BYTES 4096
#define CFG_DAEMON_PATH_MAX_BYTES 4095

enum cfg_log_level {
    CFG_LOG_ERROR,
    CFG_LOG_WARN,
    CFG_LOG_INFO,
    CFG_LOG_DEBUG,
};

/* Owns every string in it: release with cfg_daemon_free(); a plain struct
 * assignment moves, never copies. */
struct cfg_daemon {
    char **listen;  /* numeric addresses as written */
    size_t n_listen;
    uint16_t port;
    char *data_dir;
    uint32_t max_frame_bytes;
    uint32_t max_connections;
    uint32_t idle_timeout_ms;
    uint32_t frame_timeout_ms;
    uint32_t output_cap_bytes;
    uint32_t plan_max_seconds; /* 0: no background planning */
    uint32_t hello_timeout_ms;
    uint32_t max_connections_per_address;
    uint32_t reserved_connections;
    char *auth_token;      /* the secret; NULL: no authentication */
    char *auth_token_file; /* where auth_token came from; NULL if inline */
    char *tls_cert_file;   /* NULL: no TLS (then tls_key_file is NULL too) */
    char *tls_key_file;
    bool plaintext_off_loopback; /* may a non-loopback listener be plain */
    enum cfg_log_level log_level;
    char *source;          /* file loaded, for cfg_daemon_check() errors;
                              NULL for the defaults */
};

/* Fills *c with the defaults (overwriting it without freeing).  Returns 0,
 * or -ENOMEM with *c left empty (safe to cfg_daemon_free). */
int cfg_daemon_defaults(struct cfg_daemon *c);

/* Loads the file at `path`: defaults, overridden by the file's keys; an
 * empty file gives the defaults.  All or nothing: on success the old
 * contents of *out are freed and replaced, so *out must hold a config or
 * be zeroed; on failure *out is untouched and *err says why (file:line:
 * column for content errors).  Returns 0, -EINVAL for bad content, -EFBIG
 * over CFG_DAEMON_MAX_FILE_BYTES, -ENOMEM, or -errno when the file cannot
 * be read.  Cross-field rules are cfg_daemon_check()'s. */
int cfg_daemon_load(const char *path, struct cfg_daemon *out,
                    struct cfg_error *err);

/* Same, from a buffer; `name` names the input in errors and in ->source. */
int cfg_daemon_parse(const char *buf, size_t len, const char *name,
                     struct cfg_daemon *out, struct cfg_error *err);

/* Checks a complete config, however it was built (file, defaults, command
 * line overrides): every field in its range, the TLS files both or
 * neither, and a listen address other than loopback only with an auth
 * token, because the protocol would otherwise hand the event to anyone on
 * the network, and only with TLS unless plaintext_off_loopback is true,
 * because the token and the attendees would cross it in the clear.
 * Returns 0, or -EINVAL with *err filled (c->source as the file, no
 * position). */
int cfg_daemon_check(const struct cfg_daemon *c, struct cfg_error *err);

/* Checks a reload: `next` (already through cfg_daemon_check()) against
 * `running`, whose listeners are the ones open and whose TLS setting (on
 * or off) they keep.  While a non-loopback listener is open, removing the
 * token is refused, and so is, when it runs without TLS, a `next` without
 * plaintext_off_loopback.  Returns 0, or -EINVAL with *err filled
 * (next->source as the file). */
int cfg_daemon_check_reload(const struct cfg_daemon *running,
                            const struct cfg_daemon *next,
                            struct cfg_error *err);

/* Whether `a` and `b` listen on the same addresses, in the same order,
 * on the same port.  Both must have passed cfg_daemon_check(). */
bool cfg_daemon_same_listeners(const struct cfg_daemon *a,
                               const struct cfg_daemon *b);

/* Writes the effective config as YAML that cfg_daemon_load() reads back.
 * A token read from a file is printed as its auth_token_file; an inline
 * token is never printed: it shows as auth_token: "<redacted>", which is
 * too short to load, so a pasted copy fails loudly instead of running
 * with a known token.  Returns 0 or -EIO. */
int cfg_daemon_print(FILE *f, const struct cfg_daemon *c);

/* Frees the strings of *c, wipes the token, and leaves *c zeroed; NULL is
 * a no-op. */
void cfg_daemon_free(struct cfg_daemon *c);

/* "error", "warn", "info" or "debug". */
const char *cfg_log_level_name(enum cfg_log_level level);

#endif
