/* output.h -- prints a schedule as text, JSON or CSV.
 *
 * The formats are the batch contract of design.md; minglectl prints the
 * same formats from what the daemon sends, so the input here is a plain
 * description of a schedule, not engine structs.
 */
#ifndef MINGLE_OUTPUT_H
#define MINGLE_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

enum out_format { OUT_TEXT, OUT_JSON, OUT_CSV };

struct out_seat {
    const char *id;
    const char *name; /* NULL: the id is printed */
};

struct out_table {
    uint32_t table; /* 1-based */
    const struct out_seat *seats;
    uint32_t n_seats;
    double score;
    const char *why; /* may be NULL or "" */
};

struct out_round {
    uint32_t round; /* 1-based */
    const struct out_table *tables;
    uint32_t n_tables;
};

struct out_summary {
    uint32_t attendees;
    uint64_t repeat_pairs;
    uint64_t repeat_lower_bound;
    double affinity_total;
    double min_attendee_affinity;
};

struct out_schedule {
    const char *event;
    const struct out_round *rounds;
    uint32_t n_rounds;
    struct out_summary summary;
};

/* Parses "text", "json" or "csv".  Returns 0 or -EINVAL. */
int out_parse_format(const char *s, enum out_format *fmt);

/* Writes the schedule to `f` and flushes it.  Returns 0, -EINVAL for an
 * unknown format, or -EIO when writing fails. */
int out_write(FILE *f, enum out_format fmt, const struct out_schedule *s);

#endif
