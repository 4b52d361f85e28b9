/* output.c -- prints a schedule as text, JSON or CSV.
 *
 * Every writer goes straight to the FILE and checks for errors once at the
 * end: stdio keeps the error flag sticky, so a failed write in the middle
 * is still reported, and there is no second copy of a big schedule in
 * memory.
 */
#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <unistr.h>

#define OUT_TEXT_WHY_PREFIX "    why: "
#define OUT_NUM_BUF_BYTES 32   /* "%.17g" of any double fits */

static const char *out_seat_name(const struct out_seat *s)
{
    return s->name && s->name[0] ? s->name : s->id;
}

/* Terminal columns of a UTF-8 string, for the title's underline: one per
 * code point is right for the Latin, Greek and Cyrillic names a meetup
 * has. */
static size_t out_text_cols(const char *s, size_t len)
{
    size_t cols = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            cols++;
    return cols;
}

/* Control characters in a name or reason would break the layout of the
 * lines around them; they print as spaces. */
static void out_text_put(FILE *f, const char *s, size_t len)
{
    /* Runs of printable bytes in one write: a thousand rounds are
     * millions of names. */
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != 0x7f)
            continue;
        fwrite(s + run, 1, i - run, f);
        fputc(' ', f);
        run = i + 1;
    }
    fwrite(s + run, 1, len - run, f);
}

/* Names joined by ", " on the table's line: design.md's text contract is
 * one line of names and one line of reason per table, so a table never
 * spans more lines however long its names are. */
static void out_text_names(FILE *f, const struct out_table *t)
{
    for (uint32_t i = 0; i < t->n_seats; i++) {
        const char *name = out_seat_name(&t->seats[i]);

        if (i > 0)
            fputs(", ", f);
        out_text_put(f, name, strlen(name));
    }
    fputc('\n', f);
}

/* A schedule of names only scores 0 everywhere; "(score 0.0)" on every
 * table would be noise. */
static bool out_text_has_scores(const struct out_schedule *s)
{
    for (uint32_t r = 0; r < s->n_rounds; r++)
        for (uint32_t t = 0; t < s->rounds[r].n_tables; t++)
            if (s->rounds[r].tables[t].score != 0)
                return true;
    return false;
}

/* " (2.1x a random seating)" when the lift is defined. */
static void out_text_lift(FILE *f, double lift)
{
    if (lift > 0)
        fprintf(f, ", %.2fx a random seating", lift);
    fputc('\n', f);
}

static void out_text_quality(FILE *f, const struct out_summary *sum)
{
    const struct out_quality *q = &sum->quality;
    const struct out_search *se = &sum->search;

    fprintf(f, "  objective:              %.1f", q->objective);
    if (q->upper_bound > 0)
        fprintf(f, " (%.0f %% of the upper bound %.1f)", 100 * q->bound_share,
                q->upper_bound);
    fputc('\n', f);
    fprintf(f, "  business contacts:      %.1f per attendee (fewest %" PRIu32
            ")", q->business_mean, q->business_min);
    out_text_lift(f, q->business_lift);
    fprintf(f, "  conversation partners:  %.1f per attendee (fewest %" PRIu32
            ")", q->conversation_mean, q->conversation_min);
    out_text_lift(f, q->conversation_lift);
    fprintf(f, "  lonely seats:           %" PRIu64 " of %" PRIu64 " (%.1f %%)\n",
            q->lonely_seats, q->seats,
            q->seats ? 100.0 * (double)q->lonely_seats / (double)q->seats : 0);
    fprintf(f, "  without a contact:      %" PRIu32 " who could have had one\n",
            q->empty_handed);
    fprintf(f, "  search:                 %s after %" PRIu32 " epoch%s, %"
            PRIu32 " thread%s\n",
            se->converged ? "converged"
            : se->time_limit_hit ? "stopped by the time limit"
                                 : "stopped at the work budget",
            se->epochs, se->epochs == 1 ? "" : "s", se->threads,
            se->threads == 1 ? "" : "s");
}

static void out_write_text(FILE *f, const struct out_schedule *s)
{
    bool scores = out_text_has_scores(s);

    if (s->event && s->event[0]) {
        out_text_put(f, s->event, strlen(s->event));
        fputc('\n', f);
        for (size_t i = out_text_cols(s->event, strlen(s->event)); i > 0; i--)
            fputc('=', f);
        fputs("\n\n", f);
    }
    for (uint32_t r = 0; r < s->n_rounds; r++) {
        const struct out_round *rd = &s->rounds[r];
        fprintf(f, "Round %" PRIu32 "\n", rd->round);
        for (uint32_t t = 0; t < rd->n_tables; t++) {
            const struct out_table *tb = &rd->tables[t];
            if (scores)
                fprintf(f, "  Table %" PRIu32 " (score %.1f): ", tb->table,
                        tb->score);
            else
                fprintf(f, "  Table %" PRIu32 ": ", tb->table);
            out_text_names(f, tb);
            if (tb->why && tb->why[0]) {
                fputs(OUT_TEXT_WHY_PREFIX, f);
                out_text_put(f, tb->why, strlen(tb->why));
                fputc('\n', f);
            }
        }
        fputc('\n', f);
    }
    const struct out_summary *sum = &s->summary;
    fprintf(f, "Summary\n");
    fprintf(f, "  attendees:              %" PRIu32 "\n", sum->attendees);
    fprintf(f, "  rounds:                 %" PRIu32 "\n", s->n_rounds);
    fprintf(f, "  repeated encounters:    %" PRIu64 " (lower bound %" PRIu64
            ")\n", sum->repeat_pairs, sum->repeat_lower_bound);
    fprintf(f, "  affinity total:         %.1f\n", sum->affinity_total);
    fprintf(f, "  lowest per attendee:    %.1f\n", sum->min_attendee_affinity);
    if (sum->has_quality)
        out_text_quality(f, sum);
}

/* JSON strings: the escapes RFC 8259 requires, UTF-8 passed through as
 * is.  Bytes that are not valid UTF-8 become U+FFFD, so the document stays
 * valid whatever the caller hands in. */
/* Whether a byte below 0x80 goes into a JSON string as it is. */
static bool out_json_plain(uint8_t c)
{
    return c >= 0x20 && c != '"' && c != '\\';
}

static void out_json_string(FILE *f, const char *s)
{
    const uint8_t *p = (const uint8_t *)(s ? s : "");
    size_t left = strlen((const char *)p);

    fputc('"', f);
    while (left > 0) {
        uint8_t c = *p;
        size_t run = 0;
        /* Plain ASCII and whole UTF-8 sequences go out in one write. */
        while (run < left) {
            if (p[run] < 0x80) {
                if (!out_json_plain(p[run]))
                    break;
                run++;
                continue;
            }
            ucs4_t uc;
            int n = u8_mbtoucr(&uc, p + run, left - run);
            if (n < 0)
                break;
            run += (size_t)n;
        }
        if (run > 0) {
            fwrite(p, 1, run, f);
            p += run;
            left -= run;
            continue;
        }
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            /* A control byte, or one that starts no valid sequence. */
            if (c < 0x20)
                fprintf(f, "\\u%04x", (unsigned)c);
            else
                fputs("\xEF\xBF\xBD", f);
        }
        p++;
        left--;
    }
    fputc('"', f);
}

/* The shortest "%.*g" that reads back as the same double: 3.5 stays
 * "3.5" instead of "3.5000000000000000".  JSON has no NaN or infinity;
 * they become null rather than an invalid document. */
static void out_json_number(FILE *f, double v)
{
    char buf[OUT_NUM_BUF_BYTES];

    if (!isfinite(v)) {
        fputs("null", f);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, f);
}

static void out_json_field(FILE *f, const char *name, double v)
{
    fprintf(f, ", \"%s\": ", name);
    out_json_number(f, v);
}

static void out_json_quality(FILE *f, const struct out_summary *sum)
{
    const struct out_quality *q = &sum->quality;
    const struct out_search *se = &sum->search;

    fputs(",\n             ", f);
    fputs(" \"objective\": ", f);
    out_json_number(f, q->objective);
    fputs(", \"upper_bound\": ", f);
    if (q->upper_bound > 0)
        out_json_number(f, q->upper_bound);
    else
        fputs("null", f);
    fputs(", \"bound_share\": ", f);
    if (q->upper_bound > 0)
        out_json_number(f, q->bound_share);
    else
        fputs("null", f);
    fprintf(f, ",\n              \"seats\": %" PRIu64 ", \"lonely_seats\": %"
            PRIu64 ", \"empty_handed\": %" PRIu32, q->seats, q->lonely_seats,
            q->empty_handed);
    fputs(",\n             ", f);
    fputs(" \"business_contacts_mean\": ", f);
    out_json_number(f, q->business_mean);
    fprintf(f, ", \"business_contacts_min\": %" PRIu32, q->business_min);
    out_json_field(f, "business_lift", q->business_lift);
    fputs(",\n             ", f);
    fputs(" \"conversation_partners_mean\": ", f);
    out_json_number(f, q->conversation_mean);
    fprintf(f, ", \"conversation_partners_min\": %" PRIu32,
            q->conversation_min);
    out_json_field(f, "conversation_lift", q->conversation_lift);
    fprintf(f, ",\n              \"search\": {\"threads\": %" PRIu32
            ", \"epochs\": %" PRIu32 ", \"converged\": %s"
            ", \"time_limit_hit\": %s}",
            se->threads, se->epochs, se->converged ? "true" : "false",
            se->time_limit_hit ? "true" : "false");
}

static void out_write_json(FILE *f, const struct out_schedule *s)
{
    fputs("{\n  \"event\": ", f);
    out_json_string(f, s->event);
    fputs(",\n  \"rounds\": [", f);
    for (uint32_t r = 0; r < s->n_rounds; r++) {
        const struct out_round *rd = &s->rounds[r];
        fprintf(f, "%s\n    {\"round\": %" PRIu32 ",\n     \"tables\": [",
                r ? "," : "", rd->round);
        for (uint32_t t = 0; t < rd->n_tables; t++) {
            const struct out_table *tb = &rd->tables[t];
            fprintf(f, "%s\n       {\"table\": %" PRIu32 ", \"attendees\": [",
                    t ? "," : "", tb->table);
            for (uint32_t i = 0; i < tb->n_seats; i++) {
                if (i)
                    fputs(", ", f);
                out_json_string(f, tb->seats[i].id);
            }
            fputs("], \"score\": ", f);
            out_json_number(f, tb->score);
            fputs(", \"why\": ", f);
            out_json_string(f, tb->why);
            fputc('}', f);
        }
        fputs(rd->n_tables ? "\n     ]}" : "]}", f);
    }
    fputs(s->n_rounds ? "\n  ],\n" : "],\n", f);

    const struct out_summary *sum = &s->summary;
    fprintf(f, "  \"summary\": {\"attendees\": %" PRIu32
            ", \"repeat_pairs\": %" PRIu64
            ", \"repeat_lower_bound\": %" PRIu64 ",\n"
            "              \"affinity_total\": ",
            sum->attendees, sum->repeat_pairs, sum->repeat_lower_bound);
    out_json_number(f, sum->affinity_total);
    fputs(", \"min_attendee_affinity\": ", f);
    out_json_number(f, sum->min_attendee_affinity);
    if (sum->has_quality)
        out_json_quality(f, sum);
    fputs("}\n}\n", f);
}

/* RFC 4180: a field with a comma, quote or line break is quoted, quotes
 * inside doubled.  Lines end in "\n", which every CSV reader accepts and
 * Unix tools prefer to "\r\n" (OUT_CSV_EXCEL writes those for Excel).
 *
 * Names are the attendees' own words: a cell that starts like a formula
 * would run as one in a spreadsheet, so it gets a leading quote inside
 * the quoted field (OWASP's advice against CSV injection). */
static void out_csv_field(FILE *f, const char *s)
{
    bool formula;

    if (!s)
        s = "";
    formula = s[0] && strchr("=+-@\t\r", s[0]);
    if (!formula && !s[strcspn(s, ",\"\r\n")]) {
        fputs(s, f);
        return;
    }
    fputs(formula ? "\"'" : "\"", f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void out_write_csv(FILE *f, const struct out_schedule *s, bool excel)
{
    const char *eol = excel ? "\r\n" : "\n";

    /* Without the BOM Excel reads UTF-8 as the local code page. */
    if (excel)
        fputs("\xEF\xBB\xBF", f);
    fprintf(f, "round,table,attendee_id,name%s", eol);
    for (uint32_t r = 0; r < s->n_rounds; r++) {
        const struct out_round *rd = &s->rounds[r];
        for (uint32_t t = 0; t < rd->n_tables; t++) {
            const struct out_table *tb = &rd->tables[t];
            for (uint32_t i = 0; i < tb->n_seats; i++) {
                fprintf(f, "%" PRIu32 ",%" PRIu32 ",", rd->round, tb->table);
                out_csv_field(f, tb->seats[i].id);
                fputc(',', f);
                out_csv_field(f, out_seat_name(&tb->seats[i]));
                fputs(eol, f);
            }
        }
    }
}

int out_parse_format(const char *s, enum out_format *fmt)
{
    if (!s)
        return -EINVAL;
    if (strcmp(s, "text") == 0)
        *fmt = OUT_TEXT;
    else if (strcmp(s, "json") == 0)
        *fmt = OUT_JSON;
    else if (strcmp(s, "csv") == 0)
        *fmt = OUT_CSV;
    else
        return -EINVAL;
    return 0;
}

bool out_format_has_detail(enum out_format fmt)
{
    return fmt != OUT_CSV && fmt != OUT_CSV_EXCEL;
}

int out_write(FILE *f, enum out_format fmt, const struct out_schedule *s)
{
    switch (fmt) {
    case OUT_TEXT:
        out_write_text(f, s);
        break;
    case OUT_JSON:
        out_write_json(f, s);
        break;
    case OUT_CSV:
    case OUT_CSV_EXCEL:
        out_write_csv(f, s, fmt == OUT_CSV_EXCEL);
        break;
    default:
        return -EINVAL;
    }
    if (fflush(f) != 0 || ferror(f))
        return -EIO;
    return 0;
}
