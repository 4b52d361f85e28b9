/* planner.c -- the planner thread, its queue and outbox (see planner.h).
 *
 * The thread wakes the loop through a socketpair rather than through
 * libevent's own locking: libevent stays single-threaded, and the
 * thread's one contact with it is a byte written when the outbox turns
 * non-empty.  An event's state is "working" until its job has ended and
 * the end has been delivered, so a client that waits for the planner to
 * stop and then previews the next round sees the plan NextRound takes.
 */
#include "planner.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#include "meetup.h"

/* One search thread leaves a core to the loop on a two-core laptop.  The
 * thread keeps the default priority: a lower one starved it on a busy
 * machine, and NextRound then planned in the loop, stalling it longer. */
#define PLANNER_SEARCH_THREADS 1

/* What the thread leaves for the loop, one per event. */
struct planner_mail {
    uint64_t event_id;
    struct meetup_plan_result *res; /* the newest plan, or NULL */
    bool ended;     /* a job of the event ended */
    bool converged; /* ...and the last one that ended converged */
};

/* What the loop remembers of an event's jobs. */
struct planner_rec {
    uint64_t event_id;
    bool converged;
    uint64_t installed_ms; /* 0: never */
};

struct planner {
    struct event_base *base;
    struct event *wake_ev;
    evutil_socket_t wake[2]; /* the loop reads [0], the thread writes [1] */
    int (*deliver)(void *ctx, struct meetup_plan_result *res);
    void *ctx;
    pthread_t thread;
    bool started;
    bool locks;              /* mu and cv were initialized */

    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* Under mu. */
    struct meetup_plan_job **queue;
    size_t n_queue;
    size_t queue_cap;
    struct planner_mail *outbox;
    size_t n_out;
    size_t out_cap;
    uint64_t running; /* the event of the running job, when busy */
    bool busy;
    bool yielding;    /* the running job's event has a plan: see the top */
    bool stopping;
    uint32_t time_limit_ms;
    /* Read by the search without the lock; written under it. */
    atomic_int cancel;

    /* The loop thread's alone. */
    struct planner_rec *recs;
    size_t n_recs;
    size_t recs_cap;
};

static uint64_t planner_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Makes room for one more element of `size` bytes in *arr.  Returns 0 or
 * -ENOMEM (the array unchanged). */
static int planner_grow(void **arr, size_t *cap, size_t n, size_t size)
{
    size_t ncap = *cap ? *cap * 2 : 8;
    void *grown;

    if (n < *cap)
        return 0;
    grown = realloc(*arr, ncap * size);
    if (grown == NULL)
        return -ENOMEM;
    *arr = grown;
    *cap = ncap;
    return 0;
}

/* ---- the thread ---- */

/* Leaves a plan (or only the end of a job) in the outbox and wakes the
 * loop if it was empty.  A job's end and `busy` change together, so the
 * loop never sees the event idle before its last plan is delivered. */
static void planner_post(struct planner *p, uint64_t event_id,
                         struct meetup_plan_result *res, bool ended,
                         bool converged)
{
    struct meetup_plan_result *drop = NULL;
    struct planner_mail *m = NULL;
    bool wake;
    size_t i;

    pthread_mutex_lock(&p->mu);
    wake = p->n_out == 0;
    for (i = 0; i < p->n_out && m == NULL; i++) {
        if (p->outbox[i].event_id == event_id)
            m = &p->outbox[i];
    }
    if (m == NULL && planner_grow((void **)&p->outbox, &p->out_cap, p->n_out,
                                  sizeof(*p->outbox)) == 0) {
        m = &p->outbox[p->n_out++];
        *m = (struct planner_mail){ .event_id = event_id };
    }
    if (m == NULL) {
        /* Out of memory: this improvement is lost, the next may not be. */
        drop = res;
    } else {
        if (res != NULL) {
            drop = m->res;
            m->res = res;
        }
        if (ended) {
            m->ended = true;
            m->converged = converged;
        }
    }
    if (ended) {
        p->busy = false;
    } else {
        p->yielding = true;
        if (p->n_queue > 0)
            atomic_store(&p->cancel, 1);
    }
    pthread_mutex_unlock(&p->mu);
    meetup_plan_result_free(drop);
    if (wake) {
        char b = 1;
        /* A full socket already holds a wake-up. */
        ssize_t n = write(p->wake[1], &b, 1);

        (void)n;
    }
}

static void planner_improved(void *ctx, struct meetup_plan_result *res)
{
    struct planner *p = ctx;

    planner_post(p, meetup_plan_result_event(res), res, false, false);
}

static void *planner_main(void *arg)
{
    struct planner *p = arg;

    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        struct meetup_plan_opts o = {
            .threads = PLANNER_SEARCH_THREADS,
            .cancel = &p->cancel,
            .improved = planner_improved,
            .ctx = p,
        };
        struct meetup_plan_result *res = NULL;
        struct meetup_plan_info info = { 0 };
        struct meetup_plan_job *job;
        uint64_t event_id;

        if (p->n_queue == 0) {
            pthread_cond_wait(&p->cv, &p->mu);
            continue;
        }
        job = p->queue[0];
        memmove(p->queue, p->queue + 1, --p->n_queue * sizeof(*p->queue));
        event_id = meetup_plan_job_event(job);
        p->running = event_id;
        p->busy = true;
        p->yielding = meetup_plan_job_has_plan(job);
        atomic_store(&p->cancel, p->yielding && p->n_queue > 0);
        o.time_limit_ms = p->time_limit_ms;
        pthread_mutex_unlock(&p->mu);

        if (meetup_plan_run(job, &o, &res) < 0)
            res = NULL;
        meetup_plan_job_free(job);
        if (res != NULL)
            meetup_plan_result_info(res, &info);
        planner_post(p, event_id, res, true, info.converged);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- the loop's side ---- */

static struct planner_rec *planner_rec_find(struct planner *p,
                                            uint64_t event_id)
{
    size_t i;

    for (i = 0; i < p->n_recs; i++) {
        if (p->recs[i].event_id == event_id)
            return &p->recs[i];
    }
    return NULL;
}

/* The record of an event, made on first use; NULL on ENOMEM (the status
 * then lacks the age and convergence, nothing else). */
static struct planner_rec *planner_rec_get(struct planner *p,
                                           uint64_t event_id)
{
    struct planner_rec *rec = planner_rec_find(p, event_id);

    if (rec != NULL || planner_grow((void **)&p->recs, &p->recs_cap,
                                    p->n_recs, sizeof(*p->recs)) < 0)
        return rec;
    rec = &p->recs[p->n_recs++];
    *rec = (struct planner_rec){ .event_id = event_id };
    return rec;
}

static void planner_wake_cb(evutil_socket_t fd, short what, void *arg)
{
    struct planner *p = arg;
    struct planner_mail *mail;
    char buf[64];
    bool stopping;
    size_t n, i;

    (void)what;
    while (recv(fd, buf, sizeof(buf), 0) > 0)
        continue;
    pthread_mutex_lock(&p->mu);
    mail = p->outbox;
    n = p->n_out;
    p->outbox = NULL;
    p->n_out = 0;
    p->out_cap = 0;
    stopping = p->stopping;
    pthread_mutex_unlock(&p->mu);
    /* All of it before any request is handled: see the top. */
    for (i = 0; i < n; i++) {
        struct planner_rec *rec = stopping ? NULL
                                           : planner_rec_get(p,
                                                             mail[i].event_id);

        if (!stopping && mail[i].res != NULL &&
            p->deliver(p->ctx, mail[i].res) == 0 && rec != NULL)
            rec->installed_ms = planner_now_ms();
        if (mail[i].ended && rec != NULL)
            rec->converged = mail[i].converged;
        meetup_plan_result_free(mail[i].res);
    }
    free(mail);
}

struct planner *planner_new(struct event_base *base, uint32_t time_limit_ms,
                            int (*deliver)(void *ctx,
                                           struct meetup_plan_result *res),
                            void *ctx, int *err)
{
    struct planner *p = calloc(1, sizeof(*p));
    sigset_t all, old;
    int rc;

    *err = -ENOMEM;
    if (p == NULL)
        return NULL;
    p->base = base;
    p->deliver = deliver;
    p->ctx = ctx;
    p->time_limit_ms = time_limit_ms;
    p->wake[0] = p->wake[1] = -1;
    atomic_init(&p->cancel, 0);
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    p->locks = true;
    if (evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, p->wake) != 0 ||
        evutil_make_socket_nonblocking(p->wake[0]) != 0 ||
        evutil_make_socket_nonblocking(p->wake[1]) != 0 ||
        evutil_make_socket_closeonexec(p->wake[0]) != 0 ||
        evutil_make_socket_closeonexec(p->wake[1]) != 0) {
        *err = -errno;
        goto fail;
    }
    p->wake_ev = event_new(base, p->wake[0], EV_READ | EV_PERSIST,
                           planner_wake_cb, p);
    if (p->wake_ev == NULL || event_add(p->wake_ev, NULL) != 0)
        goto fail;
    /* Signals are the loop's business (libevent's signal events). */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&p->thread, NULL, planner_main, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        *err = -rc;
        goto fail;
    }
    p->started = true;
    *err = 0;
    return p;
fail:
    if (*err == 0)
        *err = -ENOMEM;
    planner_free(p);
    return NULL;
}

void planner_stop(struct planner *p)
{
    struct meetup_plan_job **queue;
    size_t n, i;

    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    p->stopping = true;
    atomic_store(&p->cancel, 1);
    queue = p->queue;
    n = p->n_queue;
    p->queue = NULL;
    p->n_queue = 0;
    p->queue_cap = 0;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (i = 0; i < n; i++)
        meetup_plan_job_free(queue[i]);
    free(queue);
}

void planner_free(struct planner *p)
{
    size_t i;

    if (p == NULL)
        return;
    if (p->locks)
        planner_stop(p);
    if (p->started)
        pthread_join(p->thread, NULL);
    /* The thread is gone: what it left needs no lock. */
    for (i = 0; i < p->n_out; i++)
        meetup_plan_result_free(p->outbox[i].res);
    free(p->outbox);
    if (p->wake_ev != NULL)
        event_free(p->wake_ev);
    for (i = 0; i < 2; i++) {
        if (p->wake[i] >= 0)
            evutil_closesocket(p->wake[i]);
    }
    if (p->locks) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
    }
    free(p->recs);
    free(p);
}

int planner_submit(struct planner *p, struct meetup_plan_job *job)
{
    uint64_t event_id = meetup_plan_job_event(job);
    struct meetup_plan_job *old = NULL;
    int ret = 0;
    size_t i;

    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        ret = -ECANCELED;
        goto out;
    }
    for (i = 0; i < p->n_queue && old == NULL; i++) {
        if (meetup_plan_job_event(p->queue[i]) == event_id) {
            /* In place: the event keeps its turn. */
            old = p->queue[i];
            p->queue[i] = job;
        }
    }
    if (old == NULL) {
        ret = planner_grow((void **)&p->queue, &p->queue_cap, p->n_queue,
                           sizeof(*p->queue));
        if (ret < 0)
            goto out;
        p->queue[p->n_queue++] = job;
    }
    /* A newer job for the same event replaces the running one; another
     * event's may make it yield. */
    if (p->busy && (p->running == event_id || p->yielding))
        atomic_store(&p->cancel, 1);
    pthread_cond_signal(&p->cv);
out:
    pthread_mutex_unlock(&p->mu);
    meetup_plan_job_free(ret < 0 ? job : old);
    return ret;
}

void planner_cancel(struct planner *p, uint64_t event_id)
{
    struct meetup_plan_job *old = NULL;
    size_t i;

    pthread_mutex_lock(&p->mu);
    for (i = 0; i < p->n_queue && old == NULL; i++) {
        if (meetup_plan_job_event(p->queue[i]) == event_id) {
            old = p->queue[i];
            memmove(&p->queue[i], &p->queue[i + 1],
                    (p->n_queue - i - 1) * sizeof(*p->queue));
            p->n_queue--;
        }
    }
    if (p->busy && p->running == event_id)
        atomic_store(&p->cancel, 1);
    pthread_mutex_unlock(&p->mu);
    meetup_plan_job_free(old);
}

void planner_set_time_limit(struct planner *p, uint32_t time_limit_ms)
{
    pthread_mutex_lock(&p->mu);
    p->time_limit_ms = time_limit_ms;
    pthread_mutex_unlock(&p->mu);
}

void planner_status(struct planner *p, uint64_t event_id,
                    struct planner_status *out)
{
    const struct planner_rec *rec = planner_rec_find(p, event_id);
    bool working = false;
    size_t i;

    pthread_mutex_lock(&p->mu);
    working = p->busy && p->running == event_id;
    for (i = 0; i < p->n_queue && !working; i++)
        working = meetup_plan_job_event(p->queue[i]) == event_id;
    for (i = 0; i < p->n_out && !working; i++)
        working = p->outbox[i].event_id == event_id;
    pthread_mutex_unlock(&p->mu);
    out->state = working ? PLANNER_WORKING
                 : rec != NULL && rec->converged ? PLANNER_CONVERGED
                                                 : PLANNER_IDLE;
    out->age_ms = rec != NULL && rec->installed_ms != 0
                      ? planner_now_ms() - rec->installed_ms
                      : 0;
}
