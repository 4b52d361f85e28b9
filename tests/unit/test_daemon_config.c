/* test_daemon_config.c -- the daemon config: defaults, every key, errors
 * with line and column, token rules, check, print -> load round trip. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <dirent.h>

#include "daemon_config.h"

#define TOKEN "0123456789abcdef-secret"

static char tmpdir[64];

static int setup_dir(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/test_daemon_config_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    char path[512];
    struct dirent *e;
    DIR *d = opendir(tmpdir);

    (void)state;
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    closedir(d);
    return rmdir(tmpdir);
}

/* Writes `text` to tmpdir/name and returns the path (static buffer). */
static const char *write_file(const char *name, const char *text, size_t len)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void parse_ok(const char *yaml, struct cfg_daemon *c)
{
    struct cfg_error err;
    char msg[1024];
    int rc;

    memset(c, 0, sizeof(*c));
    rc = cfg_daemon_parse(yaml, strlen(yaml), "d.yaml", c, &err);
    if (rc != 0)
        print_message("unexpected: %s\n", cfg_error_format(&err, msg, 1024));
    assert_int_equal(rc, 0);
}

static void expect_error(const char *yaml, unsigned line, unsigned column,
                         const char *substr)
{
    struct cfg_daemon c;
    struct cfg_error err;
    char msg[1024];
    int rc;

    memset(&c, 0, sizeof(c));
    rc = cfg_daemon_parse(yaml, strlen(yaml), "d.yaml", &c, &err);
    cfg_error_format(&err, msg, sizeof(msg));
    if (rc != -EINVAL || err.line != line || err.column != column ||
        strstr(err.msg, substr) == NULL)
        print_message("got %d: %s\nwant %u:%u: ...%s...\n", rc, msg, line,
                      column, substr);
    assert_int_equal(rc, -EINVAL);
    assert_string_equal(err.file, "d.yaml");
    assert_int_equal(err.line, line);
    assert_int_equal(err.column, column);
    assert_non_null(strstr(err.msg, substr));
    assert_null(c.listen);
    assert_null(c.data_dir);
}

static void assert_defaults(const struct cfg_daemon *c)
{
    assert_int_equal(c->n_listen, 1);
    assert_string_equal(c->listen[0], "127.0.0.1");
    assert_int_equal(c->port, 7411);
    assert_string_equal(c->data_dir, "./mingle-data");
    assert_int_equal(c->max_frame_bytes, 1024 * 1024);
    assert_int_equal(c->max_connections, 1024);
    assert_int_equal(c->idle_timeout_ms, 300000);
    assert_int_equal(c->frame_timeout_ms, 10000);
    assert_int_equal(c->output_cap_bytes, 8 * 1024 * 1024);
    assert_int_equal(c->plan_max_seconds, 60);
    assert_int_equal(c->hello_timeout_ms, 5000);
    assert_int_equal(c->max_connections_per_address, 64);
    assert_int_equal(c->reserved_connections, 8);
    assert_null(c->auth_token);
    assert_null(c->auth_token_file);
    assert_int_equal(c->log_level, CFG_LOG_INFO);
    assert_null(c->tls_cert_file);
    assert_null(c->tls_key_file);
    assert_false(c->plaintext_off_loopback);
}

static void test_defaults(void **state)
{
    struct cfg_daemon c;
    struct cfg_error err;

    (void)state;
    assert_int_equal(cfg_daemon_defaults(&c), 0);
    assert_defaults(&c);
    assert_null(c.source);
    assert_int_equal(cfg_daemon_check(&c, &err), 0);
    cfg_daemon_free(&c);
    assert_null(c.listen);
    cfg_daemon_free(NULL);

    /* Empty files, null documents and null values keep the defaults. */
    parse_ok("", &c);
    assert_defaults(&c);
    assert_string_equal(c.source, "d.yaml");
    cfg_daemon_free(&c);
    parse_ok("# nothing yet\n", &c);
    assert_defaults(&c);
    cfg_daemon_free(&c);
    parse_ok("---\n", &c);
    assert_defaults(&c);
    cfg_daemon_free(&c);
    parse_ok("port:\nlisten: ~\nauth_token:\n", &c);
    assert_defaults(&c);
    cfg_daemon_free(&c);
}

static void test_every_key(void **state)
{
    struct cfg_daemon c;
    const char *tok;
    char yaml[1024];

    (void)state;
    tok = write_file("token", TOKEN "\n", strlen(TOKEN) + 1);
    snprintf(yaml, sizeof(yaml),
             "listen: [\"0.0.0.0\", \"::1\", 10.1.2.3, \"fe80::1\"]\n"
             "port: 0\n"
             "data_dir: /var/lib/mingle\n"
             "max_frame_bytes: 1024\n"
             "max_connections: 1\n"
             "idle_timeout_ms: 60000\n"
             "frame_timeout_ms: 2500\n"
             "output_cap_bytes: 65536\n"
             "auth_token_file: \"%s\"\n"
             "log_level: debug\n"
             "plan_max_seconds: 0\n"
             "hello_timeout_ms: 100\n"
             "max_connections_per_address: 3\n"
             "reserved_connections: 0\n"
             "tls_cert_file: /etc/mingle/cert.pem\n"
             "tls_key_file: \"key file.pem\"\n"
             "plaintext_off_loopback: true\n",
             tok);
    parse_ok(yaml, &c);
    assert_int_equal(c.n_listen, 4);
    assert_string_equal(c.listen[0], "0.0.0.0");
    assert_string_equal(c.listen[1], "::1");
    assert_string_equal(c.listen[2], "10.1.2.3");
    assert_string_equal(c.listen[3], "fe80::1");
    assert_int_equal(c.port, 0);
    assert_string_equal(c.data_dir, "/var/lib/mingle");
    assert_int_equal(c.max_frame_bytes, 1024);
    assert_int_equal(c.max_connections, 1);
    assert_int_equal(c.idle_timeout_ms, 60000);
    assert_int_equal(c.frame_timeout_ms, 2500);
    assert_int_equal(c.output_cap_bytes, 65536);
    assert_string_equal(c.auth_token, TOKEN);
    assert_string_equal(c.auth_token_file, tok);
    assert_int_equal(c.log_level, CFG_LOG_DEBUG);
    assert_int_equal(c.plan_max_seconds, 0);
    assert_int_equal(c.hello_timeout_ms, 100);
    assert_int_equal(c.max_connections_per_address, 3);
    assert_int_equal(c.reserved_connections, 0);
    assert_string_equal(c.tls_cert_file, "/etc/mingle/cert.pem");
    assert_string_equal(c.tls_key_file, "key file.pem");
    assert_true(c.plaintext_off_loopback);
    cfg_daemon_free(&c);

    parse_ok("plaintext_off_loopback: false\n", &c);
    assert_false(c.plaintext_off_loopback);
    cfg_daemon_free(&c);

    parse_ok("auth_token: \"" TOKEN "\"\nlog_level: error\nport: 65535\n"
             "max_frame_bytes: 67108864\n",
             &c);
    assert_string_equal(c.auth_token, TOKEN);
    assert_null(c.auth_token_file);
    assert_int_equal(c.log_level, CFG_LOG_ERROR);
    assert_int_equal(c.port, 65535);
    assert_int_equal(c.max_frame_bytes, 64 * 1024 * 1024);
    cfg_daemon_free(&c);

    parse_ok("log_level: warn\n", &c);
    assert_int_equal(c.log_level, CFG_LOG_WARN);
    assert_string_equal(cfg_log_level_name(c.log_level), "warn");
    cfg_daemon_free(&c);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("prot: 80\n", 1, 1,
                 "unknown key 'prot' (did you mean 'port'?)");
    expect_error("port: 80\nlisten_on: [\"::1\"]\n", 2, 1,
                 "unknown key 'listen_on'");
    expect_error("port: 65536\n", 1, 7, "port: 65536 is too large (max 65535)");
    expect_error("port: http\n", 1, 7,
                 "port: expected an integer >= 0, got 'http'");
    expect_error("max_frame_bytes: 1023\n", 1, 18,
                 "max_frame_bytes: expected an integer >= 1024, got '1023'");
    expect_error("max_frame_bytes: 67108865\n", 1, 18, "is too large");
    expect_error("max_connections: 0\n", 1, 18, "expected an integer >= 1");
    expect_error("idle_timeout_ms: 1.5\n", 1, 18, "got '1.5'");
    expect_error("frame_timeout_ms: 99\n", 1, 19, ">= 100");
    expect_error("output_cap_bytes: [1]\n", 1, 19, "got a sequence");
    expect_error("plan_max_seconds: 86401\n", 1, 19, "is too large");
    expect_error("plan_max_seconds: -1\n", 1, 19, "expected an integer >= 0");
    expect_error("log_level: verbose\n", 1, 12,
                 "log_level: expected one of error, warn, info, debug, got "
                 "'verbose'");
    expect_error("listen: 127.0.0.1\n", 1, 9,
                 "listen: expected a sequence of addresses, got a string");
    expect_error("listen: []\n", 1, 9, "listen: expected at least one");
    expect_error("listen:\n  - 127.0.0.1\n  - localhost\n", 3, 5,
                 "listen: 'localhost' is not a numeric IPv4 or IPv6 address");
    expect_error("listen: [\"::1\", \"0:0::1\"]\n", 1, 17,
                 "listen: '0:0::1' is listed twice");
    expect_error("listen: [\"[::1]\"]\n", 1, 10, "is not a numeric");
    expect_error("data_dir: \"a\\nb\"\n", 1, 11,
                 "data_dir: control characters are not allowed");
    expect_error("data_dir: \"\"\n", 1, 11, "data_dir: empty path");
    expect_error("data_dir: {a: 1}\n", 1, 11,
                 "data_dir: expected a path, got a mapping");
    expect_error("port: 1\nport: 2\n", 2, 1,
                 "duplicate key 'port' (first at line 1)");
    expect_error("port: &p 1\n", 1, 7, "anchors are not allowed");
    expect_error("port: *p\n", 1, 7, "aliases are not allowed");
    expect_error("just text\n", 1, 1,
                 "expected a mapping of settings, got a string");
    expect_error("port: 1\n---\nport: 2\n", 2, 1,
                 "only one YAML document is allowed");
    expect_error("port: 1\n- x\n", 2, 1, "did not find expected key");
}

static void test_listen_limit(void **state)
{
    char yaml[1024];
    size_t n, i;
    struct cfg_daemon c;

    (void)state;
    n = (size_t)snprintf(yaml, sizeof(yaml), "listen: [");
    for (i = 0; i < CFG_DAEMON_MAX_LISTEN; i++)
        n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "127.0.0.%zu, ",
                              i + 1);
    strcpy(yaml + n - 2, "]\n");
    parse_ok(yaml, &c);
    assert_int_equal(c.n_listen, CFG_DAEMON_MAX_LISTEN);
    cfg_daemon_free(&c);
    strcpy(yaml + n, "127.0.0.99]\n");
    yaml[n - 2] = ',';
    yaml[n - 1] = ' ';
    expect_error(yaml, 1, (unsigned)n + 1, "listen: more than 16 addresses");
}

static void test_tokens(void **state)
{
    struct cfg_daemon c;
    char yaml[512], big[CFG_DAEMON_TOKEN_FILE_MAX_BYTES + 2];
    const char *path;

    (void)state;
    expect_error("auth_token: short\n", 1, 13,
                 "auth_token: the token must be 16 to 256 bytes long");
    expect_error("auth_token: \"0123456789 abcdef\"\n", 1, 13,
                 "must be printable ASCII without spaces");
    expect_error("auth_token: \"0123456789abcdé\"\n", 1, 13,
                 "must be printable ASCII");
    expect_error("auth_token: [" TOKEN "]\n", 1, 13,
                 "auth_token: expected a string, got a sequence");

    path = write_file("crlf", TOKEN "\r\n", strlen(TOKEN) + 2);
    snprintf(yaml, sizeof(yaml), "port: 1\nauth_token_file: %s\n", path);
    parse_ok(yaml, &c);
    assert_string_equal(c.auth_token, TOKEN);
    cfg_daemon_free(&c);

    snprintf(yaml, sizeof(yaml), "auth_token_file: %s\nauth_token: " TOKEN
             "\n", path);
    expect_error(yaml, 2, 1,
                 "auth_token: cannot be combined with auth_token_file "
                 "(line 1)");
    snprintf(yaml, sizeof(yaml), "auth_token: " TOKEN "\nauth_token_file: %s"
             "\n", path);
    expect_error(yaml, 2, 1,
                 "auth_token_file: cannot be combined with auth_token "
                 "(line 1)");

    path = write_file("short", "abc\n", 4);
    snprintf(yaml, sizeof(yaml), "port: 1\nauth_token_file: %s\n", path);
    expect_error(yaml, 2, 18, "must be 16 to 256 bytes long");

    /* Only one newline is stripped. */
    path = write_file("two", TOKEN "\n\n", strlen(TOKEN) + 2);
    snprintf(yaml, sizeof(yaml), "auth_token_file: %s\n", path);
    expect_error(yaml, 1, 18, "must be printable ASCII");

    memset(big, 'x', sizeof(big));
    path = write_file("big", big, sizeof(big));
    snprintf(yaml, sizeof(yaml), "auth_token_file: %s\n", path);
    expect_error(yaml, 1, 18, "file is larger than 4096 bytes");

    snprintf(yaml, sizeof(yaml), "auth_token_file: %s/missing\n", tmpdir);
    expect_error(yaml, 1, 18, "No such file or directory");

    /* A FIFO with no writer would block the event loop on SIGHUP. */
    char fifo[128];
    snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    snprintf(yaml, sizeof(yaml), "auth_token_file: %s\n", fifo);
    expect_error(yaml, 1, 18, "not a regular file");
}

static void test_all_or_nothing(void **state)
{
    struct cfg_daemon c;
    struct cfg_error err;
    const char *path;

    (void)state;
    parse_ok("port: 1234\ndata_dir: /srv/a\n", &c);
    path = write_file("bad.yaml", "port: 99\ndata_dir: /srv/b\nlog: x\n", 33);
    assert_int_equal(cfg_daemon_load(path, &c, &err), -EINVAL);
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 1);
    assert_int_equal(c.port, 1234);
    assert_string_equal(c.data_dir, "/srv/a");
    assert_string_equal(c.source, "d.yaml");

    /* Success replaces (and frees) the old config. */
    path = write_file("good.yaml", "port: 99\n", 9);
    assert_int_equal(cfg_daemon_load(path, &c, &err), 0);
    assert_int_equal(c.port, 99);
    assert_string_equal(c.data_dir, "./mingle-data");
    assert_string_equal(c.source, path);
    cfg_daemon_free(&c);

    memset(&c, 0, sizeof(c));
    assert_int_equal(cfg_daemon_load("/nonexistent/mingled.yaml", &c, &err),
                     -ENOENT);
    assert_null(c.listen);
    assert_string_equal(err.file, "/nonexistent/mingled.yaml");
    assert_int_equal(err.line, 0);
}

static void test_file_size(void **state)
{
    size_t len = CFG_DAEMON_MAX_FILE_BYTES + 1;
    char *text = malloc(len);
    struct cfg_daemon c;
    struct cfg_error err;
    const char *path;

    (void)state;
    assert_non_null(text);
    memset(text, '#', len);
    path = write_file("huge.yaml", text, len);
    memset(&c, 0, sizeof(c));
    assert_int_equal(cfg_daemon_load(path, &c, &err), -EFBIG);
    assert_non_null(strstr(err.msg, "larger than"));
    assert_int_equal(cfg_daemon_parse(text, len, "x", &c, &err), -EFBIG);
    assert_null(c.listen);
    free(text);
}

static void test_check(void **state)
{
    struct cfg_daemon c;
    struct cfg_error err;
    char msg[1024];

    (void)state;
    parse_ok("listen: [\"0.0.0.0\"]\n", &c);
    assert_int_equal(cfg_daemon_check(&c, &err), -EINVAL);
    assert_string_equal(cfg_error_format(&err, msg, sizeof(msg)),
                        "d.yaml: listen: '0.0.0.0' is not a loopback address, "
                        "so an auth_token or auth_token_file is required");
    cfg_daemon_free(&c);

    parse_ok("listen: [\"::\"]\n", &c);
    assert_int_equal(cfg_daemon_check(&c, &err), -EINVAL);
    cfg_daemon_free(&c);

    parse_ok("listen: [\"::1\", 127.8.9.10, \"::ffff:127.0.0.1\"]\n", &c);
    assert_int_equal(cfg_daemon_check(&c, &err), 0);
    cfg_daemon_free(&c);

    parse_ok("listen: [\"0.0.0.0\", \"::\"]\nauth_token: " TOKEN "\n"
             "plaintext_off_loopback: true\n", &c);
    assert_int_equal(cfg_daemon_check(&c, &err), 0);

    /* Values set by hand, e.g. from the command line, are checked too. */
    c.max_frame_bytes = 10;
    assert_int_equal(cfg_daemon_check(&c, &err), -EINVAL);
    assert_string_equal(err.msg,
                        "max_frame_bytes: 10 is out of range (1024 to "
                        "67108864)");
    c.max_frame_bytes = 4096;
    free(c.auth_token);
    c.auth_token = strdup("tiny");
    assert_int_equal(cfg_daemon_check(&c, &err), -EINVAL);
    assert_null(strstr(err.msg, "tiny"));
    cfg_daemon_free(&c);

    assert_int_equal(cfg_daemon_defaults(&c), 0);
    free(c.listen[0]);
    c.listen[0] = strdup("example.org");
    assert_int_equal(cfg_daemon_check(&c, &err), -EINVAL);
    assert_string_equal(err.file, "");
    assert_string_equal(cfg_error_format(&err, msg, sizeof(msg)),
                        "listen: 'example.org' is not a numeric IPv4 or IPv6 "
                        "address");
    cfg_daemon_free(&c);
}

/* Off loopback: TLS, or plaintext_off_loopback in so many words; the two
 * TLS files go together. */
static void test_check_tls(void **state)
{
    struct cfg_daemon c;
    struct cfg_error err;
    char msg[1024];

    (void)state;
    parse_ok("listen: [\"127.0.0.1\", \"10.1.2.3\"]\nauth_token: " TOKEN
             "\n", &c);
    assert_int_equal(cfg_daemon_check(&c, &err), -EINVAL);
    assert_string_equal(cfg_error_format(&err, msg, sizeof(msg)),
                        "d.yaml: listen: '10.1.2.3' is not a loopback "
                        "address, so tls_cert_file and tls_key_file are "
                        "required (or plaintext_off_loopback: true to serve "
                        "it without TLS)");
    c.plaintext_off_loopback = true;
    assert_int_equal(cfg_daemon_check(&c, &err), 0);
    cfg_daemon_free(&c);

    parse_ok("listen: [\"::\"]\nauth_token: " TOKEN "\n"
             "tls_cert_file: c.pem\ntls_key_file: k.pem\n", &c);
    assert_int_equal(cfg_daemon_check(&c, &err), 0);
    /* The token is still required: TLS hides it, it does not replace it. */
    free(c.auth_token);
    c.auth_token = NULL;
    assert_int_equal(cfg_daemon_check(&c, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "auth_token"));
    cfg_daemon_free(&c);

    /* Loopback only: TLS is optional, and on every listener when set. */
    parse_ok("tls_cert_file: c.pem\ntls_key_file: k.pem\n", &c);
    assert_int_equal(cfg_daemon_check(&c, &err), 0);
    free(c.tls_key_file);
    c.tls_key_file = NULL;
    assert_int_equal(cfg_daemon_check(&c, &err), -EINVAL);
    assert_string_equal(err.msg, "tls_key_file: required with tls_cert_file");
    cfg_daemon_free(&c);

    parse_ok("tls_key_file: k.pem\n", &c);
    assert_int_equal(cfg_daemon_check(&c, &err), -EINVAL);
    assert_string_equal(err.msg, "tls_cert_file: required with tls_key_file");
    cfg_daemon_free(&c);

    expect_error("plaintext_off_loopback: yes\n", 1, 25,
                 "plaintext_off_loopback: expected true or false, got 'yes'");
    expect_error("plaintext_off_loopback: 1\n", 1, 25, "got '1'");
    expect_error("plaintext_off_loopback: True\n", 1, 25, "got 'True'");
    expect_error("plaintext_off_loopback: [true]\n", 1, 25,
                 "expected true or false, got a sequence");
    expect_error("tls_cert_file: \"\"\n", 1, 16, "tls_cert_file: empty path");
    expect_error("tls_key_file: [a]\n", 1, 15,
                 "tls_key_file: expected a path");
}

/* The listeners stay those of the start, so a reload is judged by them. */
static void test_check_reload(void **state)
{
    struct cfg_daemon running, next;
    struct cfg_error err;

    (void)state;
    parse_ok("listen: [\"127.0.0.1\", \"0.0.0.0\"]\nauth_token: " TOKEN "\n",
             &running);
    /* Loopback only and no token: fine on its own, not with 0.0.0.0
     * still open. */
    parse_ok("listen: [\"127.0.0.1\"]\n", &next);
    assert_int_equal(cfg_daemon_check(&next, &err), 0);
    assert_int_equal(cfg_daemon_check_reload(&running, &next, &err), -EINVAL);
    assert_string_equal(err.file, "d.yaml");
    assert_non_null(strstr(err.msg, "'0.0.0.0'"));
    assert_non_null(strstr(err.msg, "auth_token: cannot be removed"));
    cfg_daemon_free(&next);

    /* A rotated token is not a removed one. */
    parse_ok("listen: [\"127.0.0.1\"]\nauth_token: rotated-" TOKEN "\n"
             "plaintext_off_loopback: true\n", &next);
    assert_int_equal(cfg_daemon_check_reload(&running, &next, &err), 0);
    cfg_daemon_free(&next);

    /* 0.0.0.0 is open without TLS: the switch that allows it must stay
     * on, and TLS files in the new file do not change the listener. */
    parse_ok("listen: [\"127.0.0.1\"]\nauth_token: " TOKEN "\n"
             "tls_cert_file: c.pem\ntls_key_file: k.pem\n", &next);
    assert_int_equal(cfg_daemon_check(&next, &err), 0);
    assert_int_equal(cfg_daemon_check_reload(&running, &next, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "plaintext_off_loopback: must stay true "
                                    "while listening on '0.0.0.0'"));
    assert_non_null(strstr(err.msg, "restart"));
    cfg_daemon_free(&next);
    cfg_daemon_free(&running);

    /* Started with TLS: the new file need not allow plaintext, and a file
     * without TLS leaves the listeners on TLS until a restart. */
    parse_ok("listen: [\"0.0.0.0\"]\nauth_token: " TOKEN "\n"
             "tls_cert_file: c.pem\ntls_key_file: k.pem\n", &running);
    parse_ok("auth_token: " TOKEN "\n", &next);
    assert_int_equal(cfg_daemon_check_reload(&running, &next, &err), 0);
    cfg_daemon_free(&next);
    cfg_daemon_free(&running);

    /* Loopback listeners only: the token may go. */
    parse_ok("listen: [\"127.0.0.1\", \"::1\"]\nauth_token: " TOKEN "\n",
             &running);
    parse_ok("", &next);
    assert_int_equal(cfg_daemon_check_reload(&running, &next, &err), 0);
    assert_true(cfg_daemon_same_listeners(&running, &running));
    assert_false(cfg_daemon_same_listeners(&running, &next));
    cfg_daemon_free(&next);
    cfg_daemon_free(&running);
}

/* Prints `c` to a file, loads it back and compares. */
static void round_trip(const struct cfg_daemon *c)
{
    struct cfg_daemon back;
    struct cfg_error err;
    char msg[1024];
    const char *path;
    size_t i;
    FILE *f;

    path = write_file("printed.yaml", "", 0);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(cfg_daemon_print(f, c), 0);
    assert_int_equal(fclose(f), 0);
    memset(&back, 0, sizeof(back));
    if (cfg_daemon_load(path, &back, &err) != 0)
        print_message("%s\n", cfg_error_format(&err, msg, sizeof(msg)));
    assert_int_equal(cfg_daemon_load(path, &back, &err), 0);
    assert_int_equal(back.n_listen, c->n_listen);
    for (i = 0; i < c->n_listen; i++)
        assert_string_equal(back.listen[i], c->listen[i]);
    assert_int_equal(back.port, c->port);
    assert_string_equal(back.data_dir, c->data_dir);
    assert_int_equal(back.max_frame_bytes, c->max_frame_bytes);
    assert_int_equal(back.max_connections, c->max_connections);
    assert_int_equal(back.idle_timeout_ms, c->idle_timeout_ms);
    assert_int_equal(back.frame_timeout_ms, c->frame_timeout_ms);
    assert_int_equal(back.output_cap_bytes, c->output_cap_bytes);
    assert_int_equal(back.log_level, c->log_level);
    assert_int_equal(back.plan_max_seconds, c->plan_max_seconds);
    assert_int_equal(back.hello_timeout_ms, c->hello_timeout_ms);
    assert_int_equal(back.max_connections_per_address,
                     c->max_connections_per_address);
    assert_int_equal(back.reserved_connections, c->reserved_connections);
    assert_int_equal(back.plaintext_off_loopback, c->plaintext_off_loopback);
    if (c->tls_cert_file) {
        assert_string_equal(back.tls_cert_file, c->tls_cert_file);
        assert_string_equal(back.tls_key_file, c->tls_key_file);
    } else {
        assert_null(back.tls_cert_file);
        assert_null(back.tls_key_file);
    }
    if (c->auth_token) {
        assert_string_equal(back.auth_token, c->auth_token);
        assert_string_equal(back.auth_token_file, c->auth_token_file);
    } else {
        assert_null(back.auth_token);
    }
    cfg_daemon_free(&back);
}

static void test_print_round_trip(void **state)
{
    struct cfg_daemon c;
    struct cfg_error err;
    char yaml[1024], *out = NULL;
    size_t out_len = 0;
    const char *tok;
    FILE *f;

    (void)state;
    assert_int_equal(cfg_daemon_defaults(&c), 0);
    round_trip(&c);
    cfg_daemon_free(&c);

    tok = write_file("tok \"q\"", TOKEN, strlen(TOKEN));
    snprintf(yaml, sizeof(yaml),
             "listen: [\"::\", 192.168.1.5]\nport: 0\n"
             "data_dir: \"/srv/Müller \\\"data\\\" \\\\ dir\"\n"
             "max_frame_bytes: 2048\nmax_connections: 7\n"
             "idle_timeout_ms: 1000\nframe_timeout_ms: 100\n"
             "output_cap_bytes: 70000\nlog_level: error\n"
             "plan_max_seconds: 7\nhello_timeout_ms: 250\n"
             "max_connections_per_address: 2\nreserved_connections: 3\n"
             "auth_token_file: '%s'\ntls_cert_file: \"c \\\"1\\\".pem\"\n"
             "tls_key_file: k.pem\nplaintext_off_loopback: true\n",
             tok);
    parse_ok(yaml, &c);
    assert_string_equal(c.data_dir, "/srv/Müller \"data\" \\ dir");
    round_trip(&c);
    cfg_daemon_free(&c);

    /* An inline token is never printed, and the placeholder never loads. */
    parse_ok("auth_token: " TOKEN "\n", &c);
    f = open_memstream(&out, &out_len);
    assert_non_null(f);
    assert_int_equal(cfg_daemon_print(f, &c), 0);
    fclose(f);
    assert_null(strstr(out, TOKEN));
    assert_non_null(strstr(out, "\nauth_token: \"<redacted>\"\n"));
    assert_int_equal(cfg_daemon_parse(out, out_len, "p.yaml", &c, &err),
                     -EINVAL);
    assert_int_equal(err.line, 13);
    assert_non_null(strstr(err.msg, "auth_token: the token must be 16"));
    free(out);
    cfg_daemon_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_listen_limit),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_file_size),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_check_tls),
        cmocka_unit_test(test_check_reload),
        cmocka_unit_test(test_print_round_trip),
    };

    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
