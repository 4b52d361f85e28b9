/* test_store.c -- the durable store: lock, schema checks, corrupt files,
 * commit and exact reload, forgetting, group commits, history pairs. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "meetup.h"
#include "store.h"

#define PATH_BYTES 256

struct fx {
    char dir[PATH_BYTES];
    struct store *s;
    struct meetup *hub;
};

static void path_in(const struct fx *f, const char *name, char *out)
{
    snprintf(out, PATH_BYTES, "%.200s/%.40s", f->dir, name);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char err[STORE_ERR_BYTES];

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/mingle-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    /* The store creates the directory itself: start without it. */
    assert_int_equal(rmdir(f->dir), 0);
    assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), 0);
    f->hub = meetup_new();
    assert_non_null(f->hub);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    static const char *const files[] = { "mingle.db", "mingle.db-wal",
                                         "mingle.db-shm", "lock" };
    struct fx *f = *state;
    char p[PATH_BYTES];
    size_t i;

    store_close(f->s);
    meetup_free(f->hub);
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        path_in(f, files[i], p);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* prepare + apply + commit, the daemon's path for one request. */
static int run(struct fx *f, const struct meetup_request *req)
{
    struct meetup_change *ch;
    const struct meetup_change *one[1];
    int ret = meetup_prepare(f->hub, req, &ch);

    if (ret < 0)
        return ret;
    assert_int_equal(meetup_apply(f->hub, ch), 0);
    one[0] = ch;
    ret = store_commit(f->s, one, 1);
    meetup_change_free(ch);
    return ret;
}

static uint64_t create_event(struct fx *f, const char *name, int64_t created,
                             enum meetup_scope_kind scope)
{
    struct meetup_request req = { .op = MEETUP_OP_EVENT_CREATE };

    req.event.name = name;
    req.event.table_size = 3;
    req.event.rounds_planned = 4;
    aff_weights_default(&req.event.weights);
    req.event.weights.business = 2.5;
    req.event.seed = UINT64_MAX - 5; /* exercises the sign bit */
    req.event.history.kind = scope;
    req.event.history.last_events = 2;
    req.event.created_unix = created;
    assert_int_equal(run(f, &req), 0);
    return meetup_event_count(f->hub);
}

static const char *const TAGS[] = { "Jazz", "Segeln", "Fußball", "Golf",
                                    "FUSSBALL", "Schach", "  Laufen " };
static const char *const BIZ[] = { "Webdesign", "Steuerberatung", "SEO",
                                   "Recht" };

static char ids[400][16];

static const char *pid(int k)
{
    snprintf(ids[k], sizeof(ids[k]), "p%d", k);
    return ids[k];
}

/* Upserts people first..first+n-1 with a few tags; every third has no
 * name and every fourth a company. */
static void add_people(struct fx *f, uint64_t ev, int first, int n)
{
    struct att_profile *p = calloc((size_t)n, sizeof(*p));
    struct meetup_request req = { .op = MEETUP_OP_UPSERT, .event_id = ev };
    int i;

    assert_non_null(p);
    for (i = 0; i < n; i++) {
        int k = first + i;

        p[i].id = pid(k);
        p[i].name = k % 3 ? ids[k] : NULL;
        p[i].company = k % 4 ? NULL : "B2BSoMe";
        p[i].industry = k % 5 ? "Marketing" : NULL;
        p[i].interests = &TAGS[k % 5];
        p[i].n_interests = (size_t)(k % 3);
        p[i].offers = &BIZ[k % 4];
        p[i].n_offers = 1;
        p[i].seeks = &BIZ[(k + 1) % 3];
        p[i].n_seeks = k % 2 ? 1 : 0;
    }
    req.profiles = p;
    req.n_profiles = (size_t)n;
    assert_int_equal(run(f, &req), 0);
    free(p);
}

static int ids_op(struct fx *f, uint64_t ev, enum meetup_op op, int first,
                  int n)
{
    const char *list[400];
    struct meetup_request req = { .op = op, .event_id = ev };
    int i;

    for (i = 0; i < n; i++)
        list[i] = pid(first + i);
    req.ids = list;
    req.n_ids = (size_t)n;
    return run(f, &req);
}

static void add_pair(struct fx *f, uint64_t ev, enum meetup_pair_kind kind,
                     int a, int b)
{
    struct meetup_request req = { .op = MEETUP_OP_PAIRS_ADD, .event_id = ev };
    struct meetup_pair p;
    char ba[16], bb[16];

    snprintf(ba, sizeof(ba), "p%d", a);
    snprintf(bb, sizeof(bb), "p%d", b);
    p.a = ba;
    p.b = bb;
    req.pair_kind = kind;
    req.pairs = &p;
    req.n_pairs = 1;
    assert_int_equal(run(f, &req), 0);
}

static void next_round(struct fx *f, uint64_t ev, int64_t now)
{
    struct meetup_request req = { .op = MEETUP_OP_NEXT_ROUND, .event_id = ev,
                                  .now_unix = now };

    assert_int_equal(run(f, &req), 0);
}

static void forget(struct fx *f, const char *id)
{
    struct meetup_request req = { .op = MEETUP_OP_FORGET };

    req.ids = &id;
    req.n_ids = 1;
    assert_int_equal(run(f, &req), 0);
}

static void op_simple(struct fx *f, enum meetup_op op, uint64_t ev)
{
    struct meetup_request req = { .op = op, .event_id = ev };

    assert_int_equal(run(f, &req), 0);
}

/* ---- comparing two hubs through the public queries ---- */

static void assert_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_tags_eq(const char *const *a, size_t na,
                           const char *const *b, size_t nb)
{
    size_t i;

    assert_int_equal(na, nb);
    for (i = 0; i < na; i++)
        assert_string_equal(a[i], b[i]);
}

static void assert_pairs_eq(const struct meetup_pair *a, size_t na,
                            const struct meetup_pair *b, size_t nb)
{
    size_t i;

    assert_int_equal(na, nb);
    for (i = 0; i < na; i++) {
        assert_string_equal(a[i].a, b[i].a);
        assert_string_equal(a[i].b, b[i].b);
    }
}

static void assert_info_eq(const struct meetup_event_info *x,
                           const struct meetup_event_info *y)
{
    assert_int_equal(x->event_id, y->event_id);
    assert_string_equal(x->def.name, y->def.name);
    assert_int_equal(x->def.table_size, y->def.table_size);
    assert_int_equal(x->def.rounds_planned, y->def.rounds_planned);
    assert_true(x->def.weights.interests == y->def.weights.interests);
    assert_true(x->def.weights.business == y->def.weights.business);
    assert_true(x->def.weights.same_company == y->def.weights.same_company);
    assert_int_equal(x->def.seed, y->def.seed);
    assert_int_equal(x->def.history.kind, y->def.history.kind);
    assert_int_equal(x->def.history.last_events, y->def.history.last_events);
    assert_int_equal(x->def.history.since_unix, y->def.history.since_unix);
    assert_int_equal(x->def.created_unix, y->def.created_unix);
    assert_int_equal(x->rounds_done, y->rounds_done);
    assert_int_equal(x->closed, y->closed);
    assert_int_equal(x->attendees, y->attendees);
    assert_int_equal(x->present, y->present);
}

static void assert_schedule_eq(struct meetup *a, struct meetup *b,
                               uint64_t ev)
{
    struct meetup_schedule *x, *y;
    uint32_t r, t, i;

    assert_int_equal(meetup_schedule_get(a, ev, 1, &x), 0);
    assert_int_equal(meetup_schedule_get(b, ev, 1, &y), 0);
    assert_string_equal(x->name, y->name);
    assert_int_equal(x->n_rounds, y->n_rounds);
    assert_int_equal(x->attendees, y->attendees);
    assert_int_equal(x->repeat_pairs, y->repeat_pairs);
    assert_int_equal(x->repeat_lower_bound, y->repeat_lower_bound);
    assert_true(x->affinity_total == y->affinity_total);
    assert_true(x->min_attendee_affinity == y->min_attendee_affinity);
    for (r = 0; r < x->n_rounds; r++) {
        const struct meetup_round_view *rx = &x->rounds[r], *ry = &y->rounds[r];

        assert_int_equal(rx->round, ry->round);
        assert_int_equal(rx->attendees, ry->attendees);
        assert_int_equal(rx->n_tables, ry->n_tables);
        assert_int_equal(rx->repeat_pairs, ry->repeat_pairs);
        assert_int_equal(rx->repeat_lower_bound, ry->repeat_lower_bound);
        assert_true(rx->affinity_total == ry->affinity_total);
        for (t = 0; t < rx->n_tables; t++) {
            const struct meetup_table_view *tx = &rx->tables[t];
            const struct meetup_table_view *ty = &ry->tables[t];

            assert_int_equal(tx->n, ty->n);
            assert_true(tx->score == ty->score);
            assert_str_eq(tx->why, ty->why);
            for (i = 0; i < tx->n; i++) {
                assert_string_equal(tx->ids[i], ty->ids[i]);
                assert_string_equal(tx->names[i], ty->names[i]);
            }
        }
    }
    meetup_schedule_free(x);
    meetup_schedule_free(y);
}

static void assert_attendees_eq(struct meetup *a, struct meetup *b,
                                uint64_t ev)
{
    struct meetup_attendee_list *x, *y;
    size_t i;

    assert_int_equal(meetup_attendees_get(a, ev, &x), 0);
    assert_int_equal(meetup_attendees_get(b, ev, &y), 0);
    assert_int_equal(x->n_profiles, y->n_profiles);
    for (i = 0; i < x->n_profiles; i++) {
        const struct att_profile *p = &x->profiles[i], *q = &y->profiles[i];

        assert_string_equal(p->id, q->id);
        assert_str_eq(p->name, q->name);
        assert_str_eq(p->company, q->company);
        assert_str_eq(p->industry, q->industry);
        assert_tags_eq(p->interests, p->n_interests, q->interests,
                       q->n_interests);
        assert_tags_eq(p->offers, p->n_offers, q->offers, q->n_offers);
        assert_tags_eq(p->seeks, p->n_seeks, q->seeks, q->n_seeks);
    }
    assert_pairs_eq(x->met_before, x->n_met_before, y->met_before,
                    y->n_met_before);
    assert_pairs_eq(x->avoid, x->n_avoid, y->avoid, y->n_avoid);
    assert_tags_eq(x->present, x->n_present, y->present, y->n_present);
    meetup_attendee_list_free(x);
    meetup_attendee_list_free(y);
}

/* Explanations of pairs among the first live attendees: tag display
 * spellings and their order come from the event's vocabulary. */
static void assert_explain_eq(struct meetup *a, struct meetup *b,
                              uint64_t ev)
{
    struct meetup_attendee_list *l;
    size_t i, j, n;

    assert_int_equal(meetup_attendees_get(a, ev, &l), 0);
    n = l->n_profiles < 8 ? l->n_profiles : 8;
    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++) {
            struct meetup_explain *x, *y;

            assert_int_equal(meetup_explain_get(a, ev, l->profiles[i].id,
                                                l->profiles[j].id, &x), 0);
            assert_int_equal(meetup_explain_get(b, ev, l->profiles[i].id,
                                                l->profiles[j].id, &y), 0);
            assert_string_equal(x->why, y->why);
            assert_true(x->parts.total == y->parts.total);
            assert_tags_eq(x->shared_interests, x->n_shared_interests,
                           y->shared_interests, y->n_shared_interests);
            assert_tags_eq(x->a_offers_b_seeks, x->n_a_offers_b_seeks,
                           y->a_offers_b_seeks, y->n_a_offers_b_seeks);
            assert_int_equal(x->met_before, y->met_before);
            assert_int_equal(x->avoid, y->avoid);
            assert_int_equal(x->times_met, y->times_met);
            meetup_explain_free(x);
            meetup_explain_free(y);
        }
    }
    meetup_attendee_list_free(l);
}

static void assert_history_eq(struct meetup *a, struct meetup *b)
{
    struct meetup_encounter x[64], y[64];
    uint64_t after = 0;
    bool more_x = true, more_y;

    assert_int_equal(meetup_encounter_count(a), meetup_encounter_count(b));
    while (more_x) {
        size_t nx = meetup_history(a, after, x, 64, &more_x);
        size_t ny = meetup_history(b, after, y, 64, &more_y);
        size_t i;

        assert_int_equal(nx, ny);
        assert_int_equal(more_x, more_y);
        for (i = 0; i < nx; i++) {
            assert_int_equal(x[i].seq, y[i].seq);
            assert_string_equal(x[i].a, y[i].a);
            assert_string_equal(x[i].b, y[i].b);
            assert_int_equal(x[i].event_id, y[i].event_id);
            assert_int_equal(x[i].round, y[i].round);
            assert_int_equal(x[i].at_unix, y[i].at_unix);
            after = x[i].seq;
        }
    }
}

static void assert_hubs_eq(struct meetup *a, struct meetup *b)
{
    struct meetup_stats sx, sy;
    size_t i;

    assert_int_equal(meetup_event_count(a), meetup_event_count(b));
    for (i = 0; i < meetup_event_count(a); i++) {
        struct meetup_event_info x, y;

        meetup_event_info_at(a, i, &x);
        meetup_event_info_at(b, i, &y);
        assert_info_eq(&x, &y);
        assert_schedule_eq(a, b, x.event_id);
        assert_attendees_eq(a, b, x.event_id);
        assert_explain_eq(a, b, x.event_id);
        assert_int_equal(meetup_stats_get(a, x.event_id, &sx), 0);
        assert_int_equal(meetup_stats_get(b, x.event_id, &sy), 0);
        assert_int_equal(sx.encounters, sy.encounters);
        assert_int_equal(sx.repeat_pairs, sy.repeat_pairs);
    }
    assert_history_eq(a, b);
}

/* Closes and reopens the store, loads a fresh hub, checks it equals the
 * live one, and keeps the loaded hub as the live one. */
static void restart(struct fx *f)
{
    char err[STORE_ERR_BYTES];
    struct meetup *loaded = meetup_new();

    assert_non_null(loaded);
    store_close(f->s);
    assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), 0);
    assert_int_equal(store_load(f->s, loaded), 0);
    assert_hubs_eq(f->hub, loaded);
    meetup_free(f->hub);
    f->hub = loaded;
}

/* Two events with interleaved rounds, pairs, removals, profile updates,
 * a forgotten person whose id comes back, and a closed event. */
static void build_scenario(struct fx *f)
{
    uint64_t e1, e2;
    struct att_profile upd = { .id = "p3", .name = "Neu", .company = "X" };

    e1 = create_event(f, "Hamburg März", 1700000000, MEETUP_SCOPE_ALL);
    e2 = create_event(f, "Kiel", 1700100000, MEETUP_SCOPE_LAST_EVENTS);
    add_people(f, e2, 20, 4);          /* persons registered before e1's */
    add_people(f, e1, 0, 12);
    add_people(f, e1, 20, 2);          /* returning people */
    add_pair(f, e1, MEETUP_PAIR_MET_BEFORE, 0, 1);
    add_pair(f, e1, MEETUP_PAIR_AVOID, 2, 3);
    add_pair(f, e1, MEETUP_PAIR_AVOID, 4, 5);
    add_pair(f, e1, MEETUP_PAIR_MET_BEFORE, 6, 20);
    assert_int_equal(ids_op(f, e1, MEETUP_OP_CHECK_IN, 0, 12), 0);
    assert_int_equal(ids_op(f, e1, MEETUP_OP_CHECK_IN, 20, 2), 0);
    next_round(f, e1, 1700000100);
    assert_int_equal(ids_op(f, e1, MEETUP_OP_CHECK_OUT, 9, 1), 0);
    assert_int_equal(ids_op(f, e1, MEETUP_OP_REMOVE, 10, 1), 0);
    {
        struct meetup_request req = { .op = MEETUP_OP_UPSERT,
                                      .event_id = e1, .profiles = &upd,
                                      .n_profiles = 1 };

        assert_int_equal(run(f, &req), 0);
    }
    next_round(f, e1, 1700000200);
    assert_int_equal(ids_op(f, e2, MEETUP_OP_CHECK_IN, 20, 4), 0);
    next_round(f, e2, 1700100100);     /* encounters interleave */
    next_round(f, e1, 1700000300);
    forget(f, "p21");
    forget(f, "p22");                  /* the first to spell Fußball in e2 */
    add_people(f, e1, 22, 1);          /* a new person with an old id */
    add_people(f, e2, 24, 1);
    add_people(f, e2, 30, 3);
    assert_int_equal(ids_op(f, e2, MEETUP_OP_CHECK_IN, 30, 3), 0);
    assert_int_equal(ids_op(f, e2, MEETUP_OP_CHECK_IN, 24, 1), 0);
    next_round(f, e2, 1700100200);
    op_simple(f, MEETUP_OP_EVENT_CLOSE, e1);
}

/* Profile changes that drop the first spelling of a tag, and a forgotten
 * company: display spellings and tag order survive a restart. */
static void test_restart_vocabulary(void **state)
{
    static const char *const first[] = { "Fußball", "Jazz", "Segeln" };
    static const char *const second[] = { "FUSSBALL", "Golf", "jazz" };
    static const char *const third[] = { "golf", "SEGELN", "fussball" };
    static const char *const later[] = { "Golf" };
    struct fx *f = *state;
    struct att_profile p[4] = {
        { .id = "a", .company = "  Acme  ", .interests = first,
          .n_interests = 3 },
        { .id = "b", .company = "ACME", .interests = second,
          .n_interests = 3 },
        { .id = "c", .company = "Geheim GmbH", .interests = third,
          .n_interests = 3 },
        { .id = "d", .company = " ", .interests = third, .n_interests = 2 },
    };
    struct meetup_request req = { .op = MEETUP_OP_UPSERT, .n_profiles = 4,
                                  .profiles = p };
    uint64_t ev = create_event(f, "Vokabeln", 1700000000, MEETUP_SCOPE_ALL);

    req.event_id = ev;
    assert_int_equal(run(f, &req), 0);
    p[0].interests = later;
    p[0].n_interests = 1;
    p[0].company = "acme";
    req.n_profiles = 1;
    assert_int_equal(run(f, &req), 0);
    {
        static const char *const here[] = { "a", "b", "c", "d" };
        struct meetup_request ci = { .op = MEETUP_OP_CHECK_IN,
                                     .event_id = ev, .ids = here,
                                     .n_ids = 4 };

        assert_int_equal(run(f, &ci), 0);
    }
    next_round(f, ev, 1700000100);
    forget(f, "c");
    restart(f);
    restart(f);
}

static void test_restart_equal(void **state)
{
    struct fx *f = *state;
    struct meetup_schedule *s;
    struct meetup_event_info info;
    uint64_t e3;

    build_scenario(f);
    restart(f);
    /* The restarted hub goes on: a third event counts earlier meetings,
     * and a second restart still agrees. */
    e3 = create_event(f, "Lübeck", 1700200000, MEETUP_SCOPE_ALL);
    add_people(f, e3, 0, 9);
    assert_int_equal(ids_op(f, e3, MEETUP_OP_CHECK_IN, 0, 9), 0);
    next_round(f, e3, 1700200100);
    restart(f);
    next_round(f, e3, 1700200200);
    restart(f);
    assert_int_equal(meetup_event_info(f->hub, e3, &info), 0);
    assert_int_equal(info.rounds_done, 2);
    assert_int_equal(meetup_schedule_get(f->hub, e3, 1, &s), 0);
    assert_int_equal(s->n_rounds, 2);
    meetup_schedule_free(s);
}

/* A round planned before a restart and the next after it: no repeats. */
static void test_restart_mid_event(void **state)
{
    struct fx *f = *state;
    struct meetup_schedule *s;
    uint64_t ev = create_event(f, "Abend", 1700000000, MEETUP_SCOPE_ALL);
    int r;

    add_people(f, ev, 0, 27);
    assert_int_equal(ids_op(f, ev, MEETUP_OP_CHECK_IN, 0, 27), 0);
    for (r = 0; r < 4; r++) {
        next_round(f, ev, 1700000100 + r);
        restart(f);
    }
    assert_int_equal(meetup_schedule_get(f->hub, ev, 1, &s), 0);
    assert_int_equal(s->n_rounds, 4);
    assert_int_equal(s->repeat_pairs, 0);
    meetup_schedule_free(s);
}

static sqlite3 *raw_open(const struct fx *f)
{
    char p[PATH_BYTES];
    sqlite3 *db;

    path_in(f, "mingle.db", p);
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    return db;
}

static int64_t raw_int(sqlite3 *db, const char *sql, const char *arg)
{
    sqlite3_stmt *st;
    int64_t v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (arg != NULL)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Whether the file holds the bytes of `s`. */
static bool file_has(const char *path, const char *s)
{
    FILE *fp = fopen(path, "rb");
    size_t len = strlen(s), n = 0, cap = 0, i;
    char *buf = NULL;
    bool found = false;

    if (fp == NULL)
        return false;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        i = fread(buf + n, 1, cap - n, fp);
        if (i == 0)
            break;
        n += i;
    }
    fclose(fp);
    for (i = 0; i + len <= n && !found; i++)
        found = memcmp(buf + i, s, len) == 0;
    free(buf);
    return found;
}

static void test_forget_anonymizes(void **state)
{
    struct fx *f = *state;
    struct meetup_encounter enc[256];
    char p[PATH_BYTES], err[STORE_ERR_BYTES];
    uint64_t ev = create_event(f, "Abend", 1700000000, MEETUP_SCOPE_ALL);
    bool more, token_seen = false;
    size_t n, i;
    sqlite3 *db;
    struct att_profile secret = { .id = "zz-secret-id",
                                  .name = "Zacharias Geheim",
                                  .company = "Geheim GmbH" };
    struct meetup_request req = { .op = MEETUP_OP_UPSERT, .event_id = ev,
                                  .profiles = &secret, .n_profiles = 1 };

    add_people(f, ev, 0, 5);
    assert_int_equal(run(f, &req), 0);
    assert_int_equal(ids_op(f, ev, MEETUP_OP_CHECK_IN, 0, 5), 0);
    {
        const char *id = "zz-secret-id";
        struct meetup_request ci = { .op = MEETUP_OP_CHECK_IN,
                                     .event_id = ev, .ids = &id,
                                     .n_ids = 1 };
        struct meetup_pair pair = { "zz-secret-id", "p0" };
        struct meetup_request pr = { .op = MEETUP_OP_PAIRS_ADD,
                                     .event_id = ev, .pairs = &pair,
                                     .n_pairs = 1,
                                     .pair_kind = MEETUP_PAIR_AVOID };

        assert_int_equal(run(f, &ci), 0);
        assert_int_equal(run(f, &pr), 0);
    }
    next_round(f, ev, 1700000100);
    forget(f, "zz-secret-id");

    db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM people WHERE id = ?1",
                             "zz-secret-id"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM attendees WHERE "
                             "id = ?1 OR name = ?1 OR company = ?1",
                             "zz-secret-id"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM attendees WHERE "
                             "name = 'Zacharias Geheim'", NULL), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM presence", NULL), 5);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM pairs", NULL), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM people WHERE "
                             "forgotten = 1 AND id LIKE 'forgotten-%'",
                             NULL), 1);
    {
        /* Someone whose real id is the token: the replay must not mistake
         * them for the forgotten person. */
        sqlite3_stmt *st;
        static char token[32];
        struct att_profile twin = { .id = token, .name = "Zwilling" };
        struct meetup_request up = { .op = MEETUP_OP_UPSERT, .event_id = ev,
                                     .profiles = &twin, .n_profiles = 1 };

        assert_int_equal(sqlite3_prepare_v2(db, "SELECT id FROM people "
                                            "WHERE forgotten = 1", -1, &st,
                                            NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        snprintf(token, sizeof(token), "%s", sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        assert_int_equal(run(f, &up), 0);
    }
    sqlite3_close(db);
    restart(f);
    /* Nothing of the person stays in the bytes once the log is folded in. */
    store_close(f->s);
    f->s = NULL;
    path_in(f, "mingle.db", p);
    assert_false(file_has(p, "zz-secret-id"));
    assert_false(file_has(p, "Zacharias Geheim"));
    assert_false(file_has(p, "Geheim GmbH"));
    assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), 0);
    restart(f);
    n = meetup_history(f->hub, 0, enc, 256, &more);
    assert_true(n > 0);
    for (i = 0; i < n; i++) {
        assert_string_not_equal(enc[i].a, "zz-secret-id");
        assert_string_not_equal(enc[i].b, "zz-secret-id");
        token_seen |= strncmp(enc[i].a, "forgotten-", 10) == 0 ||
                      strncmp(enc[i].b, "forgotten-", 10) == 0;
    }
    assert_true(token_seen);
}

/* A reader holding a snapshot of the log: the forget commits without
 * waiting for it, the store says the log is still pending, and a retry
 * once the reader let go folds the person out of the data dir. */
static void test_forget_with_reader_retries(void **state)
{
    struct fx *f = *state;
    char wal[PATH_BYTES];
    uint64_t ev = create_event(f, "Abend", 1700000000, MEETUP_SCOPE_ALL);
    struct att_profile secret = { .id = "zz-held", .name = "Hilde Gehalten" };
    struct meetup_request req = { .op = MEETUP_OP_UPSERT, .event_id = ev,
                                  .profiles = &secret, .n_profiles = 1 };
    sqlite3 *reader;

    add_people(f, ev, 0, 5);
    assert_int_equal(run(f, &req), 0);
    path_in(f, "mingle.db-wal", wal);
    assert_true(file_has(wal, "Hilde Gehalten"));
    reader = raw_open(f);
    assert_int_equal(sqlite3_exec(reader, "BEGIN", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_true(raw_int(reader, "SELECT count(*) FROM attendees", NULL) > 0);

    forget(f, "zz-held");
    assert_true(store_log_pending(f->s));
    assert_int_equal(store_log_retry(f->s), -EBUSY);
    assert_true(file_has(wal, "Hilde Gehalten"));

    assert_int_equal(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(reader);
    assert_int_equal(store_log_retry(f->s), 0);
    assert_false(store_log_pending(f->s));
    assert_false(file_has(wal, "Hilde Gehalten"));
    assert_int_equal(store_log_retry(f->s), 0);
}

/* A tampered row with more vocabulary words than a profile can carry
 * fails the forget instead of overrunning its scratch space. */
static void test_forget_damaged_row(void **state)
{
    enum { WORDS = 4 * ATT_TAGS_MAX };
    struct fx *f = *state;
    char err[STORE_ERR_BYTES], word[16], *joined, *at;
    uint64_t ev = create_event(f, "Abend", 1700000000, MEETUP_SCOPE_ALL);
    const char *id = "p0";
    struct meetup_request req = { .op = MEETUP_OP_FORGET, .ids = &id,
                                  .n_ids = 1 };
    struct meetup_change *ch;
    const struct meetup_change *one[1];
    sqlite3_stmt *st;
    int64_t pos;
    sqlite3 *db;
    int k;

    add_people(f, ev, 0, 2);
    joined = malloc(WORDS * 8);
    assert_non_null(joined);
    db = raw_open(f);
    pos = raw_int(db, "SELECT count(*) FROM vocab", NULL);
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO vocab (event, pos,"
                                        " spelling) VALUES (?1, ?2, ?3)", -1,
                                        &st, NULL), SQLITE_OK);
    for (k = 0, at = joined; k < WORDS; k++) {
        snprintf(word, sizeof(word), "w%d", k);
        at += sprintf(at, "%s%s", k > 0 ? "\x1f" : "", word);
        sqlite3_bind_int64(st, 1, (int64_t)ev);
        sqlite3_bind_int64(st, 2, pos + k);
        sqlite3_bind_text(st, 3, word, -1, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE attendees SET interests"
                                        " = ?1 WHERE id = 'p0'", -1, &st,
                                        NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, joined, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    free(joined);
    /* Reopen so that the store's vocabulary index holds the new words. */
    store_close(f->s);
    assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), 0);

    assert_int_equal(meetup_prepare(f->hub, &req, &ch), 0);
    assert_int_equal(meetup_apply(f->hub, ch), 0);
    one[0] = ch;
    assert_int_equal(store_commit(f->s, one, 1), -EBADMSG);
    assert_non_null(strstr(store_error(f->s), "damaged"));
    meetup_change_free(ch);
}

static void test_lock(void **state)
{
    struct fx *f = *state;
    char err[STORE_ERR_BYTES], want[64];
    struct store *second = (void *)1;
    struct stat st;
    pid_t child;
    int status;

    assert_int_equal(stat(f->dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* flock locks belong to open file descriptions: a second open in this
     * process conflicts just as another process does. */
    assert_int_equal(store_open(f->dir, &second, err, sizeof(err)), -EBUSY);
    assert_null(second);
    snprintf(want, sizeof(want), "(pid %ld)", (long)getpid());
    assert_non_null(strstr(err, "is in use by another mingled"));
    assert_non_null(strstr(err, want));
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int ret = store_open(f->dir, &second, err, sizeof(err));

        _exit(ret == -EBUSY ? 0 : 1);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), 0);
    store_close(NULL);
}

static void test_schema_version(void **state)
{
    struct fx *f = *state;
    char err[STORE_ERR_BYTES], p[PATH_BYTES];
    struct store *s;
    sqlite3 *db;

    db = raw_open(f);
    assert_int_equal(raw_int(db, "PRAGMA user_version", NULL),
                     STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(db, "PRAGMA journal_mode", NULL), 0);
    sqlite3_close(db);
    store_close(f->s);
    f->s = NULL;
    db = raw_open(f);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL,
                                  NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(f->dir, &s, err, sizeof(err)), -EPROTO);
    assert_null(s);
    assert_non_null(strstr(err, "newer"));
    assert_int_equal(store_open_readonly(f->dir, &s, err, sizeof(err)),
                     -EPROTO);
    path_in(f, "mingle.db", p);
    db = raw_open(f);
    assert_int_equal(raw_int(db, "PRAGMA user_version", NULL), 99);
    sqlite3_close(db);
}

/* Someone else's SQLite database in the data dir is not ours to migrate. */
static void test_foreign_database(void **state)
{
    struct fx *f = *state;
    char err[STORE_ERR_BYTES];
    struct store *s;
    sqlite3 *db;

    /* A hub to load into must be empty. */
    assert_int_equal(store_load(f->s, f->hub), 0);
    create_event(f, "Abend", 1700000000, MEETUP_SCOPE_ALL);
    assert_int_equal(store_load(f->s, f->hub), -EINVAL);
    store_close(f->s);
    f->s = NULL;
    db = raw_open(f);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 0;"
                                  "CREATE TABLE invoices (id INTEGER)", NULL,
                                  NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(f->dir, &s, err, sizeof(err)), -EBADMSG);
    assert_non_null(strstr(err, "no mingle schema"));
    db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM invoices", NULL), 0);
    sqlite3_close(db);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    struct stat st;
    char *buf;

    assert_non_null(fp);
    assert_int_equal(fstat(fileno(fp), &st), 0);
    buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    *len = fread(buf, 1, (size_t)st.st_size, fp);
    assert_int_equal(*len, (size_t)st.st_size);
    fclose(fp);
    return buf;
}

static void expect_refused(struct fx *f, const char *path)
{
    char err[STORE_ERR_BYTES], wal[PATH_BYTES];
    struct stat st;
    struct store *s;
    size_t before_len, after_len;
    char *before = slurp(path, &before_len), *after;

    assert_int_equal(store_open(f->dir, &s, err, sizeof(err)), -EBADMSG);
    assert_null(s);
    assert_non_null(strstr(err, "mingle.db"));
    assert_non_null(strstr(err, "refusing"));
    assert_int_equal(store_open_readonly(f->dir, &s, err, sizeof(err)),
                     -EBADMSG);
    after = slurp(path, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    /* SQLite may create an empty log to read a WAL database; nothing is
     * written to it. */
    path_in(f, "mingle.db-wal", wal);
    if (stat(wal, &st) == 0)
        assert_int_equal(st.st_size, 0);
    free(before);
    free(after);
}

static void test_corrupt_file(void **state)
{
    struct fx *f = *state;
    char p[PATH_BYTES];
    FILE *fp;
    int i;

    store_close(f->s);
    f->s = NULL;
    path_in(f, "mingle.db", p);
    fp = fopen(p, "wb");
    assert_non_null(fp);
    for (i = 0; i < 300; i++)
        fputs("this is not a database at all; ", fp);
    fclose(fp);
    expect_refused(f, p);
}

static void test_corrupt_pages(void **state)
{
    struct fx *f = *state;
    char p[PATH_BYTES], err[STORE_ERR_BYTES];
    uint64_t ev = create_event(f, "Abend", 1700000000, MEETUP_SCOPE_ALL);
    FILE *fp;
    long size;
    int i;

    add_people(f, ev, 0, 300);
    store_close(f->s);
    f->s = NULL;
    path_in(f, "mingle.db", p);
    fp = fopen(p, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    size = ftell(fp);
    assert_true(size > 8 * 4096);
    /* Scribble over the interior of the b-tree pages past the schema. */
    for (i = 2; i * 4096L < size; i++) {
        assert_int_equal(fseek(fp, i * 4096L + 8, SEEK_SET), 0);
        fputs("\xff\xff\xff\xff garbage garbage", fp);
    }
    fclose(fp);
    expect_refused(f, p);
    (void)err;
}

/* Above 32 MiB the check once stopped at the schema: a zeroed page of the
 * encounters or of an index went unnoticed until a later query.  Every
 * page counts at any size. */
static void test_corrupt_big(void **state)
{
    static const char *const victims[] = { "encounters",
                                           "sqlite_autoindex_pairs_1",
                                           "attendees_seq" };
    struct fx *f = *state;
    char p[PATH_BYTES], *saved, *zero;
    uint64_t ev = create_event(f, "Abend", 1700000000, MEETUP_SCOPE_ALL);
    int64_t page_size, root;
    sqlite3 *db;
    FILE *fp;
    size_t i;

    add_people(f, ev, 0, 30);
    assert_int_equal(ids_op(f, ev, MEETUP_OP_CHECK_IN, 0, 30), 0);
    next_round(f, ev, 1700000100);
    store_close(f->s);
    f->s = NULL;
    /* Bulk no event would bring as fast: a table the store never reads. */
    db = raw_open(f);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE bulk (b BLOB);"
                                  "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL"
                                  " SELECT i + 1 FROM c WHERE i < 40)"
                                  " INSERT INTO bulk SELECT zeroblob(1048576)"
                                  " FROM c", NULL, NULL, NULL), SQLITE_OK);
    page_size = raw_int(db, "PRAGMA page_size", NULL);
    assert_true(raw_int(db, "PRAGMA page_count", NULL) * page_size >
                (40LL << 20));
    sqlite3_close(db);
    saved = malloc((size_t)page_size);
    zero = calloc(1, (size_t)page_size);
    assert_non_null(saved);
    assert_non_null(zero);
    path_in(f, "mingle.db", p);
    for (i = 0; i < sizeof(victims) / sizeof(victims[0]); i++) {
        db = raw_open(f);
        root = raw_int(db, "SELECT rootpage FROM sqlite_schema WHERE "
                       "name = ?1", victims[i]);
        sqlite3_close(db);
        assert_true(root > 1);
        fp = fopen(p, "r+b");
        assert_non_null(fp);
        assert_int_equal(fseek(fp, (root - 1) * page_size, SEEK_SET), 0);
        assert_int_equal(fread(saved, 1, (size_t)page_size, fp),
                         (size_t)page_size);
        assert_int_equal(fseek(fp, (root - 1) * page_size, SEEK_SET), 0);
        assert_int_equal(fwrite(zero, 1, (size_t)page_size, fp),
                         (size_t)page_size);
        fclose(fp);
        expect_refused(f, p);
        fp = fopen(p, "r+b");
        assert_non_null(fp);
        assert_int_equal(fseek(fp, (root - 1) * page_size, SEEK_SET), 0);
        assert_int_equal(fwrite(saved, 1, (size_t)page_size, fp),
                         (size_t)page_size);
        fclose(fp);
    }
    free(saved);
    free(zero);
}

/* An empty mingle.db is a lost database, not a new one; a new data dir
 * has none, and a first start that was killed leaves none either. */
static void test_empty_file(void **state)
{
    struct fx *f = *state;
    char p[PATH_BYTES], err[STORE_ERR_BYTES];
    struct store *s = NULL;
    struct stat st;
    FILE *fp;

    create_event(f, "Abend", 1700000000, MEETUP_SCOPE_ALL);
    store_close(f->s);
    f->s = NULL;
    path_in(f, "mingle.db", p);
    assert_int_equal(truncate(p, 0), 0);
    assert_int_equal(store_open(f->dir, &s, err, sizeof(err)), -EBADMSG);
    assert_null(s);
    assert_non_null(strstr(err, "mingle.db is empty: "));
    assert_int_equal(store_open_readonly(f->dir, &s, err, sizeof(err)),
                     -EBADMSG);
    assert_non_null(strstr(err, "mingle.db is empty: "));
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, 0);

    /* A log without its database would be replayed into a new one. */
    assert_int_equal(unlink(p), 0);
    path_in(f, "mingle.db-wal", p);
    fp = fopen(p, "wb");
    assert_non_null(fp);
    fputs("frames of a lost database", fp);
    fclose(fp);
    assert_int_equal(store_open(f->dir, &s, err, sizeof(err)), -EBADMSG);
    assert_non_null(strstr(err, "mingle.db-wal"));
    assert_int_equal(unlink(p), 0);

    /* The leftovers of a first start killed while it built the schema. */
    path_in(f, "mingle.db.new", p);
    fp = fopen(p, "wb");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), 0);
    assert_int_equal(access(p, F_OK), -1);
    meetup_free(f->hub);
    f->hub = meetup_new();
    assert_non_null(f->hub);
    assert_int_equal(store_load(f->s, f->hub), 0);
    assert_int_equal(meetup_event_count(f->hub), 0);
}

static void test_group_commit(void **state)
{
    struct fx *f = *state;
    struct meetup_change *chs[200];
    const struct meetup_change *batch[200];
    struct att_profile p = {0};
    struct meetup_change bad = {0};
    char *bad_id = "nobody";
    char err[STORE_ERR_BYTES];
    struct meetup *loaded;
    uint64_t ev = create_event(f, "Abend", 1700000000, MEETUP_SCOPE_ALL);
    int i;

    for (i = 0; i < 200; i++) {
        struct meetup_request req = { .op = MEETUP_OP_UPSERT,
                                      .event_id = ev, .profiles = &p,
                                      .n_profiles = 1 };
        const char *id = pid(i);

        if (i % 2 == 0) {
            p.id = pid(i / 2);
            p.name = "Name";
        } else {
            req.op = MEETUP_OP_CHECK_IN;
            req.ids = &id;
            id = pid(i / 2);
            req.n_ids = 1;
        }
        assert_int_equal(meetup_prepare(f->hub, &req, &chs[i]), 0);
        assert_int_equal(meetup_apply(f->hub, chs[i]), 0);
        batch[i] = chs[i];
    }
    assert_int_equal(store_commit(f->s, batch, 200), 0);
    assert_int_equal(store_commit(f->s, batch, 0), 0);
    for (i = 0; i < 200; i++)
        meetup_change_free(chs[i]);
    restart(f);

    /* A batch with a change that does not fit is stored not at all, and
     * the store then refuses to go on. */
    p.id = "late";
    {
        struct meetup_request req = { .op = MEETUP_OP_UPSERT,
                                      .event_id = ev, .profiles = &p,
                                      .n_profiles = 1 };

        assert_int_equal(meetup_prepare(f->hub, &req, &chs[0]), 0);
    }
    bad.kind = MEETUP_CH_CHECK_IN;
    bad.event_id = ev;
    bad.ids = &bad_id;
    bad.n_ids = 1;
    batch[0] = chs[0];
    batch[1] = &bad;
    assert_int_equal(store_commit(f->s, batch, 2), -EINVAL);
    assert_non_null(strstr(store_error(f->s), "nobody"));
    assert_int_equal(store_commit(f->s, batch, 1), -EIO);
    meetup_change_free(chs[0]);
    store_close(f->s);
    assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), 0);
    loaded = meetup_new();
    assert_int_equal(store_load(f->s, loaded), 0);
    assert_hubs_eq(f->hub, loaded);
    meetup_free(loaded);
}

struct pairs_seen {
    int n;
    bool p0_p1;
    bool forgotten;
};

static int count_pair(const char *a, const char *b, void *ctx)
{
    struct pairs_seen *ps = ctx;

    ps->n++;
    ps->p0_p1 |= strcmp(a, "p0") == 0 && strcmp(b, "p1") == 0;
    ps->forgotten |= strncmp(a, "forgotten", 9) == 0 ||
                     strncmp(b, "forgotten", 9) == 0 ||
                     strcmp(a, "p2") == 0 || strcmp(b, "p2") == 0;
    return 0;
}

static int stop_early(const char *a, const char *b, void *ctx)
{
    (void)a;
    (void)b;
    (void)ctx;
    return 42;
}

static void test_history_pairs(void **state)
{
    struct fx *f = *state;
    struct meetup_scope scope = { .kind = MEETUP_SCOPE_ALL };
    struct pairs_seen all = {0}, last = {0}, since = {0}, none = {0};
    char err[STORE_ERR_BYTES], missing[PATH_BYTES];
    struct store *ro;
    uint64_t e1 = create_event(f, "Eins", 1700000000, MEETUP_SCOPE_ALL);
    uint64_t e2;

    add_people(f, e1, 0, 4);
    assert_int_equal(ids_op(f, e1, MEETUP_OP_CHECK_IN, 0, 4), 0);
    next_round(f, e1, 1700000100);
    e2 = create_event(f, "Zwei", 1700100000, MEETUP_SCOPE_ALL);
    add_people(f, e2, 10, 2);
    assert_int_equal(ids_op(f, e2, MEETUP_OP_CHECK_IN, 10, 2), 0);
    next_round(f, e2, 1700100100);
    forget(f, "p2");

    /* The daemon still holds the store: read-only opens beside it. */
    assert_int_equal(store_open_readonly(f->dir, &ro, err, sizeof(err)), 0);
    assert_int_equal(store_history_pairs(ro, &scope, count_pair, &all), 0);
    scope.kind = MEETUP_SCOPE_LAST_EVENTS;
    scope.last_events = 1;
    assert_int_equal(store_history_pairs(ro, &scope, count_pair, &last), 0);
    scope.kind = MEETUP_SCOPE_SINCE;
    scope.since_unix = 1700000000;
    assert_int_equal(store_history_pairs(ro, &scope, count_pair, &since), 0);
    scope.kind = MEETUP_SCOPE_NONE;
    assert_int_equal(store_history_pairs(ro, &scope, count_pair, &none), 0);
    scope.kind = MEETUP_SCOPE_ALL;
    assert_int_equal(store_history_pairs(ro, &scope, stop_early, NULL), 42);
    {
        const struct meetup_change *nothing[1] = { NULL };

        assert_int_equal(store_commit(ro, nothing, 1), -EROFS);
    }
    store_close(ro);

    /* Four people at tables of 3 sit 2 + 2: two pairs, one of them with
     * p2, who is forgotten; the second event adds p10-p11. */
    assert_int_equal(all.n, 2);
    assert_false(all.forgotten);
    assert_int_equal(last.n, 1); /* p10-p11 only */
    assert_int_equal(since.n, all.n);
    assert_int_equal(none.n, 0);

    /* Also with no daemon on the directory. */
    store_close(f->s);
    f->s = NULL;
    memset(&none, 0, sizeof(none));
    assert_int_equal(store_open_readonly(f->dir, &ro, err, sizeof(err)), 0);
    assert_int_equal(store_history_pairs(ro, &scope, count_pair, &none), 0);
    assert_int_equal(none.n, all.n);
    store_close(ro);

    snprintf(missing, sizeof(missing), "%.200s/nope", f->dir);
    assert_int_equal(store_open_readonly(missing, &ro, err, sizeof(err)),
                     -ENOENT);
    assert_null(ro);
    assert_int_not_equal(access(missing, F_OK), 0);
}

/* The child side of the kill test: continues the stored state, upserting
 * "k<n>" one per transaction and reporting each acknowledged n. */
static void kill_child(const char *dir, int fd)
{
    char err[STORE_ERR_BYTES], id[32];
    struct store *s;
    struct meetup *hub = meetup_new();
    struct meetup_event_info info;
    uint32_t k;

    if (hub == NULL || store_open(dir, &s, err, sizeof(err)) < 0 ||
        store_load(s, hub) < 0)
        _exit(2);
    if (meetup_event_count(hub) == 0) {
        struct meetup_request req = { .op = MEETUP_OP_EVENT_CREATE };
        struct meetup_change *ch;
        const struct meetup_change *one[1];

        req.event.name = "Kill";
        req.event.table_size = 4;
        req.event.rounds_planned = 2;
        if (meetup_prepare(hub, &req, &ch) < 0 || meetup_apply(hub, ch) < 0)
            _exit(3);
        one[0] = ch;
        if (store_commit(s, one, 1) < 0)
            _exit(3);
        meetup_change_free(ch);
    }
    meetup_event_info_at(hub, 0, &info);
    for (k = info.attendees;; k++) {
        struct att_profile p = { .id = id, .name = "Kill" };
        struct meetup_request req = { .op = MEETUP_OP_UPSERT,
                                      .event_id = 1, .profiles = &p,
                                      .n_profiles = 1 };
        struct meetup_change *ch;
        const struct meetup_change *one[1];

        snprintf(id, sizeof(id), "k%u", k);
        if (meetup_prepare(hub, &req, &ch) < 0 ||
            meetup_apply(hub, ch) < 0)
            _exit(4);
        one[0] = ch;
        if (store_commit(s, one, 1) < 0)
            _exit(5);
        meetup_change_free(ch);
        if (write(fd, &k, sizeof(k)) != sizeof(k))
            _exit(6);
    }
}

/* SIGKILL at random moments never loses an acknowledged upsert and never
 * keeps more than the one in flight. */
static void test_kill_cycles(void **state)
{
    struct fx *f = *state;
    char err[STORE_ERR_BYTES];
    uint32_t acked = 0, any = 0;
    int cycle;

    store_close(f->s);
    f->s = NULL;
    srand(12345);
    for (cycle = 0; cycle < 25; cycle++) {
        struct meetup_attendee_list *l;
        int fds[2], wait_acks = 1 + rand() % 60, got = 0, status;
        uint32_t k;
        pid_t child;
        ssize_t r;

        assert_int_equal(pipe(fds), 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
            close(fds[0]);
            kill_child(f->dir, fds[1]);
        }
        close(fds[1]);
        while (got < wait_acks &&
               (r = read(fds[0], &k, sizeof(k))) == sizeof(k)) {
            acked = k + 1;
            any = 1;
            got++;
        }
        usleep((useconds_t)(rand() % 3000));
        kill(child, SIGKILL);
        while (read(fds[0], &k, sizeof(k)) == sizeof(k))
            acked = k + 1;
        close(fds[0]);
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFSIGNALED(status));

        assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), 0);
        meetup_free(f->hub);
        f->hub = meetup_new();
        assert_int_equal(store_load(f->s, f->hub), 0);
        assert_int_equal(meetup_attendees_get(f->hub, 1, &l), 0);
        assert_true(l->n_profiles >= acked);
        assert_true(l->n_profiles <= acked + 1);
        for (k = 0; k < l->n_profiles; k++) {
            char want[32];

            snprintf(want, sizeof(want), "k%u", k);
            assert_string_equal(l->profiles[k].id, want);
        }
        acked = (uint32_t)l->n_profiles;
        meetup_attendee_list_free(l);
        store_close(f->s);
        f->s = NULL;
    }
    assert_true(any);
    assert_true(acked > 25);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_database, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_big, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_equal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_vocabulary, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restart_mid_event, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_forget_anonymizes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_forget_with_reader_retries,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget_damaged_row, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_pairs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_cycles, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
