/* test_pairset.c -- unordered index pairs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pairset.h"

static void test_add_has(void **state)
{
    struct pairset *ps = pairset_new();

    (void)state;
    assert_non_null(ps);
    assert_int_equal(pairset_count(ps), 0);
    assert_false(pairset_has(ps, 1, 2));
    assert_int_equal(pairset_add(ps, 2, 1), 0);
    assert_true(pairset_has(ps, 1, 2));
    assert_true(pairset_has(ps, 2, 1));
    assert_false(pairset_has(ps, 1, 3));
    assert_int_equal(pairset_add(ps, 0, 1), 0);
    assert_true(pairset_has(ps, 1, 0));
    assert_int_equal(pairset_add(ps, 0, UINT32_MAX), 0);
    assert_true(pairset_has(ps, UINT32_MAX, 0));
    assert_int_equal(pairset_count(ps), 3);
    pairset_free(ps);
}

static void test_dup_and_self(void **state)
{
    struct pairset *ps = pairset_new();

    (void)state;
    assert_int_equal(pairset_add(ps, 4, 9), 0);
    assert_int_equal(pairset_add(ps, 9, 4), 0);
    assert_int_equal(pairset_add(ps, 4, 9), 0);
    assert_int_equal(pairset_count(ps), 1);
    assert_int_equal(pairset_add(ps, 5, 5), -EINVAL);
    assert_int_equal(pairset_add(ps, 0, 0), -EINVAL);
    assert_false(pairset_has(ps, 5, 5));
    assert_false(pairset_has(ps, 0, 0));
    assert_int_equal(pairset_count(ps), 1);
    pairset_free(ps);
}

#define GROWTH_PAIRS 100000u

/* Pair k is {k % 1000, 1000 + k}: distinct, with many sharing an end. */
static void test_growth_and_iteration(void **state)
{
    struct pairset *ps = pairset_new();
    unsigned char *seen = calloc(GROWTH_PAIRS, 1);
    size_t cursor = 0, visits = 0;
    uint32_t k, a, b;

    (void)state;
    assert_non_null(seen);
    for (k = 0; k < GROWTH_PAIRS; k++)
        assert_int_equal(pairset_add(ps, 1000 + k, k % 1000), 0);
    assert_int_equal(pairset_count(ps), GROWTH_PAIRS);
    for (k = 0; k < GROWTH_PAIRS; k++) {
        assert_true(pairset_has(ps, k % 1000, 1000 + k));
        assert_false(pairset_has(ps, (k + 1) % 1000, 1000 + k));
    }
    while (pairset_next(ps, &cursor, &a, &b)) {
        assert_true(a < b);
        assert_true(b >= 1000 && b < 1000 + GROWTH_PAIRS);
        assert_int_equal(a, (b - 1000) % 1000);
        assert_int_equal(seen[b - 1000], 0);
        seen[b - 1000] = 1;
        visits++;
    }
    assert_int_equal(visits, GROWTH_PAIRS);
    assert_int_equal(pairset_next(ps, &cursor, &a, &b), 0);
    free(seen);
    pairset_free(ps);
}

static void test_iterate_empty(void **state)
{
    struct pairset *ps = pairset_new();
    size_t cursor = 0;
    uint32_t a, b;

    (void)state;
    assert_int_equal(pairset_next(ps, &cursor, &a, &b), 0);
    pairset_free(ps);
    pairset_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_has),
        cmocka_unit_test(test_dup_and_self),
        cmocka_unit_test(test_growth_and_iteration),
        cmocka_unit_test(test_iterate_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
