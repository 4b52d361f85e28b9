/* dispatch_impl.h -- what the dispatch_*.c files share; not a public API.
 *
 * dispatch.c decodes, authenticates, checks and routes requests;
 * dispatch_mutate.c runs the mutations; dispatch_reply.c builds the query
 * responses from the engine's views.  Response messages live in the
 * per-request `out` arena and borrow the hub's strings.
 */
#ifndef MINGLE_DISPATCH_IMPL_H
#define MINGLE_DISPATCH_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dispatch.h"
#include "meetup.h"
#include "mingle.pb-c.h"
#include "pballoc.h"
#include "store.h"

#define DISPATCH_ID_FIELD_KEY ((1u << 3) | 0u) /* Response.id, VARINT */

/* Told to clients in HelloReply, and enforced on UpsertAttendees: a
 * batch is validated, committed and applied in the event loop, about
 * 8 ms for 500 profiles on 2 cores (bench/bench_requests.py). */
#define DISPATCH_MAX_ATTENDEES_PER_REQUEST 500u

/* GetSchedule answers kept encoded, for this many events: a schedule
 * builds and encodes every seat of every round (tens of milliseconds at
 * the limits), and stays the same while its event's views_epoch and
 * rounds do. */
#define DISPATCH_SCHEDULE_CACHE_EVENTS 4

struct dispatch_schedule_entry {
    uint64_t event_id; /* 0: empty */
    uint64_t views_epoch;
    uint32_t rounds;
    uint64_t used;     /* d->requests when last sent, for eviction */
    uint8_t *body;     /* the encoded Schedule message */
    size_t len;
};

struct dispatch {
    const struct dispatch_ops *ops;
    void *server;
    uint32_t max_frame_bytes;
    char *token; /* NULL: no Hello required */
    size_t token_len;
    char *data_dir;
    struct meetup *hub;
    struct store *store; /* NULL: in memory only */
    bool failed;         /* a commit failed: every request gets STOP */
    struct pballoc *in; /* the decoded request */
    struct pballoc *out; /* the response being built */
    time_t started;
    uint64_t requests;
    uint64_t seed_counter;
    /* Events whose plans a committed change made stale, [first, last]
     * (0: none): planned anew once the response is queued. */
    uint64_t replan_first;
    uint64_t replan_last;
    struct dispatch_schedule_entry schedules[DISPATCH_SCHEDULE_CACHE_EVENTS];
};

/* The response being built, and the engine views it borrows from until
 * it is sent. */
struct dispatch_reply {
    Mingle__V1__Response resp;
    struct meetup_schedule *sched;
    struct meetup_explain *explain;
    struct meetup_attendee_list *list;
};

/* A failure on the way to a response: code and text for Error. */
struct dispatch_fail {
    Mingle__V1__ErrorCode code;
    char msg[256];
};

/* Records a failure in *f; always returns -1 for tail calls. */
int dispatch_fail_set(struct dispatch_fail *f, Mingle__V1__ErrorCode code,
                      const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Memory for the response under construction, freed after it is sent;
 * NULL when the response grows past its cap. */
void *dispatch_out_alloc(struct dispatch *d, size_t size);

#define DISPATCH_OUT_NEW(d, var, type, init)                                  \
    do {                                                                      \
        (var) = dispatch_out_alloc((d), sizeof(type));                        \
        if ((var) != NULL)                                                    \
            *(var) = (type)init;                                              \
    } while (0)

/* The ErrorCode for a negative errno of the engine. */
Mingle__V1__ErrorCode dispatch_errno_code(int err);

/* BAD_REQUEST for a malformed attendee id; returns 0 or -1. */
int dispatch_check_id(struct dispatch_fail *f, const char *id);

/* BAD_REQUEST for event id 0; returns 0 or -1. */
int dispatch_check_event_id(struct dispatch_fail *f, uint64_t id);

/* Hands ops->plan a planning job for the event, or stops its planning
 * when it has nothing to plan or compute (meetup_plan_job_new). */
void dispatch_plan_event(struct dispatch *d, uint64_t event_id);

/* dispatch_mutate.c: the mutations.  Each fills `resp` (NextRound sends
 * its own response and push, leaving `resp` unset) and returns 0, or
 * returns -1 with *f filled; a failed commit also sets d->failed. */
int dispatch_create_event(struct dispatch *d,
                          const Mingle__V1__CreateEvent *c,
                          Mingle__V1__Response *resp, struct dispatch_fail *f);
int dispatch_close_event(struct dispatch *d, uint64_t event_id,
                         Mingle__V1__Response *resp, struct dispatch_fail *f);
int dispatch_ack_mutation(struct dispatch *d, const Mingle__V1__Request *req,
                          Mingle__V1__Response *resp, struct dispatch_fail *f);
int dispatch_next_round(struct dispatch *d, void *peer,
                        const Mingle__V1__Request *req,
                        struct dispatch_fail *f);

/* dispatch_reply.c.  The *_msg builders return NULL when the response
 * outgrows its arena; the others fill a response and return 0, or -1
 * with *f filled. */
Mingle__V1__EventInfo *dispatch_event_info_msg(struct dispatch *d,
                                               uint64_t event_id);
Mingle__V1__RoundAssigned *
dispatch_round_msg(struct dispatch *d, uint64_t event_id,
                   const struct meetup_round_view *r);
int dispatch_event(struct dispatch *d, uint64_t event_id,
                   Mingle__V1__Response *resp, struct dispatch_fail *f);
int dispatch_list_events(struct dispatch *d, bool include_closed,
                         Mingle__V1__Response *resp, struct dispatch_fail *f);
/* GetSchedule sends its answer itself (from the cache when it can),
 * leaving rp->resp unset. */
int dispatch_schedule(struct dispatch *d, void *peer,
                      const Mingle__V1__Request *req,
                      struct dispatch_reply *rp, struct dispatch_fail *f);
/* Frees the encoded schedules kept by dispatch_schedule(). */
void dispatch_schedule_cache_free(struct dispatch *d);
int dispatch_explain(struct dispatch *d, const Mingle__V1__Explain *x,
                     struct dispatch_reply *rp, struct dispatch_fail *f);
int dispatch_stats(struct dispatch *d, uint64_t event_id,
                   Mingle__V1__Response *resp, struct dispatch_fail *f);
int dispatch_attendees(struct dispatch *d, uint64_t event_id,
                       struct dispatch_reply *rp, struct dispatch_fail *f);
int dispatch_history(struct dispatch *d, const Mingle__V1__ExportHistory *x,
                     Mingle__V1__Response *resp, struct dispatch_fail *f);
int dispatch_preview(struct dispatch *d, uint64_t event_id,
                     struct dispatch_reply *rp, struct dispatch_fail *f);

#endif
