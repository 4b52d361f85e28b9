/* cfg_yaml.c -- the libyaml event reader both loaders share (cfg_yaml.h),
 * so depth, anchor, alias and multi-document rules and the wording of
 * errors are one thing.
 *
 * libyaml reports positions as 0-based marks counting characters; users
 * and editors count lines and columns from 1, so every mark is shifted
 * once, here.
 */
#include "cfg_error.h"
#include "cfg_yaml.h"
#include "event_file.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CFG_QUOTE_MAX_BYTES 40   /* of a value echoed in a message */
#define CFG_SUGGEST_MAX_EDITS 2  /* "did you mean" only for near misses */
#define CFG_KEY_CMP_MAX_BYTES 64 /* longer keys are no typo of ours */
#define CFG_READ_CHUNK_BYTES (64u * 1024)

static void cfg_set_file(struct cfg_error *err, const char *file)
{
    memset(err, 0, sizeof(*err));
    snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
}

int cfg_yaml_fail(struct cfg_yaml *y, yaml_mark_t mark, const char *fmt, ...)
{
    va_list ap;

    y->err->line = (unsigned)mark.line + 1;
    y->err->column = (unsigned)mark.column + 1;
    va_start(ap, fmt);
    vsnprintf(y->err->msg, sizeof(y->err->msg), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

int cfg_yaml_nomem(struct cfg_yaml *y)
{
    y->err->line = 0;
    snprintf(y->err->msg, sizeof(y->err->msg), "out of memory");
    return -ENOMEM;
}

void cfg_yaml_quote(char *dst, size_t cap, const char *s, size_t len)
{
    size_t n = len, i;
    bool cut = false;

    if (n > CFG_QUOTE_MAX_BYTES) {
        n = CFG_QUOTE_MAX_BYTES;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        cut = true;
    }
    if (n + 4 > cap)
        n = cap > 4 ? cap - 4 : 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        dst[i] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
    }
    if (cut) {
        memcpy(dst + i, "...", 3);
        i += 3;
    }
    dst[i] = '\0';
}

/* libyaml's reader errors carry a byte offset instead of a mark: the
 * input is (checked to be) UTF-8 up to that offset, so count lines and
 * characters there ourselves, as the scanner would have. */
static yaml_mark_t cfg_offset_mark(const struct cfg_yaml *y, size_t off)
{
    yaml_mark_t m = {0, 0, 0};
    size_t i;

    if (off > y->len)
        off = y->len;
    for (i = 0; i < off; i++) {
        unsigned char c = (unsigned char)y->buf[i];

        if (c == '\n') {
            m.line++;
            m.column = 0;
        } else if ((c & 0xC0) != 0x80) {
            m.column++;
        }
    }
    m.index = off;
    return m;
}

static int cfg_parser_error(struct cfg_yaml *y)
{
    const yaml_parser_t *p = &y->parser;
    const char *problem = p->problem ? p->problem : "invalid YAML";

    switch (p->error) {
    case YAML_MEMORY_ERROR:
        return cfg_yaml_nomem(y);
    case YAML_READER_ERROR:
        if (p->problem_value >= 0)
            return cfg_yaml_fail(y, cfg_offset_mark(y, p->problem_offset),
                                 "%s (0x%02X): the file must be UTF-8 text",
                                 problem, (unsigned)p->problem_value);
        return cfg_yaml_fail(y, cfg_offset_mark(y, p->problem_offset),
                             "%s", problem);
    case YAML_SCANNER_ERROR:
    case YAML_PARSER_ERROR:
        if (p->context)
            return cfg_yaml_fail(y, p->problem_mark,
                                 "%s (%s at line %lu, column %lu)", problem,
                                 p->context,
                                 (unsigned long)p->context_mark.line + 1,
                                 (unsigned long)p->context_mark.column + 1);
        return cfg_yaml_fail(y, p->problem_mark, "%s", problem);
    default:
        return cfg_yaml_fail(y, p->problem_mark, "%s", problem);
    }
}

int cfg_yaml_init(struct cfg_yaml *y, const char *buf, size_t len,
                  const char *file, struct cfg_error *err)
{
    memset(y, 0, sizeof(*y));
    y->buf = buf;
    y->len = len;
    y->err = err;
    cfg_set_file(err, file);
    if (!yaml_parser_initialize(&y->parser))
        return cfg_yaml_nomem(y);
    yaml_parser_set_input_string(&y->parser, (const unsigned char *)buf, len);
    /* libyaml would decode UTF-16 after its byte order mark, but the
     * contract says UTF-8 (whose own BOM libyaml skips). */
    if (len >= 2 && ((buf[0] == '\xFF' && buf[1] == '\xFE') ||
                     (buf[0] == '\xFE' && buf[1] == '\xFF'))) {
        yaml_mark_t start = {0, 0, 0};

        return cfg_yaml_fail(y, start, "a UTF-16 byte order mark: the file "
                             "must be UTF-8 text");
    }
    return 0;
}

void cfg_yaml_fini(struct cfg_yaml *y)
{
    if (y->has_ev)
        yaml_event_delete(&y->ev);
    y->has_ev = false;
    yaml_parser_delete(&y->parser);
}

int cfg_yaml_next(struct cfg_yaml *y)
{
    const yaml_event_t *ev = &y->ev;
    const yaml_char_t *anchor = NULL, *tag = NULL;

    if (y->has_ev)
        yaml_event_delete(&y->ev);
    y->has_ev = false;
    if (!yaml_parser_parse(&y->parser, &y->ev))
        return cfg_parser_error(y);
    y->has_ev = true;

    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return cfg_yaml_fail(y, ev->start_mark,
                             "aliases are not allowed ('*%s')",
                             (const char *)ev->data.alias.anchor);
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        y->depth++;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        y->depth++;
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        y->depth--;
        break;
    default:
        break;
    }
    if (anchor)
        return cfg_yaml_fail(y, ev->start_mark,
                             "anchors are not allowed ('&%s')",
                             (const char *)anchor);
    if (tag)
        return cfg_yaml_fail(y, ev->start_mark,
                             "explicit tags are not allowed ('%s')",
                             (const char *)tag);
    if (y->depth > CFG_MAX_DEPTH)
        return cfg_yaml_fail(y, ev->start_mark,
                             "nested deeper than %d levels", CFG_MAX_DEPTH);
    return 0;
}

int cfg_yaml_begin(struct cfg_yaml *y)
{
    int rc;

    if ((rc = cfg_yaml_next(y)) < 0)
        return rc;
    if ((rc = cfg_yaml_next(y)) < 0)
        return rc;
    if (y->ev.type == YAML_STREAM_END_EVENT)
        return 0;
    if ((rc = cfg_yaml_next(y)) < 0)
        return rc;
    return 1;
}

int cfg_yaml_end(struct cfg_yaml *y)
{
    int rc;

    if ((rc = cfg_yaml_next(y)) < 0)
        return rc;
    if ((rc = cfg_yaml_next(y)) < 0)
        return rc;
    if (y->ev.type == YAML_DOCUMENT_START_EVENT)
        return cfg_yaml_fail(y, y->ev.start_mark,
                             "only one YAML document is allowed per file");
    return 0;
}

bool cfg_yaml_is_null(const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;

    if (ev->type != YAML_SCALAR_EVENT ||
        ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return strcmp(v, "") == 0 || strcmp(v, "~") == 0 ||
           strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

const char *cfg_yaml_kind(const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_MAPPING_START_EVENT:
        return "a mapping";
    case YAML_SEQUENCE_START_EVENT:
        return "a sequence";
    case YAML_SCALAR_EVENT:
        return cfg_yaml_is_null(ev) ? "null" : "a string";
    default:
        return "nothing";
    }
}

const char *cfg_yaml_text(const struct cfg_yaml *y, size_t *len)
{
    *len = y->ev.data.scalar.length;
    return (const char *)y->ev.data.scalar.value;
}

/* Numbers must be plain scalars: a quoted "4" is text in YAML, and
 * taking it as a number would hide a mistake elsewhere. */
static bool cfg_plain_number(const yaml_event_t *ev)
{
    return ev->type == YAML_SCALAR_EVENT &&
           ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           !cfg_yaml_is_null(ev);
}

int cfg_yaml_uint(struct cfg_yaml *y, const char *what, uint64_t min,
                  uint64_t max, uint64_t *out)
{
    const yaml_event_t *ev = &y->ev;
    char q[CFG_QUOTE_MAX_BYTES + 8];
    uint64_t v = 0;
    size_t len, i;
    const char *s;
    bool overflow = false;

    if (!cfg_plain_number(ev)) {
        if (ev->type == YAML_SCALAR_EVENT && !cfg_yaml_is_null(ev)) {
            s = cfg_yaml_text(y, &len);
            cfg_yaml_quote(q, sizeof(q), s, len);
            return cfg_yaml_fail(y, ev->start_mark,
                                 "%s: expected an integer >= %llu, got the "
                                 "quoted string '%s'", what,
                                 (unsigned long long)min, q);
        }
        return cfg_yaml_fail(y, ev->start_mark,
                             "%s: expected an integer >= %llu, got %s", what,
                             (unsigned long long)min, cfg_yaml_kind(ev));
    }
    s = cfg_yaml_text(y, &len);
    cfg_yaml_quote(q, sizeof(q), s, len);
    for (i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');

        if (d > 9)
            return cfg_yaml_fail(y, ev->start_mark,
                                 "%s: expected an integer >= %llu, got '%s'",
                                 what, (unsigned long long)min, q);
        if (v > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    if (overflow || v > max)
        return cfg_yaml_fail(y, ev->start_mark,
                             "%s: %s is too large (max %llu)", what, q,
                             (unsigned long long)max);
    if (v < min)
        return cfg_yaml_fail(y, ev->start_mark,
                             "%s: expected an integer >= %llu, got '%s'", what,
                             (unsigned long long)min, q);
    *out = v;
    return 0;
}

/* Accepts [+-] digits [. digits] [e [+-] digits], with at least one digit
 * before the exponent: what strtod also takes, minus hex, inf and nan. */
static bool cfg_decimal_syntax(const char *s)
{
    size_t digits = 0;

    if (*s == '+' || *s == '-')
        s++;
    for (; *s >= '0' && *s <= '9'; s++)
        digits++;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            digits++;
    if (digits == 0)
        return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

int cfg_yaml_double(struct cfg_yaml *y, const char *what, double *out)
{
    const yaml_event_t *ev = &y->ev;
    char q[CFG_QUOTE_MAX_BYTES + 8];
    const char *s;
    size_t len;
    double v;

    if (!cfg_plain_number(ev))
        return cfg_yaml_fail(y, ev->start_mark,
                             "%s: expected a number, got %s", what,
                             cfg_yaml_kind(ev));
    s = cfg_yaml_text(y, &len);
    cfg_yaml_quote(q, sizeof(q), s, len);
    if (strlen(s) != len || !cfg_decimal_syntax(s))
        return cfg_yaml_fail(y, ev->start_mark,
                             "%s: expected a number, got '%s'", what, q);
    /* The daemon never calls setlocale(), so strtod reads '.' here. */
    v = strtod(s, NULL);
    if (!isfinite(v))
        return cfg_yaml_fail(y, ev->start_mark, "%s: %s is out of range",
                             what, q);
    *out = v;
    return 0;
}

/* Optimal string alignment distance: a swapped pair of letters, the most
 * common typo ("tabel"), counts as one edit. */
static size_t cfg_edit_distance(const char *a, size_t na, const char *b,
                                size_t nb)
{
    unsigned char d[CFG_KEY_CMP_MAX_BYTES + 1][CFG_KEY_CMP_MAX_BYTES + 1];
    size_t i, j;

    for (i = 0; i <= na; i++)
        d[i][0] = (unsigned char)i;
    for (j = 0; j <= nb; j++)
        d[0][j] = (unsigned char)j;
    for (i = 1; i <= na; i++) {
        for (j = 1; j <= nb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = d[i - 1][j - 1] + cost;

            if (d[i - 1][j] + 1u < best)
                best = d[i - 1][j] + 1u;
            if (d[i][j - 1] + 1u < best)
                best = d[i][j - 1] + 1u;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1u < best)
                best = d[i - 2][j - 2] + 1u;
            d[i][j] = (unsigned char)best;
        }
    }
    return d[na][nb];
}

static const char *cfg_suggest(const char *key, size_t len,
                               const char *const *keys, size_t n)
{
    const char *best = NULL;
    size_t best_d = CFG_SUGGEST_MAX_EDITS + 1, i;

    if (len > CFG_KEY_CMP_MAX_BYTES)
        return NULL;
    for (i = 0; i < n; i++) {
        size_t kn = strlen(keys[i]);
        size_t dist;

        if (kn > CFG_KEY_CMP_MAX_BYTES)
            continue;
        dist = cfg_edit_distance(key, len, keys[i], kn);
        /* A two-letter key is two edits from any other: no guess then. */
        if (dist < best_d && dist < kn) {
            best = keys[i];
            best_d = dist;
        }
    }
    return best;
}

int cfg_yaml_key(struct cfg_yaml *y, const char *const *keys, size_t n,
                 unsigned *first_line, size_t *which)
{
    const yaml_event_t *ev = &y->ev;
    char q[CFG_QUOTE_MAX_BYTES + 8];
    char known[CFG_ERROR_MSG_BYTES];
    const char *key, *guess;
    size_t len, i, used = 0;

    if (ev->type != YAML_SCALAR_EVENT)
        return cfg_yaml_fail(y, ev->start_mark,
                             "expected a key (a string), got %s",
                             cfg_yaml_kind(ev));
    key = cfg_yaml_text(y, &len);
    cfg_yaml_quote(q, sizeof(q), key, len);
    for (i = 0; i < n; i++) {
        if (strlen(keys[i]) != len || memcmp(keys[i], key, len) != 0)
            continue;
        if (first_line[i])
            return cfg_yaml_fail(y, ev->start_mark,
                                 "duplicate key '%s' (first at line %u)", q,
                                 first_line[i]);
        first_line[i] = (unsigned)ev->start_mark.line + 1;
        *which = i;
        return 0;
    }
    guess = cfg_suggest(key, len, keys, n);
    if (guess)
        return cfg_yaml_fail(y, ev->start_mark,
                             "unknown key '%s' (did you mean '%s'?)", q, guess);
    known[0] = '\0';
    for (i = 0; i < n && used < sizeof(known); i++)
        used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s",
                                 i ? ", " : "", keys[i]);
    return cfg_yaml_fail(y, ev->start_mark,
                         "unknown key '%s' (expected one of: %s)", q, known);
}

int cfg_read_file(const char *path, size_t max, bool regular_only,
                  char **buf, size_t *len, struct cfg_error *err)
{
    struct stat st;
    char *data = NULL, *grown;
    size_t cap, used = 0;
    int fd = -1, rc = 0;

    cfg_set_file(err, path);
    if (max > SIZE_MAX / 2)
        max = SIZE_MAX / 2;
    /* Opening a FIFO blocks until a writer comes, unless non-blocking. */
    fd = open(path, O_RDONLY | O_CLOEXEC | (regular_only ? O_NONBLOCK : 0));
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = -EISDIR;
        goto out;
    }
    if (regular_only && !S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        goto out;
    }
    if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
        rc = -EFBIG;
        goto out;
    }
    /* Pipes and files that grow report no reliable size: read in chunks,
     * never holding more than max + 1 bytes. */
    cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : CFG_READ_CHUNK_BYTES;
    if (cap > max + 1)
        cap = max + 1;
    for (;;) {
        ssize_t got;

        if (data == NULL || used == cap) {
            size_t want = data == NULL ? cap : cap * 2;

            if (want > max + 1)
                want = max + 1;
            grown = realloc(data, want + 1);
            if (grown == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            data = grown;
            cap = want;
        }
        got = read(fd, data + used, cap - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = -errno;
            goto out;
        }
        if (got == 0)
            break;
        used += (size_t)got;
        if (used > max) {
            rc = -EFBIG;
            goto out;
        }
    }
    data[used] = '\0';
    *buf = data;
    *len = used;
    data = NULL;
out:
    if (rc == -EFBIG)
        snprintf(err->msg, sizeof(err->msg), "file is larger than %zu bytes",
                 max);
    else if (rc == -EINVAL)
        snprintf(err->msg, sizeof(err->msg), "not a regular file");
    else if (rc < 0)
        snprintf(err->msg, sizeof(err->msg), "cannot read: %s", strerror(-rc));
    free(data);
    if (fd >= 0)
        close(fd);
    return rc;
}
