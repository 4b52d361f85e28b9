/* test_sched_metrics.c -- seating figures on hand-computed cases, the
 * bound against random repeat-free schedules, and bad input. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sched_metrics.h"

#define EPS 1e-9

static void assert_near(double got, double want)
{
    if (fabs(got - want) > EPS)
        fail_msg("got %.12f, want %.12f", got, want);
}

#define TAGS(...) ((const char *const[]){__VA_ARGS__})

enum { A, B, C, D, E, F, N_PEOPLE };

/* Six people: a and b share Jazz and a offers the Webdesign b seeks;
 * c and d share Golf; c and d seek the Steuerberatung e offers, but d and
 * e met before; c and f must be kept apart; f brings nothing.  Linked
 * pairs: ab, cd, ce, de.  Every other pair scores 0. */
struct six {
    struct roster *r;
    struct aff_model *m;
    struct pairset *met;
    struct pairset *avoid;
    uint32_t idx[N_PEOPLE];
};

static int six_setup(void **state)
{
    struct six *s = calloc(1, sizeof(*s));
    const struct att_profile p[N_PEOPLE] = {
        {.id = "a", .interests = TAGS("Jazz"), .n_interests = 1,
         .offers = TAGS("Webdesign"), .n_offers = 1},
        {.id = "b", .interests = TAGS("jazz"), .n_interests = 1,
         .seeks = TAGS("Webdesign"), .n_seeks = 1},
        {.id = "c", .interests = TAGS("Golf"), .n_interests = 1,
         .seeks = TAGS("Steuerberatung"), .n_seeks = 1},
        {.id = "d", .interests = TAGS("Golf"), .n_interests = 1,
         .seeks = TAGS("Steuerberatung"), .n_seeks = 1},
        {.id = "e", .offers = TAGS("Steuerberatung"), .n_offers = 1},
        {.id = "f"},
    };
    struct aff_weights w;

    assert_non_null(s);
    s->r = roster_new();
    s->met = pairset_new();
    s->avoid = pairset_new();
    assert_non_null(s->r);
    for (int i = 0; i < N_PEOPLE; i++)
        assert_int_equal(roster_upsert(s->r, &p[i], &s->idx[i]), 0);
    aff_weights_default(&w);
    s->m = aff_model_new(s->r, &w);
    assert_non_null(s->m);
    assert_int_equal(pairset_add(s->met, s->idx[D], s->idx[E]), 0);
    assert_int_equal(pairset_add(s->avoid, s->idx[C], s->idx[F]), 0);
    *state = s;
    return 0;
}

static int six_teardown(void **state)
{
    struct six *s = *state;

    aff_model_free(s->m);
    pairset_free(s->met);
    pairset_free(s->avoid);
    roster_free(s->r);
    free(s);
    return 0;
}

static double sc(const struct six *s, int x, int y)
{
    return aff_score(s->m, s->idx[x], s->idx[y]);
}

/* A round from letters and tables, mapped to roster indices. */
struct round_buf {
    uint32_t people[N_PEOPLE];
    uint32_t table_of[N_PEOPLE];
};

static struct sched_round mkround(const struct six *s, struct round_buf *buf,
                                  const int *who, const uint32_t *table,
                                  uint32_t n, uint32_t tables)
{
    for (uint32_t i = 0; i < n; i++) {
        buf->people[i] = s->idx[who[i]];
        buf->table_of[i] = table[i];
    }
    return (struct sched_round){.people = buf->people,
                                .table_of = buf->table_of,
                                .n = n, .tables = tables};
}

static void test_pair_facts(void **state)
{
    struct six *s = *state;

    (void)state;
    assert_true(sc(s, A, B) > 0 && sc(s, C, D) > 0 && sc(s, C, E) > 0);
    assert_near(sc(s, A, C), 0.0);
    assert_near(sc(s, E, F), 0.0);
    assert_near(aff_lonely_penalty(s->m), 2.0);
}

/* Round 1: {a b c} {d e f}; round 2: {a b e} {c d f}.  a and b, d and f
 * sit together twice; c sits with the avoided f. */
static void test_two_rounds(void **state)
{
    struct six *s = *state;
    struct round_buf b1, b2;
    struct sched_round rs[2];
    struct sched_metrics m;
    double total;

    rs[0] = mkround(s, &b1, (const int[]){A, B, C, D, E, F},
                    (const uint32_t[]){0, 0, 0, 1, 1, 1}, 6, 2);
    rs[1] = mkround(s, &b2, (const int[]){A, B, E, C, D, F},
                    (const uint32_t[]){0, 0, 0, 1, 1, 1}, 6, 2);
    assert_int_equal(sched_metrics_compute(s->m, s->met, s->avoid, rs, 2, &m),
                     0);
    assert_int_equal(m.attendees, 6);
    assert_int_equal(m.seats, 12);
    /* Seated pairs: ab ac bc de df ef, ab ae be cd cf df. */
    total = 2 * sc(s, A, B) + sc(s, D, E) + sc(s, C, D);
    assert_near(m.affinity_total, total);
    /* Lonely: c and f in round 1, e and f in round 2. */
    assert_int_equal(m.lonely_seats, 4);
    assert_near(m.objective, total - 2.0 * 4);
    /* Distinct business contacts: a 1, b 1, c 0, d 1 (e, met before,
     * still counts: they did sit together), e 1, f 0. */
    assert_near(m.business_mean, 4.0 / 6);
    assert_int_equal(m.business_min, 0);
    /* Conversation partners: a b, b a, c d, d c. */
    assert_near(m.conversation_mean, 4.0 / 6);
    assert_int_equal(m.conversation_min, 0);
    /* c could have met e and never did; d's only contact e is met_before,
     * and nobody else has one to miss. */
    assert_int_equal(m.empty_handed, 1);
    /* Business: 3 of 12 seated pairs (ab twice, de), against 3 of all 15
     * pairs (ab, ce, de).  Interests: 3 of 12 (ab twice, cd) against 2 of
     * 15 (ab, cd). */
    assert_near(m.business_lift, (3.0 / 12) / (3.0 / 15));
    assert_near(m.conversation_lift, (3.0 / 12) / (2.0 / 15));
    /* Everyone has 4 tablemate slots, more than their positive
     * candidates: each allowed positive pair counts fully (de is
     * met_before and so left out). */
    assert_near(m.upper_bound, sc(s, A, B) + sc(s, C, D) + sc(s, C, E));
    assert_near(m.bound_share, m.objective / m.upper_bound);
    /* e: de in round 1, nothing in round 2; f: nothing at all. */
    assert_near(m.min_attendee_affinity, 0.0);
}

/* One round of pairs {a b} {c d} {e f}: one slot each, so c's bound uses
 * the better of cd and ce only. */
static void test_bound_capacity(void **state)
{
    struct six *s = *state;
    struct round_buf b1;
    struct sched_round r;
    struct sched_metrics m;
    double best_c = fmax(sc(s, C, D), sc(s, C, E));

    r = mkround(s, &b1, (const int[]){A, B, C, D, E, F},
                (const uint32_t[]){0, 0, 1, 1, 2, 2}, 6, 3);
    assert_int_equal(sched_metrics_compute(s->m, s->met, s->avoid, &r, 1, &m),
                     0);
    assert_near(m.affinity_total, sc(s, A, B) + sc(s, C, D));
    assert_int_equal(m.lonely_seats, 2);
    assert_near(m.upper_bound,
                (2 * sc(s, A, B) + best_c + sc(s, C, D) + sc(s, C, E)) / 2);
    assert_near(m.min_attendee_affinity, 0.0);
    /* c and e could have met each other. */
    assert_int_equal(m.empty_handed, 2);

    /* Without the pair sets, de counts too: d's one slot takes the better
     * of cd and de, e's of ce and de. */
    assert_int_equal(sched_metrics_compute(s->m, NULL, NULL, &r, 1, &m), 0);
    assert_near(m.upper_bound,
                (2 * sc(s, A, B) + best_c +
                 fmax(sc(s, C, D), sc(s, D, E)) +
                 fmax(sc(s, C, E), sc(s, D, E))) / 2);
}

/* Tables {a b c} {d e}: d and e have one tablemate, but a seating of
 * this round could give them two, so the bound gives everyone two slots
 * and stays the same for every seating of the round. */
static void test_bound_largest_table(void **state)
{
    struct six *s = *state;
    struct round_buf b1;
    struct sched_round r;
    struct sched_metrics m;

    r = mkround(s, &b1, (const int[]){A, B, C, D, E},
                (const uint32_t[]){0, 0, 0, 1, 1}, 5, 2);
    assert_int_equal(sched_metrics_compute(s->m, NULL, NULL, &r, 1, &m), 0);
    assert_near(m.upper_bound,
                sc(s, A, B) + sc(s, C, D) + sc(s, C, E) + sc(s, D, E));
    assert_near(m.affinity_total, sc(s, A, B) + sc(s, D, E));
    assert_int_equal(m.lonely_seats, 1);
}

/* Live rounds with different people: round 1 {a b} {c d}, round 2 {a e}
 * {b f}.  Pairs weigh by the rounds both are seated: ab 2; ac ad bc bd cd
 * 1; ae af be bf ef 1; c and d never share a round with e and f. */
static void test_live_rounds(void **state)
{
    struct six *s = *state;
    struct round_buf b1, b2;
    struct sched_round rs[2];
    struct sched_metrics m;

    rs[0] = mkround(s, &b1, (const int[]){A, B, C, D},
                    (const uint32_t[]){0, 0, 1, 1}, 4, 2);
    rs[1] = mkround(s, &b2, (const int[]){A, E, B, F},
                    (const uint32_t[]){0, 0, 1, 1}, 4, 2);
    assert_int_equal(sched_metrics_compute(s->m, s->met, s->avoid, rs, 2, &m),
                     0);
    assert_int_equal(m.attendees, 6);
    assert_int_equal(m.seats, 8);
    assert_near(m.affinity_total, sc(s, A, B) + sc(s, C, D));
    assert_int_equal(m.lonely_seats, 4);
    /* Business: ab of 4 seated pairs, against weight 2 of 12. */
    assert_near(m.business_lift, (1.0 / 4) / (2.0 / 12));
    /* Interests: ab and cd of 4, against ab (2) and cd (1) of 12. */
    assert_near(m.conversation_lift, (2.0 / 4) / (3.0 / 12));
    /* c's contact e was never there when c was. */
    assert_int_equal(m.empty_handed, 0);
    /* Slots: a and b 2, the others 1; candidates share a round. */
    assert_near(m.upper_bound, sc(s, A, B) + sc(s, C, D));
    assert_near(m.bound_share, m.objective / m.upper_bound);
    assert_near(m.business_mean, 2.0 / 6);
    assert_near(m.conversation_mean, 4.0 / 6);
}

static void test_empty(void **state)
{
    struct six *s = *state;
    struct sched_round r = {.n = 0, .tables = 0};
    struct sched_metrics m;

    assert_int_equal(sched_metrics_compute(s->m, NULL, NULL, NULL, 0, &m), 0);
    assert_int_equal(m.attendees, 0);
    assert_near(m.upper_bound, 0.0);
    assert_near(m.business_lift, 0.0);
    assert_int_equal(sched_metrics_compute(s->m, NULL, NULL, &r, 1, &m), 0);
    assert_int_equal(m.seats, 0);
}

static void test_bad_input(void **state)
{
    struct six *s = *state;
    struct round_buf b;
    struct sched_round r;
    struct sched_metrics m;

    r = mkround(s, &b, (const int[]){A, B, C}, (const uint32_t[]){0, 0, 1},
                3, 2);
    assert_int_equal(sched_metrics_compute(NULL, NULL, NULL, &r, 1, &m),
                     -EINVAL);
    assert_int_equal(sched_metrics_compute(s->m, NULL, NULL, &r, 1, NULL),
                     -EINVAL);
    assert_int_equal(sched_metrics_compute(s->m, NULL, NULL, NULL, 1, &m),
                     -EINVAL);
    r.tables = 1;
    assert_int_equal(sched_metrics_compute(s->m, NULL, NULL, &r, 1, &m),
                     -EINVAL);
    r.tables = 2;
    b.people[2] = b.people[0];
    assert_int_equal(sched_metrics_compute(s->m, NULL, NULL, &r, 1, &m),
                     -EINVAL);
    b.people[2] = aff_model_count(s->m);
    assert_int_equal(sched_metrics_compute(s->m, NULL, NULL, &r, 1, &m),
                     -EINVAL);
    r.people = NULL;
    assert_int_equal(sched_metrics_compute(s->m, NULL, NULL, &r, 1, &m),
                     -EINVAL);
}

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

#define GRID 5
#define GRID_N (GRID * GRID)

/* The affine plane of order 5: person (x, y) sits at table y in round 0
 * and at table (x + k * y) mod 5 in round k, so no pair ever meets twice.
 * Random people and tags behind the grid make random repeat-free
 * schedules, and met_before and avoid pairs are drawn among pairs who
 * never sit together.  The bound must hold for each. */
static void test_bound_holds(void **state)
{
    static const char *pool[] = {"Jazz", "Golf", "Segeln", "Wein", "Kino",
                                 "SEO", "Recht", "Druck", "Logo"};
    uint64_t x = 88172645463325252ULL;

    (void)state;
    for (int trial = 0; trial < 40; trial++) {
        struct roster *r = roster_new();
        struct pairset *met = pairset_new(), *avoid = pairset_new();
        struct aff_weights w;
        struct aff_model *m;
        uint32_t people[GRID_N], tab[GRID + 1][GRID_N];
        struct sched_round rs[GRID + 1];
        uint32_t n_rounds = 1 + (uint32_t)(rng_next(&x) % GRID);
        struct sched_metrics out;
        char ids[GRID_N][16];

        for (int i = 0; i < GRID_N; i++) {
            const char *in[3], *of[2], *se[2];
            struct att_profile p = {.id = ids[i], .interests = in,
                                    .offers = of, .seeks = se};

            snprintf(ids[i], sizeof(ids[i]), "p%d", i);
            p.n_interests = rng_next(&x) % 3;
            p.n_offers = rng_next(&x) % 2;
            p.n_seeks = rng_next(&x) % 2;
            for (size_t k = 0; k < p.n_interests; k++)
                in[k] = pool[rng_next(&x) % 5];
            if (p.n_offers)
                of[0] = pool[5 + rng_next(&x) % 4];
            if (p.n_seeks)
                se[0] = pool[5 + rng_next(&x) % 4];
            p.company = rng_next(&x) % 6 == 0 ? "Nordkontor GmbH" : NULL;
            assert_int_equal(roster_upsert(r, &p, &people[i]), 0);
        }
        /* Shuffle who stands where on the grid. */
        for (int i = GRID_N - 1; i > 0; i--) {
            int k = (int)(rng_next(&x) % (uint64_t)(i + 1));
            uint32_t t = people[i];

            people[i] = people[k];
            people[k] = t;
        }
        for (uint32_t k = 0; k < n_rounds; k++) {
            for (int i = 0; i < GRID_N; i++) {
                int gx = i % GRID, gy = i / GRID;

                tab[k][i] = k == 0 ? (uint32_t)gy
                                   : (uint32_t)((gx + (int)(k - 1) * gy) %
                                                GRID);
            }
            rs[k] = (struct sched_round){.people = people,
                                         .table_of = tab[k], .n = GRID_N,
                                         .tables = GRID};
        }
        for (int k = 0; k < 30; k++) {
            int i = (int)(rng_next(&x) % GRID_N), j = (int)(rng_next(&x) %
                                                            GRID_N);
            bool together = i == j;

            for (uint32_t q = 0; q < n_rounds; q++)
                together |= tab[q][i] == tab[q][j];
            if (!together)
                assert_int_equal(pairset_add(k % 2 ? met : avoid, people[i],
                                             people[j]), 0);
        }
        aff_weights_default(&w);
        m = aff_model_new(r, &w);
        assert_non_null(m);
        assert_int_equal(sched_metrics_compute(m, met, avoid, rs, n_rounds,
                                               &out), 0);
        if (out.affinity_total > out.upper_bound + EPS)
            fail_msg("trial %d: total %.9f above bound %.9f", trial,
                     out.affinity_total, out.upper_bound);
        assert_true(out.objective <= out.affinity_total + EPS);
        assert_true(out.upper_bound == 0.0 || out.bound_share <= 1.0 + EPS);
        assert_int_equal(out.seats, (uint64_t)GRID_N * n_rounds);
        aff_model_free(m);
        pairset_free(met);
        pairset_free(avoid);
        roster_free(r);
    }
}

/* Above SCHED_METRICS_EXACT_MAX the baselines are sampled and the bound
 * is unknown.  Every even person offers what every odd one seeks, and the
 * one round seats them in even-odd pairs: all seated pairs are business
 * contacts, against about half of all pairs. */
static void test_sampled(void **state)
{
    uint32_t n = SCHED_METRICS_EXACT_MAX + 10;
    struct roster *r = roster_new();
    uint32_t *people = malloc(n * sizeof(*people));
    uint32_t *tab = malloc(n * sizeof(*tab));
    struct aff_weights w;
    struct aff_model *m;
    struct sched_round rd;
    struct sched_metrics out;
    double pairs = (double)n * (n - 1) / 2, bus = (double)(n / 2) * (n / 2);

    (void)state;
    assert_non_null(people);
    assert_non_null(tab);
    for (uint32_t i = 0; i < n; i++) {
        char id[16];
        struct att_profile p = {.id = id, .offers = TAGS("SEO"),
                                .seeks = TAGS("SEO")};

        snprintf(id, sizeof(id), "p%u", i);
        if (i % 2 == 0)
            p.n_offers = 1;
        else
            p.n_seeks = 1;
        assert_int_equal(roster_upsert(r, &p, &people[i]), 0);
        tab[i] = i / 2;
    }
    aff_weights_default(&w);
    m = aff_model_new(r, &w);
    rd = (struct sched_round){.people = people, .table_of = tab, .n = n,
                              .tables = n / 2};
    assert_int_equal(sched_metrics_compute(m, NULL, NULL, &rd, 1, &out), 0);
    assert_near(out.upper_bound, 0.0);
    assert_near(out.bound_share, 0.0);
    assert_int_equal(out.lonely_seats, 0);
    assert_int_equal(out.empty_handed, 0);
    assert_int_equal(out.business_min, 1);
    if (fabs(out.business_lift - pairs / bus) > 0.02)
        fail_msg("lift %.4f, want about %.4f", out.business_lift, pairs / bus);
    assert_near(out.conversation_lift, 0.0);
    aff_model_free(m);
    roster_free(r);
    free(people);
    free(tab);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pair_facts, six_setup,
                                        six_teardown),
        cmocka_unit_test_setup_teardown(test_two_rounds, six_setup,
                                        six_teardown),
        cmocka_unit_test_setup_teardown(test_bound_capacity, six_setup,
                                        six_teardown),
        cmocka_unit_test_setup_teardown(test_bound_largest_table, six_setup,
                                        six_teardown),
        cmocka_unit_test_setup_teardown(test_live_rounds, six_setup,
                                        six_teardown),
        cmocka_unit_test_setup_teardown(test_empty, six_setup, six_teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, six_setup,
                                        six_teardown),
        cmocka_unit_test(test_bound_holds),
        cmocka_unit_test(test_sampled),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
