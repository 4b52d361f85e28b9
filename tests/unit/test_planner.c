/* test_planner.c -- the planner thread with a real event loop and hub:
 * plans delivered and installed, jobs replaced and cancelled while they
 * run or wait, a job yielding to another event's, stale plans refused,
 * shutdown in the middle of a search.
 *
 * Jobs here run under time limits (the planner's own), so the checks are
 * about what happens, with generous bounds on how long it takes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <event2/event.h>

#include "meetup.h"
#include "planner.h"

#define PEOPLE_MAX 400
#define LONG_MS 60000   /* a job that must be cancelled, never finish */
#define SHORT_MS 300
#define PATIENCE_MS 30000 /* the bound on anything the tests wait for */

static const char *const TAGS[] = { "Jazz", "Segeln", "Golf", "Kochen",
                                    "Schach", "Tango", "Vinyl", "Krimis" };
static const char *const BIZ[] = { "Webdesign", "SEO", "Recht", "Logistik",
                                   "Fotografie" };
static char ids[PEOPLE_MAX][16];

struct fixture {
    struct event_base *base;
    struct event *tick;
    struct meetup *hub;
    struct planner *planner;
    int installed[4];   /* by event id */
    int refused[4];
};

static int apply(struct meetup *hub, const struct meetup_request *req)
{
    struct meetup_change *ch;
    int ret = meetup_prepare(hub, req, &ch);

    if (ret < 0)
        return ret;
    assert_int_equal(meetup_apply(hub, ch), 0);
    meetup_change_free(ch);
    return 0;
}

static int presence(struct meetup *hub, uint64_t ev, enum meetup_op op,
                    int first, int n)
{
    const char *list[PEOPLE_MAX];
    struct meetup_request req = { .op = op, .event_id = ev };

    for (int i = 0; i < n; i++)
        list[i] = ids[first + i];
    req.ids = list;
    req.n_ids = (size_t)n;
    return apply(hub, &req);
}

static uint64_t event_with(struct meetup *hub, int people, uint32_t rounds)
{
    struct meetup_request req = { .op = MEETUP_OP_EVENT_CREATE };
    struct att_profile *p = calloc((size_t)people, sizeof(*p));
    uint64_t ev;

    assert_non_null(p);
    req.event.name = "planner";
    req.event.table_size = 8;
    req.event.rounds_planned = rounds;
    aff_weights_default(&req.event.weights);
    req.event.seed = 5;
    assert_int_equal(apply(hub, &req), 0);
    ev = meetup_event_count(hub);
    for (int k = 0; k < people; k++) {
        snprintf(ids[k], sizeof(ids[k]), "p%d", k);
        p[k].id = ids[k];
        p[k].interests = &TAGS[k % 7];
        p[k].n_interests = 2;
        p[k].offers = &BIZ[k % 5];
        p[k].n_offers = 1;
        p[k].seeks = &BIZ[(k / 5 + 1) % 5];
        p[k].n_seeks = 1;
    }
    req = (struct meetup_request){ .op = MEETUP_OP_UPSERT, .event_id = ev,
                                   .profiles = p,
                                   .n_profiles = (size_t)people };
    assert_int_equal(apply(hub, &req), 0);
    free(p);
    assert_int_equal(presence(hub, ev, MEETUP_OP_CHECK_IN, 0, people - 10),
                     0);
    return ev;
}

static int deliver(void *ctx, struct meetup_plan_result *res)
{
    struct fixture *fx = ctx;
    uint64_t ev = meetup_plan_result_event(res);
    int ret = meetup_plan_install(fx->hub, res);

    assert_true(ev < 4);
    if (ret == 0)
        fx->installed[ev]++;
    else
        fx->refused[ev]++;
    assert_true(ret == 0 || ret == -ESTALE || ret == -EALREADY);
    return ret;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct timeval tv = { 0, 10000 };
    int err;

    assert_non_null(fx);
    fx->base = event_base_new();
    fx->hub = meetup_new();
    assert_non_null(fx->base);
    assert_non_null(fx->hub);
    /* Keeps EVLOOP_ONCE from sleeping forever. */
    fx->tick = event_new(fx->base, -1, EV_PERSIST, tick_cb, NULL);
    assert_int_equal(event_add(fx->tick, &tv), 0);
    fx->planner = planner_new(fx->base, SHORT_MS, deliver, fx, &err);
    assert_non_null(fx->planner);
    assert_int_equal(err, 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    planner_free(fx->planner);
    event_free(fx->tick);
    event_base_free(fx->base);
    meetup_free(fx->hub);
    free(fx);
    return 0;
}

static enum planner_state status(struct fixture *fx, uint64_t ev)
{
    struct planner_status st;

    planner_status(fx->planner, ev, &st);
    return st.state;
}

/* Runs the loop until `ev` is no longer being worked on. */
static void wait_idle(struct fixture *fx, uint64_t ev)
{
    uint64_t t0 = now_ms();

    while (status(fx, ev) == PLANNER_WORKING) {
        assert_true(now_ms() - t0 < PATIENCE_MS);
        event_base_loop(fx->base, EVLOOP_ONCE);
    }
}

/* Runs the loop until a plan of `ev` has been delivered. */
static void wait_delivery(struct fixture *fx, uint64_t ev)
{
    uint64_t t0 = now_ms();
    int seen = fx->installed[ev] + fx->refused[ev];

    while (fx->installed[ev] + fx->refused[ev] == seen) {
        assert_true(now_ms() - t0 < PATIENCE_MS);
        event_base_loop(fx->base, EVLOOP_ONCE);
    }
}

static void submit(struct fixture *fx, uint64_t ev)
{
    struct meetup_plan_job *job;

    assert_int_equal(meetup_plan_job_new(fx->hub, ev, &job), 0);
    assert_int_equal(planner_submit(fx->planner, job), 0);
}

static void test_plans_delivered(void **state)
{
    struct fixture *fx = *state;
    struct meetup_plan_state st;
    struct planner_status ps;
    uint64_t ev = event_with(fx->hub, 60, 4);

    assert_int_equal(status(fx, ev), PLANNER_IDLE);
    submit(fx, ev);
    assert_int_equal(status(fx, ev), PLANNER_WORKING);
    wait_idle(fx, ev);
    assert_true(fx->installed[ev] >= 1);
    assert_int_equal(meetup_plan_state_get(fx->hub, ev, &st), 0);
    assert_true(st.usable);
    assert_true(st.background);
    planner_status(fx->planner, ev, &ps);
    assert_true(ps.state == PLANNER_IDLE || ps.state == PLANNER_CONVERGED);
    assert_true(ps.age_ms < PATIENCE_MS);
    /* Another event is untouched. */
    assert_int_equal(status(fx, ev + 1), PLANNER_IDLE);
}

/* A change while a long job runs: the new job cancels it, its plans are
 * refused as stale, and the new job's plans are installed. */
static void test_replaced_while_running(void **state)
{
    struct fixture *fx = *state;
    struct meetup_plan_state st;
    uint64_t ev = event_with(fx->hub, 300, 8), t0;

    planner_set_time_limit(fx->planner, LONG_MS);
    submit(fx, ev);
    wait_delivery(fx, ev);
    assert_int_equal(status(fx, ev), PLANNER_WORKING);
    /* For the next job: the running one keeps the limit it started with,
     * so only the cancel can end it soon. */
    planner_set_time_limit(fx->planner, SHORT_MS);
    t0 = now_ms();
    assert_int_equal(presence(fx->hub, ev, MEETUP_OP_CHECK_IN, 290, 1), 0);
    submit(fx, ev);
    wait_idle(fx, ev);
    assert_true(now_ms() - t0 < LONG_MS / 2);
    assert_int_equal(meetup_plan_state_get(fx->hub, ev, &st), 0);
    assert_true(st.usable);
    assert_true(st.background);
}

/* A queued job replaced before it ran never runs: its snapshot predates
 * a change, so its plans would have been refused. */
static void test_replaced_in_queue(void **state)
{
    struct fixture *fx = *state;
    uint64_t e1 = event_with(fx->hub, 300, 8);
    uint64_t e2 = event_with(fx->hub, 60, 4);
    struct meetup_plan_job *old, *new;

    planner_set_time_limit(fx->planner, LONG_MS);
    submit(fx, e1);
    planner_set_time_limit(fx->planner, SHORT_MS);
    assert_int_equal(meetup_plan_job_new(fx->hub, e2, &old), 0);
    assert_int_equal(presence(fx->hub, e2, MEETUP_OP_CHECK_IN, 50, 1), 0);
    assert_int_equal(meetup_plan_job_new(fx->hub, e2, &new), 0);
    /* e1's job holds the thread until it delivers its first plan. */
    assert_int_equal(planner_submit(fx->planner, old), 0);
    assert_int_equal(planner_submit(fx->planner, new), 0);
    assert_int_equal(status(fx, e2), PLANNER_WORKING);
    wait_idle(fx, e1);
    wait_idle(fx, e2);
    assert_int_equal(fx->refused[e2], 0);
    assert_true(fx->installed[e2] >= 1);
    /* Cancelling what is not there is harmless. */
    planner_cancel(fx->planner, e2);
    planner_cancel(fx->planner, 99);
}

/* A job whose event has a plan yields to another event's: the event that
 * changed is planned at once, the other keeps its plan. */
static void test_yield(void **state)
{
    struct fixture *fx = *state;
    uint64_t e1 = event_with(fx->hub, 300, 8);
    uint64_t e2 = event_with(fx->hub, 60, 4), t0;
    struct meetup_plan_state st;

    planner_set_time_limit(fx->planner, LONG_MS);
    submit(fx, e1);
    wait_delivery(fx, e1);
    assert_int_equal(status(fx, e1), PLANNER_WORKING);
    planner_set_time_limit(fx->planner, SHORT_MS);
    t0 = now_ms();
    submit(fx, e2);
    wait_idle(fx, e1);
    wait_idle(fx, e2);
    assert_true(now_ms() - t0 < LONG_MS / 2);
    assert_int_equal(status(fx, e1), PLANNER_IDLE);
    assert_true(fx->installed[e2] >= 1);
    assert_int_equal(meetup_plan_state_get(fx->hub, e1, &st), 0);
    assert_true(st.usable);
    assert_int_equal(meetup_plan_state_get(fx->hub, e2, &st), 0);
    assert_true(st.usable);
}

/* Freeing the planner in the middle of a search returns promptly. */
static void test_shutdown_while_working(void **state)
{
    struct fixture *fx = *state;
    uint64_t ev = event_with(fx->hub, 300, 8), t0;

    planner_set_time_limit(fx->planner, LONG_MS);
    submit(fx, ev);
    submit(fx, event_with(fx->hub, 60, 4));
    wait_delivery(fx, ev);
    t0 = now_ms();
    planner_free(fx->planner);
    fx->planner = NULL;
    assert_true(now_ms() - t0 < LONG_MS / 2);
}

/* After planner_stop() nothing is queued or delivered. */
static void test_stop(void **state)
{
    struct fixture *fx = *state;
    uint64_t ev = event_with(fx->hub, 60, 4);
    struct meetup_plan_job *job;

    submit(fx, ev);
    planner_stop(fx->planner);
    planner_stop(fx->planner);
    assert_int_equal(meetup_plan_job_new(fx->hub, ev, &job), 0);
    assert_int_equal(planner_submit(fx->planner, job), -ECANCELED);
    for (int i = 0; i < 20; i++)
        event_base_loop(fx->base, EVLOOP_ONCE);
    assert_int_equal(fx->installed[ev] + fx->refused[ev], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plans_delivered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_replaced_while_running, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_replaced_in_queue, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_yield, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_while_working, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
