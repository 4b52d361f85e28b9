/* sched_solve.c -- the scheduler's entry point: checks the parameters,
 * sets up the shared tables, and runs the phases in order: a
 * construction (a combinatorial design where one fits, else greedy) with
 * repair of repeats, the annealing epochs, then fairness.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "design.h"
#include "sched_int.h"

/* The work unit (effort 1): enough for repair and a first annealing on
 * instances of every size, small ones getting a floor.  Above
 * SCH_WORK_TAPER_PEOPLE the work per seat shrinks like n^-0.75: a move
 * costs more there (cache misses), and 100,000 people must still finish
 * well inside the time limit. */
#define SCH_WORK_PER_SEAT 200.0
#define SCH_WORK_TAPER_PEOPLE 2000.0
#define SCH_WORK_FLOOR 300000.0
#define SCH_REPAIR_SHARE 0.5     /* of the unit, for repair */
#define SCH_REPAIR_PC_FACTOR 4   /* repair steps per unit with pair counts */
#define SCH_FAIR_SHARE 0.05      /* of the unit, for fairness */
/* Pairs scored per millisecond into the pair table (a slow machine's
 * rate), and the share of the time limit the table may take. */
#define SCH_WT_PAIRS_PER_MS 20000.0
#define SCH_WT_SHARE 0.25
#define SCH_DESIGN_NODES 2000000
#define SCH_DESIGN_MAX_PEOPLE 500
#define SCH_DESIGN_FEWER 3       /* rounds a partial design may lack */
/* Open tables greedy weighs for each person at effort 1 (all of them up to
 * this many); lower effort samples fewer, down to the floor: live planning
 * runs greedy over every look-ahead round within a few ms. */
#define SCH_GREEDY_TABLES 48
#define SCH_GREEDY_TABLES_MIN 8

/* Worth a design: each person must meet at least half of everyone, yet
 * no one needs more new partners than exist. */
static bool wants_design(uint32_t n, uint32_t k, uint32_t R)
{
    uint32_t smallest = n / sched_table_count(n, k);
    return (uint64_t)R * (k - 1) * 2 >= (uint64_t)(n - 1) &&
           (uint64_t)R * (smallest - 1) <= (uint64_t)(n - 1);
}

/* Seats positions for the first `rounds` rounds as design_build placed
 * them, if its table sizes are what ours must be.  Returns true when the
 * design was taken. */
static bool take_design(struct sch *s, uint32_t k, uint32_t rounds,
                        uint64_t seed, uint64_t nodes)
{
    uint32_t *design = NULL;
    uint32_t *count = NULL;
    bool ok = false;
    uint32_t n = s->n, R = s->R, T = s->T;
    if (design_build(n, k, rounds, seed, nodes, &design) != 0)
        return false;
    count = malloc(T * sizeof(*count));
    if (!count)
        goto out;
    uint32_t lo = n / T, hi = lo + (n % T != 0);
    for (uint32_t r = 0; r < rounds; r++) {
        memset(count, 0, T * sizeof(*count));
        for (uint32_t i = 0; i < n; i++) {
            uint32_t t = design[(size_t)r * n + i];
            if (t >= T)
                goto out;
            count[t]++;
        }
        for (uint32_t t = 0; t < T; t++)
            if (count[t] < lo || count[t] > hi)
                goto out;
    }
    for (uint32_t r = 0; r < rounds; r++)
        for (uint32_t i = 0; i < n; i++)
            s->tp[(size_t)i * R + r] = design[(size_t)r * n + i];
    ok = true;
out:
    free(count);
    free(design);
    return ok;
}

static int fill_result(const struct sch *s, struct sched_result *res)
{
    uint32_t n = s->n, R = s->R, T = s->T;
    res->n = n;
    res->rounds = R;
    res->tables = T;
    size_t seats = (size_t)n * R;
    res->table_of = malloc((seats > 0 ? seats : 1) * sizeof(*res->table_of));
    if (!res->table_of)
        return -ENOMEM;
    for (uint32_t r = 0; r < R; r++)
        for (uint32_t i = 0; i < n; i++)
            res->table_of[(size_t)r * n + i] = s->tp[(size_t)i * R + r];
    res->repeat_pairs = (uint64_t)s->repeats;
    res->repeat_lower_bound = s->lower_bound;
    res->avoid_violations = (uint64_t)s->avoid_viol;
    res->affinity_total = s->total;
    res->objective = sch_objective(s);
    res->lonely_seats = (uint64_t)s->lonely;
    res->min_attendee_affinity = 0;
    for (uint32_t i = 0; i < n; i++) {
        double f = 0;
        for (uint32_t r = 0; r < R; r++)
            f += s->asum[(size_t)i * R + r];
        if (i == 0 || f < res->min_attendee_affinity)
            res->min_attendee_affinity = f;
    }
    res->used_design = s->used_design;
    res->epochs = s->epochs;
    res->time_limit_hit = s->stop && !s->cancelled;
    res->cancelled = s->cancelled;
    res->work = s->work;
    return 0;
}

static int check_params(const struct sched_input *in,
                        const struct sched_params *p, struct sched_result **out)
{
    if (!in || !p || !out)
        return -EINVAL;
    if (p->table_size < 2 || p->rounds < 1 || p->rounds > SCHED_MAX_ROUNDS)
        return -EINVAL;
    if (in->n > SCHED_MAX_PEOPLE || (in->n > 0 && !in->people))
        return -EINVAL;
    if (!(p->effort >= 0) || !isfinite(p->effort))
        return -EINVAL;
    return 0;
}


struct solve_ctx {
    const struct sched_params *p;
    uint64_t fair_budget;
    struct sched_result res;
};

/* A reported schedule may be the one NextRound seats (live planning takes
 * the best so far at any moment), so it gets the fairness pass first,
 * not only the last one. */
static void report_improved(void *arg, struct sch *s)
{
    struct solve_ctx *c = arg;
    if (sch_fairness(s, c->fair_budget) != 0)
        return;
    free(c->res.table_of);
    memset(&c->res, 0, sizeof(c->res));
    if (fill_result(s, &c->res) == 0)
        c->p->improved(c->p->improved_ctx, &c->res);
}

static void set_deadline(struct sch *s, uint32_t limit_ms)
{
    clock_gettime(CLOCK_MONOTONIC, &s->begun);
    s->deadline = s->begun;
    s->deadline.tv_sec += limit_ms / 1000;
    s->deadline.tv_nsec += (long)(limit_ms % 1000) * 1000000L;
    if (s->deadline.tv_nsec >= 1000000000L) {
        s->deadline.tv_sec++;
        s->deadline.tv_nsec -= 1000000000L;
    }
}

/* The work unit for n people and R rounds (effort 1). */
static double work_unit(uint32_t n, uint32_t R)
{
    double per_seat = SCH_WORK_PER_SEAT;
    if (n > SCH_WORK_TAPER_PEOPLE)
        per_seat *= pow(SCH_WORK_TAPER_PEOPLE / n, 0.75);
    return SCH_WORK_FLOOR + per_seat * n * R;
}

/* A design for all rounds, else for a few rounds less: the search then
 * only has to extend a repeat-free start.  Returns the rounds taken. */
static uint32_t try_design(struct sch *s, uint32_t k, uint64_t seed,
                           double effort)
{
    if (s->n == 0 || s->T < 2 || s->n > SCH_DESIGN_MAX_PEOPLE ||
        !wants_design(s->n, k, s->R))
        return 0;
    uint64_t nodes = (uint64_t)(effort * SCH_DESIGN_NODES);
    for (uint32_t r = s->R; r >= 2 && r + SCH_DESIGN_FEWER >= s->R; r--) {
        if (take_design(s, k, r, seed, nodes))
            return r;
        nodes /= 4;
    }
    return 0;
}

int sched_solve(const struct sched_input *in, const struct sched_params *p,
                struct sched_result **out)
{
    struct sch s = {0};
    struct sch_shared sh = {0};
    struct sch_pmap pm = {0};
    struct sched_result *res = NULL;
    struct solve_ctx ctx = {.p = p};
    uint64_t excluded;
    int rc = check_params(in, p, out);
    if (rc != 0)
        return rc;

    s.n = in->n;
    s.R = p->rounds;
    s.T = sched_table_count(in->n, p->table_size);
    s.pid = in->people;
    s.met = in->met;
    s.avoid = in->avoid;
    s.aff = in->aff;
    s.init = in->start;
    s.served = in->served;
    s.penalty = in->aff ? aff_lonely_penalty(in->aff) : 0;
    s.cancel = p->cancel;
    s.progress = p->progress;
    s.progress_ctx = p->progress_ctx;
    sch_seed(&s.rng, p->seed);

    size_t n1 = s.n ? s.n : 1;
    res = calloc(1, sizeof(*res));
    sh.flags = calloc(n1, sizeof(*sh.flags));
    sh.deg = calloc(n1, sizeof(*sh.deg));
    if (!res || !sh.flags || !sh.deg) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = sch_pmap_init(&pm, in->people, in->n)) != 0)
        goto out;
    if ((rc = sch_alloc(&s)) != 0)
        goto out;
    if ((rc = sch_build_met_adj(&sh, &s, &pm)) != 0)
        goto out;
    sch_count_seated_pairs(&sh, &s, &pm, &excluded);
    s.lower_bound = sch_lower_bound(s.n, p->table_size, s.R, sh.deg, excluded);
    uint32_t limit_ms = p->time_limit_ms ? p->time_limit_ms
                                         : sched_default_time_limit_ms(s.n);
    set_deadline(&s, limit_ms);
    /* The pair table scores every pair up front: worth it when the search
     * has time to use it, a stall when it has only milliseconds (a
     * NextRound planned on the spot).  Decided from the limit, not the
     * clock, so that a run with --effort stays reproducible. */
    if ((double)s.n * (s.n - 1) / 2 <=
            (double)limit_ms * SCH_WT_PAIRS_PER_MS * SCH_WT_SHARE &&
        (rc = sch_shared_tables(&sh, &s)) != 0)
        goto out;
    s.wt = sh.wt;
    s.lk = sh.lk;
    s.top = sh.top;
    s.ntop = sh.ntop;

    bool bounded = p->effort > 0;
    double effort = bounded ? p->effort : 1.0;
    double unit = work_unit(s.n, s.R);
    s.budget = bounded ? (uint64_t)(effort * unit) : 0;
    s.next_check = SCH_CHECK_EVERY;
    double greedy = SCH_GREEDY_TABLES * (effort < 1 ? effort : 1);
    s.greedy_tables = greedy < SCH_GREEDY_TABLES_MIN ? SCH_GREEDY_TABLES_MIN
                                                     : (uint32_t)greedy;

    /* A start schedule is the better place to begin than a design. */
    uint32_t designed = in->start ? 0 : try_design(&s, p->table_size, p->seed,
                                                  effort < 1 ? effort : 1);
    s.used_design = designed > 0;
    ctx.fair_budget = (uint64_t)(effort * unit * SCH_FAIR_SHARE);
    bool counts = s.n <= SCH_PC_MAX_PEOPLE;
    uint64_t repair = (uint64_t)(effort * unit * SCH_REPAIR_SHARE *
                                 (counts ? SCH_REPAIR_PC_FACTOR : 1));
    if ((rc = sch_construct(&s, designed, repair)) != 0)
        goto out;
    if (p->improved)
        report_improved(&ctx, &s);

    struct sch_anneal_opts ao = {
        .chains = p->threads ? p->threads : 1,
        .seed = p->seed,
        .bounded = bounded,
        .open_ended = p->open_ended,
        .improved = p->improved ? report_improved : NULL,
        .improved_ctx = &ctx,
    };
    if (ao.chains > SCHED_THREADS_MAX)
        ao.chains = SCHED_THREADS_MAX;
    if (bounded) {
        uint64_t used = s.work;
        uint64_t total = (uint64_t)(effort * unit);
        ao.budget = total > used ? (total - used) / ao.chains : 0;
    }
    uint32_t epochs = 0;
    bool converged = false;
    if ((rc = sch_anneal(&s, &ao, &epochs, &converged)) != 0)
        goto out;
    if ((rc = sch_fairness(&s, ctx.fair_budget)) != 0)
        goto out;
    /* The incremental sums drift by rounding, and the weight table holds
     * floats: report exact sums. */
    s.wt = NULL;
    s.lk = NULL;
    if (!s.exact)
        sch_rebuild(&s);
    if (s.avoid_viol > 0) {
        /* Seating an avoid pair frees a partner: bound repeats without
         * assuming avoid pairs stay apart, so it holds for this result. */
        uint32_t *deg = sh.deg;
        memset(deg, 0, s.n * sizeof(*deg));
        sch_count_pairs(&pm, in->met, NULL, deg, &excluded);
        s.lower_bound = sch_lower_bound(s.n, p->table_size, s.R, deg,
                                        excluded);
    }
    if ((rc = fill_result(&s, res)) != 0)
        goto out;
    res->epochs = epochs;
    res->converged = converged;
    if (s.progress)
        s.progress(s.progress_ctx, 1.0);
    *out = res;
    res = NULL;
out:
    free(ctx.res.table_of);
    sched_result_free(res);
    sch_pmap_clear(&pm);
    sch_free(&s);
    sch_shared_free(&sh);
    return rc;
}

uint32_t sched_default_time_limit_ms(uint32_t n)
{
    double ms = SCHED_TIME_PER_SQRT_PERSON_MS * sqrt((double)n);
    if (ms < SCHED_TIME_FLOOR_MS)
        return SCHED_TIME_FLOOR_MS;
    return ms > SCHED_TIME_CAP_MS ? SCHED_TIME_CAP_MS : (uint32_t)ms;
}

uint32_t sched_default_threads(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        return 1;
    return cpus > SCHED_THREADS_MAX ? SCHED_THREADS_MAX : (uint32_t)cpus;
}

struct sched_result *sched_result_dup(const struct sched_result *res)
{
    struct sched_result *d = malloc(sizeof(*d));
    size_t seats = (size_t)res->n * res->rounds;
    if (!d)
        return NULL;
    *d = *res;
    d->table_of = malloc((seats ? seats : 1) * sizeof(*d->table_of));
    if (!d->table_of) {
        free(d);
        return NULL;
    }
    memcpy(d->table_of, res->table_of, seats * sizeof(*d->table_of));
    return d;
}

void sched_result_free(struct sched_result *res)
{
    if (!res)
        return;
    free(res->table_of);
    free(res);
}
