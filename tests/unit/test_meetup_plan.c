/* test_meetup_plan.c -- planning jobs: snapshot, run, install; the
 * preview; quality figures.  Searches run under work budgets (effort), so
 * the plans do not depend on the machine's speed. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "meetup.h"

#define PEOPLE_MAX 200
#define LOG_MAX 64
#define EFFORT_SMALL 0.05
#define EFFORT 0.5

static const char *const TAGS[] = { "Jazz", "Segeln", "Fußball", "Golf",
                                    "Kochen", "Schach", "Laufen", "Tango",
                                    "Imkerei", "Vinyl", "Krimis" };
static const char *const BIZ[] = { "Webdesign", "Steuerberatung", "SEO",
                                   "Recht", "Fotografie", "Logistik" };
static char ids[PEOPLE_MAX][16];

/* Every applied change, to replay onto a second hub. */
static struct meetup_change *change_log[LOG_MAX];
static size_t n_log;

static void log_clear(void)
{
    while (n_log > 0)
        meetup_change_free(change_log[--n_log]);
}

static int run(struct meetup *hub, const struct meetup_request *req)
{
    struct meetup_change *ch;
    int ret = meetup_prepare(hub, req, &ch);

    if (ret < 0)
        return ret;
    assert_int_equal(meetup_apply(hub, ch), 0);
    if (n_log < LOG_MAX)
        change_log[n_log++] = ch;
    else
        meetup_change_free(ch);
    return 0;
}

static uint64_t create_event(struct meetup *hub, uint32_t table_size,
                             uint32_t rounds)
{
    struct meetup_request req = { .op = MEETUP_OP_EVENT_CREATE };

    req.event.name = "plan";
    req.event.table_size = table_size;
    req.event.rounds_planned = rounds;
    aff_weights_default(&req.event.weights);
    req.event.seed = 11;
    req.event.history.kind = MEETUP_SCOPE_ALL;
    req.event.created_unix = 1700000000;
    assert_int_equal(run(hub, &req), 0);
    return meetup_event_count(hub);
}

/* People first..first+n-1 with ids "p<k>" and a few tags each, picked by
 * a fixed pseudo-random sequence. */
static void add_people(struct meetup *hub, uint64_t ev, int first, int n)
{
    static const char *tags[PEOPLE_MAX][4];
    struct att_profile *p = calloc((size_t)n, sizeof(*p));
    struct meetup_request req = { .op = MEETUP_OP_UPSERT, .event_id = ev };
    uint32_t x = 12345;
    int i;

    assert_non_null(p);
    for (i = 0; i < n; i++) {
        int k = first + i, j;

        snprintf(ids[k], sizeof(ids[k]), "p%d", k);
        for (j = 0; j < 4; j++) {
            x = x * 1103515245u + 12345u;
            tags[k][j] = j < 2 ? TAGS[(x >> 16) % 11] : BIZ[(x >> 16) % 6];
        }
        p[i].id = ids[k];
        p[i].name = ids[k];
        p[i].interests = &tags[k][0];
        p[i].n_interests = tags[k][0] == tags[k][1] ? 1 : 2;
        p[i].offers = &tags[k][2];
        p[i].n_offers = 1;
        p[i].seeks = &tags[k][3];
        p[i].n_seeks = tags[k][2] == tags[k][3] ? 0 : 1;
    }
    req.profiles = p;
    req.n_profiles = (size_t)n;
    assert_int_equal(run(hub, &req), 0);
    free(p);
}

static int presence(struct meetup *hub, uint64_t ev, enum meetup_op op,
                    int first, int n)
{
    const char *list[PEOPLE_MAX];
    struct meetup_request req = { .op = op, .event_id = ev };
    int i;

    for (i = 0; i < n; i++)
        list[i] = ids[first + i];
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

static uint64_t event_with(struct meetup *hub, int people, uint32_t ts,
                           uint32_t rounds)
{
    uint64_t ev = create_event(hub, ts, rounds);

    add_people(hub, ev, 0, people);
    assert_int_equal(presence(hub, ev, MEETUP_OP_CHECK_IN, 0, people), 0);
    return ev;
}

/* Runs a job for `ev` to the end under a work budget. */
static struct meetup_plan_result *plan(struct meetup *hub, uint64_t ev,
                                       double effort)
{
    struct meetup_plan_opts o = { .time_limit_ms = 600000, .effort = effort,
                                  .threads = 1 };
    struct meetup_plan_job *job;
    struct meetup_plan_result *res;

    assert_int_equal(meetup_plan_job_new(hub, ev, &job), 0);
    assert_int_equal(meetup_plan_run(job, &o, &res), 0);
    meetup_plan_job_free(job);
    assert_non_null(res);
    return res;
}

static int install(struct meetup *hub, uint64_t ev, double effort)
{
    struct meetup_plan_result *res = plan(hub, ev, effort);
    int ret = meetup_plan_install(hub, res);

    meetup_plan_result_free(res);
    return ret;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A round as text that does not depend on table order: members sorted,
 * tables sorted.  The caller frees it. */
static char *round_sig(const struct meetup_round_view *r)
{
    char **tabs = calloc(r->n_tables, sizeof(*tabs));
    size_t len = 1, t, i;
    char *out;

    assert_non_null(tabs);
    for (t = 0; t < r->n_tables; t++) {
        const char **m = calloc(r->tables[t].n, sizeof(*m));

        assert_non_null(m);
        memcpy(m, r->tables[t].ids, r->tables[t].n * sizeof(*m));
        qsort(m, r->tables[t].n, sizeof(*m), cmp_str);
        tabs[t] = calloc(r->tables[t].n * 17 + 2, 1);
        assert_non_null(tabs[t]);
        for (i = 0; i < r->tables[t].n; i++) {
            strcat(tabs[t], m[i]);
            strcat(tabs[t], ",");
        }
        len += strlen(tabs[t]) + 1;
        free(m);
    }
    qsort(tabs, r->n_tables, sizeof(*tabs), cmp_str);
    out = calloc(len, 1);
    assert_non_null(out);
    for (t = 0; t < r->n_tables; t++) {
        strcat(out, tabs[t]);
        strcat(out, "|");
        free(tabs[t]);
    }
    free(tabs);
    return out;
}

static char *preview_sig(struct meetup *hub, uint64_t ev)
{
    struct meetup_schedule *s;
    char *sig;

    assert_int_equal(meetup_preview_get(hub, ev, &s), 0);
    assert_int_equal(s->n_rounds, 1);
    sig = round_sig(&s->rounds[0]);
    meetup_schedule_free(s);
    return sig;
}

static char *round_done_sig(struct meetup *hub, uint64_t ev, uint32_t round)
{
    struct meetup_schedule *s;
    char *sig;

    assert_int_equal(meetup_schedule_get(hub, ev, round, &s), 0);
    assert_true(s->n_rounds >= 1);
    assert_int_equal(s->rounds[0].repeat_pairs, 0);
    sig = round_sig(&s->rounds[0]);
    meetup_schedule_free(s);
    return sig;
}

static void test_job_errors(void **state)
{
    struct meetup *hub = meetup_new();
    struct meetup_plan_job *job = (void *)1;
    struct meetup_request close = { .op = MEETUP_OP_EVENT_CLOSE };
    uint64_t ev;

    (void)state;
    assert_int_equal(meetup_plan_job_new(hub, 1, &job), -ENOENT);
    assert_null(job);
    ev = create_event(hub, 4, 3);
    add_people(hub, ev, 0, 6);
    assert_int_equal(meetup_plan_job_new(hub, ev, &job), -EPERM);
    assert_int_equal(presence(hub, ev, MEETUP_OP_CHECK_IN, 0, 1), 0);
    assert_int_equal(meetup_plan_job_new(hub, ev, &job), -EPERM);
    assert_int_equal(presence(hub, ev, MEETUP_OP_CHECK_IN, 1, 5), 0);
    assert_int_equal(meetup_plan_job_new(hub, ev, &job), 0);
    assert_int_equal(meetup_plan_job_event(job), ev);
    meetup_plan_job_free(job);
    close.event_id = ev;
    assert_int_equal(run(hub, &close), 0);
    assert_int_equal(meetup_plan_job_new(hub, ev, &job), -EPERM);
    meetup_plan_job_free(NULL);
    meetup_plan_result_free(NULL);
    log_clear();
    meetup_free(hub);
}

/* A background plan is what PreviewRound shows and NextRound assigns,
 * and it keeps serving the rounds after it. */
static void test_install_preview_next(void **state)
{
    struct meetup *hub = meetup_new();
    struct meetup_plan_state st;
    struct meetup_plan_info info;
    struct meetup_plan_result *res;
    uint64_t ev = event_with(hub, 40, 5, 4);
    char *a, *b;

    (void)state;
    res = plan(hub, ev, EFFORT);
    meetup_plan_result_info(res, &info);
    assert_int_equal(info.event_id, ev);
    assert_int_equal(info.next_round, 1);
    assert_int_equal(info.rounds, 4);
    assert_int_equal(info.repeat_pairs, 0);
    assert_false(info.worse);
    assert_int_equal(info.quality.attendees, 40);
    assert_int_equal(meetup_plan_result_event(res), ev);
    assert_int_equal(meetup_plan_install(hub, res), 0);
    meetup_plan_result_free(res);
    assert_int_equal(meetup_plan_state_get(hub, ev, &st), 0);
    assert_true(st.usable);
    assert_true(st.background);
    assert_int_equal(st.rounds, 4);
    for (uint32_t r = 1; r <= 4; r++) {
        a = preview_sig(hub, ev);
        assert_int_equal(next_round(hub, ev), 0);
        b = round_done_sig(hub, ev, r);
        assert_string_equal(a, b);
        free(a);
        free(b);
        assert_int_equal(meetup_plan_state_get(hub, ev, &st), 0);
        assert_int_equal(st.usable, r < 4);
        assert_int_equal(st.rounds, r < 4 ? 4 - r : 0);
    }
    log_clear();
    meetup_free(hub);
}

/* A result is installed only while the event is as its snapshot saw it. */
static void test_stale(void **state)
{
    struct meetup *hub = meetup_new();
    struct meetup_request pairs = { .op = MEETUP_OP_PAIRS_ADD };
    struct meetup_pair pair = { "p0", "p1" };
    uint64_t e1 = event_with(hub, 30, 5, 4);
    uint64_t e2 = event_with(hub, 30, 5, 4);
    struct meetup_plan_result *res;

    (void)state;
    /* A check-in. */
    res = plan(hub, e1, EFFORT_SMALL);
    assert_int_equal(presence(hub, e1, MEETUP_OP_CHECK_OUT, 0, 1), 0);
    assert_int_equal(meetup_plan_install(hub, res), -ESTALE);
    meetup_plan_result_free(res);
    /* A round (made on the spot). */
    res = plan(hub, e1, EFFORT_SMALL);
    assert_int_equal(next_round(hub, e1), 0);
    assert_int_equal(meetup_plan_install(hub, res), -ESTALE);
    meetup_plan_result_free(res);
    /* A profile. */
    res = plan(hub, e1, EFFORT_SMALL);
    add_people(hub, e1, 3, 1);
    assert_int_equal(meetup_plan_install(hub, res), -ESTALE);
    meetup_plan_result_free(res);
    /* A pair. */
    res = plan(hub, e1, EFFORT_SMALL);
    pairs.event_id = e1;
    pairs.pair_kind = MEETUP_PAIR_AVOID;
    pairs.pairs = &pair;
    pairs.n_pairs = 1;
    assert_int_equal(run(hub, &pairs), 0);
    assert_int_equal(meetup_plan_install(hub, res), -ESTALE);
    meetup_plan_result_free(res);
    /* A round of a later event is no history of an earlier one... */
    res = plan(hub, e1, EFFORT_SMALL);
    assert_int_equal(next_round(hub, e2), 0);
    assert_int_equal(meetup_plan_install(hub, res), 0);
    meetup_plan_result_free(res);
    /* ...but a round of an earlier one is. */
    res = plan(hub, e2, EFFORT_SMALL);
    assert_int_equal(next_round(hub, e1), 0);
    assert_int_equal(meetup_plan_install(hub, res), -ESTALE);
    meetup_plan_result_free(res);
    /* Closed. */
    res = plan(hub, e2, EFFORT_SMALL);
    pairs = (struct meetup_request){ .op = MEETUP_OP_EVENT_CLOSE,
                                     .event_id = e2 };
    assert_int_equal(run(hub, &pairs), 0);
    assert_int_equal(meetup_plan_install(hub, res), -ESTALE);
    meetup_plan_result_free(res);
    log_clear();
    meetup_free(hub);
}

/* A result no better than the plan in use leaves it in place, and never
 * reaches the `improved` callback. */
static int n_improved;
static int n_improved_worse;

static void count_improved(void *ctx, struct meetup_plan_result *res)
{
    struct meetup_plan_info info;

    (void)ctx;
    meetup_plan_result_info(res, &info);
    n_improved++;
    n_improved_worse += info.worse;
    meetup_plan_result_free(res);
}

static void test_no_worse_plan(void **state)
{
    struct meetup *hub = meetup_new();
    struct meetup_plan_opts o = { .time_limit_ms = 600000,
                                  .effort = EFFORT_SMALL, .threads = 1,
                                  .improved = count_improved };
    struct meetup_plan_job *job;
    struct meetup_plan_result *res;
    struct meetup_plan_info big, small;
    uint64_t ev = event_with(hub, 60, 6, 5);
    char *before, *after;

    (void)state;
    res = plan(hub, ev, 2.0);
    meetup_plan_result_info(res, &big);
    assert_int_equal(meetup_plan_install(hub, res), 0);
    meetup_plan_result_free(res);
    for (int round = 0; round < 2; round++) {
        before = preview_sig(hub, ev);
        assert_int_equal(meetup_plan_job_new(hub, ev, &job), 0);
        n_improved = n_improved_worse = 0;
        assert_int_equal(meetup_plan_run(job, &o, &res), 0);
        meetup_plan_job_free(job);
        assert_int_equal(n_improved_worse, 0);
        meetup_plan_result_info(res, &small);
        if (small.worse) {
            assert_int_equal(meetup_plan_install(hub, res), -EALREADY);
            after = preview_sig(hub, ev);
            assert_string_equal(before, after);
            free(after);
        }
        if (round == 0)
            assert_true(small.worse == (small.objective < big.objective));
        meetup_plan_result_free(res);
        free(before);
        /* After a round the old plan still serves; a new job must beat
         * its remaining rounds. */
        assert_int_equal(next_round(hub, ev), 0);
    }
    log_clear();
    meetup_free(hub);
}

/* A cancelled search still returns a complete plan, at once. */
static void test_cancel(void **state)
{
    struct meetup *hub = meetup_new();
    atomic_int cancel = 1;
    struct meetup_plan_opts o = { .time_limit_ms = 600000, .threads = 1,
                                  .cancel = &cancel };
    struct meetup_plan_job *job;
    struct meetup_plan_result *res;
    struct meetup_plan_info info;
    uint64_t ev = event_with(hub, 150, 8, 6);
    char *a, *b;

    (void)state;
    assert_int_equal(meetup_plan_job_new(hub, ev, &job), 0);
    assert_int_equal(meetup_plan_run(job, &o, &res), 0);
    meetup_plan_job_free(job);
    meetup_plan_result_info(res, &info);
    assert_true(info.cancelled);
    assert_false(info.converged);
    assert_int_equal(info.rounds, 6);
    assert_int_equal(meetup_plan_install(hub, res), 0);
    meetup_plan_result_free(res);
    a = preview_sig(hub, ev);
    assert_int_equal(next_round(hub, ev), 0);
    b = round_done_sig(hub, ev, 1);
    assert_string_equal(a, b);
    free(a);
    free(b);
    log_clear();
    meetup_free(hub);
}

/* Of the pairs at one table of `a`'s next round, how many share a table
 * in `b`'s too. */
static size_t pairs_kept(const struct meetup_schedule *a,
                         const struct meetup_schedule *b, size_t *pairs)
{
    const struct meetup_round_view *ra = &a->rounds[0], *rb = &b->rounds[0];
    size_t kept = 0;

    *pairs = 0;
    for (uint32_t t = 0; t < ra->n_tables; t++) {
        const struct meetup_table_view *tv = &ra->tables[t];

        for (uint32_t i = 0; i < tv->n; i++) {
            for (uint32_t j = i + 1; j < tv->n; j++) {
                (*pairs)++;
                for (uint32_t u = 0; u < rb->n_tables; u++) {
                    const struct meetup_table_view *w = &rb->tables[u];
                    int found = 0;

                    for (uint32_t k = 0; k < w->n; k++)
                        found += !strcmp(w->ids[k], tv->ids[i]) ||
                                 !strcmp(w->ids[k], tv->ids[j]);
                    kept += found == 2;
                }
            }
        }
    }
    return kept;
}

/* A check-in re-plans from the plan before: its first result, the
 * construction alone, keeps most tables together and seats the newcomer. */
static void test_replan_from_current(void **state)
{
    struct meetup *hub = meetup_new();
    atomic_int cancel = 1;
    struct meetup_plan_opts o = { .time_limit_ms = 600000, .threads = 1,
                                  .cancel = &cancel };
    struct meetup_plan_job *job;
    struct meetup_plan_result *res;
    struct meetup_schedule *before, *after;
    uint64_t ev = event_with(hub, 59, 6, 4);
    size_t pairs, kept;

    (void)state;
    assert_int_equal(install(hub, ev, 2.0), 0);
    assert_int_equal(meetup_preview_get(hub, ev, &before), 0);
    add_people(hub, ev, 59, 1);
    assert_int_equal(presence(hub, ev, MEETUP_OP_CHECK_IN, 59, 1), 0);
    assert_int_equal(meetup_plan_job_new(hub, ev, &job), 0);
    assert_int_equal(meetup_plan_run(job, &o, &res), 0);
    meetup_plan_job_free(job);
    assert_int_equal(meetup_plan_install(hub, res), 0);
    meetup_plan_result_free(res);
    assert_int_equal(meetup_preview_get(hub, ev, &after), 0);
    assert_int_equal(after->rounds[0].attendees, 60);
    kept = pairs_kept(before, after, &pairs);
    /* A cold start keeps about one pair in ten; the few the warm one
     * loses are the fairness swaps that still run after it. */
    assert_true(pairs > 100);
    assert_true(kept * 4 >= pairs * 3);
    meetup_schedule_free(before);
    meetup_schedule_free(after);
    log_clear();
    meetup_free(hub);
}

/* The job runs in another thread while the hub changes: it must touch
 * nothing of the hub (ThreadSanitizer watches), and its plan is stale. */
struct job_thread {
    struct meetup_plan_job *job;
    struct meetup_plan_result *res;
    int ret;
};

static void *job_main(void *arg)
{
    struct job_thread *jt = arg;
    struct meetup_plan_opts o = { .time_limit_ms = 600000, .effort = EFFORT,
                                  .threads = 2 };

    jt->ret = meetup_plan_run(jt->job, &o, &jt->res);
    return NULL;
}

static void test_job_in_thread(void **state)
{
    struct meetup *hub = meetup_new();
    struct job_thread jt = { 0 };
    struct meetup_quality q;
    pthread_t th;
    uint64_t ev = event_with(hub, 80, 6, 5);

    (void)state;
    assert_int_equal(next_round(hub, ev), 0);
    assert_int_equal(meetup_plan_job_new(hub, ev, &jt.job), 0);
    assert_int_equal(pthread_create(&th, NULL, job_main, &jt), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(presence(hub, ev, MEETUP_OP_CHECK_OUT, i, 1), 0);
        add_people(hub, ev, 80 + i, 1);
        assert_int_equal(presence(hub, ev, MEETUP_OP_CHECK_IN, 80 + i, 1), 0);
        assert_int_equal(next_round(hub, ev), 0);
        assert_int_equal(meetup_quality_get(hub, ev, true, &q), 0);
    }
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(jt.ret, 0);
    assert_int_equal(meetup_plan_install(hub, jt.res), -ESTALE);
    meetup_plan_result_free(jt.res);
    meetup_plan_job_free(jt.job);
    log_clear();
    meetup_free(hub);
}

static void assert_metrics_equal(const struct sched_metrics *a,
                                 const struct sched_metrics *b)
{
    assert_int_equal(a->attendees, b->attendees);
    assert_int_equal(a->seats, b->seats);
    assert_int_equal(a->lonely_seats, b->lonely_seats);
    assert_int_equal(a->empty_handed, b->empty_handed);
    assert_int_equal(a->business_min, b->business_min);
    assert_true(a->objective - b->objective < 1e-6 &&
                b->objective - a->objective < 1e-6);
    assert_true(a->business_lift - b->business_lift < 1e-9 &&
                b->business_lift - a->business_lift < 1e-9);
}

/* The figures a background plan brings equal those computed in the hub's
 * thread; with arrivals and leavers, the rounds seat different people. */
static void test_quality(void **state)
{
    struct meetup *hub = meetup_new();
    struct meetup_quality q1, q2;
    struct meetup_plan_state st;
    uint64_t ev = create_event(hub, 5, 4);

    (void)state;
    add_people(hub, ev, 0, 40);
    assert_int_equal(meetup_quality_get(hub, ev, true, &q1), 0);
    assert_false(q1.done_valid);
    assert_false(q1.plan_valid);
    assert_int_equal(meetup_quality_get(hub, 9, true, &q1), -ENOENT);
    assert_int_equal(presence(hub, ev, MEETUP_OP_CHECK_IN, 0, 35), 0);
    assert_int_equal(install(hub, ev, EFFORT), 0);
    assert_int_equal(next_round(hub, ev), 0);
    assert_int_equal(presence(hub, ev, MEETUP_OP_CHECK_OUT, 0, 2), 0);
    assert_int_equal(presence(hub, ev, MEETUP_OP_CHECK_IN, 35, 5), 0);
    assert_int_equal(install(hub, ev, EFFORT), 0);
    assert_int_equal(meetup_quality_get(hub, ev, true, &q1), 0);
    assert_true(q1.done_valid);
    assert_true(q1.plan_valid);
    assert_int_equal(q1.done.attendees, 35);
    assert_int_equal(q1.done.seats, 35);
    assert_int_equal(q1.plan.attendees, 40);
    assert_int_equal(q1.plan.seats, 35 + 3 * 38);
    assert_int_equal(meetup_plan_state_get(hub, ev, &st), 0);
    assert_true(st.background);
    /* The same profile again: a change, after which the hub's thread
     * computes the figures itself, for the same seats. */
    add_people(hub, ev, 0, 1);
    assert_int_equal(meetup_quality_get(hub, ev, false, &q2), 0);
    assert_false(q2.done_valid);
    assert_false(q2.plan_valid);
    assert_int_equal(meetup_quality_get(hub, ev, true, &q2), 0);
    assert_true(q2.done_valid);
    assert_false(q2.plan_valid);
    assert_metrics_equal(&q1.done, &q2.done);
    /* A plan made on the spot gets its figures on demand. */
    free(preview_sig(hub, ev));
    assert_int_equal(meetup_quality_get(hub, ev, true, &q2), 0);
    assert_true(q2.plan_valid);
    assert_int_equal(q2.plan.seats, 35 + 3 * 38);
    assert_int_equal(meetup_plan_state_get(hub, ev, &st), 0);
    assert_false(st.background);
    log_clear();
    meetup_free(hub);
}

/* An event with nothing left to plan still gets a job when its rounds'
 * quality is unknown: the job computes it, so Stats never has to. */
static void test_metrics_only_job(void **state)
{
    struct meetup *hub = meetup_new();
    struct meetup_request close = { .op = MEETUP_OP_EVENT_CLOSE };
    struct meetup_plan_job *job;
    struct meetup_plan_result *res;
    struct meetup_plan_opts o = { .effort = EFFORT_SMALL };
    struct meetup_plan_info info;
    struct meetup_quality q;
    uint64_t ev = create_event(hub, 4, 3);

    (void)state;
    add_people(hub, ev, 0, 12);
    assert_int_equal(presence(hub, ev, MEETUP_OP_CHECK_IN, 0, 12), 0);
    assert_int_equal(next_round(hub, ev), 0);
    close.event_id = ev;
    assert_int_equal(run(hub, &close), 0);
    assert_int_equal(meetup_quality_get(hub, ev, false, &q), 0);
    assert_false(q.done_valid);
    assert_int_equal(meetup_plan_job_new(hub, ev, &job), 0);
    assert_false(meetup_plan_job_has_plan(job));
    assert_int_equal(meetup_plan_run(job, &o, &res), 0);
    meetup_plan_job_free(job);
    meetup_plan_result_info(res, &info);
    assert_int_equal(info.rounds, 0);
    assert_int_equal(info.next_round, 2);
    /* No plan to install, but the figures are kept. */
    assert_int_equal(meetup_plan_install(hub, res), -EALREADY);
    meetup_plan_result_free(res);
    assert_int_equal(meetup_quality_get(hub, ev, false, &q), 0);
    assert_true(q.done_valid);
    assert_int_equal(q.done.attendees, 12);
    assert_false(q.plan_valid);
    /* Known now: nothing left to plan or compute. */
    assert_int_equal(meetup_plan_job_new(hub, ev, &job), -EPERM);
    log_clear();
    meetup_free(hub);
}

/* A preview scores the plan's next round once; the same plan previewed
 * again shows the same tables, scores and reasons. */
static void test_preview_cache(void **state)
{
    struct meetup *hub = meetup_new();
    struct meetup_schedule *a, *b;
    uint64_t ev = create_event(hub, 4, 3);
    uint32_t t;

    (void)state;
    add_people(hub, ev, 0, 16);
    assert_int_equal(presence(hub, ev, MEETUP_OP_CHECK_IN, 0, 16), 0);
    assert_int_equal(meetup_preview_get(hub, ev, &a), 0);
    assert_int_equal(meetup_preview_get(hub, ev, &b), 0);
    assert_int_equal(a->rounds[0].n_tables, b->rounds[0].n_tables);
    for (t = 0; t < a->rounds[0].n_tables; t++) {
        assert_true(a->rounds[0].tables[t].score ==
                    b->rounds[0].tables[t].score);
        assert_string_equal(a->rounds[0].tables[t].why,
                            b->rounds[0].tables[t].why);
        assert_string_equal(a->rounds[0].tables[t].ids[0],
                            b->rounds[0].tables[t].ids[0]);
    }
    assert_true(a->rounds[0].affinity_total == b->rounds[0].affinity_total);
    meetup_schedule_free(a);
    meetup_schedule_free(b);
    /* After a round the cache is of the next one. */
    assert_int_equal(next_round(hub, ev), 0);
    assert_int_equal(meetup_preview_get(hub, ev, &a), 0);
    assert_int_equal(a->rounds[0].round, 2);
    meetup_schedule_free(a);
    log_clear();
    meetup_free(hub);
}

/* Rounds taken from background plans replay like any other: the change
 * carries the seats, so a rebuilt hub never plans. */
static void test_replay(void **state)
{
    struct meetup *hub = meetup_new(), *copy = meetup_new();
    uint64_t ev = event_with(hub, 30, 4, 3);
    size_t i;

    (void)state;
    assert_int_equal(install(hub, ev, EFFORT), 0);
    assert_int_equal(next_round(hub, ev), 0);
    assert_int_equal(presence(hub, ev, MEETUP_OP_CHECK_OUT, 3, 2), 0);
    assert_int_equal(install(hub, ev, EFFORT), 0);
    assert_int_equal(next_round(hub, ev), 0);
    for (i = 0; i < n_log; i++)
        assert_int_equal(meetup_apply(copy, change_log[i]), 0);
    for (uint32_t r = 1; r <= 2; r++) {
        char *a = round_done_sig(hub, ev, r), *b = round_done_sig(copy, ev, r);

        assert_string_equal(a, b);
        free(a);
        free(b);
    }
    log_clear();
    meetup_free(hub);
    meetup_free(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_errors),
        cmocka_unit_test(test_install_preview_next),
        cmocka_unit_test(test_stale),
        cmocka_unit_test(test_no_worse_plan),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_replan_from_current),
        cmocka_unit_test(test_job_in_thread),
        cmocka_unit_test(test_quality),
        cmocka_unit_test(test_metrics_only_job),
        cmocka_unit_test(test_preview_cache),
        cmocka_unit_test(test_replay),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
