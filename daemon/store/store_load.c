/* store_load.c -- replaying the tables into an empty hub.
 *
 * The hub is rebuilt through meetup_apply() alone, from changes made up
 * from the rows, so it ends up in the state the original changes built:
 *
 *   1. every event is created (creation touches nothing else);
 *   2. attendee rows (in the order they were first written) and rounds
 *      are merged by their global sequence number, so person numbers,
 *      roster indices and encounter numbers come out as they were; an
 *      event's first attendee first carries the stored vocabulary, so
 *      tag ids and display spellings do too;
 *   3. pairs in insertion order, removals, forgets, current presence,
 *      and closing.
 *
 * Presence and profiles need only their current values: a frozen round
 * carries its seating and does not look at who is present.  A forgotten
 * person's rows replay under a stand-in id that FORGET then turns into
 * the same token, since the stored rows no longer hold the real id.
 */
#include "store_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LD_BATCH 4096            /* profiles or ids per replayed change */
#define LD_CHUNK_BYTES (256 << 10)

struct ld_chunk {
    struct ld_chunk *next;
    size_t used;
    size_t cap;
    max_align_t data[];
};

/* What one replay pass holds: a batch of profiles or ids for one event,
 * and the strings they point to (sqlite3 column text dies at the next
 * step, so it is copied into chunks freed with the batch). */
struct ld {
    struct store *s;
    struct meetup *hub;
    struct ld_chunk *chunks;
    struct att_profile *profiles;
    char **ids;
    size_t n;
    uint64_t event;
    enum meetup_change_kind kind;
    enum meetup_pair_kind pair_kind;
    struct meetup_pair *pairs;
    uint32_t *next_idx;     /* per event: the roster index expected next */
    sqlite3_stmt *vocab;    /* an event's vocabulary in order */
    size_t n_events;
};

static void *ld_alloc(struct ld *l, size_t size)
{
    struct ld_chunk *c = l->chunks;
    size_t align = sizeof(max_align_t);

    size = (size + align - 1) / align * align;
    if (c == NULL || c->cap - c->used < size) {
        size_t cap = size > LD_CHUNK_BYTES ? size : LD_CHUNK_BYTES;

        c = malloc(sizeof(*c) + cap);
        if (c == NULL)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = l->chunks;
        l->chunks = c;
    }
    c->used += size;
    return (char *)c->data + c->used - size;
}

static void ld_reset(struct ld *l)
{
    while (l->chunks != NULL) {
        struct ld_chunk *next = l->chunks->next;

        free(l->chunks);
        l->chunks = next;
    }
    l->n = 0;
}

/* A copy of a text column, NULL for SQL NULL; *ok false on ENOMEM. */
static char *ld_text(struct ld *l, sqlite3_stmt *st, int col, bool *ok)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    size_t len = (size_t)sqlite3_column_bytes(st, col);
    char *p;

    if (t == NULL)
        return NULL;
    p = ld_alloc(l, len + 1);
    if (p == NULL) {
        *ok = false;
        return NULL;
    }
    memcpy(p, t, len + 1);
    return p;
}

/* Splits a joined tag column in place into a list. */
static const char *const *ld_tags(struct ld *l, char *joined, size_t *n,
                                  bool *ok)
{
    const char **v;
    size_t k = 1, i = 0;
    char *p;

    *n = 0;
    if (joined == NULL)
        return NULL;
    for (p = joined; *p != '\0'; p++)
        k += *p == STORE_TAG_SEP;
    v = ld_alloc(l, k * sizeof(*v));
    if (v == NULL) {
        *ok = false;
        return NULL;
    }
    v[i++] = joined;
    for (p = joined; *p != '\0'; p++) {
        if (*p == STORE_TAG_SEP) {
            *p = '\0';
            v[i++] = p + 1;
        }
    }
    *n = k;
    return v;
}

static int ld_apply(struct ld *l, const struct meetup_change *ch)
{
    int ret = meetup_apply(l->hub, ch);

    if (ret == -ENOMEM)
        return st_fail(l->s, ret, "out of memory");
    if (ret < 0)
        return st_fail(l->s, -EBADMSG, "the stored state does not replay "
                       "(change %d of event %llu)", (int)ch->kind,
                       (unsigned long long)ch->event_id);
    return 0;
}

/* Applies the pending batch, if any, and starts an empty one. */
static int ld_flush(struct ld *l)
{
    struct meetup_change ch = {0};
    int ret = 0;

    if (l->n > 0) {
        ch.kind = l->kind;
        ch.event_id = l->event;
        if (l->kind == MEETUP_CH_UPSERT) {
            ch.profiles = l->profiles;
            ch.n_profiles = l->n;
        } else if (l->kind == MEETUP_CH_PAIRS_ADD) {
            ch.pair_kind = l->pair_kind;
            ch.pairs = l->pairs;
            ch.n_pairs = l->n;
        } else {
            ch.ids = l->ids;
            ch.n_ids = l->n;
        }
        ret = ld_apply(l, &ch);
    }
    ld_reset(l);
    return ret;
}

/* Starts a batch of `kind` for `event` unless the pending one fits. */
static int ld_batch(struct ld *l, enum meetup_change_kind kind,
                    uint64_t event, enum meetup_pair_kind pair_kind)
{
    int ret;

    if (l->n > 0 && l->kind == kind && l->event == event &&
        l->pair_kind == pair_kind && l->n < LD_BATCH)
        return 0;
    ret = ld_flush(l);
    if (ret < 0)
        return ret;
    l->kind = kind;
    l->event = event;
    l->pair_kind = pair_kind;
    return 0;
}

static int ld_prepare(struct ld *l, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(l->s->db, sql, -1, st, NULL) != SQLITE_OK)
        return st_fail_db(l->s, "load");
    return 0;
}

/* Ends a pass over `st` whose last step returned `rc`: a step error is
 * reported as `what`, the pending batch is applied, and the batch and
 * the statement are freed whatever happened.  Returns `ret` when it is a
 * failure already, else 0 or the new failure. */
static int ld_end(struct ld *l, sqlite3_stmt *st, int ret, int rc,
                  const char *what)
{
    if (ret == 0 && rc != SQLITE_DONE)
        ret = st_fail_db(l->s, what);
    if (ret == 0)
        ret = ld_flush(l);
    ld_reset(l);
    sqlite3_finalize(st);
    return ret;
}

/* Runs `sql` and hands each row to `row` (with `ctx`) until one fails,
 * then ends the pass as ld_end() does. */
static int ld_each(struct ld *l, const char *sql, const char *what,
                   int (*row)(struct ld *l, sqlite3_stmt *st, void *ctx),
                   void *ctx)
{
    sqlite3_stmt *st = NULL;
    int rc = SQLITE_DONE, ret;

    ret = ld_prepare(l, sql, &st);
    while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        ret = row(l, st, ctx);
    return ld_end(l, st, ret, rc, what);
}

/* The stand-in id for a forgotten person, into buf: their token, with
 * '~' appended while a live person holds that id. */
static int ld_surrogate(struct ld *l, const unsigned char *utoken,
                        char buf[ATT_ID_MAX_BYTES + 1])
{
    const char *token = utoken != NULL ? (const char *)utoken : "";
    size_t len = strlen(token);
    int64_t taken;

    if (len == 0 || len > ATT_ID_MAX_BYTES)
        return st_fail(l->s, -EBADMSG, "bad token %s", token);
    memcpy(buf, token, len + 1);
    while (st_map_get(l->s->ids, 0, buf, &taken)) {
        if (len == ATT_ID_MAX_BYTES)
            return st_fail(l->s, -EBADMSG, "no stand-in id for %s", token);
        buf[len++] = '~';
        buf[len] = '\0';
    }
    return 0;
}

static char *ld_strdup(struct ld *l, const char *text, bool *ok)
{
    size_t len = strlen(text);
    char *p = ld_alloc(l, len + 1);

    if (p == NULL)
        *ok = false;
    else
        memcpy(p, text, len + 1);
    return p;
}

/* Interns the event's stored vocabulary in its order before anything
 * else: upserts of the event's first attendee (`id`) carrying the
 * spellings as tags, which that attendee's real profile then replaces. */
static int ld_vocab_seed(struct ld *l, uint64_t event, const char *id)
{
    const size_t per = 3 * ATT_TAGS_MAX;
    struct att_profile *p = NULL;
    const char **tags = NULL;
    size_t k = 0;
    bool ok = true;
    int rc, ret = 0;

    sqlite3_bind_int64(l->vocab, 1, (int64_t)event);
    while (ret == 0 && (rc = sqlite3_step(l->vocab)) == SQLITE_ROW) {
        if (p == NULL || k == per) {
            ret = ld_batch(l, MEETUP_CH_UPSERT, event,
                           MEETUP_PAIR_MET_BEFORE);
            if (ret < 0)
                break;
            p = &l->profiles[l->n++];
            memset(p, 0, sizeof(*p));
            p->id = ld_strdup(l, id, &ok);
            tags = ld_alloc(l, per * sizeof(*tags));
            ok &= tags != NULL;
            p->interests = tags;
            p->offers = tags + ATT_TAGS_MAX;
            p->seeks = tags + 2 * ATT_TAGS_MAX;
            k = 0;
        }
        if (!ok) {
            ret = st_fail(l->s, -ENOMEM, "out of memory");
            break;
        }
        tags[k++] = ld_text(l, l->vocab, 0, &ok);
        p->n_interests = k < ATT_TAGS_MAX ? k : ATT_TAGS_MAX;
        p->n_offers = k <= ATT_TAGS_MAX ? 0
                      : k < 2 * ATT_TAGS_MAX ? k - ATT_TAGS_MAX
                                             : ATT_TAGS_MAX;
        p->n_seeks = k <= 2 * ATT_TAGS_MAX ? 0 : k - 2 * ATT_TAGS_MAX;
    }
    sqlite3_reset(l->vocab);
    if (ret == 0 && !ok)
        ret = st_fail(l->s, -ENOMEM, "out of memory");
    if (ret == 0 && rc != SQLITE_DONE)
        ret = st_fail_db(l->s, "load vocabulary");
    return ret;
}

/* Events are numbered 1, 2, ... without gaps: l->n_events counts them,
 * and other rows use it to check their event. */
static int ld_event(struct ld *l, sqlite3_stmt *st, void *ctx)
{
    struct meetup_change ch = {0};
    struct meetup_event_def *d = &ch.event;

    (void)ctx;
    ch.kind = MEETUP_CH_EVENT_CREATE;
    ch.event_id = (uint64_t)sqlite3_column_int64(st, 0);
    if (ch.event_id != ++l->n_events)
        return st_fail(l->s, -EBADMSG, "event ids are not contiguous");
    d->name = (const char *)sqlite3_column_text(st, 1);
    d->table_size = (uint32_t)sqlite3_column_int64(st, 2);
    d->rounds_planned = (uint32_t)sqlite3_column_int64(st, 3);
    d->weights.interests = sqlite3_column_double(st, 4);
    d->weights.business = sqlite3_column_double(st, 5);
    d->weights.same_company = sqlite3_column_double(st, 6);
    d->seed = (uint64_t)sqlite3_column_int64(st, 7);
    d->history.kind = (enum meetup_scope_kind)sqlite3_column_int(st, 8);
    d->history.last_events = (uint32_t)sqlite3_column_int64(st, 9);
    d->history.since_unix = sqlite3_column_int64(st, 10);
    d->created_unix = sqlite3_column_int64(st, 11);
    if (d->name == NULL)
        return st_fail(l->s, -EBADMSG, "event without a name");
    return ld_apply(l, &ch);
}

/* Adds the current attendee row to the upsert batch. */
static int ld_attendee(struct ld *l, sqlite3_stmt *st)
{
    uint64_t event = (uint64_t)sqlite3_column_int64(st, 1);
    int64_t idx = sqlite3_column_int64(st, 2);
    char surrogate[ATT_ID_MAX_BYTES + 1];
    struct att_profile *p;
    const char *id;
    bool ok = true;
    int ret = 0;

    if (event == 0 || event > l->n_events || idx != l->next_idx[event - 1])
        return st_fail(l->s, -EBADMSG, "attendee rows of event %llu are "
                       "out of order", (unsigned long long)event);
    l->next_idx[event - 1]++;
    if (sqlite3_column_type(st, 3) == SQLITE_NULL) {
        ret = ld_surrogate(l, sqlite3_column_text(st, 5), surrogate);
        id = surrogate;
    } else {
        id = (const char *)sqlite3_column_text(st, 3);
    }
    if (ret == 0 && idx == 0)
        ret = ld_vocab_seed(l, event, id);
    if (ret == 0)
        ret = ld_batch(l, MEETUP_CH_UPSERT, event, MEETUP_PAIR_MET_BEFORE);
    if (ret < 0)
        return ret;
    p = &l->profiles[l->n];
    memset(p, 0, sizeof(*p));
    p->id = ld_strdup(l, id, &ok);
    p->name = ld_text(l, st, 6, &ok);
    p->company = ld_text(l, st, 7, &ok);
    p->industry = ld_text(l, st, 8, &ok);
    p->interests = ld_tags(l, ld_text(l, st, 9, &ok), &p->n_interests, &ok);
    p->offers = ld_tags(l, ld_text(l, st, 10, &ok), &p->n_offers, &ok);
    p->seeks = ld_tags(l, ld_text(l, st, 11, &ok), &p->n_seeks, &ok);
    if (!ok)
        return st_fail(l->s, -ENOMEM, "out of memory");
    l->n++;
    return 0;
}

static int ld_round(struct ld *l, sqlite3_stmt *st, sqlite3_stmt *seats)
{
    struct meetup_change ch = {0};
    struct meetup_round_rec *r = &ch.round;
    uint32_t i = 0;
    int rc, ret;

    ch.kind = MEETUP_CH_ROUND;
    ch.event_id = (uint64_t)sqlite3_column_int64(st, 1);
    r->round = (uint32_t)sqlite3_column_int64(st, 2);
    r->at_unix = sqlite3_column_int64(st, 3);
    r->n = (uint32_t)sqlite3_column_int64(st, 4);
    r->tables = (uint32_t)sqlite3_column_int64(st, 5);
    r->repeat_pairs = (uint64_t)sqlite3_column_int64(st, 6);
    r->repeat_lower_bound = (uint64_t)sqlite3_column_int64(st, 7);
    r->people = malloc(((size_t)r->n + 1) * sizeof(*r->people));
    r->table_of = malloc(((size_t)r->n + 1) * sizeof(*r->table_of));
    if (r->people == NULL || r->table_of == NULL) {
        ret = st_fail(l->s, -ENOMEM, "out of memory");
        goto out;
    }
    sqlite3_bind_int64(seats, 1, (int64_t)ch.event_id);
    sqlite3_bind_int64(seats, 2, r->round);
    while ((rc = sqlite3_step(seats)) == SQLITE_ROW && i < r->n) {
        r->people[i] = (uint32_t)sqlite3_column_int64(seats, 0);
        r->table_of[i++] = (uint32_t)sqlite3_column_int64(seats, 1);
    }
    sqlite3_reset(seats);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        ret = st_fail_db(l->s, "load seats");
    else if (i != r->n || rc == SQLITE_ROW)
        ret = st_fail(l->s, -EBADMSG, "round %u of event %llu: %u seats "
                      "stored, %u expected", r->round,
                      (unsigned long long)ch.event_id, i, r->n);
    else
        ret = ld_apply(l, &ch);
out:
    free(r->people);
    free(r->table_of);
    return ret;
}

/* Step 2: attendee rows and rounds merged by sequence number. */
static int ld_attendees_rounds(struct ld *l)
{
    sqlite3_stmt *att = NULL, *rnd = NULL, *seats = NULL;
    int arc = SQLITE_DONE, rrc = SQLITE_DONE, ret;

    ret = ld_prepare(l, "SELECT a.seq, a.event, a.idx, a.id, p.num, p.id,"
                     " a.name, a.company, a.industry, a.interests, a.offers,"
                     " a.seeks FROM attendees a JOIN people p"
                     " ON p.num = a.person ORDER BY a.seq, a.event, a.idx",
                     &att);
    if (ret == 0)
        ret = ld_prepare(l, "SELECT seq, event, round, at, n, tables,"
                         " repeat_pairs, repeat_lower_bound FROM rounds"
                         " ORDER BY seq", &rnd);
    if (ret == 0)
        ret = ld_prepare(l, "SELECT idx, tbl FROM seats WHERE event = ?1"
                         " AND round = ?2 ORDER BY pos", &seats);
    if (ret == 0) {
        arc = sqlite3_step(att);
        rrc = sqlite3_step(rnd);
    }
    while (ret == 0 && (arc == SQLITE_ROW || rrc == SQLITE_ROW)) {
        if (arc == SQLITE_ROW &&
            (rrc != SQLITE_ROW ||
             sqlite3_column_int64(att, 0) < sqlite3_column_int64(rnd, 0))) {
            ret = ld_attendee(l, att);
            arc = sqlite3_step(att);
        } else {
            ret = ld_flush(l);
            if (ret == 0)
                ret = ld_round(l, rnd, seats);
            rrc = sqlite3_step(rnd);
        }
    }
    sqlite3_finalize(rnd);
    sqlite3_finalize(seats);
    return ld_end(l, att, ret, arc != SQLITE_DONE ? arc : rrc,
                  "load attendees");
}

static int ld_pair(struct ld *l, sqlite3_stmt *st, void *ctx)
{
    enum meetup_pair_kind kind = sqlite3_column_int(st, 1)
                                     ? MEETUP_PAIR_AVOID
                                     : MEETUP_PAIR_MET_BEFORE;
    struct meetup_pair *p;
    bool ok = true;
    int ret;

    (void)ctx;
    ret = ld_batch(l, MEETUP_CH_PAIRS_ADD,
                   (uint64_t)sqlite3_column_int64(st, 0), kind);
    if (ret < 0)
        return ret;
    p = &l->pairs[l->n++];
    p->a = ld_text(l, st, 2, &ok);
    p->b = ld_text(l, st, 3, &ok);
    if (!ok)
        return st_fail(l->s, -ENOMEM, "out of memory");
    if (p->a == NULL || p->b == NULL)
        return st_fail(l->s, -EBADMSG, "a pair names a forgotten attendee");
    return 0;
}

/* Removals and check-ins: rows of (event, id) batched per event; ctx
 * points at the change kind. */
static int ld_id(struct ld *l, sqlite3_stmt *st, void *ctx)
{
    const enum meetup_change_kind *kind = ctx;
    bool ok = true;
    int ret;

    ret = ld_batch(l, *kind, (uint64_t)sqlite3_column_int64(st, 0),
                   MEETUP_PAIR_MET_BEFORE);
    if (ret < 0)
        return ret;
    l->ids[l->n++] = ld_text(l, st, 1, &ok);
    return ok ? 0 : st_fail(l->s, -ENOMEM, "out of memory");
}

static int ld_ids(struct ld *l, enum meetup_change_kind kind, const char *sql)
{
    return ld_each(l, sql, "load", ld_id, &kind);
}

static int ld_forget(struct ld *l, sqlite3_stmt *st, void *ctx)
{
    struct meetup_change ch = {0};
    char surrogate[ATT_ID_MAX_BYTES + 1];
    char *id = surrogate;
    int ret;

    (void)ctx;
    ret = ld_surrogate(l, sqlite3_column_text(st, 0), surrogate);
    if (ret < 0)
        return ret;
    ch.kind = MEETUP_CH_FORGET;
    ch.ids = &id;
    ch.n_ids = 1;
    return ld_apply(l, &ch);
}

static int ld_close(struct ld *l, sqlite3_stmt *st, void *ctx)
{
    struct meetup_change ch = {0};

    (void)ctx;
    ch.kind = MEETUP_CH_EVENT_CLOSE;
    ch.event_id = (uint64_t)sqlite3_column_int64(st, 0);
    return ld_apply(l, &ch);
}

static int ld_run(struct ld *l)
{
    int64_t enc;
    int ret;

    ret = ld_each(l, "SELECT id, name, table_size, rounds_planned,"
                  " w_interests, w_business, w_same_company, seed,"
                  " history_kind, history_last_events, history_since,"
                  " created FROM events ORDER BY id", "load events",
                  ld_event, NULL);
    if (ret < 0)
        return ret;
    l->next_idx = calloc(l->n_events + 1, sizeof(*l->next_idx));
    if (l->next_idx == NULL)
        return st_fail(l->s, -ENOMEM, "out of memory");
    ret = st_load_ids(l->s, false);
    if (ret == 0)
        ret = ld_prepare(l, "SELECT spelling FROM vocab WHERE event = ?1"
                         " ORDER BY pos", &l->vocab);
    if (ret == 0)
        ret = ld_attendees_rounds(l);
    if (ret == 0)
        ret = ld_each(l, "SELECT p.event, p.kind, ta.id, tb.id FROM pairs p"
                      " JOIN attendees ta ON ta.event = p.event"
                      " AND ta.idx = p.a JOIN attendees tb"
                      " ON tb.event = p.event AND tb.idx = p.b"
                      " ORDER BY p.seq", "load pairs", ld_pair, NULL);
    if (ret == 0)
        ret = ld_ids(l, MEETUP_CH_REMOVE,
                     "SELECT event, id FROM attendees WHERE removed = 1"
                     " AND id IS NOT NULL ORDER BY event, idx");
    if (ret == 0)
        ret = ld_each(l, "SELECT id FROM people WHERE forgotten = 1"
                      " ORDER BY num", "load forgotten", ld_forget, NULL);
    if (ret == 0)
        ret = ld_ids(l, MEETUP_CH_CHECK_IN,
                     "SELECT p.event, a.id FROM presence p JOIN attendees a"
                     " ON a.event = p.event AND a.idx = p.idx"
                     " ORDER BY p.event, p.idx");
    if (ret == 0)
        ret = ld_each(l, "SELECT id FROM events WHERE closed = 1",
                      "load closed events", ld_close, NULL);
    if (ret == 0)
        ret = st_query_int(l->s, "SELECT max(seq) FROM encounters", 0, &enc);
    if (ret == 0 && (uint64_t)enc != meetup_encounter_count(l->hub))
        ret = st_fail(l->s, -EBADMSG, "%lld encounters stored, %llu "
                      "replayed", (long long)enc,
                      (unsigned long long)meetup_encounter_count(l->hub));
    return ret;
}

int store_load(struct store *s, struct meetup *hub)
{
    struct ld l = {0};
    int ret;

    l.s = s;
    l.hub = hub;
    l.profiles = malloc(LD_BATCH * sizeof(*l.profiles));
    l.ids = malloc(LD_BATCH * sizeof(*l.ids));
    l.pairs = malloc(LD_BATCH * sizeof(*l.pairs));
    if (l.profiles == NULL || l.ids == NULL || l.pairs == NULL) {
        ret = st_fail(s, -ENOMEM, "out of memory");
        goto out;
    }
    if (meetup_event_count(hub) != 0) {
        ret = st_fail(s, -EINVAL, "store_load needs an empty hub");
        goto out;
    }
    /* One read transaction: a consistent snapshot, and no lock churn. */
    if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        ret = st_fail_db(s, "begin load");
        goto out;
    }
    ret = ld_run(&l);
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
out:
    ld_reset(&l);
    sqlite3_finalize(l.vocab);
    free(l.next_idx);
    free(l.profiles);
    free(l.ids);
    free(l.pairs);
    return ret;
}
