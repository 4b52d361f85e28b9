/* cmd_round.c -- rounds and what they produced: round next, round
 * preview, schedule, event export, watch, explain, stats, history export.
 *
 * Schedules print through output.h, so `minglectl schedule --format json`
 * is byte for byte the format of `mingled --batch`.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_quote.h"
#include "ctl.h"
#include "output.h"

/* The out_* view of received rounds: arrays that point into the
 * response, which must outlive it. */
struct ctl_view {
    struct out_round *rounds;
    struct out_table *tables;
    struct out_seat *seats;
};

static void ctl_view_free(struct ctl_view *v)
{
    free(v->rounds);
    free(v->tables);
    free(v->seats);
}

/* Fills `v` for rounds rs[0..n).  Returns 0, or -ENOMEM with nothing
 * left to free. */
static int ctl_view_build(struct ctl_view *v, Mingle__V1__RoundAssigned **rs,
                          size_t n)
{
    size_t r, t, s, nt = 0, ns = 0, ti = 0, si = 0;

    for (r = 0; r < n; r++) {
        nt += rs[r]->n_tables;
        for (t = 0; t < rs[r]->n_tables; t++)
            ns += rs[r]->tables[t]->n_seats;
    }
    v->rounds = calloc(n ? n : 1, sizeof(*v->rounds));
    v->tables = calloc(nt ? nt : 1, sizeof(*v->tables));
    v->seats = calloc(ns ? ns : 1, sizeof(*v->seats));
    if (v->rounds == NULL || v->tables == NULL || v->seats == NULL) {
        ctl_view_free(v);
        return -ENOMEM;
    }
    for (r = 0; r < n; r++) {
        v->rounds[r].round = rs[r]->round;
        v->rounds[r].tables = &v->tables[ti];
        v->rounds[r].n_tables = (uint32_t)rs[r]->n_tables;
        for (t = 0; t < rs[r]->n_tables; t++, ti++) {
            const Mingle__V1__Table *tb = rs[r]->tables[t];

            v->tables[ti].table = tb->table;
            v->tables[ti].seats = &v->seats[si];
            v->tables[ti].n_seats = (uint32_t)tb->n_seats;
            v->tables[ti].score = tb->score;
            v->tables[ti].why = tb->why;
            for (s = 0; s < tb->n_seats; s++, si++) {
                v->seats[si].id = tb->seats[s]->id;
                v->seats[si].name = tb->seats[s]->name;
            }
        }
    }
    return 0;
}

static int ctl_write(enum out_format fmt, const char *event,
                     Mingle__V1__RoundAssigned **rs, size_t n,
                     const struct out_summary *sum)
{
    struct ctl_view v = {0};
    struct out_schedule s = {.event = event, .summary = *sum};
    int rc = CTL_EXIT_OK;

    if (ctl_view_build(&v, rs, n) != 0)
        return ctl_oom();
    s.rounds = v.rounds;
    s.n_rounds = (uint32_t)n;
    if (out_write(stdout, fmt, &s) != 0) {
        ctl_error("cannot write to stdout: %s", strerror(errno));
        rc = CTL_EXIT_USAGE;
    }
    ctl_view_free(&v);
    return rc;
}

/* Prints text with control bytes as spaces, like output.c does. */
static void ctl_put_text(const char *s)
{
    for (; *s != '\0'; s++)
        putchar((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

/* One round as text, without the whole-schedule summary that batch mode
 * ends with (a single round has no worst-off-attendee figure). */
static void ctl_round_text(const Mingle__V1__RoundAssigned *r)
{
    size_t t, s;

    printf("Round %" PRIu32, r->round);
    if (r->summary != NULL)
        printf(" (%" PRIu32 " attendees, %" PRIu64 " repeated encounters, "
               "lower bound %" PRIu64 ", affinity %.1f)",
               r->summary->attendees, r->summary->repeat_pairs,
               r->summary->repeat_lower_bound, r->summary->affinity_total);
    putchar('\n');
    for (t = 0; t < r->n_tables; t++) {
        const Mingle__V1__Table *tb = r->tables[t];

        printf("  Table %" PRIu32 " (score %.1f): ", tb->table, tb->score);
        for (s = 0; s < tb->n_seats; s++) {
            const Mingle__V1__Seat *st = tb->seats[s];

            if (s > 0)
                fputs(", ", stdout);
            ctl_put_text(st->name[0] != '\0' ? st->name : st->id);
        }
        putchar('\n');
        if (tb->why[0] != '\0') {
            fputs("    why: ", stdout);
            ctl_put_text(tb->why);
            putchar('\n');
        }
    }
    putchar('\n');
}

/* A round in the chosen format; json and csv are the batch formats of a
 * one-round schedule (min_attendee_affinity is unknown: null). */
static int ctl_print_round(enum out_format fmt, Mingle__V1__RoundAssigned *r)
{
    struct out_summary sum = {.min_attendee_affinity = NAN};

    if (fmt == OUT_TEXT) {
        ctl_round_text(r);
        return ctl_flush("to stdout");
    }
    if (r->summary != NULL) {
        sum.attendees = r->summary->attendees;
        sum.repeat_pairs = r->summary->repeat_pairs;
        sum.repeat_lower_bound = r->summary->repeat_lower_bound;
        sum.affinity_total = r->summary->affinity_total;
    }
    return ctl_write(fmt, "", &r, 1, &sum);
}

/* --event and --format, the options of the commands that print rounds;
 * the format is checked before the event is looked up. */
static int ctl_event_format(struct ctl *ctl, const struct ctl_cmd *cmd,
                            int argc, char **argv, uint64_t *id,
                            enum out_format *fmt)
{
    const char *event = NULL, *format = NULL;
    const struct ctl_opt opts[] = {{"--event", &event, NULL},
                                   {"--format", &format, NULL}};
    int rc = ctl_parse_exact(cmd, argc, argv, opts, 2, 0, NULL);

    if (rc != CTL_EXIT_OK)
        return rc;
    *fmt = OUT_TEXT;
    if (format != NULL && out_parse_format(format, fmt) != 0)
        return ctl_usage_error(cmd, "bad --format '%s': expected text, "
                               "json or csv", format);
    return ctl_resolve_event(ctl, event, id);
}

static int ctl_round_next(struct ctl *ctl, const struct ctl_cmd *cmd,
                          int argc, char **argv)
{
    Mingle__V1__Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__NextRound nr = MINGLE__V1__NEXT_ROUND__INIT;
    Mingle__V1__Response *resp;
    enum out_format fmt;
    uint64_t id;
    int rc;

    rc = ctl_event_format(ctl, cmd, argc, argv, &id, &fmt);
    if (rc != CTL_EXIT_OK)
        return rc;
    nr.event_id = id;
    req.body_case = MINGLE__V1__REQUEST__BODY_NEXT_ROUND;
    req.next_round = &nr;
    rc = ctl_call(ctl, &req, MINGLE__V1__RESPONSE__BODY_ROUND, &resp);
    if (rc != CTL_EXIT_OK)
        return rc;
    return ctl_print_round(fmt, resp->round);
}

static const char *ctl_planner_state(Mingle__V1__PlannerState s)
{
    switch (s) {
    case MINGLE__V1__PLANNER_STATE__PLANNER_OFF:
        return "off";
    case MINGLE__V1__PLANNER_STATE__PLANNER_IDLE:
        return "idle";
    case MINGLE__V1__PLANNER_STATE__PLANNER_WORKING:
        return "working";
    case MINGLE__V1__PLANNER_STATE__PLANNER_CONVERGED:
        return "converged";
    default:
        break;
    }
    return "?";
}

/* "planner working, plan of 4 rounds, 12 epochs, improved 3.2 s ago". */
static void ctl_put_plan(FILE *f, const Mingle__V1__PlanStatus *p)
{
    fprintf(f, "planner %s", ctl_planner_state(p->state));
    if (p->rounds == 0) {
        fputs(", no plan yet", f);
        return;
    }
    fprintf(f, ", plan of %" PRIu32 " round%s, %" PRIu32 " epoch%s",
            p->rounds, p->rounds == 1 ? "" : "s", p->epochs,
            p->epochs == 1 ? "" : "s");
    if (!p->background)
        fputs(", made on the spot", f);
    else if (p->age_ms > 0)
        fprintf(f, ", improved %.1f s ago", (double)p->age_ms / 1000.0);
}

/* The next round as the plan stands, not assigned: like `round next`, with
 * the planner's state first (on stderr for json and csv, whose stdout is
 * the batch format). */
static int ctl_round_preview(struct ctl *ctl, const struct ctl_cmd *cmd,
                             int argc, char **argv)
{
    Mingle__V1__Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__PreviewRound pr = MINGLE__V1__PREVIEW_ROUND__INIT;
    Mingle__V1__Response *resp;
    enum out_format fmt;
    uint64_t id;
    int rc;

    rc = ctl_event_format(ctl, cmd, argc, argv, &id, &fmt);
    if (rc != CTL_EXIT_OK)
        return rc;
    pr.event_id = id;
    req.body_case = MINGLE__V1__REQUEST__BODY_PREVIEW_ROUND;
    req.preview_round = &pr;
    rc = ctl_call(ctl, &req, MINGLE__V1__RESPONSE__BODY_PREVIEW, &resp);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (resp->preview->round == NULL) {
        ctl_error("the server sent a preview without a round");
        return CTL_EXIT_CONN;
    }
    if (resp->preview->plan != NULL) {
        FILE *f = fmt == OUT_TEXT ? stdout : stderr;

        fputs("Preview, not assigned (", f);
        ctl_put_plan(f, resp->preview->plan);
        fputs(")\n", f);
    }
    return ctl_print_round(fmt, resp->preview->round);
}

static int ctl_schedule_as(struct ctl *ctl, uint64_t id, enum out_format fmt)
{
    Mingle__V1__Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__GetSchedule gs = MINGLE__V1__GET_SCHEDULE__INIT;
    Mingle__V1__Response *resp;
    struct out_summary sum = {0};
    const Mingle__V1__ScheduleSummary *ss;
    int rc;

    gs.event_id = id;
    req.body_case = MINGLE__V1__REQUEST__BODY_GET_SCHEDULE;
    req.get_schedule = &gs;
    rc = ctl_call(ctl, &req, MINGLE__V1__RESPONSE__BODY_SCHEDULE, &resp);
    if (rc != CTL_EXIT_OK)
        return rc;
    ss = resp->schedule->summary;
    if (ss != NULL) {
        sum.attendees = ss->attendees;
        sum.repeat_pairs = ss->repeat_pairs;
        sum.repeat_lower_bound = ss->repeat_lower_bound;
        sum.affinity_total = ss->affinity_total;
        sum.min_attendee_affinity = ss->min_attendee_affinity;
    }
    return ctl_write(fmt, resp->schedule->name, resp->schedule->rounds,
                     resp->schedule->n_rounds, &sum);
}

static int ctl_schedule(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
                        char **argv)
{
    enum out_format fmt;
    uint64_t id;
    int rc = ctl_event_format(ctl, cmd, argc, argv, &id, &fmt);

    return rc != CTL_EXIT_OK ? rc : ctl_schedule_as(ctl, id, fmt);
}

static int ctl_event_export(struct ctl *ctl, const struct ctl_cmd *cmd,
                            int argc, char **argv)
{
    uint64_t id;
    int rc = ctl_event_args(ctl, cmd, argc, argv, 0, NULL, &id);

    return rc != CTL_EXIT_OK ? rc : ctl_schedule_as(ctl, id, OUT_JSON);
}

static int ctl_watch(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
                     char **argv)
{
    Mingle__V1__Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__Subscribe sub = MINGLE__V1__SUBSCRIBE__INIT;
    Mingle__V1__Response *resp;
    enum out_format fmt;
    uint64_t id, sub_id;
    int rc;

    rc = ctl_event_format(ctl, cmd, argc, argv, &id, &fmt);
    if (rc != CTL_EXIT_OK)
        return rc;
    sub.event_id = id;
    req.body_case = MINGLE__V1__REQUEST__BODY_SUBSCRIBE;
    req.subscribe = &sub;
    rc = ctl_call(ctl, &req, MINGLE__V1__RESPONSE__BODY_SUBSCRIBED, &resp);
    if (rc != CTL_EXIT_OK)
        return rc;
    sub_id = req.id;
    fprintf(stderr, "minglectl: watching event %" PRIu64 " (%" PRIu32
            " rounds so far); Ctrl-C stops\n",
            id, resp->subscribed->rounds_done);
    /* Pushes may be minutes apart: no timeout while waiting for them. */
    for (;;) {
        rc = ctl_conn_recv(ctl->conn, 0, &resp);
        if (rc != 0)
            return ctl_conn_fail(ctl, rc);
        if (resp->id != sub_id && resp->id != 0)
            continue;
        if (resp->body_case == MINGLE__V1__RESPONSE__BODY_ERROR) {
            const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
                &mingle__v1__error_code__descriptor, (int)resp->error->code);

            ctl_error("server error %s while watching",
                      v != NULL ? v->name : "?");
            return CTL_EXIT_SERVER;
        }
        if (resp->body_case != MINGLE__V1__RESPONSE__BODY_ROUND)
            continue;
        rc = ctl_print_round(fmt, resp->round);
        if (rc != CTL_EXIT_OK)
            return rc;
    }
}

static void ctl_print_join(char **tags, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (i > 0)
            fputs(", ", stdout);
        ctl_put_text(tags[i]);
    }
    puts(n == 0 ? "-" : "");
}

static int ctl_explain(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
                       char **argv)
{
    Mingle__V1__Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__Explain ex = MINGLE__V1__EXPLAIN__INIT;
    Mingle__V1__Response *resp;
    const Mingle__V1__ExplainReply *e;
    uint64_t id;
    int rc;

    rc = ctl_event_args(ctl, cmd, argc, argv, 2, "two attendee ids", &id);
    if (rc != CTL_EXIT_OK)
        return rc;
    ex.event_id = id;
    ex.a = argv[0];
    ex.b = argv[1];
    req.body_case = MINGLE__V1__REQUEST__BODY_EXPLAIN;
    req.explain = &ex;
    rc = ctl_call(ctl, &req, MINGLE__V1__RESPONSE__BODY_EXPLAIN, &resp);
    if (rc != CTL_EXIT_OK)
        return rc;
    e = resp->explain;
    printf("%s and %s: affinity %.2f\n", argv[0], argv[1], e->total);
    printf("  interests:        %.2f\n", e->interests);
    printf("  business:         %.2f\n", e->business);
    printf("  same company:     %.2f\n", e->same_company);
    fputs("  shared interests: ", stdout);
    ctl_print_join(e->shared_interests, e->n_shared_interests);
    printf("  %s offers, %s seeks: ", argv[0], argv[1]);
    ctl_print_join(e->a_offers_b_seeks, e->n_a_offers_b_seeks);
    printf("  %s offers, %s seeks: ", argv[1], argv[0]);
    ctl_print_join(e->b_offers_a_seeks, e->n_b_offers_a_seeks);
    printf("  met before:       %s\n", e->met_before ? "yes" : "no");
    printf("  avoid:            %s\n", e->avoid ? "yes" : "no");
    printf("  tables shared:    %" PRIu32 "\n", e->times_met);
    if (e->why[0] != '\0') {
        fputs("  why:              ", stdout);
        ctl_put_text(e->why);
        putchar('\n');
    }
    return CTL_EXIT_OK;
}

/* The quality lines of stats; nothing when the server sent none. */
static void ctl_put_quality(const char *what, const Mingle__V1__Quality *q)
{
    if (q == NULL)
        return;
    printf("quality, %s:\n", what);
    printf("  objective:         %.1f", q->objective);
    if (q->upper_bound > 0)
        printf(" (%.1f %% of the bound %.1f)", 100.0 * q->bound_share,
               q->upper_bound);
    printf("\n  business lift:     %.2fx, contacts per attendee %.2f "
           "(min %" PRIu32 ")\n",
           q->business_lift, q->business_mean, q->business_min);
    printf("  conversation lift: %.2fx, partners per attendee %.2f "
           "(min %" PRIu32 ")\n",
           q->conversation_lift, q->conversation_mean, q->conversation_min);
    printf("  lonely seats:      %" PRIu64 "\n", q->lonely_seats);
    printf("  empty-handed:      %" PRIu32 " (never sat with a business "
           "contact who was there)\n", q->empty_handed);
}

static int ctl_stats(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
                     char **argv)
{
    const char *event = NULL;
    bool server = false;
    const struct ctl_opt opts[] = {{"--event", &event, NULL},
                                   {"--server", NULL, &server}};
    Mingle__V1__Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__GetStats gs = MINGLE__V1__GET_STATS__INIT;
    Mingle__V1__Response *resp;
    const Mingle__V1__Stats *s;
    uint64_t id = 0;
    int rc;

    rc = ctl_parse_exact(cmd, argc, argv, opts, 2, 0, NULL);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (server && event != NULL)
        return ctl_usage_error(cmd, "--server and --event exclude each other");
    if (!server) {
        rc = ctl_resolve_event(ctl, event, &id);
        if (rc != CTL_EXIT_OK)
            return rc;
    }
    gs.event_id = id;
    req.body_case = MINGLE__V1__REQUEST__BODY_GET_STATS;
    req.get_stats = &gs;
    rc = ctl_call(ctl, &req, MINGLE__V1__RESPONSE__BODY_STATS, &resp);
    if (rc != CTL_EXIT_OK)
        return rc;
    s = resp->stats;
    if (server)
        printf("events:             %" PRIu32 "\n", s->events);
    else
        printf("event:              %" PRIu64 "\n", id);
    printf("attendees:          %" PRIu32 "\n", s->attendees);
    printf("present:            %" PRIu32 "\n", s->present);
    printf("rounds done:        %" PRIu32 "\n", s->rounds_done);
    printf("repeated pairs:     %" PRIu64 "\n", s->repeat_pairs);
    printf("affinity total:     %.1f\n", s->affinity_total);
    printf("encounters:         %" PRIu64 "\n", s->encounters);
    printf("connections:        %" PRIu32 "\n", s->connections);
    printf("subscribers:        %" PRIu32 "\n", s->subscribers);
    printf("requests:           %" PRIu64 "\n", s->requests);
    printf("uptime:             %" PRIu64 " s\n", s->uptime_s);
    ctl_put_quality("rounds so far", s->rounds_quality);
    ctl_put_quality("as planned", s->plan_quality);
    if (s->plan != NULL) {
        fputs("plan:               ", stdout);
        ctl_put_plan(stdout, s->plan);
        putchar('\n');
    }
    return CTL_EXIT_OK;
}

/* RFC 4180 quoting, as output.c does: ids may contain commas. */
static void ctl_csv_field(const char *s)
{
    if (s[strcspn(s, ",\"\r\n")] == '\0') {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s != '\0'; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

/* One encounter as a CSV row, or as a JSON object after `first` tells
 * whether a separating comma is due. */
static void ctl_put_encounter(const Mingle__V1__Encounter *e, bool json,
                              bool first)
{
    if (!json) {
        printf("%" PRIu64 ",", e->seq);
        ctl_csv_field(e->a);
        putchar(',');
        ctl_csv_field(e->b);
        printf(",%" PRIu64 ",%" PRIu32 ",%" PRId64 "\n", e->event_id,
               e->round, e->at_unix);
        return;
    }
    printf("%s\n  {\"seq\": %" PRIu64 ", \"a\": ", first ? "" : ",",
           e->seq);
    cfg_put_quoted(stdout, e->a);
    fputs(", \"b\": ", stdout);
    cfg_put_quoted(stdout, e->b);
    printf(", \"event\": %" PRIu64 ", \"round\": %" PRIu32
           ", \"at\": %" PRId64 "}",
           e->event_id, e->round, e->at_unix);
}

/* Pages through ExportHistory until the server says there is no more;
 * the output streams, so the whole history is never held at once. */
static int ctl_history_export(struct ctl *ctl, const struct ctl_cmd *cmd,
                              int argc, char **argv)
{
    const char *after_arg = NULL, *format = NULL;
    const struct ctl_opt opts[] = {{"--after", &after_arg, NULL},
                                   {"--format", &format, NULL}};
    Mingle__V1__Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__ExportHistory eh = MINGLE__V1__EXPORT_HISTORY__INIT;
    Mingle__V1__Response *resp;
    uint64_t after = 0, n = 0;
    bool json;
    size_t i;
    int rc;

    rc = ctl_parse_exact(cmd, argc, argv, opts, 2, 0, NULL);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (after_arg != NULL && ctl_parse_u64(after_arg, UINT64_MAX, &after) != 0)
        return ctl_usage_error(cmd, "bad --after '%s'", after_arg);
    json = format != NULL && strcmp(format, "json") == 0;
    if (format != NULL && !json && strcmp(format, "csv") != 0)
        return ctl_usage_error(cmd, "bad --format '%s': expected csv or json",
                               format);
    fputs(json ? "[" : "seq,a,b,event_id,round,at_unix\n", stdout);
    req.body_case = MINGLE__V1__REQUEST__BODY_EXPORT_HISTORY;
    req.export_history = &eh;
    for (;;) {
        const Mingle__V1__History *h;

        eh.after = after;
        rc = ctl_call(ctl, &req, MINGLE__V1__RESPONSE__BODY_HISTORY, &resp);
        if (rc != CTL_EXIT_OK)
            return rc;
        h = resp->history;
        for (i = 0; i < h->n_encounters; i++, n++) {
            ctl_put_encounter(h->encounters[i], json, n == 0);
            after = h->encounters[i]->seq;
        }
        /* A page that makes no progress would loop forever. */
        if (!h->more || h->n_encounters == 0)
            break;
    }
    if (json)
        fputs(n == 0 ? "]\n" : "\n]\n", stdout);
    return ctl_flush("to stdout");
}

const struct ctl_cmd ctl_round_cmds[] = {
    {"round next", "[--event ID] [--format text|json|csv]",
     "seat everyone present in a new round, print its tables", NULL,
     ctl_round_next},
    {"round preview", "[--event ID] [--format text|json|csv]",
     "print the next round as planned now, without assigning it",
     "The daemon plans the next rounds in the background after every\n"
     "change (check-in, check-out, profiles, pairs, a round).  While it is\n"
     "still working a better plan may replace this one; once it is idle or\n"
     "converged, and nothing changes, `round next` seats these tables.\n"
     "The first line says what the planner is doing (on stderr for json\n"
     "and csv).\n",
     ctl_round_preview},
    {"schedule", "[--event ID] [--format text|json|csv]",
     "print all rounds so far, as mingled --batch does", NULL,
     ctl_schedule},
    {"event export", "[--event ID]",
     "print the full schedule as JSON", NULL,
     ctl_event_export},
    {"watch", "[--event ID] [--format text|json|csv]",
     "print each round as it is assigned, until Ctrl-C", NULL,
     ctl_watch},
    {"explain", "A B [--event ID]",
     "the affinity of attendees A and B, and its parts",
     NULL, ctl_explain},
    {"stats", "[--event ID | --server]",
     "figures of an event, or of the whole server", NULL, ctl_stats},
    {"history export", "[--format csv|json] [--after SEQ]",
     "print who met whom (resume after SEQ)",
     "One record per pair seated at the same table: seq (the encounter's\n"
     "number; --after SEQ resumes after it), the two attendee ids a and b\n"
     "(a forgotten person appears as an anonymous token), the event id, the\n"
     "round, and when the round was assigned in Unix seconds (UTC).\n"
     "csv (the default): header seq,a,b,event_id,round,at_unix.  json: an\n"
     "array of objects {\"seq\", \"a\", \"b\", \"event\", \"round\", \"at\"}.\n",
     ctl_history_export},
};
const size_t ctl_round_n_cmds = sizeof(ctl_round_cmds) /
                                sizeof(ctl_round_cmds[0]);
