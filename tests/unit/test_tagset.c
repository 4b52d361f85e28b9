/* test_tagset.c -- sorted unique id arrays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tagset.h"

static void test_init_sorts_and_dedups(void **state)
{
    const uint32_t ids[] = {9, 3, 7, 3, 9, 1, 7};
    const uint32_t want[] = {1, 3, 7, 9};
    struct tagset s;
    uint32_t i;

    (void)state;
    assert_int_equal(tagset_init(&s, ids, 7), 0);
    assert_int_equal(s.n, 4);
    for (i = 0; i < s.n; i++)
        assert_int_equal(s.ids[i], want[i]);
    tagset_clear(&s);
    assert_null(s.ids);
    assert_int_equal(s.n, 0);
}

static void test_empty(void **state)
{
    const uint32_t ids[] = {1, 2};
    struct tagset e, s;

    (void)state;
    assert_int_equal(tagset_init(&e, NULL, 0), 0);
    assert_null(e.ids);
    assert_int_equal(e.n, 0);
    assert_false(tagset_has(&e, 0));
    assert_int_equal(tagset_init(&s, ids, 2), 0);
    assert_int_equal(tagset_common(&e, &s), 0);
    assert_int_equal(tagset_common(&s, &e), 0);
    tagset_clear(&e);
    tagset_clear(&e);
    tagset_clear(&s);
}

static void test_has(void **state)
{
    const uint32_t ids[] = {0, 5, 10, 15, UINT32_MAX - 1};
    struct tagset s;

    (void)state;
    assert_int_equal(tagset_init(&s, ids, 5), 0);
    assert_true(tagset_has(&s, 0));
    assert_true(tagset_has(&s, 10));
    assert_true(tagset_has(&s, UINT32_MAX - 1));
    assert_false(tagset_has(&s, 1));
    assert_false(tagset_has(&s, 11));
    assert_false(tagset_has(&s, UINT32_MAX));
    tagset_clear(&s);
}

static void test_common(void **state)
{
    const uint32_t a_ids[] = {1, 2, 4, 8, 16, 32};
    const uint32_t b_ids[] = {32, 3, 4, 5, 16, 64};
    struct tagset a, b;

    (void)state;
    assert_int_equal(tagset_init(&a, a_ids, 6), 0);
    assert_int_equal(tagset_init(&b, b_ids, 6), 0);
    assert_int_equal(tagset_common(&a, &b), 3);
    assert_int_equal(tagset_common(&b, &a), 3);
    assert_int_equal(tagset_common(&a, &a), 6);
    tagset_clear(&a);
    tagset_clear(&b);
}

struct collect {
    uint32_t ids[8];
    uint32_t n;
    uint32_t stop_at; /* return non-zero after this many calls */
};

static int collect_fn(uint32_t id, void *ctx)
{
    struct collect *c = ctx;

    c->ids[c->n++] = id;
    return c->n == c->stop_at ? 42 : 0;
}

static void test_foreach_common(void **state)
{
    const uint32_t a_ids[] = {7, 1, 3, 5, 9};
    const uint32_t b_ids[] = {9, 2, 3, 7, 8};
    struct tagset a, b;
    struct collect all = {.stop_at = 0}, some = {.stop_at = 2};

    (void)state;
    assert_int_equal(tagset_init(&a, a_ids, 5), 0);
    assert_int_equal(tagset_init(&b, b_ids, 5), 0);
    assert_int_equal(tagset_foreach_common(&a, &b, collect_fn, &all), 0);
    assert_int_equal(all.n, 3);
    assert_int_equal(all.ids[0], 3);
    assert_int_equal(all.ids[1], 7);
    assert_int_equal(all.ids[2], 9);
    assert_int_equal(tagset_foreach_common(&a, &b, collect_fn, &some), 42);
    assert_int_equal(some.n, 2);
    assert_int_equal(some.ids[1], 7);
    tagset_clear(&a);
    tagset_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_sorts_and_dedups),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_has),
        cmocka_unit_test(test_common),
        cmocka_unit_test(test_foreach_common),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
