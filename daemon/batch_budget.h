/* batch_budget.h -- how much of --time-limit the search may have.
 *
 * A time limit covers the whole batch run: the search, then building the
 * tables (scores, reasons, the quality figures) and writing them.  At a
 * thousand rounds those last steps alone take seconds, so the search gets
 * what they leave.  Their cost is measured, not guessed: one round of the
 * event, seated in file order, is scored, explained and written to
 * /dev/null, and the rest is scaled from it.
 */
#ifndef MINGLE_BATCH_BUDGET_H
#define MINGLE_BATCH_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "output.h"

struct aff_model;
struct roster;

struct batch_budget_in {
    const struct aff_model *aff;
    const struct roster *roster;
    const uint32_t *people; /* roster index of each attendee, file order */
    uint32_t n;
    uint32_t table_size;
    uint32_t rounds;
    uint32_t threads;       /* that build the rounds' details */
    enum out_format format;
};

/* Estimates, in milliseconds, what building and writing the schedule of
 * `in` will take.  Costs about one round's worth of that work.  Returns
 * the estimate, or 0 when it could not be measured (out of memory, no
 * /dev/null): the search then gets the whole limit, as before. */
uint32_t batch_finish_estimate_ms(const struct batch_budget_in *in);

#endif
