/* event_file.h -- loads an event file (YAML) into validated structs.
 *
 * The format is the fixed contract of design.md.  The file is read through
 * libyaml's event API with limits enforced before anything is buffered:
 * file size, nesting depth, scalar length, attendee count; anchors and
 * aliases are refused outright.  Every error names file:line:column.
 */
#ifndef MINGLE_EVENT_FILE_H
#define MINGLE_EVENT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "affinity.h"
#include "cfg_error.h"
#include "roster.h"

#define CFG_DEFAULT_MAX_FILE_BYTES (64u * 1024 * 1024)
#define CFG_DEFAULT_MAX_ATTENDEES 1000000u
#define CFG_MAX_DEPTH 16

struct cfg_limits {
    size_t max_file_bytes;  /* 0: CFG_DEFAULT_MAX_FILE_BYTES */
    uint32_t max_attendees; /* 0: CFG_DEFAULT_MAX_ATTENDEES */
};

struct cfg_pair {
    uint32_t a, b; /* indices into cfg_event.attendees, a != b */
    unsigned line, column; /* where the pair starts in the file, 1-based */
};

struct cfg_event {
    char *name;            /* "" when absent */
    uint32_t rounds;       /* >= 1 */
    uint32_t table_size;   /* >= 2 */
    bool has_seed;
    uint64_t seed;
    struct aff_weights weights; /* defaults where absent */
    struct att_profile *attendees; /* strings owned by the cfg_event */
    size_t n_attendees;
    struct cfg_pair *met_before;
    size_t n_met_before;
    struct cfg_pair *avoid;
    size_t n_avoid;
};

/* Loads and validates the event file at `path`.  On success stores a new
 * event in *out (free with cfg_event_free) and returns 0.  On failure
 * fills *err (file:line:column and message) and returns -EINVAL for bad
 * content, -EFBIG over the size limit, -ENOMEM, or -errno when the file
 * cannot be read.  `lim` may be NULL for the defaults. */
int cfg_event_load(const char *path, const struct cfg_limits *lim,
                   struct cfg_event **out, struct cfg_error *err);

/* Same, from a buffer; `name` is used as the file name in errors. */
int cfg_event_parse(const char *buf, size_t len, const char *name,
                    const struct cfg_limits *lim, struct cfg_event **out,
                    struct cfg_error *err);

/* Frees an event and every string in it; NULL is a no-op. */
void cfg_event_free(struct cfg_event *ev);

#endif
