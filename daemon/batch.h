/* batch.h -- batch mode: event file in, printed schedule out.
 *
 * `mingled --batch FILE` is a pipeline over the other modules: the event
 * file is loaded and validated, the attendees go into a roster, the
 * scheduler plans every round, and the output module prints the result.
 * Nothing reaches the output stream unless the whole schedule is ready, so
 * a failed run never leaves half a schedule on stdout.
 */
#ifndef MINGLE_BATCH_H
#define MINGLE_BATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "output.h"

/* Exit statuses of batch mode (the batch contract of design.md). */
#define BATCH_EXIT_OK 0
#define BATCH_EXIT_INTERNAL 1  /* out of memory, unwritable output, ... */
#define BATCH_EXIT_BAD_INPUT 2 /* the event file or an option is wrong */

struct batch_opts {
    const char *path;        /* the event file */
    enum out_format format;
    bool has_seed;           /* overrides the event's seed */
    uint64_t seed;
    uint32_t time_limit_ms;  /* 0: the scheduler's default */
    double effort;           /* work budget; 0: none (time and convergence) */
    uint32_t threads;        /* 0: sched_default_threads() */
    uint32_t max_attendees;  /* 0: the loader's default */
    bool progress;           /* show a progress line on `err` */
    const char *history_dir; /* a daemon's data dir, read-only: pairs who
                                met at its events count as met_before */
};

/* Runs batch mode: writes the schedule to `out`, diagnostics (one line
 * each, "FILE:LINE:COL: message" for bad input) to `err`.  Returns the
 * process exit status, one of BATCH_EXIT_*.  On failure nothing was
 * written to `out`, unless writing the schedule itself failed. */
int batch_run(const struct batch_opts *o, FILE *out, FILE *err);

#endif
