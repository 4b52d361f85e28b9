/* meetup.h -- the live state: events, their attendees and rounds, and the
 * people and encounters shared by all events.
 *
 * A hub holds every event and a registry of people: the same attendee id
 * in two events is the same person, and every pair seated together is
 * recorded as an encounter, so the next event can count earlier meetings
 * as "already met".
 *
 * Every mutation is two-phase so that a store can sit between the phases:
 * meetup_prepare() validates a request and computes a self-contained change
 * (for NextRound it runs the scheduler and records the seating) without
 * touching the state; meetup_apply() applies a change and fails only for
 * lack of memory.  Applying the same changes in the same order to an empty
 * hub rebuilds the same state, without running the scheduler again.
 *
 * The engine reads no clock: times come in with the requests.  Strings
 * returned by the query functions are borrowed from the hub and stay
 * valid until the next meetup_apply() or meetup_free().
 *
 * The hub is not thread-safe: one thread (the daemon's event loop) owns
 * it.  Planning can still run elsewhere: a planning job is a snapshot that
 * owns everything it needs, and its results go back to the owning thread,
 * which installs them only if the event still is as the snapshot saw it.
 */
#ifndef MINGLE_MEETUP_H
#define MINGLE_MEETUP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "affinity.h"
#include "roster.h"
#include "sched_metrics.h"

#define MEETUP_NAME_MAX_BYTES 256      /* event names */
/* Limits that bound the work of one request on the daemon's event loop
 * (bench/bench_requests.py, README "Limits").  A round writes one
 * encounter per pair seated together, about attendees * (table_size - 1)
 * / 2, and that commit runs in the loop; the read side scores every pair
 * at every table.  Applied by meetup_prepare() only: state loaded from a
 * store made under older limits keeps working. */
#define MEETUP_TABLE_SIZE_MAX 50          /* people at one table */
#define MEETUP_ATTENDEES_MAX 2000         /* live attendees of one event */
#define MEETUP_ROUND_PAIRS_MAX 10000      /* attendees * (table_size - 1) / 2 */
#define MEETUP_ROUNDS_MAX 100          /* planned, and assigned per event */
#define MEETUP_EVENTS_MAX 100000
#define MEETUP_PLAN_TIME_LIMIT_MS 40   /* live planning budget per NextRound */
#define MEETUP_PLAN_EFFORT 0.25        /* sched_params.effort for live plans */
#define MEETUP_WHY_MAX_BYTES 512       /* a table's reason, NUL included */

/* How far back encounters from earlier events count as already met. */
enum meetup_scope_kind {
    MEETUP_SCOPE_ALL,         /* every earlier event */
    MEETUP_SCOPE_NONE,        /* no earlier event */
    MEETUP_SCOPE_LAST_EVENTS, /* the `last_events` events before this one */
    MEETUP_SCOPE_SINCE,       /* earlier events created at or after since */
};

struct meetup_scope {
    enum meetup_scope_kind kind;
    uint32_t last_events;
    int64_t since_unix;
};

/* The settings of an event.  `name` is borrowed in requests and owned by
 * the change in changes. */
struct meetup_event_def {
    const char *name;
    uint32_t table_size;     /* 2..MEETUP_TABLE_SIZE_MAX */
    uint32_t rounds_planned; /* 1..MEETUP_ROUNDS_MAX */
    struct aff_weights weights;
    uint64_t seed;
    struct meetup_scope history;
    int64_t created_unix;
};

enum meetup_pair_kind {
    MEETUP_PAIR_MET_BEFORE,
    MEETUP_PAIR_AVOID,
};

struct meetup_pair {
    const char *a;
    const char *b;
};

enum meetup_op {
    MEETUP_OP_EVENT_CREATE, /* event */
    MEETUP_OP_EVENT_CLOSE,  /* event_id */
    MEETUP_OP_UPSERT,       /* event_id, profiles */
    MEETUP_OP_REMOVE,       /* event_id, ids[0] */
    MEETUP_OP_CHECK_IN,     /* event_id, ids */
    MEETUP_OP_CHECK_OUT,    /* event_id, ids */
    MEETUP_OP_PAIRS_ADD,    /* event_id, pair_kind, pairs */
    MEETUP_OP_NEXT_ROUND,   /* event_id, now_unix */
    MEETUP_OP_FORGET,       /* ids[0]: a person, across all events */
};

/* A mutation as asked for; every pointer is borrowed. */
struct meetup_request {
    enum meetup_op op;
    uint64_t event_id;
    int64_t now_unix;
    struct meetup_event_def event;
    const struct att_profile *profiles;
    size_t n_profiles;
    const char *const *ids;
    size_t n_ids;
    enum meetup_pair_kind pair_kind;
    const struct meetup_pair *pairs;
    size_t n_pairs;
};

enum meetup_change_kind {
    MEETUP_CH_EVENT_CREATE,
    MEETUP_CH_EVENT_CLOSE,
    MEETUP_CH_UPSERT,
    MEETUP_CH_REMOVE,
    MEETUP_CH_CHECK_IN,
    MEETUP_CH_CHECK_OUT,
    MEETUP_CH_PAIRS_ADD,
    MEETUP_CH_ROUND,
    MEETUP_CH_FORGET,
};

/* A seating, as frozen into the event.  people[] are roster indices of
 * the event, table_of[i] the 0-based table of people[i]. */
struct meetup_round_rec {
    uint32_t round; /* 1-based */
    int64_t at_unix;
    uint32_t n;
    uint32_t tables;
    uint32_t *people;
    uint32_t *table_of;
    uint64_t repeat_pairs;       /* pairs at its tables that had met */
    uint64_t repeat_lower_bound; /* of the plan it was taken from */
};

/* A validated mutation, self-contained and owning everything it points
 * to: what a store serializes.  Fields unused by `kind` are zero.
 * `count` is how many items the change affects (for acknowledgements). */
struct meetup_change {
    enum meetup_change_kind kind;
    uint64_t event_id;          /* for EVENT_CREATE: the id assigned */
    uint32_t count;
    struct meetup_event_def event;        /* EVENT_CREATE */
    struct att_profile *profiles;         /* UPSERT */
    size_t n_profiles;
    char **ids;                           /* REMOVE, CHECK_*, FORGET */
    size_t n_ids;
    enum meetup_pair_kind pair_kind;      /* PAIRS_ADD */
    struct meetup_pair *pairs;
    size_t n_pairs;
    struct meetup_round_rec round;        /* ROUND */
    uint64_t plan_token; /* ROUND: the cached plan it came from, or 0 */
    void *arena;         /* owns the strings and arrays above */
};

struct meetup;

/* Returns an empty hub, or NULL on ENOMEM. */
struct meetup *meetup_new(void);

/* Frees the hub and everything in it; NULL is a no-op. */
void meetup_free(struct meetup *hub);

/* The live attendees an event at tables of `table_size` may have: the
 * smaller of MEETUP_ATTENDEES_MAX and what keeps a full round within
 * MEETUP_ROUND_PAIRS_MAX pairs. */
uint32_t meetup_attendees_max(uint32_t table_size);

/* Validates `req` against the current state and computes the change it
 * makes, stored in *out (free with meetup_change_free).  The state stays
 * as it was (only caches may fill: affinity models, the look-ahead
 * plan that later NextRounds reuse while nothing changes).  Returns 0;
 * -EINVAL for a malformed request; -ENOENT for an unknown event, attendee
 * or person; -EPERM when the state forbids it (event closed, fewer than 2
 * present, round or event limit, an id forgotten in this event);
 * -ENOSPC when an upsert would take the event past MEETUP_ATTENDEES_MAX
 * or MEETUP_ROUND_PAIRS_MAX (see meetup_attendees_max()); -ENOMEM.  On
 * failure meetup_error() describes why. */
int meetup_prepare(struct meetup *hub, const struct meetup_request *req,
                   struct meetup_change **out);

/* Applies a change made by meetup_prepare() on this state, or replayed in
 * the same order onto a hub rebuilt the same way.  Returns 0, or -ENOMEM
 * (the change is then partly applied: treat the hub as lost), or -EINVAL
 * for a change that does not fit the state (a replay out of order). */
int meetup_apply(struct meetup *hub, const struct meetup_change *ch);

/* Frees a change; NULL is a no-op. */
void meetup_change_free(struct meetup_change *ch);

/* The reason the last meetup_prepare() failed; owned by the hub. */
const char *meetup_error(const struct meetup *hub);

/* ---- queries ---- */

struct meetup_event_info {
    uint64_t event_id;
    struct meetup_event_def def; /* name borrowed */
    uint32_t rounds_done;
    bool closed;
    uint32_t attendees; /* live ones */
    uint32_t present;
    /* Changes whenever the views of the rounds already assigned may
     * change (scores, reasons, seat ids and names: profiles, removals,
     * forgotten people); the rounds themselves never do.  With
     * event_id and rounds_done, a key for anything built from them. */
    uint64_t views_epoch;
};

/* Fills *out for one event.  Returns 0 or -ENOENT. */
int meetup_event_info(const struct meetup *hub, uint64_t event_id,
                      struct meetup_event_info *out);

/* Number of events, and the i-th in creation order (i < count). */
size_t meetup_event_count(const struct meetup *hub);
void meetup_event_info_at(const struct meetup *hub, size_t i,
                          struct meetup_event_info *out);

struct meetup_table_view {
    uint32_t n;
    const char **ids;   /* borrowed; forgotten people show as a token */
    const char **names;
    double score;       /* sum of aff_score over the table's pairs */
    char *why;          /* borrowed, as the ids */
};

struct meetup_round_view {
    uint32_t round;     /* 1-based */
    uint32_t attendees;
    uint32_t n_tables;
    struct meetup_table_view *tables;
    uint64_t repeat_pairs;
    uint64_t repeat_lower_bound;
    double affinity_total;
};

struct meetup_schedule {
    uint64_t event_id;
    const char *name;
    uint32_t n_rounds;
    struct meetup_round_view *rounds;
    uint32_t attendees;          /* distinct people seated */
    uint64_t repeat_pairs;       /* over all rounds */
    uint64_t repeat_lower_bound; /* reported with the latest round */
    double affinity_total;
    double min_attendee_affinity; /* over those seated */
    void *arena;
};

/* Builds the rounds `first_round`.. (1-based; 1 for all) of an event with
 * scores and reasons under the current profiles; the event-wide summary
 * fields are filled only when first_round is 1 (they cost a pass over
 * every round).  Stores a new schedule in *out (free with
 * meetup_schedule_free).  Returns 0, -ENOENT, -ENOMEM. */
int meetup_schedule_get(struct meetup *hub, uint64_t event_id,
                        uint32_t first_round, struct meetup_schedule **out);

/* Frees a schedule; NULL is a no-op. */
void meetup_schedule_free(struct meetup_schedule *s);

struct meetup_explain {
    struct aff_parts parts;
    const char **shared_interests; /* display spellings, borrowed */
    size_t n_shared_interests;
    const char **a_offers_b_seeks;
    size_t n_a_offers_b_seeks;
    const char **b_offers_a_seeks;
    size_t n_b_offers_a_seeks;
    bool met_before; /* a met_before pair, or met at an earlier event */
    bool avoid;
    uint32_t times_met; /* rounds of this event they shared */
    char why[MEETUP_WHY_MAX_BYTES];
    void *arena;
};

/* Explains the affinity of attendees `a` and `b` of an event.  Stores a
 * new explanation in *out (free with meetup_explain_free).  Returns 0,
 * -ENOENT (event or attendee), -EINVAL (a == b), -ENOMEM. */
int meetup_explain_get(struct meetup *hub, uint64_t event_id, const char *a,
                       const char *b, struct meetup_explain **out);

/* Frees an explanation; NULL is a no-op. */
void meetup_explain_free(struct meetup_explain *e);

struct meetup_stats {
    uint32_t events;
    uint32_t attendees;
    uint32_t present;
    uint32_t rounds_done;
    uint64_t repeat_pairs;
    double affinity_total;
    uint64_t encounters;
};

/* Figures for one event, or summed over all events when event_id is 0.
 * Returns 0, -ENOENT, -ENOMEM. */
int meetup_stats_get(struct meetup *hub, uint64_t event_id,
                     struct meetup_stats *out);

/* An event's attendees in event-file terms: live profiles (tag lists in
 * display spelling), pairs between live attendees, and who is present. */
struct meetup_attendee_list {
    struct att_profile *profiles;
    size_t n_profiles;
    struct meetup_pair *met_before;
    size_t n_met_before;
    struct meetup_pair *avoid;
    size_t n_avoid;
    const char **present;
    size_t n_present;
    void *arena;
};

/* Stores a new list in *out (free with meetup_attendee_list_free).
 * Returns 0, -ENOENT, -ENOMEM. */
int meetup_attendees_get(const struct meetup *hub, uint64_t event_id,
                         struct meetup_attendee_list **out);

/* Frees a list; NULL is a no-op. */
void meetup_attendee_list_free(struct meetup_attendee_list *l);

struct meetup_encounter {
    uint64_t seq; /* 1-based, increasing */
    const char *a; /* person ids, or tokens for forgotten people */
    const char *b;
    uint64_t event_id;
    uint32_t round;
    int64_t at_unix;
};

/* Copies up to `cap` encounters with seq > `after` into out[] and returns
 * how many; *more says whether later ones remain. */
size_t meetup_history(const struct meetup *hub, uint64_t after,
                      struct meetup_encounter *out, size_t cap, bool *more);

/* Total encounters recorded. */
uint64_t meetup_encounter_count(const struct meetup *hub);

/* ---- planning in the background (meetup_plan.c) ----
 *
 * An event keeps one cached plan: the remaining planned rounds (at most 8)
 * for the people present, valid while its people, profiles, pairs, rounds
 * and the encounters of earlier events stay as they were.  NextRound takes
 * the plan's next round; without a usable plan it plans in the caller's
 * thread with a small budget (MEETUP_PLAN_TIME_LIMIT_MS).  A planning job
 * lets another thread search longer:
 *
 *     job = meetup_plan_job_new(hub, id)       owning thread: a snapshot
 *     meetup_plan_run(job, opts, &res)         any thread: the search
 *     meetup_plan_install(hub, res)            owning thread again
 *
 * The job and its results own all their memory and never touch the hub,
 * so they may move between threads (one owner at a time). */

struct meetup_plan_job;
struct meetup_plan_result;

/* Snapshots what planning event `event_id` needs: the people present, its
 * earlier rounds, who counts as already met (met_before, earlier rounds,
 * history in scope), avoid pairs, a self-contained affinity model, the
 * rounds left (at most 8) and the seed, and the plan cached now (a result
 * must beat it).  Stores a new job in *out (free with
 * meetup_plan_job_free).  An event with nothing to plan (closed, fewer
 * than 2 present, round limit) whose rounds' quality is not known yet
 * gets a job that only computes it, so that Stats need not.  Returns 0;
 * -ENOENT (no event); -EPERM (nothing to plan or compute); -ENOMEM. */
int meetup_plan_job_new(struct meetup *hub, uint64_t event_id,
                        struct meetup_plan_job **out);

/* The event a job or result plans. */
uint64_t meetup_plan_job_event(const struct meetup_plan_job *job);
uint64_t meetup_plan_result_event(const struct meetup_plan_result *res);

/* Whether the event had a usable plan when the job was made. */
bool meetup_plan_job_has_plan(const struct meetup_plan_job *job);

/* Frees a job; NULL is a no-op. */
void meetup_plan_job_free(struct meetup_plan_job *job);

struct meetup_plan_opts {
    uint32_t time_limit_ms; /* 0: sched_default_time_limit_ms() */
    double effort;          /* work budget as sched_params.effort; 0: none */
    uint32_t threads;       /* search threads; 0: 1 */
    /* Once it reads non-zero, the search returns its best plan soon. */
    const atomic_int *cancel;
    /* Called from the running thread with each plan better than the one
     * cached when the job was made (after the construction, then after
     * improving epochs).  It receives ownership of `res`.  May be NULL. */
    void (*improved)(void *ctx, struct meetup_plan_result *res);
    void *ctx;
};

/* Runs the search for a job, in any thread; touches only the job, which
 * the caller must not use elsewhere meanwhile.  On success stores in *out
 * the best plan found (free with meetup_plan_result_free); one that does
 * not beat the plan cached at the snapshot still says how the search
 * ended, but meetup_plan_install() refuses it.  Returns 0, -EINVAL (the
 * scheduler refused the snapshot), -ENOMEM. */
int meetup_plan_run(struct meetup_plan_job *job,
                    const struct meetup_plan_opts *opts,
                    struct meetup_plan_result **out);

/* What a result is: the search's figures and the quality of the evening
 * it gives (the event's earlier rounds plus the planned ones, see
 * sched_metrics.h). */
struct meetup_plan_info {
    uint64_t event_id;
    uint32_t next_round;   /* 1-based round the plan starts with */
    uint32_t rounds;       /* rounds planned */
    uint64_t repeat_pairs; /* in the planned rounds */
    double objective;      /* of the planned rounds (sched.h) */
    uint32_t epochs;
    uint64_t work;
    bool converged;        /* the search stopped because it converged */
    bool cancelled;
    bool worse;            /* than the plan cached at the snapshot */
    struct sched_metrics quality; /* zero when worse */
};

/* Fills *out for a result. */
void meetup_plan_result_info(const struct meetup_plan_result *res,
                             struct meetup_plan_info *out);

/* Frees a result; NULL is a no-op. */
void meetup_plan_result_free(struct meetup_plan_result *res);

/* Makes `res` the event's cached plan, which the next NextRound and
 * PreviewRound use, if the event is still as the job's snapshot saw it
 * (open, same people, profiles, pairs, rounds and history) and `res` is
 * no worse than the plan cached now (fewer repeats, else at least its
 * objective, over the rounds that plan has left).  The quality of the
 * earlier rounds it brings is kept even when the plan is not (also for
 * a closed event, and from a job that only computed it).  The plan moves
 * out of `res`; free `res` either way.  Returns 0; -ESTALE (the event
 * changed: the result is of no use); -EALREADY (the cached plan is as
 * good, or `res` has no plan); -ENOENT. */
int meetup_plan_install(struct meetup *hub, struct meetup_plan_result *res);

/* The next round as the event's plan would seat it, as a one-round
 * schedule with the views, scores and reasons of meetup_schedule_get()
 * (its summary fields are zero).  Planning here, with NextRound's small
 * budget, when no usable plan is cached; the plan is then cached for
 * NextRound, so a preview and the NextRound after it seat the same while
 * nothing changes.  The scores and reasons are kept for the next preview
 * of the same plan; its reasons stay valid until the next meetup_apply()
 * or a preview of another plan.  Stores a new schedule in *out.  Returns
 * 0, -ENOENT, -EPERM (as NextRound: fewer than 2 present, round limit;
 * see meetup_error()), -EINVAL (the scheduler refused), -ENOMEM. */
int meetup_preview_get(struct meetup *hub, uint64_t event_id,
                       struct meetup_schedule **out);

struct meetup_plan_state {
    bool usable;     /* a plan fits the event now */
    uint32_t rounds; /* rounds it has left, the next one first */
    uint32_t epochs; /* annealing epochs of the search that made it */
    bool converged;  /* that search stopped because it converged */
    bool background; /* made by meetup_plan_run(), not on the spot */
};

/* Fills *out with the event's cached plan, if usable.  Returns 0 or
 * -ENOENT. */
int meetup_plan_state_get(const struct meetup *hub, uint64_t event_id,
                          struct meetup_plan_state *out);

struct meetup_quality {
    /* The rounds assigned so far: valid from the first round on, once
     * computed. */
    bool done_valid;
    struct sched_metrics done;
    /* The evening as it stands: the rounds assigned plus those the cached
     * plan has left: valid while a usable plan is cached, once computed. */
    bool plan_valid;
    struct sched_metrics plan;
};

/* Quality figures of an event (sched_metrics_compute() over its rounds,
 * and over its rounds plus the plan's).  Both are kept until the event
 * changes, and background plans bring them.  Computing them here scores
 * every pair of the event's people once (tens of milliseconds at 1,000
 * people, growing with the square); with `compute` false only
 * the figures at hand are filled, for a caller that has planning jobs
 * (meetup_plan_job_new) bring them.  Returns 0, -ENOENT, -ENOMEM. */
int meetup_quality_get(struct meetup *hub, uint64_t event_id, bool compute,
                       struct meetup_quality *out);

#endif
