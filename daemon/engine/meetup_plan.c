/* meetup_plan.c -- planning jobs that run outside the hub's thread, and
 * the quality of an event's rounds.
 *
 * A job numbers people its own way: local indices 0..n_present-1 are the
 * people present, in roster order (the rows of a plan), then come those
 * seated in an earlier round who have left, so that the whole evening can
 * be scored from the job alone.  The hub's thread pays for the snapshot,
 * so it only copies: pair sets become flat lists of local pairs, and the
 * thread that runs the job turns them back into sets.
 *
 * A result must beat the plan cached when the job was made.  After a
 * round that plan is still usable, and a new search's first schedules can
 * be worse than its remaining rounds; both are scored over those rounds
 * (fewer repeats, then the higher objective) before a result leaves the
 * running thread.
 */
#include "meetup_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* An earlier round in local indices. */
struct mu_job_round {
    uint32_t n;
    uint32_t tables;
    uint32_t *people;
    uint32_t *table_of;
};

/* Pairs of local indices, flat: a0, b0, a1, b1, ... */
struct mu_pairs {
    uint32_t *v;
    size_t n;
};

struct meetup_plan_job {
    uint64_t event_id;
    uint32_t base;            /* rounds done */
    uint64_t gen;
    uint64_t hist;
    uint32_t table_size;
    uint32_t rounds;          /* to plan */
    uint64_t seed;
    uint32_t n_present;
    uint32_t n_people;        /* present, then seated earlier and gone */
    uint32_t *roster_of;      /* [n_people] */
    uint32_t *ident;          /* [n_present]: 0, 1, ...: the people to seat */
    struct aff_model *aff;    /* over local indices */
    struct mu_pairs met;      /* already met: met_before, rounds, history */
    struct mu_pairs before;   /* met_before only */
    struct mu_pairs avoid;
    struct mu_job_round *done;
    uint32_t n_done;
    /* The plan cached at the snapshot: its rounds left, as rows of
     * n_present tables; inc_rounds is 0 when there was none. */
    uint32_t inc_rounds;
    uint32_t inc_tables;
    uint32_t *inc_table_of;
    /* Where the cached plan, even a stale one, seats the people present
     * now: [round * n_present + i], UINT32_MAX for newcomers; NULL when
     * there is no plan.  The search starts from it (sched_input.start). */
    uint32_t *start;
    uint8_t *served;          /* sched_input.served, or NULL */
    /* Built by the thread that runs the job (mu_job_sets). */
    struct pairset *met_set;      /* among the present: for the search */
    struct pairset *avoid_set;    /* among the present */
    struct pairset *prior_set;    /* known before this event: for metrics */
    struct pairset *avoid_all;
};

struct meetup_plan_result {
    uint64_t event_id;
    uint32_t base;
    uint64_t gen;
    uint64_t hist;
    uint32_t *people;          /* rows of sched: roster indices */
    struct sched_result *sched;
    bool has_quality;          /* earlier rounds and the plan's */
    struct sched_metrics quality;
    bool has_done;             /* earlier rounds alone */
    struct sched_metrics done;
    bool worse;                /* than the plan cached at the snapshot */
};

/* ---- snapshot, in the hub's thread ---- */

/* The pairs of `set` whose both people have a local index. */
static int mu_copy_pairs(const struct pairset *set, const uint32_t *local_of,
                         uint32_t count, struct mu_pairs *out)
{
    size_t cursor = 0;
    uint32_t a, b;

    out->v = malloc((pairset_count(set) * 2 + 1) * sizeof(*out->v));
    if (out->v == NULL)
        return -ENOMEM;
    while (pairset_next(set, &cursor, &a, &b)) {
        if (a >= count || b >= count || local_of[a] == MU_NO_INDEX ||
            local_of[b] == MU_NO_INDEX)
            continue;
        out->v[out->n * 2] = local_of[a];
        out->v[out->n * 2 + 1] = local_of[b];
        out->n++;
    }
    return 0;
}

static int mu_copy_round(const struct meetup_round_rec *src,
                         const uint32_t *local_of, struct mu_job_round *dst)
{
    uint32_t i;

    dst->n = src->n;
    dst->tables = src->tables;
    dst->people = malloc((src->n + 1) * sizeof(*dst->people));
    dst->table_of = malloc((src->n + 1) * sizeof(*dst->table_of));
    if (dst->people == NULL || dst->table_of == NULL)
        return -ENOMEM;
    for (i = 0; i < src->n; i++)
        dst->people[i] = local_of[src->people[i]];
    memcpy(dst->table_of, src->table_of, src->n * sizeof(*dst->table_of));
    return 0;
}

/* The cached plan's rounds left, in local indices.  A usable plan was
 * made for the people present now, so every row maps. */
static int mu_copy_incumbent(const struct meetup *hub,
                             const struct mu_event *ev,
                             const uint32_t *local_of,
                             struct meetup_plan_job *job)
{
    const struct sched_result *res = ev->plan.res;
    uint32_t j, k, i;

    if (!mu_plan_usable(hub, ev) || res->n != job->n_present)
        return 0;
    j = ev->n_rounds - ev->plan.base;
    job->inc_table_of = malloc(((size_t)(res->rounds - j) * res->n + 1) *
                               sizeof(*job->inc_table_of));
    if (job->inc_table_of == NULL)
        return -ENOMEM;
    for (k = 0; j + k < res->rounds; k++) {
        for (i = 0; i < res->n; i++)
            job->inc_table_of[(size_t)k * res->n +
                              local_of[ev->plan.people[i]]] =
                res->table_of[(size_t)(j + k) * res->n + i];
    }
    job->inc_rounds = k;
    job->inc_tables = res->tables;
    return 0;
}

static int mu_snapshot(struct meetup *hub, struct mu_event *ev,
                       struct meetup_plan_job **out)
{
    struct meetup_plan_job *job = calloc(1, sizeof(*job));
    uint32_t count = roster_count(ev->roster), *local_of = NULL, i, r, n = 0;
    const struct aff_model *model;
    int ret = -ENOMEM;

    *out = NULL;
    if (job == NULL || mu_event_met(hub, ev) < 0)
        goto out;
    model = mu_event_model(ev);
    local_of = malloc((count + 1) * sizeof(*local_of));
    job->roster_of = malloc((count + 1) * sizeof(*job->roster_of));
    job->ident = malloc((ev->n_present + 1) * sizeof(*job->ident));
    job->done = calloc(ev->n_rounds + 1, sizeof(*job->done));
    if (model == NULL || local_of == NULL || job->roster_of == NULL ||
        job->ident == NULL || job->done == NULL)
        goto out;
    memset(local_of, 0xff, (count + 1) * sizeof(*local_of));
    for (i = 0; i < count; i++) {
        if (ev->present[i]) {
            job->ident[n] = n;
            local_of[i] = n;
            job->roster_of[n++] = i;
        }
    }
    job->n_present = n;
    for (r = 0; r < ev->n_rounds; r++) {
        for (i = 0; i < ev->rounds[r].n; i++) {
            uint32_t p = ev->rounds[r].people[i];

            if (local_of[p] == MU_NO_INDEX) {
                local_of[p] = n;
                job->roster_of[n++] = p;
            }
        }
    }
    job->n_people = n;
    job->aff = aff_model_subset(model, job->roster_of, n);
    if (job->aff == NULL)
        goto out;
    for (r = 0; r < ev->n_rounds; r++) {
        job->n_done++; /* counted first: freed even if half copied */
        if (mu_copy_round(&ev->rounds[r], local_of, &job->done[r]) < 0)
            goto out;
    }
    if (mu_copy_pairs(ev->met, local_of, count, &job->met) < 0 ||
        mu_copy_pairs(ev->met_before, local_of, count, &job->before) < 0 ||
        mu_copy_pairs(ev->avoid, local_of, count, &job->avoid) < 0 ||
        mu_copy_incumbent(hub, ev, local_of, job) < 0)
        goto out;
    job->event_id = ev->id;
    job->base = ev->n_rounds;
    job->gen = ev->gen;
    job->hist = mu_hist_key(hub, ev);
    job->table_size = ev->def.table_size;
    job->rounds = mu_plan_rounds(ev);
    job->seed = mu_plan_seed(ev);
    /* After a check-in or check-out the search then moves nobody but
     * whom it must, and only improves from there. */
    if (mu_plan_start(ev, job->roster_of, job->n_present, job->rounds,
                      &job->start) < 0 ||
        mu_served(ev, model, job->roster_of, job->n_present,
                  &job->served) < 0)
        goto out;
    ret = 0;
out:
    free(local_of);
    if (ret < 0)
        meetup_plan_job_free(job);
    else
        *out = job;
    return ret;
}

static bool mu_done_cached(const struct meetup *hub, const struct mu_event *ev)
{
    const struct mu_quality_cache *c = &ev->done_quality;

    return c->valid && c->rounds == ev->n_rounds && c->gen == ev->gen &&
           c->hist == mu_hist_key(hub, ev);
}

int meetup_plan_job_new(struct meetup *hub, uint64_t event_id,
                        struct meetup_plan_job **out)
{
    struct mu_event *ev = mu_event_find(hub, event_id);

    *out = NULL;
    if (ev == NULL)
        return -ENOENT;
    if (ev->closed || ev->n_present < 2 || ev->n_rounds >= MEETUP_ROUNDS_MAX) {
        int ret;

        /* Nothing to plan, but the quality of the rounds may still be
         * unknown: the job then only computes it, off the loop. */
        if (ev->n_rounds == 0 || mu_done_cached(hub, ev))
            return -EPERM;
        ret = mu_snapshot(hub, ev, out);
        if (ret == 0)
            (*out)->rounds = 0;
        return ret;
    }
    return mu_snapshot(hub, ev, out);
}

uint64_t meetup_plan_job_event(const struct meetup_plan_job *job)
{
    return job->event_id;
}

bool meetup_plan_job_has_plan(const struct meetup_plan_job *job)
{
    return job->inc_rounds > 0;
}

void meetup_plan_job_free(struct meetup_plan_job *job)
{
    uint32_t r;

    if (job == NULL)
        return;
    for (r = 0; r < job->n_done; r++) {
        free(job->done[r].people);
        free(job->done[r].table_of);
    }
    free(job->done);
    free(job->roster_of);
    free(job->ident);
    aff_model_free(job->aff);
    free(job->met.v);
    free(job->before.v);
    free(job->avoid.v);
    free(job->inc_table_of);
    free(job->start);
    free(job->served);
    pairset_free(job->met_set);
    pairset_free(job->avoid_set);
    pairset_free(job->prior_set);
    pairset_free(job->avoid_all);
    free(job);
}

/* ---- running, in any thread ---- */

/* Groups one round by table as mu_round_groups() does. */
static int mu_groups(uint32_t n, const uint32_t *people,
                     const uint32_t *table_of, uint32_t tables,
                     uint32_t **members, uint32_t **start)
{
    struct meetup_round_rec rec = { 0 };

    rec.n = n;
    rec.tables = tables;
    rec.people = (uint32_t *)people;
    rec.table_of = (uint32_t *)table_of;
    return mu_round_groups(&rec, members, start);
}

static int mu_add_round_pairs(const struct mu_job_round *r,
                              struct pairset *set)
{
    uint32_t *m, *s, t, i, j;
    int ret = mu_groups(r->n, r->people, r->table_of, r->tables, &m, &s);

    if (ret < 0)
        return ret;
    for (t = 0; ret == 0 && t < r->tables; t++) {
        for (i = s[t]; ret == 0 && i < s[t + 1]; i++) {
            for (j = i + 1; ret == 0 && j < s[t + 1]; j++)
                ret = pairset_add(set, m[i], m[j]);
        }
    }
    free(m);
    free(s);
    return ret;
}

static int mu_add_pairs(struct pairset *set, const struct mu_pairs *p,
                        uint32_t below)
{
    size_t k;

    for (k = 0; k < p->n; k++) {
        uint32_t a = p->v[2 * k], b = p->v[2 * k + 1];

        if (a < below && b < below && pairset_add(set, a, b) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* The pair sets of a job.  `prior` is what the metrics count as known
 * before the event: met_before and history, but not this event's rounds
 * (a pair that met in round 1 was a contact the evening made). */
static int mu_job_sets(struct meetup_plan_job *job)
{
    struct pairset *own;
    uint32_t r;
    size_t k;
    int ret = -ENOMEM;

    if (job->met_set != NULL)
        return 0;
    own = pairset_new();
    job->met_set = pairset_new();
    job->avoid_set = pairset_new();
    job->prior_set = pairset_new();
    job->avoid_all = pairset_new();
    if (own == NULL || job->met_set == NULL || job->avoid_set == NULL ||
        job->prior_set == NULL || job->avoid_all == NULL)
        goto out;
    for (r = 0; r < job->n_done; r++) {
        if (mu_add_round_pairs(&job->done[r], own) < 0)
            goto out;
    }
    if (mu_add_pairs(job->met_set, &job->met, job->n_present) < 0 ||
        mu_add_pairs(job->avoid_set, &job->avoid, job->n_present) < 0 ||
        mu_add_pairs(job->avoid_all, &job->avoid, job->n_people) < 0 ||
        mu_add_pairs(job->prior_set, &job->before, job->n_people) < 0)
        goto out;
    for (k = 0; k < job->met.n; k++) {
        uint32_t a = job->met.v[2 * k], b = job->met.v[2 * k + 1];

        if (!pairset_has(own, a, b) && pairset_add(job->prior_set, a, b) < 0)
            goto out;
    }
    ret = 0;
out:
    pairset_free(own);
    if (ret < 0) {
        /* Built again from scratch if the job runs once more. */
        pairset_free(job->met_set);
        pairset_free(job->avoid_set);
        pairset_free(job->prior_set);
        pairset_free(job->avoid_all);
        job->met_set = job->avoid_set = NULL;
        job->prior_set = job->avoid_all = NULL;
    }
    return ret;
}

/* Repeats and objective of the first `rounds` rows of `table_of` (tables
 * of the present people), as the search counts them: a repeat is a pair
 * already met or seated together in an earlier of these rounds; the
 * objective is the sum of pair scores less the penalty per lonely seat. */
static int mu_job_score(const struct meetup_plan_job *job,
                        const uint32_t *table_of, uint32_t rounds,
                        uint32_t tables, uint64_t *repeats, double *objective)
{
    struct pairset *seen = pairset_new();
    uint32_t n = job->n_present, r, t, i, j, *m = NULL, *s = NULL;
    uint64_t lonely = 0;
    int ret = -ENOMEM;

    *repeats = 0;
    *objective = 0;
    if (seen == NULL)
        goto out;
    for (r = 0; r < rounds; r++) {
        ret = mu_groups(n, job->ident, table_of + (size_t)r * n, tables, &m,
                        &s);
        if (ret < 0)
            goto out;
        for (t = 0; t < tables; t++) {
            for (i = s[t]; i < s[t + 1]; i++) {
                bool linked = false;

                for (j = s[t]; j < s[t + 1]; j++) {
                    if (j == i)
                        continue;
                    linked = linked || aff_linked(job->aff, m[i], m[j]);
                    if (j < i)
                        continue;
                    *objective += aff_score(job->aff, m[i], m[j]);
                    if (pairset_has(job->met_set, m[i], m[j]) ||
                        pairset_has(seen, m[i], m[j]))
                        ++*repeats;
                    else if ((ret = pairset_add(seen, m[i], m[j])) < 0)
                        goto out;
                }
                lonely += !linked;
            }
        }
        free(m);
        free(s);
        m = s = NULL;
    }
    *objective -= aff_lonely_penalty(job->aff) * (double)lonely;
    ret = 0;
out:
    free(m);
    free(s);
    pairset_free(seen);
    return ret;
}

/* Metrics of the earlier rounds followed by `rounds` rows of `table_of`
 * (none: the earlier rounds alone). */
static int mu_job_metrics(const struct meetup_plan_job *job,
                          const uint32_t *table_of, uint32_t rounds,
                          uint32_t tables, struct sched_metrics *out)
{
    struct sched_round *rs = calloc(job->n_done + rounds + 1, sizeof(*rs));
    uint32_t r;
    int ret;

    if (rs == NULL)
        return -ENOMEM;
    for (r = 0; r < job->n_done; r++) {
        rs[r].people = job->done[r].people;
        rs[r].table_of = job->done[r].table_of;
        rs[r].n = job->done[r].n;
        rs[r].tables = job->done[r].tables;
    }
    for (r = 0; r < rounds; r++) {
        rs[job->n_done + r].people = job->ident;
        rs[job->n_done + r].table_of = table_of + (size_t)r * job->n_present;
        rs[job->n_done + r].n = job->n_present;
        rs[job->n_done + r].tables = tables;
    }
    ret = sched_metrics_compute(job->aff, job->prior_set, job->avoid_all, rs,
                                job->n_done + rounds, out);
    free(rs);
    return ret;
}

/* One run of a job: what the search's callback needs. */
struct mu_run {
    struct meetup_plan_job *job;
    const struct meetup_plan_opts *opts;
    int inc_state;       /* 0: not scored yet, 1: scored, -1: failed */
    uint64_t inc_repeats;
    double inc_objective;
    int done_state;      /* the same for the earlier rounds' metrics */
    struct sched_metrics done;
};

/* Whether `res` beats the plan cached at the snapshot over the rounds
 * that plan has left. */
static bool mu_run_beats(struct mu_run *run, const struct sched_result *res)
{
    const struct meetup_plan_job *job = run->job;
    uint32_t m = job->inc_rounds < res->rounds ? job->inc_rounds
                                                : res->rounds;
    uint64_t rep;
    double obj;

    if (job->inc_rounds == 0)
        return true;
    if (run->inc_state == 0)
        run->inc_state = mu_job_score(job, job->inc_table_of, m,
                                      job->inc_tables, &run->inc_repeats,
                                      &run->inc_objective) == 0 ? 1 : -1;
    if (run->inc_state < 0 ||
        mu_job_score(job, res->table_of, m, res->tables, &rep, &obj) < 0)
        return false;
    return rep < run->inc_repeats ||
           (rep == run->inc_repeats && obj >= run->inc_objective);
}

/* A result around `res`, which it takes over (freed on failure); a
 * result `worse` than the cached plan only reports how the search ended. */
static struct meetup_plan_result *mu_result_new(struct mu_run *run,
                                                struct sched_result *res,
                                                bool worse)
{
    struct meetup_plan_job *job = run->job;
    struct meetup_plan_result *r = calloc(1, sizeof(*r));

    if (r == NULL || res == NULL)
        goto fail;
    r->people = malloc((job->n_present + 1) * sizeof(*r->people));
    if (r->people == NULL)
        goto fail;
    memcpy(r->people, job->roster_of, job->n_present * sizeof(*r->people));
    r->sched = res;
    r->event_id = job->event_id;
    r->base = job->base;
    r->gen = job->gen;
    r->hist = job->hist;
    r->worse = worse;
    /* Quality is a courtesy: a plan without it is still a plan.  The
     * earlier rounds' figures come with every result, so that even a
     * search that found nothing better brings them. */
    if (run->done_state == 0 && job->n_done > 0)
        run->done_state = mu_job_metrics(job, NULL, 0, 0, &run->done) == 0
                              ? 1 : -1;
    r->has_done = run->done_state > 0;
    r->done = run->done;
    if (!worse)
        r->has_quality = mu_job_metrics(job, res->table_of, res->rounds,
                                        res->tables, &r->quality) == 0;
    return r;
fail:
    sched_result_free(res);
    meetup_plan_result_free(r);
    return NULL;
}

static void mu_run_improved(void *ctx, const struct sched_result *best)
{
    struct mu_run *run = ctx;
    struct meetup_plan_result *r;

    if (!mu_run_beats(run, best))
        return;
    r = mu_result_new(run, sched_result_dup(best), false);
    if (r != NULL)
        run->opts->improved(run->opts->ctx, r);
}

/* The result of a job with nothing to plan: the earlier rounds' quality
 * alone. */
static int mu_metrics_only(struct mu_run *run, struct meetup_plan_result **out)
{
    struct meetup_plan_job *job = run->job;
    struct meetup_plan_result *r = calloc(1, sizeof(*r));
    int ret;

    if (r == NULL)
        return -ENOMEM;
    ret = mu_job_metrics(job, NULL, 0, 0, &r->done);
    if (ret < 0) {
        free(r);
        return ret;
    }
    r->event_id = job->event_id;
    r->base = job->base;
    r->gen = job->gen;
    r->hist = job->hist;
    r->has_done = true;
    *out = r;
    return 0;
}

int meetup_plan_run(struct meetup_plan_job *job,
                    const struct meetup_plan_opts *opts,
                    struct meetup_plan_result **out)
{
    struct mu_run run = { .job = job, .opts = opts };
    struct sched_input in = { 0 };
    struct sched_params sp = { 0 };
    struct sched_result *res = NULL;
    int ret;

    *out = NULL;
    ret = mu_job_sets(job);
    if (ret < 0)
        return ret;
    if (job->rounds == 0)
        return mu_metrics_only(&run, out);
    in.people = job->ident;
    in.n = job->n_present;
    in.met = job->met_set;
    in.avoid = job->avoid_set;
    in.aff = job->aff;
    in.start = job->start;
    in.served = job->served;
    sp.table_size = job->table_size;
    sp.rounds = job->rounds;
    sp.seed = job->seed;
    sp.time_limit_ms = opts->time_limit_ms;
    sp.effort = opts->effort;
    sp.threads = opts->threads;
    /* A good plan soon and better ones as they come: NextRound may be
     * called at any moment. */
    sp.open_ended = true;
    sp.cancel = opts->cancel;
    if (opts->improved != NULL) {
        sp.improved = mu_run_improved;
        sp.improved_ctx = &run;
    }
    ret = sched_solve(&in, &sp, &res);
    if (ret < 0)
        return ret;
    *out = mu_result_new(&run, res, !mu_run_beats(&run, res));
    return *out == NULL ? -ENOMEM : 0;
}

/* ---- results, back in the hub's thread ---- */

uint64_t meetup_plan_result_event(const struct meetup_plan_result *res)
{
    return res->event_id;
}

void meetup_plan_result_info(const struct meetup_plan_result *res,
                             struct meetup_plan_info *out)
{
    memset(out, 0, sizeof(*out));
    out->event_id = res->event_id;
    out->next_round = res->base + 1;
    out->quality = res->quality;
    out->worse = res->worse;
    if (res->sched == NULL)
        return;
    out->rounds = res->sched->rounds;
    out->repeat_pairs = res->sched->repeat_pairs;
    out->objective = res->sched->objective;
    out->epochs = res->sched->epochs;
    out->work = res->sched->work;
    out->converged = res->sched->converged;
    out->cancelled = res->sched->cancelled;
}

void meetup_plan_result_free(struct meetup_plan_result *res)
{
    if (res == NULL)
        return;
    sched_result_free(res->sched);
    free(res->people);
    free(res);
}

static bool mu_plan_better(const struct sched_result *a,
                           const struct sched_result *b)
{
    return a->repeat_pairs < b->repeat_pairs ||
           (a->repeat_pairs == b->repeat_pairs &&
            a->objective >= b->objective);
}

int meetup_plan_install(struct meetup *hub, struct meetup_plan_result *res)
{
    struct mu_event *ev = mu_event_find(hub, res->event_id);
    struct mu_plan *plan;

    if (ev == NULL)
        return -ENOENT;
    if (ev->gen != res->gen || mu_hist_key(hub, ev) != res->hist ||
        ev->n_rounds != res->base)
        return -ESTALE;
    if (res->has_done) {
        ev->done_quality.valid = true;
        ev->done_quality.rounds = res->base;
        ev->done_quality.gen = res->gen;
        ev->done_quality.hist = res->hist;
        ev->done_quality.m = res->done;
    }
    if (res->sched == NULL)
        return -EALREADY;
    if (ev->closed)
        return -ESTALE;
    plan = &ev->plan;
    if (res->worse || (mu_plan_usable(hub, ev) && plan->base == res->base &&
                       !mu_plan_better(res->sched, plan->res)))
        return -EALREADY;
    mu_plan_clear(plan);
    plan->res = res->sched;
    plan->people = res->people;
    res->sched = NULL;
    res->people = NULL;
    plan->base = res->base;
    plan->gen = res->gen;
    plan->hist = res->hist;
    plan->token = ++hub->next_token;
    plan->background = true;
    plan->has_quality = res->has_quality;
    plan->quality = res->quality;
    return 0;
}

/* ---- quality ---- */

int meetup_quality_get(struct meetup *hub, uint64_t event_id, bool compute,
                       struct meetup_quality *out)
{
    struct mu_event *ev = mu_event_find(hub, event_id);
    struct meetup_plan_job *job = NULL;
    bool want_done, want_plan;
    int ret = 0;

    memset(out, 0, sizeof(*out));
    if (ev == NULL)
        return -ENOENT;
    want_done = compute && ev->n_rounds > 0 && !mu_done_cached(hub, ev);
    want_plan = compute && mu_plan_usable(hub, ev) && !ev->plan.has_quality;
    if (want_done || want_plan) {
        ret = mu_snapshot(hub, ev, &job);
        if (ret == 0)
            ret = mu_job_sets(job);
        if (ret < 0)
            goto out;
    }
    if (want_done) {
        ret = mu_job_metrics(job, NULL, 0, 0, &ev->done_quality.m);
        if (ret < 0)
            goto out;
        ev->done_quality.valid = true;
        ev->done_quality.rounds = ev->n_rounds;
        ev->done_quality.gen = ev->gen;
        ev->done_quality.hist = mu_hist_key(hub, ev);
    }
    if (want_plan && job->inc_rounds > 0) {
        ret = mu_job_metrics(job, job->inc_table_of, job->inc_rounds,
                             job->inc_tables, &ev->plan.quality);
        if (ret < 0)
            goto out;
        ev->plan.has_quality = true;
    }
    out->done_valid = ev->n_rounds > 0 && mu_done_cached(hub, ev);
    out->done = ev->done_quality.m;
    out->plan_valid = mu_plan_usable(hub, ev) && ev->plan.has_quality;
    out->plan = ev->plan.quality;
out:
    meetup_plan_job_free(job);
    return ret;
}
