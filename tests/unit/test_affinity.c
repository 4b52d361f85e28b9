/* test_affinity.c -- pair scores, their parts, and table reasons. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "affinity.h"

#define EPS 1e-9

static void assert_near(double got, double want)
{
    if (fabs(got - want) > EPS)
        fail_msg("got %.12f, want %.12f", got, want);
}

#define TAGS(...) ((const char *const[]){__VA_ARGS__})
#define N_TAGS(...) (sizeof(TAGS(__VA_ARGS__)) / sizeof(const char *))

static uint32_t add(struct roster *r, const struct att_profile *p)
{
    uint32_t idx;

    assert_int_equal(roster_upsert(r, p, &idx), 0);
    return idx;
}

/* Rarity 1 + ln(N / df) / ln(N): from 1 (everyone) to 2 (one person). */
static double rarity(double n, double df)
{
    return 1.0 + log(n / df) / log(n);
}

/* Rarity: N = 4; Jazz is listed by 2, Reisen by 3. */
static void test_rarer_weighs_more(void **state)
{
    struct roster *r = roster_new();
    struct aff_weights w;
    struct aff_model *m;
    uint32_t a, b, c, d;

    (void)state;
    a = add(r, &(struct att_profile){.id = "a",
                .interests = TAGS("Jazz", "Reisen"), .n_interests = 2});
    b = add(r, &(struct att_profile){.id = "b",
                .interests = TAGS("jazz"), .n_interests = 1});
    c = add(r, &(struct att_profile){.id = "c",
                .interests = TAGS("Reisen"), .n_interests = 1});
    d = add(r, &(struct att_profile){.id = "d",
                .interests = TAGS("REISEN", "Golf"), .n_interests = 2});
    aff_weights_default(&w);
    m = aff_model_new(r, &w);
    assert_non_null(m);
    assert_near(aff_score(m, a, b), 1.5);
    assert_near(aff_score(m, a, c), rarity(4.0, 3.0));
    assert_near(aff_score(m, c, d), rarity(4.0, 3.0));
    assert_true(aff_score(m, a, b) > aff_score(m, a, c));
    assert_near(aff_score(m, b, c), 0.0);
    aff_model_free(m);

    /* The interest weight scales the sum. */
    w.interests = 2.5;
    m = aff_model_new(r, &w);
    assert_near(aff_score(m, a, b), 2.5 * 1.5);
    aff_model_free(m);
    aff_model_free(NULL);
    roster_free(r);
}

/* Removed attendees count neither towards N nor towards df. */
static void test_rarity_live_only(void **state)
{
    struct roster *r = roster_new();
    struct aff_weights w;
    struct aff_model *m;
    uint32_t a, b;

    (void)state;
    a = add(r, &(struct att_profile){.id = "a",
                .interests = TAGS("Jazz"), .n_interests = 1});
    b = add(r, &(struct att_profile){.id = "b",
                .interests = TAGS("Jazz"), .n_interests = 1});
    add(r, &(struct att_profile){.id = "c",
            .interests = TAGS("Jazz"), .n_interests = 1});
    add(r, &(struct att_profile){.id = "d"});
    assert_int_equal(roster_remove(r, "c"), 0);
    aff_weights_default(&w);
    m = aff_model_new(r, &w);
    assert_near(aff_score(m, a, b), rarity(3.0, 2.0));
    aff_model_free(m);
    roster_free(r);
}

static void test_business_both_ways(void **state)
{
    struct roster *r = roster_new();
    struct aff_weights w;
    struct aff_model *m;
    struct aff_parts parts;
    uint32_t a, b, c;

    (void)state;
    a = add(r, &(struct att_profile){.id = "a",
                .offers = TAGS("Webdesign", "SEO"), .n_offers = 2,
                .seeks = TAGS("Steuerberatung"), .n_seeks = 1});
    b = add(r, &(struct att_profile){.id = "b",
                .offers = TAGS("steuerberatung"), .n_offers = 1,
                .seeks = TAGS("WEBDESIGN", "Catering"), .n_seeks = 2});
    c = add(r, &(struct att_profile){.id = "c",
                .seeks = TAGS("seo", "Webdesign"), .n_seeks = 2});
    aff_weights_default(&w);
    m = aff_model_new(r, &w);
    assert_near(aff_score(m, a, b), AFF_DEFAULT_BUSINESS * 1.375 * 1.25);
    assert_near(aff_score(m, a, c), AFF_DEFAULT_BUSINESS * 1.375 * 1.25);
    assert_near(aff_score(m, b, c), 0.0);
    assert_true(aff_business(m, a, b) && aff_business(m, c, a));
    assert_false(aff_business(m, b, c) || aff_shares_interest(m, a, b));
    aff_explain(m, a, b, &parts);
    assert_int_equal(parts.a_offers_b_seeks, 1);
    assert_int_equal(parts.b_offers_a_seeks, 1);
    aff_explain(m, c, a, &parts);
    assert_int_equal(parts.a_offers_b_seeks, 0);
    assert_int_equal(parts.b_offers_a_seeks, 2);
    assert_near(parts.business, AFF_DEFAULT_BUSINESS * 1.375 * 1.25);
    aff_model_free(m);

    w.business = 0.5;
    m = aff_model_new(r, &w);
    assert_near(aff_score(m, a, c), 0.5 * 1.375 * 1.25);
    aff_model_free(m);
    roster_free(r);
}

/* A table's score is the sum over its pairs, whatever the seat order.
 * a has 2 possible contacts (s = 1.5), b and c one each (s = 2). */
static void test_table_score(void **state)
{
    struct roster *r = roster_new();
    struct aff_weights w;
    struct aff_model *m;
    uint32_t abc[3], cba[3];

    (void)state;
    abc[0] = add(r, &(struct att_profile){.id = "a",
                     .offers = TAGS("Webdesign"), .n_offers = 1});
    abc[1] = add(r, &(struct att_profile){.id = "b",
                     .seeks = TAGS("webdesign"), .n_seeks = 1});
    abc[2] = add(r, &(struct att_profile){.id = "c",
                     .seeks = TAGS("Webdesign"), .n_seeks = 1});
    cba[0] = abc[2];
    cba[1] = abc[1];
    cba[2] = abc[0];
    aff_weights_default(&w);
    m = aff_model_new(r, &w);
    assert_near(aff_table_score(m, abc, 3), 2 * AFF_DEFAULT_BUSINESS * 1.75);
    assert_near(aff_table_score(m, cba, 3), 2 * AFF_DEFAULT_BUSINESS * 1.75);
    assert_near(aff_table_score(m, abc + 1, 2), 0.0);
    assert_near(aff_table_score(m, abc, 1), 0.0);
    aff_model_free(m);
    roster_free(r);
}

static void test_same_company(void **state)
{
    struct roster *r = roster_new();
    struct aff_weights w;
    struct aff_model *m;
    struct aff_parts parts;
    uint32_t a, b, c, d;

    (void)state;
    a = add(r, &(struct att_profile){.id = "a", .company = "Müller GmbH",
                .interests = TAGS("Jazz"), .n_interests = 1});
    b = add(r, &(struct att_profile){.id = "b", .company = "MÜLLER GMBH ",
                .interests = TAGS("Jazz"), .n_interests = 1});
    c = add(r, &(struct att_profile){.id = "c", .company = "Other",
                .interests = TAGS("Jazz"), .n_interests = 1});
    d = add(r, &(struct att_profile){.id = "d",
                .interests = TAGS("Jazz"), .n_interests = 1});
    aff_weights_default(&w);
    m = aff_model_new(r, &w);
    /* Everyone lists Jazz: weight 1. */
    assert_near(aff_score(m, a, c), 1.0);
    assert_near(aff_score(m, a, b), 1.0 + AFF_DEFAULT_SAME_COMPANY);
    aff_explain(m, b, a, &parts);
    assert_near(parts.same_company, AFF_DEFAULT_SAME_COMPANY);
    /* No company on either side is not "the same company". */
    assert_near(aff_score(m, d, d), 1.0);
    aff_model_free(m);

    w.same_company = -1.25;
    m = aff_model_new(r, &w);
    assert_near(aff_score(m, a, b), 1.0 - 1.25);
    aff_model_free(m);
    roster_free(r);
}

/* More than 64 tags: signature bits collide, matches must still count. */
static void test_many_tags(void **state)
{
    const char *many[100];
    char names[100][8];
    struct roster *r = roster_new();
    struct aff_weights w;
    struct aff_model *m;
    uint32_t a, b, c, i;

    (void)state;
    for (i = 0; i < 100; i++) {
        snprintf(names[i], sizeof(names[i]), "t%u", i);
        many[i] = names[i];
    }
    a = add(r, &(struct att_profile){.id = "a", .interests = many,
                .n_interests = 100, .offers = many, .n_offers = 100});
    /* t64 and t0 share a signature bit; so do t99 and t35. */
    b = add(r, &(struct att_profile){.id = "b",
                .interests = TAGS("t64", "t99"), .n_interests = 2,
                .seeks = TAGS("t0", "t99"), .n_seeks = 2});
    c = add(r, &(struct att_profile){.id = "c",
                .interests = TAGS("x128"), .n_interests = 1,
                .seeks = TAGS("x64"), .n_seeks = 1});
    aff_weights_default(&w);
    m = aff_model_new(r, &w);
    /* N = 3, t64 and t99 each listed by 2: the second counts a quarter.
     * a offers t0 and t99, which b seeks: fit 1.25; both have 2 possible
     * contacts, so scarcity 1.5. */
    assert_near(aff_score(m, a, b),
                1.25 * rarity(3.0, 2.0) + AFF_DEFAULT_BUSINESS * 1.5 * 1.25);
    assert_near(aff_score(m, b, a), aff_score(m, a, b));
    assert_near(aff_score(m, a, c), 0.0);
    aff_model_free(m);
    roster_free(r);
}

/* Past AFF_BITS_MAX interests the model walks sorted arrays instead of
 * bitsets: the same scores either way. */
static void test_large_vocabulary(void **state)
{
    static char names[400][8];
    const char *tags[400];
    struct roster *r = roster_new();
    struct aff_weights w;
    struct aff_model *m;
    uint32_t a, b, c;

    (void)state;
    for (uint32_t i = 0; i < 400; i++) {
        snprintf(names[i], sizeof(names[i]), "h%u", i);
        tags[i] = names[i];
    }
    /* a lists h0..h199, b h150..h349, c h300..h399: 400 tags, N = 3. */
    a = add(r, &(struct att_profile){.id = "a", .interests = tags,
                .n_interests = 200, .offers = TAGS("Recht"), .n_offers = 1});
    b = add(r, &(struct att_profile){.id = "b", .interests = tags + 150,
                .n_interests = 200, .seeks = TAGS("recht"), .n_seeks = 1});
    c = add(r, &(struct att_profile){.id = "c", .interests = tags + 300,
                .n_interests = 100});
    aff_weights_default(&w);
    m = aff_model_new(r, &w);
    /* a and b share h150..h199, each listed by 2: the rarest counts
     * fully, 49 more a quarter each; one contact each side: scarcity 2. */
    assert_near(aff_score(m, a, b), rarity(3.0, 2.0) * (1 + 0.25 * 49) +
                                        AFF_DEFAULT_BUSINESS * 2.0);
    assert_near(aff_score(m, b, c), rarity(3.0, 2.0) * (1 + 0.25 * 49));
    assert_near(aff_score(m, a, c), 0.0);
    assert_false(aff_linked(m, a, c));
    assert_true(aff_business(m, b, a) && !aff_business(m, b, c));
    aff_model_free(m);
    roster_free(r);
}

/* The reason fixture: eight people, N = 8.
 * df: Jazz 3, Golf 3, Segeln 3, Kochen 2. */
static struct roster *reason_roster(void)
{
    struct roster *r = roster_new();

    add(r, &(struct att_profile){.id = "anna", .name = "Anna Becker",
            .company = "B2BSoMe", .interests = TAGS("Jazz"), .n_interests = 1,
            .offers = TAGS("Webdesign"), .n_offers = 1,
            .seeks = TAGS("SEO"), .n_seeks = 1});
    add(r, &(struct att_profile){.id = "ben", .name = "Ben Ott",
            .company = "Acme", .interests = TAGS("Golf"), .n_interests = 1,
            .seeks = TAGS("webdesign", "Steuerberatung"), .n_seeks = 2});
    add(r, &(struct att_profile){.id = "clara", .name = "Clara Wu",
            .interests = TAGS("Segeln", "jazz", "Kochen"), .n_interests = 3});
    add(r, &(struct att_profile){.id = "dora", .name = "Dora Kim",
            .interests = TAGS("segeln", "KOCHEN"), .n_interests = 2});
    add(r, &(struct att_profile){.id = "emil", .name = "Emil",
            .interests = TAGS("JAZZ"), .n_interests = 1});
    add(r, &(struct att_profile){.id = "frank", .name = "Frank Roth",
            .company = "ACME", .interests = TAGS("golf"), .n_interests = 1,
            .offers = TAGS("Steuerberatung"), .n_offers = 1});
    add(r, &(struct att_profile){.id = "greta", .name = "Greta Hahn",
            .company = " acme ", .interests = TAGS("Golf"), .n_interests = 1,
            .seeks = TAGS("Webdesign"), .n_seeks = 1});
    add(r, &(struct att_profile){.id = "anna2", .name = "Anna Schmidt",
            .interests = TAGS("Segeln"), .n_interests = 1});
    return r;
}

static void assert_reason(const struct aff_model *m, const struct roster *r,
                          const char *const *ids, size_t n, const char *want)
{
    uint32_t members[16];
    char buf[512];
    size_t i, len;

    for (i = 0; i < n; i++)
        assert_int_equal(roster_find(r, ids[i], &members[i]), 0);
    len = aff_table_reason(m, members, n, buf, sizeof(buf));
    assert_string_equal(buf, want);
    assert_int_equal(len, strlen(want));
}

#define REASON(m, r, want, ...) \
    assert_reason(m, r, TAGS(__VA_ARGS__), N_TAGS(__VA_ARGS__), want)

/* "Dr." is no given name: a title keeps the whole name. */
static void test_reason_title(void **state)
{
    struct roster *r = roster_new();
    struct aff_weights w;
    struct aff_model *m;

    (void)state;
    add(r, &(struct att_profile){.id = "kv", .name = "Dr. Katrin Vogel",
            .offers = TAGS("Steuerberatung"), .n_offers = 1});
    add(r, &(struct att_profile){.id = "bo", .name = "Ben Ott",
            .seeks = TAGS("Steuerberatung"), .n_seeks = 1});
    aff_weights_default(&w);
    m = aff_model_new(r, &w);
    REASON(m, r, "Dr. Katrin Vogel offers Steuerberatung, which Ben seeks",
           "kv", "bo");
    aff_model_free(m);
    roster_free(r);
}

/* Three business matches and a shared interest: the interest keeps a slot. */
static void test_reason_keeps_smalltalk(void **state)
{
    struct roster *r = roster_new();
    struct aff_weights w;
    struct aff_model *m;

    (void)state;
    add(r, &(struct att_profile){.id = "a", .name = "Anna Becker",
            .interests = TAGS("Golf"), .n_interests = 1,
            .offers = TAGS("Webdesign", "SEO", "Texte"), .n_offers = 3});
    add(r, &(struct att_profile){.id = "b", .name = "Ben Ott",
            .interests = TAGS("golf"), .n_interests = 1,
            .seeks = TAGS("webdesign", "seo", "texte"), .n_seeks = 3});
    add(r, &(struct att_profile){.id = "c", .name = "Clara Wu"});
    aff_weights_default(&w);
    m = aff_model_new(r, &w);
    REASON(m, r,
           "Anna offers Webdesign, which Ben seeks \u00b7 "
           "Anna offers SEO, which Ben seeks \u00b7 Anna and Ben: Golf",
           "a", "b");
    aff_model_free(m);
    roster_free(r);
}

static void test_reasons(void **state)
{
    struct roster *r = reason_roster();
    struct aff_weights w;
    struct aff_model *m;

    (void)state;
    aff_weights_default(&w);
    m = aff_model_new(r, &w);
    /* Business first; Kochen (rarest) leads the interests and Segeln
     * joins it because the same two people share it. */
    REASON(m, r,
           "Anna offers Webdesign, which Ben seeks \u00b7 "
           "Clara and Dora: Kochen, Segeln \u00b7 Anna and Clara: Jazz",
           "anna", "ben", "clara", "dora");
    REASON(m, r,
           "Anna offers Webdesign, which Ben seeks \u00b7 "
           "Anna, Clara and Emil: Jazz",
           "anna", "clara", "emil", "ben");
    /* People are named in table order. */
    REASON(m, r, "Anna offers Webdesign, which Greta and Ben seek",
           "greta", "anna", "ben");
    /* Two Annas: the full name tells them apart. */
    REASON(m, r, "Anna Schmidt and Dora: Segeln", "anna", "anna2", "dora");
    /* Colleagues need no introduction, not even with a fit. */
    REASON(m, r, "", "ben", "frank");
    REASON(m, r, "", "ben", "frank", "greta");
    REASON(m, r, "", "frank", "clara");
    REASON(m, r, "", "anna");
    aff_model_free(m);

    /* Facts the weights ignore are not reasons either. */
    w.business = 0.0;
    m = aff_model_new(r, &w);
    REASON(m, r, "Clara and Dora: Kochen, Segeln \u00b7 Anna and Clara: Jazz",
           "anna", "ben", "clara", "dora");
    aff_model_free(m);
    roster_free(r);
}

static void test_reason_truncates(void **state)
{
    struct roster *r = reason_roster();
    struct aff_weights w;
    struct aff_model *m;
    uint32_t members[4];
    const char *ids[] = {"anna", "ben", "clara", "dora"};
    const char *head = "Anna offers Webdesign, which Ben seeks";
    char buf[64];
    size_t i, len;

    (void)state;
    for (i = 0; i < 4; i++)
        assert_int_equal(roster_find(r, ids[i], &members[i]), 0);
    aff_weights_default(&w);
    m = aff_model_new(r, &w);
    /* Room for the head, its space and the first byte of U+00B7 only. */
    memset(buf, 'X', sizeof(buf));
    len = aff_table_reason(m, members, 4, buf, strlen(head) + 3);
    assert_int_equal(len, strlen(head) + 1);
    assert_memory_equal(buf, head, strlen(head));
    assert_string_equal(buf + strlen(head), " ");
    /* Room for U+00B7 but not the space after it. */
    len = aff_table_reason(m, members, 4, buf, strlen(head) + 4);
    assert_int_equal(len, strlen(head) + 3);
    assert_string_equal(buf + strlen(head), " \u00b7");
    len = aff_table_reason(m, members, 4, buf, strlen(head) + 5);
    assert_int_equal(len, strlen(head) + 4);
    assert_string_equal(buf + strlen(head), " \u00b7 ");
    len = aff_table_reason(m, members, 4, buf, 1);
    assert_int_equal(len, 0);
    assert_string_equal(buf, "");
    aff_model_free(m);
    roster_free(r);
}

/* Over every pair of the fixture: symmetric, and the parts add up. */
static void test_symmetric_and_parts(void **state)
{
    struct roster *r = reason_roster();
    struct aff_weights w = {.interests = 1.5, .business = 3.0,
                            .same_company = -2.0};
    struct aff_model *m = aff_model_new(r, &w);
    uint32_t a, b, n = roster_count(r);

    (void)state;
    for (a = 0; a < n; a++) {
        for (b = 0; b < n; b++) {
            struct aff_parts p, q;
            double s = aff_score(m, a, b);

            assert_true(s == aff_score(m, b, a));
            aff_explain(m, a, b, &p);
            aff_explain(m, b, a, &q);
            assert_true(p.total == s);
            assert_near(p.interests + p.business + p.same_company, p.total);
            assert_int_equal(p.a_offers_b_seeks, q.b_offers_a_seeks);
            assert_int_equal(p.shared_interests, q.shared_interests);
            assert_true((p.business > 0) ==
                        (p.a_offers_b_seeks + p.b_offers_a_seeks > 0));
            assert_true(aff_business(m, a, b) == (p.business > 0));
            assert_true(aff_shares_interest(m, a, b) ==
                        (p.shared_interests > 0));
            assert_true(aff_linked(m, a, b) ==
                        (p.business > 0 || p.shared_interests > 0));
        }
    }
    aff_model_free(m);
    roster_free(r);
}

/* Diminishing returns: three hobbies everyone lists make 1.5, below one
 * business contact (2 at least); a second service adds a quarter. */
static void test_diminishing(void **state)
{
    struct roster *r = roster_new();
    struct aff_weights w;
    struct aff_model *m;
    uint32_t a, b, c, d;

    (void)state;
    a = add(r, &(struct att_profile){.id = "a",
                .interests = TAGS("Golf", "Jazz", "Segeln"), .n_interests = 3,
                .offers = TAGS("SEO", "Webdesign"), .n_offers = 2});
    b = add(r, &(struct att_profile){.id = "b",
                .interests = TAGS("Golf", "Jazz", "Segeln"), .n_interests = 3,
                .seeks = TAGS("SEO", "Webdesign"), .n_seeks = 2});
    c = add(r, &(struct att_profile){.id = "c",
                .interests = TAGS("Golf", "Jazz", "Segeln"), .n_interests = 3,
                .seeks = TAGS("SEO"), .n_seeks = 1});
    d = add(r, &(struct att_profile){.id = "d",
                .interests = TAGS("Golf", "Jazz", "Segeln"), .n_interests = 3});
    aff_weights_default(&w);
    m = aff_model_new(r, &w);
    assert_near(aff_score(m, c, d), 1.5);
    assert_true(aff_linked(m, c, d) && !aff_business(m, c, d));
    /* Contacts: a 3 (s = 4/3), b 2 (1.5), c 1 (2). */
    assert_near(aff_score(m, a, b), 1.5 + 2 * (4.0 / 3 + 1.5) / 2 * 1.25);
    assert_near(aff_score(m, a, c), 1.5 + 2 * (4.0 / 3 + 2.0) / 2);
    assert_near(aff_lonely_penalty(m), 2.0);
    aff_model_free(m);
    w.interests = -1;
    m = aff_model_new(r, &w);
    assert_near(aff_lonely_penalty(m), 1.0);
    aff_model_free(m);
    roster_free(r);
}

/* A subset scores like its parent and survives the roster. */
static void test_subset(void **state)
{
    struct roster *r = reason_roster();
    struct aff_weights w;
    struct aff_model *m, *sub;
    uint32_t people[] = {6, 1, 0, 5, 2}, n = 5, i, j;
    double want[5][5];
    char buf[64];

    (void)state;
    aff_weights_default(&w);
    m = aff_model_new(r, &w);
    sub = aff_model_subset(m, people, n);
    assert_non_null(sub);
    assert_int_equal(aff_model_count(sub), n);
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++)
            want[i][j] = aff_score(m, people[i], people[j]);
    aff_model_free(m);
    roster_free(r);
    for (i = 0; i < n; i++) {
        for (j = 0; j < n; j++) {
            assert_true(aff_score(sub, i, j) == want[i][j]);
            assert_true(aff_linked(sub, i, j) == aff_linked(sub, j, i));
        }
    }
    assert_int_equal(aff_table_reason(sub, (uint32_t[]){0, 1, 2}, 3, buf,
                                      sizeof buf), 0);
    aff_model_free(sub);
    aff_model_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rarer_weighs_more),
        cmocka_unit_test(test_rarity_live_only),
        cmocka_unit_test(test_business_both_ways),
        cmocka_unit_test(test_table_score),
        cmocka_unit_test(test_same_company),
        cmocka_unit_test(test_many_tags),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_reason_title),
        cmocka_unit_test(test_reason_keeps_smalltalk),
        cmocka_unit_test(test_reason_truncates),
        cmocka_unit_test(test_symmetric_and_parts),
        cmocka_unit_test(test_diminishing),
        cmocka_unit_test(test_subset),
        cmocka_unit_test(test_large_vocabulary),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
