/* fuzz_daemon_config.c -- libFuzzer harness for cfg_daemon_parse().
 *
 * Built with -Dfuzz=true; tests/fuzz/README.md says how to run it.
 *
 * Besides crashes and sanitizer reports it checks the loader's contract:
 * a failure leaves the output untouched and explains itself with a 1-based
 * position (or none); a success holds a complete config, which
 * cfg_daemon_check() either accepts or rejects with a message, and which
 * cfg_daemon_print() writes as YAML that parses back to the same config
 * (unless an inline token was redacted, which must then fail to load).
 *
 * An input naming auth_token_file makes the loader read that path; run
 * the fuzzer with stdin from /dev/null so /dev/stdin cannot block it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* Every field but `source`, which names the input each came from. */
static int fuzz_same_config(const struct cfg_daemon *a,
                            const struct cfg_daemon *b)
{
    size_t i;

    if (a->n_listen != b->n_listen || a->port != b->port ||
        a->max_frame_bytes != b->max_frame_bytes ||
        a->max_connections != b->max_connections ||
        a->idle_timeout_ms != b->idle_timeout_ms ||
        a->frame_timeout_ms != b->frame_timeout_ms ||
        a->output_cap_bytes != b->output_cap_bytes ||
        a->log_level != b->log_level || !fuzz_str_eq(a->data_dir, b->data_dir) ||
        !fuzz_str_eq(a->auth_token, b->auth_token) ||
        !fuzz_str_eq(a->auth_token_file, b->auth_token_file) ||
        !fuzz_str_eq(a->tls_cert_file, b->tls_cert_file) ||
        !fuzz_str_eq(a->tls_key_file, b->tls_key_file) ||
        a->plaintext_off_loopback != b->plaintext_off_loopback)
        return 0;
    for (i = 0; i < a->n_listen; i++)
        if (!fuzz_str_eq(a->listen[i], b->listen[i]))
            return 0;
    return 1;
}

static void fuzz_check_error(const struct cfg_error *err)
{
    if (err->msg[0] == '\0' || (err->line != 0 && err->column == 0))
        abort();
}

static void fuzz_check_loaded(const struct cfg_daemon *c)
{
    size_t i;

    if (c->n_listen < 1 || c->n_listen > CFG_DAEMON_MAX_LISTEN ||
        c->listen == NULL || c->data_dir == NULL ||
        !fuzz_str_eq(c->source, "fuzz.yaml") ||
        (c->auth_token_file != NULL && c->auth_token == NULL) ||
        (unsigned)c->log_level > CFG_LOG_DEBUG)
        abort();
    for (i = 0; i < c->n_listen; i++)
        if (c->listen[i] == NULL)
            abort();
}

/* print -> parse gives the same config back. */
static void fuzz_check_print(const struct cfg_daemon *c)
{
    struct cfg_daemon again = {0};
    struct cfg_error err;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    int rc;

    if (f == NULL)
        abort();
    if (cfg_daemon_print(f, c) != 0)
        abort();
    if (fclose(f) != 0)
        abort();
    rc = cfg_daemon_parse(text, len, "printed.yaml", &again, &err);
    if (c->auth_token != NULL && c->auth_token_file == NULL) {
        if (rc == 0)
            abort();
    } else if (rc != 0 || !fuzz_same_config(c, &again)) {
        abort();
    }
    cfg_daemon_free(&again);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct cfg_daemon zero;
    struct cfg_daemon c;
    struct cfg_error err;
    int rc;

    /* memset, not = {0}: the memcmp below compares padding too. */
    memset(&c, 0, sizeof(c));
    rc = cfg_daemon_parse((const char *)data, size, "fuzz.yaml", &c, &err);
    if (rc != 0) {
        if (rc > 0 || memcmp(&c, &zero, sizeof(c)) != 0)
            abort();
        fuzz_check_error(&err);
        return 0;
    }
    fuzz_check_loaded(&c);
    rc = cfg_daemon_check(&c, &err);
    if (rc != 0)
        fuzz_check_error(&err);
    fuzz_check_print(&c);
    cfg_daemon_free(&c);
    if (memcmp(&c, &zero, sizeof(c)) != 0)
        abort();
    return 0;
}
