/* sched_int.h -- scheduler internals shared by sched.c, sched_bound.c and
 * sched_search.c.
 *
 * The search state keeps everything person-major ([person * rounds +
 * round]) so that comparing two people's tables across all rounds walks two
 * short contiguous rows: that comparison is the repeat check, and it runs
 * millions of times.  Only small instances get an n x n table (pc).
 */
#ifndef MINGLE_SCHED_INT_H
#define MINGLE_SCHED_INT_H

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

#define SCH_HAS_MET 1u
#define SCH_HAS_AVOID 2u

struct sch_rng {
    uint64_t s[4];
};

struct sch {
    uint32_t n, R, T;
    const uint32_t *pid;        /* roster index of local person i */
    const struct pairset *met;
    const struct pairset *avoid;
    const struct aff_model *aff;
    uint8_t *flags;             /* SCH_HAS_* per person: skips lookups */
    size_t *met_off;            /* [i]..[i+1]: i's row in met_adj */
    uint32_t *met_adj;          /* met partners among the seated, sorted */
    uint32_t *met_mark;         /* == met_stamp: met the person greedy seats */
    uint32_t met_stamp;
    uint32_t greedy_tables;     /* open tables greedy weighs per person */
    const uint32_t *deg;        /* per person: |met(p) u avoid(p)| */
    uint32_t *tp;               /* [i*R + r]: table of i in round r */
    uint32_t *slot;             /* [i*R + r]: i's index in mem of round r */
    uint32_t *mem;              /* [r*n + s]: person in slot s of round r */
    uint32_t *start;            /* [r*(T+1) + t]: first slot of table t */
    double *asum;               /* [i*R + r]: affinity to tablemates */
    uint32_t *bad;              /* [i*R + r]: tablemates that cost */
    uint32_t *cset;             /* positions i*R + r with bad > 0 */
    uint32_t *cidx;             /* [i*R + r]: index in cset, or UINT32_MAX */
    uint32_t ccount;
    uint16_t *pc;               /* [a*n + b]: met + rounds together, or
                                 * NULL: see sch_use_pair_counts() */
    uint32_t *mark;             /* per person stamps for dedup */
    uint32_t stamp;
    int64_t repeats;
    int64_t avoid_viol;
    double total;               /* affinity, sum over pairs and rounds */
    uint64_t lower_bound;
    bool used_design;

    struct sch_rng rng;
    uint64_t work;              /* move evaluations so far */
    uint64_t budget;            /* total evaluations allowed */
    uint64_t next_check;        /* work at which to look at the clock */
    uint64_t next_progress;     /* work at which to report progress */
    struct timespec deadline;
    bool stop;                  /* time limit reached */
    void (*progress)(void *ctx, double done);
    void *progress_ctx;
};

uint64_t sch_rand(struct sch_rng *g);
/* Uniform in [0, bound), bound >= 1. */
uint32_t sch_below(struct sch_rng *g, uint32_t bound);
double sch_unit(struct sch_rng *g);

/* Counts `units` of work; now and then reads the clock (setting s->stop
 * past the deadline) and reports progress. */
void sch_tick(struct sch *s, uint64_t units);

double sch_aff(const struct sch *s, uint32_t a, uint32_t b);
bool sch_met(const struct sch *s, uint32_t a, uint32_t b);
bool sch_avoid(const struct sch *s, uint32_t a, uint32_t b);

/* Rounds in [0, lim) other than `skip` where a and b share a table. */
uint32_t sch_together(const struct sch *s, uint32_t a, uint32_t b,
                      uint32_t lim, uint32_t skip);

/* Cost of a and b meeting in round r, given their other meetings in rounds
 * [0, lim): SCH_AVOID_COST for an avoid pair, plus 1 when it repeats. */
int64_t sch_meet_cost(const struct sch *s, uint32_t a, uint32_t b,
                      uint32_t r, uint32_t lim);

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
/* Affinity change of the same swap. */
double sch_swap_daff(const struct sch *s, uint32_t u, uint32_t v, uint32_t r);
/* Performs the swap, keeping every cache exact. */
void sch_swap(struct sch *s, uint32_t u, uint32_t v, uint32_t r);

/* Relabel: u and v trade their seats in every round (keeps the repeat
 * structure of a design; only met and avoid pairs change cost). */
int64_t sch_relabel_dcost(struct sch *s, uint32_t u, uint32_t v);
double sch_relabel_daff(const struct sch *s, uint32_t u, uint32_t v);
void sch_relabel(struct sch *s, uint32_t u, uint32_t v);

static inline int64_t sch_cost(const struct sch *s)
{
    return s->avoid_viol * SCH_AVOID_COST + s->repeats;
}

/* Search phases (sched_search.c); each spends at most `budget` work units
 * and returns 0 or -ENOMEM.  sch_greedy() fills s->tp for rounds from
 * `first` on, given the earlier ones (using s->mem as scratch); the others
 * need a rebuilt state and keep it exact. */
int sch_greedy(struct sch *s, uint32_t first);
int sch_repair(struct sch *s, uint64_t budget);
void sch_anneal(struct sch *s, uint64_t budget);
int sch_fairness(struct sch *s, uint64_t budget);

/* The whole search: all phases from the first `designed` rounds already
 * in s->tp (0: none), within s->budget except that repair may take up to
 * REPAIR_PC_FACTOR times its share when pair counts make its steps that
 * much cheaper.  Leaves s rebuilt. */
int sch_search(struct sch *s, uint32_t designed);

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

/* Builds s->met_off and s->met_adj from s->met; 0 or -ENOMEM. */
int sch_build_met_adj(struct sch *s, const struct sch_pmap *pm);

/* sch_count_pairs() for the search state, with the met half read from the
 * rows sch_build_met_adj() built (so the met pairset, which may hold a
 * whole history, is walked once); sets s->flags. */
void sch_count_seated_pairs(struct sch *s, const struct sch_pmap *pm,
                            uint32_t *deg, uint64_t *excluded);

/* Repeats no schedule of n people at tables of k for R rounds can avoid,
 * given deg and excluded from sch_count_pairs(). */
uint64_t sch_lower_bound(uint32_t n, uint32_t k, uint32_t R,
                         const uint32_t *deg, uint64_t excluded);

#endif
