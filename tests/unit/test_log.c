/* test_log.c -- log line format, level filter, escaping of peer bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Runs log_msg with stderr redirected to a temporary file; returns what
 * was written (static buffer). */
static const char *captured(enum log_level level, uint64_t conn,
                            const char *text)
{
    static char out[2048];
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fileno(tmp), STDERR_FILENO), STDERR_FILENO);
    log_msg(level, conn, "%s", text);
    fflush(stderr);
    assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, sizeof(out) - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return out;
}

static void test_line_format(void **state)
{
    (void)state;
    log_set_level(LOG_LEVEL_INFO);
    const char *line = captured(LOG_LEVEL_INFO, 7, "hello");
    /* 2026-03-14T18:02:11.042Z INFO  conn=7 hello */
    assert_int_equal(strlen(line), 24 + 1 + 5 + 1 + 6 + 1 + 5 + 1);
    assert_int_equal(line[4], '-');
    assert_int_equal(line[10], 'T');
    assert_int_equal(line[19], '.');
    assert_int_equal(line[23], 'Z');
    assert_string_equal(line + 24, " INFO  conn=7 hello\n");

    line = captured(LOG_LEVEL_WARN, 0, "no connection");
    assert_string_equal(line + 24, " WARN  no connection\n");
}

static void test_level_filter(void **state)
{
    (void)state;
    log_set_level(LOG_LEVEL_WARN);
    assert_string_equal(captured(LOG_LEVEL_INFO, 1, "dropped"), "");
    assert_string_equal(captured(LOG_LEVEL_ERROR, 1, "kept") + 24,
                        " ERROR conn=1 kept\n");
    log_set_level(LOG_LEVEL_INFO);
    assert_int_equal(log_get_level(), LOG_LEVEL_INFO);
}

static void test_long_line_is_cut_with_newline(void **state)
{
    (void)state;
    log_set_level(LOG_LEVEL_INFO);
    char text[3000];
    memset(text, 'a', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    const char *line = captured(LOG_LEVEL_INFO, 0, text);
    size_t n = strlen(line);
    assert_true(n < 1100);
    assert_int_equal(line[n - 1], '\n');
}

static void test_escape(void **state)
{
    (void)state;
    char buf[LOG_ESCAPE_BUF_BYTES];
    const uint8_t mixed[] = {'o', 'k', ' ', '\n', 0x00, '\\', 0xc3, 0xa4, 0x7f};
    assert_string_equal(log_escape(buf, sizeof(buf), mixed, sizeof(mixed)),
                        "ok \\x0a\\x00\\x5c\\xc3\\xa4\\x7f");
    assert_string_equal(log_escape(buf, sizeof(buf), mixed, 0), "");
}

static void test_escape_truncates(void **state)
{
    (void)state;
    char buf[LOG_ESCAPE_BUF_BYTES];
    uint8_t lots[LOG_ESCAPE_MAX_BYTES * 2];
    memset(lots, 0x01, sizeof(lots));
    /* The worst case fits the documented buffer, and the cut is marked. */
    const char *s = log_escape(buf, sizeof(buf), lots, sizeof(lots));
    assert_int_equal(strlen(s), LOG_ESCAPE_MAX_BYTES * 4 + 3);
    assert_string_equal(s + LOG_ESCAPE_MAX_BYTES * 4, "...");

    /* A small buffer cuts on an escape boundary. */
    char small[10];
    s = log_escape(small, sizeof(small), lots, 3);
    assert_string_equal(s, "\\x01...");
    char tiny[1];
    assert_string_equal(log_escape(tiny, sizeof(tiny), lots, 3), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_format),
        cmocka_unit_test(test_level_filter),
        cmocka_unit_test(test_long_line_is_cut_with_newline),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_escape_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
