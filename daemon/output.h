/* output.h -- prints a schedule as text, JSON or CSV.
 *
 * The formats are the batch contract of design.md; minglectl prints the
 * same formats from what the daemon sends, so the input here is a plain
 * description of a schedule, not engine structs.
 */
#ifndef MINGLE_OUTPUT_H
#define MINGLE_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum out_format {
    OUT_TEXT,
    OUT_JSON,
    OUT_CSV,
    OUT_CSV_EXCEL, /* CSV with a UTF-8 BOM and CRLF line ends */
};

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

/* How good the tables are, in attendee terms (sched_metrics.h says what
 * each figure means). */
struct out_quality {
    double objective;
    double upper_bound;        /* 0: unknown */
    double bound_share;
    uint64_t seats;
    uint64_t lonely_seats;
    double business_mean;
    uint32_t business_min;
    double conversation_mean;
    uint32_t conversation_min;
    uint32_t empty_handed;
    double business_lift;      /* 0: undefined */
    double conversation_lift;
};

/* How the search ended, for the organizer: "converged after 9 epochs".
 * No timings: the same seed and effort must print the same bytes. */
struct out_search {
    uint32_t threads;
    uint32_t epochs;
    bool converged;
    bool time_limit_hit;
};

struct out_summary {
    uint32_t attendees;
    uint64_t repeat_pairs;
    uint64_t repeat_lower_bound;
    double affinity_total;
    double min_attendee_affinity;
    bool has_quality;               /* quality and search are set */
    struct out_quality quality;
    struct out_search search;
};

struct out_schedule {
    const char *event;
    const struct out_round *rounds;
    uint32_t n_rounds;
    struct out_summary summary;
};

/* Parses "text", "json" or "csv" (OUT_CSV_EXCEL has no name: batch
 * mode's --excel picks it).  Returns 0 or -EINVAL. */
int out_parse_format(const char *s, enum out_format *fmt);

/* Whether `fmt` prints each table's score and reason and the schedule's
 * quality: a format that does not (CSV) spares the caller computing them. */
bool out_format_has_detail(enum out_format fmt);

/* Writes the schedule to `f` and flushes it.  Returns 0, -EINVAL for an
 * unknown format, or -EIO when writing fails. */
int out_write(FILE *f, enum out_format fmt, const struct out_schedule *s);

#endif
