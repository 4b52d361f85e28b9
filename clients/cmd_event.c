/* cmd_event.c -- event create, list, show, close; an event's history
 * scope (how far back earlier encounters count) as --history spells it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "event_file.h"

#define CTL_SECONDS_PER_DAY 86400

/* Parses "YYYY-MM-DD" (exactly that shape, a real calendar date) as its
 * 00:00 UTC.  Returns 0 or -EINVAL. */
static int ctl_parse_date(const char *s, int64_t *unix_s)
{
    struct tm tm = {0};
    int year, mon, mday;
    time_t t;
    size_t i;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -EINVAL;
    for (i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -EINVAL;
    year = (int)strtol(s, NULL, 10);
    mon = (int)strtol(s + 5, NULL, 10);
    mday = (int)strtol(s + 8, NULL, 10);
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = mday;
    /* timegm() normalizes 2026-02-30 to March 2 in place: refuse a date
     * that moved. */
    t = timegm(&tm);
    if (tm.tm_year != year - 1900 || tm.tm_mon != mon - 1 ||
        tm.tm_mday != mday)
        return -EINVAL;
    *unix_s = (int64_t)t;
    return 0;
}

/* Parses a --history value: all, none, last:N (N >= 1) or
 * since:YYYY-MM-DD.  Returns 0 with *h filled, or -EINVAL. */
static int ctl_parse_history(const char *s, Mingle__V1__HistoryScope *h)
{
    uint64_t n;

    if (strcmp(s, "all") == 0) {
        h->kind = MINGLE__V1__HISTORY_SCOPE__KIND__ALL;
    } else if (strcmp(s, "none") == 0) {
        h->kind = MINGLE__V1__HISTORY_SCOPE__KIND__NONE;
    } else if (strncmp(s, "last:", 5) == 0) {
        if (ctl_parse_u64(s + 5, UINT32_MAX, &n) != 0 || n == 0)
            return -EINVAL;
        h->kind = MINGLE__V1__HISTORY_SCOPE__KIND__LAST_EVENTS;
        h->last_events = (uint32_t)n;
    } else if (strncmp(s, "since:", 6) == 0) {
        if (ctl_parse_date(s + 6, &h->since_unix) != 0)
            return -EINVAL;
        h->kind = MINGLE__V1__HISTORY_SCOPE__KIND__SINCE;
    } else {
        return -EINVAL;
    }
    return 0;
}

/* The scope in --history terms, with what it means; an event from a
 * server that reports none counts every earlier event. */
static void ctl_print_history(const Mingle__V1__HistoryScope *h)
{
    char when[32] = "?";
    time_t t;
    struct tm tm;

    fputs("history:     ", stdout);
    switch (h != NULL ? h->kind : MINGLE__V1__HISTORY_SCOPE__KIND__ALL) {
    case MINGLE__V1__HISTORY_SCOPE__KIND__ALL:
        puts("all (encounters at every earlier event count)");
        break;
    case MINGLE__V1__HISTORY_SCOPE__KIND__NONE:
        puts("none (earlier events do not count)");
        break;
    case MINGLE__V1__HISTORY_SCOPE__KIND__LAST_EVENTS:
        printf("last:%" PRIu32 " (encounters at the %" PRIu32
               " events before this one count)\n",
               h->last_events, h->last_events);
        break;
    case MINGLE__V1__HISTORY_SCOPE__KIND__SINCE:
        t = (time_t)h->since_unix;
        /* Another client may have sent a time of day: show it then. */
        if (gmtime_r(&t, &tm) != NULL)
            strftime(when, sizeof(when),
                     h->since_unix % CTL_SECONDS_PER_DAY == 0
                         ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ",
                     &tm);
        printf("since:%s (encounters at events created since then "
               "count)\n", when);
        break;
    default:
        printf("unknown scope %d\n", (int)h->kind);
        break;
    }
}

static void ctl_print_event(const Mingle__V1__EventInfo *e)
{
    char when[32] = "";
    time_t t = (time_t)e->created_unix;
    struct tm tm;

    if (e->created_unix != 0 && gmtime_r(&t, &tm) != NULL)
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
    printf("event:       %" PRIu64 "\n", e->event_id);
    printf("name:        %s\n", e->name);
    printf("status:      %s\n", e->closed ? "closed" : "open");
    printf("created:     %s\n", when);
    printf("table size:  %" PRIu32 "\n", e->table_size);
    printf("rounds:      %" PRIu32 " of %" PRIu32 " done\n", e->rounds_done,
           e->rounds_planned);
    printf("attendees:   %" PRIu32 " (%" PRIu32 " present)\n", e->attendees,
           e->present);
    printf("seed:        %" PRIu64 "\n", e->seed);
    if (e->weights != NULL)
        printf("weights:     interests %g, business %g, same company %g\n",
               e->weights->interests, e->weights->business,
               e->weights->same_company);
    ctl_print_history(e->history);
}

/* Sends CreateEvent `ce` with history scope `h`. */
static int ctl_create(struct ctl *ctl, Mingle__V1__CreateEvent *ce,
                      Mingle__V1__HistoryScope *h, uint64_t *id)
{
    Mingle__V1__Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__Response *resp;
    int rc;

    ce->history = h;
    req.body_case = MINGLE__V1__REQUEST__BODY_CREATE_EVENT;
    req.create_event = ce;
    rc = ctl_call(ctl, &req, MINGLE__V1__RESPONSE__BODY_EVENT, &resp);
    if (rc == CTL_EXIT_OK)
        *id = resp->event->event_id;
    return rc;
}

static int ctl_create_from_file(struct ctl *ctl, const char *path,
                                Mingle__V1__HistoryScope *h)
{
    Mingle__V1__CreateEvent ce = MINGLE__V1__CREATE_EVENT__INIT;
    Mingle__V1__Weights w = MINGLE__V1__WEIGHTS__INIT;
    struct cfg_event *ev = NULL;
    uint64_t id = 0;
    int rc;

    rc = ctl_load_event_file(path, &ev);
    if (rc != CTL_EXIT_OK)
        return rc;
    ce.name = ev->name;
    ce.table_size = ev->table_size;
    ce.rounds = ev->rounds;
    w.interests = ev->weights.interests;
    w.business = ev->weights.business;
    w.same_company = ev->weights.same_company;
    ce.weights = &w;
    ce.seed = ev->seed;
    ce.seed_set = ev->has_seed;
    rc = ctl_create(ctl, &ce, h, &id);
    if (rc != CTL_EXIT_OK)
        goto out;
    rc = ctl_upload_event_file(ctl, id, ev);
    if (rc != CTL_EXIT_OK) {
        ctl_error("event %" PRIu64 " was created but not completely loaded",
                  id);
        goto out;
    }
    printf("%" PRIu64 "\n", id);
out:
    cfg_event_free(ev);
    return rc;
}

static int ctl_event_create(struct ctl *ctl, const struct ctl_cmd *cmd,
                            int argc, char **argv)
{
    const char *name = NULL, *table_size = NULL, *rounds = NULL, *seed = NULL,
               *history = NULL;
    const struct ctl_opt opts[] = {
        {"--name", &name, NULL},
        {"--table-size", &table_size, NULL},
        {"--rounds", &rounds, NULL},
        {"--seed", &seed, NULL},
        {"--history", &history, NULL},
    };
    Mingle__V1__CreateEvent ce = MINGLE__V1__CREATE_EVENT__INIT;
    Mingle__V1__HistoryScope h = MINGLE__V1__HISTORY_SCOPE__INIT;
    uint64_t k, r, s = 0, id;
    int npos, rc;

    rc = ctl_parse_args(cmd, argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
                        &npos);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (history != NULL && ctl_parse_history(history, &h) != 0)
        return ctl_usage_error(cmd, "bad --history '%s': expected all, none, "
                               "last:N (N >= 1) or since:YYYY-MM-DD",
                               history);
    if (npos == 1 && name == NULL && table_size == NULL && rounds == NULL &&
        seed == NULL)
        return ctl_create_from_file(ctl, argv[0], &h);
    if (npos != 0)
        return ctl_usage_error(cmd, "give an event file or the options, "
                               "not both");
    if (name == NULL || table_size == NULL || rounds == NULL)
        return ctl_usage_error(cmd, "--name, --table-size and --rounds are "
                               "required without an event file");
    if (ctl_parse_u64(table_size, UINT32_MAX, &k) != 0 || k < 2)
        return ctl_usage_error(cmd, "bad --table-size '%s': expected a "
                               "number >= 2", table_size);
    if (ctl_parse_u64(rounds, UINT32_MAX, &r) != 0 || r < 1)
        return ctl_usage_error(cmd, "bad --rounds '%s': expected a number "
                               ">= 1", rounds);
    if (seed != NULL && ctl_parse_u64(seed, UINT64_MAX, &s) != 0)
        return ctl_usage_error(cmd, "bad --seed '%s'", seed);
    ce.name = (char *)name;
    ce.table_size = (uint32_t)k;
    ce.rounds = (uint32_t)r;
    ce.seed = s;
    ce.seed_set = seed != NULL;
    rc = ctl_create(ctl, &ce, &h, &id);
    if (rc == CTL_EXIT_OK)
        printf("%" PRIu64 "\n", id);
    return rc;
}

static int ctl_event_list(struct ctl *ctl, const struct ctl_cmd *cmd,
                          int argc, char **argv)
{
    bool all = false;
    const struct ctl_opt opts[] = {{"--all", NULL, &all}};
    Mingle__V1__Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__ListEvents list = MINGLE__V1__LIST_EVENTS__INIT;
    Mingle__V1__Response *resp;
    size_t i;
    int rc;

    rc = ctl_parse_exact(cmd, argc, argv, opts, 1, 0, NULL);
    if (rc != CTL_EXIT_OK)
        return rc;
    list.include_closed = all;
    req.body_case = MINGLE__V1__REQUEST__BODY_LIST_EVENTS;
    req.list_events = &list;
    rc = ctl_call(ctl, &req, MINGLE__V1__RESPONSE__BODY_EVENTS, &resp);
    if (rc != CTL_EXIT_OK)
        return rc;
    printf("%6s  %-6s  %9s  %7s  %6s  %s\n", "ID", "STATUS", "ATTENDEES",
           "PRESENT", "ROUNDS", "NAME");
    for (i = 0; i < resp->events->n_events; i++) {
        const Mingle__V1__EventInfo *e = resp->events->events[i];

        printf("%6" PRIu64 "  %-6s  %9" PRIu32 "  %7" PRIu32 "  %3" PRIu32
               "/%-2" PRIu32 "  %s\n",
               e->event_id, e->closed ? "closed" : "open", e->attendees,
               e->present, e->rounds_done, e->rounds_planned, e->name);
    }
    return CTL_EXIT_OK;
}

/* show and close: one event in, EventInfo out. */
static int ctl_event_one(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
                         char **argv, bool do_close)
{
    const char *event = NULL;
    const struct ctl_opt opts[] = {{"--event", &event, NULL}};
    Mingle__V1__Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__GetEvent get = MINGLE__V1__GET_EVENT__INIT;
    Mingle__V1__CloseEvent cl = MINGLE__V1__CLOSE_EVENT__INIT;
    Mingle__V1__Response *resp;
    uint64_t id;
    int npos, rc;

    rc = ctl_parse_args(cmd, argc, argv, opts, 1, &npos);
    if (rc != CTL_EXIT_OK)
        return rc;
    /* "event show 7" reads naturally; accept the id positionally too. */
    if (npos == 1 && event == NULL)
        event = argv[0];
    else if (npos != 0)
        return ctl_usage_error(cmd, "unexpected argument '%s'", argv[0]);
    rc = ctl_resolve_event(ctl, event, &id);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (do_close) {
        cl.event_id = id;
        req.body_case = MINGLE__V1__REQUEST__BODY_CLOSE_EVENT;
        req.close_event = &cl;
    } else {
        get.event_id = id;
        req.body_case = MINGLE__V1__REQUEST__BODY_GET_EVENT;
        req.get_event = &get;
    }
    rc = ctl_call(ctl, &req, MINGLE__V1__RESPONSE__BODY_EVENT, &resp);
    if (rc == CTL_EXIT_OK)
        ctl_print_event(resp->event);
    return rc;
}

static int ctl_event_show(struct ctl *ctl, const struct ctl_cmd *cmd,
                          int argc, char **argv)
{
    return ctl_event_one(ctl, cmd, argc, argv, false);
}

static int ctl_event_close(struct ctl *ctl, const struct ctl_cmd *cmd,
                           int argc, char **argv)
{
    return ctl_event_one(ctl, cmd, argc, argv, true);
}

const struct ctl_cmd ctl_event_cmds[] = {
    {"event create",
     "FILE.yaml | --name NAME --table-size K --rounds R [--seed S]\n"
     "       [--history all|none|last:N|since:YYYY-MM-DD]",
     "create an event (from a file, or empty); prints its id",
     "With FILE.yaml, the event's settings, attendees, met_before and avoid\n"
     "pairs come from the event file (the format of mingled --batch) and are\n"
     "sent in batches.  Without it, the event starts with no attendees.\n"
     "\n"
     "--history says which earlier events count: pairs who met there are\n"
     "seated together only when nothing better is left.  all (the default):\n"
     "every earlier event; none: none; last:N: the N events created before\n"
     "this one; since:YYYY-MM-DD: events created on or after that day\n"
     "(00:00 UTC).\n",
     ctl_event_create},
    {"event list", "[--all]",
     "list open events (--all: closed ones too)", NULL, ctl_event_list},
    {"event show", "[--event ID]", "show an event's settings and progress",
     NULL, ctl_event_show},
    {"event close", "[--event ID]",
     "close an event: no more changes or rounds", NULL, ctl_event_close},
};
const size_t ctl_event_n_cmds = sizeof(ctl_event_cmds) /
                                sizeof(ctl_event_cmds[0]);
