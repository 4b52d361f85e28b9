/* planner.h -- the background planner: one thread that runs planning
 * jobs (meetup.h) for the event loop and hands their plans back to it.
 *
 * The loop submits a job whenever an event changed.  A newer job for the
 * same event replaces one still queued and cancels one running, whose
 * plans would be stale anyway.  The thread runs jobs one at a time,
 * oldest first, with one search thread.  Each better plan it finds (after
 * the construction, after improving epochs, at the end) waits in an
 * outbox, newest per event, and the loop is woken through a socketpair to
 * deliver it: `deliver` runs in the loop thread and decides whether the
 * plan still fits (meetup_plan_install).  A job ends when its search
 * converges, at the time limit, or when cancelled; then the next starts,
 * or the thread sleeps.  A job yields to a queued job of another event
 * once its own event has a plan (from before the job, or the job's
 * first): an event that changed needs a plan more than one that has a
 * plan needs a better one.  The yielding event keeps its plan and is not
 * resumed (its next change plans it again): a search cut short would
 * restart from scratch.
 *
 * Ownership crosses threads only through the queue and the outbox, under
 * one mutex: a job belongs to the queue, then to the thread; a plan to the
 * outbox, then to the loop.  The loop never waits for the thread: submit,
 * cancel and status take the mutex, which the thread holds only to move a
 * few pointers.
 */
#ifndef MINGLE_PLANNER_H
#define MINGLE_PLANNER_H

#include <stdint.h>

struct event_base;
struct meetup_plan_job;
struct meetup_plan_result;

enum planner_state {
    PLANNER_IDLE,      /* no job for the event, or its job hit the limit */
    PLANNER_WORKING,   /* queued, running, or a plan not yet delivered */
    PLANNER_CONVERGED, /* its last job stopped because it converged */
};

struct planner_status {
    enum planner_state state;
    uint64_t age_ms; /* since a plan of it was last installed; 0: never */
};

struct planner;

/* Starts the thread; plans are delivered from events on `base`, which
 * must outlive the planner.  `time_limit_ms` (> 0) bounds each job.
 * deliver(ctx, res) is called in the loop thread with each plan and
 * returns 0 when it installed it; the planner frees `res` after the call.
 * Returns NULL with *err set (a negative errno). */
struct planner *planner_new(struct event_base *base, uint32_t time_limit_ms,
                            int (*deliver)(void *ctx,
                                           struct meetup_plan_result *res),
                            void *ctx, int *err);

/* Cancels and joins the thread, then frees the queue, the undelivered
 * plans and the planner; nothing is delivered any more.  NULL is a no-op. */
void planner_free(struct planner *p);

/* Queues `job` for its event (see the top), taking ownership of it in
 * every case.  Returns 0, or -ECANCELED after planner_stop(). */
int planner_submit(struct planner *p, struct meetup_plan_job *job);

/* Forgets the queued job of an event and cancels its running one (the
 * event closed, or has nothing to plan). */
void planner_cancel(struct planner *p, uint64_t event_id);

/* The time limit for jobs started from now on. */
void planner_set_time_limit(struct planner *p, uint32_t time_limit_ms);

/* Cancels all work and stops delivering, without waiting for the thread:
 * for a daemon on its way out.  Idempotent. */
void planner_stop(struct planner *p);

/* What the planner is doing for `event_id`. */
void planner_status(struct planner *p, uint64_t event_id,
                    struct planner_status *out);

#endif
