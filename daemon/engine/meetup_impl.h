/* meetup_impl.h -- what the meetup_*.c files share; not a public API.
 *
 * meetup.c holds the hub and the simple mutations, meetup_people.c the
 * person registry, meetup_round.c planning, previewing and freezing
 * rounds, meetup_plan.c planning jobs for other threads and the plan's
 * quality, meetup_query.c the read side.
 */
#ifndef MINGLE_MEETUP_IMPL_H
#define MINGLE_MEETUP_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "affinity.h"
#include "meetup.h"
#include "pairset.h"
#include "roster.h"
#include "sched.h"
#include "sched_metrics.h"

#define MU_NO_INDEX UINT32_MAX
/* Look-ahead of a live plan.  Presence changes re-plan the future anyway,
 * and the first planned round must stay fast, so the plan looks no
 * further than a long evening. */
#define MU_PLAN_ROUNDS_MAX 8

struct mu_person {
    char *id;       /* the attendee id, or a token once forgotten */
    bool forgotten;
};

/* Person numbers instead of ids: 24 bytes a meeting, a million in 24 MiB. */
struct mu_encounter {
    uint32_t a;
    uint32_t b;
    uint32_t event; /* event index */
    uint32_t round;
    int64_t at_unix;
};

/* The look-ahead plan of an event.  Valid while the event's generation
 * and the count of earlier events' encounters are what they were. */
struct mu_plan {
    struct sched_result *res;  /* NULL: no plan */
    uint32_t *people;          /* res rows: roster indices */
    uint32_t base;             /* rounds done when planned */
    uint64_t gen;
    uint64_t hist;
    uint64_t token;
    bool background;           /* from meetup_plan_install() */
    /* The evening with this plan: the rounds before `base` and the plan's
     * (unchanged as the plan's rounds are taken); a background plan
     * brings it, others get it on demand. */
    bool has_quality;
    struct sched_metrics quality;
};

/* Metrics of an event's assigned rounds, kept until they may differ. */
struct mu_quality_cache {
    bool valid;
    uint32_t rounds;
    uint64_t gen;
    uint64_t hist;
    struct sched_metrics m;
};

/* Summed table scores of an event's rounds [0, rounds) under its current
 * model, so that Stats scores only the rounds added since it last asked.
 * Dropped with the model (mu_event_touch). */
struct mu_score_cache {
    bool valid;
    uint32_t rounds;
    double total;
};

/* A round's table scores and reasons, and each seat's affinity with its
 * tablemates (in mu_round_groups() order), under the event's model.
 * Computing them scores every pair at every table and writes a reason
 * per table: a schedule reuses them instead. */
struct mu_round_scores {
    bool valid;
    double *table;    /* [tables] */
    char **why;       /* [tables] */
    double *seat;     /* [n] */
};

/* The scores of an event's rounds, filled as rounds are shown and
 * dropped with the model (mu_event_touch); `arena` owns the arrays. */
struct mu_view_cache {
    struct mu_round_scores *rounds; /* [cap] */
    uint32_t cap;
    void *arena;
};

/* The scores of the cached plan's next round, for previews: valid for
 * the plan `token` with `rounds` done, and dropped with the model. */
struct mu_preview_cache {
    uint64_t token;
    uint32_t rounds;
    struct mu_round_scores sc;
    void *arena;
};

struct mu_event {
    uint64_t id;
    struct meetup_event_def def; /* name owned */
    bool closed;
    struct roster *roster;
    struct pairset *met_before;
    struct pairset *avoid;
    uint32_t cap;          /* of present[] and person_of[] */
    uint8_t *present;      /* by roster index */
    uint32_t *person_of;   /* by roster index */
    uint32_t n_present;
    struct meetup_round_rec *rounds;
    uint32_t n_rounds;
    uint32_t rounds_cap;
    uint64_t own_encounters;
    uint64_t gen;          /* bumped by presence, profile and pair changes */
    struct aff_model *aff; /* NULL when stale */
    struct mu_plan plan;
    struct mu_quality_cache done_quality;
    struct mu_score_cache score;
    struct mu_view_cache views;
    uint64_t views_epoch;  /* meetup_event_info.views_epoch */
    struct mu_preview_cache preview;
    /* Who counts as already met, kept up to date incrementally: own
     * rounds below met_rounds and hub encounters below met_enc are in.
     * NULL when stale (new attendees may bring history of their own). */
    struct pairset *met;
    uint32_t met_rounds;
    uint64_t met_enc;
};

struct meetup {
    struct mu_event **events; /* index = id - 1 */
    size_t n_events;
    size_t events_cap;
    struct mu_person *persons;
    uint32_t n_persons;
    uint32_t persons_cap;
    uint32_t *pmap;           /* id -> person + 1; 0 empty, MU_PMAP_GONE */
    size_t pmap_mask;
    size_t pmap_used;         /* live and gone slots */
    struct mu_encounter *enc; /* seq = index + 1 */
    uint64_t n_enc;
    uint64_t enc_cap;
    uint64_t next_token;
    char err[256];
};

/* Arena: chunks freed at once; allocations are zeroed. */
void *mu_alloc(void **arena, size_t size);
char *mu_strdup(void **arena, const char *s);
void mu_arena_free(void *arena);

/* printf into hub->err; returns `ret` for tail calls. */
int mu_fail(struct meetup *hub, int ret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The event with id `id`, or NULL when there is none. */
struct mu_event *mu_event_find(const struct meetup *hub, uint64_t id);

/* The event's affinity model, built on demand; NULL on ENOMEM. */
const struct aff_model *mu_event_model(struct mu_event *ev);

/* Bumps the event's generation and drops its cached model and plan after
 * a change of its people or pairs. */
void mu_event_touch(struct mu_event *ev);

/* Frees the plan's result and rows and marks it empty. */
void mu_plan_clear(struct mu_plan *plan);

/* The id and name shown for a seat: a token for forgotten people. */
const char *mu_seat_id(const struct meetup *hub, const struct mu_event *ev,
                       uint32_t idx);
const char *mu_seat_name(const struct meetup *hub, const struct mu_event *ev,
                         uint32_t idx);

/* Whether an encounter at event index `enc_event` counts as history for
 * `ev` under its history scope. */
bool mu_in_scope(const struct meetup *hub, const struct mu_event *ev,
                 uint32_t enc_event);

/* meetup_people.c: person number of an attendee id, or MU_NO_INDEX. */
uint32_t mu_person_find(const struct meetup *hub, const char *id);

/* The person number for `id`, registering a new person when unknown.
 * Returns 0 or -ENOMEM. */
int mu_person_get(struct meetup *hub, const char *id, uint32_t *out);

/* Renames the person to a token and frees their id for someone new.
 * Returns 0 or -ENOMEM (nothing changed). */
int mu_person_forget(struct meetup *hub, uint32_t person);

/* meetup_round.c: groups a round by table: members[] (roster indices)
 * with table t at members[start[t]..start[t+1]).  Both malloc'ed, the
 * caller frees them.  Returns 0 or -ENOMEM. */
int mu_round_groups(const struct meetup_round_rec *r, uint32_t **members,
                    uint32_t **start);

/* Drops the event's met set; the next NextRound rebuilds it in full. */
void mu_event_met_clear(struct mu_event *ev);

/* Brings ev->met up to date (see mu_event_met in meetup_round.c).
 * Returns 0 or -ENOMEM (ev->met is then dropped). */
int mu_event_met(const struct meetup *hub, struct mu_event *ev);

/* The count of earlier events' encounters: a plan made before it
 * changed may seat a pair that has met since. */
uint64_t mu_hist_key(const struct meetup *hub, const struct mu_event *ev);

/* Rounds a plan made now covers: those left (1 past the planned ones),
 * at most MU_PLAN_ROUNDS_MAX; and its seed. */
uint32_t mu_plan_rounds(const struct mu_event *ev);
uint64_t mu_plan_seed(const struct mu_event *ev);

/* Where the cached plan, stale or not, seats the `n` people (roster
 * indices) in the `rounds` rounds from the next on, as sched_input.start
 * wants it (UINT32_MAX for someone it does not seat).  Stores NULL in *out
 * when there is no plan to start from.  Returns 0 or -ENOMEM; the caller
 * frees *out. */
int mu_plan_start(const struct mu_event *ev, const uint32_t *people,
                  uint32_t n, uint32_t rounds, uint32_t **out);

/* Who of the `n` people (roster indices) already sat with a business
 * contact in the event's rounds, as sched_input.served wants it (`aff`
 * scores roster indices).  Stores NULL in *out before the first round.
 * Returns 0 or -ENOMEM; the caller frees *out. */
int mu_served(const struct mu_event *ev, const struct aff_model *aff,
              const uint32_t *people, uint32_t n, uint8_t **out);

/* Whether the cached plan still fits the event and has a round left. */
bool mu_plan_usable(const struct meetup *hub, const struct mu_event *ev);

/* Makes sure a usable plan is cached, planning in this thread with
 * NextRound's small budget when none is.  Returns 0, -EPERM (fewer than
 * 2 present, round limit; hub->err set), -EINVAL (the scheduler refused;
 * hub->err set), -ENOMEM. */
int mu_plan_ensure(struct meetup *hub, struct mu_event *ev);

/* Fills `r` (people and table_of malloc'ed, the caller frees them) with
 * the cached plan's next round at time `now`, its repeats counted against
 * ev->met; mu_plan_ensure() must have succeeded.  Returns 0 or -ENOMEM. */
int mu_plan_next_round(struct mu_event *ev, int64_t now,
                       struct meetup_round_rec *r);

/* Fills ch->round with the event's next round at time `now`, from the
 * cached plan or a new one.  Returns 0, -EPERM (fewer than 2 present,
 * round limit; hub->err set), -EINVAL (the scheduler refused), -ENOMEM. */
int mu_prepare_round(struct meetup *hub, struct mu_event *ev, int64_t now,
                     struct meetup_change *ch);

/* Freezes the round of `ch` into the event and records its encounters.
 * Returns 0, -EINVAL (not the event's next round, or bad seats), or
 * -ENOMEM. */
int mu_apply_round(struct meetup *hub, struct mu_event *ev,
                   const struct meetup_change *ch);

/* meetup_query.c: one round's tables with scores and reasons, in
 * `arena`; per-person affinity totals are added to `pers` if given.
 * `cache` holds the round's scores: used when valid, filled when not
 * (in the arena of ev->views, or of ev->preview for &ev->preview.sc);
 * NULL: scored for this view alone. */
int mu_round_view(const struct meetup *hub, struct mu_event *ev,
                  const struct aff_model *aff,
                  const struct meetup_round_rec *r,
                  struct mu_round_scores *cache, void **arena,
                  struct meetup_round_view *out, double *pers);

/* Drops the event's cached round scores, and those of a preview. */
void mu_views_clear(struct mu_view_cache *v);
void mu_preview_clear(struct mu_preview_cache *p);

#endif
