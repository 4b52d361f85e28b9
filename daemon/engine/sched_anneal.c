/* sched_anneal.c -- simulated annealing on the objective, anytime and on
 * several threads.
 *
 * Annealing runs in epochs; each restarts every chain from the best
 * schedule so far at the top of the useful temperature band and cools it
 * completely, so whenever the search stops it holds a schedule from a
 * finished cooling, never a half-warm one.  Chains are independent within
 * an epoch (one thread each, own state, own random stream seeded from the
 * seed, the epoch and the chain), and the best is chosen by cost, then
 * objective, then chain number: the result depends on the seed, the work
 * budget and the chain count, not on which thread ran first.
 *
 * With a budget (batch: the work budget, else the time limit) a short
 * first epoch gives an early schedule and the second cools over all that
 * is left: one long cooling beats several short ones of the same total
 * (a cooling twice as long gains 2-4 % on generated events of 60-1,000
 * people).  Without a work budget that second cooling runs on the clock,
 * finishing at the deadline whatever the machine's speed.  Open-ended
 * (live planning, which wants a good plan soon and better ones later) the
 * epochs double in length until two in a row, each cooling at least
 * ANNEAL_CONVERGE_PER_SEAT moves per seat, raised the best objective by at
 * most SCHED_CONVERGED_GAIN of it: twice the cooling no longer pays, the
 * search has converged.
 *
 * Moves never add repeats or avoid violations (repair settled those), so
 * the walk is on the objective alone: a swap in one round, or on a design
 * a relabel that trades two people's seats in every round.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sched_int.h"

#define ANNEAL_PROBES 256     /* moves sampled to pick the temperature */
/* Each epoch cools from ANNEAL_T_HIGH to ANNEAL_T_LOW times t0, the mean
 * loss of a worsening move, then quenches (only moves that lose nothing)
 * for its last ANNEAL_QUENCH_SHARE.  Measured on generated events of 60
 * and 150 people at equal moves: cooling on to 1e-3 t0, as plain
 * annealing does, spent most moves frozen (2 % lower objective); starting
 * at 0.1 t0 froze the greedy start's structure in (6-10 % lower). */
#define ANNEAL_T_HIGH 0.5
#define ANNEAL_T_LOW 0.05
#define ANNEAL_QUENCH_SHARE 0.05
#define ANNEAL_RECOOL 256     /* moves between temperature updates */
#define ANNEAL_COMMIT_UNITS 3 /* a performed move costs about three tries */
/* First epoch: this many move evaluations per seat, at least the floor. */
#define ANNEAL_FIRST_PER_SEAT 40
#define ANNEAL_FIRST_FLOOR 20000
/* Planned: the first epoch takes at most 1 / ANNEAL_FIRST_SHARE of the
 * work budget or of the time. */
#define ANNEAL_FIRST_SHARE 10
/* Share of the time limit kept for fairness and the result. */
#define ANNEAL_TIME_RESERVE 0.03
/* Rebuilds that follow an epoch's cooling (see plan_epoch). */
#define ANNEAL_REBUILDS_AFTER 2
#define ANNEAL_FLAT_EPOCHS 2  /* epochs in a row that gained next to nothing */
/* Convergence counts only once an epoch's cooling is this long per seat:
 * two short coolings that miss the best so far are chance, not a sign
 * (50 people "converged" after 0.2 s at 622 where 4 s reach 667). */
#define ANNEAL_CONVERGE_PER_SEAT 20000

struct chain {
    struct sch s;
    uint64_t len;           /* work units this epoch, or */
    struct timespec until;  /* with by_clock: when the cooling ends */
    bool by_clock;
    double t_start, t_end;
    pthread_t thread;
    bool started;
};

static double seconds_between(const struct timespec *a,
                              const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) +
           (double)(b->tv_nsec - a->tv_nsec) * 1e-9;
}

static uint32_t random_partner(struct sch *s, uint32_t u, uint32_t r)
{
    uint32_t a = s->tp[(size_t)u * s->R + r];
    for (;;) {
        uint32_t v = sch_below(&s->rng, s->n);
        if (s->tp[(size_t)v * s->R + r] != a)
            return v;
    }
}

/* A swap that seats u with one of its best partners in round r: u trades
 * seats with someone at the partner's table.  Random swaps mostly pair
 * strangers; these propose the pairs the objective wants, and cut the
 * moves to a given objective by about half (bench/bench_quality.py). */
static bool guided_partner(struct sch *s, uint32_t u, uint32_t r, uint32_t *v)
{
    uint32_t k = s->ntop[u];
    if (k == 0)
        return false;
    uint32_t p = s->top[(size_t)u * SCH_TOP + sch_below(&s->rng, k)];
    uint32_t t = s->tp[(size_t)p * s->R + r];
    if (t == s->tp[(size_t)u * s->R + r])
        return false;
    const uint32_t *st = s->start + (size_t)r * (s->T + 1);
    uint32_t len = st[t + 1] - st[t];
    if (len < 2)
        return false;
    uint32_t w;
    do
        w = s->mem[(size_t)r * s->n + st[t] + sch_below(&s->rng, len)];
    while (w == p);
    *v = w;
    return true;
}

/* Picks a move: a relabel (on a design) or a swap in one round, preferring
 * people in a conflict while there are any, and half the time guided
 * toward a good partner.  Returns the round, or R for a relabel. */
static uint32_t pick_move(struct sch *s, uint32_t *u, uint32_t *v)
{
    uint32_t R = s->R;
    if (s->used_design && (sch_rand(&s->rng) & 1)) {
        *u = sch_below(&s->rng, s->n);
        do
            *v = sch_below(&s->rng, s->n);
        while (*v == *u);
        return R;
    }
    uint32_t r;
    if (s->ccount && (sch_rand(&s->rng) & 1)) {
        uint32_t pos = s->cset[sch_below(&s->rng, s->ccount)];
        *u = pos / R;
        r = pos % R;
    } else {
        *u = sch_below(&s->rng, s->n);
        r = sch_below(&s->rng, R);
    }
    if (s->top && (sch_rand(&s->rng) & 1) && guided_partner(s, *u, r, v))
        return r;
    *v = random_partner(s, *u, r);
    return r;
}

/* The mean objective loss of a worsening move: at that temperature a
 * typical one passes about a third of the time. */
static double start_temperature(struct sch *s)
{
    double sum = 0;
    uint32_t cnt = 0;
    for (uint32_t k = 0; k < ANNEAL_PROBES; k++) {
        uint32_t u, v, r = pick_move(s, &u, &v);
        double d = r == s->R ? sch_relabel_dobj(s, u, v)
                             : sch_swap_dobj(s, u, v, r);
        if (d < 0) {
            sum -= d;
            cnt++;
        }
    }
    sch_tick(s, ANNEAL_PROBES);
    return cnt ? sum / cnt : 0;
}

/* How far the chain's cooling has come, 0..1: by work, or by the clock. */
static double cooled(const struct chain *c, uint64_t w0,
                     const struct timespec *begun)
{
    if (!c->by_clock)
        return (double)(c->s.work - w0) / (double)c->len;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double total = seconds_between(begun, &c->until);
    return total > 0 ? seconds_between(begun, &now) / total : 1;
}

/* One complete cooling from t_start to t_end, the last
 * ANNEAL_QUENCH_SHARE of it at zero temperature. */
static void cool(struct chain *c)
{
    struct sch *s = &c->s;
    uint32_t R = s->R;
    uint64_t w0 = s->work;
    struct timespec begun;
    clock_gettime(CLOCK_MONOTONIC, &begun);
    double temp = c->t_start, ratio = c->t_end / c->t_start, done = 0;
    uint32_t since = 0;
    while (done < 1 && !s->stop) {
        if (++since == ANNEAL_RECOOL) {
            since = 0;
            done = cooled(c, w0, &begun);
            double frac = done / (1 - ANNEAL_QUENCH_SHARE);
            temp = frac < 1 ? c->t_start * pow(ratio, frac) : 0;
        }
        uint32_t u, v, r = pick_move(s, &u, &v);
        bool relabel = r == R;
        uint64_t units = relabel ? R : 1;
        /* The objective first: most moves fail the test, and then the
         * repeat check only matters if it removes a conflict, which none
         * can when there are none. */
        double d = relabel ? sch_relabel_dobj(s, u, v)
                           : sch_swap_dobj(s, u, v, r);
        /* Below -30 kT, exp() is under 1e-13: not worth computing. */
        bool takes = d >= 0 || (temp > 0 && d > -30 * temp &&
                                sch_unit(&s->rng) < exp(d / temp));
        if (!takes && s->ccount == 0) {
            sch_tick(s, units);
            continue;
        }
        int64_t dc = relabel ? sch_relabel_dcost(s, u, v)
                             : sch_swap_dcost(s, u, v, r);
        if (dc > 0 || (dc == 0 && !takes)) {
            sch_tick(s, units);
            continue;
        }
        sch_tick(s, units * ANNEAL_COMMIT_UNITS);
        if (relabel)
            sch_relabel(s, u, v);
        else
            sch_swap(s, u, v, r);
    }
    /* The incremental sums drift by rounding over millions of moves. */
    sch_rebuild(s);
}

static void *chain_main(void *arg)
{
    cool(arg);
    return NULL;
}

/* Whether a is a better schedule than b: fewer repeats (and avoid
 * violations), then a higher objective. */
static bool better(const struct sch *a, const struct sch *b)
{
    if (sch_cost(a) != sch_cost(b))
        return sch_cost(a) < sch_cost(b);
    return sch_objective(a) > sch_objective(b) + 1e-9 * fabs(sch_objective(b));
}

static int run_epoch(struct chain *ch, uint32_t chains)
{
    int rc = 0;
    for (uint32_t k = 1; k < chains; k++) {
        ch[k].started = pthread_create(&ch[k].thread, NULL, chain_main,
                                       &ch[k]) == 0;
        if (!ch[k].started)
            rc = -EAGAIN;
    }
    if (rc == 0)
        chain_main(&ch[0]);
    for (uint32_t k = 1; k < chains; k++) {
        if (ch[k].started)
            pthread_join(ch[k].thread, NULL);
        ch[k].started = false;
    }
    return rc;
}

/* What the next epoch is, after `done` epochs of which the last was
 * `last` work units long and `spent` were spent per chain; false when no
 * worthwhile epoch remains (*by_time: because of the time limit). */
static bool plan_epoch(const struct sch *s, const struct sch_anneal_opts *o,
                       struct chain *c, uint32_t done, uint64_t last,
                       uint64_t spent, bool *by_time)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    /* Past the cooling come the chain's closing rebuild and the final one
     * in sched_solve(): at a thousand rounds each is a good share of a
     * short time limit. */
    double secs = seconds_between(&now, &s->deadline) -
                  ANNEAL_TIME_RESERVE * seconds_between(&s->begun,
                                                        &s->deadline) -
                  ANNEAL_REBUILDS_AFTER * s->rebuild_s;
    uint64_t left = o->budget > spent ? o->budget - spent : 0;
    c->by_clock = false;
    if (secs <= 0) {
        *by_time = true;
        return false;
    }
    if (!o->open_ended) {
        if (done >= 2)
            return false;
        if (o->bounded) {
            c->len = done == 0 ? last : left;
            return c->len > 0;
        }
        /* On the clock: a tenth of the time, then the rest. */
        if (done == 0)
            secs /= ANNEAL_FIRST_SHARE;
        c->by_clock = true;
        c->until = now;
        c->until.tv_sec += (time_t)secs;
        c->until.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
        if (c->until.tv_nsec >= 1000000000L) {
            c->until.tv_sec++;
            c->until.tv_nsec -= 1000000000L;
        }
        return true;
    }
    c->len = done == 0 ? last : 2 * last;
    if (o->bounded && c->len > left)
        c->len = left;
    return done == 0 || c->len >= last / 2;
}

int sch_anneal(struct sch *s, const struct sch_anneal_opts *o,
               uint32_t *epochs, bool *converged)
{
    uint32_t chains = o->chains ? o->chains : 1;
    struct chain *ch = calloc(chains, sizeof(*ch));
    int rc = -ENOMEM;
    *epochs = 0;
    *converged = false;
    if (!ch)
        goto out;
    if (s->n < 2 || s->T < 2 || !s->aff) {
        rc = 0;
        goto out;
    }
    double t0 = start_temperature(s);
    if (t0 <= 0) {
        rc = 0;
        goto out;
    }
    uint64_t len = (uint64_t)ANNEAL_FIRST_PER_SEAT * s->n * s->R;
    if (len < ANNEAL_FIRST_FLOOR)
        len = ANNEAL_FIRST_FLOOR;
    if (o->bounded && !o->open_ended && len > o->budget / ANNEAL_FIRST_SHARE)
        len = o->budget / ANNEAL_FIRST_SHARE;
    uint64_t spent = 0;
    uint32_t flat = 0;
    bool by_time = false;
    /* Cloning a thousand rounds is not free: not for an epoch that has no
     * time to run. */
    if (!plan_epoch(s, o, &ch[0], 0, len, 0, &by_time)) {
        s->stop = s->stop || by_time;
        rc = 0;
        goto out;
    }
    for (uint32_t k = 0; k < chains; k++)
        if ((rc = sch_clone(&ch[k].s, s)) != 0)
            goto out;
    for (uint32_t k = 1; k < chains; k++)
        ch[k].s.progress = NULL;
    while (!s->stop && plan_epoch(s, o, &ch[0], *epochs, len, spent,
                                  &by_time)) {
        uint64_t w0 = ch[0].s.work;
        for (uint32_t k = 0; k < chains; k++) {
            struct chain *c = &ch[k];
            if (k > 0) {
                c->len = ch[0].len;
                c->by_clock = ch[0].by_clock;
                c->until = ch[0].until;
            }
            if (*epochs > 0)
                sch_copy_seating(&c->s, s);
            sch_seed(&c->s.rng, o->seed ^ ((uint64_t)(*epochs + 1) << 40) ^
                                    ((uint64_t)(k + 1) << 20));
            c->t_start = t0 * ANNEAL_T_HIGH;
            c->t_end = t0 * ANNEAL_T_LOW;
        }
        if ((rc = run_epoch(ch, chains)) != 0)
            goto out;
        len = ch[0].s.work - w0;
        spent += len;
        s->work += len * chains;

        uint32_t best = 0;
        bool any_stop = false;
        for (uint32_t k = 0; k < chains; k++) {
            if (k > 0 && better(&ch[k].s, &ch[best].s))
                best = k;
            any_stop = any_stop || ch[k].s.stop;
            s->cancelled = s->cancelled || ch[k].s.cancelled;
        }
        /* A chain cut short is still a complete schedule, only less cool:
         * it may win, but ends the search. */
        double before = sch_objective(s);
        int64_t cost_before = sch_cost(s);
        if (better(&ch[best].s, s)) {
            sch_copy_seating(s, &ch[best].s);
            s->epochs = *epochs + 1;
            if (o->improved)
                o->improved(o->improved_ctx, s);
        }
        if (any_stop) {
            s->stop = true;
            break;
        }
        (*epochs)++;
        double gain = sch_objective(s) - before;
        bool gained = sch_cost(s) < cost_before ||
                      gain > SCHED_CONVERGED_GAIN * fabs(before);
        bool long_enough = len >= (uint64_t)ANNEAL_CONVERGE_PER_SEAT * s->n * s->R;
        flat = gained || !long_enough ? 0 : flat + 1;
        if (o->open_ended && flat >= ANNEAL_FLAT_EPOCHS) {
            *converged = true;
            break;
        }
    }
    if (by_time)
        s->stop = true;
    rc = 0;
out:
    for (uint32_t k = 0; ch && k < chains; k++)
        sch_free(&ch[k].s);
    free(ch);
    return rc;
}
