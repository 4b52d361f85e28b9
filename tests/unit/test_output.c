/* test_output.c -- the three batch output formats, byte for byte where the
 * contract fixes them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "output.h"

/* Renders `s` in `fmt` into a malloc'ed string (caller frees). */
static char *render(enum out_format fmt, const struct out_schedule *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(out_write(f, fmt, s), 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(strlen(buf), len);
    return buf;
}

static const struct out_seat seats_a[] = {
    {"anna", "Anna Becker"},
    {"jorg", "Jörg \"Jojo\" Müller, Dipl.-Ing."},
};
static const struct out_seat seats_b[] = {
    {"ben", NULL},
    {"dora", "Dora\nZweizeil"},
};
static const struct out_table tables_r1[] = {
    {1, seats_a, 2, 3.5, "Anna offers Webdesign, which Jörg seeks"},
    {2, seats_b, 2, 0.1, NULL},
};
static const struct out_round rounds[] = {
    {1, tables_r1, 2},
};

static struct out_schedule sample(void)
{
    struct out_schedule s = {
        .event = "Connexxtion \"Süd\"\t\x01",
        .rounds = rounds,
        .n_rounds = 1,
        .summary = {4, 1, 0, 3.6, 0.1},
    };
    return s;
}

static void test_parse_format(void **state)
{
    (void)state;
    enum out_format f = OUT_JSON;
    assert_int_equal(out_parse_format("text", &f), 0);
    assert_int_equal(f, OUT_TEXT);
    assert_int_equal(out_parse_format("json", &f), 0);
    assert_int_equal(f, OUT_JSON);
    assert_int_equal(out_parse_format("csv", &f), 0);
    assert_int_equal(f, OUT_CSV);
    assert_int_equal(out_parse_format("CSV", &f), -EINVAL);
    assert_int_equal(out_parse_format("", &f), -EINVAL);
    assert_int_equal(out_parse_format(NULL, &f), -EINVAL);
    assert_int_equal(f, OUT_CSV);
}

static void test_json_exact(void **state)
{
    (void)state;
    struct out_schedule s = sample();
    char *out = render(OUT_JSON, &s);
    const char *want =
        "{\n"
        "  \"event\": \"Connexxtion \\\"Süd\\\"\\t\\u0001\",\n"
        "  \"rounds\": [\n"
        "    {\"round\": 1,\n"
        "     \"tables\": [\n"
        "       {\"table\": 1, \"attendees\": [\"anna\", \"jorg\"], "
        "\"score\": 3.5, \"why\": \"Anna offers Webdesign, which Jörg "
        "seeks\"},\n"
        "       {\"table\": 2, \"attendees\": [\"ben\", \"dora\"], "
        "\"score\": 0.1, \"why\": \"\"}\n"
        "     ]}\n"
        "  ],\n"
        "  \"summary\": {\"attendees\": 4, \"repeat_pairs\": 1, "
        "\"repeat_lower_bound\": 0,\n"
        "              \"affinity_total\": 3.6, "
        "\"min_attendee_affinity\": 0.1}\n"
        "}\n";
    assert_string_equal(out, want);
    free(out);
}

static void test_json_escapes_and_bad_utf8(void **state)
{
    (void)state;
    static const struct out_seat seat[] = {{"a\\b\r\n\b\f\x1f", "x"}};
    static const struct out_table t[] = {{1, seat, 1, 0, "\xC3(ok\xE2\x82\xAC"}};
    static const struct out_round r[] = {{1, t, 1}};
    struct out_schedule s = {.event = NULL, .rounds = r, .n_rounds = 1};
    char *out = render(OUT_JSON, &s);
    assert_non_null(strstr(out, "\"event\": \"\""));
    assert_non_null(strstr(out, "[\"a\\\\b\\r\\n\\b\\f\\u001f\"]"));
    /* A lone lead byte is replaced; the valid euro sign passes through. */
    assert_non_null(strstr(out, "\"why\": \"\xEF\xBF\xBD(ok\xE2\x82\xAC\""));
    free(out);
}

static void test_json_numbers(void **state)
{
    (void)state;
    static const struct out_table t[] = {
        {1, NULL, 0, 1.0 / 3.0, ""},
        {2, NULL, 0, -5, ""},
        {3, NULL, 0, 1e300, ""},
    };
    static const struct out_round r[] = {{1, t, 3}};
    struct out_schedule s = {.event = "", .rounds = r, .n_rounds = 1,
                             .summary = {0, 0, 0, 0.0 / 0.0, 2.5}};
    char *out = render(OUT_JSON, &s);
    assert_non_null(strstr(out, "\"score\": 0.3333333333333333,"));
    assert_non_null(strstr(out, "\"score\": -5,"));
    assert_non_null(strstr(out, "\"score\": 1e+300,"));
    assert_non_null(strstr(out, "\"affinity_total\": null,"));
    assert_non_null(strstr(out, "\"min_attendee_affinity\": 2.5}"));
    assert_non_null(strstr(out, "\"attendees\": []"));
    free(out);
}

static void test_json_empty(void **state)
{
    (void)state;
    struct out_schedule s = {.event = "e"};
    char *out = render(OUT_JSON, &s);
    assert_non_null(strstr(out, "\"rounds\": [],\n"));
    free(out);
}

static void test_csv_quoting(void **state)
{
    (void)state;
    struct out_schedule s = sample();
    char *out = render(OUT_CSV, &s);
    const char *want =
        "round,table,attendee_id,name\n"
        "1,1,anna,Anna Becker\n"
        "1,1,jorg,\"Jörg \"\"Jojo\"\" Müller, Dipl.-Ing.\"\n"
        "1,2,ben,ben\n"
        "1,2,dora,\"Dora\nZweizeil\"\n";
    assert_string_equal(out, want);
    free(out);
}

/* A spreadsheet runs a cell that starts with = + - @ tab or CR as a
 * formula: such cells get a leading quote inside the quoted field. */
static void test_csv_formula_escaped(void **state)
{
    static const struct out_seat evil[] = {
        {"=1+1", "=HYPERLINK(\"http://x\")"}, {"+49", "-Dr. X"},
        {"@sum", "\tTab"}, {"cr", "\rCR"}, {"ok-=", "a=b"},
    };
    static const struct out_table tb[] = {{1, evil, 5, 0, NULL}};
    static const struct out_round rd[] = {{1, tb, 1}};
    struct out_schedule s = sample();
    char *out;

    (void)state;
    s.rounds = rd;
    out = render(OUT_CSV, &s);
    assert_string_equal(out,
                        "round,table,attendee_id,name\n"
                        "1,1,\"'=1+1\",\"'=HYPERLINK(\"\"http://x\"\")\"\n"
                        "1,1,\"'+49\",\"'-Dr. X\"\n"
                        "1,1,\"'@sum\",\"'\tTab\"\n"
                        "1,1,cr,\"'\rCR\"\n"
                        "1,1,ok-=,a=b\n");
    free(out);
}

/* For Excel: a UTF-8 BOM, or it guesses the code page; CRLF rows. */
static void test_csv_excel(void **state)
{
    struct out_schedule s = sample();
    char *out;

    (void)state;
    out = render(OUT_CSV_EXCEL, &s);
    assert_string_equal(out,
                        "\xEF\xBB\xBF" "round,table,attendee_id,name\r\n"
                        "1,1,anna,Anna Becker\r\n"
                        "1,1,jorg,\"Jörg \"\"Jojo\"\" Müller, Dipl.-Ing.\"\r\n"
                        "1,2,ben,ben\r\n"
                        "1,2,dora,\"Dora\nZweizeil\"\r\n");
    free(out);
}

static void test_text_layout(void **state)
{
    (void)state;
    struct out_schedule s = sample();
    s.event = "Stammtisch Süd";
    char *out = render(OUT_TEXT, &s);
    const char *want =
        "Stammtisch Süd\n"
        "==============\n"
        "\n"
        "Round 1\n"
        "  Table 1 (score 3.5): Anna Becker, Jörg \"Jojo\" Müller, Dipl.-Ing.\n"
        "    why: Anna offers Webdesign, which Jörg seeks\n"
        "  Table 2 (score 0.1): ben, Dora Zweizeil\n"
        "\n"
        "Summary\n"
        "  attendees:              4\n"
        "  rounds:                 1\n"
        "  repeated encounters:    1 (lower bound 0)\n"
        "  affinity total:         3.6\n"
        "  lowest per attendee:    0.1\n";
    assert_string_equal(out, want);
    free(out);
}

static struct out_schedule with_quality(void)
{
    struct out_schedule s = sample();
    s.summary.has_quality = true;
    s.summary.quality = (struct out_quality){
        .objective = 3.1, .upper_bound = 6.2, .bound_share = 0.5,
        .seats = 4, .lonely_seats = 1, .business_mean = 0.5,
        .business_min = 0, .conversation_mean = 1.25, .conversation_min = 1,
        .empty_handed = 2, .business_lift = 2.125, .conversation_lift = 0};
    s.summary.search = (struct out_search){
        .threads = 2, .epochs = 1, .converged = true};
    return s;
}

/* The quality lines: a lift only where it is defined. */
static void test_text_quality(void **state)
{
    (void)state;
    struct out_schedule s = with_quality();
    char *out = render(OUT_TEXT, &s);
    const char *want =
        "  lowest per attendee:    0.1\n"
        "  objective:              3.1 (50 % of the upper bound 6.2)\n"
        "  business contacts:      0.5 per attendee (fewest 0), 2.12x a "
        "random seating\n"
        "  conversation partners:  1.2 per attendee (fewest 1)\n"
        "  lonely seats:           1 of 4 (25.0 %)\n"
        "  without a contact:      2 who could have had one\n"
        "  search:                 converged after 1 epoch, 2 threads\n";
    assert_non_null(strstr(out, want));
    free(out);
}

/* The JSON summary keeps the contract's fields and adds the quality. */
static void test_json_quality(void **state)
{
    (void)state;
    struct out_schedule s = with_quality();
    char *out = render(OUT_JSON, &s);
    assert_non_null(strstr(out, "\"min_attendee_affinity\": 0.1"));
    assert_non_null(strstr(out, "\"objective\": 3.1, \"upper_bound\": 6.2, "
                                "\"bound_share\": 0.5"));
    assert_non_null(strstr(out, "\"seats\": 4, \"lonely_seats\": 1, "
                                "\"empty_handed\": 2"));
    assert_non_null(strstr(out, "\"business_contacts_min\": 0, "
                                "\"business_lift\": 2.125"));
    assert_non_null(strstr(out, "\"search\": {\"threads\": 2, \"epochs\": 1, "
                                "\"converged\": true, "
                                "\"time_limit_hit\": false}}"));
    free(out);
    s.summary.quality.upper_bound = 0;
    out = render(OUT_JSON, &s);
    assert_non_null(strstr(out, "\"upper_bound\": null, \"bound_share\": null"));
    free(out);
}

/* One line of names and one line of reason per table, however long. */
static void test_text_one_line_per_table(void **state)
{
    (void)state;
    static const struct out_seat seat[] = {
        {"a", "Annegret Österreicher-Hansen"},
        {"b", "Bartholomäus Friedrichsen"},
        {"c", "Christiane von Lüdinghausen"},
        {"d", "Dörte Großkreutz"},
    };
    static const struct out_table t[] = {{12, seat, 4, 17.25,
        "Annegret offers Steuerberatung, which Bartholomäus seeks \xC2\xB7 "
        "Christiane and Dörte: Segeln, FC St. Pauli"}};
    static const struct out_round r[] = {{3, t, 1}};
    struct out_schedule s = {.event = "", .rounds = r, .n_rounds = 1};
    char *out = render(OUT_TEXT, &s);
    const char *want =
        "Round 3\n"
        "  Table 12 (score 17.2): Annegret Österreicher-Hansen, "
        "Bartholomäus Friedrichsen, Christiane von Lüdinghausen, "
        "Dörte Großkreutz\n"
        "    why: Annegret offers Steuerberatung, which Bartholomäus seeks "
        "\xC2\xB7 Christiane and Dörte: Segeln, FC St. Pauli\n"
        "\n";
    assert_true(strncmp(out, want, strlen(want)) == 0);
    free(out);
}

static void test_text_names_only(void **state)
{
    (void)state;
    static const struct out_seat seat[] = {{"p1", "Elif Şahin"}, {"p2", NULL}};
    static const struct out_table t[] = {{1, seat, 2, 0, ""}};
    static const struct out_round r[] = {{1, t, 1}};
    struct out_schedule s = {.event = "", .rounds = r, .n_rounds = 1};
    char *out = render(OUT_TEXT, &s);
    assert_true(strncmp(out, "Round 1\n  Table 1: Elif Şahin, p2\n\nSummary",
                        strlen("Round 1\n  Table 1: Elif Şahin, p2\n\nSummary"))
                == 0);
    free(out);
}

static void test_write_error(void **state)
{
    (void)state;
    struct out_schedule s = sample();
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        skip();
    assert_int_equal(out_write(f, OUT_CSV, &s), -EIO);
    fclose(f);
    f = fopen("/dev/null", "w");
    assert_non_null(f);
    assert_int_equal(out_write(f, (enum out_format)7, &s), -EINVAL);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format),
        cmocka_unit_test(test_json_exact),
        cmocka_unit_test(test_json_escapes_and_bad_utf8),
        cmocka_unit_test(test_json_numbers),
        cmocka_unit_test(test_json_empty),
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_csv_formula_escaped),
        cmocka_unit_test(test_csv_excel),
        cmocka_unit_test(test_text_layout),
        cmocka_unit_test(test_text_quality),
        cmocka_unit_test(test_json_quality),
        cmocka_unit_test(test_text_one_line_per_table),
        cmocka_unit_test(test_text_names_only),
        cmocka_unit_test(test_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
