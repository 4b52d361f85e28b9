/* test_roster.c -- attendees, ids, tombstones and interest frequencies. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "roster.h"

static uint32_t tag_id(const struct roster *r, const char *tag)
{
    uint32_t id = UINT32_MAX;

    assert_int_equal(vocab_find(roster_vocab(r), tag, strlen(tag), &id), 0);
    return id;
}

static uint32_t df_of(const struct roster *r, const char *tag)
{
    return roster_interest_df(r, tag_id(r, tag));
}

static void test_check_id(void **state)
{
    char id65[66];

    (void)state;
    memset(id65, 'x', sizeof(id65));
    id65[65] = '\0';
    assert_int_equal(roster_check_id(id65), -EINVAL);
    id65[64] = '\0';
    assert_int_equal(roster_check_id(id65), 0);
    assert_int_equal(roster_check_id("anna"), 0);
    assert_int_equal(roster_check_id("j\xc3\xbcrgen-2"), 0);
    assert_int_equal(roster_check_id(""), -EINVAL);
    assert_int_equal(roster_check_id(NULL), -EINVAL);
    assert_int_equal(roster_check_id("an na"), -EINVAL);
    assert_int_equal(roster_check_id("anna\t"), -EINVAL);
    assert_int_equal(roster_check_id("an\x01na"), -EINVAL);
    assert_int_equal(roster_check_id("an\x7fna"), -EINVAL);
    assert_int_equal(roster_check_id("an\xc2\x85na"), -EINVAL);  /* C1 NEL */
    assert_int_equal(roster_check_id("an\xc2\xa0na"), -EINVAL);  /* NBSP */
    assert_int_equal(roster_check_id("an\xffna"), -EINVAL);
    assert_int_equal(roster_check_id("an\xc3"), -EINVAL);
}

static void test_upsert_and_get(void **state)
{
    const char *interests[] = {"Jazz", " Fußball ", "FUSSBALL", "jazz"};
    const char *offers[] = {"Webdesign"};
    const char *seeks[] = {"Steuerberatung", "SEO"};
    const struct att_profile p = {
        .id = "anna", .name = " Anna Becker ", .company = "B2BSoMe",
        .industry = "Marketing", .interests = interests, .n_interests = 4,
        .offers = offers, .n_offers = 1, .seeks = seeks, .n_seeks = 2};
    struct roster *r = roster_new();
    const struct attendee *a;
    uint32_t idx = 99, found;

    (void)state;
    assert_non_null(r);
    assert_int_equal(roster_upsert(r, &p, &idx), 0);
    assert_int_equal(idx, 0);
    assert_int_equal(roster_count(r), 1);
    assert_int_equal(roster_live(r), 1);
    a = roster_get(r, idx);
    assert_string_equal(a->id, "anna");
    assert_string_equal(a->name, "Anna Becker");
    assert_string_equal(a->company, "B2BSoMe");
    assert_string_equal(a->industry, "Marketing");
    assert_false(a->removed);
    /* Duplicates collapse after folding. */
    assert_int_equal(a->interests.n, 2);
    assert_int_equal(a->offers.n, 1);
    assert_int_equal(a->seeks.n, 2);
    assert_true(tagset_has(&a->interests, tag_id(r, "fussball")));
    assert_true(tagset_has(&a->seeks, tag_id(r, "seo")));
    assert_int_equal(a->company_tag, tag_id(r, "b2bsome"));
    assert_int_equal(roster_find(r, "anna", &found), 0);
    assert_int_equal(found, 0);
    assert_int_equal(roster_find(r, "ben", &found), -ENOENT);
    assert_int_equal(df_of(r, "Jazz"), 1);
    assert_int_equal(roster_interest_df(r, tag_id(r, "webdesign")), 0);
    roster_free(r);
    roster_free(NULL);
}

static void test_defaults(void **state)
{
    const struct att_profile p = {.id = "ben", .name = "  "};
    struct roster *r = roster_new();
    const struct attendee *a;
    uint32_t idx;

    (void)state;
    assert_int_equal(roster_upsert(r, &p, &idx), 0);
    a = roster_get(r, idx);
    assert_string_equal(a->name, "ben");
    assert_null(a->company);
    assert_null(a->industry);
    assert_int_equal(a->company_tag, ATT_NO_COMPANY);
    assert_int_equal(a->interests.n, 0);
    assert_int_equal(roster_upsert(r, &p, NULL), 0);
    assert_int_equal(roster_count(r), 1);
    roster_free(r);
}

static void test_company_folds(void **state)
{
    const struct att_profile a = {.id = "a", .company = "Müller GmbH"};
    const struct att_profile b = {.id = "b", .company = " MÜLLER GMBH"};
    struct roster *r = roster_new();
    uint32_t ia, ib;

    (void)state;
    assert_int_equal(roster_upsert(r, &a, &ia), 0);
    assert_int_equal(roster_upsert(r, &b, &ib), 0);
    assert_int_equal(roster_get(r, ia)->company_tag,
                     roster_get(r, ib)->company_tag);
    assert_string_equal(roster_get(r, ib)->company, "MÜLLER GMBH");
    roster_free(r);
}

/* The rules roster_upsert() applies, callable on their own so that
 * loaders can check a profile before anything is interned. */
static void test_text_and_tag_rules(void **state)
{
    const char *ok[] = {" Jazz ", "Fu\xc3\x9f" "ball"};
    const char *blank[] = {"Jazz", "\xc2\xa0"};
    const char *ctrl[] = {"Ja\tzz"};
    const char *many[ATT_TAGS_MAX + 1];
    size_t i;

    (void)state;
    assert_true(roster_text_ok("Anna Becker", 11));
    assert_true(roster_text_ok("J\xc3\xbcrgen", 7));
    assert_true(roster_text_ok(NULL, 0));
    assert_false(roster_text_ok("An\0na", 5));          /* NUL inside */
    assert_false(roster_text_ok("An\x7fna", 5));
    assert_false(roster_text_ok("An\xc2\x85na", 6));    /* C1 NEL */
    assert_false(roster_text_ok("An\xc3", 3));          /* cut UTF-8 */
    for (i = 0; i <= ATT_TAGS_MAX; i++)
        many[i] = "Jazz";
    assert_int_equal(roster_check_tags(ok, 2), 0);
    assert_int_equal(roster_check_tags(NULL, 0), 0);
    assert_int_equal(roster_check_tags(NULL, 1), -EINVAL);
    assert_int_equal(roster_check_tags(blank, 2), -EINVAL);
    assert_int_equal(roster_check_tags(ctrl, 1), -EINVAL);
    assert_int_equal(roster_check_tags(many, ATT_TAGS_MAX), 0);
    assert_int_equal(roster_check_tags(many, ATT_TAGS_MAX + 1), -EINVAL);
}

static void test_rejects(void **state)
{
    const char *blank[] = {"Jazz", "  "};
    const char *ctrl[] = {"Ja\nzz"};
    const char *bad_utf8[] = {"Ja\xffzz"};
    const char *null_tag[] = {NULL};
    const char *many[ATT_TAGS_MAX + 1];
    char long_text[ATT_TEXT_MAX_BYTES + 2];
    struct att_profile p = {.id = "anna", .name = "Anna"};
    struct roster *r = roster_new();
    const struct attendee *a;
    uint32_t idx, vocab_before;
    size_t i;

    (void)state;
    assert_int_equal(roster_upsert(r, &p, &idx), 0);
    vocab_before = vocab_count(roster_vocab(r));
    memset(long_text, 'x', sizeof(long_text));
    long_text[ATT_TEXT_MAX_BYTES + 1] = '\0';
    for (i = 0; i <= ATT_TAGS_MAX; i++)
        many[i] = "Jazz";

    p.name = "Anna\x01";
    assert_int_equal(roster_upsert(r, &p, NULL), -EINVAL);
    p.name = "Anna\nBecker";
    assert_int_equal(roster_upsert(r, &p, NULL), -EINVAL);
    p.name = "Anna \xc3";
    assert_int_equal(roster_upsert(r, &p, NULL), -EINVAL);
    p.name = long_text;
    assert_int_equal(roster_upsert(r, &p, NULL), -EINVAL);
    long_text[ATT_TEXT_MAX_BYTES] = '\0';
    assert_int_equal(roster_upsert(r, &p, NULL), 0);
    p.name = "Anna";
    p.company = "\x1b[31mevil";
    assert_int_equal(roster_upsert(r, &p, NULL), -EINVAL);
    p.company = NULL;
    p.interests = blank;
    p.n_interests = 2;
    assert_int_equal(roster_upsert(r, &p, NULL), -EINVAL);
    p.interests = ctrl;
    p.n_interests = 1;
    assert_int_equal(roster_upsert(r, &p, NULL), -EINVAL);
    p.interests = bad_utf8;
    assert_int_equal(roster_upsert(r, &p, NULL), -EINVAL);
    p.interests = null_tag;
    assert_int_equal(roster_upsert(r, &p, NULL), -EINVAL);
    p.interests = NULL;
    p.n_interests = 0;
    p.offers = many;
    p.n_offers = ATT_TAGS_MAX + 1;
    assert_int_equal(roster_upsert(r, &p, NULL), -EINVAL);
    p.n_offers = ATT_TAGS_MAX;
    p.seeks = blank;
    p.n_seeks = 2;
    assert_int_equal(roster_upsert(r, &p, NULL), -EINVAL);
    p.id = "an na";
    p.seeks = NULL;
    p.n_seeks = 0;
    assert_int_equal(roster_upsert(r, &p, NULL), -EINVAL);

    /* Nothing changed: the profile from before and no new tags. */
    assert_int_equal(roster_count(r), 1);
    a = roster_get(r, idx);
    assert_int_equal(strlen(a->name), ATT_TEXT_MAX_BYTES);
    assert_int_equal(a->offers.n, 0);
    assert_int_equal(vocab_count(roster_vocab(r)), vocab_before);
    roster_free(r);
}

static void test_replace_and_remove_df(void **state)
{
    const char *jazz_golf[] = {"Jazz", "Golf"};
    const char *jazz[] = {"JAZZ"};
    const char *segeln[] = {"Segeln"};
    struct att_profile a = {.id = "anna", .interests = jazz_golf,
                            .n_interests = 2};
    struct att_profile b = {.id = "ben", .interests = jazz, .n_interests = 1};
    struct roster *r = roster_new();
    uint32_t ia, ib, again;

    (void)state;
    assert_int_equal(roster_upsert(r, &a, &ia), 0);
    assert_int_equal(roster_upsert(r, &b, &ib), 0);
    assert_int_equal(ib, 1);
    assert_int_equal(df_of(r, "jazz"), 2);
    assert_int_equal(df_of(r, "golf"), 1);

    a.interests = segeln;
    a.n_interests = 1;
    assert_int_equal(roster_upsert(r, &a, &again), 0);
    assert_int_equal(again, ia);
    assert_int_equal(roster_count(r), 2);
    assert_int_equal(df_of(r, "jazz"), 1);
    assert_int_equal(df_of(r, "golf"), 0);
    assert_int_equal(df_of(r, "segeln"), 1);

    assert_int_equal(roster_remove(r, "ben"), 0);
    assert_int_equal(roster_live(r), 1);
    assert_int_equal(roster_count(r), 2);
    assert_true(roster_get(r, ib)->removed);
    assert_int_equal(df_of(r, "jazz"), 0);
    /* Removing twice changes nothing; unknown ids are -ENOENT. */
    assert_int_equal(roster_remove(r, "ben"), 0);
    assert_int_equal(roster_live(r), 1);
    assert_int_equal(df_of(r, "jazz"), 0);
    assert_int_equal(roster_remove(r, "carl"), -ENOENT);
    /* A removed attendee is still found, under the same index. */
    assert_int_equal(roster_find(r, "ben", &again), 0);
    assert_int_equal(again, ib);

    /* Upserting revives the tombstone in place. */
    assert_int_equal(roster_upsert(r, &b, &again), 0);
    assert_int_equal(again, ib);
    assert_false(roster_get(r, ib)->removed);
    assert_int_equal(roster_live(r), 2);
    assert_int_equal(df_of(r, "jazz"), 1);
    roster_free(r);
}

/* Many attendees: the id table and the pointer array grow, and an
 * attendee's address survives the growth. */
static void test_many(void **state)
{
    struct roster *r = roster_new();
    const struct attendee *first;
    char id[32];
    uint32_t i, idx;

    (void)state;
    for (i = 0; i < 5000; i++) {
        struct att_profile p = {.id = id};

        snprintf(id, sizeof(id), "att-%u", i);
        assert_int_equal(roster_upsert(r, &p, &idx), 0);
        assert_int_equal(idx, i);
        if (i == 0)
            first = roster_get(r, 0);
    }
    assert_ptr_equal(roster_get(r, 0), first);
    assert_int_equal(roster_live(r), 5000);
    for (i = 0; i < 5000; i += 13) {
        snprintf(id, sizeof(id), "att-%u", i);
        assert_int_equal(roster_find(r, id, &idx), 0);
        assert_int_equal(idx, i);
    }
    roster_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_id),
        cmocka_unit_test(test_upsert_and_get),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_company_folds),
        cmocka_unit_test(test_text_and_tag_rules),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_replace_and_remove_df),
        cmocka_unit_test(test_many),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
