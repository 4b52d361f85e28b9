/* cfg_yaml.h -- internal to config/: a pull reader over libyaml's event
 * stream, shared by the event file and the daemon config loaders.
 *
 * The reader enforces what every loader needs before any value is kept:
 * nesting depth (CFG_MAX_DEPTH of event_file.h), no anchors, aliases or
 * explicit tags, one document per file.  Every failure fills the caller's cfg_error with
 * file:line:column (1-based) and a message; the first error wins and the
 * loaders stop at it.  Not a public API: yaml.h types show through.
 */
#ifndef MINGLE_CFG_YAML_H
#define MINGLE_CFG_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "cfg_error.h"

struct cfg_yaml {
    yaml_parser_t parser;
    yaml_event_t ev; /* current event, valid after cfg_yaml_next() == 0 */
    bool has_ev;
    unsigned depth;
    const char *buf; /* the whole input, to locate libyaml reader errors */
    size_t len;
    struct cfg_error *err;
};

/* Starts reading `len` bytes at `buf` (borrowed; must outlive the reader).
 * `file` names the input in errors.  Returns 0, -EINVAL for UTF-16 input
 * (a BOM of it) or -ENOMEM (err filled); cfg_yaml_fini() either way. */
int cfg_yaml_init(struct cfg_yaml *y, const char *buf, size_t len,
                  const char *file, struct cfg_error *err);

/* Releases the parser and the current event. */
void cfg_yaml_fini(struct cfg_yaml *y);

/* Advances to the next event in y->ev.  Returns 0, or -EINVAL with the
 * error filled for bad YAML, a refused construct or too deep nesting, or
 * -ENOMEM. */
int cfg_yaml_next(struct cfg_yaml *y);

/* Reads the stream and document start.  Returns 1 with y->ev at the root
 * node, 0 when the stream holds no document (y->ev at STREAM_END), or a
 * negative errno as cfg_yaml_next(). */
int cfg_yaml_begin(struct cfg_yaml *y);

/* Call after the root node's last event: reads the document end and
 * refuses a second document.  Returns 0 or a negative errno. */
int cfg_yaml_end(struct cfg_yaml *y);

/* Fills the error at `mark` with a printf-style message and returns
 * -EINVAL, so callers can write `return cfg_yaml_fail(...)`. */
int cfg_yaml_fail(struct cfg_yaml *y, yaml_mark_t mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills the error for an allocation failure and returns -ENOMEM. */
int cfg_yaml_nomem(struct cfg_yaml *y);

/* True for a null node: a plain "", "~" or "null"/"Null"/"NULL". */
bool cfg_yaml_is_null(const yaml_event_t *ev);

/* "a mapping", "a sequence", "null" or "a string", for messages. */
const char *cfg_yaml_kind(const yaml_event_t *ev);

/* The current event's scalar text and length (ev must be a scalar). */
const char *cfg_yaml_text(const struct cfg_yaml *y, size_t *len);

/* Parses the current event as a plain decimal integer in [min, max] into
 * *out; otherwise fails with "<what>: expected an integer >= min, got 'x'"
 * or "<what>: x is too large (max N)".  Returns 0 or -EINVAL. */
int cfg_yaml_uint(struct cfg_yaml *y, const char *what, uint64_t min,
                  uint64_t max, uint64_t *out);

/* Parses the current event as a finite decimal number into *out
 * ("2", "-5.0", "1e3"; no hex, inf or nan).  Returns 0 or -EINVAL. */
int cfg_yaml_double(struct cfg_yaml *y, const char *what, double *out);

/* Matches the current event, a mapping key, against `keys[0..n)`.
 * first_line[i] holds the line where key i was seen (0: not yet).
 * Stores the key's index in *which and returns 0; fails for a key that is
 * not a string, an unknown key (naming the closest known key when it is
 * within two edits) or a duplicate key. */
int cfg_yaml_key(struct cfg_yaml *y, const char *const *keys, size_t n,
                 unsigned *first_line, size_t *which);

/* Writes `s` (len bytes) into dst for a message: at most 40 bytes (cut on
 * a UTF-8 boundary, "..." appended), control bytes as '?'.  cap >= 48. */
void cfg_yaml_quote(char *dst, size_t cap, const char *s, size_t len);

/* Reads a whole file of at most `max` bytes into a new NUL-terminated
 * buffer (caller frees) with its length in *len.  With `regular_only`,
 * anything but a regular file (a FIFO, a terminal) is refused with
 * -EINVAL before a read could block: the daemon reads its config and
 * token file inside the event loop on SIGHUP.  Returns 0, -EFBIG when
 * larger, -ENOMEM, or -errno; fills err (file, no position) on failure. */
int cfg_read_file(const char *path, size_t max, bool regular_only,
                  char **buf, size_t *len, struct cfg_error *err);

#endif
