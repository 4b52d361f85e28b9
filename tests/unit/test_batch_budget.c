/* test_batch_budget.c -- the estimate of what follows the search: it
 * scales with the rounds and spares what a format does not print. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "affinity.h"
#include "batch_budget.h"
#include "roster.h"

#define PEOPLE 240

struct fix {
    struct roster *r;
    struct aff_model *aff;
    uint32_t people[PEOPLE];
};

static void fix_open(struct fix *f)
{
    static const char *const hobbies[] = {"Segeln", "Jazz", "Schach",
                                          "Laufen", "Kochen"};
    static const char *const services[] = {"Webdesign", "Steuern", "Recht"};
    struct aff_weights w;

    f->r = roster_new();
    assert_non_null(f->r);
    for (uint32_t i = 0; i < PEOPLE; i++) {
        char id[16], name[32];
        snprintf(id, sizeof(id), "p%u", i);
        snprintf(name, sizeof(name), "Person %u", i);
        const char *interests[] = {hobbies[i % 5], hobbies[(i / 5) % 5]};
        const struct att_profile p = {
            .id = id, .name = name,
            .interests = interests, .n_interests = 2,
            .offers = &services[i % 3], .n_offers = 1,
            .seeks = &services[(i + 1) % 3], .n_seeks = 1,
        };
        assert_int_equal(roster_upsert(f->r, &p, &f->people[i]), 0);
    }
    aff_weights_default(&w);
    f->aff = aff_model_new(f->r, &w);
    assert_non_null(f->aff);
}

static void fix_close(struct fix *f)
{
    aff_model_free(f->aff);
    roster_free(f->r);
}

static uint32_t estimate(const struct fix *f, uint32_t rounds,
                         enum out_format fmt)
{
    const struct batch_budget_in in = {
        .aff = f->aff, .roster = f->r, .people = f->people, .n = PEOPLE,
        .table_size = 8, .rounds = rounds, .threads = 1, .format = fmt,
    };
    return batch_finish_estimate_ms(&in);
}

static void test_scales_with_rounds(void **state)
{
    struct fix f;
    (void)state;
    fix_open(&f);
    /* One round costs well under a millisecond; 20,000 of them, a
     * thousand times over what one does, can't hide in the noise. */
    uint32_t many = estimate(&f, 20000, OUT_JSON);
    assert_true(many > 0);
    assert_true(many > 100 * estimate(&f, 1, OUT_JSON));
    assert_int_equal(estimate(&f, 0, OUT_JSON), 0);
    fix_close(&f);
}

static void test_csv_spares_the_reasons(void **state)
{
    struct fix f;
    (void)state;
    fix_open(&f);
    /* Reasons, scores and the quality figures are most of the work. */
    uint32_t json = estimate(&f, 20000, OUT_JSON);
    uint32_t csv = estimate(&f, 20000, OUT_CSV);
    assert_true(csv < json);
    fix_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scales_with_rounds),
        cmocka_unit_test(test_csv_spares_the_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
