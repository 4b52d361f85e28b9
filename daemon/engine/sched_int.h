/* sched_int.h -- scheduler internals: the search state (sched.c), the
 * people map, met rows and lower bound (sched_bound.c), the construction,
 * repair and fairness phases (sched_search.c), the annealing epochs
 * (sched_anneal.c); sched_solve.c drives them.
 *
 * The search state keeps everything person-major ([person * rounds +
 * round]) so that comparing two people's tables across all rounds walks two
 * short contiguous rows: that comparison is the repeat check, and it runs
 * millions of times.  Only small instances get an n x n table (pc).
 */
#ifndef MINGLE_SCHED_INT_H
#define MINGLE_SCHED_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "sched.h"

/* An avoid pair at one table outweighs any number of repeats. */
#define SCH_AVOID_COST INT64_C(1000000000)

/* Up to this many people repair keeps an n x n pair count table (2 MiB
 * at most): a swap is then weighed with one lookup per tablemate instead
 * of a search in the met rows and a compare across rounds, which made up
 * three quarters of the search time.  Building it is a cost of its own
 * (about 8 ms at 2,000 people, where live planning takes 15), so larger
 * instances go without. */
#define SCH_PC_MAX_PEOPLE 1024

/* Up to this many people the objective's pair weights and links sit in
 * n x n tables (5 bytes a pair, 20 MiB at the limit), shared read-only by
 * every chain: a swap then weighs 4 (k - 1) table reads instead of as many
 * tag-set walks, which made a move five times dearer. */
#define SCH_WT_MAX_PEOPLE 2048

/* With the tables, each person's best-scoring partners, for the guided
 * moves of annealing (sched_anneal.c). */
#define SCH_TOP 24

#define SCH_HAS_MET 1u
#define SCH_HAS_AVOID 2u

struct sch_rng {
    uint64_t s[4];
};

/* Read-only after setup, shared by every chain of one solve. */
struct sch_shared {
    uint8_t *flags;             /* SCH_HAS_* per person: skips lookups */
    size_t *met_off;            /* [i]..[i+1]: i's row in met_adj */
    uint32_t *met_adj;          /* met partners among the seated, sorted */
    uint32_t *deg;              /* per person: |met(p) u avoid(p)| */
    float *wt;                  /* [a*n + b]: aff_score, or NULL */
    uint8_t *lk;                /* [a*n + b]: aff_linked, or NULL */
    uint32_t *top;              /* [a*SCH_TOP + j]: a's best partners */
    uint8_t *ntop;              /* how many of them, per person */
};

struct sch {
    uint32_t n, R, T;
    const uint32_t *pid;        /* roster index of local person i */
    const struct pairset *met;
    const struct pairset *avoid;
    const struct aff_model *aff;
    const uint8_t *flags;       /* the shared tables, see sch_shared */
    const size_t *met_off;
    const uint32_t *met_adj;
    const float *wt;
    const uint8_t *lk;
    const uint32_t *top;
    const uint8_t *ntop;
    double penalty;             /* objective per lonely seat */
    uint32_t *met_mark;         /* == met_stamp: met the person greedy seats */
    uint32_t met_stamp;
    uint32_t greedy_tables;     /* open tables greedy weighs per person */
    const uint32_t *deg;
    const uint32_t *init;       /* sched_input.start, or NULL */
    const uint8_t *served;      /* sched_input.served, or NULL */
    uint32_t *tp;               /* [i*R + r]: table of i in round r */
    uint32_t *slot;             /* [i*R + r]: i's index in mem of round r */
    uint32_t *mem;              /* [r*n + s]: person in slot s of round r */
    uint32_t *start;            /* [r*(T+1) + t]: first slot of table t */
    double *asum;               /* [i*R + r]: affinity to tablemates */
    uint16_t *nl;               /* [i*R + r]: linked tablemates */
    uint32_t *bad;              /* [i*R + r]: tablemates that cost */
    uint32_t *cset;             /* positions i*R + r with bad > 0 */
    uint32_t *cidx;             /* [i*R + r]: index in cset, or UINT32_MAX */
    uint32_t ccount;
    uint16_t *pc;               /* [a*n + b]: met + rounds together, or
                                 * NULL: see sch_use_pair_counts() */
    uint32_t *mark;             /* per person stamps for dedup */
    uint32_t *cnt;              /* per person scratch counts (rebuild) */
    uint32_t stamp;
    int64_t repeats;
    int64_t avoid_viol;
    double total;               /* affinity, sum over pairs and rounds */
    int64_t lonely;             /* seats with nl == 0 */
    uint64_t lower_bound;
    uint32_t epochs;            /* annealing epochs behind this schedule */
    bool used_design;

    struct sch_rng rng;
    uint64_t work;              /* move evaluations so far */
    uint64_t budget;            /* evaluations allowed; 0: time decides */
    uint64_t next_check;        /* work at which to look at the clock */
    uint64_t next_progress;     /* work at which to report progress */
    struct timespec begun;
    struct timespec deadline;
    double rebuild_s;           /* how long the last sch_rebuild() took */
    bool exact;                 /* sums of a rebuild by aff_score(), no
                                 * move since */
    const atomic_int *cancel;
    bool stop;                  /* time limit reached or cancelled */
    bool cancelled;
    void (*progress)(void *ctx, double done);
    void *progress_ctx;
};

/* Evaluations between clock reads (and cancel checks). */
#define SCH_CHECK_EVERY 4096
/* Pairs sch_rebuild() scores per millisecond on a slow machine: what the
 * phases before one reserve for it. */
#define SCH_REBUILD_PAIRS_PER_MS 15000.0

/* Seeds xoshiro256** through splitmix64. */
void sch_seed(struct sch_rng *g, uint64_t seed);
uint64_t sch_rand(struct sch_rng *g);
/* Uniform in [0, bound), bound >= 1. */
uint32_t sch_below(struct sch_rng *g, uint32_t bound);
double sch_unit(struct sch_rng *g);

/* Counts `units` of work; now and then reads the clock (setting s->stop
 * past the deadline) and reports progress. */
void sch_tick(struct sch *s, uint64_t units);

static inline double sch_aff(const struct sch *s, uint32_t a, uint32_t b)
{
    if (s->wt)
        return s->wt[(size_t)a * s->n + b];
    return aff_score(s->aff, s->pid[a], s->pid[b]);
}

static inline bool sch_link(const struct sch *s, uint32_t a, uint32_t b)
{
    if (s->lk)
        return s->lk[(size_t)a * s->n + b];
    return aff_linked(s->aff, s->pid[a], s->pid[b]);
}
bool sch_met(const struct sch *s, uint32_t a, uint32_t b);
bool sch_avoid(const struct sch *s, uint32_t a, uint32_t b);

/* Rounds in [0, lim) other than `skip` where a and b share a table. */
uint32_t sch_together(const struct sch *s, uint32_t a, uint32_t b,
                      uint32_t lim, uint32_t skip);

/* Cost of a and b meeting in round r, given their other meetings in rounds
 * [0, lim): SCH_AVOID_COST for an avoid pair, plus 1 when it repeats. */
int64_t sch_meet_cost(const struct sch *s, uint32_t a, uint32_t b,
                      uint32_t r, uint32_t lim);

/* The objective: affinity less the lonely seats' penalty. */
static inline double sch_objective(const struct sch *s)
{
    return s->total - s->penalty * (double)s->lonely;
}

/* Allocates s's own arrays for s->n, s->R, s->T; 0 or -ENOMEM (free with
 * sch_free() either way). */
int sch_alloc(struct sch *s);
/* Frees what s owns (not the shared tables); the state is then zero. */
void sch_free(struct sch *s);
/* Makes `dst` an independent chain over the same problem as `src`, with
 * src's seating (pair counts when src has them); 0 or -ENOMEM (free dst
 * with sch_free() either way). */
int sch_clone(struct sch *dst, const struct sch *src);
/* Copies src's seating and all that follows from it (sums, conflicts,
 * pair counts) into dst, allocated for the same problem. */
void sch_copy_seating(struct sch *dst, const struct sch *src);

/* Fills the shared pair weight and link tables when the instance is small
 * enough (a no-op otherwise); 0 or -ENOMEM. */
int sch_shared_tables(struct sch_shared *sh, const struct sch *s);
void sch_shared_free(struct sch_shared *sh);

/* Rebuilds slots, caches, counts and the conflict set from s->tp. */
void sch_rebuild(struct sch *s);

/* Up to SCH_PC_MAX_PEOPLE, allocates and fills s->pc (kept exact from then
 * on); a no-op above that or when already done.  Returns 0 or -ENOMEM.
 * Only repair asks: most schedules reach the bound without it. */
int sch_use_pair_counts(struct sch *s);

/* Cost (avoid * SCH_AVOID_COST + repeats) change if u and v, at different
 * tables of round r, traded seats. */
int64_t sch_swap_dcost(const struct sch *s, uint32_t u, uint32_t v,
                       uint32_t r);
/* Objective change of the same swap: affinity, and lonely seats made or
 * undone at the two tables. */
double sch_swap_dobj(const struct sch *s, uint32_t u, uint32_t v, uint32_t r);
/* Performs the swap, keeping every cache exact. */
void sch_swap(struct sch *s, uint32_t u, uint32_t v, uint32_t r);

/* Relabel: u and v trade their seats in every round (keeps the repeat
 * structure of a design; only met and avoid pairs change cost). */
int64_t sch_relabel_dcost(struct sch *s, uint32_t u, uint32_t v);
double sch_relabel_dobj(const struct sch *s, uint32_t u, uint32_t v);
void sch_relabel(struct sch *s, uint32_t u, uint32_t v);

static inline int64_t sch_cost(const struct sch *s)
{
    return s->avoid_viol * SCH_AVOID_COST + s->repeats;
}

/* Search phases (sched_search.c); each spends at most `budget` work units
 * and returns 0 or -ENOMEM.  sch_greedy() fills s->tp for rounds from
 * `first` on, given the earlier ones (using s->mem as scratch), keeping
 * the seats of s->init that fit; the others need a rebuilt state and
 * keep it exact. */
int sch_greedy(struct sch *s, uint32_t first);
int sch_repair(struct sch *s, uint64_t budget);
int sch_fairness(struct sch *s, uint64_t budget);

/* A starting schedule: greedy from the first `designed` rounds already in
 * s->tp (0: none), then repair of repeats within `budget`; with a partial
 * design also a plain start, keeping the better.  Leaves s rebuilt. */
int sch_construct(struct sch *s, uint32_t designed, uint64_t budget);

/* ---- sched_anneal.c ---- */

struct sch_anneal_opts {
    uint32_t chains;           /* 1..SCHED_THREADS_MAX, one thread each */
    uint64_t seed;
    uint64_t budget;           /* work cap over all epochs, per chain */
    bool bounded;              /* budget applies (else time or converge) */
    bool open_ended;           /* doubling epochs until converged */
    /* Called with each better schedule, which it may still change (keeping
     * it exact and no costlier): the search goes on from what it leaves. */
    void (*improved)(void *ctx, struct sch *best);
    void *improved_ctx;
};

/* Anneals s in epochs on `chains` chains, each epoch restarting every
 * chain from the best schedule so far: a short one and one over the rest
 * of the budget or time, or open-ended, epochs of doubling length until
 * convergence (SCHED_CONVERGED_GAIN); the deadline and cancellation stop
 * either.  Never adds repeats or avoid violations.  Leaves the best
 * schedule in s, rebuilt; *epochs and *converged say how it ended.
 * 0, -ENOMEM, -EAGAIN (no thread could be started). */
int sch_anneal(struct sch *s, const struct sch_anneal_opts *o,
               uint32_t *epochs, bool *converged);

/* ---- sched_bound.c ---- */

/* Roster index -> local index, open addressing. */
struct sch_pmap {
    uint32_t *key;
    uint32_t *val;
    size_t mask;
};

/* Maps people[i] to i; -EINVAL if someone is listed twice, -ENOMEM.
 * sch_pmap_clear() frees it, also after a failed init. */
int sch_pmap_init(struct sch_pmap *m, const uint32_t *people, uint32_t n);
/* Local index of roster index `key`, or UINT32_MAX if not seated. */
uint32_t sch_pmap_get(const struct sch_pmap *m, uint32_t key);
void sch_pmap_clear(struct sch_pmap *m);

/* Counts, per seated person, met and avoid partners among the seated:
 * `deg` receives |met(p) u avoid(p)| when non-NULL, *excluded the number
 * of seated pairs that are met or avoid. */
void sch_count_pairs(const struct sch_pmap *pm, const struct pairset *met,
                     const struct pairset *avoid, uint32_t *deg,
                     uint64_t *excluded);

/* Builds sh->met_off and sh->met_adj from s->met and points s at them;
 * 0 or -ENOMEM. */
int sch_build_met_adj(struct sch_shared *sh, struct sch *s,
                      const struct sch_pmap *pm);

/* sch_count_pairs() for the search state, with the met half read from the
 * rows sch_build_met_adj() built (so the met pairset, which may hold a
 * whole history, is walked once): fills sh->deg and sh->flags (allocated,
 * zeroed, n each) and points s at them. */
void sch_count_seated_pairs(struct sch_shared *sh, struct sch *s,
                            const struct sch_pmap *pm, uint64_t *excluded);

/* Repeats no schedule of n people at tables of k for R rounds can avoid,
 * given deg and excluded from sch_count_pairs(). */
uint64_t sch_lower_bound(uint32_t n, uint32_t k, uint32_t R,
                         const uint32_t *deg, uint64_t excluded);

#endif
