/* batch.c -- batch mode: event file in, printed schedule out.
 *
 * The run owns everything in one struct batch_job so there is a single
 * cleanup path however far it got.  The printable schedule (struct
 * out_schedule) points into arrays built here and into the roster's
 * strings; it is complete before the first byte goes to `out`.
 */
#include "batch.h"

#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "affinity.h"
#include "batch_budget.h"
#include "cfg_error.h"
#include "event_file.h"
#include "pairset.h"
#include "roster.h"
#include "sched.h"
#include "sched_metrics.h"
#include "store.h"

#define BATCH_WHY_MAX_BYTES 512        /* one line of reasons per table */
#define BATCH_SEARCH_FLOOR_SHARE 10    /* the search keeps 1/10 of the limit */
#define BATCH_PROGRESS_AFTER_MS 1000   /* quick runs show no progress */
#define BATCH_PROGRESS_LINE_COLS 40    /* what the line clear overwrites */

struct batch_job {
    const struct batch_opts *opts;
    FILE *err;
    struct cfg_event *ev;
    struct roster *roster;
    uint32_t *people;      /* roster index of each attendee, file order */
    struct pairset *met;
    struct pairset *avoid;
    struct aff_model *aff;
    struct sched_result *res;
    struct out_round *rounds;
    struct out_table *tables; /* [round * res->tables + table] */
    struct out_seat *seats;   /* [round * n + seat], grouped by table */
    char **whys;              /* parallel to tables */
    bool detail;              /* scores, reasons, quality: the format shows them */
    struct out_schedule sched;
    uint32_t threads;         /* the search ran on */
    struct timespec begun;    /* when the run began: --time-limit counts */
};

struct batch_progress {
    FILE *err;
    struct timespec start;
    int shown_pct; /* -1 until the first line is printed */
};

static long long batch_ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)(now.tv_sec - t0->tv_sec) * 1000 +
           (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static void batch_progress_cb(void *ctx, double done)
{
    struct batch_progress *p = ctx;
    int pct = (int)(done * 100.0);

    if (pct < 0)
        pct = 0;
    if (pct > 100)
        pct = 100;
    if (pct == p->shown_pct ||
        batch_ms_since(&p->start) < BATCH_PROGRESS_AFTER_MS)
        return;
    fprintf(p->err, "\rmingled: scheduling... %3d%%", pct);
    fflush(p->err);
    p->shown_pct = pct;
}

static void batch_progress_clear(const struct batch_progress *p)
{
    if (p->shown_pct < 0)
        return;
    fprintf(p->err, "\r%*s\r", BATCH_PROGRESS_LINE_COLS, "");
    fflush(p->err);
}

static int batch_add_pairs(struct batch_job *b, struct pairset *set,
                     const struct cfg_pair *pairs, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        int rc = pairset_add(set, b->people[pairs[i].a], b->people[pairs[i].b]);
        if (rc == -EINVAL)
            fprintf(b->err, "%s: %s: a pair names one attendee twice\n",
                    b->opts->path, what);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Interns every attendee and maps the event's index pairs to roster
 * indices.  The loader has validated the profiles, so a refusal here means
 * the two disagree; it is still reported, not trusted away. */
static int batch_load_roster(struct batch_job *b)
{
    const struct cfg_event *ev = b->ev;

    b->roster = roster_new();
    b->met = pairset_new();
    b->avoid = pairset_new();
    b->people = calloc(ev->n_attendees ? ev->n_attendees : 1,
                       sizeof *b->people);
    if (!b->roster || !b->met || !b->avoid || !b->people)
        return -ENOMEM;
    for (size_t i = 0; i < ev->n_attendees; i++) {
        int rc = roster_upsert(b->roster, &ev->attendees[i], &b->people[i]);
        if (rc == -EINVAL)
            fprintf(b->err, "%s: attendee \"%s\": profile rejected\n",
                    b->opts->path, ev->attendees[i].id);
        if (rc < 0)
            return rc;
    }
    int rc = batch_add_pairs(b, b->met, ev->met_before, ev->n_met_before,
                       "met_before");
    if (rc == 0)
        rc = batch_add_pairs(b, b->avoid, ev->avoid, ev->n_avoid, "avoid");
    if (rc < 0)
        return rc;
    b->aff = aff_model_new(b->roster, &ev->weights);
    return b->aff ? 0 : -ENOMEM;
}

static int batch_history_pair(const char *a, const char *b, void *ctx)
{
    struct batch_job *job = ctx;
    uint32_t ia, ib;

    if (roster_find(job->roster, a, &ia) < 0 ||
        roster_find(job->roster, b, &ib) < 0)
        return 0;
    return pairset_add(job->met, ia, ib);
}

/* --history: everyone who met at the daemon's earlier events has met, as
 * if listed under met_before.  The store is opened read-only and without
 * the lock, so a running daemon may keep it. */
static int batch_load_history(struct batch_job *b)
{
    const struct meetup_scope all = {.kind = MEETUP_SCOPE_ALL};
    char why[STORE_ERR_BYTES];
    struct store *st = NULL;
    int rc = store_open_readonly(b->opts->history_dir, &st, why, sizeof why);

    if (rc < 0) {
        fprintf(b->err, "mingled: --history %s: %s\n", b->opts->history_dir,
                why);
        return rc == -ENOMEM ? rc : -EINVAL;
    }
    rc = store_history_pairs(st, &all, batch_history_pair, b);
    if (rc < 0 && rc != -ENOMEM) {
        fprintf(b->err, "mingled: --history %s: %s\n", b->opts->history_dir,
                store_error(st));
        rc = -EINVAL;
    }
    store_close(st);
    return rc;
}

/* What --time-limit leaves the search once the run so far and the steps
 * after the search (batch_budget.h) are paid for; never below a tenth of
 * the limit, with a note when the rest does not fit. */
static uint32_t batch_search_ms(const struct batch_job *b,
                                const struct sched_params *p)
{
    const struct batch_budget_in bin = {
        .aff = b->aff,
        .roster = b->roster,
        .people = b->people,
        .n = (uint32_t)b->ev->n_attendees,
        .table_size = p->table_size,
        .rounds = p->rounds,
        .threads = p->threads,
        .format = b->opts->format,
    };
    uint32_t limit = p->time_limit_ms;
    uint32_t floor_ms = limit / BATCH_SEARCH_FLOOR_SHARE ? limit /
                        BATCH_SEARCH_FLOOR_SHARE : 1;
    uint64_t spent = (uint64_t)batch_ms_since(&b->begun) +
                     batch_finish_estimate_ms(&bin);

    if (spent + floor_ms <= limit)
        return (uint32_t)(limit - spent);
    fprintf(b->err, "mingled: note: building and writing %" PRIu32
            " rounds takes about %.1f s; the search gets %.1f s, and the "
            "run may exceed --time-limit\n", p->rounds,
            (double)spent / 1e3, (double)floor_ms / 1e3);
    return floor_ms;
}

static int batch_solve(struct batch_job *b)
{
    const struct cfg_event *ev = b->ev;
    struct batch_progress prog = {.err = b->err, .shown_pct = -1};
    struct sched_input in = {
        .people = b->people,
        .n = (uint32_t)ev->n_attendees,
        .met = b->met,
        .avoid = b->avoid,
        .aff = b->aff,
    };
    struct sched_params p = {
        .table_size = ev->table_size,
        .rounds = ev->rounds,
        .seed = b->opts->has_seed ? b->opts->seed
                : ev->has_seed    ? ev->seed
                                  : 0,
        .time_limit_ms = b->opts->time_limit_ms,
        .effort = b->opts->effort,
        .threads = b->opts->threads ? b->opts->threads
                                    : sched_default_threads(),
    };

    if (p.time_limit_ms > 0)
        p.time_limit_ms = batch_search_ms(b, &p);
    if (ev->n_attendees > SCHED_MAX_PEOPLE) {
        fprintf(b->err, "%s: %zu attendees, at most %d can be scheduled\n",
                b->opts->path, ev->n_attendees, SCHED_MAX_PEOPLE);
        return -EINVAL;
    }
    if (b->opts->progress) {
        clock_gettime(CLOCK_MONOTONIC, &prog.start);
        p.progress = batch_progress_cb;
        p.progress_ctx = &prog;
    }
    int rc = sched_solve(&in, &p, &b->res);
    batch_progress_clear(&prog);
    b->threads = p.threads;
    if (rc == -EINVAL)
        fprintf(b->err, "%s: cannot schedule %" PRIu32 " rounds of tables "
                "of %" PRIu32 " for %zu attendees\n", b->opts->path,
                ev->rounds, ev->table_size, ev->n_attendees);
    return rc;
}

/* Seats one round: attendees grouped by table in file order, each table
 * with its score (the sum of its pairs' affinities) and its reason.
 * `members` is scratch space for n roster indices, laid out like the
 * round's seats. */
static int batch_build_round(struct batch_job *b, uint32_t r, uint32_t *members)
{
    const struct sched_result *res = b->res;
    const uint32_t *table_of = res->table_of + (size_t)r * res->n;
    struct out_table *tables = b->tables + (size_t)r * res->tables;
    struct out_seat *seats = b->seats + (size_t)r * res->n;
    char **whys = b->whys + (size_t)r * res->tables;
    char why[BATCH_WHY_MAX_BYTES];

    for (uint32_t t = 0; t < res->tables; t++) {
        tables[t].table = t + 1;
        tables[t].n_seats = 0;
    }
    for (uint32_t i = 0; i < res->n; i++)
        tables[table_of[i]].n_seats++;
    uint32_t start = 0;
    for (uint32_t t = 0; t < res->tables; t++) {
        tables[t].seats = seats + start;
        start += tables[t].n_seats;
        tables[t].n_seats = 0;
    }
    for (uint32_t i = 0; i < res->n; i++) {
        struct out_table *tb = &tables[table_of[i]];
        size_t pos = (size_t)(tb->seats - seats) + tb->n_seats++;
        const struct attendee *a = roster_get(b->roster, b->people[i]);
        seats[pos].id = a->id;
        seats[pos].name = a->name;
        members[pos] = b->people[i];
    }

    for (uint32_t t = 0; t < res->tables && b->detail; t++) {
        struct out_table *tb = &tables[t];
        const uint32_t *m = members + (tb->seats - seats);
        tb->score = aff_table_score(b->aff, m, tb->n_seats);
        aff_table_reason(b->aff, m, tb->n_seats, why, sizeof why);
        whys[t] = strdup(why);
        if (!whys[t])
            return -ENOMEM;
        tb->why = whys[t];
    }
    b->rounds[r].round = r + 1;
    b->rounds[r].tables = tables;
    b->rounds[r].n_tables = res->tables;
    return 0;
}

/* The schedule's quality figures (sched_metrics.h). */
static int batch_quality(const struct batch_job *b, struct out_quality *q)
{
    const struct sched_result *res = b->res;
    struct sched_round *rounds = calloc(res->rounds ? res->rounds : 1,
                                        sizeof(*rounds));
    struct sched_metrics m;
    int rc = -ENOMEM;

    if (!rounds)
        goto out;
    for (uint32_t r = 0; r < res->rounds; r++)
        rounds[r] = (struct sched_round){
            .people = b->people,
            .table_of = res->table_of + (size_t)r * res->n,
            .n = res->n,
            .tables = res->tables,
        };
    rc = sched_metrics_compute(b->aff, b->met, b->avoid, rounds, res->rounds,
                               &m);
    if (rc < 0)
        goto out;
    *q = (struct out_quality){
        .objective = m.objective,
        .upper_bound = m.upper_bound,
        .bound_share = m.bound_share,
        .seats = m.seats,
        .lonely_seats = m.lonely_seats,
        .business_mean = m.business_mean,
        .business_min = m.business_min,
        .conversation_mean = m.conversation_mean,
        .conversation_min = m.conversation_min,
        .empty_handed = m.empty_handed,
        .business_lift = m.business_lift,
        .conversation_lift = m.conversation_lift,
    };
out:
    free(rounds);
    return rc;
}

/* One builder thread's share of the rounds: r = first, first + step, ... */
struct batch_builder {
    struct batch_job *b;
    uint32_t first;
    uint32_t step;
    pthread_t thread;
    bool started;
    int rc;
};

static void *batch_builder_main(void *arg)
{
    struct batch_builder *w = arg;
    const struct sched_result *res = w->b->res;
    uint32_t *members = calloc((size_t)res->n + 1, sizeof(*members));

    w->rc = members ? 0 : -ENOMEM;
    for (uint32_t r = w->first; r < res->rounds && w->rc == 0; r += w->step)
        w->rc = batch_build_round(w->b, r, members);
    free(members);
    return NULL;
}

/* Builds the rounds on the threads the search had: the reasons cost about
 * as much as a search pass over every table, and rounds are independent
 * (each writes only its own slots; the model is only read). */
static int batch_build_rounds(struct batch_job *b)
{
    uint32_t k, n = b->threads ? b->threads : 1;
    struct batch_builder w[SCHED_THREADS_MAX];
    int rc = 0;

    if (n > SCHED_THREADS_MAX)
        n = SCHED_THREADS_MAX;
    if (n > b->res->rounds)
        n = b->res->rounds ? b->res->rounds : 1;
    for (k = 0; k < n; k++) {
        w[k] = (struct batch_builder){.b = b, .first = k, .step = n};
        if (k > 0)
            w[k].started = pthread_create(&w[k].thread, NULL,
                                          batch_builder_main, &w[k]) == 0;
    }
    /* A thread that could not start leaves its rounds to this one. */
    for (k = 0; k < n; k++)
        if (!w[k].started)
            batch_builder_main(&w[k]);
    for (k = 0; k < n; k++) {
        if (w[k].started)
            pthread_join(w[k].thread, NULL);
        if (w[k].rc < 0)
            rc = w[k].rc;
    }
    return rc;
}

static int batch_build_schedule(struct batch_job *b)
{
    const struct sched_result *res = b->res;
    size_t n_tables = (size_t)res->rounds * res->tables;
    int rc = -ENOMEM;

    b->rounds = calloc(res->rounds ? res->rounds : 1, sizeof *b->rounds);
    b->tables = calloc(n_tables ? n_tables : 1, sizeof *b->tables);
    b->whys = calloc(n_tables ? n_tables : 1, sizeof *b->whys);
    b->seats = calloc((size_t)res->rounds * res->n + 1, sizeof *b->seats);
    if (!b->rounds || !b->tables || !b->whys || !b->seats)
        goto out;
    rc = batch_build_rounds(b);
    if (rc < 0)
        goto out;
    struct out_quality q = {0};
    if (b->detail && (rc = batch_quality(b, &q)) < 0)
        goto out;
    b->sched = (struct out_schedule){
        .event = b->ev->name,
        .rounds = b->rounds,
        .n_rounds = res->rounds,
        .summary = {
            .attendees = res->n,
            .repeat_pairs = res->repeat_pairs,
            .repeat_lower_bound = res->repeat_lower_bound,
            .affinity_total = res->affinity_total,
            .min_attendee_affinity = res->min_attendee_affinity,
            .has_quality = b->detail,
            .quality = q,
            .search = {
                .threads = b->threads,
                .epochs = res->epochs,
                .converged = res->converged,
                .time_limit_hit = res->time_limit_hit,
            },
        },
    };
    rc = 0;
out:
    return rc;
}

/* The first avoid pair, in file order, that the schedule seats together
 * (and in which round), or NULL: an infeasible set is reported where it
 * can be edited. */
static const struct cfg_pair *batch_seated_avoid(const struct batch_job *b,
                                                 uint32_t *round)
{
    const struct sched_result *res = b->res;

    for (size_t i = 0; i < b->ev->n_avoid; i++) {
        const struct cfg_pair *pr = &b->ev->avoid[i];

        for (uint32_t r = 0; r < res->rounds; r++) {
            const uint32_t *table_of = res->table_of + (size_t)r * res->n;

            if (table_of[pr->a] == table_of[pr->b]) {
                *round = r + 1;
                return pr;
            }
        }
    }
    return NULL;
}

static void batch_report_avoid(const struct batch_job *b)
{
    uint32_t round = 0;
    const struct cfg_pair *pr = batch_seated_avoid(b, &round);

    if (pr)
        fprintf(b->err, "%s:%u:%u: the avoid pairs cannot all be kept "
                "apart: '%s' and '%s' here would share a table in round "
                "%" PRIu32 " (%" PRIu64 " in all); remove some and "
                "try again\n", b->opts->path, pr->line, pr->column,
                b->ev->attendees[pr->a].id, b->ev->attendees[pr->b].id,
                round, b->res->avoid_violations);
    else
        fprintf(b->err, "%s: the avoid pairs cannot all be kept apart: "
                "%" PRIu64 " of them would share a table; remove some and "
                "try again\n", b->opts->path, b->res->avoid_violations);
}

static void batch_cleanup(struct batch_job *b)
{
    if (b->whys && b->res) {
        size_t n_tables = (size_t)b->res->rounds * b->res->tables;
        for (size_t i = 0; i < n_tables; i++)
            free(b->whys[i]);
    }
    free(b->whys);
    free(b->seats);
    free(b->tables);
    free(b->rounds);
    sched_result_free(b->res);
    aff_model_free(b->aff);
    pairset_free(b->avoid);
    pairset_free(b->met);
    free(b->people);
    roster_free(b->roster);
    cfg_event_free(b->ev);
}

int batch_run(const struct batch_opts *o, FILE *out, FILE *err)
{
    struct batch_job b = {.opts = o, .err = err,
                          .detail = out_format_has_detail(o->format)};
    struct cfg_limits lim = {.max_attendees = o->max_attendees};
    struct cfg_error cerr = {0};
    int status = BATCH_EXIT_INTERNAL;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &b.begun);

    rc = cfg_event_load(o->path, &lim, &b.ev, &cerr);
    if (rc < 0) {
        char msg[CFG_ERROR_FILE_BYTES + CFG_ERROR_MSG_BYTES + 32];
        fprintf(err, "%s\n", cfg_error_format(&cerr, msg, sizeof msg));
        if (rc != -ENOMEM)
            status = BATCH_EXIT_BAD_INPUT;
        goto out;
    }
    rc = batch_load_roster(&b);
    if (rc == 0 && o->history_dir)
        rc = batch_load_history(&b);
    if (rc == 0)
        rc = batch_solve(&b);
    if (rc == -EINVAL) {
        status = BATCH_EXIT_BAD_INPUT;
        goto out;
    }
    if (rc == 0 && b.res->avoid_violations > 0) {
        batch_report_avoid(&b);
        status = BATCH_EXIT_BAD_INPUT;
        goto out;
    }
    if (rc == 0)
        rc = batch_build_schedule(&b);
    if (rc < 0) {
        fprintf(err, "mingled: %s\n", strerror(-rc));
        goto out;
    }
    if (b.res->time_limit_hit && b.res->epochs == 0)
        fprintf(err, "mingled: note: the time limit cut the search short; "
                "the schedule is valid but may not be the best\n");

    errno = 0;
    rc = out_write(out, o->format, &b.sched);
    if (rc < 0) {
        fprintf(err, "mingled: writing the schedule: %s\n",
                strerror(errno ? errno : -rc));
        goto out;
    }
    status = BATCH_EXIT_OK;
out:
    batch_cleanup(&b);
    return status;
}
