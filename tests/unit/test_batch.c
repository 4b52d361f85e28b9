/* test_batch.c -- batch_run(): exit statuses, and that a failed run writes
 * nothing to the output stream.  The output formats themselves are
 * test_output's business, the full contract tests/integration's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "batch.h"

#define PATH_BYTES 64

static const char EVENT[] =
    "event:\n"
    "  name: \"Test, \\\"quoted\\\"\"\n"
    "  rounds: 3\n"
    "  table_size: 3\n"
    "  seed: 5\n"
    "attendees:\n"
    "  - {id: a, name: \"Anna\", interests: [Segeln], offers: [Webdesign]}\n"
    "  - {id: b, name: \"Ben\", interests: [Segeln], seeks: [Webdesign]}\n"
    "  - {id: c, interests: [Jazz]}\n"
    "  - {id: d, interests: [Jazz]}\n"
    "  - {id: e}\n"
    "  - {id: f}\n"
    "  - {id: g}\n"
    "met_before:\n"
    "  - [a, c]\n"
    "avoid:\n"
    "  - [b, d]\n";

struct run {
    char path[PATH_BYTES];
    char *out, *err;
    size_t out_len, err_len;
    int status;
};

/* Writes `text` to a temporary file in r->path. */
static void write_event(struct run *r, const char *text)
{
    strcpy(r->path, "/tmp/mingle-test-batch-XXXXXX");
    int fd = mkstemp(r->path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static void run_batch(struct run *r, struct batch_opts *o)
{
    FILE *out = open_memstream(&r->out, &r->out_len);
    FILE *err = open_memstream(&r->err, &r->err_len);
    assert_non_null(out);
    assert_non_null(err);
    o->path = r->path;
    r->status = batch_run(o, out, err);
    fclose(out);
    fclose(err);
}

static void run_done(struct run *r)
{
    unlink(r->path);
    free(r->out);
    free(r->err);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_ok_csv(void **state)
{
    (void)state;
    struct run r = {0};
    struct batch_opts o = {.format = OUT_CSV};
    write_event(&r, EVENT);
    run_batch(&r, &o);
    assert_int_equal(r.status, BATCH_EXIT_OK);
    assert_string_equal(r.err, "");
    assert_true(strncmp(r.out, "round,table,attendee_id,name\n", 29) == 0);
    assert_int_equal(count_lines(r.out), 1 + 7 * 3);
    /* A name falls back to the id. */
    assert_non_null(strstr(r.out, ",e,e\n"));
    run_done(&r);
}

static void test_seed_override(void **state)
{
    (void)state;
    struct run a = {0}, b = {0};
    struct batch_opts oa = {.format = OUT_JSON, .effort = 1, .threads = 2};
    struct batch_opts ob = {.format = OUT_JSON, .has_seed = true, .seed = 5,
                            .effort = 1, .threads = 2};
    write_event(&a, EVENT);
    write_event(&b, EVENT);
    run_batch(&a, &oa);
    run_batch(&b, &ob);
    assert_int_equal(a.status, BATCH_EXIT_OK);
    assert_int_equal(b.status, BATCH_EXIT_OK);
    /* The file's seed is 5: --seed 5 must change nothing. */
    assert_string_equal(a.out, b.out);
    assert_non_null(strstr(a.out, "\"event\": \"Test, \\\"quoted\\\"\""));
    run_done(&a);
    run_done(&b);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct run r = {0};
    struct batch_opts o = {.format = OUT_TEXT};
    char want[PATH_BYTES + 8];
    write_event(&r, "event:\n  rounds: 2\n  table_size: 2\n  colour: red\n"
                    "attendees:\n  - id: a\n");
    run_batch(&r, &o);
    assert_int_equal(r.status, BATCH_EXIT_BAD_INPUT);
    assert_int_equal(r.out_len, 0);
    snprintf(want, sizeof want, "%s:4:", r.path);
    assert_true(strncmp(r.err, want, strlen(want)) == 0);
    assert_int_equal(count_lines(r.err), 1);
    run_done(&r);
}

static void test_too_many(void **state)
{
    (void)state;
    struct run r = {0};
    struct batch_opts o = {.format = OUT_TEXT, .max_attendees = 3};
    write_event(&r, EVENT);
    run_batch(&r, &o);
    assert_int_equal(r.status, BATCH_EXIT_BAD_INPUT);
    assert_int_equal(r.out_len, 0);
    assert_true(strncmp(r.err, r.path, strlen(r.path)) == 0);
    run_done(&r);
}

static void test_avoid_infeasible(void **state)
{
    (void)state;
    struct run r = {0};
    struct batch_opts o = {.format = OUT_TEXT};
    char want[PATH_BYTES + 128];
    write_event(&r, "event:\n  rounds: 1\n  table_size: 2\nattendees:\n"
                    "  - id: a\n  - id: b\navoid:\n  - [a, b]\n");
    run_batch(&r, &o);
    assert_int_equal(r.status, BATCH_EXIT_BAD_INPUT);
    assert_int_equal(r.out_len, 0);
    /* The pair's own line and column, where the organizer can fix it. */
    snprintf(want, sizeof want, "%s:8:5: the avoid pairs cannot all be "
             "kept apart: 'a' and 'b' here would share a table in round 1",
             r.path);
    assert_non_null(strstr(r.err, want));
    run_done(&r);
}

static void test_unwritable_output(void **state)
{
    (void)state;
    struct run r = {0};
    struct batch_opts o = {.format = OUT_TEXT, .path = r.path};
    FILE *full = fopen("/dev/full", "w");
    if (!full)
        skip();
    write_event(&r, EVENT);
    FILE *err = open_memstream(&r.err, &r.err_len);
    assert_non_null(err);
    r.status = batch_run(&o, full, err);
    fclose(err);
    fclose(full);
    assert_int_equal(r.status, BATCH_EXIT_INTERNAL);
    assert_non_null(strstr(r.err, "writing the schedule"));
    run_done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_csv),
        cmocka_unit_test(test_seed_override),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_avoid_infeasible),
        cmocka_unit_test(test_unwritable_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
