/* daemon_config.c -- the daemon's YAML config into a struct cfg_daemon.
 *
 * Parsed into a scratch config that starts from the defaults and replaces
 * the caller's only when the whole file is good, so a SIGHUP reload with a
 * broken file leaves the running config alone.  Numbers share one table of
 * ranges between the loader and cfg_daemon_check(), which also guards
 * values that came from the command line.
 */
#include "daemon_config.h"
#include "cfg_quote.h"
#include "cfg_yaml.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DC_ADDR_MAX_BYTES 63 /* longer than any numeric IPv6 address */
#define DC_REDACTED "<redacted>"

enum { DK_LISTEN, DK_PORT, DK_DATA_DIR, DK_MAX_FRAME_BYTES,
       DK_MAX_CONNECTIONS, DK_IDLE_TIMEOUT_MS, DK_FRAME_TIMEOUT_MS,
       DK_OUTPUT_CAP_BYTES, DK_AUTH_TOKEN, DK_AUTH_TOKEN_FILE, DK_LOG_LEVEL,
       DK_PLAN_MAX_SECONDS, DK_HELLO_TIMEOUT_MS, DK_MAX_CONN_PER_ADDRESS,
       DK_RESERVED_CONNECTIONS, DK_TLS_CERT_FILE, DK_TLS_KEY_FILE,
       DK_PLAINTEXT_OFF_LOOPBACK, DK_KEYS };
static const char *const dc_keys[DK_KEYS] = {
    "listen", "port", "data_dir", "max_frame_bytes", "max_connections",
    "idle_timeout_ms", "frame_timeout_ms", "output_cap_bytes", "auth_token",
    "auth_token_file", "log_level", "plan_max_seconds", "hello_timeout_ms",
    "max_connections_per_address", "reserved_connections", "tls_cert_file",
    "tls_key_file", "plaintext_off_loopback"};

struct dc_range {
    size_t key;
    uint32_t min, max;
};

static const struct dc_range dc_ranges[] = {
    {DK_PORT, 0, 65535},
    {DK_MAX_FRAME_BYTES, 1024, 64u * 1024 * 1024},
    {DK_MAX_CONNECTIONS, 1, 1000000},
    {DK_IDLE_TIMEOUT_MS, 1000, 24u * 3600 * 1000},
    {DK_FRAME_TIMEOUT_MS, 100, 3600u * 1000},
    {DK_OUTPUT_CAP_BYTES, 64u * 1024, 1024u * 1024 * 1024},
    {DK_PLAN_MAX_SECONDS, 0, CFG_DAEMON_PLAN_MAX_SECONDS_MAX},
    {DK_HELLO_TIMEOUT_MS, 100, 3600u * 1000},
    {DK_MAX_CONN_PER_ADDRESS, 1, 1000000},
    {DK_RESERVED_CONNECTIONS, 0, 1000000},
};
#define DC_N_RANGES (sizeof(dc_ranges) / sizeof(dc_ranges[0]))

static const char *const dc_levels[] = {"error", "warn", "info", "debug"};
#define DC_N_LEVELS (sizeof(dc_levels) / sizeof(dc_levels[0]))

struct dc_addr {
    int family;
    unsigned char bytes[16];
};

const char *cfg_log_level_name(enum cfg_log_level level)
{
    return (size_t)level < DC_N_LEVELS ? dc_levels[level] : "info";
}

static uint32_t dc_get(const struct cfg_daemon *c, size_t key)
{
    switch (key) {
    case DK_PORT:
        return c->port;
    case DK_MAX_FRAME_BYTES:
        return c->max_frame_bytes;
    case DK_MAX_CONNECTIONS:
        return c->max_connections;
    case DK_IDLE_TIMEOUT_MS:
        return c->idle_timeout_ms;
    case DK_FRAME_TIMEOUT_MS:
        return c->frame_timeout_ms;
    case DK_PLAN_MAX_SECONDS:
        return c->plan_max_seconds;
    case DK_HELLO_TIMEOUT_MS:
        return c->hello_timeout_ms;
    case DK_MAX_CONN_PER_ADDRESS:
        return c->max_connections_per_address;
    case DK_RESERVED_CONNECTIONS:
        return c->reserved_connections;
    default:
        return c->output_cap_bytes;
    }
}

static void dc_set(struct cfg_daemon *c, size_t key, uint32_t v)
{
    switch (key) {
    case DK_PORT:
        c->port = (uint16_t)v;
        break;
    case DK_MAX_FRAME_BYTES:
        c->max_frame_bytes = v;
        break;
    case DK_MAX_CONNECTIONS:
        c->max_connections = v;
        break;
    case DK_IDLE_TIMEOUT_MS:
        c->idle_timeout_ms = v;
        break;
    case DK_FRAME_TIMEOUT_MS:
        c->frame_timeout_ms = v;
        break;
    case DK_PLAN_MAX_SECONDS:
        c->plan_max_seconds = v;
        break;
    case DK_HELLO_TIMEOUT_MS:
        c->hello_timeout_ms = v;
        break;
    case DK_MAX_CONN_PER_ADDRESS:
        c->max_connections_per_address = v;
        break;
    case DK_RESERVED_CONNECTIONS:
        c->reserved_connections = v;
        break;
    default:
        c->output_cap_bytes = v;
        break;
    }
}

/* Overwrites the bytes so the secret does not linger in freed memory;
 * volatile keeps the compiler from dropping stores to memory about to be
 * freed. */
static void dc_wipe(char *s, size_t len)
{
    volatile char *v = s;

    while (len--)
        *v++ = '\0';
}

static bool dc_parse_addr(const char *s, struct dc_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (inet_pton(AF_INET, s, a->bytes) == 1) {
        a->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, s, a->bytes) == 1) {
        a->family = AF_INET6;
        return true;
    }
    return false;
}

static bool dc_is_loopback(const struct dc_addr *a)
{
    static const unsigned char v6_loop[16] = {[15] = 1};
    static const unsigned char v4_mapped[12] = {[10] = 0xFF, [11] = 0xFF};

    if (a->family == AF_INET)
        return a->bytes[0] == 127;
    return memcmp(a->bytes, v6_loop, 16) == 0 ||
           (memcmp(a->bytes, v4_mapped, 12) == 0 && a->bytes[12] == 127);
}

/* NULL when the token is acceptable, else why not (never the token). */
static const char *dc_token_problem(const char *t, size_t len)
{
    size_t i;

    if (len < CFG_DAEMON_TOKEN_MIN_BYTES || len > CFG_DAEMON_TOKEN_MAX_BYTES)
        return "must be 16 to 256 bytes long";
    for (i = 0; i < len; i++)
        if ((unsigned char)t[i] < 0x21 || (unsigned char)t[i] > 0x7E)
            return "must be printable ASCII without spaces";
    return NULL;
}

void cfg_daemon_free(struct cfg_daemon *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->n_listen; i++)
        free(c->listen[i]);
    free(c->listen);
    free(c->data_dir);
    if (c->auth_token)
        dc_wipe(c->auth_token, strlen(c->auth_token));
    free(c->auth_token);
    free(c->auth_token_file);
    free(c->tls_cert_file);
    free(c->tls_key_file);
    free(c->source);
    memset(c, 0, sizeof(*c));
}

int cfg_daemon_defaults(struct cfg_daemon *c)
{
    memset(c, 0, sizeof(*c));
    c->port = CFG_DAEMON_DEFAULT_PORT;
    c->max_frame_bytes = CFG_DAEMON_DEFAULT_MAX_FRAME_BYTES;
    c->max_connections = CFG_DAEMON_DEFAULT_MAX_CONNECTIONS;
    c->idle_timeout_ms = CFG_DAEMON_DEFAULT_IDLE_TIMEOUT_MS;
    c->hello_timeout_ms = CFG_DAEMON_DEFAULT_HELLO_TIMEOUT_MS;
    c->max_connections_per_address = CFG_DAEMON_DEFAULT_MAX_CONN_PER_ADDRESS;
    c->reserved_connections = CFG_DAEMON_DEFAULT_RESERVED_CONNECTIONS;
    c->frame_timeout_ms = CFG_DAEMON_DEFAULT_FRAME_TIMEOUT_MS;
    c->output_cap_bytes = CFG_DAEMON_DEFAULT_OUTPUT_CAP_BYTES;
    c->plan_max_seconds = CFG_DAEMON_DEFAULT_PLAN_MAX_SECONDS;
    c->log_level = CFG_LOG_INFO;
    c->listen = calloc(1, sizeof(*c->listen));
    if (c->listen == NULL)
        goto fail;
    c->listen[0] = strdup(CFG_DAEMON_DEFAULT_LISTEN);
    if (c->listen[0] == NULL)
        goto fail;
    c->n_listen = 1;
    c->data_dir = strdup(CFG_DAEMON_DEFAULT_DATA_DIR);
    if (c->data_dir == NULL)
        goto fail;
    return 0;
fail:
    cfg_daemon_free(c);
    return -ENOMEM;
}

/* ---- loading ---- */

static int dc_fail_kind(struct cfg_yaml *y, const char *what,
                        const char *expected)
{
    return cfg_yaml_fail(y, y->ev.start_mark, "%s: expected %s, got %s", what,
                         expected, cfg_yaml_kind(&y->ev));
}

/* data_dir, auth_token_file, tls_*_file: a path without control
 * characters. */
static int dc_path(struct cfg_yaml *y, const char *what, char **out)
{
    const char *s;
    size_t len, i;

    if (y->ev.type != YAML_SCALAR_EVENT || cfg_yaml_is_null(&y->ev))
        return dc_fail_kind(y, what, "a path");
    s = cfg_yaml_text(y, &len);
    if (len == 0)
        return cfg_yaml_fail(y, y->ev.start_mark, "%s: empty path", what);
    if (len > CFG_DAEMON_PATH_MAX_BYTES)
        return cfg_yaml_fail(y, y->ev.start_mark, "%s: longer than %d bytes",
                             what, CFG_DAEMON_PATH_MAX_BYTES);
    for (i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
            return cfg_yaml_fail(y, y->ev.start_mark,
                                 "%s: control characters are not allowed",
                                 what);
    free(*out);
    *out = strdup(s);
    return *out ? 0 : cfg_yaml_nomem(y);
}

static int dc_listen(struct cfg_yaml *y, struct cfg_daemon *c)
{
    struct dc_addr addrs[CFG_DAEMON_MAX_LISTEN];
    yaml_mark_t start = y->ev.start_mark;
    char q[64];
    char **list;
    size_t n = 0, len, i;
    const char *s;
    int rc = 0;

    if (y->ev.type != YAML_SEQUENCE_START_EVENT)
        return dc_fail_kind(y, "listen", "a sequence of addresses");
    list = calloc(CFG_DAEMON_MAX_LISTEN, sizeof(*list));
    if (list == NULL)
        return cfg_yaml_nomem(y);
    for (;;) {
        if ((rc = cfg_yaml_next(y)) < 0)
            goto out;
        if (y->ev.type == YAML_SEQUENCE_END_EVENT)
            break;
        if (y->ev.type != YAML_SCALAR_EVENT || cfg_yaml_is_null(&y->ev)) {
            rc = dc_fail_kind(y, "listen", "an address");
            goto out;
        }
        if (n == CFG_DAEMON_MAX_LISTEN) {
            rc = cfg_yaml_fail(y, y->ev.start_mark,
                               "listen: more than %d addresses",
                               CFG_DAEMON_MAX_LISTEN);
            goto out;
        }
        s = cfg_yaml_text(y, &len);
        cfg_yaml_quote(q, sizeof(q), s, len);
        if (len > DC_ADDR_MAX_BYTES || strlen(s) != len ||
            !dc_parse_addr(s, &addrs[n])) {
            rc = cfg_yaml_fail(y, y->ev.start_mark,
                               "listen: '%s' is not a numeric IPv4 or IPv6 "
                               "address", q);
            goto out;
        }
        for (i = 0; i < n; i++)
            if (memcmp(&addrs[i], &addrs[n], sizeof(addrs[n])) == 0) {
                rc = cfg_yaml_fail(y, y->ev.start_mark,
                                   "listen: '%s' is listed twice", q);
                goto out;
            }
        if ((list[n] = strdup(s)) == NULL) {
            rc = cfg_yaml_nomem(y);
            goto out;
        }
        n++;
    }
    if (n == 0) {
        rc = cfg_yaml_fail(y, start, "listen: expected at least one address");
        goto out;
    }
    for (i = 0; i < c->n_listen; i++)
        free(c->listen[i]);
    free(c->listen);
    c->listen = list;
    c->n_listen = n;
    list = NULL;
out:
    if (list)
        for (i = 0; i < n; i++)
            free(list[i]);
    free(list);
    return rc;
}

static int dc_token(struct cfg_yaml *y, struct cfg_daemon *c)
{
    const char *s, *problem;
    size_t len;

    if (y->ev.type != YAML_SCALAR_EVENT || cfg_yaml_is_null(&y->ev))
        return dc_fail_kind(y, "auth_token", "a string");
    s = cfg_yaml_text(y, &len);
    if ((problem = dc_token_problem(s, len)) != NULL)
        return cfg_yaml_fail(y, y->ev.start_mark, "auth_token: the token %s",
                             problem);
    c->auth_token = strdup(s);
    return c->auth_token ? 0 : cfg_yaml_nomem(y);
}

static int dc_token_file(struct cfg_yaml *y, struct cfg_daemon *c)
{
    struct cfg_error ferr;
    const char *problem;
    char *path = NULL, *buf = NULL;
    char q[64];
    size_t len = 0;
    int rc;

    if ((rc = dc_path(y, "auth_token_file", &path)) < 0)
        return rc;
    cfg_yaml_quote(q, sizeof(q), path, strlen(path));
    rc = cfg_read_file(path, CFG_DAEMON_TOKEN_FILE_MAX_BYTES, true, &buf,
                       &len, &ferr);
    if (rc == -ENOMEM) {
        rc = cfg_yaml_nomem(y);
        goto out;
    }
    if (rc < 0) {
        rc = cfg_yaml_fail(y, y->ev.start_mark, "auth_token_file: '%s': %s",
                           q, ferr.msg);
        goto out;
    }
    /* Editors end files with a newline; it is not part of the token. */
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    if ((problem = dc_token_problem(buf, len)) != NULL) {
        rc = cfg_yaml_fail(y, y->ev.start_mark,
                           "auth_token_file: the token in '%s' %s", q,
                           problem);
        goto out;
    }
    buf[len] = '\0';
    c->auth_token = strdup(buf);
    if (c->auth_token == NULL) {
        rc = cfg_yaml_nomem(y);
        goto out;
    }
    c->auth_token_file = path;
    path = NULL;
out:
    if (buf)
        dc_wipe(buf, len);
    free(buf);
    free(path);
    return rc;
}

static int dc_log_level(struct cfg_yaml *y, struct cfg_daemon *c)
{
    char q[64];
    const char *s;
    size_t len, i;

    if (y->ev.type != YAML_SCALAR_EVENT)
        return dc_fail_kind(y, "log_level",
                            "one of error, warn, info, debug");
    s = cfg_yaml_text(y, &len);
    for (i = 0; i < DC_N_LEVELS; i++)
        if (strcmp(s, dc_levels[i]) == 0) {
            c->log_level = (enum cfg_log_level)i;
            return 0;
        }
    cfg_yaml_quote(q, sizeof(q), s, len);
    return cfg_yaml_fail(y, y->ev.start_mark,
                         "log_level: expected one of error, warn, info, "
                         "debug, got '%s'", q);
}

/* Only the words themselves: a switch that lets the network read the
 * traffic must not be turned on by "yes", "on" or "1" slipping in. */
static int dc_bool(struct cfg_yaml *y, const char *what, bool *out)
{
    char q[64];
    const char *s;
    size_t len;

    if (y->ev.type != YAML_SCALAR_EVENT)
        return dc_fail_kind(y, what, "true or false");
    s = cfg_yaml_text(y, &len);
    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
        *out = s[0] == 't';
        return 0;
    }
    cfg_yaml_quote(q, sizeof(q), s, len);
    return cfg_yaml_fail(y, y->ev.start_mark,
                         "%s: expected true or false, got '%s'", what, q);
}

/* `key` must be one of dc_ranges[]. */
static int dc_number(struct cfg_yaml *y, struct cfg_daemon *c, size_t key)
{
    const struct dc_range *r = dc_ranges;
    uint64_t v;
    int rc;

    while (r->key != key)
        r++;
    rc = cfg_yaml_uint(y, dc_keys[key], r->min, r->max, &v);
    if (rc == 0)
        dc_set(c, key, (uint32_t)v);
    return rc;
}

static int dc_value(struct cfg_yaml *y, struct cfg_daemon *c, size_t key)
{
    switch (key) {
    case DK_LISTEN:
        return dc_listen(y, c);
    case DK_DATA_DIR:
        return dc_path(y, "data_dir", &c->data_dir);
    case DK_AUTH_TOKEN:
        return dc_token(y, c);
    case DK_AUTH_TOKEN_FILE:
        return dc_token_file(y, c);
    case DK_LOG_LEVEL:
        return dc_log_level(y, c);
    case DK_TLS_CERT_FILE:
        return dc_path(y, "tls_cert_file", &c->tls_cert_file);
    case DK_TLS_KEY_FILE:
        return dc_path(y, "tls_key_file", &c->tls_key_file);
    case DK_PLAINTEXT_OFF_LOOPBACK:
        return dc_bool(y, "plaintext_off_loopback",
                       &c->plaintext_off_loopback);
    default:
        return dc_number(y, c, key);
    }
}

static int dc_root(struct cfg_yaml *y, struct cfg_daemon *c)
{
    unsigned seen[DK_KEYS] = {0};
    size_t key;
    int rc;

    if (y->ev.type != YAML_MAPPING_START_EVENT)
        return cfg_yaml_fail(y, y->ev.start_mark,
                             "expected a mapping of settings, got %s",
                             cfg_yaml_kind(&y->ev));
    for (;;) {
        if ((rc = cfg_yaml_next(y)) < 0)
            return rc;
        if (y->ev.type == YAML_MAPPING_END_EVENT)
            return 0;
        if ((rc = cfg_yaml_key(y, dc_keys, DK_KEYS, seen, &key)) < 0)
            return rc;
        if (key == DK_AUTH_TOKEN && seen[DK_AUTH_TOKEN_FILE])
            return cfg_yaml_fail(y, y->ev.start_mark,
                                 "auth_token: cannot be combined with "
                                 "auth_token_file (line %u)",
                                 seen[DK_AUTH_TOKEN_FILE]);
        if (key == DK_AUTH_TOKEN_FILE && seen[DK_AUTH_TOKEN])
            return cfg_yaml_fail(y, y->ev.start_mark,
                                 "auth_token_file: cannot be combined with "
                                 "auth_token (line %u)", seen[DK_AUTH_TOKEN]);
        if ((rc = cfg_yaml_next(y)) < 0)
            return rc;
        if (cfg_yaml_is_null(&y->ev))
            continue;
        if ((rc = dc_value(y, c, key)) < 0)
            return rc;
    }
}

int cfg_daemon_parse(const char *buf, size_t len, const char *name,
                     struct cfg_daemon *out, struct cfg_error *err)
{
    struct cfg_daemon c;
    struct cfg_yaml y;
    int rc;

    memset(&c, 0, sizeof(c));
    rc = cfg_yaml_init(&y, buf, len, name, err);
    if (rc < 0)
        goto out;
    if (len > CFG_DAEMON_MAX_FILE_BYTES) {
        snprintf(err->msg, sizeof(err->msg), "file is larger than %u bytes",
                 CFG_DAEMON_MAX_FILE_BYTES);
        rc = -EFBIG;
        goto out;
    }
    if (cfg_daemon_defaults(&c) < 0 ||
        (name && (c.source = strdup(name)) == NULL)) {
        rc = cfg_yaml_nomem(&y);
        goto out;
    }
    /* No document, or a null one, leaves the defaults. */
    rc = cfg_yaml_begin(&y);
    if (rc == 1) {
        rc = cfg_yaml_is_null(&y.ev) ? 0 : dc_root(&y, &c);
        if (rc == 0)
            rc = cfg_yaml_end(&y);
    }
    if (rc == 0) {
        cfg_daemon_free(out);
        *out = c;
        memset(&c, 0, sizeof(c));
    }
out:
    cfg_yaml_fini(&y);
    cfg_daemon_free(&c);
    return rc;
}

int cfg_daemon_load(const char *path, struct cfg_daemon *out,
                    struct cfg_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;

    rc = cfg_read_file(path, CFG_DAEMON_MAX_FILE_BYTES, true, &buf, &len,
                       err);
    if (rc == 0)
        rc = cfg_daemon_parse(buf, len, path, out, err);
    free(buf);
    return rc;
}

/* ---- checking and printing ---- */

static int dc_check_fail(struct cfg_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int dc_check_fail(struct cfg_error *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

int cfg_daemon_check(const struct cfg_daemon *c, struct cfg_error *err)
{
    struct dc_addr a;
    const char *problem;
    char q[64];
    size_t i;

    memset(err, 0, sizeof(*err));
    snprintf(err->file, sizeof(err->file), "%s", c->source ? c->source : "");
    if (c->n_listen == 0 || c->n_listen > CFG_DAEMON_MAX_LISTEN)
        return dc_check_fail(err, "listen: expected 1 to %d addresses",
                             CFG_DAEMON_MAX_LISTEN);
    for (i = 0; i < DC_N_RANGES; i++) {
        uint32_t v = dc_get(c, dc_ranges[i].key);

        if (v < dc_ranges[i].min || v > dc_ranges[i].max)
            return dc_check_fail(err, "%s: %u is out of range (%u to %u)",
                                 dc_keys[dc_ranges[i].key], v,
                                 dc_ranges[i].min, dc_ranges[i].max);
    }
    if (c->data_dir == NULL || c->data_dir[0] == '\0')
        return dc_check_fail(err, "data_dir: empty path");
    if ((size_t)c->log_level >= DC_N_LEVELS)
        return dc_check_fail(err, "log_level: unknown level");
    if (c->auth_token &&
        (problem = dc_token_problem(c->auth_token, strlen(c->auth_token))))
        return dc_check_fail(err, "auth_token: the token %s", problem);
    if ((c->tls_cert_file == NULL) != (c->tls_key_file == NULL))
        return dc_check_fail(err, "%s: required with %s",
                             c->tls_key_file ? "tls_cert_file"
                                             : "tls_key_file",
                             c->tls_key_file ? "tls_key_file"
                                             : "tls_cert_file");
    for (i = 0; i < c->n_listen; i++) {
        cfg_yaml_quote(q, sizeof(q), c->listen[i], strlen(c->listen[i]));
        if (!dc_parse_addr(c->listen[i], &a))
            return dc_check_fail(err,
                                 "listen: '%s' is not a numeric IPv4 or IPv6 "
                                 "address", q);
        if (dc_is_loopback(&a))
            continue;
        if (c->auth_token == NULL)
            return dc_check_fail(err,
                                 "listen: '%s' is not a loopback address, so "
                                 "an auth_token or auth_token_file is "
                                 "required", q);
        /* The token itself would cross the network in the clear. */
        if (c->tls_cert_file == NULL && !c->plaintext_off_loopback)
            return dc_check_fail(err,
                                 "listen: '%s' is not a loopback address, so "
                                 "tls_cert_file and tls_key_file are "
                                 "required (or plaintext_off_loopback: true "
                                 "to serve it without TLS)", q);
    }
    return 0;
}

int cfg_daemon_print(FILE *f, const struct cfg_daemon *c)
{
    size_t i;

    fputs("# mingled: effective configuration\nlisten: [", f);
    for (i = 0; i < c->n_listen; i++) {
        fputs(i ? ", " : "", f);
        cfg_put_quoted(f, c->listen[i]);
    }
    fputs("]\n", f);
    fprintf(f, "port: %u\n", (unsigned)c->port);
    fputs("data_dir: ", f);
    cfg_put_quoted(f, c->data_dir ? c->data_dir : "");
    fprintf(f, "\nmax_frame_bytes: %u\n", c->max_frame_bytes);
    fprintf(f, "max_connections: %u\n", c->max_connections);
    fprintf(f, "max_connections_per_address: %u\n",
            c->max_connections_per_address);
    fprintf(f, "reserved_connections: %u\n", c->reserved_connections);
    fprintf(f, "idle_timeout_ms: %u\n", c->idle_timeout_ms);
    fprintf(f, "hello_timeout_ms: %u\n", c->hello_timeout_ms);
    fprintf(f, "frame_timeout_ms: %u\n", c->frame_timeout_ms);
    fprintf(f, "output_cap_bytes: %u\n", c->output_cap_bytes);
    if (c->auth_token_file) {
        fputs("auth_token_file: ", f);
        cfg_put_quoted(f, c->auth_token_file);
        fputc('\n', f);
    } else if (c->auth_token) {
        fputs("auth_token: \"" DC_REDACTED "\"\n", f);
    }
    fprintf(f, "log_level: %s\n", cfg_log_level_name(c->log_level));
    fprintf(f, "plan_max_seconds: %u\n", c->plan_max_seconds);
    if (c->tls_cert_file) {
        fputs("tls_cert_file: ", f);
        cfg_put_quoted(f, c->tls_cert_file);
        fputc('\n', f);
    }
    if (c->tls_key_file) {
        fputs("tls_key_file: ", f);
        cfg_put_quoted(f, c->tls_key_file);
        fputc('\n', f);
    }
    fprintf(f, "plaintext_off_loopback: %s\n",
            c->plaintext_off_loopback ? "true" : "false");
    return ferror(f) ? -EIO : 0;
}

int cfg_daemon_check_reload(const struct cfg_daemon *running,
                            const struct cfg_daemon *next,
                            struct cfg_error *err)
{
    struct dc_addr a;
    char q[64];
    size_t i;

    memset(err, 0, sizeof(*err));
    snprintf(err->file, sizeof(err->file), "%s",
             next->source ? next->source : "");
    /* The listeners stay those of the start, and so does TLS on them:
     * the new file would pass cfg_daemon_check() while an open listener
     * serves the network. */
    for (i = 0; i < running->n_listen; i++) {
        if (dc_parse_addr(running->listen[i], &a) && dc_is_loopback(&a))
            continue;
        cfg_yaml_quote(q, sizeof(q), running->listen[i],
                       strlen(running->listen[i]));
        if (next->auth_token == NULL)
            return dc_check_fail(err, "auth_token: cannot be removed while "
                                 "listening on '%s', which is not loopback; "
                                 "restart to apply", q);
        if (running->tls_cert_file == NULL && !next->plaintext_off_loopback)
            return dc_check_fail(err, "plaintext_off_loopback: must stay "
                                 "true while listening on '%s', which is "
                                 "not loopback, without TLS; turning TLS on "
                                 "needs a restart", q);
    }
    return 0;
}

bool cfg_daemon_same_listeners(const struct cfg_daemon *a,
                               const struct cfg_daemon *b)
{
    if (a->port != b->port || a->n_listen != b->n_listen)
        return false;
    for (size_t i = 0; i < a->n_listen; i++)
        if (strcmp(a->listen[i], b->listen[i]) != 0)
            return false;
    return true;
}
