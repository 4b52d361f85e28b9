/* test_event_file.c -- the event file loader: the valid format, every
 * error class with its exact line and column, and the limits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg_yaml.h"
#include "event_file.h"

#define HEAD "event: {rounds: 2, table_size: 3}\n"

static struct cfg_event *parse_ok(const char *yaml)
{
    struct cfg_event *ev = NULL;
    struct cfg_error err;
    char msg[1024];
    int rc;

    rc = cfg_event_parse(yaml, strlen(yaml), "t.yaml", NULL, &ev, &err);
    if (rc != 0)
        print_message("unexpected: %s\n", cfg_error_format(&err, msg, 1024));
    assert_int_equal(rc, 0);
    assert_non_null(ev);
    return ev;
}

static void expect_error_lim(const char *yaml, const struct cfg_limits *lim,
                             int want_rc, unsigned line, unsigned column,
                             const char *substr)
{
    struct cfg_event *ev = (struct cfg_event *)1;
    struct cfg_error err;
    char msg[1024];
    int rc;

    rc = cfg_event_parse(yaml, strlen(yaml), "t.yaml", lim, &ev, &err);
    cfg_error_format(&err, msg, sizeof(msg));
    if (rc != want_rc || err.line != line || err.column != column ||
        strstr(err.msg, substr) == NULL)
        print_message("got %d: %s\nwant %u:%u: ...%s...\n", rc, msg, line,
                      column, substr);
    assert_int_equal(rc, want_rc);
    assert_null(ev);
    assert_string_equal(err.file, "t.yaml");
    assert_int_equal(err.line, line);
    assert_int_equal(err.column, column);
    assert_non_null(strstr(err.msg, substr));
}

static void expect_error(const char *yaml, unsigned line, unsigned column,
                         const char *substr)
{
    expect_error_lim(yaml, NULL, -EINVAL, line, column, substr);
}

static void test_full_example(void **state)
{
    static const char yaml[] =
        "event:\n"
        "  name: \"Connexxtion Hamburg, March\"\n"
        "  rounds: 4            # required, >= 1\n"
        "  table_size: 6\n"
        "  seed: 18446744073709551615\n"
        "  weights:\n"
        "    interests: 1.5\n"
        "    business: 2e0\n"
        "    same_company: -5.25\n"
        "attendees:\n"
        "  - id: anna\n"
        "    name: \"Anna Becker\"\n"
        "    company: \"B2BSoMe\"\n"
        "    industry: \"Marketing\"\n"
        "    interests: [Fussball, Jazz, Segeln]\n"
        "    offers: [Social-Media-Konzeption]\n"
        "    seeks: [Webdesign, Steuerberatung]\n"
        "  - id: ben\n"
        "  - id: carl\n"
        "  - {id: dora, interests: []}\n"
        "met_before:\n"
        "  - [anna, ben]\n"
        "avoid:\n"
        "  - [carl, dora]\n"
        "  - [dora, anna]\n";
    struct cfg_event *ev = parse_ok(yaml);
    const struct att_profile *a = &ev->attendees[0];

    (void)state;
    assert_string_equal(ev->name, "Connexxtion Hamburg, March");
    assert_int_equal(ev->rounds, 4);
    assert_int_equal(ev->table_size, 6);
    assert_true(ev->has_seed);
    assert_true(ev->seed == UINT64_MAX);
    assert_true(ev->weights.interests == 1.5);
    assert_true(ev->weights.business == 2.0);
    assert_true(ev->weights.same_company == -5.25);
    assert_int_equal(ev->n_attendees, 4);
    assert_string_equal(a->id, "anna");
    assert_string_equal(a->name, "Anna Becker");
    assert_string_equal(a->company, "B2BSoMe");
    assert_string_equal(a->industry, "Marketing");
    assert_int_equal(a->n_interests, 3);
    assert_string_equal(a->interests[0], "Fussball");
    assert_string_equal(a->interests[2], "Segeln");
    assert_int_equal(a->n_offers, 1);
    assert_string_equal(a->offers[0], "Social-Media-Konzeption");
    assert_int_equal(a->n_seeks, 2);
    assert_string_equal(a->seeks[1], "Steuerberatung");
    assert_string_equal(ev->attendees[1].id, "ben");
    assert_null(ev->attendees[1].name);
    assert_null(ev->attendees[1].company);
    assert_int_equal(ev->attendees[1].n_interests, 0);
    assert_string_equal(ev->attendees[3].id, "dora");
    assert_int_equal(ev->attendees[3].n_interests, 0);
    assert_int_equal(ev->n_met_before, 1);
    assert_int_equal(ev->met_before[0].a, 0);
    assert_int_equal(ev->met_before[0].b, 1);
    assert_int_equal(ev->n_avoid, 2);
    assert_int_equal(ev->avoid[0].a, 2);
    assert_int_equal(ev->avoid[0].b, 3);
    assert_int_equal(ev->avoid[1].a, 3);
    assert_int_equal(ev->avoid[1].b, 0);
    cfg_event_free(ev);
}

static void test_defaults(void **state)
{
    struct cfg_event *ev = parse_ok("event:\n  rounds: 1\n  table_size: 2\n"
                                    "attendees: []\n");

    (void)state;
    assert_string_equal(ev->name, "");
    assert_false(ev->has_seed);
    assert_true(ev->weights.interests == AFF_DEFAULT_INTERESTS);
    assert_true(ev->weights.business == AFF_DEFAULT_BUSINESS);
    assert_true(ev->weights.same_company == AFF_DEFAULT_SAME_COMPANY);
    assert_int_equal(ev->n_attendees, 0);
    assert_int_equal(ev->n_met_before, 0);
    assert_null(ev->met_before);
    cfg_event_free(ev);

    /* Only the weight given changes; null lists mean none. */
    ev = parse_ok("event: {rounds: 1, table_size: 2, weights: {business: 3}}\n"
                  "attendees:\n  - id: a\n    interests:\nmet_before: ~\n");
    assert_true(ev->weights.business == 3.0);
    assert_true(ev->weights.interests == AFF_DEFAULT_INTERESTS);
    assert_int_equal(ev->attendees[0].n_interests, 0);
    cfg_event_free(ev);
}

/* Pairs may name attendees listed further down. */
static void test_pairs_before_attendees(void **state)
{
    struct cfg_event *ev = parse_ok("avoid: [[b, a]]\n" HEAD
                                    "attendees: [{id: a}, {id: b}]\n");

    (void)state;
    assert_int_equal(ev->n_avoid, 1);
    assert_int_equal(ev->avoid[0].a, 1);
    assert_int_equal(ev->avoid[0].b, 0);
    /* Where the pair starts: an infeasible one is reported there. */
    assert_int_equal(ev->avoid[0].line, 1);
    assert_int_equal(ev->avoid[0].column, 9);
    cfg_event_free(ev);
}

static void test_crlf_and_german(void **state)
{
    struct cfg_event *ev = parse_ok(
        "\xEF\xBB\xBF" /* a BOM, as Windows editors write it */
        "event:\r\n  name: \"Unternehmerfrühstück Köln\"\r\n"
        "  rounds: 2\r\n  table_size: 3\r\n"
        "attendees:\r\n  - id: jürgen\r\n    name: Jürgen Weiß\r\n"
        "    company: Müller & Söhne\r\n"
        "    interests: [Fußball, \"Ärzte\"]\r\n");

    (void)state;
    assert_string_equal(ev->name, "Unternehmerfrühstück Köln");
    assert_string_equal(ev->attendees[0].id, "jürgen");
    assert_string_equal(ev->attendees[0].name, "Jürgen Weiß");
    assert_string_equal(ev->attendees[0].company, "Müller & Söhne");
    assert_string_equal(ev->attendees[0].interests[0], "Fußball");
    assert_string_equal(ev->attendees[0].interests[1], "Ärzte");
    cfg_event_free(ev);

    /* Positions stay right with CRLF line ends. */
    expect_error("event:\r\n  rounds: 4\r\n  table_size: x\r\n", 3, 15,
                 "table_size: expected an integer >= 2, got 'x'");
}

static void test_not_yaml(void **state)
{
    (void)state;
    expect_error(HEAD "attendees: [\n", 3, 1, "did not find expected node");
    expect_error(HEAD "attendees:\n  - id: a\n   name: b\n", 4, 4,
                 "did not find expected '-' indicator");
    expect_error(HEAD "attendees:\n  - id: a\n    name: \"J\xFCrgen\"\n", 4,
                 13, "UTF-8");
    expect_error(HEAD "attendees:\n  - id: a\n    name: \"J\xC3\"\n", 4, 14,
                 "invalid trailing UTF-8 octet (0x22)");
}

static void test_wrong_types(void **state)
{
    (void)state;
    expect_error("event:\n  rounds: four\n", 2, 11,
                 "rounds: expected an integer >= 1, got 'four'");
    expect_error("event: {rounds: 1.5, table_size: 2}\n", 1, 17,
                 "rounds: expected an integer >= 1, got '1.5'");
    expect_error("event: {rounds: 0x10, table_size: 2}\n", 1, 17,
                 "got '0x10'");
    expect_error("event: {rounds: \"4\", table_size: 2}\n", 1, 17,
                 "got the quoted string '4'");
    expect_error("event: {rounds: [4], table_size: 2}\n", 1, 17,
                 "got a sequence");
    expect_error("event: {rounds: 4, table_size: ~}\n", 1, 32,
                 "table_size: expected an integer >= 2, got null");
    expect_error("event: [1]\n", 1, 8, "event: expected a mapping");
    expect_error(HEAD "attendees: {id: a}\n", 2, 12,
                 "attendees: expected a sequence");
    expect_error(HEAD "attendees: [anna]\n", 2, 13,
                 "attendees: expected a mapping with at least 'id', got a "
                 "string");
    expect_error(HEAD "attendees:\n  - id: a\n    interests: Jazz\n", 4, 16,
                 "interests: expected a sequence of strings, got a string");
    expect_error(HEAD "attendees:\n  - id: a\n    offers: [x, [y]]\n", 4, 17,
                 "offers: expected a string, got a sequence");
    expect_error(HEAD "attendees:\n  - id: a\n    name: {first: A}\n", 4, 11,
                 "name: expected a string, got a mapping");
    expect_error(HEAD "attendees:\n  - id: ~\n", 3, 9,
                 "id: expected a string, got null");
    expect_error(HEAD "attendees:\n  - {a: 1}: 2\n", 3, 5,
                 "expected a key (a string), got a mapping");
}

static void test_ranges(void **state)
{
    (void)state;
    expect_error("event: {rounds: 0, table_size: 2}\n", 1, 17,
                 "rounds: expected an integer >= 1, got '0'");
    expect_error("event: {rounds: 1001, table_size: 2}\n", 1, 17,
                 "rounds: 1001 is too large (max 1000)");
    expect_error("event: {rounds: 2, table_size: 1}\n", 1, 32,
                 "table_size: expected an integer >= 2, got '1'");
    expect_error("event: {rounds: 2, table_size: -3}\n", 1, 32,
                 "got '-3'");
    expect_error("event: {rounds: 2, table_size: 2, seed: -1}\n", 1, 41,
                 "seed: expected an integer >= 0, got '-1'");
    expect_error("event: {rounds: 2, table_size: 2, "
                 "seed: 18446744073709551616}\n",
                 1, 41, "seed: 18446744073709551616 is too large");
    expect_error("event: {rounds: 99999999999999999999999999, "
                 "table_size: 2}\n",
                 1, 17, "is too large");
}

static void test_weights(void **state)
{
    (void)state;
    expect_error("event:\n  weights: {business: nan}\n", 2, 23,
                 "weights.business: expected a number, got 'nan'");
    expect_error("event:\n  weights:\n    interests: .inf\n", 3, 16,
                 "weights.interests: expected a number, got '.inf'");
    expect_error("event:\n  weights:\n    interests: inf\n", 3, 16,
                 "expected a number");
    expect_error("event:\n  weights:\n    same_company: -1e999\n", 3, 19,
                 "weights.same_company: -1e999 is out of range");
    expect_error("event:\n  weights:\n    business: 0x1p3\n", 3, 15,
                 "expected a number, got '0x1p3'");
    expect_error("event:\n  weights:\n    business: \"2\"\n", 3, 15,
                 "expected a number, got a string");
    expect_error("event:\n  weights:\n    busines: 2\n", 3, 5,
                 "unknown key 'busines' (did you mean 'business'?)");
    expect_error("event:\n  weights: 2\n", 2, 12,
                 "weights: expected a mapping, got a string");
}

static void test_unknown_keys(void **state)
{
    (void)state;
    expect_error("event:\n  rounds: 4\n  tabel_size: 4\n", 3, 3,
                 "unknown key 'tabel_size' (did you mean 'table_size'?)");
    expect_error("event:\n  colour: red\n", 2, 3,
                 "unknown key 'colour' (expected one of: name, rounds, "
                 "table_size, seed, weights)");
    expect_error(HEAD "attendees:\n  - id: a\n    intrests: [x]\n", 4, 5,
                 "unknown key 'intrests' (did you mean 'interests'?)");
    expect_error(HEAD "attendee:\n  - id: a\n", 2, 1,
                 "unknown key 'attendee' (did you mean 'attendees'?)");
    expect_error(HEAD "attendees:\n  - ix: a\n", 3, 5, "unknown key 'ix'");
}

static void test_missing_keys(void **state)
{
    (void)state;
    expect_error("event:\n  name: x\n  table_size: 4\nattendees: []\n", 2, 3,
                 "event: missing required key 'rounds'");
    expect_error("event:\n  rounds: 4\nattendees: []\n", 2, 3,
                 "event: missing required key 'table_size'");
    expect_error("attendees: []\n", 1, 1, "missing required key 'event'");
    expect_error("# a comment\n" HEAD, 2, 1,
                 "missing required key 'attendees'");
    expect_error(HEAD "attendees:\n  - id: a\n  - name: Bob\n    company: X\n",
                 4, 5, "attendee: missing required key 'id'");
    expect_error(HEAD "attendees:\n  - {}\n", 3, 5,
                 "attendee: missing required key 'id'");
}

static void test_ids(void **state)
{
    (void)state;
    expect_error(HEAD "attendees:\n  - id: anna\n    name: A\n"
                 "  - id: ben\n  - id: anna\n",
                 6, 9, "duplicate attendee id 'anna' (first at line 3)");
    expect_error(HEAD "attendees:\n  - id: \"\"\n", 3, 9, "id: empty");
    expect_error(HEAD "attendees:\n  - id: "
                 "a123456789b123456789c123456789d123456789e123456789f123456789"
                 "g1234\n",
                 3, 9, "is longer than 64 bytes");
    expect_error(HEAD "attendees:\n  - id: anna becker\n", 3, 9,
                 "id: 'anna becker' must not contain spaces or control");
    expect_error(HEAD "attendees:\n  - id: \"a\\tb\"\n", 3, 9,
                 "id: 'a?b' must not contain");
    expect_error(HEAD "attendees:\n  - id: \"a\\0b\"\n", 3, 9,
                 "must not contain");
    /* A 64-byte id is fine. */
    cfg_event_free(parse_ok(HEAD "attendees:\n  - id: "
                            "a123456789b123456789c123456789d123456789e12345"
                            "6789f123456789g123\n"));
}

static void test_pairs(void **state)
{
    (void)state;
    expect_error(HEAD "attendees: [{id: a}, {id: b}]\n"
                 "met_before:\n  - [a, b]\n  - [a, zed]\n",
                 5, 9, "met_before: unknown attendee id 'zed'");
    expect_error(HEAD "attendees: [{id: a}, {id: b}]\n"
                 "avoid:\n  - [b, b]\n",
                 4, 9, "avoid: pair names 'b' twice");
    expect_error(HEAD "attendees: [{id: a}, {id: b}]\n"
                 "avoid:\n  - [a, b, a]\n",
                 4, 5, "avoid: expected a pair of 2 ids, got 3");
    expect_error(HEAD "attendees: [{id: a}, {id: b}]\n"
                 "avoid:\n  - [a]\n",
                 4, 5, "avoid: expected a pair of 2 ids, got 1");
    expect_error(HEAD "attendees: [{id: a}, {id: b}]\n"
                 "avoid:\n  - a\n",
                 4, 5, "avoid: expected a pair [id, id], got a string");
    expect_error(HEAD "attendees: [{id: a}, {id: b}]\n"
                 "avoid:\n  - [a, {b: 1}]\n",
                 4, 9, "avoid: expected an attendee id, got a mapping");
    expect_error(HEAD "attendees: [{id: a}, {id: b}]\n"
                 "met_before: [a, b]\n",
                 3, 14, "met_before: expected a pair [id, id], got a string");
}

static void test_text_and_tags(void **state)
{
    char yaml[4096];
    size_t n, i;

    (void)state;
    expect_error(HEAD "attendees:\n  - id: a\n    name: \"A\\x01\"\n", 4, 11,
                 "name: control characters are not allowed");
    expect_error(HEAD "attendees:\n  - id: a\n    company: \"A\\x85B\"\n", 4,
                 14, "company: control characters are not allowed");
    expect_error(HEAD "attendees:\n  - id: a\n    interests: [Jazz, \"  \"]\n",
                 4, 23, "interests: '  ' is blank");
    expect_error(HEAD "attendees:\n  - id: a\n    seeks: [\"a\\nb\"]\n", 4, 13,
                 "seeks: control characters are not allowed");

    n = (size_t)snprintf(yaml, sizeof(yaml), HEAD "attendees:\n  - id: a\n"
                         "    name: ");
    memset(yaml + n, 'x', ATT_TEXT_MAX_BYTES + 1);
    strcpy(yaml + n + ATT_TEXT_MAX_BYTES + 1, "\n");
    expect_error(yaml, 4, 11, "name: longer than 256 bytes");

    n = (size_t)snprintf(yaml, sizeof(yaml), HEAD "attendees:\n  - id: a\n"
                         "    offers: [");
    memset(yaml + n, 'y', VOCAB_TAG_MAX_BYTES + 1);
    strcpy(yaml + n + VOCAB_TAG_MAX_BYTES + 1, "]\n");
    expect_error(yaml, 4, 14, "is longer than 256 bytes");

    /* ATT_TAGS_MAX tags are fine, one more is not. */
    n = (size_t)snprintf(yaml, sizeof(yaml), HEAD "attendees:\n  - id: a\n"
                         "    seeks: [");
    for (i = 0; i < ATT_TAGS_MAX; i++)
        n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "t%zu,", i);
    strcpy(yaml + n - 1, "]\n");
    cfg_event_free(parse_ok(yaml));
    yaml[n - 1] = ',';
    strcpy(yaml + n, "z]\n");
    expect_error(yaml, 4, 13 + (unsigned)(n - strlen(HEAD "attendees:\n"
                                                      "  - id: a\n"
                                                      "    seeks: [")),
                 "seeks: more than 256 entries");
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    expect_error("event:\n  rounds: 2\n  table_size: 4\n  rounds: 3\n", 4, 3,
                 "duplicate key 'rounds' (first at line 2)");
    expect_error(HEAD "attendees: []\nevent: {rounds: 2}\n", 3, 1,
                 "duplicate key 'event' (first at line 1)");
    expect_error(HEAD "attendees:\n  - {id: a, name: x, name: y}\n", 3, 22,
                 "duplicate key 'name'");
}

static void test_refused_yaml(void **state)
{
    (void)state;
    expect_error(HEAD "attendees:\n  - id: a\n    interests: &h [x]\n", 4, 16,
                 "anchors are not allowed ('&h')");
    expect_error(HEAD "attendees:\n  - id: a\n    interests: *h\n", 4, 16,
                 "aliases are not allowed ('*h')");
    expect_error(HEAD "attendees:\n  - id: !!str a\n", 3, 9,
                 "explicit tags are not allowed");
    expect_error(HEAD "attendees: []\n---\n" HEAD "attendees: []\n", 3, 1,
                 "only one YAML document is allowed");
    expect_error(HEAD "attendees: []\n...\n---\n", 4, 1,
                 "only one YAML document is allowed");
}

static void test_empty_and_scalar(void **state)
{
    (void)state;
    expect_error("", 1, 1, "empty file");
    expect_error("# only a comment\n\n", 3, 1, "empty file");
    expect_error("hello\n", 1, 1,
                 "expected a mapping with keys 'event' and 'attendees', got "
                 "a string");
    expect_error("- event\n", 1, 1, "got a sequence");
    expect_error("---\n", 2, 1, "got null");
}

/* Nesting cannot get deep in a valid event file, so the reader's own
 * limit is checked where it is enforced. */
static void test_depth_limit(void **state)
{
    char deep[2 * CFG_MAX_DEPTH + 8];
    struct cfg_yaml y;
    struct cfg_error err;
    int rc = 0, i;

    (void)state;
    for (i = 0; i <= CFG_MAX_DEPTH; i++)
        deep[i] = '[';
    for (i = 0; i <= CFG_MAX_DEPTH; i++)
        deep[CFG_MAX_DEPTH + 1 + i] = ']';
    deep[2 * CFG_MAX_DEPTH + 2] = '\0';
    assert_int_equal(cfg_yaml_init(&y, deep, strlen(deep), "d.yaml", &err), 0);
    while (rc == 0 && !(y.has_ev && y.ev.type == YAML_STREAM_END_EVENT))
        rc = cfg_yaml_next(&y);
    cfg_yaml_fini(&y);
    assert_int_equal(rc, -EINVAL);
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, CFG_MAX_DEPTH + 1);
    assert_non_null(strstr(err.msg, "nested deeper than 16 levels"));

    /* CFG_MAX_DEPTH levels are fine. */
    deep[CFG_MAX_DEPTH] = '\0';
    memset(deep + CFG_MAX_DEPTH, ']', CFG_MAX_DEPTH);
    deep[2 * CFG_MAX_DEPTH] = '\0';
    assert_int_equal(cfg_yaml_init(&y, deep, strlen(deep), "d.yaml", &err), 0);
    rc = 0;
    while (rc == 0 && !(y.has_ev && y.ev.type == YAML_STREAM_END_EVENT))
        rc = cfg_yaml_next(&y);
    cfg_yaml_fini(&y);
    assert_int_equal(rc, 0);

    /* In an event file, deep nesting is a type error at its first level. */
    expect_error(HEAD "attendees: [[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]"
                      "]]]]]]\n",
                 2, 13, "attendees: expected a mapping with at least 'id'");
}

static void test_file_size_limit(void **state)
{
    const struct cfg_limits lim = {.max_file_bytes = 64, .max_attendees = 0};
    char path[] = "/tmp/test_event_file_XXXXXX";
    const char *big = HEAD "attendees:\n  - id: anna\n  - id: ben\n"
                           "  - id: carl\n";
    struct cfg_event *ev = NULL;
    struct cfg_error err;
    char msg[1024], want[1024];
    int fd;

    (void)state;
    assert_true(strlen(big) > 64);
    expect_error_lim(big, &lim, -EFBIG, 0, 0, "larger than 64 bytes");

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, big, strlen(big)), (int)strlen(big));
    close(fd);
    assert_int_equal(cfg_event_load(path, &lim, &ev, &err), -EFBIG);
    assert_null(ev);
    snprintf(want, sizeof(want), "%s: file is larger than 64 bytes", path);
    assert_string_equal(cfg_error_format(&err, msg, sizeof(msg)), want);
    assert_int_equal(cfg_event_load(path, NULL, &ev, &err), 0);
    assert_int_equal(ev->n_attendees, 3);
    cfg_event_free(ev);
    unlink(path);

    assert_int_equal(cfg_event_load("/nonexistent/event.yaml", NULL, &ev,
                                    &err),
                     -ENOENT);
    assert_null(ev);
    assert_string_equal(err.file, "/nonexistent/event.yaml");
    assert_non_null(strstr(err.msg, "cannot read"));
    assert_int_equal(cfg_event_load("/tmp", NULL, &ev, &err), -EISDIR);
}

static void test_max_attendees(void **state)
{
    const struct cfg_limits lim = {.max_file_bytes = 0, .max_attendees = 2};
    struct cfg_event *ev = NULL;
    struct cfg_error err;
    const char *two = HEAD "attendees:\n  - id: a\n  - id: b\n";

    (void)state;
    assert_int_equal(cfg_event_parse(two, strlen(two), "t.yaml", &lim, &ev,
                                     &err),
                     0);
    assert_int_equal(ev->n_attendees, 2);
    cfg_event_free(ev);
    expect_error_lim(HEAD "attendees:\n  - id: a\n  - id: b\n  - id: c\n",
                     &lim, -EINVAL, 5, 5, "more than 2 attendees");
}

/* Many attendees exercise the id table's growth. */
static void test_many_attendees(void **state)
{
    const size_t n = 5000;
    size_t cap = n * 24 + 256, len, i;
    char *yaml = malloc(cap);
    struct cfg_event *ev;

    (void)state;
    assert_non_null(yaml);
    len = (size_t)snprintf(yaml, cap, HEAD "met_before: [[p4999, p0]]\n"
                           "attendees:\n");
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(yaml + len, cap - len, "  - id: p%zu\n", i);
    ev = parse_ok(yaml);
    assert_int_equal(ev->n_attendees, n);
    assert_string_equal(ev->attendees[4321].id, "p4321");
    assert_int_equal(ev->met_before[0].a, 4999);
    assert_int_equal(ev->met_before[0].b, 0);
    cfg_event_free(ev);
    snprintf(yaml + len, cap - len, "  - id: p3333\n");
    expect_error(yaml, (unsigned)(n + 4), 9,
                 "duplicate attendee id 'p3333' (first at line 3337)");
    free(yaml);
}

/* Each tests/data/bad_*.yaml names its expected error on its first line:
 * "# expect: LINE:COL message". */
static void test_data_files(void **state)
{
    static const char *const names[] = {
        "bad_alias", "bad_anchor", "bad_duplicate_id", "bad_duplicate_key",
        "bad_empty", "bad_id_space", "bad_interests_scalar", "bad_missing_id",
        "bad_missing_rounds", "bad_not_utf8", "bad_not_yaml", "bad_pair_size",
        "bad_rounds_type", "bad_scalar", "bad_table_size",
        "bad_two_documents", "bad_unknown_key", "bad_unknown_pair_id",
        "bad_weight_nan"};
    char dir[512], path[700], line[512];
    const char *slash;
    size_t i;

    (void)state;
    /* The sources sit next to tests/data, wherever the build runs. */
    slash = strrchr(__FILE__, '/');
    assert_non_null(slash);
    snprintf(dir, sizeof(dir), "%.*s/../data", (int)(slash - __FILE__),
             __FILE__);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct cfg_event *ev = NULL;
        struct cfg_error err;
        unsigned want_line, want_col;
        char *want;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s.yaml", dir, names[i]);
        f = fopen(path, "r");
        if (f == NULL)
            print_message("cannot open %s\n", path);
        assert_non_null(f);
        assert_non_null(fgets(line, sizeof(line), f));
        fclose(f);
        line[strcspn(line, "\n")] = '\0';
        assert_int_equal(sscanf(line, "# expect: %u:%u ", &want_line,
                                &want_col),
                         2);
        want = strchr(strchr(line, ':') + 1, ' ');
        assert_non_null(want);
        want = strchr(want + 1, ' ') + 1;
        assert_int_equal(cfg_event_load(path, NULL, &ev, &err), -EINVAL);
        if (err.line != want_line || err.column != want_col ||
            strstr(err.msg, want) == NULL)
            print_message("%s: got %u:%u %s\n", names[i], err.line,
                          err.column, err.msg);
        assert_int_equal(err.line, want_line);
        assert_int_equal(err.column, want_col);
        assert_non_null(strstr(err.msg, want));
    }
}

/* libyaml would decode UTF-16 after its byte order mark; ours must not. */
static void test_utf16_refused(void **state)
{
    const char le[] = "\xFF\xFE" "e\0v\0e\0n\0t\0:\0";
    const char be[] = "\xFE\xFF" "\0e\0v\0e\0n\0t\0:";
    const char *const bufs[2] = {le, be};
    struct cfg_event *ev = NULL;
    struct cfg_error err;

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(cfg_event_parse(bufs[i], sizeof(le) - 1, "t.yaml",
                                         NULL, &ev, &err),
                         -EINVAL);
        assert_null(ev);
        assert_int_equal(err.line, 1);
        assert_int_equal(err.column, 1);
        assert_non_null(strstr(err.msg, "the file must be UTF-8"));
    }
}

/* A FIFO without a writer would block the open: only regular files. */
static void test_not_regular_refused(void **state)
{
    struct cfg_event *ev = NULL;
    struct cfg_error err;

    (void)state;
    assert_int_equal(cfg_event_load("/dev/null", NULL, &ev, &err), -EINVAL);
    assert_null(ev);
    assert_string_equal(err.msg, "not a regular file");
}

static void test_error_format(void **state)
{
    struct cfg_error e;
    char buf[64];

    (void)state;
    memset(&e, 0, sizeof(e));
    strcpy(e.file, "ev.yaml");
    strcpy(e.msg, "boom");
    e.line = 3;
    e.column = 7;
    assert_string_equal(cfg_error_format(&e, buf, sizeof(buf)),
                        "ev.yaml:3:7: boom");
    e.line = 0;
    assert_string_equal(cfg_error_format(&e, buf, sizeof(buf)),
                        "ev.yaml: boom");
    e.file[0] = '\0';
    assert_string_equal(cfg_error_format(&e, buf, sizeof(buf)), "boom");
    e.line = 3;
    strcpy(e.file, "a-rather-long-name.yaml");
    assert_string_equal(cfg_error_format(&e, buf, 8), "a-rathe");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_example),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_pairs_before_attendees),
        cmocka_unit_test(test_crlf_and_german),
        cmocka_unit_test(test_not_yaml),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_missing_keys),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_text_and_tags),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_refused_yaml),
        cmocka_unit_test(test_empty_and_scalar),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_file_size_limit),
        cmocka_unit_test(test_max_attendees),
        cmocka_unit_test(test_many_attendees),
        cmocka_unit_test(test_data_files),
        cmocka_unit_test(test_utf16_refused),
        cmocka_unit_test(test_not_regular_refused),
        cmocka_unit_test(test_error_format),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
