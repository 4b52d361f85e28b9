/* test_vocab.c -- folding and interning of tags. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vocab.h"

/* Folds `text` and compares with the expected folded bytes. */
static void assert_folds_to(const char *text, const char *expected)
{
    char *out = NULL;
    size_t len = 0;

    assert_int_equal(vocab_fold(text, strlen(text), &out, &len), 0);
    assert_non_null(out);
    assert_int_equal(len, strlen(expected));
    assert_string_equal(out, expected);
    free(out);
}

static void assert_fold_fails(const char *text, size_t len)
{
    char *out = (char *)1;
    size_t out_len = 1;

    assert_int_equal(vocab_fold(text, len, &out, &out_len), -EINVAL);
    assert_null(out);
    assert_int_equal(out_len, 0);
}

static void test_fold_german(void **state)
{
    (void)state;
    assert_folds_to("Fußball", "fussball");
    assert_folds_to("FUSSBALL", "fussball");
    assert_folds_to("fussball", "fussball");
    assert_folds_to("Ärzte", "\xc3\xa4rzte");
    assert_folds_to("ärzte", "\xc3\xa4rzte");
    /* A + COMBINING DIAERESIS composes to U+00E4 under NFC. */
    assert_folds_to("A\xcc\x88rzte", "\xc3\xa4rzte");
    assert_folds_to("a\xcc\x88rzte", "\xc3\xa4rzte");
}

/* The ASCII fast path must agree with full Unicode folding: every
 * printable ASCII character, alone and next to a non-ASCII one (which
 * takes the libunistring path). */
static void test_fold_ascii_matches_unicode(void **state)
{
    (void)state;
    for (int c = 0x21; c < 0x7f; c++) {
        char plain[2] = {(char)c, '\0'};
        char mixed[4] = {(char)c, '\xc3', '\xa4', '\0'}; /* c + "ä" */
        char *a = NULL, *b = NULL;
        size_t la, lb;

        assert_int_equal(vocab_fold(plain, 1, &a, &la), 0);
        assert_int_equal(vocab_fold(mixed, 3, &b, &lb), 0);
        assert_int_equal(lb, la + 2);
        assert_memory_equal(a, b, la);
        assert_int_equal(a[0], c >= 'A' && c <= 'Z' ? c + 32 : c);
        free(a);
        free(b);
    }
}

static void test_fold_trims(void **state)
{
    (void)state;
    assert_folds_to("  Jazz\t\n", "jazz");
    /* U+00A0 NO-BREAK SPACE and U+3000 IDEOGRAPHIC SPACE at both ends. */
    assert_folds_to("\xc2\xa0Jazz\xc2\xa0", "jazz");
    assert_folds_to("\xe3\x80\x80 Jazz \xe3\x80\x80", "jazz");
    /* Inner spaces are part of the tag. */
    assert_folds_to("  Social Media  ", "social media");
}

static void test_fold_not_nul_terminated(void **state)
{
    char *out = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(vocab_fold("JazzXYZ", 4, &out, &len), 0);
    assert_string_equal(out, "jazz");
    assert_int_equal(len, 4);
    free(out);
}

static void test_fold_rejects(void **state)
{
    char long_tag[VOCAB_TAG_MAX_BYTES + 2];
    char *out = NULL;
    size_t len = 0;

    (void)state;
    assert_fold_fails("", 0);
    assert_fold_fails("   \t ", 5);
    assert_fold_fails("\xc2\xa0", 2);
    assert_fold_fails("\xff" "abc", 4);
    assert_fold_fails("ab\xc3", 3);           /* truncated sequence */
    assert_fold_fails("\xc0\xaf", 2);         /* overlong '/' */
    assert_fold_fails("\xed\xa0\x80", 3);     /* UTF-16 surrogate */
    memset(long_tag, 'a', sizeof(long_tag));
    assert_fold_fails(long_tag, VOCAB_TAG_MAX_BYTES + 1);
    assert_int_equal(vocab_fold(long_tag, VOCAB_TAG_MAX_BYTES, &out, &len), 0);
    assert_int_equal(len, VOCAB_TAG_MAX_BYTES);
    free(out);
}

static void test_intern_same_id(void **state)
{
    struct vocab *v = vocab_new();
    uint32_t a, b, c, d, e;

    (void)state;
    assert_non_null(v);
    assert_int_equal(vocab_count(v), 0);
    assert_int_equal(vocab_intern(v, " Fußball ", 10, &a), 0);
    assert_int_equal(vocab_intern(v, "FUSSBALL", 8, &b), 0);
    assert_int_equal(vocab_intern(v, "Jazz", 4, &c), 0);
    assert_int_equal(vocab_intern(v, "fussball", 8, &d), 0);
    assert_int_equal(vocab_intern(v, "jAZZ", 4, &e), 0);
    assert_int_equal(a, 0);
    assert_int_equal(b, a);
    assert_int_equal(c, 1);
    assert_int_equal(d, a);
    assert_int_equal(e, c);
    assert_int_equal(vocab_count(v), 2);
    /* The first spelling, trimmed but not folded. */
    assert_string_equal(vocab_display(v, a), "Fußball");
    assert_string_equal(vocab_display(v, c), "Jazz");
    vocab_free(v);
}

static void test_intern_errors(void **state)
{
    struct vocab *v = vocab_new();
    uint32_t id = 77;

    (void)state;
    assert_int_equal(vocab_intern(v, "  ", 2, &id), -EINVAL);
    assert_int_equal(vocab_intern(v, "\xfe", 1, &id), -EINVAL);
    assert_int_equal(id, 77);
    assert_int_equal(vocab_count(v), 0);
    vocab_free(v);
}

static void test_find(void **state)
{
    struct vocab *v = vocab_new();
    uint32_t id, found = 99;

    (void)state;
    assert_int_equal(vocab_find(v, "Segeln", 6, &found), -ENOENT);
    assert_int_equal(vocab_intern(v, "Segeln", 6, &id), 0);
    assert_int_equal(vocab_find(v, "SEGELN ", 7, &found), 0);
    assert_int_equal(found, id);
    assert_int_equal(vocab_find(v, "Segel", 5, &found), -ENOENT);
    assert_int_equal(vocab_find(v, "", 0, &found), -EINVAL);
    assert_int_equal(vocab_count(v), 1);
    vocab_free(v);
}

/* Many tags: the table grows and every id stays dense and findable. */
static void test_growth(void **state)
{
    struct vocab *v = vocab_new();
    char buf[32];
    uint32_t i, id;

    (void)state;
    for (i = 0; i < 20000; i++) {
        int n = snprintf(buf, sizeof(buf), "Tag-%u", i);

        assert_int_equal(vocab_intern(v, buf, (size_t)n, &id), 0);
        assert_int_equal(id, i);
    }
    assert_int_equal(vocab_count(v), 20000);
    for (i = 0; i < 20000; i += 7) {
        int n = snprintf(buf, sizeof(buf), "TAG-%u", i);

        assert_int_equal(vocab_find(v, buf, (size_t)n, &id), 0);
        assert_int_equal(id, i);
        snprintf(buf, sizeof(buf), "Tag-%u", i);
        assert_string_equal(vocab_display(v, i), buf);
    }
    vocab_free(v);
}

static void assert_trims_to(const char *text, const char *expected)
{
    size_t start = 0, end = strlen(text);

    vocab_trim(text, &start, &end);
    assert_int_equal(end - start, strlen(expected));
    assert_memory_equal(text + start, expected, end - start);
}

static void test_trim(void **state)
{
    size_t start = 2, end = 2;

    (void)state;
    assert_trims_to("  Jazz\t\n", "Jazz");
    assert_trims_to("\xc2\xa0Segeln\xe2\x80\x83", "Segeln"); /* NBSP, EM SP */
    assert_trims_to("Web design", "Web design");
    assert_trims_to(" \xc2\xa0 ", "");
    assert_trims_to("", "");
    vocab_trim("ab  ", &start, &end);
    assert_int_equal(start, 2);
    assert_int_equal(end, 2);
}

static void test_free_null(void **state)
{
    (void)state;
    vocab_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_german),
        cmocka_unit_test(test_fold_ascii_matches_unicode),
        cmocka_unit_test(test_fold_trims),
        cmocka_unit_test(test_fold_not_nul_terminated),
        cmocka_unit_test(test_fold_rejects),
        cmocka_unit_test(test_intern_same_id),
        cmocka_unit_test(test_intern_errors),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_free_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
