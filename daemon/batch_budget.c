/* batch_budget.c -- what the steps after the search will cost (see
 * batch_budget.h). */
#include "batch_budget.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "affinity.h"
#include "roster.h"
#include "sched.h"
#include "sched_metrics.h"

#define BATCH_BUDGET_WHY_BYTES 512
/* The quality figures visit each seated pair about this many times as
 * often as a table score does (a heap per person, the bound). */
#define BATCH_BUDGET_METRICS_PER_PAIR 3.0
/* A searched seating costs this much more to explain and write than the
 * file-order sample (measured at 500 and 5,000 people: 1.0 to 1.8). */
#define BATCH_BUDGET_SEATED_FACTOR 1.8

/* The thread's CPU time: on a busy machine a wall clock sample would
 * count other processes' turns. */
static double budget_now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

uint32_t batch_finish_estimate_ms(const struct batch_budget_in *in)
{
    uint32_t T = sched_table_count(in->n, in->table_size);
    struct out_table *tables = calloc(T ? T : 1, sizeof(*tables));
    struct out_seat *seats = calloc(in->n ? in->n : 1, sizeof(*seats));
    bool detail = out_format_has_detail(in->format);
    char *whys = detail ? malloc((size_t)(T ? T : 1) * BATCH_BUDGET_WHY_BYTES)
                        : NULL;
    double pairs = 0, t_score = 0, t_reason = 0, t_write = 0, est = 0;
    FILE *sink = NULL;

    if (!tables || !seats || (detail && !whys) || T == 0 || in->rounds == 0)
        goto out;
    /* Tables in file order, sizes differing by at most one. */
    uint32_t base = in->n / T, extra = in->n % T, at = 0;
    for (uint32_t t = 0; t < T; t++) {
        uint32_t size = base + (t < extra);
        tables[t] = (struct out_table){.table = t + 1, .seats = seats + at,
                                       .n_seats = size};
        for (uint32_t i = at; i < at + size; i++) {
            const struct attendee *a = roster_get(in->roster, in->people[i]);
            seats[i] = (struct out_seat){.id = a->id, .name = a->name};
        }
        pairs += (double)size * (size - 1) / 2;
        at += size;
    }
    if (detail) {
        double t0 = budget_now_s();
        for (uint32_t t = 0, at2 = 0; t < T; at2 += tables[t++].n_seats)
            tables[t].score =
                aff_table_score(in->aff, in->people + at2, tables[t].n_seats);
        double t1 = budget_now_s();
        for (uint32_t t = 0, at2 = 0; t < T; at2 += tables[t++].n_seats) {
            char *why = whys + (size_t)t * BATCH_BUDGET_WHY_BYTES;
            aff_table_reason(in->aff, in->people + at2, tables[t].n_seats,
                             why, BATCH_BUDGET_WHY_BYTES);
            tables[t].why = why;
        }
        t_score = t1 - t0;
        t_reason = budget_now_s() - t1;
    }
    sink = fopen("/dev/null", "w");
    if (sink == NULL)
        goto out;
    struct out_round round = {.round = 1, .tables = tables, .n_tables = T};
    struct out_schedule one = {.event = "", .rounds = &round, .n_rounds = 1};
    double t2 = budget_now_s();
    if (out_write(sink, in->format, &one) < 0)
        goto out;
    t_write = budget_now_s() - t2;

    double threads = in->threads ? in->threads : 1;
    /* Seated by the search, tables share more: longer reasons. */
    est = in->rounds * ((t_score + t_reason) / threads + t_write) *
          BATCH_BUDGET_SEATED_FACTOR;
    if (detail && pairs > 0) {
        /* The quality figures: every seated pair, and for their bound
         * every pair of the event when it is small enough to be exact. */
        double all = in->n <= SCHED_METRICS_EXACT_MAX
                         ? (double)in->n * (in->n - 1) / 2 : 0;
        est += (in->rounds * pairs + all) * (t_score / pairs) *
               BATCH_BUDGET_METRICS_PER_PAIR;
    }
out:
    if (sink)
        fclose(sink);
    free(whys);
    free(tables);
    free(seats);
    return est * 1e3 < UINT32_MAX ? (uint32_t)(est * 1e3) : UINT32_MAX;
}
