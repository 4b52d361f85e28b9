/* test_design.c -- repeat-free schedules from combinatorial designs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "design.h"
#include "design_int.h"

#define TEST_SEED 42u
#define TEST_BUDGET 2000000u

struct instance {
    uint32_t n, table_size, rounds;
};

/* True when every round puts each position at one of ceil(n / k) tables,
 * the tables' sizes differ by at most one (none empty), and no two
 * positions share a table twice. */
static bool schedule_ok(uint32_t n, uint32_t k, uint32_t rounds,
                        const uint32_t *table_of)
{
    uint32_t tables = n / k + (n % k != 0), r, x, y, lo, hi;
    uint32_t *size = calloc(tables, sizeof(*size));
    unsigned char *met = calloc((size_t)n * n, 1);
    bool ok = size != NULL && met != NULL;

    for (r = 0; r < rounds && ok; r++) {
        const uint32_t *row = table_of + (size_t)r * n;

        memset(size, 0, tables * sizeof(*size));
        for (x = 0; x < n && ok; x++) {
            ok = row[x] < tables;
            if (ok)
                size[row[x]]++;
        }
        for (lo = UINT32_MAX, hi = 0, x = 0; x < tables && ok; x++) {
            lo = size[x] < lo ? size[x] : lo;
            hi = size[x] > hi ? size[x] : hi;
        }
        ok = ok && lo > 0 && hi - lo <= 1;
        for (x = 0; x < n && ok; x++)
            for (y = x + 1; y < n && ok; y++)
                if (row[x] == row[y]) {
                    ok = !met[(size_t)x * n + y];
                    met[(size_t)x * n + y] = 1;
                }
    }
    free(size);
    free(met);
    return ok;
}

static void expect_solved_within(const struct instance *in, size_t count,
                                 uint64_t budget)
{
    uint32_t *table_of;
    size_t i;

    for (i = 0; i < count; i++) {
        table_of = NULL;
        print_message("design %u/%u/%u\n", in[i].n, in[i].table_size,
                      in[i].rounds);
        assert_int_equal(design_build(in[i].n, in[i].table_size,
                                      in[i].rounds, TEST_SEED, budget,
                                      &table_of), 0);
        assert_non_null(table_of);
        assert_true(schedule_ok(in[i].n, in[i].table_size, in[i].rounds,
                                table_of));
        free(table_of);
    }
}

static void expect_solved(const struct instance *in, size_t count)
{
    expect_solved_within(in, count, TEST_BUDGET);
}

static void test_checker_rejects(void **state)
{
    /* 4 positions, tables of 2: rounds {01|23} then {01|23} again. */
    const uint32_t repeat[] = {0, 0, 1, 1, 1, 1, 0, 0};
    /* 5 positions, tables of 2 (3 tables): sizes 3, 1, 1. */
    const uint32_t lopsided[] = {0, 0, 0, 1, 2};
    /* Table index 3 does not exist for 6 positions in tables of 2. */
    const uint32_t out_of_range[] = {0, 0, 1, 1, 3, 3};

    (void)state;
    assert_true(schedule_ok(4, 2, 1, repeat));
    assert_false(schedule_ok(4, 2, 2, repeat));
    assert_false(schedule_ok(5, 2, 1, lopsided));
    assert_false(schedule_ok(6, 2, 1, out_of_range));
}

static void test_goal_instances(void **state)
{
    static const struct instance goals[] = {
        {32, 4, 8}, {32, 4, 9}, {15, 3, 7}, {30, 5, 6},
        {4, 2, 3}, {9, 3, 4}, {16, 4, 5}, {25, 5, 6},
        {49, 7, 8}, {64, 8, 9}, {81, 9, 10},
    };

    (void)state;
    expect_solved(goals, sizeof(goals) / sizeof(goals[0]));
}

static void test_more_instances(void **state)
{
    static const struct instance more[] = {
        /* Geometry: AG(3,3) lines (Kirkman's 27), AG(3,4) lines. */
        {27, 3, 13}, {64, 4, 21},
        /* Transversal designs: 8 and 13 tables, a prime power each. */
        {40, 5, 8}, {100, 8, 13},
        /* 1-rotational search. */
        {24, 4, 7}, {36, 6, 3}, {40, 5, 5}, {48, 4, 9}, {60, 6, 5},
        {21, 3, 9}, {500, 5, 10},
        /* Unequal tables: sizes 7 and 8 (transversal), 3 and 4
         * (geometry), 3 and 4 (search). */
        {100, 8, 5}, {30, 4, 8}, {31, 4, 9}, {38, 4, 8},
    };

    (void)state;
    expect_solved(more, sizeof(more) / sizeof(more[0]));
}

/* Affine planes AG(2,q), q a prime power up to 9, and the spaces AG(3,3)
 * and AG(3,4), at all their rounds, fewer rounds, one to three fewer
 * people.  None needs search beyond dropping points. */
static void test_affine(void **state)
{
    static const struct instance affine[] = {
        {4, 2, 3}, {9, 3, 4}, {16, 4, 5}, {25, 5, 6}, {49, 7, 8},
        {64, 8, 9}, {81, 9, 10}, {27, 3, 13}, {64, 4, 21},
        {15, 4, 5}, {24, 5, 6}, {63, 8, 9}, {80, 9, 10}, {26, 3, 13},
        {63, 4, 21}, {14, 4, 4}, {61, 8, 6}, {78, 9, 7}, {25, 3, 11},
        {62, 4, 19}, {64, 8, 3},
    };

    (void)state;
    expect_solved(affine, sizeof(affine) / sizeof(affine[0]));
}

/* Transversal designs: q tables of s <= q seats, q rounds, q + 1 when s
 * divides q; fewer people and rounds. */
static void test_mols(void **state)
{
    static const struct instance mols[] = {
        {35, 5, 7}, {42, 6, 7}, {40, 5, 8}, {48, 6, 8}, {56, 7, 8},
        {45, 5, 9}, {54, 6, 9}, {63, 7, 9}, {72, 8, 9}, {32, 4, 9},
        {128, 8, 17}, {20, 4, 5}, {143, 11, 13}, {34, 5, 7}, {32, 5, 7},
        {61, 7, 9}, {69, 8, 9}, {31, 4, 9}, {29, 4, 8}, {126, 8, 17},
        {53, 7, 4},
    };

    (void)state;
    expect_solved(mols, sizeof(mols) / sizeof(mols[0]));
}

/* Every published schedule at all its rounds, and with one or two fewer
 * people, on a budget only dropping points can use: the search would
 * need far more. */
static void test_published(void **state)
{
    static const struct instance published[] = {
        {24, 3, 10}, {32, 4, 10}, {36, 4, 11}, {40, 4, 9}, {24, 4, 7},
        {30, 5, 6}, {36, 6, 3}, {50, 5, 7}, {60, 6, 6}, {70, 7, 5},
        {80, 8, 4}, {90, 9, 3}, {100, 10, 3},
        {23, 3, 10}, {22, 3, 10}, {31, 4, 10}, {30, 4, 10}, {35, 4, 11},
        {33, 4, 11}, {39, 4, 9}, {37, 4, 9}, {23, 4, 7}, {21, 4, 7},
        {29, 5, 6}, {28, 5, 6}, {33, 6, 3}, {47, 5, 7}, {57, 6, 6},
        {67, 7, 5}, {77, 8, 4}, {87, 9, 3}, {97, 10, 3},
        /* Fewer rounds: the first ones. */
        {32, 4, 6}, {99, 10, 2},
    };

    (void)state;
    expect_solved_within(published,
                         sizeof(published) / sizeof(published[0]), 1000);
}

/* Tables of 4 for 3q + 1 people, q = 1 (mod 4): 28 (GF(9)), 40, 52, 76
 * (GF(25)), 88 at all their rounds; fewer people and rounds. */
static void test_quad(void **state)
{
    static const struct instance quad[] = {
        {28, 4, 9}, {40, 4, 13}, {52, 4, 17}, {76, 4, 25}, {88, 4, 29},
        {39, 4, 13}, {27, 4, 9}, {38, 4, 12}, {37, 4, 11}, {51, 4, 17},
        {40, 4, 10},
    };

    (void)state;
    expect_solved_within(quad, sizeof(quad) / sizeof(quad[0]), 1000);
}

/* Kirkman triple systems on 3q people, q = 1 (mod 6): 21 to 147 people
 * at all their rounds (GF(25) and GF(49) among them); one fewer person,
 * fewer rounds. */
static void test_kirkman(void **state)
{
    static const struct instance kts[] = {
        {21, 3, 10}, {39, 3, 19}, {57, 3, 28}, {75, 3, 37}, {93, 3, 46},
        {111, 3, 55}, {129, 3, 64}, {147, 3, 73}, {20, 3, 10},
        {146, 3, 73}, {19, 3, 9}, {74, 3, 30}, {21, 3, 8},
    };

    (void)state;
    expect_solved_within(kts, sizeof(kts) / sizeof(kts[0]), 1000);
}

/* Kirkman triple systems on 2q + 1 people, q = 1 (mod 6): 15 to 99
 * people at all their rounds (51 and 63 are 3q for no q the other
 * construction takes); one and two fewer people, fewer rounds. */
static void test_kirkman2(void **state)
{
    static const struct instance kts[] = {
        {15, 3, 7}, {51, 3, 25}, {63, 3, 31}, {87, 3, 43}, {99, 3, 49},
        {50, 3, 25}, {62, 3, 30}, {61, 3, 29},
    };

    (void)state;
    expect_solved_within(kts, sizeof(kts) / sizeof(kts[0]), 10000000);
}

/* The nearly Kirkman system on 18 people (6 tables of 3, 8 rounds), which
 * the 1-rotational search does not find; fewer people and rounds. */
static void test_nkts(void **state)
{
    static const struct instance nkts[] = {
        {18, 3, 8}, {17, 3, 8}, {16, 3, 7}, {18, 3, 5},
    };

    (void)state;
    expect_solved(nkts, sizeof(nkts) / sizeof(nkts[0]));
}

static void test_trivial(void **state)
{
    static const struct instance easy[] = {
        {1, 2, 5}, {2, 2, 1}, {7, 3, 1}, {10, 20, 1}, {1000, 7, 1},
        {9, 3, 2}, {6, 2, 5},
    };

    (void)state;
    expect_solved(easy, sizeof(easy) / sizeof(easy[0]));
}

static void test_deterministic(void **state)
{
    static const struct instance in[] = {{15, 3, 7}, {30, 5, 6}, {30, 4, 8}};
    uint32_t *a, *b;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        a = b = NULL;
        assert_int_equal(design_build(in[i].n, in[i].table_size,
                                      in[i].rounds, 7, TEST_BUDGET, &a), 0);
        assert_int_equal(design_build(in[i].n, in[i].table_size,
                                      in[i].rounds, 7, TEST_BUDGET, &b), 0);
        assert_memory_equal(a, b,
                            (size_t)in[i].rounds * in[i].n * sizeof(*a));
        free(a);
        free(b);
    }
}

static void test_impossible(void **state)
{
    static const struct instance none[] = {
        /* More rounds than (n - 1) / (k - 1). */
        {32, 4, 11}, {16, 4, 6}, {15, 3, 8}, {100, 8, 15},
        /* A single table cannot change. */
        {5, 8, 2},
        /* Round two would need a table of 4 (or 3) from 2 tables. */
        {8, 4, 2}, {5, 4, 2},
    };
    uint32_t *table_of;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        table_of = (uint32_t *)&table_of;
        assert_int_equal(design_build(none[i].n, none[i].table_size,
                                      none[i].rounds, TEST_SEED, 20000,
                                      &table_of), -ENOENT);
        assert_null(table_of);
    }
}

/* Lines, transversal designs and published schedules need no search
 * steps (unless surplus points must go); the search gets none. */
static void test_zero_budget(void **state)
{
    uint32_t *table_of = NULL;

    (void)state;
    assert_int_equal(design_build(25, 5, 6, 1, 0, &table_of), 0);
    assert_true(schedule_ok(25, 5, 6, table_of));
    free(table_of);
    table_of = NULL;
    assert_int_equal(design_build(104, 8, 10, 1, 0, &table_of), 0);
    assert_true(schedule_ok(104, 8, 10, table_of));
    free(table_of);
    table_of = NULL;
    assert_int_equal(design_build(30, 5, 6, 1, 0, &table_of), 0);
    assert_true(schedule_ok(30, 5, 6, table_of));
    free(table_of);
    table_of = NULL;
    assert_int_equal(design_build(21, 3, 9, 1, 0, &table_of), -ENOENT);
    assert_null(table_of);
}

/* Every prime power up to DESIGN_GF_MAX gives a field: 0 and 1 are the
 * identities, + and * commute, every element has a negative and every
 * nonzero one an inverse, and (for q <= 64, every triple) + and *
 * associate and * distributes over +. */
static void test_gf_axioms(void **state)
{
    struct design_gf *f = malloc(sizeof(*f));
    uint32_t q, p, e, a, b, c, fields = 0;

    (void)state;
    assert_non_null(f);
    for (q = 2; q <= DESIGN_GF_MAX; q++) {
        if (!design_prime_power(q, &p, &e)) {
            assert_int_equal(design_gf_init(f, q), -ENOENT);
            continue;
        }
        assert_int_equal(design_gf_init(f, q), 0);
        assert_int_equal(f->q, q);
        assert_int_equal(f->p, p);
        fields++;
        for (a = 0; a < q; a++) {
            assert_int_equal(f->add[a * q], a);
            assert_int_equal(f->mul[a * q + 1], a);
            assert_int_equal(f->mul[a * q], 0);
            assert_int_equal(f->add[a * q + f->neg[a]], 0);
            if (a > 0)
                assert_int_equal(f->mul[a * q + f->inv[a]], 1);
            for (b = 0; b < q; b++) {
                assert_int_equal(f->add[a * q + b], f->add[b * q + a]);
                assert_int_equal(f->mul[a * q + b], f->mul[b * q + a]);
                for (c = 0; q <= 64 && c < q; c++) {
                    uint32_t bc = f->add[b * q + c];

                    assert_int_equal(f->mul[a * q + bc],
                                     f->add[f->mul[a * q + b] * q +
                                            f->mul[a * q + c]]);
                    assert_int_equal(f->add[f->add[a * q + b] * q + c],
                                     f->add[a * q + bc]);
                    assert_int_equal(f->mul[f->mul[a * q + b] * q + c],
                                     f->mul[a * q + f->mul[b * q + c]]);
                }
            }
        }
    }
    /* Primes up to 256 and the 16 proper powers. */
    assert_int_equal(fields, 54 + 16);
    assert_int_equal(design_gf_init(f, DESIGN_GF_MAX + 1), -ENOENT);
    free(f);
}

static void test_bad_args(void **state)
{
    uint32_t *table_of = NULL;

    (void)state;
    assert_int_equal(design_build(10, 1, 2, 0, 1000, &table_of), -EINVAL);
    assert_int_equal(design_build(10, 0, 2, 0, 1000, &table_of), -EINVAL);
    assert_int_equal(design_build(10, 2, 0, 0, 1000, &table_of), -EINVAL);
    assert_int_equal(design_build(0, 2, 2, 0, 1000, &table_of), -EINVAL);
    assert_int_equal(design_build(10, 2, 2, 0, 1000, NULL), -EINVAL);
    assert_null(table_of);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker_rejects),
        cmocka_unit_test(test_goal_instances),
        cmocka_unit_test(test_more_instances),
        cmocka_unit_test(test_affine),
        cmocka_unit_test(test_mols),
        cmocka_unit_test(test_published),
        cmocka_unit_test(test_quad),
        cmocka_unit_test(test_kirkman),
        cmocka_unit_test(test_kirkman2),
        cmocka_unit_test(test_nkts),
        cmocka_unit_test(test_trivial),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_impossible),
        cmocka_unit_test(test_zero_budget),
        cmocka_unit_test(test_gf_axioms),
        cmocka_unit_test(test_bad_args),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
