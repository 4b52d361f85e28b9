/* test_meetup.c -- the live hub: events, presence, rounds, history,
 * forgetting, and the prepare/apply contract. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "meetup.h"
#include "pairset.h"

#define LOG_MAX 256

/* Every applied change of a test, for replaying onto a second hub. */
static struct meetup_change *change_log[LOG_MAX];
static size_t n_log;

static void log_clear(void)
{
    size_t i;

    for (i = 0; i < n_log; i++)
        meetup_change_free(change_log[i]);
    n_log = 0;
}

static int run(struct meetup *hub, const struct meetup_request *req)
{
    struct meetup_change *ch;
    int ret = meetup_prepare(hub, req, &ch);

    if (ret < 0) {
        assert_null(ch);
        return ret;
    }
    assert_int_equal(meetup_apply(hub, ch), 0);
    assert_true(n_log < LOG_MAX);
    change_log[n_log++] = ch;
    return 0;
}

static uint64_t create_event(struct meetup *hub, const char *name,
                             uint32_t table_size, uint32_t rounds,
                             enum meetup_scope_kind scope)
{
    struct meetup_request req = { .op = MEETUP_OP_EVENT_CREATE };

    req.event.name = name;
    req.event.table_size = table_size;
    req.event.rounds_planned = rounds;
    aff_weights_default(&req.event.weights);
    req.event.seed = 7;
    req.event.history.kind = scope;
    req.event.created_unix = 1700000000 + (int64_t)meetup_event_count(hub);
    assert_int_equal(run(hub, &req), 0);
    return change_log[n_log - 1]->event_id;
}

static const char *const TAGS[] = { "Jazz", "Segeln", "Fußball", "Golf",
                                    "Kochen", "Schach", "Laufen" };
static const char *const BIZ[] = { "Webdesign", "Steuerberatung", "SEO",
                                   "Recht" };

static char ids[200][16];

/* Upserts people first..first+n-1 (ids "p<k>") with a few tags each. */
static void add_people(struct meetup *hub, uint64_t ev, int first, int n)
{
    struct att_profile *p = calloc((size_t)n, sizeof(*p));
    struct meetup_request req = { .op = MEETUP_OP_UPSERT, .event_id = ev };
    int i;

    for (i = 0; i < n; i++) {
        int k = first + i;

        snprintf(ids[k], sizeof(ids[k]), "p%d", k);
        p[i].id = ids[k];
        p[i].name = ids[k];
        p[i].interests = &TAGS[k % 5];
        p[i].n_interests = 2;
        p[i].offers = &BIZ[k % 4];
        p[i].n_offers = 1;
        p[i].seeks = &BIZ[(k + 1) % 4];
        p[i].n_seeks = 1;
    }
    req.profiles = p;
    req.n_profiles = (size_t)n;
    assert_int_equal(run(hub, &req), 0);
    free(p);
}

static int check(struct meetup *hub, uint64_t ev, enum meetup_op op,
                 int first, int n)
{
    const char *list[200];
    struct meetup_request req = { .op = op, .event_id = ev };
    int i;

    for (i = 0; i < n; i++) {
        snprintf(ids[first + i], sizeof(ids[0]), "p%d", first + i);
        list[i] = ids[first + i];
    }
    req.ids = list;
    req.n_ids = (size_t)n;
    return run(hub, &req);
}

static int next_round(struct meetup *hub, uint64_t ev)
{
    struct meetup_request req = { .op = MEETUP_OP_NEXT_ROUND, .event_id = ev,
                                  .now_unix = 1700001000 };

    return run(hub, &req);
}

static int idx_of(const char *id)
{
    return atoi(id + 1);
}

/* Asserts the hard rules of the latest round and that nobody in it met
 * before in `seen` (which then records the round). */
static void check_round(struct meetup *hub, uint64_t ev, uint32_t table_size,
                        const int *present, int n_people,
                        struct pairset *seen, int avoid_a, int avoid_b)
{
    struct meetup_event_info info;
    struct meetup_schedule *s;
    const struct meetup_round_view *r;
    int seated[200] = {0};
    uint32_t t, i, j, n_present = 0, min = UINT32_MAX, max = 0;
    int k;

    assert_int_equal(meetup_event_info(hub, ev, &info), 0);
    assert_int_equal(meetup_schedule_get(hub, ev, info.rounds_done, &s), 0);
    assert_int_equal(s->n_rounds, 1);
    r = &s->rounds[0];
    for (k = 0; k < n_people; k++)
        n_present += present[k] != 0;
    assert_int_equal(r->attendees, n_present);
    assert_int_equal(r->n_tables, (n_present + table_size - 1) / table_size);
    for (t = 0; t < r->n_tables; t++) {
        const struct meetup_table_view *tv = &r->tables[t];
        int at_a = 0, at_b = 0;

        min = tv->n < min ? tv->n : min;
        max = tv->n > max ? tv->n : max;
        assert_non_null(tv->why);
        for (i = 0; i < tv->n; i++) {
            int a = idx_of(tv->ids[i]);

            assert_true(present[a]);
            seated[a]++;
            at_a |= a == avoid_a;
            at_b |= a == avoid_b;
            for (j = i + 1; j < tv->n; j++) {
                int b = idx_of(tv->ids[j]);

                assert_false(pairset_has(seen, (uint32_t)a, (uint32_t)b));
                assert_int_equal(pairset_add(seen, (uint32_t)a, (uint32_t)b),
                                 0);
            }
        }
        assert_false(at_a && at_b);
    }
    assert_true(max - min <= 1);
    for (k = 0; k < n_people; k++)
        assert_int_equal(seated[k], present[k] ? 1 : 0);
    assert_int_equal(r->repeat_pairs, 0);
    meetup_schedule_free(s);
}

static void test_create_and_errors(void **state)
{
    struct meetup *hub = meetup_new();
    struct meetup_request req = { .op = MEETUP_OP_EVENT_CREATE };
    struct meetup_event_info info;
    struct meetup_change *ch = (void *)1;
    uint64_t ev;

    (void)state;
    req.event.name = "x";
    req.event.table_size = 1;
    req.event.rounds_planned = 3;
    assert_int_equal(meetup_prepare(hub, &req, &ch), -EINVAL);
    assert_null(ch);
    assert_true(strlen(meetup_error(hub)) > 0);
    assert_int_equal(meetup_event_count(hub), 0);

    ev = create_event(hub, "Hamburg", 4, 3, MEETUP_SCOPE_ALL);
    assert_int_equal(ev, 1);
    assert_int_equal(meetup_event_info(hub, ev, &info), 0);
    assert_string_equal(info.def.name, "Hamburg");
    assert_int_equal(info.def.table_size, 4);
    assert_int_equal(info.def.rounds_planned, 3);
    assert_int_equal(info.def.created_unix, 1700000000);
    assert_int_equal(meetup_event_info(hub, 99, &info), -ENOENT);

    add_people(hub, ev, 0, 3);
    /* One bad profile rejects the batch, and nothing changes. */
    {
        struct att_profile p[2] = { { .id = "new1" }, { .id = "bad id" } };
        struct meetup_request up = { .op = MEETUP_OP_UPSERT, .event_id = ev,
                                     .profiles = p, .n_profiles = 2 };

        assert_int_equal(meetup_prepare(hub, &up, &ch), -EINVAL);
        p[1].id = "ok";
        p[1].name = "bad\nname";
        assert_int_equal(meetup_prepare(hub, &up, &ch), -EINVAL);
    }
    assert_int_equal(meetup_event_info(hub, ev, &info), 0);
    assert_int_equal(info.attendees, 3);
    /* An unknown id rejects a check-in whole. */
    {
        const char *list[2] = { "p0", "nobody" };
        struct meetup_request in = { .op = MEETUP_OP_CHECK_IN, .event_id = ev,
                                     .ids = list, .n_ids = 2 };

        assert_int_equal(meetup_prepare(hub, &in, &ch), -ENOENT);
        in.event_id = 42;
        assert_int_equal(meetup_prepare(hub, &in, &ch), -ENOENT);
    }
    assert_int_equal(meetup_event_info(hub, ev, &info), 0);
    assert_int_equal(info.present, 0);
    assert_int_equal(check(hub, ev, MEETUP_OP_CHECK_IN, 0, 1), 0);
    assert_int_equal(next_round(hub, ev), -EPERM);
    {
        struct meetup_pair pr = { "p0", "p0" };
        struct meetup_request pa = { .op = MEETUP_OP_PAIRS_ADD,
                                     .event_id = ev, .pairs = &pr,
                                     .n_pairs = 1,
                                     .pair_kind = MEETUP_PAIR_AVOID };

        assert_int_equal(meetup_prepare(hub, &pa, &ch), -EINVAL);
    }
    {
        struct meetup_request cl = { .op = MEETUP_OP_EVENT_CLOSE,
                                     .event_id = ev };

        assert_int_equal(run(hub, &cl), 0);
    }
    assert_int_equal(check(hub, ev, MEETUP_OP_CHECK_IN, 1, 2), -EPERM);
    assert_int_equal(next_round(hub, ev), -EPERM);
    assert_int_equal(meetup_event_info(hub, ev, &info), 0);
    assert_true(info.closed);
    assert_int_equal(info.present, 1);
    log_clear();
    meetup_free(hub);
}

static void test_rounds_with_arrivals(void **state)
{
    struct meetup *hub = meetup_new();
    struct pairset *seen = pairset_new();
    int present[200] = {0};
    struct meetup_pair avoid = { "p3", "p4" };
    struct meetup_request pa = { .op = MEETUP_OP_PAIRS_ADD,
                                 .pair_kind = MEETUP_PAIR_AVOID,
                                 .pairs = &avoid, .n_pairs = 1 };
    struct meetup_event_info info;
    struct meetup_schedule *s;
    uint64_t ev;
    int k;

    (void)state;
    ev = create_event(hub, "Live", 6, 3, MEETUP_SCOPE_ALL);
    add_people(hub, ev, 0, 60);
    pa.event_id = ev;
    assert_int_equal(run(hub, &pa), 0);
    assert_int_equal(check(hub, ev, MEETUP_OP_CHECK_IN, 0, 50), 0);
    for (k = 0; k < 50; k++)
        present[k] = 1;

    assert_int_equal(next_round(hub, ev), 0);
    check_round(hub, ev, 6, present, 60, seen, 3, 4);

    assert_int_equal(check(hub, ev, MEETUP_OP_CHECK_IN, 55, 1), 0);
    present[55] = 1;
    assert_int_equal(next_round(hub, ev), 0);
    check_round(hub, ev, 6, present, 60, seen, 3, 4);

    assert_int_equal(check(hub, ev, MEETUP_OP_CHECK_OUT, 10, 1), 0);
    present[10] = 0;
    assert_int_equal(next_round(hub, ev), 0);
    check_round(hub, ev, 6, present, 60, seen, 3, 4);

    assert_int_equal(meetup_event_info(hub, ev, &info), 0);
    assert_int_equal(info.rounds_done, 3);
    assert_int_equal(info.present, 50);
    assert_int_equal(meetup_schedule_get(hub, ev, 1, &s), 0);
    assert_int_equal(s->n_rounds, 3);
    assert_int_equal(s->attendees, 51);
    assert_int_equal(s->repeat_pairs, 0);
    assert_true(s->affinity_total > 0);
    meetup_schedule_free(s);
    /* A round beyond the plan is still allowed. */
    assert_int_equal(next_round(hub, ev), 0);
    assert_int_equal(meetup_event_info(hub, ev, &info), 0);
    assert_int_equal(info.rounds_done, 4);
    pairset_free(seen);
    log_clear();
    meetup_free(hub);
}

/* The four people of table 1 in event 1's only round meet again in a
 * later event of four: a repeat only when history counts. */
static void test_history_across_events(void **state)
{
    struct meetup *hub = meetup_new();
    struct meetup_schedule *s;
    struct meetup_explain *e;
    const char *four[4];
    struct meetup_request in = { .op = MEETUP_OP_CHECK_IN, .ids = four,
                                 .n_ids = 4 };
    struct att_profile p[4] = {{0}};
    struct meetup_request up = { .op = MEETUP_OP_UPSERT, .profiles = p,
                                 .n_profiles = 4 };
    uint64_t e1, e2, e3;
    uint32_t i;

    (void)state;
    e1 = create_event(hub, "March", 4, 1, MEETUP_SCOPE_ALL);
    add_people(hub, e1, 0, 12);
    assert_int_equal(check(hub, e1, MEETUP_OP_CHECK_IN, 0, 12), 0);
    assert_int_equal(next_round(hub, e1), 0);
    assert_int_equal(meetup_encounter_count(hub), 18);
    assert_int_equal(meetup_schedule_get(hub, e1, 1, &s), 0);
    assert_int_equal(s->rounds[0].tables[0].n, 4);
    for (i = 0; i < 4; i++) {
        four[i] = strdup(s->rounds[0].tables[0].ids[i]);
        p[i].id = four[i];
    }
    meetup_schedule_free(s);

    e2 = create_event(hub, "April", 4, 1, MEETUP_SCOPE_ALL);
    e3 = create_event(hub, "May", 4, 1, MEETUP_SCOPE_NONE);
    up.event_id = e2;
    assert_int_equal(run(hub, &up), 0);
    up.event_id = e3;
    assert_int_equal(run(hub, &up), 0);

    assert_int_equal(meetup_explain_get(hub, e2, four[0], four[1], &e), 0);
    assert_true(e->met_before);
    assert_int_equal(e->times_met, 0);
    meetup_explain_free(e);
    assert_int_equal(meetup_explain_get(hub, e3, four[0], four[1], &e), 0);
    assert_false(e->met_before);
    meetup_explain_free(e);

    in.event_id = e2;
    assert_int_equal(run(hub, &in), 0);
    assert_int_equal(next_round(hub, e2), 0);
    assert_int_equal(change_log[n_log - 1]->round.repeat_pairs, 6);
    in.event_id = e3;
    assert_int_equal(run(hub, &in), 0);
    assert_int_equal(next_round(hub, e3), 0);
    assert_int_equal(change_log[n_log - 1]->round.repeat_pairs, 0);
    assert_int_equal(meetup_explain_get(hub, e3, four[0], four[1], &e), 0);
    assert_int_equal(e->times_met, 1);
    meetup_explain_free(e);

    /* A second event of the same 12 in March's scope: nobody repeats. */
    {
        uint64_t e4 =
            create_event(hub, "June", 4, 1, MEETUP_SCOPE_LAST_EVENTS);
        struct meetup_change *ch;

        add_people(hub, e4, 0, 12);
        assert_int_equal(check(hub, e4, MEETUP_OP_CHECK_IN, 0, 12), 0);
        assert_int_equal(next_round(hub, e4), 0);
        ch = change_log[n_log - 1];
        /* last_events is 0: no earlier event counts. */
        assert_int_equal(ch->round.repeat_pairs, 0);
    }
    for (i = 0; i < 4; i++)
        free((char *)four[i]);
    log_clear();
    meetup_free(hub);
}

static void test_history_avoids_earlier_pairs(void **state)
{
    struct meetup *hub = meetup_new();
    struct pairset *seen = pairset_new();
    int present[200] = {0};
    uint64_t e1, e2;
    int k;

    (void)state;
    for (k = 0; k < 16; k++)
        present[k] = 1;
    e1 = create_event(hub, "One", 4, 1, MEETUP_SCOPE_ALL);
    add_people(hub, e1, 0, 16);
    assert_int_equal(check(hub, e1, MEETUP_OP_CHECK_IN, 0, 16), 0);
    assert_int_equal(next_round(hub, e1), 0);
    check_round(hub, e1, 4, present, 16, seen, -1, -1);
    e2 = create_event(hub, "Two", 4, 1, MEETUP_SCOPE_ALL);
    add_people(hub, e2, 0, 16);
    assert_int_equal(check(hub, e2, MEETUP_OP_CHECK_IN, 0, 16), 0);
    assert_int_equal(next_round(hub, e2), 0);
    check_round(hub, e2, 4, present, 16, seen, -1, -1);
    pairset_free(seen);
    log_clear();
    meetup_free(hub);
}

static void test_plan_cache(void **state)
{
    struct meetup *hub = meetup_new();
    struct meetup_request req = { .op = MEETUP_OP_NEXT_ROUND };
    struct meetup_change *a, *b;
    uint64_t ev, token;

    (void)state;
    ev = create_event(hub, "Cache", 4, 4, MEETUP_SCOPE_ALL);
    req.event_id = ev;
    add_people(hub, ev, 0, 24);
    assert_int_equal(check(hub, ev, MEETUP_OP_CHECK_IN, 0, 24), 0);

    /* Preparing twice changes nothing: the same seating both times. */
    assert_int_equal(meetup_prepare(hub, &req, &a), 0);
    assert_int_equal(meetup_prepare(hub, &req, &b), 0);
    assert_int_equal(a->round.round, 1);
    assert_int_equal(b->round.round, 1);
    assert_memory_equal(a->round.table_of, b->round.table_of,
                        a->round.n * sizeof(uint32_t));
    token = a->plan_token;
    assert_true(token != 0);
    assert_int_equal(b->plan_token, token);
    meetup_change_free(b);
    assert_int_equal(meetup_apply(hub, a), 0);
    change_log[n_log++] = a;

    /* Nothing changed: round 2 comes from the same plan. */
    assert_int_equal(meetup_prepare(hub, &req, &b), 0);
    assert_int_equal(b->plan_token, token);
    assert_int_equal(b->round.round, 2);
    assert_int_equal(meetup_apply(hub, b), 0);
    change_log[n_log++] = b;

    /* A late arrival re-plans the future. */
    add_people(hub, ev, 24, 1);
    assert_int_equal(check(hub, ev, MEETUP_OP_CHECK_IN, 24, 1), 0);
    assert_int_equal(meetup_prepare(hub, &req, &b), 0);
    assert_true(b->plan_token != token);
    assert_int_equal(b->round.n, 25);
    assert_int_equal(b->round.repeat_pairs, 0);
    meetup_change_free(b);
    log_clear();
    meetup_free(hub);
}

static void test_forget(void **state)
{
    struct meetup *hub = meetup_new();
    struct meetup_request fg = { .op = MEETUP_OP_FORGET, .n_ids = 1 };
    struct meetup_encounter enc[64];
    struct meetup_event_info info;
    struct meetup_attendee_list *l;
    struct meetup_change *ch;
    const char *who = "p1";
    uint64_t e1, e2, e3, before;
    bool more;
    size_t n, i;
    int mentions = 0, tokens = 0;

    (void)state;
    e1 = create_event(hub, "A", 3, 1, MEETUP_SCOPE_ALL);
    e2 = create_event(hub, "B", 3, 1, MEETUP_SCOPE_ALL);
    add_people(hub, e1, 0, 6);
    add_people(hub, e2, 0, 6);
    assert_int_equal(check(hub, e1, MEETUP_OP_CHECK_IN, 0, 6), 0);
    assert_int_equal(next_round(hub, e1), 0);
    before = meetup_encounter_count(hub);
    assert_int_equal(before, 6);

    fg.ids = &who;
    assert_int_equal(run(hub, &fg), 0);
    assert_int_equal(meetup_prepare(hub, &fg, &ch), -ENOENT);
    assert_int_equal(meetup_encounter_count(hub), before);
    n = meetup_history(hub, 0, enc, 64, &more);
    assert_int_equal(n, before);
    assert_false(more);
    for (i = 0; i < n; i++) {
        mentions += !strcmp(enc[i].a, "p1") || !strcmp(enc[i].b, "p1");
        tokens += !strncmp(enc[i].a, "forgotten-", 10) ||
                  !strncmp(enc[i].b, "forgotten-", 10);
    }
    assert_int_equal(mentions, 0);
    assert_int_equal(tokens, 2);
    assert_int_equal(meetup_event_info(hub, e1, &info), 0);
    assert_int_equal(info.attendees, 5);
    assert_int_equal(info.present, 5);
    assert_int_equal(meetup_event_info(hub, e2, &info), 0);
    assert_int_equal(info.attendees, 5);
    assert_int_equal(meetup_attendees_get(hub, e2, &l), 0);
    for (i = 0; i < l->n_profiles; i++)
        assert_string_not_equal(l->profiles[i].id, "p1");
    meetup_attendee_list_free(l);
    /* Events that had p1 keep the forgotten seat: the id is refused. */
    {
        struct att_profile again = { .id = "p1" };
        struct meetup_request up = { .op = MEETUP_OP_UPSERT, .event_id = e2,
                                     .profiles = &again, .n_profiles = 1 };

        assert_int_equal(meetup_prepare(hub, &up, &ch), -EPERM);
    }
    /* Elsewhere the id is free for a new person without the old history:
     * the forgotten p1 met two of p0, p2..p5 in event A. */
    e3 = create_event(hub, "C", 3, 1, MEETUP_SCOPE_ALL);
    add_people(hub, e3, 0, 6);
    for (i = 0; i < 6; i++) {
        struct meetup_explain *x;

        if (i == 1)
            continue;
        assert_int_equal(meetup_explain_get(hub, e3, "p1", ids[i], &x), 0);
        assert_false(x->met_before);
        meetup_explain_free(x);
    }
    /* Paging. */
    n = meetup_history(hub, 2, enc, 3, &more);
    assert_int_equal(n, 3);
    assert_int_equal(enc[0].seq, 3);
    assert_true(more);
    log_clear();
    meetup_free(hub);
}

static void assert_same_state(struct meetup *x, struct meetup *y)
{
    struct meetup_encounter ex[256], ey[256];
    bool mx, my;
    size_t n, i, e;

    assert_int_equal(meetup_event_count(x), meetup_event_count(y));
    for (e = 1; e <= meetup_event_count(x); e++) {
        struct meetup_schedule *sx, *sy;
        struct meetup_attendee_list *lx, *ly;
        struct meetup_event_info ix, iy;
        uint32_t r, t, k;

        assert_int_equal(meetup_event_info(x, e, &ix), 0);
        assert_int_equal(meetup_event_info(y, e, &iy), 0);
        assert_string_equal(ix.def.name, iy.def.name);
        assert_int_equal(ix.rounds_done, iy.rounds_done);
        assert_int_equal(ix.present, iy.present);
        assert_int_equal(ix.attendees, iy.attendees);
        assert_int_equal(ix.closed, iy.closed);
        assert_int_equal(meetup_schedule_get(x, e, 1, &sx), 0);
        assert_int_equal(meetup_schedule_get(y, e, 1, &sy), 0);
        assert_int_equal(sx->n_rounds, sy->n_rounds);
        assert_true(sx->affinity_total == sy->affinity_total);
        assert_int_equal(sx->repeat_pairs, sy->repeat_pairs);
        for (r = 0; r < sx->n_rounds; r++) {
            assert_int_equal(sx->rounds[r].n_tables, sy->rounds[r].n_tables);
            for (t = 0; t < sx->rounds[r].n_tables; t++) {
                const struct meetup_table_view *a = &sx->rounds[r].tables[t];
                const struct meetup_table_view *b = &sy->rounds[r].tables[t];

                assert_int_equal(a->n, b->n);
                assert_string_equal(a->why, b->why);
                for (k = 0; k < a->n; k++)
                    assert_string_equal(a->ids[k], b->ids[k]);
            }
        }
        meetup_schedule_free(sx);
        meetup_schedule_free(sy);
        assert_int_equal(meetup_attendees_get(x, e, &lx), 0);
        assert_int_equal(meetup_attendees_get(y, e, &ly), 0);
        assert_int_equal(lx->n_profiles, ly->n_profiles);
        assert_int_equal(lx->n_present, ly->n_present);
        assert_int_equal(lx->n_avoid, ly->n_avoid);
        for (k = 0; k < lx->n_present; k++)
            assert_string_equal(lx->present[k], ly->present[k]);
        meetup_attendee_list_free(lx);
        meetup_attendee_list_free(ly);
    }
    n = meetup_history(x, 0, ex, 256, &mx);
    assert_int_equal(meetup_history(y, 0, ey, 256, &my), n);
    for (i = 0; i < n; i++) {
        assert_string_equal(ex[i].a, ey[i].a);
        assert_string_equal(ex[i].b, ey[i].b);
        assert_int_equal(ex[i].round, ey[i].round);
        assert_int_equal(ex[i].event_id, ey[i].event_id);
    }
}

static void test_replay(void **state)
{
    struct meetup *hub = meetup_new();
    struct meetup *copy = meetup_new();
    struct meetup_pair mb = { "p0", "p1" };
    struct meetup_request pa = { .op = MEETUP_OP_PAIRS_ADD,
                                 .pair_kind = MEETUP_PAIR_MET_BEFORE,
                                 .pairs = &mb, .n_pairs = 1 };
    struct meetup_request rm = { .op = MEETUP_OP_REMOVE, .n_ids = 1 };
    const char *gone = "p7";
    uint64_t e1, e2;
    size_t i;

    (void)state;
    e1 = create_event(hub, "R1", 5, 3, MEETUP_SCOPE_ALL);
    add_people(hub, e1, 0, 30);
    pa.event_id = e1;
    assert_int_equal(run(hub, &pa), 0);
    assert_int_equal(check(hub, e1, MEETUP_OP_CHECK_IN, 0, 28), 0);
    assert_int_equal(next_round(hub, e1), 0);
    assert_int_equal(check(hub, e1, MEETUP_OP_CHECK_OUT, 3, 2), 0);
    assert_int_equal(next_round(hub, e1), 0);
    rm.event_id = e1;
    rm.ids = &gone;
    assert_int_equal(run(hub, &rm), 0);
    assert_int_equal(next_round(hub, e1), 0);
    e2 = create_event(hub, "R2", 4, 2, MEETUP_SCOPE_ALL);
    add_people(hub, e2, 10, 20);
    assert_int_equal(check(hub, e2, MEETUP_OP_CHECK_IN, 10, 20), 0);
    assert_int_equal(next_round(hub, e2), 0);
    {
        struct meetup_request fg = { .op = MEETUP_OP_FORGET, .n_ids = 1 };
        const char *who = "p12";

        fg.ids = &who;
        assert_int_equal(run(hub, &fg), 0);
    }
    assert_int_equal(next_round(hub, e2), 0);

    for (i = 0; i < n_log; i++)
        assert_int_equal(meetup_apply(copy, change_log[i]), 0);
    assert_same_state(hub, copy);
    /* A change out of order does not fit. */
    assert_int_equal(meetup_apply(copy, change_log[n_log - 1]), -EINVAL);
    log_clear();
    meetup_free(hub);
    meetup_free(copy);
}

static void test_stats_and_list(void **state)
{
    struct meetup *hub = meetup_new();
    struct meetup_stats st;
    struct meetup_attendee_list *l;
    struct meetup_pair av = { "p2", "p5" };
    struct meetup_request pa = { .op = MEETUP_OP_PAIRS_ADD,
                                 .pair_kind = MEETUP_PAIR_AVOID,
                                 .pairs = &av, .n_pairs = 1 };
    uint64_t ev;

    (void)state;
    ev = create_event(hub, "S", 3, 2, MEETUP_SCOPE_ALL);
    add_people(hub, ev, 0, 9);
    pa.event_id = ev;
    assert_int_equal(run(hub, &pa), 0);
    assert_int_equal(change_log[n_log - 1]->count, 1);
    assert_int_equal(check(hub, ev, MEETUP_OP_CHECK_IN, 0, 9), 0);
    assert_int_equal(change_log[n_log - 1]->count, 9);
    assert_int_equal(next_round(hub, ev), 0);
    assert_int_equal(meetup_stats_get(hub, ev, &st), 0);
    assert_int_equal(st.events, 1);
    assert_int_equal(st.attendees, 9);
    assert_int_equal(st.present, 9);
    assert_int_equal(st.rounds_done, 1);
    assert_int_equal(st.encounters, 9);
    assert_int_equal(meetup_stats_get(hub, 0, &st), 0);
    assert_int_equal(st.encounters, 9);
    assert_int_equal(meetup_stats_get(hub, 5, &st), -ENOENT);
    assert_int_equal(meetup_attendees_get(hub, ev, &l), 0);
    assert_int_equal(l->n_profiles, 9);
    assert_int_equal(l->n_present, 9);
    assert_int_equal(l->n_avoid, 1);
    assert_int_equal(l->n_met_before, 0);
    assert_string_equal(l->profiles[0].id, "p0");
    assert_int_equal(l->profiles[0].n_interests, 2);
    meetup_attendee_list_free(l);
    log_clear();
    meetup_free(hub);
}

/* Upserts `n` bare attendees "L<first>".. in one request. */
static int upsert_many(struct meetup *hub, uint64_t ev, int first, int n)
{
    struct att_profile *p = calloc((size_t)n, sizeof(*p));
    char (*names)[16] = calloc((size_t)n, sizeof(*names));
    struct meetup_request req = { .op = MEETUP_OP_UPSERT, .event_id = ev };
    int i, ret;

    assert_non_null(p);
    assert_non_null(names);
    for (i = 0; i < n; i++) {
        snprintf(names[i], sizeof(names[i]), "L%d", first + i);
        p[i].id = names[i];
    }
    req.profiles = p;
    req.n_profiles = (size_t)n;
    ret = run(hub, &req);
    free(p);
    free(names);
    return ret;
}

/* Table size and attendees per event are bounded, so that a round's
 * commit and the read side's scoring stay small. */
static void test_limits(void **state)
{
    struct meetup *hub = meetup_new();
    struct meetup_request req = { .op = MEETUP_OP_EVENT_CREATE };
    struct meetup_change *ch;
    struct meetup_request rm = { .op = MEETUP_OP_REMOVE };
    const char *gone = "L0";
    uint32_t max50 = meetup_attendees_max(MEETUP_TABLE_SIZE_MAX);
    uint64_t ev;

    (void)state;
    assert_int_equal(meetup_attendees_max(2), MEETUP_ATTENDEES_MAX);
    assert_int_equal(meetup_attendees_max(8), MEETUP_ATTENDEES_MAX);
    assert_int_equal(max50, 2 * MEETUP_ROUND_PAIRS_MAX /
                                (MEETUP_TABLE_SIZE_MAX - 1));
    req.event.name = "too wide";
    req.event.table_size = MEETUP_TABLE_SIZE_MAX + 1;
    req.event.rounds_planned = 2;
    assert_int_equal(meetup_prepare(hub, &req, &ch), -EINVAL);
    req.event.table_size = 8;
    req.event.rounds_planned = MEETUP_ROUNDS_MAX + 1;
    assert_int_equal(meetup_prepare(hub, &req, &ch), -EINVAL);
    ev = create_event(hub, "wide", MEETUP_TABLE_SIZE_MAX, 2,
                      MEETUP_SCOPE_NONE);
    assert_int_equal(upsert_many(hub, ev, 0, (int)max50 + 1), -ENOSPC);
    assert_non_null(strstr(meetup_error(hub), "at most"));
    assert_int_equal(upsert_many(hub, ev, 0, (int)max50), 0);
    assert_int_equal(upsert_many(hub, ev, (int)max50, 1), -ENOSPC);
    /* Profiles already there are updates, not growth. */
    assert_int_equal(upsert_many(hub, ev, 0, 10), 0);
    rm.event_id = ev;
    rm.ids = &gone;
    rm.n_ids = 1;
    assert_int_equal(run(hub, &rm), 0);
    assert_int_equal(upsert_many(hub, ev, (int)max50, 1), 0);
    assert_int_equal(upsert_many(hub, ev, 0, 1), -ENOSPC);
    log_clear();
    meetup_free(hub);
}

/* Stats sum table by table, schedules round by round: the same up to
 * rounding. */
static bool same_sum(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (fabs(a) + fabs(b) + 1.0);
}

/* Stats and schedules keep each round's scores; a profile change makes
 * them count anew, under the new profile. */
static void test_score_caches(void **state)
{
    struct meetup *hub = meetup_new();
    struct meetup_schedule *s1, *s2;
    struct meetup_stats st;
    struct att_profile p = { .id = "p0", .name = "p0" };
    struct meetup_request up = { .op = MEETUP_OP_UPSERT, .profiles = &p,
                                 .n_profiles = 1 };
    uint64_t ev;

    (void)state;
    ev = create_event(hub, "C", 3, 3, MEETUP_SCOPE_ALL);
    add_people(hub, ev, 0, 9);
    assert_int_equal(check(hub, ev, MEETUP_OP_CHECK_IN, 0, 9), 0);
    assert_int_equal(next_round(hub, ev), 0);
    assert_int_equal(meetup_stats_get(hub, ev, &st), 0);
    assert_int_equal(meetup_schedule_get(hub, ev, 1, &s1), 0);
    assert_true(same_sum(st.affinity_total, s1->affinity_total));
    meetup_schedule_free(s1);
    /* A round more: only it is scored, the sum stays exact. */
    assert_int_equal(next_round(hub, ev), 0);
    assert_int_equal(meetup_schedule_get(hub, ev, 1, &s1), 0);
    assert_int_equal(meetup_schedule_get(hub, ev, 1, &s2), 0);
    assert_int_equal(meetup_stats_get(hub, ev, &st), 0);
    assert_true(same_sum(st.affinity_total, s1->affinity_total));
    assert_true(s1->affinity_total == s2->affinity_total);
    assert_true(s1->min_attendee_affinity == s2->min_attendee_affinity);
    assert_string_equal(s1->rounds[1].tables[0].why,
                        s2->rounds[1].tables[0].why);
    meetup_schedule_free(s2);
    /* p0 loses every tag: the figures follow the new profile. */
    up.event_id = ev;
    assert_int_equal(run(hub, &up), 0);
    assert_int_equal(meetup_schedule_get(hub, ev, 1, &s2), 0);
    assert_int_equal(meetup_stats_get(hub, ev, &st), 0);
    assert_true(same_sum(st.affinity_total, s2->affinity_total));
    assert_true(s2->affinity_total < s1->affinity_total);
    meetup_schedule_free(s1);
    meetup_schedule_free(s2);
    log_clear();
    meetup_free(hub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_errors),
        cmocka_unit_test(test_rounds_with_arrivals),
        cmocka_unit_test(test_history_across_events),
        cmocka_unit_test(test_history_avoids_earlier_pairs),
        cmocka_unit_test(test_plan_cache),
        cmocka_unit_test(test_forget),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_stats_and_list),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_score_caches),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
