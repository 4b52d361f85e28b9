/* cmd_attendees.c -- loading, exporting and removing attendees; check-in
 * and check-out.
 *
 * Large lists go out in batches sized from the server's HelloReply, so an
 * event of 10,000 profiles never meets FRAME_TOO_BIG.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_quote.h"
#include "ctl.h"
#include "event_file.h"
#include "frame.h"

/* Items per frame: small enough that a batch is quick to validate on
 * the server, large enough that 10,000 profiles need only 10 frames. */
#define CTL_BATCH_ITEMS 1000u
/* Room in a frame for the envelope around the repeated items. */
#define CTL_BATCH_SLACK_BYTES 64u

int ctl_load_event_file(const char *path, struct cfg_event **ev)
{
    struct cfg_error err;
    char msg[CFG_ERROR_FILE_BYTES + CFG_ERROR_MSG_BYTES + 32];
    int rc;

    memset(&err, 0, sizeof(err));
    rc = cfg_event_load(path, NULL, ev, &err);
    if (rc != 0) {
        ctl_error("%s", cfg_error_format(&err, msg, sizeof(msg)));
        return CTL_EXIT_USAGE;
    }
    return CTL_EXIT_OK;
}

/* Wire bytes of one element of a repeated message field. */
static size_t ctl_elem_bytes(size_t packed)
{
    uint8_t prefix[FRAME_PREFIX_MAX_BYTES];

    return 1 + frame_put_prefix(prefix, packed) + packed;
}

/* A request whose repeated field `fill` points at items [from, to);
 * `size` gives the wire bytes of item i. */
struct ctl_batcher {
    Mingle__V1__Request req;
    void (*fill)(struct ctl_batcher *b, size_t from, size_t to);
    size_t (*size)(const struct ctl_batcher *b, size_t i);
    const char *what; /* an item, for errors: "attendee" */
};

/* Finds the end of the batch starting at `from`: as many of the `n` items
 * as fit in `budget` bytes and `max_items`.  Returns 0 or -EMSGSIZE when
 * item `from` alone is too big. */
static int ctl_next_batch(const struct ctl_batcher *b, size_t from, size_t n,
                          size_t budget, size_t max_items, size_t *end)
{
    size_t i = from, used = 0;

    for (; i < n && i - from < max_items; i++) {
        size_t sz = b->size(b, i);

        if (used + sz > budget)
            break;
        used += sz;
    }
    if (i == from)
        return -EMSGSIZE;
    *end = i;
    return 0;
}

/* The batch limits of this connection. */
static void ctl_batch_limits(struct ctl *ctl, size_t *budget,
                             size_t *max_items)
{
    size_t frame = ctl_conn_max_frame(ctl->conn);
    uint32_t batch = ctl_conn_max_batch(ctl->conn);

    if (frame == 0)
        frame = FRAME_DEFAULT_MAX_BYTES;
    *budget = frame > 2 * CTL_BATCH_SLACK_BYTES ? frame - CTL_BATCH_SLACK_BYTES
                                                : frame / 2;
    *max_items = batch != 0 && batch < CTL_BATCH_ITEMS ? batch
                                                       : CTL_BATCH_ITEMS;
}

/* Sends the `n` items in as few requests as the limits allow, each
 * answered by an Ack; *present (when non-NULL) gets the last Ack's count
 * of attendees present.  Connects even when n is 0, so that an upload to
 * an unreachable server fails whatever it carries. */
static int ctl_send_batches(struct ctl *ctl, struct ctl_batcher *b, size_t n,
                            uint64_t *present)
{
    Mingle__V1__Response *resp;
    size_t budget, max_items, from = 0, end;
    int rc = ctl_connect(ctl);

    if (rc != CTL_EXIT_OK)
        return rc;
    ctl_batch_limits(ctl, &budget, &max_items);
    while (from < n) {
        if (ctl_next_batch(b, from, n, budget, max_items, &end) != 0) {
            ctl_error("%s %zu alone exceeds the server's frame limit", b->what,
                      from + 1);
            return CTL_EXIT_USAGE;
        }
        b->fill(b, from, end);
        rc = ctl_call(ctl, &b->req, MINGLE__V1__RESPONSE__BODY_ACK, &resp);
        if (rc != CTL_EXIT_OK)
            return rc;
        if (present != NULL)
            *present = resp->ack->present;
        from = end;
    }
    return CTL_EXIT_OK;
}

struct ctl_upsert {
    struct ctl_batcher b;
    Mingle__V1__UpsertAttendees up;
    Mingle__V1__Attendee **ptrs;
};

static void ctl_fill_upsert(struct ctl_batcher *b, size_t from, size_t to)
{
    struct ctl_upsert *u = (struct ctl_upsert *)b;

    u->up.attendees = u->ptrs + from;
    u->up.n_attendees = to - from;
}

static size_t ctl_size_upsert(const struct ctl_batcher *b, size_t i)
{
    const struct ctl_upsert *u = (const struct ctl_upsert *)b;

    return ctl_elem_bytes(mingle__v1__attendee__get_packed_size(u->ptrs[i]));
}

static int ctl_upload_attendees(struct ctl *ctl, uint64_t id,
                                const struct cfg_event *ev)
{
    struct ctl_upsert u = {.b = {.req = MINGLE__V1__REQUEST__INIT,
                                 .fill = ctl_fill_upsert,
                                 .size = ctl_size_upsert,
                                 .what = "attendee"}};
    Mingle__V1__Attendee *msgs;
    size_t i, n = ev->n_attendees;
    int rc;

    msgs = calloc(n ? n : 1, sizeof(*msgs));
    u.ptrs = calloc(n ? n : 1, sizeof(*u.ptrs));
    if (msgs == NULL || u.ptrs == NULL) {
        rc = ctl_oom();
        goto out;
    }
    /* The messages borrow the event file's strings: packing only reads. */
    for (i = 0; i < n; i++) {
        const struct att_profile *p = &ev->attendees[i];
        Mingle__V1__Attendee *m = &msgs[i];

        mingle__v1__attendee__init(m);
        m->id = (char *)p->id;
        m->name = (char *)(p->name ? p->name : "");
        m->company = (char *)(p->company ? p->company : "");
        m->industry = (char *)(p->industry ? p->industry : "");
        m->interests = (char **)p->interests;
        m->n_interests = p->n_interests;
        m->offers = (char **)p->offers;
        m->n_offers = p->n_offers;
        m->seeks = (char **)p->seeks;
        m->n_seeks = p->n_seeks;
        u.ptrs[i] = m;
    }
    mingle__v1__upsert_attendees__init(&u.up);
    u.up.event_id = id;
    u.b.req.body_case = MINGLE__V1__REQUEST__BODY_UPSERT_ATTENDEES;
    u.b.req.upsert_attendees = &u.up;
    rc = ctl_send_batches(ctl, &u.b, n, NULL);
out:
    free(u.ptrs);
    free(msgs);
    return rc;
}

struct ctl_pairs {
    struct ctl_batcher b;
    Mingle__V1__AddPairs add;
    Mingle__V1__Pair **ptrs;
};

static void ctl_fill_pairs(struct ctl_batcher *b, size_t from, size_t to)
{
    struct ctl_pairs *p = (struct ctl_pairs *)b;

    p->add.pairs = p->ptrs + from;
    p->add.n_pairs = to - from;
}

static size_t ctl_size_pairs(const struct ctl_batcher *b, size_t i)
{
    const struct ctl_pairs *p = (const struct ctl_pairs *)b;

    return ctl_elem_bytes(mingle__v1__pair__get_packed_size(p->ptrs[i]));
}

static int ctl_upload_pairs(struct ctl *ctl, uint64_t id,
                            const struct cfg_event *ev,
                            const struct cfg_pair *pairs, size_t n,
                            Mingle__V1__PairKind kind)
{
    struct ctl_pairs p = {.b = {.req = MINGLE__V1__REQUEST__INIT,
                                .fill = ctl_fill_pairs,
                                .size = ctl_size_pairs,
                                .what = "pair"}};
    Mingle__V1__Pair *msgs;
    size_t i;
    int rc;

    if (n == 0)
        return CTL_EXIT_OK;
    msgs = calloc(n, sizeof(*msgs));
    p.ptrs = calloc(n, sizeof(*p.ptrs));
    if (msgs == NULL || p.ptrs == NULL) {
        rc = ctl_oom();
        goto out;
    }
    for (i = 0; i < n; i++) {
        mingle__v1__pair__init(&msgs[i]);
        msgs[i].a = (char *)ev->attendees[pairs[i].a].id;
        msgs[i].b = (char *)ev->attendees[pairs[i].b].id;
        p.ptrs[i] = &msgs[i];
    }
    mingle__v1__add_pairs__init(&p.add);
    p.add.event_id = id;
    p.add.kind = kind;
    p.b.req.body_case = MINGLE__V1__REQUEST__BODY_ADD_PAIRS;
    p.b.req.add_pairs = &p.add;
    rc = ctl_send_batches(ctl, &p.b, n, NULL);
out:
    free(p.ptrs);
    free(msgs);
    return rc;
}

int ctl_upload_event_file(struct ctl *ctl, uint64_t id,
                          const struct cfg_event *ev)
{
    int rc = ctl_upload_attendees(ctl, id, ev);

    if (rc == CTL_EXIT_OK)
        rc = ctl_upload_pairs(ctl, id, ev, ev->met_before, ev->n_met_before,
                              MINGLE__V1__PAIR_KIND__MET_BEFORE);
    if (rc == CTL_EXIT_OK)
        rc = ctl_upload_pairs(ctl, id, ev, ev->avoid, ev->n_avoid,
                              MINGLE__V1__PAIR_KIND__AVOID);
    return rc;
}

static int ctl_attendees_load(struct ctl *ctl, const struct ctl_cmd *cmd,
                              int argc, char **argv)
{
    const char *event = NULL;
    const struct ctl_opt opts[] = {{"--event", &event, NULL}};
    struct cfg_event *ev = NULL;
    uint64_t id;
    int rc;

    /* A bad file is reported before the server is contacted. */
    rc = ctl_parse_exact(cmd, argc, argv, opts, 1, 1, "one event file");
    if (rc != CTL_EXIT_OK)
        return rc;
    rc = ctl_load_event_file(argv[0], &ev);
    if (rc == CTL_EXIT_OK)
        rc = ctl_resolve_event(ctl, event, &id);
    if (rc == CTL_EXIT_OK)
        rc = ctl_upload_event_file(ctl, id, ev);
    if (rc == CTL_EXIT_OK)
        printf("loaded %zu attendees into event %" PRIu64 "\n",
               ev->n_attendees, id);
    cfg_event_free(ev);
    return rc;
}

/* A profile's text field; an empty one is left out, as the event file
 * allows. */
static void ctl_yaml_field(FILE *f, const char *key, const char *value)
{
    if (value[0] == '\0')
        return;
    fprintf(f, "    %s: ", key);
    cfg_put_quoted(f, value);
    fputc('\n', f);
}

static void ctl_yaml_list(FILE *f, const char *key, char **items, size_t n)
{
    size_t i;

    if (n == 0)
        return;
    fprintf(f, "    %s: [", key);
    for (i = 0; i < n; i++) {
        if (i > 0)
            fputs(", ", f);
        cfg_put_quoted(f, items[i]);
    }
    fputs("]\n", f);
}

static void ctl_yaml_pairs(FILE *f, const char *key, Mingle__V1__Pair **pairs,
                           size_t n)
{
    size_t i;

    if (n == 0)
        return;
    fprintf(f, "%s:\n", key);
    for (i = 0; i < n; i++) {
        fputs("  - [", f);
        cfg_put_quoted(f, pairs[i]->a);
        fputs(", ", f);
        cfg_put_quoted(f, pairs[i]->b);
        fputs("]\n", f);
    }
}

/* Prints the event-file header from EventInfo; the EventInfo lives in
 * the previous response, so this runs before the next call. */
static void ctl_yaml_event(FILE *f, const Mingle__V1__EventInfo *e)
{
    fputs("event:\n  name: ", f);
    cfg_put_quoted(f, e->name);
    fprintf(f, "\n  rounds: %" PRIu32 "\n  table_size: %" PRIu32
            "\n  seed: %" PRIu64 "\n",
            e->rounds_planned, e->table_size, e->seed);
    if (e->weights != NULL)
        fprintf(f, "  weights:\n    interests: %.17g\n    business: %.17g\n"
                "    same_company: %.17g\n",
                e->weights->interests, e->weights->business,
                e->weights->same_company);
}

static int ctl_attendees_export(struct ctl *ctl, const struct ctl_cmd *cmd,
                                int argc, char **argv)
{
    Mingle__V1__Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__GetEvent get = MINGLE__V1__GET_EVENT__INIT;
    Mingle__V1__ListAttendees list = MINGLE__V1__LIST_ATTENDEES__INIT;
    Mingle__V1__Response *resp;
    const Mingle__V1__AttendeeList *al;
    uint64_t id;
    size_t i;
    int rc;

    rc = ctl_event_args(ctl, cmd, argc, argv, 0, NULL, &id);
    if (rc != CTL_EXIT_OK)
        return rc;
    get.event_id = id;
    req.body_case = MINGLE__V1__REQUEST__BODY_GET_EVENT;
    req.get_event = &get;
    rc = ctl_call(ctl, &req, MINGLE__V1__RESPONSE__BODY_EVENT, &resp);
    if (rc != CTL_EXIT_OK)
        return rc;
    ctl_yaml_event(stdout, resp->event);

    list.event_id = id;
    req = (Mingle__V1__Request)MINGLE__V1__REQUEST__INIT;
    req.body_case = MINGLE__V1__REQUEST__BODY_LIST_ATTENDEES;
    req.list_attendees = &list;
    rc = ctl_call(ctl, &req, MINGLE__V1__RESPONSE__BODY_ATTENDEES, &resp);
    if (rc != CTL_EXIT_OK)
        return rc;
    al = resp->attendees;
    fputs(al->n_attendees ? "attendees:\n" : "attendees: []\n", stdout);
    for (i = 0; i < al->n_attendees; i++) {
        const Mingle__V1__Attendee *a = al->attendees[i];

        fputs("  - id: ", stdout);
        cfg_put_quoted(stdout, a->id);
        fputc('\n', stdout);
        ctl_yaml_field(stdout, "name", a->name);
        ctl_yaml_field(stdout, "company", a->company);
        ctl_yaml_field(stdout, "industry", a->industry);
        ctl_yaml_list(stdout, "interests", a->interests, a->n_interests);
        ctl_yaml_list(stdout, "offers", a->offers, a->n_offers);
        ctl_yaml_list(stdout, "seeks", a->seeks, a->n_seeks);
    }
    ctl_yaml_pairs(stdout, "met_before", al->met_before, al->n_met_before);
    ctl_yaml_pairs(stdout, "avoid", al->avoid, al->n_avoid);
    return ctl_flush("the export");
}

static int ctl_attendee_remove(struct ctl *ctl, const struct ctl_cmd *cmd,
                               int argc, char **argv)
{
    Mingle__V1__Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__RemoveAttendee rm = MINGLE__V1__REMOVE_ATTENDEE__INIT;
    Mingle__V1__Response *resp;
    uint64_t id;
    int rc;

    rc = ctl_event_args(ctl, cmd, argc, argv, 1, "one attendee id", &id);
    if (rc != CTL_EXIT_OK)
        return rc;
    rm.event_id = id;
    rm.attendee_id = argv[0];
    req.body_case = MINGLE__V1__REQUEST__BODY_REMOVE_ATTENDEE;
    req.remove_attendee = &rm;
    rc = ctl_call(ctl, &req, MINGLE__V1__RESPONSE__BODY_ACK, &resp);
    if (rc == CTL_EXIT_OK)
        printf("removed %s from event %" PRIu64 "\n", argv[0], id);
    return rc;
}

/* Forgetting cannot be undone, so it takes --yes; without it the command
 * says what it would do and contacts no one. */
static int ctl_attendee_forget(struct ctl *ctl, const struct ctl_cmd *cmd,
                               int argc, char **argv)
{
    bool yes = false;
    const struct ctl_opt opts[] = {{"--yes", NULL, &yes}};
    Mingle__V1__Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__ForgetAttendee fa = MINGLE__V1__FORGET_ATTENDEE__INIT;
    Mingle__V1__Response *resp;
    int rc;

    rc = ctl_parse_exact(cmd, argc, argv, opts, 1, 1, "one attendee id");
    if (rc != CTL_EXIT_OK)
        return rc;
    if (!yes) {
        ctl_error("this would delete the profile of %s from every event and "
                  "replace %s by an anonymous token in all encounters; it "
                  "cannot be undone.  Add --yes to go ahead.",
                  argv[0], argv[0]);
        return CTL_EXIT_USAGE;
    }
    fa.attendee_id = argv[0];
    req.body_case = MINGLE__V1__REQUEST__BODY_FORGET_ATTENDEE;
    req.forget_attendee = &fa;
    rc = ctl_call(ctl, &req, MINGLE__V1__RESPONSE__BODY_ACK, &resp);
    if (rc == CTL_EXIT_OK)
        printf("forgot %s: profile deleted from %" PRIu32 " event%s, "
               "encounters anonymized\n", argv[0], resp->ack->count,
               resp->ack->count == 1 ? "" : "s");
    return rc;
}

struct ctl_presence {
    struct ctl_batcher b;
    Mingle__V1__CheckIn in;
    Mingle__V1__CheckOut out;
    char **ids;
};

static void ctl_fill_presence(struct ctl_batcher *b, size_t from, size_t to)
{
    struct ctl_presence *p = (struct ctl_presence *)b;

    p->in.attendee_ids = p->out.attendee_ids = p->ids + from;
    p->in.n_attendee_ids = p->out.n_attendee_ids = to - from;
}

static size_t ctl_size_presence(const struct ctl_batcher *b, size_t i)
{
    const struct ctl_presence *p = (const struct ctl_presence *)b;

    return ctl_elem_bytes(strlen(p->ids[i]));
}

/* Copies every attendee id of event `id` (the response dies with the
 * next call, and the check-in batches are calls). */
static int ctl_all_ids(struct ctl *ctl, uint64_t id, char ***ids, size_t *n)
{
    Mingle__V1__Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__ListAttendees list = MINGLE__V1__LIST_ATTENDEES__INIT;
    Mingle__V1__Response *resp;
    size_t i;
    int rc;

    list.event_id = id;
    req.body_case = MINGLE__V1__REQUEST__BODY_LIST_ATTENDEES;
    req.list_attendees = &list;
    rc = ctl_call(ctl, &req, MINGLE__V1__RESPONSE__BODY_ATTENDEES, &resp);
    if (rc != CTL_EXIT_OK)
        return rc;
    *n = resp->attendees->n_attendees;
    *ids = calloc(*n ? *n : 1, sizeof(**ids));
    if (*ids == NULL)
        goto oom;
    for (i = 0; i < *n; i++) {
        (*ids)[i] = strdup(resp->attendees->attendees[i]->id);
        if ((*ids)[i] == NULL)
            goto oom;
    }
    return CTL_EXIT_OK;
oom:
    return ctl_oom();
}

static int ctl_presence(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
                        char **argv, bool check_in)
{
    const char *event = NULL;
    bool all = false;
    const struct ctl_opt opts[] = {{"--event", &event, NULL},
                                   {"--all", NULL, &all}};
    struct ctl_presence p = {.b = {.req = MINGLE__V1__REQUEST__INIT,
                                   .fill = ctl_fill_presence,
                                   .size = ctl_size_presence,
                                   .what = "id"}};
    char **owned = NULL;
    size_t n = 0, i;
    uint64_t id, present = 0;
    int npos, rc;

    rc = ctl_parse_args(cmd, argc, argv, opts, check_in ? 2 : 1, &npos);
    if (rc != CTL_EXIT_OK)
        return rc;
    if ((npos == 0) == !all)
        return ctl_usage_error(cmd, all ? "give ids or --all, not both"
                                        : "expected attendee ids");
    rc = ctl_resolve_event(ctl, event, &id);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (all) {
        rc = ctl_all_ids(ctl, id, &owned, &n);
        if (rc != CTL_EXIT_OK)
            goto out;
        p.ids = owned;
    } else {
        p.ids = argv;
        n = (size_t)npos;
    }
    mingle__v1__check_in__init(&p.in);
    mingle__v1__check_out__init(&p.out);
    p.in.event_id = p.out.event_id = id;
    if (check_in) {
        p.b.req.body_case = MINGLE__V1__REQUEST__BODY_CHECK_IN;
        p.b.req.check_in = &p.in;
    } else {
        p.b.req.body_case = MINGLE__V1__REQUEST__BODY_CHECK_OUT;
        p.b.req.check_out = &p.out;
    }
    rc = ctl_send_batches(ctl, &p.b, n, &present);
    if (rc == CTL_EXIT_OK)
        printf("checked %s %zu; %" PRIu64 " present\n",
               check_in ? "in" : "out", n, present);
out:
    if (owned != NULL) {
        for (i = 0; i < n; i++)
            free(owned[i]);
        free(owned);
    }
    return rc;
}

static int ctl_checkin(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
                       char **argv)
{
    return ctl_presence(ctl, cmd, argc, argv, true);
}

static int ctl_checkout(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
                        char **argv)
{
    return ctl_presence(ctl, cmd, argc, argv, false);
}

const struct ctl_cmd ctl_attendee_cmds[] = {
    {"attendees load", "FILE.yaml [--event ID]",
     "add or update attendees and pairs from an event file",
     "Reads the attendees, met_before and avoid lists of FILE.yaml (the\n"
     "event-file format) into an existing event; its event: settings are\n"
     "checked but not applied.  Attendees already present are updated.\n",
     ctl_attendees_load},
    {"attendees export", "[--event ID]",
     "print an event as an event file that loads back",
     "The output loads back with 'minglectl event create FILE.yaml' or\n"
     "'mingled --batch FILE.yaml'.\n",
     ctl_attendees_export},
    {"attendee remove", "ID [--event ID]",
     "remove an attendee from the coming rounds", NULL, ctl_attendee_remove},
    {"attendee forget", "ID --yes",
     "delete a person everywhere and anonymize their encounters",
     "For deletion requests (GDPR): the profile of ID goes from every event,\n"
     "open or closed, and in the encounter history ID becomes an anonymous\n"
     "token, so past rounds still count as met but name no one.  This cannot\n"
     "be undone; without --yes nothing is sent.\n",
     ctl_attendee_forget},
    {"checkin", "ID... | --all [--event ID]",
     "mark attendees present (--all: everyone)", NULL,
     ctl_checkin},
    {"checkout", "ID... [--event ID]",
     "mark attendees gone (early leavers)", NULL, ctl_checkout},
};
const size_t ctl_attendee_n_cmds = sizeof(ctl_attendee_cmds) /
                                   sizeof(ctl_attendee_cmds[0]);
